"""Kalman filter and RTS smoother as associative scans (Särkkä and García-Fernández, 2021).

The same posterior as the step-by-step recursions that
:func:`sklr.tensor.kalman_filter` and :func:`sklr.tensor.rts_smoother`
document, computed in ``O(log S)`` batched array operations over all ``S``
steps at once (:func:`sklr.tensor._parallel_scan.associative_scan`), so that
the cost is linear in ``S`` with no Python-level step per input.

Filter (their Lemmas 7 and 8): step ``s`` is the element
``(A_e, b_e, C_e, eta_e, J_e)`` with
``p(z_s | z_{s-1}, message_s) = N(A_e z_{s-1} + b_e, C_e)`` and
``p(message_s | z_{s-1}) propto N_I(z_{s-1}; eta_e, J_e)``; the prefix of
elements ``0..s`` has ``A_e = 0`` and ``(b_e, C_e)`` the filtered moments.
Messages are in information form on ``u = H z``, so with ``W = H Q H^T``
and ``G = (I + Lam W)^{-1} Lam``, ``g = (I + Lam W)^{-1} eta`` (no inverse
of a possibly singular ``Lam``):
``A_e = (I - Q H^T G H) A``, ``b_e = Q H^T g``, ``C_e = Q - Q H^T G H Q``,
``J_e = A^T H^T G H A``, ``eta_e = A^T H^T g``; the first step has
``A = 0``, ``Q = P_0`` and prior mean ``m_0``.

Smoother (their Lemmas 9 and 10): step ``s`` is
``(E_s, g_s, L_s) = (G_s, m_s - G_s m-_{s+1}, P_s - G_s P-_{s+1} G_s^T)``
with the RTS gain ``G_s = P_s A_{s+1}^T (P-_{s+1})^{-1}``, and the last step
``(0, m_{S-1}, P_{S-1})``; the suffix of elements ``s..S-1`` has
``(g, L)`` the smoothed moments.
"""

from ..utils._array_api import namespace_and_device
from ._parallel_scan import associative_scan

__all__ = ["scan_kalman_filter", "scan_rts_smoother"]


def _t(M, xp):
    return xp.matrix_transpose(M)


def _sym(M, xp):
    return 0.5 * (M + xp.matrix_transpose(M))


def _mv(M, v):
    """Batched matrix-vector product."""
    return (M @ v[..., None])[..., 0]


def _filter_elements(A, Q, H, obs_precision, obs_info, P0, m0, xp):
    """The filter's element of each step (the first conditioned on the prior)."""
    d = A.shape[1]
    r = H.shape[0]
    dtype, device = A.dtype, A.device
    A = xp.concat([xp.zeros((1, d, d), dtype=dtype, device=device), A[1:, ...]], axis=0)
    Q = xp.concat([P0[None, ...], Q[1:, ...]], axis=0)
    HQ = H @ Q  # (S, r, d)
    HA = H @ A
    W = HQ @ H.T
    eye_r = xp.eye(r, dtype=dtype, device=device)
    rhs = xp.concat([obs_precision, obs_info[..., None]], axis=-1)
    Z = xp.linalg.solve(eye_r + obs_precision @ W, rhs)
    G, g = _sym(Z[..., :r], xp), Z[..., r]
    # The prior mean of z_s given z_{s-1} = 0: m0 for the first step, zero after.
    if m0 is not None:
        g0 = g[:1, ...] - _mv(G[:1, ...], _mv(H, m0)[None, ...])
        g = xp.concat([g0, g[1:, ...]], axis=0)
    GHQ = G @ HQ
    QHt = _t(HQ, xp)
    A_e = A - QHt @ (G @ HA)
    b_e = _mv(QHt, g)
    if m0 is not None:
        b_e = xp.concat([b_e[:1, ...] + m0[None, ...], b_e[1:, ...]], axis=0)
    C_e = _sym(Q - QHt @ GHQ, xp)
    HAt = _t(HA, xp)
    J_e = _sym(HAt @ G @ HA, xp)
    eta_e = _mv(HAt, g)
    return A_e, b_e, C_e, eta_e, J_e


