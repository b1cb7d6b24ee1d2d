"""Sparse Bayesian learning with a Kronecker-structured dictionary (KroSBL; He and Joseph, 2024).

The pure function behind :class:`SparseBayesKronecker`: :func:`kronecker_sbl`
recovers sparse ``x`` from ``y = (A_1 (x) ... (x) A_I) x + e`` by EM on the
hyperparameters of the prior ``x ~ N(0, diag(gamma_1 (x) ... (x) gamma_I))``.

Notation: ``A = (x)_i A_i`` (``M x N``, never formed by the structured
methods), ``Gamma = diag(gamma)``, ``C = s2 I + A Gamma A^H``. The E-step
gives the posterior ``N(mu, Sigma)`` of ``x``; the M-step fits ``gamma`` to
``Lambda = diag(Sigma) + |mu|^2`` (the unstructured EM update would be
``gamma = Lambda``) under the Kronecker constraint. The SBL cost is
``log|C| + y^H C^{-1} y`` (per measurement vector).

This module holds the public functions, their checks and the EM driver; the
E-step is in ``_sbl_posterior.py`` and the prior variants (Kronecker for
``"svd"`` and ``"am"``, dense for ``"classic"``: M-step, pruning, change of
``gamma``) in ``_sbl_priors.py``.
"""

import math
import time
import warnings
from dataclasses import dataclass, fields
from numbers import Integral, Real

from sklearn.exceptions import ConvergenceWarning

from ..linalg._kronecker import _kron as kron
from ..utils._array_api import namespace_and_device, segment_sum
from ..utils._validation import Interval, StrOptions, check_array_arg, validate_params
from ._sbl_posterior import (
    _abs2,
    _dense_posterior,
    _kron_index,
    _kron_posterior,
    _scatter,
)
from ._sbl_priors import make_prior

__all__ = ["KroneckerSBLResult", "kronecker_posterior", "kronecker_sbl"]

# The paper's relative pruning thresholds, per method (prune=None).
_DEFAULT_PRUNE = {"svd": 1e-3, "am": 1e-2, "classic": 1e-3}
# A learned noise variance starts at this fraction of the measurements' variance.
_NOISE_START = 0.1
# Noise variances below this times the measurements' mean power are lost to rounding in C.
_NOISE_FLOOR = 1e-12


@dataclass(kw_only=True, eq=False, repr=False)
class KroneckerSBLResult:
    """What :func:`kronecker_sbl` returns.

    Attributes
    ----------
    coef : array of shape (N,) or (n_samples, N)
        Posterior means of ``x`` (0 at pruned entries), one row per
        measurement vector (1-D when ``y`` was).
    gamma : array of shape (N,)
        The prior variances ``gamma_1 (x) ... (x) gamma_I`` (0 where pruned).
    gammas : list of arrays of shape (N_i,) or None
        The per-factor hyperparameters (None for ``method="classic"``). Their
        Kronecker product is ``gamma``; the split of the scale between the
        factors is arbitrary.
    noise_variance : float
        The noise variance, learned or as given.
    posterior_variance : array of shape (N,)
        ``diag(Sigma)``, the posterior variances (0 where pruned).
    n_iter : int
        EM iterations run.
    cost_path : list of float
        The SBL cost per measurement vector at each iteration's E-step.
    converged : bool
        Whether the relative change of ``gamma`` fell below ``tol``.
    """

    coef: object
    gamma: object
    gammas: list | None = None
    noise_variance: float
    posterior_variance: object
    n_iter: int
    cost_path: list
    converged: bool

    def as_dict(self):
        """The fields as a dict ``{name: value}`` (the arrays not copied)."""
        return {item.name: getattr(self, item.name) for item in fields(self)}

    def __repr__(self):
        return (f"KroneckerSBLResult(n_iter={self.n_iter}, converged={self.converged}, "
                f"noise_variance={self.noise_variance:.4g})")


