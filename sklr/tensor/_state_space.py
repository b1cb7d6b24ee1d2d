"""State-space (Kalman) inference for Matérn Gaussian processes on the real line.

A Matérn GP with smoothness ``nu = p + 1/2`` is the first coordinate of the
state ``z(t) = (f, f', ..., f^(p))`` of a linear stochastic differential
equation ``dz/dt = F z + L w(t)`` (Hartikainen and Särkkä, 2010). Between two
sorted inputs ``t_s < t_{s+1}`` the state moves by
``z_{s+1} = A(Delta) z_s + N(0, Q(Delta))`` with ``A = expm(F Delta)`` and
``Q = P_inf - A P_inf A^T``; both have closed forms for Matérn-1/2 and
Matérn-3/2 (:func:`matern_transition`). GP regression on ``S`` sorted inputs
is then a Kalman filter (:func:`kalman_filter`) and a Rauch-Tung-Striebel
smoother (:func:`rts_smoother`), ``O(S d^3)`` instead of ``O(S^3)``, both
evaluated in blocks (:mod:`sklr.tensor._kalman_scan`: the recursion batched
over blocks of about ``sqrt(S)`` steps, an associative scan across them);
:func:`state_space_predict` reads the posterior at new inputs (between,
before or after the training inputs) exactly.

``n_components`` independent GPs with the same kernel share one state: the
state is component-major, ``(f_1, ..., f_r, f'_1, ..., f'_r, ...)``, so the
stacked transition is ``kron(A, I_r)`` and the emission ``H = [I_r, 0]``
picks the function values. Observations enter in information form: a
Gaussian message ``exp(-u^T Lam u / 2 + eta^T u)`` on ``u = H z`` per input
(``Lam`` may be singular, e.g. zero where an input carries no information).

All functions take and return arrays of one array API namespace.
"""

import math
from numbers import Integral, Real

from ..linalg._kronecker import _kron_eye
from ..utils._array_api import namespace_and_device
from ..utils._validation import Interval, StrOptions, check_array_arg, validate_params
from ._kalman_scan import scan_kalman_filter, scan_rts_smoother

__all__ = [
    "kalman_filter",
    "matern_state_space",
    "matern_transition",
    "rts_smoother",
    "state_space_predict",
]

_ORDERS = {"matern12": 1, "matern32": 2}

# Shared constraints of the kernel arguments (validate_params): finite positive scales.
_KERNEL_PARAMS = {
    "kernel": [StrOptions(set(_ORDERS))],
    "lengthscale": [Interval(Real, 0, math.inf, closed="neither")],
    "variance": [Interval(Real, 0, math.inf, closed="neither")],
    "n_components": [Interval(Integral, 1, None, closed="left")],
}


def _namespace(*values):
    """Namespace and device of the arguments that are arrays (lists and None are skipped)."""
    return namespace_and_device(*[v for v in values if hasattr(v, "shape")])


def _check_shape(arr, name, shape, ref=None):
    """``arr.shape == shape``, where None in ``shape`` matches any length; ``ref`` names
    the argument the expected shape comes from."""
    if len(arr.shape) != len(shape) or any(
            want is not None and int(got) != want for got, want in zip(arr.shape, shape)):
        want = "(" + ", ".join("*" if w is None else str(w) for w in shape) + ")"
        like = f" (from {ref})" if ref else ""
        raise ValueError(f"{name} must have shape {want}{like}, got {tuple(arr.shape)}.")


def _check_covariance(M, name, xp, *, strict=False):
    """Reject non-symmetric or indefinite (batches of) covariance matrices, naming ``M``.

    Symmetric to ``1e-8`` of the largest entry; eigenvalues at least ``-1e-8``
    times the largest (``strict``: above ``d eps`` times it, i.e. numerically
    invertible, as a matrix that is solved against must be).
    """
    if M.shape[-1] != M.shape[-2]:
        raise ValueError(f"{name} must hold square matrices, got shape {tuple(M.shape)}.")
    if math.prod(M.shape) == 0:
        return
    scale = float(xp.max(xp.abs(M)))
    asym = float(xp.max(xp.abs(M - xp.matrix_transpose(M))))
    if asym > 1e-8 * scale:
        raise ValueError(f"{name} must be symmetric, got an asymmetry of {asym:.3g} (largest "
                         f"entry {scale:.3g}).")
    eig = xp.linalg.eigvalsh(0.5 * (M + xp.matrix_transpose(M)))
    top = xp.max(xp.abs(eig), axis=-1)
    eps = float(xp.finfo(M.dtype).eps)
    bound = (M.shape[-1] * eps * top) if strict else (-1e-8 * top)
    low = eig[..., 0]
    bad = (low <= bound) if strict else (low < bound)
    if bool(xp.any(bad)):
        kind = "positive definite" if strict else "positive semi-definite"
        raise ValueError(f"{name} must be {kind}; its smallest eigenvalue is "
                         f"{float(xp.min(low)):.3g} (largest {float(xp.max(top)):.3g}).")


