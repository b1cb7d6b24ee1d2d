"""SketchedRegressor: least squares through dense random sketches (Song et al., ICML 2023)."""

import warnings
from numbers import Integral, Real

from sklearn.base import BaseEstimator, RegressorMixin
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ..linalg import default_sketch_size, sketched_lstsq, theoretical_sketch_size
from ..linalg._lstsq import SketchSums, solve_sketch_sums
from ..linalg._sketches import RowKeyedSketch, draw_seed
from ..utils._array_api import (
    check_same_namespace,
    issparse,
    move_to,
    namespace_and_device,
)
from ..utils._blocked import is_row_blocked
from ..utils._validation import (
    Interval,
    StrOptions,
    _fit_context,
    check_sample_weight,
    validate_data,
)

__all__ = ["SketchedRegressor"]


def _sums_over_rows(estimator):
    """``partial_fit`` exists for sketch-and-solve with a sketch that is a sum over the rows."""
    if estimator.solver != "sketch" or estimator.sketch not in RowKeyedSketch.kinds or (
            estimator.sketch == "gaussian" and estimator.n_buckets is not None):
        raise AttributeError(
            "partial_fit needs solver='sketch' and a sketch that is a sum over the rows "
            "(sketch='sparse_sign', 'countsketch', or 'gaussian' with n_buckets=None); got "
            f"solver={estimator.solver!r}, sketch={estimator.sketch!r}, "
            f"n_buckets={estimator.n_buckets!r}."
        )
    return True