def check_dictionaries(dictionaries, n_features, xp, device, dtype, name="dictionaries"):
    """The Kronecker factors as 2-D finite arrays of ``xp``, rows multiplying to ``n_features``."""
    if (dictionaries is None or isinstance(dictionaries, str)
            or not hasattr(dictionaries, "__len__")):
        raise TypeError(
            f"{name} must be a list of 2-D arrays (the Kronecker factors A_1, ..., A_I), "
            f"got {type(dictionaries).__name__}."
        )
    if len(dictionaries) == 0:
        raise ValueError(f"{name} must hold at least one factor, got an empty list.")
    factors = []
    for i, A in enumerate(dictionaries):
        A = xp.asarray(A, device=device)
        if A.ndim != 2 or A.shape[0] == 0 or A.shape[1] == 0:
            raise ValueError(
                f"{name}[{i}] must be a non-empty 2-D array (M_i x N_i), got shape "
                f"{tuple(A.shape)}."
            )
        if not (xp.isdtype(A.dtype, "numeric") and not xp.isdtype(A.dtype, "bool")):
            raise TypeError(f"{name}[{i}] must hold numbers, got dtype {A.dtype}.")
        if xp.isdtype(A.dtype, "complex floating") and not xp.isdtype(dtype, "complex floating"):
            dtype = xp.complex128 if dtype == xp.float64 else xp.complex64
        factors.append(A)
    factors = [xp.astype(A, dtype) for A in factors]
    for i, A in enumerate(factors):
        if not bool(xp.all(xp.isfinite(A))):
            raise ValueError(f"{name}[{i}] must be finite (no NaN or inf).")
    n_rows = math.prod(int(A.shape[0]) for A in factors)
    if n_features is not None and n_rows != n_features:
        shapes = " x ".join(str(int(A.shape[0])) for A in factors)
        raise ValueError(
            f"The rows of {name} multiply to {shapes} = {n_rows}, but the measurement "
            f"vectors have {n_features} entries: they must be equal."
        )
    return factors


_POSITIVE = Interval(Real, 0, math.inf, closed="neither")


def _namespace(dictionaries, y):
    """Namespace and device of ``y`` and of the factors that are arrays."""
    values = [y] + (list(dictionaries) if hasattr(dictionaries, "__len__")
                    and not isinstance(dictionaries, str) else [])
    return namespace_and_device(*[v for v in values if hasattr(v, "shape")])


def _check_measurements(y, xp, device, ndim):
    """``y`` as a finite, non-empty array of numbers (real or complex) of ``xp``."""
    if y is None or isinstance(y, str):
        raise TypeError(f"y must be an array of measurements, got {y!r}.")
    try:
        y = xp.asarray(y, device=device)
        numeric = xp.isdtype(y.dtype, "numeric") and not xp.isdtype(y.dtype, "bool")
    except (TypeError, ValueError) as exc:
        raise TypeError(f"y must hold numbers: {exc}") from exc
    if not numeric:
        raise TypeError(f"y must hold numbers, got dtype {y.dtype}.")
    if y.ndim not in ndim or y.shape[-1] == 0 or (y.ndim == 2 and y.shape[0] == 0):
        raise ValueError(
            f"y must be a non-empty {' or '.join(f'{d}-D' for d in ndim)} array of measurement "
            f"vectors (rows), got shape {tuple(y.shape)}."
        )
    return y


def _check_problem(dictionaries, y, ndim):
    """Namespace, device, validated factors and finite measurements of one dtype."""
    xp, device = _namespace(dictionaries, y)
    y = _check_measurements(y, xp, device, ndim)
    dtype = y.dtype if xp.isdtype(y.dtype, ("real floating", "complex floating")) else xp.float64
    y = xp.astype(y, dtype)
    factors = check_dictionaries(dictionaries, int(y.shape[-1]), xp, device, dtype)
    if xp.isdtype(factors[0].dtype, "complex floating"):
        y = xp.astype(y, factors[0].dtype)
    if not bool(xp.all(xp.isfinite(y))):
        raise ValueError("y must be finite (no NaN or inf).")
    return xp, device, factors, y