@validate_params(
    {**_KERNEL_PARAMS, "xp": "no_validation", "dtype": "no_validation", "device": "no_validation"},
    prefer_skip_nested_validation=True,
)
def matern_state_space(kernel, lengthscale, variance, *, xp, n_components=1, dtype=None,
                       device=None):
    """The SDE form ``(F, P_inf, H)`` of a Matérn kernel.

    Parameters
    ----------
    kernel : {"matern12", "matern32"}
        Matérn smoothness 1/2 (exponential kernel) or 3/2.
    lengthscale : float
        Lengthscale ``l`` of the kernel.
    variance : float
        Marginal variance ``s2`` of the kernel.
    n_components : int, default=1
        Number of independent GPs stacked in one state.
    xp : module
        Array namespace of the returned arrays.
    dtype, device : optional
        Of the returned arrays (float64 and the default device when None).

    Returns
    -------
    F : array of shape (d, d)
        Feedback matrix, ``d = n_components * (p + 1)``.
    P_inf : array of shape (d, d)
        Stationary state covariance (``F P + P F^T + L q L^T = 0``).
    H : array of shape (n_components, d)
        Emission matrix: ``f = H z``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.tensor import matern_state_space
    >>> F, P_inf, H = matern_state_space("matern32", 1.0, 2.0, xp=np)
    >>> F.shape, float(P_inf[0, 0]), float(P_inf[1, 1]), H.tolist()
    ((2, 2), 2.0, 6.0, [[1.0, 0.0]])
    """
    return _matern_state_space(kernel, lengthscale, variance, xp=xp,
                               n_components=n_components, dtype=dtype, device=device)


def _matern_state_space(kernel, lengthscale, variance, *, xp, n_components=1, dtype=None,
                        device=None):
    p = _ORDERS[kernel]  # checked by the public entries' constraints
    dtype = xp.float64 if dtype is None else dtype
    l, s2 = float(lengthscale), float(variance)
    if p == 1:
        F1, P1 = [[-1.0 / l]], [[s2]]
    else:
        lam = math.sqrt(3.0) / l
        F1, P1 = [[0.0, 1.0], [-lam * lam, -2.0 * lam]], [[s2, 0.0], [0.0, lam * lam * s2]]
    F = _kron_eye(xp.asarray(F1, dtype=dtype, device=device), n_components, xp)
    P_inf = _kron_eye(xp.asarray(P1, dtype=dtype, device=device), n_components, xp)
    H = xp.eye(n_components, p * n_components, dtype=dtype, device=device)
    return F, P_inf, H


@validate_params(
    {"deltas": ["array-like"], **_KERNEL_PARAMS},
    prefer_skip_nested_validation=True,
)
def matern_transition(deltas, kernel, lengthscale, variance, *, n_components=1):
    """Closed-form transition ``A = expm(F Delta)`` and process noise ``Q`` for each gap.

    ``Q = P_inf - A P_inf A^T`` is evaluated in a form without cancellation
    at small gaps (through ``expm1``), so that ``Q`` stays positive definite.

    Parameters
    ----------
    deltas : array of shape (n,)
        Non-negative gaps ``Delta`` between consecutive inputs.
    kernel : {"matern12", "matern32"}
        The Matérn kernel.
    lengthscale : float
        Lengthscale ``l``.
    variance : float
        Marginal variance ``s2``.
    n_components : int, default=1
        Number of independent GPs stacked in one state.

    Returns
    -------
    A : array of shape (n, d, d)
        Transition matrices.
    Q : array of shape (n, d, d)
        Process-noise covariances (zero for ``Delta = 0``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.tensor import matern_transition
    >>> A, Q = matern_transition(np.array([0.0, 1.0]), "matern12", 1.0, 1.0)
    >>> float(A[1, 0, 0]) == float(np.exp(-1.0)), float(Q[0, 0, 0])
    (True, 0.0)
    """
    xp, device = _namespace(deltas)
    deltas = check_array_arg(deltas, "deltas", ndim=1, allow_empty=True, non_negative=True,
                             dtype=(xp.float64, xp.float32), xp=xp, device=device)
    return _matern_transition(deltas, kernel, lengthscale, variance,
                              n_components=n_components)


