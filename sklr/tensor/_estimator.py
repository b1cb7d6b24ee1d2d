"""FunctionalTucker: Bayesian Tucker decomposition of tensors with continuous indices (FunBaT)."""

import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    RegressorMixin,
    TransformerMixin,
)
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..utils._array_api import check_same_namespace, move_to, namespace_and_device
from ..utils._validation import Interval, StrOptions, _fit_context, validate_data
from ._funbat import FunBaTResult, funbat, funbat_predict, mode_posterior

__all__ = ["FunctionalTucker"]


def _per_mode_param(value, n_modes, name, integer=False):
    """A scalar or a sequence of one value per mode, as a list of n_modes positive numbers."""
    values = [value] * n_modes if isinstance(value, Real) else list(value)
    if len(values) != n_modes:
        raise ValueError(
            f"{name} must be a number or a sequence of one value per mode (X has {n_modes} "
            f"columns), got {len(values)} values."
        )
    for v in values:
        ok = isinstance(v, Integral) if integer else isinstance(v, Real)
        if not ok or isinstance(v, bool) or not math.isfinite(v) or v < (1 if integer else 0) \
                or (not integer and v == 0):
            kind = "integers >= 1" if integer else "finite numbers > 0"
            raise ValueError(f"{name} must hold {kind}, got {value!r}.")
    return [int(v) for v in values] if integer else [float(v) for v in values]


