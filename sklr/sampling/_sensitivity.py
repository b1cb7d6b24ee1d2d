"""SensitivitySampler: weighted coresets for l_p losses (Woodruff and Yasuda, ICML 2023)."""

from numbers import Integral, Real

from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.utils import check_random_state, get_tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, has_fit_parameter

from ..linalg._checks import check_matrix
from ..linalg._lewis import _lewis_weights, _lp_sensitivities, _root_leverage_scores
from ..linalg._lstsq import _check_leverage_method, _leverage_scores
from ..utils._array_api import (
    check_same_namespace,
    move_to,
    namespace_and_device,
)
from ..utils._blocked import check_row_blocked, is_row_blocked
from ..utils._validation import (
    HasMethods,
    Interval,
    StrOptions,
    _fit_context,
    check_sample_weight,
    validate_data,
    validate_params,
)
from ._coreset import (
    MergeReduce,
    WeightedRows,
    blocked_draw,
    blocked_probabilities,
    blocked_scores,
    blocked_water_level,
    check_method,
    design_rows,
    draw_key,
    draw_rows,
    probabilities,
    water_level,
)

__all__ = ["SensitivitySampler", "inclusion_probabilities", "sampling_scores"]

METHODS = ("lewis", "sensitivity", "root_leverage", "leverage", "uniform")