def _combine_filter(earlier, later):
    """Lemma 8: the element of steps ``i..j`` from those of ``i..k`` and ``k+1..j``."""
    A_i, b_i, C_i, eta_i, J_i = earlier
    A_j, b_j, C_j, eta_j, J_j = later
    xp, _ = namespace_and_device(A_i)
    d = A_i.shape[-1]
    eye = xp.eye(d, dtype=A_i.dtype, device=A_i.device)
    # (I + C_i J_j)^{-1} applied to A_i, C_i and b_i + C_i eta_j in one solve;
    # (I + J_j C_i)^{-1} is its transpose (C_i, J_j symmetric).
    rhs = xp.concat([A_i, C_i, (b_i + _mv(C_i, eta_j))[..., None]], axis=-1)
    X = xp.linalg.solve(eye + C_i @ J_j, rhs)
    X_A, X_C, x_b = X[..., :d], X[..., d:2 * d], X[..., 2 * d]
    A_new = A_j @ X_A
    b_new = _mv(A_j, x_b) + b_j
    C_new = _sym(A_j @ X_C @ _t(A_j, xp), xp) + C_j
    X_At = _t(X_A, xp)
    eta_new = _mv(X_At, eta_j - _mv(J_j, b_i)) + eta_i
    J_new = _sym(X_At @ J_j @ A_i, xp) + J_i
    return A_new, b_new, C_new, eta_new, J_new


def scan_kalman_filter(A, Q, H, obs_precision, obs_info, P0, m0=None):
    """What :func:`sklr.tensor.kalman_filter` returns, by a parallel scan.

    Arguments as there, already validated; returns ``(means, covs,
    pred_means, pred_covs)``.
    """
    xp, _ = namespace_and_device(A, P0)
    d = A.shape[1]
    elements = _filter_elements(A, Q, H, obs_precision, obs_info, P0, m0, xp)
    _, means, covs, _, _ = associative_scan(_combine_filter, elements)
    prior_mean = (xp.zeros((1, d), dtype=A.dtype, device=A.device) if m0 is None
                  else m0[None, ...])
    A_next = A[1:, ...]
    pred_means = xp.concat([prior_mean, _mv(A_next, means[:-1, ...])], axis=0)
    pred_covs = xp.concat(
        [P0[None, ...], _sym(A_next @ covs[:-1, ...] @ _t(A_next, xp), xp) + Q[1:, ...]],
        axis=0)
    return means, covs, pred_means, pred_covs


def _combine_smoother(earlier, later):
    """Lemma 10: ``(E, g, L)`` of steps ``i..j`` from those of ``i..k`` and ``k+1..j``."""
    E_i, g_i, L_i = earlier
    E_j, g_j, L_j = later
    xp, _ = namespace_and_device(E_i)
    return E_i @ E_j, _mv(E_i, g_j) + g_i, _sym(E_i @ L_j @ _t(E_i, xp), xp) + L_i


def scan_rts_smoother(A, means, covs, pred_means, pred_covs):
    """What :func:`sklr.tensor.rts_smoother` returns, by a parallel scan.

    Arguments as there, already validated; returns ``(means, covs,
    cross_covs)``.
    """
    xp, _ = namespace_and_device(A, means)
    d = A.shape[1]
    # G_s^T = (P-_{s+1})^{-1} A_{s+1} P_s, P- symmetric positive definite.
    AP = A[1:, ...] @ covs[:-1, ...]
    Gt = xp.linalg.solve(pred_covs[1:, ...], AP)
    gains = _t(Gt, xp)
    zero = xp.zeros((1, d, d), dtype=A.dtype, device=A.device)
    E = xp.concat([gains, zero], axis=0)
    g = xp.concat([means[:-1, ...] - _mv(gains, pred_means[1:, ...]), means[-1:, ...]],
                  axis=0)
    L = xp.concat([_sym(covs[:-1, ...] - gains @ AP, xp), covs[-1:, ...]], axis=0)
    _, smoothed_means, smoothed_covs = associative_scan(_combine_smoother, (E, g, L),
                                                        reverse=True)
    cross_covs = gains @ smoothed_covs[1:, ...]
    return smoothed_means, smoothed_covs, cross_covs
