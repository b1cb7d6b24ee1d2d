"""FunBaT: functional Bayesian Tucker decomposition (Fang et al., ICLR 2024), as pure functions.

Model: ``y_n = <W, U^1(x_n1) o ... o U^K(x_nK)> + N(0, 1/tau)`` with a core
``W`` of shape ``(r_1, ..., r_K)`` (prior ``N(0, I)``), latent mode functions
``U^k = (u^k_1, ..., u^k_{r_k})``, each ``u^k_j`` an independent Matérn GP
over the real line, and ``tau ~ Gamma(alpha_1, alpha_2)``.

Inference (conditional EP, which for this conditionally linear-Gaussian model
gives closed-form messages): the approximate posterior is
``q(W) q(tau) prod_k q(U^k)``. Mode by mode, the likelihood messages to
``U^k`` at each training entry are merged per distinct index value (sums of
natural parameters), and a Kalman filter plus RTS smoother over the sorted
distinct values combines them with the GP prior in state-space form
(:mod:`sklr.tensor._state_space`); then the core and the noise precision are
updated. Messages are damped in natural parameters.

Conventions: ``vec`` is C-order (mode 1 slowest), so that
``f = vec(W) . kron(u^1, ..., u^K) = u^k . W_(k) kron(u^j, j != k)`` with
``W_(k) = moveaxis(W, k, 0).reshape(r_k, -1)`` for every ``k`` (one
convention everywhere; the official code mixed two orders).

Here: the public functions and the sweep (:func:`_fit_once`, a sequence of
stages); the posterior's factors and their updates are in
:mod:`sklr.tensor._funbat_factors`, the moments of Tucker products in
:mod:`sklr.tensor._funbat_moments`.
"""

import math
import time
import warnings
from dataclasses import dataclass, fields
from numbers import Integral, Real

from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ..linalg._kronecker import _rowwise_kron, unfold
from ..utils._array_api import namespace_and_device
from ..utils._validation import Interval, StrOptions, check_array_arg, validate_params
from ._funbat_factors import _CoreState, _ModeState, _NoiseState
from ._funbat_moments import _mode_messages, _quadratic_per_sample, _second_moment_sum
from ._state_space import _state_space_predict

__all__ = ["FunBaTResult", "funbat", "funbat_predict", "unfold"]

# Root mean square of y as the fit sees it (y is scaled to it and the core scaled back).
_Y_RMS = 0.5
# Floor of the norm of the training predictions in the relative convergence test.
_MIN_PREDICTION_NORM = 1e-12


@dataclass(kw_only=True, eq=False, repr=False)
class FunBaTResult:
    """What :func:`funbat` returns.

    Attributes
    ----------
    core : array of shape (r_1, ..., r_K)
        Posterior mean of the core ``W`` (superdiagonal for ``core="diagonal"``).
    core_cov : array of shape (prod r_k, prod r_k)
        Posterior covariance of ``vec(W)``.
    modes : list of dict
        Per mode: ``"grid"`` (sorted distinct training index values, shape
        ``(S_k,)``), ``"means"``, ``"covs"``, ``"cross_covs"`` (the smoothed
        states, as returned by :func:`rts_smoother`), ``"kernel"``,
        ``"lengthscale"``, ``"variance"``, ``"rank"``.
    noise_precision : float
        ``E[tau]``.
    n_iter : int
        Iterations (sweeps over the modes, core and noise) run.
    converged : bool
        Whether the training predictions moved by less than ``tol``.
    """

    core: object
    core_cov: object
    modes: list
    noise_precision: float
    n_iter: int
    converged: bool

    def as_dict(self):
        """The fields as a dict ``{name: value}`` (the arrays not copied)."""
        return {item.name: getattr(self, item.name) for item in fields(self)}

    def __repr__(self):
        return (f"FunBaTResult(ranks={tuple(int(r) for r in self.core.shape)}, "
                f"n_iter={self.n_iter}, converged={self.converged}, "
                f"noise_precision={self.noise_precision:.4g})")


_POSITIVE = Interval(Real, 0, math.inf, closed="neither")