def _matern_transition(deltas, kernel, lengthscale, variance, *, n_components=1):
    xp, _ = namespace_and_device(deltas)
    A1, Q1 = _matern_transition_one(deltas, kernel, lengthscale, variance)
    return _kron_eye(A1, n_components, xp), _kron_eye(Q1, n_components, xp)


def _matern_transition_one(deltas, kernel, lengthscale, variance):
    """:func:`matern_transition` of one component (``kron(., I_r)`` gives the stacked state)."""
    p = _ORDERS[kernel]  # checked by the public entries' constraints
    xp, _ = namespace_and_device(deltas)
    s2 = float(variance)
    if p == 1:
        x = deltas / float(lengthscale)
        A1 = xp.exp(-x)[:, None, None]
        Q1 = (-s2 * xp.expm1(-2.0 * x))[:, None, None]
    else:
        lam = math.sqrt(3.0) / float(lengthscale)
        x = lam * deltas
        e = xp.exp(-x)
        A1 = xp.stack([
            xp.stack([e * (1.0 + x), e * deltas], axis=-1),
            xp.stack([-lam * lam * e * deltas, e * (1.0 - x)], axis=-1),
        ], axis=-2)
        x2 = 2.0 * x
        e2 = xp.exp(-x2)
        # 1 - e^{-x}(1 + x + x^2/2) = e^{-x} sum_{k>=3} x^k / k!: the series below x = 0.01,
        # where the direct form loses eps / x^2 relative accuracy.
        series = (x2 * x2 * x2 / 6.0) * e2 * (1.0 + x2 / 4.0 * (1.0 + x2 / 5.0 * (
            1.0 + x2 / 6.0 * (1.0 + x2 / 7.0 * (1.0 + x2 / 8.0)))))
        direct = -xp.expm1(-x2) - e2 * (x2 + 0.5 * x2 * x2)
        q11 = s2 * xp.where(x2 < 0.01, series, direct)
        q12 = 2.0 * s2 * lam * lam * lam * deltas * deltas * e2
        q22 = lam * lam * s2 * (-xp.expm1(-x2) + e2 * (x2 - 0.5 * x2 * x2))
        Q1 = xp.stack([xp.stack([q11, q12], axis=-1), xp.stack([q12, q22], axis=-1)], axis=-2)
    return A1, Q1


def _sym(P, xp):
    return 0.5 * (P + xp.matrix_transpose(P))