class SketchedRegressor(RegressorMixin, BaseEstimator):
    """Linear least squares solved through a random sketch, with an l_inf guarantee.

    ``solver="sketch"`` is the sketch-and-solve estimator of Song et al.
    (2023): it draws a random ``m x n`` matrix ``S`` (``m = n_components``
    rows, far fewer than the ``n`` samples) and returns
    ``argmin_w ||S (X w - y)||``. With a dense sketch (``"srht"`` or
    ``"gaussian"``) every coefficient is close to the exact least-squares one,
    ``||w' - w*||_inf <= eps / sqrt(d) * ||X w* - y|| / sigma_min(X)``
    (the l_inf guarantee), and the residual is within ``sqrt(1 + d / m)``
    of the optimum. Sparse sketches (``"countsketch"``, ``"sparse_sign"``) are
    cheaper to apply but carry no l_inf guarantee.

    ``solver="precondition"`` uses the sketch only to precondition an
    iterative solver (Blendenpik/LSRN): it returns the exact least-squares
    solution to ``tol``, however ill-conditioned ``X`` is.

    Data larger than memory: :meth:`partial_fit` adds chunks of rows to the
    sketch (``solver="sketch"`` with ``sketch="sparse_sign"``,
    ``"countsketch"`` or ``"gaussian"``), and :meth:`fit` accepts Dask arrays
    split into blocks of rows, sketched where the blocks lie (see Notes).

    Read more in the :ref:`User Guide <sketched_regression>`.

    Parameters
    ----------
    sketch : {"srht", "gaussian", "countsketch", "sparse_sign"}, default="srht"
        The sketching matrix ``S``:

        - ``"srht"``: subsampled randomized trigonometric (DCT) transform,
          dense, applied in ``O(n d log n)``; the paper's sketch.
        - ``"gaussian"``: i.i.d. Gaussian entries, dense, ``O(m n d)``.
        - ``"countsketch"``: one random sign per column, ``O(nnz(X))``; no
          l_inf guarantee (a baseline).
        - ``"sparse_sign"``: ``sparsity`` random signs per column.

    n_components : int, "auto" or "theory", default="auto"
        Number of sketch rows ``m`` (``n_features <= m <= n_samples``).
        ``"auto"`` is ``min(n_samples, max(20 * n_features, 1000))``
        for ``solver="sketch"`` (residual about 1.03 times the optimum), and
        up to ``50 * n_features`` for ``solver="precondition"`` (fewer
        iterations, see :func:`sklr.linalg.default_sketch_size`);
        ``"theory"`` is the paper's
        ``d log^3(n / 0.01)`` (with ``eps = 1``), which exceeds ``n_samples``
        at most practical sizes and is then capped there with a warning.
    solver : {"sketch", "precondition"}, default="sketch"
        Sketch-and-solve (fast, approximate, the paper's estimator) or
        sketch-and-precondition (exact to ``tol``).
    alpha : float, default=0.0
        Ridge penalty ``alpha * ||w||^2`` (not applied to the intercept).
    fit_intercept : bool, default=True
        Whether to fit an intercept. Centring is implicit: ``X`` is never
        copied, and sparse ``X`` stays sparse.
    tol : float, default=1e-10
        Relative tolerance of ``solver="precondition"``:
        ``||(X R^-1)^T r|| <= tol * ||r||``.
    max_iter : int, default=100
        Maximum iterations of ``solver="precondition"``.
    n_buckets : "auto", int or None, default=None
        Rows of an optional CountSketch stage applied before the dense
        sketches (faster for very tall ``X``, at a small risk to the l_inf
        guarantee, see Notes); None applies the dense sketch to all rows, as
        in the paper. ``"auto"`` uses ``32 * m`` buckets when
        ``n_samples >= 64 * m``.
    sparsity : int, default=8
        Nonzeros per column of ``sketch="sparse_sign"``.
    random_state : int, RandomState instance or None, default=None
        Seed of the sketch. Pass an int for reproducible fits.
    verbose : int, default=0
        Print the progress of ``solver="precondition"``.

    Attributes
    ----------
    coef_ : array of shape (n_features,) or (n_targets, n_features)
        Coefficients, in the namespace and on the device of ``X``.
    intercept_ : float or array of shape (n_targets,)
        Intercept (0.0 when ``fit_intercept=False``).
    n_components_ : int
        Number of sketch rows used.
    n_iter_ : int
        1 for the sketched solve, plus the refinement iterations of
        ``solver="precondition"``.
    n_samples_seen_ : int
        Number of rows fitted (by :meth:`fit`, or added by :meth:`partial_fit`).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn.linear_model.LinearRegression : Exact least squares (LAPACK gelsd).
    sklearn.linear_model.Ridge : Exact ridge regression.
    sklr.linalg.sketched_lstsq : The function behind this estimator.

    Notes
    -----
    Cost: applying the SRHT costs ``O(n d log n)``, the sketched solve
    ``O(m d^2)``; each refinement iteration of ``"precondition"`` costs two
    passes over ``X``, and their number depends on ``m / d`` only (about 15
    to reach ``tol=1e-10`` with the default ``m``).

    Rows in chunks, or in the blocks of a Dask array: the sparse and Gaussian
    sketches draw the column of ``S`` that meets row ``i`` from a generator
    keyed by ``random_state`` and ``i`` (:class:`sklr.linalg.CountSketch`),
    so ``S [X | 1 | y]`` and the weighted sums that centring needs are sums
    over any split of the rows. :meth:`partial_fit` keeps these sums
    (``O(n_components * n_features)`` memory) and solves after each chunk;
    chunks given with their ``row_offset`` (or in order) give the model of
    :meth:`fit` on the stacked rows. The rows are keyed by their index, not
    their content: a content hash would send repeated rows to the same
    entries of ``S`` and weight them by the square of their count.

    With Dask arrays (``X``, ``y`` and ``sample_weight`` all Dask arrays, ``y``
    aligned with ``X``'s blocks of rows), :meth:`fit` sketches each block on
    the worker that holds it and sums the sketches there; the client receives
    only the ``(n_components + 1) x (n_features + 1 + n_targets)`` sum.
    ``solver="precondition"`` then runs its iterations blockwise: ``X v`` and
    ``X^T r`` are two passes over the blocks, the residuals stay on the
    workers, and the ``n_features x n_features`` preconditioner and the
    coefficients on the client. The SRHT mixes all the rows, so Dask input
    needs ``sketch="sparse_sign"``, ``"countsketch"`` or ``"gaussian"``.
    :meth:`predict` on a Dask array returns a Dask array. Dask is an optional
    dependency (``pip install "sklr[dask]"``).

    Deviations from the paper:

    - The Walsh-Hadamard transform is replaced by the orthonormal DCT-II
      (as in Blendenpik): same incoherence, no padding, and a fast
      transform in ``scipy.fft`` and ``cupyx``.
    - Opt-in (``n_buckets``): the rows are first hashed by a CountSketch
      into ``n_buckets`` rows and the dense sketch runs on those. Typical
      errors are unchanged and the fit is several times faster for very
      tall ``X`` (``benchmarks/README.md``), but two high-leverage rows
      hashed together lose a direction, as with a sparse sketch
      (probability about ``d**2 / (2 n_buckets)`` on a design whose ``d``
      rows carry all the leverage), so it is off by default.
    - The paper's row count ``m = eps^-2 d log^3(n / delta)`` has no stated
      constants and exceeds ``n`` at practical sizes (625,054 rows for
      ``n = 10**6, d = 100, eps = 1``); the default is the rule of thumb
      above, offered with ``n_components="theory"`` as an option.

    References
    ----------
    .. [1] Song, Z., Ye, M., Yin, J. and Zhang, L. "A Nearly-Optimal Bound for
       Fast Regression with l_inf Guarantee." ICML 2023, PMLR 202:32463-32482.
    .. [2] Avron, H., Maymounkov, P. and Toledo, S. "Blendenpik:
       Supercharging LAPACK's least-squares solver." SIAM J. Sci. Comput.
       32(3), 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.linear_model import SketchedRegressor
    >>> rng = np.random.RandomState(0)
    >>> X = rng.standard_normal((20000, 10))
    >>> y = X @ np.arange(1.0, 11.0) + 3.0 + 0.1 * rng.standard_normal(20000)
    >>> reg = SketchedRegressor(random_state=0).fit(X, y)
    >>> np.round(reg.coef_, 1)
    array([ 1.,  2.,  3.,  4.,  5.,  6.,  7.,  8.,  9., 10.])
    >>> round(reg.intercept_, 1)
    3.0
    >>> exact = SketchedRegressor(solver="precondition", random_state=0).fit(X, y)
    >>> bool(np.allclose(exact.coef_, np.linalg.lstsq(
    ...     np.c_[X, np.ones(20000)], y, rcond=None)[0][:10], rtol=1e-9))
    True

    Chunks of rows, in any order with their offsets, give the model of one fit:

    >>> whole = SketchedRegressor(sketch="sparse_sign", random_state=0).fit(X, y)
    >>> chunked = SketchedRegressor(sketch="sparse_sign", random_state=0)
    >>> for start in (10000, 0, 15000, 5000):
    ...     rows = slice(start, start + 5000)
    ...     chunked = chunked.partial_fit(X[rows], y[rows], row_offset=start)
    >>> bool(np.allclose(chunked.coef_, whole.coef_, rtol=1e-12))
    True
    """

    _parameter_constraints: dict = {
        "sketch": [StrOptions({"srht", "gaussian", "countsketch", "sparse_sign"})],
        "n_components": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto", "theory"})],
        "solver": [StrOptions({"sketch", "precondition"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "n_buckets": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
        "sparsity": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        *,
        sketch="srht",
        n_components="auto",
        solver="sketch",
        alpha=0.0,
        fit_intercept=True,
        tol=1e-10,
        max_iter=100,
        n_buckets=None,
        sparsity=8,
        random_state=None,
        verbose=0,
    ):
        self.sketch = sketch
        self.n_components = n_components
        self.solver = solver
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.n_buckets = n_buckets
        self.sparsity = sparsity
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the linear model through a sketch of ``(X, y)``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data (NumPy, CuPy or array API array with
            ``array_api_dispatch=True``; SciPy CSR/CSC; a Dask array split
            into blocks of rows, fitted blockwise on its cluster: see Notes).
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets (a Dask array when ``X`` is one).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the samples (a Dask array or None when
            ``X`` is one).

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if is_row_blocked(X):  # checked blockwise by sketched_lstsq, never gathered here
            validate_data(self, X, y, skip_check_array=True)
        else:
            X, y, sample_weight = self._validate_in_memory(X, y, sample_weight, reset=True)
        n_samples, n_features = X.shape
        m = self._resolve_n_components(n_samples, n_features)

        result = sketched_lstsq(
            X, y, sketch=self.sketch, n_components=m, solver=self.solver, alpha=self.alpha,
            sample_weight=sample_weight, fit_intercept=self.fit_intercept, tol=self.tol,
            max_iter=self.max_iter, n_buckets=self.n_buckets, sparsity=self.sparsity,
            random_state=self.random_state, verbose=self.verbose,
        )
        self._sketch_sums, self._one_d = result.sums, len(y.shape) == 1
        self._store(result, one_d=self._one_d)
        self.n_samples_seen_ = n_samples
        return self

    @available_if(_sums_over_rows)
    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None, *, row_offset=None):
        """Add a chunk of rows to the sketch of ``(X, y)`` and solve again.

        The sketch is a sum over the rows, and the column of ``S`` that meets
        row ``i`` depends on ``i`` only (``random_state`` seeds it), so chunks
        added with their ``row_offset``, in any order and cut anywhere, give
        the model that :meth:`fit` gives on the stacked rows (up to rounding).
        Only the sketch is kept: memory is ``O(n_components * n_features)``
        whatever the number of rows.

        Available with ``solver="sketch"`` and ``sketch="sparse_sign"``,
        ``"countsketch"`` or ``"gaussian"`` (with ``n_buckets=None``).
        ``n_components``: an int, or ``"auto"``, resolved at the first chunk
        from ``n_features`` alone as ``max(20 * n_features, 1000)`` (what
        :meth:`fit` uses when ``n_samples`` is at least that); ``"theory"``
        needs ``n_samples`` and is refused.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_chunk, n_features)
            A chunk of rows, with the features (and dtype) of the first one.
        y : array-like of shape (n_chunk,) or (n_chunk, n_targets)
            Their targets, with the targets of the first chunk.
        sample_weight : array-like of shape (n_chunk,), default=None
            Non-negative weights of the rows.
        row_offset : int, default=None
            Index of the chunk's first row in the stacked data. None: just
            after the last row added so far (chunks in their order). Rows
            cannot be added twice.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if row_offset is not None and (isinstance(row_offset, bool) or not isinstance(
                row_offset, Integral) or row_offset < 0):
            raise ValueError(f"row_offset must be a non-negative int or None, got {row_offset!r}.")
        first = not hasattr(self, "_sketch_sums")
        if not first and self._sketch_sums is None:
            raise ValueError(
                "This SketchedRegressor was fitted by fit with a sketch that mixes all the rows "
                "(or with solver='precondition'): no rows can be added to it. Call fit again, "
                "or start partial_fit on a new estimator."
            )
        X, Y, sample_weight = self._validate_in_memory(X, y, sample_weight, reset=first)
        xp, _ = namespace_and_device(X)
        one_d = len(Y.shape) == 1
        if one_d:
            Y = xp.reshape(Y, (-1, 1))
        if first:
            sketch = RowKeyedSketch(self.sketch, self._partial_n_components(X.shape[1]),
                                    draw_seed(self.random_state), sparsity=self.sparsity)
            self._one_d = one_d
            start = 0 if row_offset is None else row_offset
        else:
            sums = self._sketch_sums
            X, Y = self._check_chunk(X, Y, sums, xp)
            sketch = sums.sketch
            start = sums.end if row_offset is None else row_offset
            overlap = sums.overlap(start, start + X.shape[0])
            if overlap is not None:
                raise ValueError(
                    f"row_offset={start} puts this chunk on rows {start}..{start + X.shape[0] - 1}"
                    f", which overlap rows {overlap[0]}..{overlap[1] - 1} already added."
                )
        row_scale = None if sample_weight is None else xp.sqrt(sample_weight)
        chunk = SketchSums.of_rows(sketch, X, Y, row_scale, start)
        sums = chunk if first else self._sketch_sums.add(chunk)
        result = solve_sketch_sums(sums, alpha=self.alpha, fit_intercept=self.fit_intercept,
                                   one_d=self._one_d)
        self._sketch_sums = sums
        self._store(result, one_d=self._one_d)
        self.n_samples_seen_ = sums.n_rows
        return self

    def _validate_in_memory(self, X, y, sample_weight, *, reset):
        xp, device = namespace_and_device(X)
        y, sample_weight = move_to(y, sample_weight, xp=xp, device=device)
        X, y = validate_data(
            self, X, y, reset=reset, accept_sparse=["csr", "csc"],
            dtype=[xp.float64, xp.float32], multi_output=True, y_numeric=True,
        )
        y = xp.astype(y, X.dtype) if y.dtype != X.dtype else y
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X)
        return X, y, sample_weight

    @staticmethod
    def _check_chunk(X, Y, sums, xp):
        """A later chunk: the first chunk's number of targets; its dtype."""
        n_targets = sums.values.shape[1] - sums.n_features - 1
        if Y.shape[1] != n_targets:
            raise ValueError(f"y has {Y.shape[1]} target(s) but the first chunk had {n_targets}.")
        dtype = sums.values.dtype
        if X.dtype != dtype:
            X = X.astype(dtype) if issparse(X) else xp.astype(X, dtype)
            Y = xp.astype(Y, dtype)
        return X, Y

    def _partial_n_components(self, n_features):
        if self.n_components == "theory":
            raise ValueError(
                "n_components='theory' needs n_samples, which partial_fit does not know: give "
                "an int or 'auto'."
            )
        if self.n_components == "auto":
            return default_sketch_size(2**62, n_features)
        if self.n_components < n_features:
            raise ValueError(
                f"n_components={self.n_components} must be >= n_features={n_features}: a "
                "sketch with fewer rows than features loses the solution."
            )
        return self.n_components

    def _store(self, result, *, one_d):
        self.coef_ = result.coef if one_d else result.coef.T
        self.intercept_ = result.intercept
        self.n_components_ = result.n_components
        self.n_iter_ = result.n_iter

    def _resolve_n_components(self, n_samples, n_features):
        """The estimator's own option, "theory", resolved; "auto" and the bounds of an int
        are :func:`sketched_lstsq`'s (one place for each)."""
        if self.n_components == "auto":
            return None
        if self.n_components == "theory":
            m = theoretical_sketch_size(n_samples, n_features)
            if m > n_samples:
                warnings.warn(
                    f"The paper's sketch size n_components={m} exceeds n_samples={n_samples}; "
                    f"using n_samples rows (an exact, unsketched solve).",
                    UserWarning,
                    stacklevel=3,
                )
            return min(m, n_samples)
        return self.n_components

    def predict(self, X):
        """Predict with the fitted linear model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples, in the namespace and on the device used in ``fit``.

        Returns
        -------
        y_pred : array of shape (n_samples,) or (n_samples, n_targets)
            Predicted values.
        """
        check_is_fitted(self)
        coef = self.coef_
        if is_row_blocked(X):  # lazy, blockwise
            validate_data(self, X, reset=False, skip_check_array=True)
            return X @ (coef if len(coef.shape) == 1 else coef.T) + self.intercept_
        check_same_namespace(X, self, attribute="coef_", method="predict")
        xp, _ = namespace_and_device(X)
        X = validate_data(
            self, X, accept_sparse=["csr", "csc"], dtype=[xp.float64, xp.float32], reset=False
        )
        return X @ (coef if len(coef.shape) == 1 else coef.T) + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        tags.input_tags.sparse = True
        tags.target_tags.multi_output = True
        return tags