@validate_params(
    {
        "X": ["array-like"],
        "y": ["array-like"],
        "ranks": ["array-like"],
        "core": [StrOptions({"full", "diagonal"})],
        "kernel": [StrOptions({"matern32", "matern12"})],
        "lengthscales": [_POSITIVE, "array-like"],
        "variances": [_POSITIVE, "array-like"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "damping": [Interval(Real, 0, 1, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "alpha_1": [_POSITIVE],
        "alpha_2": [_POSITIVE],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "warn": ["boolean"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def funbat(
    X,
    y,
    ranks,
    *,
    core="full",
    kernel="matern32",
    lengthscales=1.0,
    variances=1.0,
    max_iter=100,
    damping=0.1,
    tol=1e-4,
    alpha_1=1e-6,
    alpha_2=1e-6,
    n_init=1,
    random_state=None,
    warn=True,
    verbose=0,
):
    """Fit FunBaT (functional Bayesian Tucker) by conditional EP with Kalman smoothing.

    Parameters
    ----------
    X : array of shape (n_samples, K)
        Continuous index of each entry, one column per mode.
    y : array of shape (n_samples,)
        Observed values (no intercept is fitted, as in the paper).
    ranks : sequence of K int
        Rank ``r_k`` of each mode (all equal for ``core="diagonal"``).
        Clipped with a ``UserWarning`` (when ``warn``) to what the data can
        determine (:func:`max_ranks`); ``result.core.shape`` gives the ranks
        used.
    core : {"full", "diagonal"}, default="full"
        Tucker core, or the superdiagonal one of a CP model (FunBaT-CP).
    kernel : {"matern32", "matern12"}, default="matern32"
        Matérn kernel of the GP priors of the mode functions.
    lengthscales, variances : float or sequence of K float, default=1.0
        Kernel hyperparameters per mode (fixed, as in the paper).
    max_iter : int, default=100
        Maximum sweeps (all modes, then the core, then the noise).
    damping : float, default=0.1
        ``rho`` in ``message <- rho * old + (1 - rho) * new`` (natural
        parameters), for the mode, core and noise messages.
    tol : float, default=1e-4
        Stop when the training predictions ``E[f]`` change by less than
        ``tol`` relative to their norm.
    alpha_1, alpha_2 : float, default=1e-6
        Shape and rate of the Gamma prior on the noise precision
        (scikit-learn's ``BayesianRidge`` default; the paper's code uses 1).
    n_init : int, default=1
        Fits from this many random starts; the one with the largest noise
        precision ``E[tau]`` (the best fit to the training data) is
        returned. The variational fixed point depends on the start: some
        starts end in a rank-deficient fit (a component switched off).
    random_state : int, RandomState instance or None
        Seeds the initial mode means and core (uniform on [0, 1], as the
        authors' code), one draw per start.
    warn : bool, default=True
        Emit a ``ConvergenceWarning`` when ``max_iter`` is reached and a
        ``UserWarning`` when ``ranks`` are clipped.
    verbose : int, default=0
        Print the training RMSE and ``E[tau]`` per sweep.

    Returns
    -------
    result : FunBaTResult
        ``core``, ``core_cov``, ``modes``, ``noise_precision``, ``n_iter``,
        ``converged``.

    Notes
    -----
    Per sweep: ``O(K n R^2)`` for the messages (``R = prod r_k``), one
    Kalman/RTS pass ``O(S_k d_k^3)`` per mode over its ``S_k`` distinct
    values (``d_k = r_k`` or ``2 r_k``), ``O(R^3)`` for the core
    (``R = prod r_k``, or ``r`` for CP). Memory ``O(n sqrt(R) max r_k^2 +
    R^2 + sum_k S_k d_k^2)``: per-entry messages are never stored (damping is
    linear, so damping their per-index sums is the same).

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.tensor import funbat, funbat_predict
    >>> rng = np.random.RandomState(0)
    >>> X = rng.uniform(0, 1, (400, 2))
    >>> y = np.sin(3 * X[:, 0]) * np.cos(2 * X[:, 1])
    >>> res = funbat(X, y, [1, 1], lengthscales=0.5, random_state=0)
    >>> bool(np.sqrt(np.mean((funbat_predict(res, X)[0] - y) ** 2)) < 0.02)
    True
    """
    xp, device = namespace_and_device(*[v for v in (X, y) if hasattr(v, "shape")])
    floats = {"dtype": (xp.float64, xp.float32), "xp": xp, "device": device}
    X = check_array_arg(X, "X", ndim=2, **floats)
    y = check_array_arg(y, "y", ndim=1, **floats)
    if X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same number of entries: X has {X.shape[0]} "
                         f"rows, y has {y.shape[0]}.")
    y = xp.astype(y, X.dtype)
    K = int(X.shape[1])
    ranks = _check_ranks(ranks, K, core)
    lengthscales = _per_mode(lengthscales, K, "lengthscales")
    variances = _per_mode(variances, K, "variances")
    ranks = _clip_ranks(ranks, X, core, xp, warn)
    # One generator for all draws: an int seed gave every mode the same start.
    random_state = check_random_state(random_state)
    best = None
    for _ in range(n_init):
        result = _fit_once(X, y, ranks, core=core, kernel=kernel, lengthscales=lengthscales,
                           variances=variances, max_iter=max_iter, damping=damping, tol=tol,
                           alpha_1=alpha_1, alpha_2=alpha_2, random_state=random_state,
                           verbose=verbose)
        if best is None or result.noise_precision > best.noise_precision:
            best = result
    if warn and not best.converged:
        warnings.warn(
            f"funbat stopped after max_iter={max_iter} sweeps with a relative change of the "
            f"training predictions above tol={tol}; increase max_iter or damping.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return best


def _fit_once(X, y, ranks, *, core, kernel, lengthscales, variances, max_iter, damping, tol,
              alpha_1, alpha_2, random_state, verbose):
    """One FunBaT fit from one random start (see :func:`funbat`)."""
    y, y_scale = _scaled_target(y)
    # Draws: each mode's start, in order, then the core's.
    modes = [_ModeState.start(X[:, k], ranks[k], kernel, lengthscales[k], variances[k],
                              random_state) for k in range(len(ranks))]
    tucker = _CoreState.start(ranks, core, random_state, like=y)
    noise = _NoiseState.start(y, alpha_1, alpha_2)
    f_old, converged, n_iter, start = None, False, 0, time.perf_counter()
    for n_iter in range(1, max_iter + 1):
        _update_modes(modes, tucker, y, noise.precision, damping)
        design, gram = _update_core(tucker, modes, y, noise.precision, damping)
        f = _update_noise(noise, tucker, design, gram, y, damping)
        converged = _has_converged(f, f_old, tol)
        f_old = f
        if verbose:
            _report(n_iter, y, f, noise.precision, y_scale, start)
        if converged:
            break
    return _result(modes, tucker, noise, y_scale, n_iter, converged)


def _scaled_target(y):
    """``y`` scaled to root mean square :data:`_Y_RMS`, and the scale.

    Scale-free: the fit runs on the scaled ``y`` and the core is scaled back (a
    deviation from the paper's code, whose priors and start assume ``y`` of a
    fixed order: ``y`` x 1e3 or x 1e-4 gave a zero fit). ``_Y_RMS`` is the order
    of the start's predictions (uniform draws for the modes and the core give
    about 0.5 at rank 2). Fits that end in a rank-deficient optimum occur at
    every scale and depend on the seed and the ranks (no scale was best on
    every test problem), so this is a convention, not a tuning: what it buys
    is that y's units no longer matter.
    """
    xp, _ = namespace_and_device(y)
    y_max = float(xp.max(xp.abs(y))) if y.shape[0] else 0.0
    y_rms = y_max * math.sqrt(float(xp.mean((y / y_max) ** 2))) if y_max > 0 else 1.0
    y_scale = y_rms / _Y_RMS
    return y / y_scale, y_scale


def _update_modes(modes, tucker, y, tau, damping):
    """Each mode in turn: its messages from the core and the other modes, then its smoother."""
    w, _, core_second = tucker.moments()
    xp, _ = namespace_and_device(w)
    core_mean = xp.reshape(w, tuple(tucker.ranks))
    for k, mode in enumerate(modes):
        precisions, shifts = _mode_messages(core_mean, core_second, k,
                                            [m.entry_mean for m in modes],
                                            [m.entry_second for m in modes], y)
        mode.update(precisions, shifts, tau, damping)


def _update_core(tucker, modes, y, tau, damping):
    """The core from the modes' moments; returns the design ``kron_k E[u^k_n]`` and the Gram."""
    xp, device = namespace_and_device(y)
    n, dtype = y.shape[0], y.dtype
    gram = _second_moment_sum([m.entry_second for m in modes], list(range(len(modes))), xp, n,
                              dtype, device)
    design = _rowwise_kron([m.entry_mean for m in modes], n, xp, dtype, device)
    tucker.update(gram, xp.matrix_transpose(design) @ y, tau, damping)
    return design, gram


def _update_noise(noise, tucker, design, gram, y, damping):
    """The noise precision under the new core; returns the training predictions ``E[f]``."""
    w, _, core_second = tucker.moments()
    f = design @ w
    noise.update(y, f, core_second, gram, damping)
    return f


def _has_converged(f, f_old, tol):
    """Whether the training predictions moved by at most ``tol`` relative to their norm."""
    if f_old is None:
        return False
    xp, _ = namespace_and_device(f)
    change = float(xp.linalg.vector_norm(f - f_old))
    scale = float(xp.linalg.vector_norm(f_old))
    return change <= tol * max(scale, _MIN_PREDICTION_NORM)


def _report(n_iter, y, f, tau, y_scale, start):
    """The verbose line of a sweep, in the units of the unscaled ``y``."""
    xp, _ = namespace_and_device(y)
    rmse = float(xp.sqrt(xp.mean((y - f) ** 2))) * y_scale
    print(f"[funbat] sweep {n_iter}: train RMSE {rmse:.5g}, "
          f"E[tau] {tau / y_scale / y_scale:.4g} "
          f"({time.perf_counter() - start:.2f} s)")


def _result(modes, tucker, noise, y_scale, n_iter, converged):
    """The fit, scaled back to ``y``'s units."""
    w, W_cov, _ = tucker.moments()
    xp, _ = namespace_and_device(w)
    W = xp.reshape(w, tuple(tucker.ranks))
    states, spare = [], None
    for mode in modes:  # each mode's states over its workspace (and the last one's spare)
        mode_states, spare = mode.states(spare)
        states.append(mode_states)
    return FunBaTResult(core=W * y_scale, core_cov=W_cov * y_scale * y_scale,
                        modes=states,
                        noise_precision=noise.precision / y_scale / y_scale, n_iter=n_iter,
                        converged=converged)


def _per_mode(value, K, name):
    """One finite positive float per mode, from a number or a sequence of K numbers."""
    if isinstance(value, Real):
        return [float(value)] * K
    values = check_array_arg(value, name, ndim=1)
    if values.shape[0] != K or not bool((values > 0).all()):
        raise ValueError(f"{name} must be a positive number or one per mode (X has {K} "
                         f"columns), got {value!r}.")
    return [float(v) for v in values]


def _check_ranks(ranks, K, core):
    """K positive integers (equal ones for the CP core)."""
    if ranks is None or isinstance(ranks, str) or not hasattr(ranks, "__len__"):
        raise TypeError(f"ranks must be a sequence of {K} positive integers, got {ranks!r}.")
    values = list(ranks)
    if len(values) != K or not all(isinstance(r, Integral) and not isinstance(r, bool)
                                   and r >= 1 for r in values):
        raise ValueError(f"ranks must be {K} positive integers (one per column of X), got "
                         f"{ranks!r}.")
    values = [int(r) for r in values]
    if core == "diagonal" and len(set(values)) > 1:
        raise ValueError(f"core='diagonal' (CP) needs the same rank in every mode, got "
                         f"ranks={ranks!r}.")
    return values


def max_ranks(n_distinct, n_samples, core="full"):
    """The largest ranks the data can determine, from the requested ones down.

    Mode ``k`` cannot have more latent functions than it has distinct index
    values ``S_k`` (the values of ``U^k`` form an ``S_k x r_k`` matrix), a
    Tucker mode no more than the product of the other ranks (the core's
    unfolding has that many columns), and the core no more free entries than
    there are observations (``prod r_k <= n``; ``r <= n`` for CP). Beyond
    these the extra parameters are fixed by the prior alone, while the cost
    grows as ``n (prod r_k)^2`` per sweep.

    Parameters
    ----------
    n_distinct : sequence of K int
        The requested rank capped by ``S_k``, per mode.
    n_samples : int
        Number of observations.
    core : {"full", "diagonal"}
        Tucker or CP core.

    Returns
    -------
    ranks : list of K int
    """
    ranks = [max(1, int(r)) for r in n_distinct]
    if core == "diagonal":
        r = max(1, min(min(ranks), n_samples))
        return [r] * len(ranks)
    while math.prod(ranks) > n_samples:  # shrink the largest mode first
        k = max(range(len(ranks)), key=lambda j: ranks[j])
        ranks[k] -= 1
    return ranks


def _clip_ranks(ranks, X, core, xp, warn):
    """``ranks`` limited to what the data determine (:func:`max_ranks`), with a warning."""
    n = int(X.shape[0])
    distinct = [int(xp.unique_values(X[:, k]).shape[0]) for k in range(len(ranks))]
    used = max_ranks([min(r, s) for r, s in zip(ranks, distinct)], n, core)
    if used != ranks and warn:
        warnings.warn(
            f"ranks={tuple(ranks)} exceed what {n} observations with {tuple(distinct)} "
            f"distinct index values per mode can determine; using ranks={tuple(used)} (at "
            f"most the distinct values per mode, a core of at most {n} free entries).",
            UserWarning, stacklevel=3,
        )
    return used


def mode_posterior(result, X, *, xp=None):
    """Posterior means and covariances of the mode functions at the indices ``X``.

    Parameters
    ----------
    result : FunBaTResult
        A fitted model.
    X : array of shape (n_samples, K)
        Indices (any values: seen, between, or outside the training ones).
    xp : module, default=None
        Namespace of ``X`` (inferred when None).

    Returns
    -------
    means : list of K arrays of shape (n_samples, r_k)
        ``E[U^k(x_k)]``.
    covs : list of K arrays of shape (n_samples, r_k, r_k)
        ``Cov[U^k(x_k)]``.
    """
    if xp is None:
        xp, _ = namespace_and_device(X)
    means, covs = [], []
    for k, mode in enumerate(result.modes):
        r = mode["rank"]
        m, P = _state_space_predict(
            X[:, k], mode["grid"], mode["means"], mode["covs"], mode["cross_covs"],
            mode["kernel"], mode["lengthscale"], mode["variance"], n_components=r,
        )
        means.append(m[:, :r])
        covs.append(P[:, :r, :r])
    return means, covs


@validate_params(
    {"result": [FunBaTResult], "X": ["array-like"], "return_std": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def funbat_predict(result, X, *, return_std=False):
    """Posterior mean (and standard deviation) of the FunBaT model at new coordinates.

    ``f(x) = <W, U^1(x_1) o ... o U^K(x_K)>``.

    Parameters
    ----------
    result : FunBaTResult
        A fitted model.
    X : array of shape (n_samples, K)
        Indices, any values.
    return_std : bool, default=False
        Also return the posterior standard deviation of ``f`` (noise not
        included), ``sqrt(E[f^2] - E[f]^2)`` under the factorised posterior.

    Returns
    -------
    mean : array of shape (n_samples,)
        ``E[f(x)]``.
    std : array of shape (n_samples,) or None
        Posterior standard deviation of ``f(x)`` when ``return_std``.
    """
    xp, device = namespace_and_device(*[v for v in (X,) if hasattr(v, "shape")])
    X = check_array_arg(X, "X", ndim=2, dtype=(xp.float64, xp.float32), xp=xp, device=device)
    if X.shape[1] != len(result.modes):
        raise ValueError(f"X must have {len(result.modes)} columns (one per mode of the "
                         f"model), got {X.shape[1]}.")
    X = xp.astype(X, result.core.dtype)
    n = X.shape[0]
    means, covs = mode_posterior(result, X, xp=xp)
    w = xp.reshape(result.core, (-1,))
    mean = _rowwise_kron(means, n, xp, X.dtype, device) @ w
    if not return_std:
        return mean, None
    ranks = [int(r) for r in result.core.shape]
    seconds = [xp.reshape(c + m[:, :, None] * m[:, None, :], (n, -1))
               for m, c in zip(means, covs)]
    M2 = w[:, None] * w[None, :] + result.core_cov
    second = _quadratic_per_sample(M2, seconds, ranks, None, xp, n, X.dtype, device)
    return mean, xp.sqrt(xp.clip(second - mean * mean, 0.0, None))