@validate_params(
    {"A": ["array-like"], "Q": ["array-like"], "H": ["array-like"],
     "obs_precision": ["array-like"], "obs_info": ["array-like"], "P0": ["array-like"],
     "m0": ["array-like", None]},
    prefer_skip_nested_validation=True,
)
def kalman_filter(A, Q, H, obs_precision, obs_info, P0, m0=None):
    """Kalman filter with Gaussian messages in information form on ``u = H z``.

    Step ``s`` predicts ``m- = A_s m``, ``P- = A_s P A_s^T + Q_s`` (``P0``
    and ``m0`` before the first step, whose ``A_0``, ``Q_0`` are ignored),
    then multiplies by the message ``N(u; Lam_s^{-1} eta_s, Lam_s^{-1})``:
    ``P = P- - P- H^T (I + Lam_s H P- H^T)^{-1} Lam_s H P-`` and
    ``m = m- + P- H^T (I + Lam_s H P- H^T)^{-1} (eta_s - Lam_s H m-)``, the
    usual update with noise covariance ``Lam_s^{-1}`` written so that a
    singular ``Lam_s`` is allowed. The recursion is evaluated in blocks of
    about ``sqrt(S)`` steps, batched over the blocks, with an associative scan
    across them (Särkkä and García-Fernández, 2021): the same moments to
    rounding, in ``O(sqrt(S))`` batched array operations instead of ``S``
    steps.

    Parameters
    ----------
    A, Q : arrays of shape (S, d, d)
        Transitions into each step and their process noise.
    H : array of shape (r, d)
        Emission matrix.
    obs_precision : array of shape (S, r, r)
        Message precisions ``Lam_s`` (symmetric positive semi-definite).
    obs_info : array of shape (S, r)
        Message information vectors ``eta_s``.
    P0 : array of shape (d, d)
        Prior covariance of the first state (``P_inf`` for a stationary GP).
    m0 : array of shape (d,), default=None
        Prior mean of the first state (zero when None).

    Returns
    -------
    means : array of shape (S, d)
        Filtered means.
    covs : array of shape (S, d, d)
        Filtered covariances.
    pred_means : array of shape (S, d)
        Predicted (one-step-ahead) means.
    pred_covs : array of shape (S, d, d)
        Predicted covariances.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.tensor import kalman_filter, matern_state_space, matern_transition
    >>> F, P_inf, H = matern_state_space("matern12", 1.0, 1.0, xp=np)
    >>> A, Q = matern_transition(np.array([0.0]), "matern12", 1.0, 1.0)
    >>> m, P, _, _ = kalman_filter(A, Q, H, np.array([[[1.0]]]), np.array([[2.0]]), P_inf)
    >>> float(m[0, 0]), float(P[0, 0, 0])
    (1.0, 0.5)
    """
    xp, device = _namespace(A, Q, H, obs_precision, obs_info, P0, m0)
    arg = dict(dtype=(xp.float64, xp.float32), xp=xp, device=device)
    A = check_array_arg(A, "A", ndim=3, **arg)
    S, d = int(A.shape[0]), int(A.shape[1])
    _check_shape(A, "A", (S, d, d))
    Q = check_array_arg(Q, "Q", ndim=3, **arg)
    _check_shape(Q, "Q", (S, d, d), "A")
    H = check_array_arg(H, "H", ndim=2, **arg)
    _check_shape(H, "H", (None, d), "A")
    r = int(H.shape[0])
    obs_precision = check_array_arg(obs_precision, "obs_precision", ndim=3, **arg)
    _check_shape(obs_precision, "obs_precision", (S, r, r), "A and H")
    obs_info = check_array_arg(obs_info, "obs_info", ndim=2, **arg)
    _check_shape(obs_info, "obs_info", (S, r), "A and H")
    P0 = check_array_arg(P0, "P0", ndim=2, **arg)
    _check_shape(P0, "P0", (d, d), "A")
    if m0 is not None:
        m0 = check_array_arg(m0, "m0", ndim=1, **arg)
        _check_shape(m0, "m0", (d,), "A")
    # Indefinite covariances or precisions make I + Lam H P- H^T singular.
    _check_covariance(Q[1:, ...], "Q", xp)
    _check_covariance(obs_precision, "obs_precision", xp)
    _check_covariance(P0, "P0", xp)
    return scan_kalman_filter(A, Q, H, obs_precision, obs_info, P0, m0)