class FunctionalTucker(TransformerMixin, RegressorMixin, BaseEstimator):
    """Functional Bayesian Tucker decomposition (FunBaT) of data with continuous indices.

    Models ``y = <W, U^1(x_1) o ... o U^K(x_K)> + noise`` where each
    column ``x_k`` of ``X`` is a real index (temperature, pressure, time,
    latitude, ...), ``U^k = (u^k_1, ..., u^k_{r_k})`` are latent functions
    with independent Matérn Gaussian-process priors, ``W`` is a Tucker core
    with an ``N(0, I)`` prior and the noise precision has a Gamma prior. The
    posterior is approximated by conditional expectation propagation in which
    each GP is handled in state-space form by a Kalman filter and RTS smoother
    over the distinct values of its index (:func:`funbat`), so the cost grows
    linearly with the number of observations. :meth:`predict` works at any
    index values, with uncertainty; :meth:`transform` returns the learned mode
    functions at the given indices.

    Read more in the :ref:`User Guide <functional_tucker>`.

    Parameters
    ----------
    rank : int or tuple of int, default=2
        Number of latent functions per mode, one value for all modes or one
        per mode (column of ``X``). Ranks beyond what the data can determine
        are clipped with a warning (see ``ranks_``): the extra parameters
        would be fixed by the prior alone while the cost of a sweep grows as
        ``n prod(rank)^2``.
    core : {"full", "diagonal"}, default="full"
        A full Tucker core, or a superdiagonal one (FunBaT-CP, the CP model;
        needs the same rank in every mode).
    kernel : {"matern32", "matern12"}, default="matern32"
        Matérn smoothness 3/2 or 1/2 (exponential kernel: rough functions,
        half the state size) of the GP priors.
    lengthscale : float or tuple of float, default=1.0
        Kernel lengthscale per mode, in the units of ``X``'s columns. Not
        learned (as in the paper): choose it on a validation split
        (:class:`~sklearn.model_selection.GridSearchCV`).
    variance : float or tuple of float, default=1.0
        Kernel variance per mode.
    max_iter : int, default=100
        Maximum sweeps (all modes, the core, the noise).
    damping : float in [0, 1), default=0.1
        Weight of the previous message in each damped update.
    tol : float, default=1e-4
        Stop when the training predictions change by less than ``tol``
        relative to their norm.
    alpha_1, alpha_2 : float, default=1e-6
        Shape and rate of the Gamma prior on the noise precision (weakly
        informative, as in :class:`~sklearn.linear_model.BayesianRidge`).
    n_init : int, default=3
        Fits from this many random starts and keeps the one with the
        largest noise precision (the best fit to the training data). The
        fixed point depends on the start: on two-term rank-2 test functions
        a single start ended in a rank-deficient fit (a component switched
        off, relative error about 0.5) in 14 of 36 seed and rank cases;
        three starts in none. Cost grows linearly with ``n_init``.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial mode functions and core (one draw per start).
    verbose : int, default=0
        Print the training RMSE per sweep.

    Attributes
    ----------
    core_ : array of shape `ranks_`
        Posterior mean of the core ``W``.
    core_covariance_ : array of shape (prod(`ranks_`), prod(`ranks_`))
        Posterior covariance of ``vec(W)`` (C order).
    mode_states_ : list of dict
        Per mode, the sorted distinct training index values (``"grid"``) and
        the smoothed state-space posterior there (``"means"``, ``"covs"``,
        ``"cross_covs"``), with the kernel settings.
    noise_precision_ : float
        Posterior mean of the noise precision ``tau``.
    ranks_ : tuple of int
        The rank of each mode used by the fit: ``rank``, clipped (with a
        ``UserWarning``) to what the data can determine, i.e. at most the
        number of distinct index values of the mode, and a core of at most
        ``n_samples`` free entries (``prod(ranks_) <= n_samples``; for
        ``core="diagonal"``, ``ranks_[0] <= n_samples``), largest ranks
        reduced first.
    n_iter_ : int
        Sweeps run.
    n_features_in_ : int
        Number of modes ``K``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklr.tensor.funbat : The solver.
    sklearn.gaussian_process.GaussianProcessRegressor : Dense GP regression,
        ``O(n^3)``.

    Notes
    -----
    Cost per sweep: ``O(K n R^2)`` for the messages with ``R = prod r_k``
    (the second moments of the core against those of the other modes;
    exponential in the number of modes, as for any Tucker model),
    ``O(S_k d_k^3)`` for the Kalman/RTS pass of mode ``k`` over its ``S_k``
    distinct values, and ``O(R^3)`` for the core; ``rank`` is clipped so
    that ``R <= n`` (see ``ranks_``).

    Deviations from the paper's code, each measured on the shipped
    synthetic set (test RMSE 4.7e-5 here with the default noise prior,
    0.0037 with the paper's ``Gamma(1, 1)``, 0.004 in the authors' notebook):
    a weak noise prior ``alpha_1 = alpha_2 = 1e-6`` (the paper's ``Gamma(1,
    1)`` caps the noise precision near ``n / 2`` and dominates small data);
    one vectorisation order everywhere (the official core/factor messages
    disagree for 3 modes, see the tests of the unfolding identity); the core
    has its ``N(0, I)`` prior and its covariance enters the mode and noise
    messages; no extra ``I`` on the merged messages; the Kalman filter starts
    at mean 0; closed-form transitions instead of ``expm``; prediction at
    unseen indices by the exact Gaussian bridge under the Markov prior (the
    official heuristic is not exact); per-entry messages are not stored
    (damping their per-index sums is the same, memory ``O(R^2)`` instead of
    ``O(n R^2)``); ``y`` is scaled to a fixed root mean square for the
    fit and the core scaled back, so the units of ``y`` do not matter (the
    unit priors made ``y`` x 1e3 or x 1e-4 a zero fit); ``n_init`` random
    starts; no intercept, as in the paper (centring the targets made
    a rank-2 test function rank 3 and raised its test RMSE from 0.001 to
    0.06: standardise ``y`` only when its mean is part of the structure to
    be learned); a convergence
    test on the training predictions instead of a fixed number of epochs.
    ``predict(..., return_std=True)`` gives the standard deviation of the
    latent ``f`` (add ``1 / noise_precision_`` to the variance for a new
    observation).

    References
    ----------
    .. [1] Fang, S., Yu, X., Wang, Z., Li, S., Kirby, M. and Zhe, S.
       "Functional Bayesian Tucker Decomposition for Continuous-indexed
       Tensor Data." ICLR 2024 (arXiv:2311.04829).

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.tensor import FunctionalTucker
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(0, 1, (500, 2))
    >>> y = np.sin(3 * X[:, 0]) * np.cos(2 * X[:, 1])
    >>> model = FunctionalTucker(rank=2, lengthscale=0.5, random_state=0).fit(X, y)
    >>> mean, std = model.predict([[0.5, 0.5]], return_std=True)
    >>> bool(abs(mean[0] - np.sin(1.5) * np.cos(1.0)) < 0.01), bool(std[0] < 0.05)
    (True, True)
    >>> model.transform([[0.5, 0.5]]).shape
    (1, 4)
    >>> model.get_feature_names_out().tolist()
    ['x0_u0', 'x0_u1', 'x1_u0', 'x1_u1']
    """

    _parameter_constraints: dict = {
        "rank": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "core": [StrOptions({"full", "diagonal"})],
        "kernel": [StrOptions({"matern32", "matern12"})],
        "lengthscale": [Interval(Real, 0, None, closed="neither"), tuple, list],
        "variance": [Interval(Real, 0, None, closed="neither"), tuple, list],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "damping": [Interval(Real, 0, 1, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "alpha_1": [Interval(Real, 0, None, closed="neither")],
        "alpha_2": [Interval(Real, 0, None, closed="neither")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, rank=2, *, core="full", kernel="matern32", lengthscale=1.0, variance=1.0,
                 max_iter=100, damping=0.1, tol=1e-4, alpha_1=1e-6, alpha_2=1e-6,
                 n_init=3, random_state=None, verbose=0):
        self.rank = rank
        self.core = core
        self.kernel = kernel
        self.lengthscale = lengthscale
        self.variance = variance
        self.max_iter = max_iter
        self.damping = damping
        self.tol = tol
        self.alpha_1 = alpha_1
        self.alpha_2 = alpha_2
        self.n_init = n_init
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Learn the core, the mode functions and the noise precision.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_modes)
            Real-valued index of each observation, one column per mode.
        y : array-like of shape (n_samples,)
            Observed values.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        xp, device = namespace_and_device(X)
        X, y = validate_data(self, X, y, dtype=[xp.float64, xp.float32], y_numeric=True)
        y = xp.astype(move_to(y, xp=xp, device=device), X.dtype)
        K = X.shape[1]
        ranks = _per_mode_param(self.rank, K, "rank", integer=True)
        if self.core == "diagonal" and len(set(ranks)) > 1:
            raise ValueError(f"core='diagonal' (CP) needs the same rank in every mode, got "
                             f"rank={self.rank!r}.")
        lengthscales = _per_mode_param(self.lengthscale, K, "lengthscale")
        variances = _per_mode_param(self.variance, K, "variance")
        result = funbat(
            X, y, ranks, core=self.core, kernel=self.kernel,
            lengthscales=lengthscales, variances=variances, max_iter=self.max_iter,
            damping=self.damping, tol=self.tol, alpha_1=self.alpha_1, alpha_2=self.alpha_2,
            n_init=self.n_init, random_state=check_random_state(self.random_state),
            verbose=self.verbose,
        )
        self._result = result
        self.core_ = result.core
        self.core_covariance_ = result.core_cov
        self.mode_states_ = result.modes
        self.noise_precision_ = result.noise_precision
        self.n_iter_ = result.n_iter
        self.ranks_ = tuple(int(r) for r in result.core.shape)
        return self

    def _check(self, X, method):
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="core_", method=method)
        xp, _ = namespace_and_device(X)
        X = validate_data(self, X, dtype=[xp.float64, xp.float32], reset=False)
        return X, xp

    def _fitted_result(self, xp, dtype):
        cast = lambda a: xp.astype(a, dtype)  # noqa: E731
        modes = [dict(m, grid=cast(m["grid"]), means=cast(m["means"]), covs=cast(m["covs"]),
                      cross_covs=cast(m["cross_covs"])) for m in self.mode_states_]
        return FunBaTResult(core=cast(self.core_), core_cov=cast(self.core_covariance_),
                            modes=modes, noise_precision=self.noise_precision_,
                            n_iter=self.n_iter_, converged=True)

    def predict(self, X, return_std=False):
        """Posterior mean (and standard deviation) of the target at any indices.

        Index values not seen in training are handled by the state-space
        bridge (between training values) or by propagating the prior
        dynamics (outside their range).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_modes)
            Indices.
        return_std : bool, default=False
            Also return the posterior standard deviation of the latent
            function (noise excluded).

        Returns
        -------
        y_mean : array of shape (n_samples,)
            Predictions.
        y_std : array of shape (n_samples,)
            Posterior standard deviations, when ``return_std``.
        """
        X, xp = self._check(X, "predict")
        mean, std = funbat_predict(self._fitted_result(xp, X.dtype), X, return_std=return_std)
        return (mean, std) if return_std else mean

    def transform(self, X):
        """Posterior means of the latent mode functions at the indices in ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_modes)
            Indices.

        Returns
        -------
        U : array of shape (n_samples, sum(`ranks_`))
            ``[E U^1(x_1), ..., E U^K(x_K)]`` side by side.
        """
        X, xp = self._check(X, "transform")
        means, _ = mode_posterior(self._fitted_result(xp, X.dtype), X, xp=xp)
        return xp.concat(means, axis=1)

    def get_feature_names_out(self, input_features=None):
        """Names of the :meth:`transform` columns: ``"<mode>_u<j>"``, ``j < ranks_[k]``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            The modes' names. None: ``feature_names_in_`` if fit saw
            column names, else ``["x0", "x1", ...]``. Checked against them.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per latent function of each mode, in the order of
            :meth:`transform`'s columns.
        """
        check_is_fitted(self)
        # The one-to-one mixin's method validates input_features against feature_names_in_ and
        # n_features_in_ with scikit-learn's own messages, and returns the mode names.
        modes = OneToOneFeatureMixin.get_feature_names_out(self, input_features)
        return np.asarray([f"{mode}_u{j}" for mode, rank in zip(modes, self.ranks_)
                           for j in range(rank)], dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        # A product of one function per column: on check_regressors_train's target (linear in
        # 1 of 10 columns) the sweeps fall to the zero fit (R^2 = 0.0, measured), as expected
        # of a multiplicative model whose non-informative modes average a centred target.
        tags.regressor_tags.poor_score = True
        return tags