@validate_params(
    {
        "A": ["array-like"],
        "p": [Interval(Real, 1, None, closed="left")],
        "method": [StrOptions(set(METHODS))],
        "sensitivity": [StrOptions({"bound", "exact"})],
        "leverage": [StrOptions({"exact", "approx"})],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "return_n_iter": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def sampling_scores(A, p=1.0, method="lewis", *, sensitivity="bound", leverage="exact",
                    max_iter=100, tol=1e-2, random_state=None, return_n_iter=False):
    """Importance scores of the rows of ``A`` for l_p row sampling.

    Parameters
    ----------
    A : array of shape (n, d)
        The matrix whose column space is to be preserved.
    p : float, default=1.0
        Exponent of the loss, ``p >= 1``.
    method : {"lewis", "sensitivity", "root_leverage", "leverage", "uniform"}, default="lewis"
        - ``"lewis"``: l_p Lewis weights (``p < 4``), sum ``rank(A)``.
        - ``"sensitivity"``: the l_p sensitivities, exact or as upper bounds
          (see ``sensitivity``).
        - ``"root_leverage"``: ``tau_i^(p/2)`` (``p <= 2``).
        - ``"leverage"``: the l_2 leverage scores ``tau_i``, whatever ``p``.
        - ``"uniform"``: 1 for every nonzero row.
    sensitivity : {"bound", "exact"}, default="bound"
        For ``method="sensitivity"``: upper bounds from the Lewis weights
        (``p < 4``; for ``p <= 2`` they are the Lewis weights themselves,
        see :func:`sklr.linalg.lp_sensitivities`), or the exact
        sensitivities, one linear program (``p = 1``) or l_p regression per
        row: ``O(n)`` solves of size ``n x d``, for ``n`` up to a few
        thousand.
    leverage : {"exact", "approx"}, default="exact"
        How leverage scores are computed (:func:`sklr.linalg.leverage_scores`).
    max_iter, tol : int, float
        Iteration limit and tolerance of the Lewis-weight iteration.
    random_state : int, RandomState instance or None, default=None
        Seed for ``leverage="approx"``.
    return_n_iter : bool, default=False
        Also return the Lewis iterations run (0 for other methods).

    Returns
    -------
    scores : array of shape (n,)
        Non-negative scores, in the namespace of ``A``.
    n_iter : int
        Only when ``return_n_iter``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.sampling import sampling_scores
    >>> A = np.vstack([np.eye(2), np.ones((4, 2))])
    >>> w = sampling_scores(A, p=1.0, method="lewis", tol=1e-8)
    >>> w.round(3)
    array([0.527, 0.527, 0.237, 0.237, 0.237, 0.237])
    >>> round(float(w.sum()), 3)  # the rank of A
    2.0
    """
    A = check_matrix(A, "A")
    _check_leverage_method(A.shape, leverage, None)
    scores, n_iter = _sampling_scores(A, float(p), method, sensitivity=sensitivity,
                                      leverage=leverage, max_iter=max_iter, tol=tol,
                                      random_state=check_random_state(random_state))
    return (scores, n_iter) if return_n_iter else scores


def _sampling_scores(A, p, method, *, sensitivity, leverage, max_iter, tol, random_state):
    """:func:`sampling_scores` on a checked ``A`` and a ``RandomState``: ``(scores, n_iter)``."""
    xp, _ = namespace_and_device(A)
    check_method(method, p, sensitivity)
    n_iter = 0
    if method == "sensitivity" and sensitivity == "exact":
        scores = _lp_sensitivities(A, p, method="exact")
    elif method in ("lewis", "sensitivity"):
        w, n_iter = _lewis_weights(A, p, method=leverage, max_iter=max_iter, tol=tol,
                                   random_state=random_state)
        scores = w if method == "lewis" else _lp_sensitivities(A, p, method="lewis", lewis=w)
    elif method == "root_leverage":
        scores = _root_leverage_scores(A, p, method=leverage, random_state=random_state)
    elif method == "leverage":
        scores = _leverage_scores(A, method=leverage, rng=random_state)
    else:  # "uniform"; the callers' validate_params or _parameter_constraints allow no other
        scores = xp.astype(xp.any(A != 0, axis=1), A.dtype)
    return xp.clip(scores, 0.0, None), n_iter


@validate_params(
    {"scores": ["array-like"], "n_samples": [Interval(Real, 0, None, closed="neither")]},
    prefer_skip_nested_validation=True,
)
def inclusion_probabilities(scores, n_samples):
    """Bernoulli inclusion probabilities ``q_i = min(1, c s_i)`` with ``sum_i q_i = n_samples``.

    The constant ``c`` is found by water-filling: the rows whose scaled score
    would exceed 1 are kept with probability 1 and ``c`` is raised on the
    others until the expected sample size is exactly ``n_samples`` (or every
    row of positive score is kept).

    Parameters
    ----------
    scores : array of shape (n,)
        Non-negative scores.
    n_samples : float
        Expected sample size, ``0 < n_samples <= n``.

    Returns
    -------
    q : array of shape (n,)
        Probabilities in ``[0, 1]``, in the namespace of ``scores``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.sampling import inclusion_probabilities
    >>> inclusion_probabilities(np.array([10.0, 1.0, 1.0, 1.0, 1.0]), 3)
    array([1. , 0.5, 0.5, 0.5, 0.5])
    """
    scores = check_matrix(scores, "scores", ndim=1, non_negative=True)
    if n_samples > scores.shape[0]:
        raise ValueError(f"n_samples={n_samples} must be <= the number of scores "
                         f"({scores.shape[0]}).")
    return _inclusion_probabilities(scores, n_samples)


def _inclusion_probabilities(scores, n_samples):
    """:func:`inclusion_probabilities` on checked scores."""
    xp, dev = namespace_and_device(scores)
    k = min(int(n_samples), scores.shape[0])
    top = xp.concat([xp.sort(scores, descending=True),
                     xp.zeros(1, dtype=scores.dtype, device=dev)])[: k + 1]
    return probabilities(scores, water_level(top, float(xp.sum(scores)), n_samples))


class SensitivitySampler(MetaEstimatorMixin, BaseEstimator):
    """Weighted coresets for l_p regression by Lewis-weight or sensitivity sampling.

    Draws a few rows of ``[X, y]`` with probabilities proportional to
    importance scores and weights them so that, for every coefficient vector
    ``w``, the weighted l_p loss on the sample ``sum_i sample_weight_i
    |y_i - x_i^T w - b|^p`` is an unbiased estimate of the loss on all
    rows, and with high probability within ``1 +- eps`` of it (an l_p
    subspace embedding). A model fitted on the sample is then nearly optimal
    on the full data, at a fraction of the cost.

    With ``estimator`` set, :meth:`fit` also fits a clone of it on the
    weighted sample, and :meth:`predict` and :meth:`score` delegate to it, so
    the sampler can end a :class:`~sklearn.pipeline.Pipeline` and its
    ``n_samples`` and ``method`` can be tuned by
    :class:`~sklearn.model_selection.GridSearchCV`.

    Data larger than memory: :meth:`fit` takes Dask arrays split into blocks
    of rows, scores and samples them on the cluster and brings back only the
    weighted sample, a small in-memory ``(X, y, weights)``; :meth:`partial_fit`
    keeps a weighted coreset of bounded size over a stream of chunks (merge
    and reduce). See Notes.

    Read more in the :ref:`User Guide <sensitivity_sampling>`.

    Parameters
    ----------
    p : float, default=1.0
        Exponent of the loss to preserve, ``p >= 1`` (1: least absolute
        deviations; 2: least squares).
    method : {"lewis", "sensitivity", "root_leverage", "leverage", "uniform"}, default="lewis"
        Importance scores (:func:`sampling_scores`):

        - ``"lewis"``: l_p Lewis weights (Cohen and Peng, 2015), the default:
          ``O(eps^-2 d log d)`` rows for ``p = 1`` whatever the data.
        - ``"sensitivity"``: l_p sensitivities (Woodruff and Yasuda, 2023),
          exact or bounded (see ``sensitivity``).
        - ``"root_leverage"``: ``tau_i^(p/2)``, for ``p <= 2`` (Woodruff and
          Yasuda, 2023, Section 1).
        - ``"leverage"``: l_2 leverage scores (a baseline for ``p != 2``).
        - ``"uniform"``: every row alike (a baseline; it misses the few rows
          that matter on coherent data).
    n_samples : int, float or "auto", default="auto"
        Expected number of rows in the sample. An int is a count
        (``<= n_samples`` of ``X``), a float in ``(0, 1]`` a fraction of the
        rows; ``"auto"`` is ``20 * k``, with ``k`` the dimension of the
        preserved subspace (features, targets and intercept), capped at the
        number of rows.
    sensitivity : {"bound", "exact"}, default="bound"
        How ``method="sensitivity"`` gets the sensitivities. ``"bound"``:
        upper bounds from the Lewis weights, ``s_i <= w_i`` for ``p <= 2``
        and ``s_i <= d^(p/2 - 1) w_i`` for ``2 < p < 4``; these are
        proportional to the Lewis weights (up to clipping at 1), so the
        sample is nearly that of ``"lewis"``. ``"exact"``: the
        sensitivities themselves, one linear program (``p = 1``) or l_p
        regression per row, the sampling the paper analyses; ``O(n)``
        solves of size ``n x k``, practical for ``n`` up to a few thousand
        (timings: ``benchmarks/results/2026-12-05_moved_from_docstrings.md``);
        then ``total_sensitivity_`` is the exact total sensitivity.
    fit_intercept : bool, default=True
        Preserve the loss of models with an intercept (a constant column is
        added to the subspace).
    estimator : estimator instance, default=None
        Regressor accepting ``sample_weight`` in ``fit`` (for instance
        ``QuantileRegressor(alpha=0)`` for ``p = 1``, or
        :class:`~sklr.linear_model.LpRegressor`), fitted on the sample.
    leverage : {"exact", "approx"}, default="exact"
        How leverage scores are computed: CholeskyQR2 in ``O(n d^2)``, or
        the sketched algorithm of Drineas et al. (2012).
    max_iter : int, default=100
        Maximum iterations of the Lewis-weight fixed point.
    tol : float, default=1e-2
        Tolerance on the relative change of the Lewis weights. Constant
        factor approximations suffice for sampling: at ``n = 10**5,
        d = 20`` the coresets drawn with ``tol=1e-2`` (5 to 8 iterations)
        and ``1e-4`` (10 to 15) fit equally well, with half the iterations
        (``benchmarks/results/2026-11-23_sensitivity_sampler.md``).
    random_state : int, RandomState instance or None, default=None
        Seed of the sample. Pass an int for reproducible results.
    verbose : int, default=0
        Print the sample size drawn.

    Attributes
    ----------
    scores_ : array of shape (n_samples,)
        Importance scores of the rows of ``X`` (a Dask array kept on the
        cluster when ``X`` is one). Set by :meth:`fit` only.
    probabilities_ : array of shape (n_samples,)
        Inclusion probabilities ``q_i = min(1, c * scores_i)``, summing to
        the requested ``n_samples`` (a lazy Dask array when ``X`` is one).
        Set by :meth:`fit` only.
    sample_indices_ : array of shape (n_sampled,)
        Indices of the sampled rows, increasing (after :meth:`partial_fit`:
        their numbers in the stream, counted from the first row of the first
        chunk).
    sample_X_ : array of shape (n_sampled, n_features)
        The sampled rows of ``X`` (NumPy when ``X`` is a Dask array).
    sample_y_ : array of shape (n_sampled,) or (n_sampled, n_targets) or None
        Their targets (None when fitted without ``y``).
    sample_weight_ : array of shape (n_sampled,)
        Weights of the sampled rows, ``v_i / q_i`` (``v`` the ``sample_weight``
        passed to :meth:`fit`, ones by default); after :meth:`partial_fit`,
        the product of the ``1 / q`` of each reduction the row went through.
    total_sensitivity_ : float
        Sum of ``scores_``. For ``"lewis"`` (``p <= 2``), ``"sensitivity"``
        and ``"root_leverage"`` it is an upper bound on the total l_p
        sensitivity ``S``, which drives the sample sizes of the theory;
        with ``sensitivity="exact"`` it is ``S`` itself. Set by :meth:`fit` only.
    n_iter_ : int
        Iterations of the Lewis-weight fixed point (0 for other methods; of
        the last reduction after :meth:`partial_fit`).
    n_samples_seen_ : int
        Rows fitted (by :meth:`fit`, and added by :meth:`partial_fit`).
    estimator_ : estimator
        The fitted clone of ``estimator`` (only when ``estimator`` is set).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklr.linalg.lewis_weights : The Lewis-weight iteration.
    sklr.linalg.lp_sensitivities : Exact sensitivities and their upper bounds.
    sklr.linear_model.LpRegressor : l_p regression for any ``p >= 1``.
    sklearn.linear_model.QuantileRegressor : Exact l_1 regression on all rows.

    Notes
    -----
    Sampling is by independent Bernoulli draws, each row kept with
    probability ``q_i``, rather than ``m`` draws with replacement: rows of
    probability 1 (the few high-leverage rows of a coherent design) are then
    kept exactly once with weight 1 instead of being redrawn many times,
    no row is duplicated, and it is the scheme analysed by Cohen and Peng
    (2015) and Woodruff and Yasuda (2023). The price is a random sample size,
    within a few ``sqrt(n_samples)`` of ``n_samples``. In the rare event
    that no row is drawn the draw is repeated.

    Sample sizes. For ``p = 1`` Lewis-weight sampling needs
    ``O(eps^-2 d log(d / delta))`` rows for a ``1 +- eps`` embedding; the
    paper shows that sensitivity sampling needs about ``S^(2/p)`` rows for
    ``p < 2`` (``S`` the total sensitivity) and root-leverage sampling about
    ``d``; its own footnote notes that the ``p < 2`` bound is subsumed by
    Chen and Derezinski (2021). The constants are not stated; the default
    ``20 * k`` rows was chosen by measurement (``benchmarks/README.md``:
    least absolute deviations within 1.1 times the optimum).

    Cost: ``O(n k^2)`` per Lewis iteration (5 to 8 iterations for
    ``p = 1`` at the default ``tol``), then the fit on the sample.

    The draw. Row ``i`` is kept when ``u_i < q_i``, with ``u_i`` the
    ``i``-th number of a counter-based generator keyed by ``random_state``
    (:func:`~sklr.utils._random.row_keyed_uniform`): the draw of a block of
    rows needs neither the other blocks nor the draws before it.

    Dask arrays (``X``, and ``y`` and ``sample_weight`` when given, all Dask
    arrays; ``y`` may be split differently, it is aligned with ``X``'s blocks
    of rows). Nothing with one entry per row comes to the client:

    - the leverage scores are exact, by TSQR: the triangular factor of each
      block is computed where the block lies, the stacked ``d x d`` factors
      are factored again on the client into ``R`` (``R^T R = A^T A``), and
      the scores are the squared row norms of ``A_b R^-1`` (through the SVD
      of ``R``, for rank-deficient ``A``), a second pass. Each Lewis
      iteration is these two passes over the reweighted rows; the scores
      stay on the cluster (persisted) and only the largest change of the
      weights comes back;
    - the water level ``c`` of the inclusion probabilities needs the total
      of the scores and the largest ones (those that may be kept for sure):
      each block sends its top scores;
    - each block then draws its rows with the keyed uniforms and sends them
      with their weights ``v_i / q_i``.

    So the sample equals the in-memory one (same rows; scores and weights
    to rounding) and does not depend on the blocks. ``leverage="approx"``
    and ``sensitivity="exact"`` are refused (the exact leverage costs two
    passes; exact sensitivities one solve per row). ``X`` is read about
    ``2 n_iter + 4`` times: persist it on the cluster (``X.persist()``) when
    it is expensive to compute. Dask is an optional dependency
    (``pip install "sklr[dask]"``). Timings:
    ``benchmarks/results/2026-12-05_dask_coreset.md``.

    Streams (:meth:`partial_fit`): merge and reduce (Bentley and Saxe, 1980;
    Har-Peled and Mazumdar, 2004). Each chunk, reduced to a weighted sample
    of about ``n_samples`` rows when it has more, enters level 0 of a binary
    counter; two samples on one level are merged (their union) and reduced
    to a sample on the next level. A reduction samples the weighted rows
    ``v_i^(1/p) [x_i, y_i, 1]`` of its input by their scores with weights
    ``v_i / q_i``, a ``1 +- eps`` l_p embedding of its input w.h.p.; the union
    of coresets of disjoint parts is a coreset of their union. After ``T``
    chunks each row has gone through at most ``1 + log2(T)`` reductions, so
    the coreset (the union of the levels) preserves every loss within
    ``(1 +- eps)^(1 + log2 T)`` w.h.p.: the errors compound over the levels
    (take ``n_samples`` larger for long streams), and the coreset holds at most
    ``1 + log2(T)`` samples of about ``n_samples`` rows each. The weights
    stay unbiased: ``E[sum_i w_i |r_i|^p]`` is the loss on all the rows.

    References
    ----------
    .. [1] Woodruff, D. P. and Yasuda, T. "Sharper Bounds for l_p Sensitivity
       Sampling." ICML 2023, PMLR 202:37238-37272.
    .. [2] Cohen, M. B. and Peng, R. "L_p row sampling by Lewis weights."
       STOC 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import QuantileRegressor
    >>> from sklr.sampling import SensitivitySampler
    >>> rng = np.random.RandomState(0)
    >>> X = rng.standard_normal((20000, 5))
    >>> y = X @ np.arange(1.0, 6.0) + rng.standard_cauchy(20000)
    >>> sampler = SensitivitySampler(p=1.0, n_samples=500, random_state=0)
    >>> X_s, y_s = sampler.fit_resample(X, y)
    >>> X_s.shape[0] == sampler.sample_weight_.shape[0]
    True
    >>> lad = QuantileRegressor(alpha=0).fit(X_s, y_s, sample_weight=sampler.sample_weight_)
    >>> np.round(lad.coef_).tolist()
    [1.0, 2.0, 3.0, 4.0, 5.0]

    A stream of chunks, kept as a weighted coreset of a few hundred rows:

    >>> stream = SensitivitySampler(p=1.0, n_samples=300, random_state=0)
    >>> for start in range(0, 20000, 2500):
    ...     stream = stream.partial_fit(X[start:start + 2500], y[start:start + 2500])
    >>> stream.n_samples_seen_, stream.sample_X_.shape[0] < 1200
    (20000, True)
    >>> lad = QuantileRegressor(alpha=0).fit(stream.sample_X_, stream.sample_y_,
    ...                                      sample_weight=stream.sample_weight_)
    >>> np.round(lad.coef_).tolist()
    [1.0, 2.0, 3.0, 4.0, 5.0]
    """

    _parameter_constraints: dict = {
        "p": [Interval(Real, 1, None, closed="left")],
        "method": [StrOptions(set(METHODS))],
        "n_samples": [
            Interval(Integral, 1, None, closed="left"),
            Interval(Real, 0, 1, closed="right"),
            StrOptions({"auto"}),
        ],
        "sensitivity": [StrOptions({"bound", "exact"})],
        "fit_intercept": ["boolean"],
        "estimator": [HasMethods(["fit"]), None],
        "leverage": [StrOptions({"exact", "approx"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        p=1.0,
        *,
        method="lewis",
        n_samples="auto",
        sensitivity="bound",
        fit_intercept=True,
        estimator=None,
        leverage="exact",
        max_iter=100,
        tol=1e-2,
        random_state=None,
        verbose=0,
    ):
        self.p = p
        self.method = method
        self.n_samples = n_samples
        self.sensitivity = sensitivity
        self.fit_intercept = fit_intercept
        self.estimator = estimator
        self.leverage = leverage
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y=None, sample_weight=None):
        """Score the rows, draw the weighted sample, and fit ``estimator`` on it if set.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (NumPy, CuPy or array API array; a Dask array split
            into blocks of rows, scored and sampled on its cluster: see Notes).
        y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
            Targets; when given, the sample preserves the loss of every
            residual ``y - X w - b`` (the scores are computed on ``[X, y]``).
            Required when ``estimator`` is set. A Dask array when ``X`` is one.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights ``v_i`` of the l_p loss
            ``sum_i v_i |r_i|^p``; rows of weight zero are never drawn. A
            Dask array when ``X`` is one.

        Returns
        -------
        self : object
            Fitted sampler.

        Examples
        --------
        The coreset of a Dask array (Dask, the optional ``sklr[dask]``) is a
        small in-memory sample, the sample drawn from the same rows in memory:

        >>> import dask.array as da
        >>> import numpy as np
        >>> from sklr.sampling import SensitivitySampler
        >>> X = np.random.RandomState(0).standard_normal((40000, 4))
        >>> y = X @ np.arange(1.0, 5.0)
        >>> X_dask, y_dask = da.from_array(X, chunks=10000), da.from_array(y, chunks=10000)
        >>> sampler = SensitivitySampler(p=1.0, random_state=0).fit(X_dask, y_dask)
        >>> type(sampler.sample_X_).__name__, type(sampler.scores_).__name__
        ('ndarray', 'Array')
        >>> in_memory = SensitivitySampler(p=1.0, random_state=0).fit(X, y)
        >>> bool(np.array_equal(sampler.sample_indices_, in_memory.sample_indices_))
        True
        """
        self._fit(X, y, sample_weight)
        return self

    def _fit(self, X, y, sample_weight):
        if self.estimator is not None and y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None "
                "(y is required when estimator is set)."
            )
        rng = check_random_state(self.random_state)
        key = draw_key(rng)  # first, so that in memory and on a cluster draw the same rows
        if is_row_blocked(X):
            sample, n, m = self._fit_blocked(X, y, sample_weight, rng, key)
        else:
            sample, n, m = self._fit_in_memory(X, y, sample_weight, rng, key)
        # partial_fit goes on from this sample (one level of the merge-and-reduce tree)
        self._stream = MergeReduce()
        self._stream.levels.append(sample)
        self._stream_rng, self._stream_n_samples = rng, m
        self.n_samples_seen_ = n
        if self.verbose:
            print(f"[SensitivitySampler] drew {len(sample)} of {n} rows "
                  f"(expected {m:g}, method={self.method!r}, p={self.p:g})")
        return self._store_sample(sample)

    def _validate_in_memory(self, X, y, sample_weight, *, reset):
        """``(X, Y, v)``: ``Y`` 2-D or None, ``v`` the checked weights or None.

        Sets ``_one_d`` on the first chunk (``reset``): whether ``y`` is 1-D.
        """
        xp, device = namespace_and_device(X)
        y, sample_weight = move_to(y, sample_weight, xp=xp, device=device)
        dtype = [xp.float64, xp.float32]
        if y is None:
            X = validate_data(self, X, dtype=dtype, reset=reset)
        else:
            X, y = validate_data(self, X, y, dtype=dtype, multi_output=True, y_numeric=True,
                                 reset=reset)
            y = xp.astype(y, X.dtype) if y.dtype != X.dtype else y
        v = None if sample_weight is None else check_sample_weight(sample_weight, X)
        if reset:
            self._one_d = y is not None and len(y.shape) == 1
        Y = None if y is None else xp.reshape(y, (X.shape[0], -1))
        return X, Y, v

    def _scores(self, A, rng):
        _check_leverage_method(A.shape, self.leverage, None)
        scores, self.n_iter_ = _sampling_scores(
            A, float(self.p), self.method, sensitivity=self.sensitivity, leverage=self.leverage,
            max_iter=self.max_iter, tol=self.tol, random_state=rng,
        )
        return scores

    @staticmethod
    def _draw(draw, rng, key):
        """``draw(key)``, again with new keys in the rare event that it draws no row."""
        for _ in range(10):
            sample = draw(key)
            if (len(sample) if isinstance(sample, WeightedRows) else sample.shape[0]) > 0:
                return sample
            key = draw_key(rng)
        raise RuntimeError("no row was drawn in 10 attempts; increase n_samples.")

    def _fit_in_memory(self, X, y, sample_weight, rng, key):
        X, Y, v = self._validate_in_memory(X, y, sample_weight, reset=True)
        xp, _ = namespace_and_device(X)
        n = X.shape[0]
        A = design_rows(float(self.p), self.fit_intercept, X, Y, v)
        m = self._resolve_n_samples(n, A.shape[1])
        scores = self._scores(A, rng)
        q = _inclusion_probabilities(scores, m)
        indices = self._draw(lambda k: draw_rows(q, k), rng, key)
        weight = 1.0 / xp.take(q, indices)
        if v is not None:
            weight = weight * xp.take(v, indices)
        self.scores_, self.probabilities_ = scores, q
        self.total_sensitivity_ = float(xp.sum(scores))
        sample = WeightedRows(xp.take(X, indices, axis=0),
                              None if Y is None else xp.take(Y, indices, axis=0), weight, indices)
        return sample, n, m

    def _fit_blocked(self, X, y, sample_weight, rng, key):
        """:meth:`fit` on Dask arrays: scores and draws on the workers, the sample to the caller."""
        if y is None:
            validate_data(self, X, skip_check_array=True)
        else:
            validate_data(self, X, y, skip_check_array=True)
        if self.leverage != "exact" or (self.method == "sensitivity"
                                        and self.sensitivity == "exact"):
            raise ValueError(
                "On a Dask array the scores come from exact leverage scores (TSQR, two passes "
                "over the blocks): use leverage='exact', and a method other than the exact "
                f"sensitivities (one solve per row); got leverage={self.leverage!r}, "
                f"method={self.method!r}, sensitivity={self.sensitivity!r}."
            )
        check_method(self.method, float(self.p), self.sensitivity)
        X, Y, W = check_row_blocked(X, y, sample_weight)
        self._one_d = y is not None and y.ndim == 1
        n = X.shape[0]
        m = self._resolve_n_samples(n, X.shape[1] + (0 if Y is None else Y.shape[1])
                                    + int(self.fit_intercept))
        scores, self.n_iter_ = blocked_scores(X, Y, W, p=float(self.p), method=self.method,
                                              fit_intercept=self.fit_intercept,
                                              max_iter=self.max_iter, tol=self.tol)
        c, self.total_sensitivity_ = blocked_water_level(scores, m)
        sample = self._draw(lambda k: blocked_draw(X, Y, W, scores, c, k), rng, key)
        self.scores_, self.probabilities_ = scores[:, 0], blocked_probabilities(scores, c)
        return sample, n, m

    def _store_sample(self, sample):
        """Set the ``sample_*_`` attributes; return ``(X_sample, y_sample)``."""
        y_s = None
        if sample.Y is not None:
            xp, _ = namespace_and_device(sample.Y)
            y_s = xp.reshape(sample.Y, (-1,)) if self._one_d else sample.Y
        self.sample_X_, self.sample_y_ = sample.X, y_s
        self.sample_weight_, self.sample_indices_ = sample.weight, sample.indices
        if self.estimator is not None:
            if not has_fit_parameter(self.estimator, "sample_weight"):
                raise TypeError(
                    f"estimator={self.estimator!r} does not accept sample_weight in fit; "
                    "the sample is only meaningful with its weights."
                )
            self.estimator_ = clone(self.estimator).fit(sample.X, y_s,
                                                        sample_weight=sample.weight)
        return sample.X, y_s

    @_fit_context(prefer_skip_nested_validation=False)
    def partial_fit(self, X, y=None, sample_weight=None):
        """Add a chunk of rows to a weighted coreset of bounded size (merge and reduce).

        The chunk, reduced to a weighted sample of about ``n_samples`` rows
        when it has more, enters a binary counter of samples: two samples on
        the same level are merged and reduced again to one on the next level
        (merge and reduce). The coreset of all the rows seen is the union of
        the levels, in ``sample_X_``, ``sample_y_`` and ``sample_weight_``;
        ``estimator`` is refitted on it after each chunk. After :meth:`fit`,
        its sample is the first level.

        Each reduction samples the weighted rows ``v_i^(1/p) [x_i, y_i, 1]``
        of the union by their scores, with the weights ``v_i / q_i``: a
        ``1 +- eps`` l_p subspace embedding of the union w.h.p. After ``T``
        chunks a row has gone through at most ``1 + log2(T)`` reductions, so
        the coreset preserves every loss within ``(1 +- eps)^(1 + log2 T)``;
        it holds at most ``1 + log2(T)`` samples of about ``n_samples`` rows.

        Parameters
        ----------
        X : array-like of shape (n_chunk, n_features)
            A chunk of rows, with the features (and dtype) of the first one.
        y : array-like of shape (n_chunk,) or (n_chunk, n_targets), default=None
            Their targets, given for every chunk or for none.
        sample_weight : array-like of shape (n_chunk,), default=None
            Non-negative weights of the rows.

        Returns
        -------
        self : object
            The sampler, with its coreset.
        """
        first = not hasattr(self, "_stream")
        if self.estimator is not None and y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None "
                "(y is required when estimator is set)."
            )
        X, Y, v = self._validate_in_memory(X, y, sample_weight, reset=first)
        xp, dev = namespace_and_device(X)
        if first:
            self._stream = MergeReduce()
            self._stream_rng = check_random_state(self.random_state)
            self._stream_n_samples = self._stream_size(
                X.shape[1] + (0 if Y is None else Y.shape[1]) + int(self.fit_intercept))
            self.n_samples_seen_ = 0
        else:
            X, Y = self._check_chunk(X, Y)
        for name in ("scores_", "probabilities_", "total_sensitivity_"):
            if hasattr(self, name):  # of fit's rows only
                delattr(self, name)
        n = X.shape[0]
        indices = xp.arange(self.n_samples_seen_, self.n_samples_seen_ + n, dtype=xp.int64,
                            device=dev)
        weight = xp.ones(n, dtype=X.dtype, device=dev) if v is None else v
        rows = WeightedRows(X, Y, weight, indices)
        if v is not None:  # rows of weight zero weigh nothing in any loss
            rows = rows.take(xp.nonzero(v > 0)[0], v[v > 0])
        self._stream.add(rows, self._reduce)
        self.n_samples_seen_ += n
        self._store_sample(self._stream.coreset())
        return self

    def _check_chunk(self, X, Y):
        """A later chunk: targets as the first chunk's; its dtype."""
        xp, _ = namespace_and_device(X)
        held = self._stream.coreset()
        if (Y is None) != (held.Y is None):
            raise ValueError(
                f"y was {'not ' if held.Y is None else ''}given with the first chunk; give it "
                f"with {'no' if held.Y is None else 'every'} chunk."
            )
        if Y is not None and Y.shape[1] != held.Y.shape[1]:
            raise ValueError(f"y has {Y.shape[1]} target(s) but the first chunk had "
                             f"{held.Y.shape[1]}.")
        if X.dtype != held.X.dtype:
            X = xp.astype(X, held.X.dtype)
            Y = None if Y is None else xp.astype(Y, held.X.dtype)
        return X, Y

    def _stream_size(self, k):
        if self.n_samples == "auto":
            return float(20 * k)
        if not isinstance(self.n_samples, Integral):
            raise ValueError(
                f"partial_fit needs n_samples as an int or 'auto', got {self.n_samples!r}: a "
                "fraction of the rows needs their number, which a stream does not know."
            )
        return float(self.n_samples)

    def _reduce(self, rows):
        """A weighted sample of about ``n_samples`` of the weighted ``rows`` (all when fewer)."""
        m = self._stream_n_samples
        if len(rows) <= m:
            return rows
        xp, _ = namespace_and_device(rows.X)
        rng = self._stream_rng
        key = draw_key(rng)
        A = design_rows(float(self.p), self.fit_intercept, rows.X, rows.Y, rows.weight)
        q = _inclusion_probabilities(self._scores(A, rng), m)
        picked = self._draw(lambda k: draw_rows(q, k), rng, key)
        return rows.take(picked, xp.take(rows.weight, picked) / xp.take(q, picked))

    def _resolve_n_samples(self, n, k):
        if self.n_samples == "auto":
            return float(min(n, 20 * k))
        if isinstance(self.n_samples, Integral):
            if self.n_samples > n:
                raise ValueError(
                    f"n_samples={self.n_samples} must be <= the number of rows of X ({n})."
                )
            return float(self.n_samples)
        return max(1.0, self.n_samples * n)

    @_fit_context(prefer_skip_nested_validation=False)
    def fit_resample(self, X, y=None, sample_weight=None):
        """Fit and return the sampled rows; their weights are in ``sample_weight_``.

        Follows imbalanced-learn's sampler convention. Pass the weights on to
        the model: ``model.fit(X_s, y_s, sample_weight=sampler.sample_weight_)``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets), default=None
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the rows.

        Returns
        -------
        X_sample : array of shape (n_sampled, n_features)
            The sampled rows of ``X``.
        y_sample : array of shape (n_sampled,) or (n_sampled, n_targets)
            The sampled targets (only when ``y`` is given).
        """
        X_s, y_s = self._fit(X, y, sample_weight)
        return X_s if y is None else (X_s, y_s)

    def _estimator_is_set(self):
        return self.estimator is not None

    @available_if(_estimator_is_set)
    def predict(self, X):
        """Predict with the estimator fitted on the sample.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : array of shape (n_samples,) or (n_samples, n_targets)
            Predictions of ``estimator_``.
        """
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="scores_", method="predict")
        xp, _ = namespace_and_device(X)
        X = validate_data(self, X, dtype=[xp.float64, xp.float32], reset=False)
        return self.estimator_.predict(X)

    @available_if(_estimator_is_set)
    def score(self, X, y, sample_weight=None):
        """Score of the estimator fitted on the sample (its own ``score``, R^2 for regressors).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            True values.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            ``estimator_.score(X, y, sample_weight)``.
        """
        check_is_fitted(self)
        return self.estimator_.score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        if self.estimator is not None:
            inner = get_tags(self.estimator)
            tags.estimator_type = inner.estimator_type
            tags.regressor_tags = inner.regressor_tags
            tags.classifier_tags = inner.classifier_tags
            tags.target_tags.required = True
            tags.array_api_support = inner.array_api_support
            tags.target_tags.multi_output = inner.target_tags.multi_output
        return tags