@validate_params(
    {"A": ["array-like"], "means": ["array-like"], "covs": ["array-like"],
     "pred_means": ["array-like"], "pred_covs": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def rts_smoother(A, means, covs, pred_means, pred_covs):
    """Rauch-Tung-Striebel smoother over the output of :func:`kalman_filter`.

    ``G_s = P_s A_{s+1}^T (P-_{s+1})^{-1}``,
    ``m^S_s = m_s + G_s (m^S_{s+1} - m-_{s+1})`` and
    ``P^S_s = P_s + G_s (P^S_{s+1} - P-_{s+1}) G_s^T``, evaluated in blocks
    as :func:`kalman_filter` is.

    Parameters
    ----------
    A : array of shape (S, d, d)
        Transitions (as given to the filter).
    means, covs, pred_means, pred_covs : arrays
        The filter's output.

    Returns
    -------
    means : array of shape (S, d)
        Smoothed means ``E[z_s | all messages]``.
    covs : array of shape (S, d, d)
        Smoothed covariances.
    cross_covs : array of shape (S - 1, d, d)
        ``Cov(z_s, z_{s+1} | all messages) = G_s P^S_{s+1}``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.tensor import (kalman_filter, matern_state_space,
    ...                          matern_transition, rts_smoother)
    >>> F, P_inf, H = matern_state_space("matern12", 1.0, 1.0, xp=np)
    >>> A, Q = matern_transition(np.array([0.0, 1.0]), "matern12", 1.0, 1.0)
    >>> Lam, eta = np.array([[[1.0]], [[0.0]]]), np.array([[2.0], [0.0]])
    >>> m, P, C = rts_smoother(A, *kalman_filter(A, Q, H, Lam, eta, P_inf))
    >>> bool(np.isclose(m[1, 0], np.exp(-1.0) * m[0, 0]))
    True
    """
    xp, device = _namespace(A, means, covs, pred_means, pred_covs)
    arg = dict(dtype=(xp.float64, xp.float32), xp=xp, device=device)
    A = check_array_arg(A, "A", ndim=3, **arg)
    S, d = int(A.shape[0]), int(A.shape[1])
    _check_shape(A, "A", (S, d, d))
    means = check_array_arg(means, "means", ndim=2, **arg)
    _check_shape(means, "means", (S, d), "A")
    covs = check_array_arg(covs, "covs", ndim=3, **arg)
    _check_shape(covs, "covs", (S, d, d), "A")
    pred_means = check_array_arg(pred_means, "pred_means", ndim=2, **arg)
    _check_shape(pred_means, "pred_means", (S, d), "A")
    pred_covs = check_array_arg(pred_covs, "pred_covs", ndim=3, **arg)
    _check_shape(pred_covs, "pred_covs", (S, d, d), "A")
    _check_covariance(covs, "covs", xp)
    # Each predicted covariance after the first is solved against.
    _check_covariance(pred_covs[1:, ...], "pred_covs", xp, strict=True)
    return scan_rts_smoother(A, means, covs, pred_means, pred_covs)


@validate_params(
    {"t_new": ["array-like"], "t": ["array-like"], "means": ["array-like"],
     "covs": ["array-like"], "cross_covs": ["array-like"], **_KERNEL_PARAMS},
    prefer_skip_nested_validation=True,
)
def state_space_predict(t_new, t, means, covs, cross_covs, kernel, lengthscale, variance, *,
                        n_components=1):
    """Posterior state at new inputs from the smoothed states at the sorted inputs ``t``.

    Exact under the Markov prior. Between neighbours ``t_s <= t* < t_{s+1}``
    the bridge ``p(z* | z_s, z_{s+1}) = N(B_1 z_s + B_2 z_{s+1}, Om)`` with
    ``B_2 = Q_1 A_2^T Q_{12}^{-1}``, ``B_1 = A_1 - B_2 A_2 A_1``,
    ``Om = Q_1 - B_2 A_2 Q_1`` (``A_1, Q_1`` over ``t* - t_s``, ``A_2`` over
    ``t_{s+1} - t*``, ``Q_{12} = Q(t_{s+1} - t_s)``) is averaged over the
    smoothed joint of ``(z_s, z_{s+1})``; only ``Q_{12}`` is inverted, so an
    input equal to ``t_s`` returns that state exactly. After the last input
    the state is propagated forwards; before the first one, backwards with
    the stationary prior: ``B = P_inf A^T P_inf^{-1}``,
    ``Om = P_inf - B A P_inf``.

    Parameters
    ----------
    t_new : array of shape (n,)
        New inputs, any order.
    t : array of shape (S,)
        Sorted distinct training inputs.
    means, covs, cross_covs : arrays
        Output of :func:`rts_smoother`.
    kernel, lengthscale, variance : as in :func:`matern_transition`
        The prior the states were smoothed under.
    n_components : int, default=1
        Number of GPs in the state.

    Returns
    -------
    means : array of shape (n, d)
        Posterior state means at ``t_new``.
    covs : array of shape (n, d, d)
        Posterior state covariances.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.tensor import (kalman_filter, matern_state_space, matern_transition,
    ...                          rts_smoother, state_space_predict)
    >>> t = np.array([0.0, 1.0])
    >>> F, P_inf, H = matern_state_space("matern12", 1.0, 1.0, xp=np)
    >>> A, Q = matern_transition(np.diff(t, prepend=t[:1]), "matern12", 1.0, 1.0)
    >>> Lam, eta = np.ones((2, 1, 1)) * 100.0, np.array([[100.0], [100.0]])
    >>> m, P, C = rts_smoother(A, *kalman_filter(A, Q, H, Lam, eta, P_inf))
    >>> mean, cov = state_space_predict(np.array([0.5, 1.0]), t, m, P, C, "matern12", 1.0, 1.0)
    >>> bool(0.5 < mean[0, 0] < m[0, 0]), bool(np.isclose(mean[1, 0], m[1, 0]))
    (True, True)
    """
    xp, device = _namespace(t_new, t, means, covs, cross_covs)
    arg = dict(dtype=(xp.float64, xp.float32), xp=xp, device=device)
    t_new = check_array_arg(t_new, "t_new", ndim=1, allow_empty=True, **arg)
    t = check_array_arg(t, "t", ndim=1, **arg)
    S = int(t.shape[0])
    if S > 1 and not bool(xp.all(t[1:] > t[:-1])):
        raise ValueError("t must be sorted and distinct (strictly increasing).")
    d = n_components * _ORDERS[kernel]
    means = check_array_arg(means, "means", ndim=2, **arg)
    _check_shape(means, "means", (S, d), "t, kernel and n_components")
    covs = check_array_arg(covs, "covs", ndim=3, **arg)
    _check_shape(covs, "covs", (S, d, d), "t")
    cross_covs = check_array_arg(cross_covs, "cross_covs", ndim=3, allow_empty=S == 1, **arg)
    _check_shape(cross_covs, "cross_covs", (S - 1, d, d), "t")
    _check_covariance(covs, "covs", xp)
    return _state_space_predict(t_new, t, means, covs, cross_covs, kernel, lengthscale,
                                variance, n_components=n_components)


def _state_space_predict(t_new, t, means, covs, cross_covs, kernel, lengthscale, variance, *,
                         n_components=1):
    xp, _ = namespace_and_device(t_new, t, means)
    S = covs.shape[0]
    _, P_inf, _ = _matern_state_space(kernel, lengthscale, variance, n_components=n_components,
                                     xp=xp, dtype=covs.dtype, device=covs.device)
    pos = xp.searchsorted(t, t_new, side="right") - 1  # t[pos] <= t_new < t[pos + 1]
    left = pos < 0
    right = pos >= S - 1
    lo = xp.clip(pos, 0, S - 1)
    hi = xp.clip(pos + 1, 0, S - 1)
    t_lo, t_hi = xp.take(t, lo), xp.take(t, hi)
    m_lo, m_hi = xp.take(means, lo, axis=0), xp.take(means, hi, axis=0)
    P_lo, P_hi = xp.take(covs, lo, axis=0), xp.take(covs, hi, axis=0)
    zero = xp.zeros_like(t_new)
    kw = dict(kernel=kernel, lengthscale=lengthscale, variance=variance,
              n_components=n_components)
    tr = xp.matrix_transpose

    # Forwards from the left neighbour (the answer after the last input).
    A1, Q1 = _matern_transition(xp.where(left, zero, t_new - t_lo), **kw)
    mean = (A1 @ m_lo[..., None])[..., 0]
    cov = A1 @ P_lo @ tr(A1) + Q1

    # Backwards from the first input with the stationary prior.
    Ab, _ = _matern_transition(xp.where(left, t_lo - t_new, zero), **kw)
    B = P_inf @ tr(Ab) @ xp.linalg.inv(P_inf)
    mean_left = (B @ m_lo[..., None])[..., 0]
    cov_left = (P_inf - B @ Ab @ P_inf) + B @ P_lo @ tr(B)

    if S > 1:
        inside = xp.logical_not(xp.logical_or(left, right))
        A2, _ = _matern_transition(xp.where(inside, t_hi - t_new, zero), **kw)
        _, Q12 = _matern_transition(xp.where(inside, t_hi - t_lo, t_hi - t_lo + 1.0), **kw)
        B2 = tr(xp.linalg.solve(Q12, A2 @ Q1))  # Q12 and Q1 symmetric
        B1 = A1 - B2 @ A2 @ A1
        Om = Q1 - B2 @ A2 @ Q1
        C = xp.take(cross_covs, xp.clip(pos, 0, S - 2), axis=0)
        mean_in = (B1 @ m_lo[..., None] + B2 @ m_hi[..., None])[..., 0]
        cov_in = (Om + B1 @ P_lo @ tr(B1) + B2 @ P_hi @ tr(B2)
                  + B1 @ C @ tr(B2) + B2 @ tr(C) @ tr(B1))
        mean = xp.where(inside[:, None], mean_in, mean)
        cov = xp.where(inside[:, None, None], cov_in, cov)
    mean = xp.where(left[:, None], mean_left, mean)
    cov = xp.where(left[:, None, None], cov_left, cov)
    return mean, _sym(cov, xp)