@validate_params(
    {
        "dictionaries": "no_validation",  # check_dictionaries names each factor
        "y": ["array-like"],
        "method": [StrOptions(set(_DEFAULT_PRUNE))],
        "noise_variance": [_POSITIVE, None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "prune": [Interval(Real, 0, 1, closed="left"), None],
        "inner_max_iter": [Interval(Integral, 1, None, closed="left")],
        "inner_tol": [Interval(Real, 0, None, closed="left")],
        "warn": ["boolean"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def kronecker_sbl(
    dictionaries,
    y,
    *,
    method="svd",
    noise_variance=None,
    max_iter=150,
    tol=1e-4,
    prune=None,
    inner_max_iter=100,
    inner_tol=1e-5,
    warn=True,
    verbose=0,
):
    """Sparse Bayesian learning with a Kronecker-structured dictionary (KroSBL).

    Recovers sparse ``x`` from ``y = (A_1 (x) ... (x) A_I) x + e`` with
    ``e ~ N(0, s2 I)``, under the prior ``x ~ N(0, diag(gamma))`` with a
    Kronecker-structured ``gamma = gamma_1 (x) ... (x) gamma_I``: EM on the
    ``gamma_i`` (and on ``s2`` unless given). Several measurement vectors
    (rows of ``y``) share the prior, hence the support.

    The E-step never forms the ``prod M_i x prod N_i`` dictionary: it goes
    through eigendecompositions of the small ``A_i Gamma_i A_i^H`` and
    mode products, in ``O(sum_i M_i^3 + N sum_i M_i)`` per iteration. The
    M-step is the paper's:

    - ``"svd"`` (SVD-KroSBL): the unstructured update ``Lambda`` (a tensor
      ``N_1 x ... x N_I``) approximated by a rank-1 Kronecker product through
      leading singular pairs;
    - ``"am"`` (AM-KroSBL): exact minimisation of the EM objective over the
      factors by alternating (cyclic) block updates, which guarantees a
      non-increasing SBL cost;
    - ``"classic"``: unstructured SBL (``gamma = Lambda``), the paper's
      baseline, with the explicit dictionary (``O(M N min(M, N))`` per
      iteration).

    Parameters
    ----------
    dictionaries : list of arrays of shape (M_i, N_i)
        The Kronecker factors ``A_1, ..., A_I`` (real or complex).
    y : array of shape (prod M_i,) or (n_samples, prod M_i)
        Measurement vector(s), vectorized in C order with ``A_1`` the slowest
        index (``numpy.kron(A_1, A_2) @ x`` convention).
    method : {"svd", "am", "classic"}, default="svd"
        M-step (see above).
    noise_variance : float, default=None
        The noise variance ``s2 > 0`` if known; None learns it by EM from
        ``0.1 var(y)``: ``s2 = (||y - A mu||^2 + s2 sum_j (1 - Sigma_jj /
        gamma_j)) / M``.
    max_iter : int, default=150
        Maximum EM iterations.
    tol : float, default=1e-4
        Stop when ``||gamma - gamma_old|| <= tol ||gamma_old||``.
    prune : float, default=None
        Relative pruning threshold: before each E-step, index ``j`` of factor
        ``i`` is dropped when ``gamma_i[j] < prune * max(gamma_i)`` (for
        ``"classic"``, entries of ``gamma``). None: the paper's, ``1e-3``
        for ``"svd"`` and ``"classic"``, ``1e-2`` for ``"am"``. 0 keeps all.
    inner_max_iter : int, default=100
        Maximum alternating sweeps per M-step (``"am"``).
    inner_tol : float, default=1e-5
        The alternating sweeps stop when the Kronecker product of the factors
        moves by less than this, relative to its norm (``"am"``; the
        authors' code uses the same value as an absolute threshold).
    warn : bool, default=True
        Emit a ``ConvergenceWarning`` when ``max_iter`` is reached.
    verbose : int, default=0
        Print the SBL cost, the number of active entries and ``s2`` per
        iteration.

    Returns
    -------
    result : KroneckerSBLResult
        ``coef``, ``gamma``, ``gammas``, ``noise_variance``,
        ``posterior_variance``, ``n_iter``, ``cost_path``, ``converged``.

    Notes
    -----
    Follows the authors' MATLAB code (EM updates, pruning, stopping rule,
    the final posterior mean recomputed with the last ``gamma``), with two
    deviations that make it scale-free: the EM runs on ``y`` divided by its
    largest magnitude and the results are scaled back (the model is
    equivariant), and the initial ``gamma`` is ``N ||y||^2 / ||A||_F^2``
    (each coefficient as large as if it alone explained ``y``) instead of
    all ones, which assumes ``y`` and the dictionaries in matched units
    (with ``y`` multiplied by 1000 the paper's start pruned every
    coefficient in two iterations). A given ``noise_variance`` below
    ``1e-12`` times the measurements' power is raised to that floor with a
    warning. The E-step differs in form, not in
    value: the authors' code forms the full ``N x N`` covariance; this one
    uses the Kronecker eigenstructure (equal to the dense formulas to
    1e-10, tested). ``"am"``'s inner tolerance is relative (scale-free).

    References
    ----------
    .. [1] He, Y. and Joseph, G. "Bayesian Algorithms for Kronecker-structured
       Sparse Vector Recovery With Application to IRS-MIMO Channel
       Estimation." IEEE Transactions on Signal Processing, 2024
       (arXiv:2307.14719).

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.decomposition import kronecker_sbl
    >>> rng = np.random.RandomState(0)
    >>> A1, A2 = rng.standard_normal((8, 12)), rng.standard_normal((10, 12))
    >>> x1, x2 = np.zeros(12), np.zeros(12)
    >>> x1[[2, 7]], x2[[1, 5]] = [1.0, -2.0], [1.5, 0.5]
    >>> x = np.kron(x1, x2)
    >>> y = np.kron(A1, A2) @ x + 1e-3 * rng.standard_normal(80)
    >>> result = kronecker_sbl([A1, A2], y, noise_variance=1e-6)
    >>> bool(np.linalg.norm(result.coef - x) < 1e-2 * np.linalg.norm(x))
    True
    """
    xp, device, factors, y = _check_problem(dictionaries, y, (1, 2))
    # Scalars were checked by validate_params.
    prune = _DEFAULT_PRUNE[method] if prune is None else prune

    Y = y if y.ndim == 2 else y[None, :]
    real_dtype = xp.real(Y[:1, :1]).dtype
    # Scale-free: the EM runs on y / y_scale (largest entry 1, so no power
    # overflows) and the results are scaled back; the model is equivariant
    # (y -> c y maps gamma -> c^2 gamma and s2 -> c^2 s2).
    y_scale = float(xp.max(xp.abs(Y)))
    y_scale = 1.0 if y_scale == 0.0 else y_scale
    Y = Y / y_scale
    learn_noise = noise_variance is None
    s2, floor = _noise_start(Y, noise_variance, y_scale, real_dtype, xp)
    M = int(Y.shape[1])
    prior = make_prior(method, factors, _gamma_start(factors, Y, xp), prune, inner_max_iter,
                       inner_tol, real_dtype, xp, device)

    cost_path, converged, n_iter = [], False, 0
    start = time.perf_counter()
    while True:
        post = prior.posterior(s2, Y)
        if n_iter == max_iter or converged:
            break
        n_iter += 1
        cost_path.append(post.cost)
        if learn_noise:
            s2 = _noise_update(prior, post, Y, s2, floor, xp)
        change = prior.update(post.diag_sigma + xp.mean(_abs2(post.mu, xp), axis=0))
        converged = change <= tol
        if verbose:
            print(f"[kronecker_sbl] iteration {n_iter}: cost "
                  f"{post.cost + M * 2.0 * math.log(y_scale):.6g}, {prior.n_active} active, "
                  f"noise variance {s2 * (y_scale * y_scale):.4g}, change {change:.3g} "
                  f"({time.perf_counter() - start:.2f} s)")
    N = math.prod(int(A.shape[1]) for A in factors)
    idx_full = prior.active_index()
    coef = xp.matrix_transpose(segment_sum(xp.matrix_transpose(post.mu), idx_full, N, xp=xp))
    coef = coef * y_scale
    posterior_variance = _scatter(post.diag_sigma, idx_full, N, xp) * y_scale * y_scale
    gamma, gammas = prior.result(y_scale)
    # The cost log|C| + y^H C^{-1} y in the units of y: log|C| shifts by M log(y_scale^2).
    cost_path = [c + M * 2.0 * math.log(y_scale) for c in cost_path]
    power = y_scale * y_scale
    if not math.isfinite(power) or power < float(xp.finfo(real_dtype).smallest_normal):
        # The EM ran on y / y_scale; only the way back to y's units leaves the range.
        warnings.warn(
            f"The variances (gamma, noise_variance, posterior_variance) scale as y^2, and at "
            f"max |y| = {y_scale:.3g} they {'overflow to inf' if power > 1 else 'underflow to 0'}"
            f" in {real_dtype}; coef is unaffected. Divide y by a constant for finite variances.",
            RuntimeWarning,
            stacklevel=2,
        )
    if warn and not converged:
        warnings.warn(
            f"kronecker_sbl stopped after max_iter={max_iter} EM iterations with a relative "
            f"change of gamma above tol={tol}; increase max_iter.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return KroneckerSBLResult(
        coef=coef if y.ndim == 2 else coef[0, :],
        gamma=gamma,
        gammas=gammas,
        noise_variance=s2 * (y_scale * y_scale),
        posterior_variance=posterior_variance,
        n_iter=n_iter,
        cost_path=cost_path,
        converged=converged,
    )


def _noise_start(Y, noise_variance, y_scale, dtype, xp):
    """The starting noise variance of the scaled ``Y`` and the floor of every later one."""
    power = float(xp.mean(_abs2(Y - xp.mean(Y), xp)))
    floor = max(_NOISE_FLOOR * float(xp.mean(_abs2(Y, xp))),
                float(xp.finfo(dtype).smallest_normal))
    if noise_variance is None:
        return max(_NOISE_START * power, floor), floor
    s2 = float(noise_variance) / (y_scale * y_scale)
    # Far below the measurements' power a noise variance is lost in the
    # rounding of C = s2 I + A Gamma A^H and the E-step breaks down (AM
    # divided by zero, the dense Cholesky failed at 1e-17 x power): the
    # floor of the learned noise variance applies to a given one too.
    if s2 < floor:
        warnings.warn(
            f"noise_variance={noise_variance:.3g} is below {_NOISE_FLOOR:g} times the "
            f"measurements' power; using {floor * y_scale * y_scale:.3g} instead (smaller "
            f"values are lost to rounding in the E-step).",
            UserWarning, stacklevel=3,
        )
        s2 = floor
    return s2, floor


def _gamma_start(factors, Y, xp):
    """Every coefficient as large as if it alone explained the measurements.

    ``N ||y||^2 / ||A||_F^2`` (the paper's code starts at ``gamma = 1``, which
    assumes ``y`` and ``A`` in matched units: with ``y`` x 1000 it pruned
    every coefficient at once); 1 when ``y`` is zero.
    """
    frob = math.prod(float(xp.sum(_abs2(A, xp))) for A in factors)
    sizes = [int(A.shape[1]) for A in factors]
    gamma_start = math.prod(sizes) * float(xp.mean(xp.sum(_abs2(Y, xp), axis=-1))) / frob
    return gamma_start if gamma_start > 0.0 else 1.0


def _noise_update(prior, post, Y, s2, floor, xp):
    """The EM update ``s2 = (||y - A mu||^2 + s2 sum_j (1 - Sigma_jj / gamma_j)) / M``."""
    residual = float(xp.mean(xp.sum(_abs2(Y - prior.fitted(post.mu), xp), axis=-1)))
    gamma = prior.active_gamma
    ratio = xp.where(gamma > 0, post.diag_sigma / xp.where(gamma > 0, gamma, 1.0), 1.0)
    return max((residual + s2 * float(xp.sum(1.0 - ratio))) / int(Y.shape[1]), floor)


@validate_params(
    {"dictionaries": "no_validation", "gamma": ["array-like"], "noise_variance": [_POSITIVE],
     "y": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def kronecker_posterior(dictionaries, gamma, noise_variance, y):
    """Posterior of ``x`` given learned hyperparameters: means and variances on the full grid.

    Parameters
    ----------
    dictionaries : list of arrays of shape (M_i, N_i)
        The Kronecker factors.
    gamma : list of arrays of shape (N_i,), or array of shape (prod N_i,)
        Per-factor prior variances (the Kronecker E-step) or unstructured
        ones (the dense E-step, with the explicit dictionary); zeros are
        pruned entries.
    noise_variance : float
        ``s2 > 0``.
    y : array of shape (n_samples, prod M_i)
        Measurement vectors.

    Returns
    -------
    mean : array of shape (n_samples, prod N_i)
        Posterior means (0 at pruned entries).
    variance : array of shape (prod N_i,)
        ``diag(Sigma)`` (0 at pruned entries).
    log_likelihood : array of shape (n_samples,)
        ``log p(y)`` of each row under ``N(0, C)`` (real data).
    """
    xp, device, dictionaries, y = _check_problem(dictionaries, y, (2,))
    sizes = [int(A.shape[1]) for A in dictionaries]
    N, M = math.prod(sizes), int(y.shape[1])
    real = (xp.float64, xp.float32)
    # A list of numbers is the flat form; a list of vectors the per-factor one.
    if isinstance(gamma, (list, tuple)) and not all(isinstance(g, Real) for g in gamma):
        if len(gamma) != len(sizes):
            raise ValueError(f"gamma must hold one vector per factor of dictionaries "
                             f"({len(sizes)}), got {len(gamma)}.")
        gamma = [check_array_arg(g, f"gamma[{i}]", ndim=1, dtype=real, non_negative=True,
                                 allow_empty=True, xp=xp, device=device)
                 for i, g in enumerate(gamma)]
        for i, (g, n) in enumerate(zip(gamma, sizes)):
            if g.shape[0] != n:
                raise ValueError(f"gamma[{i}] must have {n} entries (the columns of "
                                 f"dictionaries[{i}]), got {g.shape[0]}.")
    else:
        gamma = check_array_arg(gamma, "gamma", ndim=1, dtype=real, non_negative=True,
                                allow_empty=True, xp=xp, device=device)
        if gamma.shape[0] != N:
            raise ValueError(f"gamma must have prod N_i = {N} entries (the columns of the "
                             f"Kronecker dictionary), got {gamma.shape[0]}.")
    noise_variance = float(noise_variance)
    if isinstance(gamma, list):
        active = [xp.nonzero(g > 0)[0] for g in gamma]
        parts = [xp.take(A, idx, axis=1) for A, idx in zip(dictionaries, active)]
        post = _kron_posterior(parts, [xp.take(g, idx) for g, idx in zip(gamma, active)],
                               noise_variance, y, xp)
        index = _kron_index(active, sizes, xp)
    else:
        index = xp.nonzero(gamma > 0)[0]
        A = xp.take(kron(dictionaries, xp=xp), index, axis=1)
        post = _dense_posterior(A, xp.take(gamma, index), noise_variance, y, xp)
    mean = xp.matrix_transpose(segment_sum(xp.matrix_transpose(post.mu), index, N, xp=xp))
    variance = segment_sum(post.diag_sigma, index, N, xp=xp)
    log_likelihood = -0.5 * (M * math.log(2.0 * math.pi) + post.log_det + post.quad)
    return mean, variance, log_likelihood
