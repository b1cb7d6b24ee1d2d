"""Kalman filter and RTS smoother in blocks: recursions batched over blocks, a scan across them.

The same posterior as the step-by-step recursions that
:func:`sklr.tensor.kalman_filter` and :func:`sklr.tensor.rts_smoother`
document. The ``S`` steps are cut into ``n_blocks`` blocks of ``B`` consecutive
steps (``B`` about ``sqrt(S)``, :func:`block_size`; the last block may be
shorter), and each pass is a loop over the ``B`` positions within a block whose
body is a few batched array operations over all blocks at once:

1. every block's *element* (Särkkä and García-Fernández, IEEE TAC 2021,
   Lemmas 7-10): what the block does to the state as a function of the state
   before it, by the step-by-step recursion run on each block from the
   identity element;
2. the prefix (filter) or suffix (smoother) combinations of the
   ``n_blocks`` block elements, by the associative scan of
   :func:`sklr.tensor._parallel_scan.associative_scan`: the exact state at
   each block's boundary;
3. the ordinary recursion within every block again, started from its
   boundary state, writing the outputs.

The cost is ``O(S d^3)`` with ``O(B + log S)`` steps in Python, and the
temporaries are ``O(n_blocks d^2)`` (they stay in cache): the only arrays of
length ``S`` are the inputs and the outputs. No step solves a ``d x d``
system in the filter (only ``r x r`` ones, ``r`` the rows of ``H``) and one
per step in the smoother (the RTS gain).

Filter element of steps ``i..j``: ``(A_e, b_e, C_e, eta_e, J_e)`` with
``p(z_j | z_{i-1}, messages_{i..j}) = N(A_e z_{i-1} + b_e, C_e)`` and
``p(messages_{i..j} | z_{i-1}) propto N_I(z_{i-1}; eta_e, J_e)``; a prefix from
step 0 has ``A_e = 0`` and ``(b_e, C_e)`` the filtered moments. A Kalman step
on it (transition ``F``, noise ``Q``, message ``(Lam, eta)`` on ``u = H z``):
predict ``A_e <- F A_e``, ``b_e <- F b_e``, ``C_e <- F C_e F^T + Q``; then with
``K = C_e H^T``, ``G = (I + Lam H C_e H^T)^{-1} Lam`` and
``v = (I + Lam H C_e H^T)^{-1} (eta - Lam H b_e)``:
``A_e <- A_e - K G H A_e``, ``b_e <- b_e + K v``, ``C_e <- C_e - K G K^T``,
``J_e <- J_e + (H A_e)^T G (H A_e)``, ``eta_e <- eta_e + (H A_e)^T v`` (``A_e``
the predicted one in the last two).

Smoother element of steps ``i..j``: ``(E, g, L)`` with
``p(z_i | z_{j+1}, all messages) = N(E z_{j+1} + g, L)``; step ``s`` alone is
``(G_s, m_s - G_s m-_{s+1}, P_s - G_s P-_{s+1} G_s^T)`` with the RTS gain
``G_s = P_s A_{s+1}^T (P-_{s+1})^{-1}``, and the last step ``(0, m_{S-1},
P_{S-1})``; a suffix to the last step has ``(g, L)`` the smoothed moments.
"""

import math

from ..utils._array_api import namespace_and_device
from ._parallel_scan import associative_scan

__all__ = [
    "block_size",
    "blocked_kalman_filter",
    "blocked_rts_smoother",
    "scan_kalman_filter",
    "scan_rts_smoother",
]


def _t(M, xp):
    return xp.matrix_transpose(M)


def _sym(M, xp):
    return 0.5 * (M + xp.matrix_transpose(M))


def _mv(M, v):
    """Batched matrix-vector product."""
    return (M @ v[..., None])[..., 0]


def block_size(n_steps):
    """Steps per block for a sequence of ``n_steps``: ``ceil(sqrt(n_steps))``.

    The passes loop over the positions within a block, each an operation on
    ``ceil(n_steps / B)`` blocks: ``B = sqrt(S)`` balances the Python steps
    against the size of the batched operations.
    """
    return max(1, math.isqrt(max(n_steps - 1, 0)) + 1)


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


def _combine_smoother(earlier, later):
    """Lemma 10: ``(E, g, L)`` of steps ``i..j`` from those of ``i..k`` and ``k+1..j``."""
    E_i, g_i, L_i = earlier
    E_j, g_j, L_j = later
    xp, _ = namespace_and_device(E_i)
    return E_i @ E_j, _mv(E_i, g_j) + g_i, _sym(E_i @ L_j @ _t(E_i, xp), xp) + L_i


def _solve_small(M, R, xp):
    """``M^{-1} R`` for batches of small systems, shapes (n, k, k) and (n, k, m).

    Gaussian elimination with partial pivoting (as LAPACK's ``getrf``/``getrs``),
    vectorised over the batch with a loop over the ``k`` rows in Python: for the
    ``r x r`` systems of the filter's updates, where a LAPACK call per matrix
    costs more than its arithmetic.
    """
    k = int(M.shape[-1])
    U = xp.concat([M, R], axis=-1)
    rows = [U[..., i, :] for i in range(k)]
    for j in range(k - 1):
        # The row with the largest |entry| in column j becomes the pivot row.
        pivot = xp.argmax(xp.stack([xp.abs(row[..., j]) for row in rows[j:]], axis=-1), axis=-1)
        for i in range(j + 1, k):
            swap = (pivot == i - j)[..., None]
            rows[j], rows[i] = xp.where(swap, rows[i], rows[j]), xp.where(swap, rows[j], rows[i])
        for i in range(j + 1, k):
            rows[i] = rows[i] - (rows[i][..., j:j + 1] / rows[j][..., j:j + 1]) * rows[j]
    x = [None] * k
    for j in range(k - 1, -1, -1):
        b = rows[j][..., k:]
        for i in range(j + 1, k):
            b = b - rows[j][..., i:i + 1] * x[i]
        x[j] = b / rows[j][..., j:j + 1]
    return xp.stack(x, axis=-2)


def _active(S, B, t):
    """Number of blocks (the first ones) that have a step at position ``t``."""
    return (S - t + B - 1) // B


def _predict(F, Q, mean, cov, xp):
    return _mv(F, mean), _sym(F @ cov @ _t(F, xp), xp) + Q


def _update(mean, cov, H, obs_precision, obs_info, xp):
    """Condition ``N(mean, cov)`` on the messages; also ``K^T = H cov``, ``G`` and ``v``."""
    r = H.shape[0]
    KT = H @ cov
    W = KT @ H.T
    eye_r = xp.eye(r, dtype=cov.dtype, device=cov.device)
    innovation = obs_info - _mv(obs_precision, _mv(H, mean))
    Z = _solve_small(eye_r + obs_precision @ W,
                     xp.concat([obs_precision, innovation[..., None]], axis=-1), xp)
    G, v = _sym(Z[..., :r], xp), Z[..., r]
    K = _t(KT, xp)
    return mean + _mv(K, v), _sym(cov - K @ (G @ KT), xp), K, G, v


def _filter_block_elements(transitions, H, obs_precision, obs_info, P0, m0, B, xp):
    """Pass 1 of the filter: the element of every block (the first one conditioned on the prior)."""
    S, d = int(obs_info.shape[0]), int(P0.shape[0])
    n_blocks = _active(S, B, 0)
    dtype, device = P0.dtype, P0.device
    # The identity element predicted through the first step of each block; the
    # first block's first step starts from the prior instead.
    A, Q = transitions(slice(B, S, B))
    T = xp.concat([xp.zeros((1, d, d), dtype=dtype, device=device), A], axis=0)
    b = xp.zeros((n_blocks, d), dtype=dtype, device=device)
    if m0 is not None:
        b = xp.concat([m0[None, ...], b[1:, ...]], axis=0)
    C = xp.concat([P0[None, ...], Q], axis=0)
    eta = xp.zeros((n_blocks, d), dtype=dtype, device=device)
    J = xp.zeros((n_blocks, d, d), dtype=dtype, device=device)
    finished = None
    for t in range(min(B, S)):
        n = _active(S, B, t)
        if n < T.shape[0]:  # the last, shorter block is complete
            finished = tuple(e[n:, ...] for e in (T, b, C, eta, J))
            T, b, C, eta, J = (e[:n, ...] for e in (T, b, C, eta, J))
        if t > 0:
            F, Q = transitions(slice(t, S, B))
            T = F @ T
            b, C = _predict(F, Q, b, C, xp)
        b, C, K, G, v = _update(b, C, H, obs_precision[t::B, ...], obs_info[t::B, ...], xp)
        HT = H @ T
        HTt = _t(HT, xp)
        T = T - K @ (G @ HT)
        J = J + _sym(HTt @ G @ HT, xp)
        eta = eta + _mv(HTt, v)
    elements = (T, b, C, eta, J)
    if finished is not None:
        elements = tuple(xp.concat([e, f], axis=0) for e, f in zip(elements, finished))
    return elements


def scan_kalman_filter(A, Q, H, obs_precision, obs_info, P0, m0=None, *, block=None):
    """What :func:`sklr.tensor.kalman_filter` returns, in blocks.

    Arguments as there, already validated; ``block`` is the number of steps
    per block (:func:`block_size` when None). Returns ``(means, covs,
    pred_means, pred_covs)``.
    """
    return blocked_kalman_filter(_stored(A, Q), H, obs_precision, obs_info, P0, m0,
                                 block=block)


def _stored(A, Q=None):
    """The ``transitions`` argument of the blocked functions for stored arrays."""
    return lambda steps: (A[steps, ...], None if Q is None else Q[steps, ...])


def blocked_kalman_filter(transitions, H, obs_precision, obs_info, P0, m0=None, *, block=None,
                          out=None):
    """:func:`scan_kalman_filter` with the transitions given step by step.

    ``transitions(steps)`` returns ``(A[steps], Q[steps])`` for a ``slice`` of
    steps (so that they need not be stored), and ``out`` optional arrays of the
    shapes and dtype of the results, written into and returned (so that
    repeated calls reuse their memory).
    """
    xp, _ = namespace_and_device(P0, obs_info)
    S, d = int(obs_info.shape[0]), int(P0.shape[0])
    dtype, device = P0.dtype, P0.device
    B = block_size(S) if block is None else int(block)
    if out is None:
        out = tuple(xp.empty(shape, dtype=dtype, device=device)
                    for shape in ((S, d), (S, d, d), (S, d), (S, d, d)))
    means, covs, pred_means, pred_covs = out
    elements = _filter_block_elements(transitions, H, obs_precision, obs_info, P0, m0, B, xp)
    _, block_means, block_covs, _, _ = associative_scan(_combine_filter, elements)
    # The state predicted into the first step of each block: the prior for the
    # first block, from the filtered state at the end of the block before after.
    mean, cov = _predict(*transitions(slice(B, S, B)), block_means[:-1, ...],
                         block_covs[:-1, ...], xp)
    prior_mean = (xp.zeros((1, d), dtype=dtype, device=device) if m0 is None
                  else m0[None, ...])
    mean = xp.concat([prior_mean, mean], axis=0)
    cov = xp.concat([P0[None, ...], cov], axis=0)
    for t in range(min(B, S)):
        n = _active(S, B, t)
        if t > 0:
            mean, cov = _predict(*transitions(slice(t, S, B)), mean[:n, ...], cov[:n, ...], xp)
        pred_means[t::B, ...] = mean
        pred_covs[t::B, ...] = cov
        mean, cov, _, _, _ = _update(mean, cov, H, obs_precision[t::B, ...],
                                     obs_info[t::B, ...], xp)
        means[t::B, ...] = mean
        covs[t::B, ...] = cov
    return means, covs, pred_means, pred_covs


def _smoother_step_elements(transitions, means, covs, pred_means, pred_covs, B, t, xp):
    """``(E, g, L)`` of the steps at position ``t`` of every block; ``E`` for those before the last step."""
    S = int(means.shape[0])
    s, s1 = slice(t, S, B), slice(t + 1, S, B)
    P, m = covs[s, ...], means[s, ...]
    AP = transitions(s1)[0] @ P[:_active(S, B, t + 1), ...]
    # G_s^T = (P-_{s+1})^{-1} A_{s+1} P_s, P- symmetric positive definite.
    gains = _t(xp.linalg.solve(pred_covs[s1, ...], AP), xp)
    n = int(gains.shape[0])
    g = m[:n, ...] - _mv(gains, pred_means[s1, ...])
    L = _sym(P[:n, ...] - gains @ AP, xp)
    if n < int(m.shape[0]):  # the last step: (0, m_{S-1}, P_{S-1})
        g = xp.concat([g, m[n:, ...]], axis=0)
        L = xp.concat([L, P[n:, ...]], axis=0)
    return gains, g, L


def blocked_rts_smoother(transitions, means, covs, pred_means, pred_covs, *, block=None):
    """:func:`scan_rts_smoother` with the transitions as in :func:`blocked_kalman_filter`, in place.

    Writes over its inputs: ``means`` and ``covs`` become the smoothed moments
    and ``pred_covs[1:]`` the cross-covariances (``pred_means`` is left as it
    was); returns ``(means, covs, pred_covs[1:])``.
    """
    xp, _ = namespace_and_device(means, covs)
    S = int(means.shape[0])
    B = block_size(S) if block is None else int(block)
    positions = range(min(B, S) - 1, -1, -1)
    # Pass 1: each step's element is stored over the inputs it replaces (the
    # gain over P-_{s+1}, read only at step s), and the blocks' elements kept.
    elements = None
    for t in positions:
        E, g, L = _smoother_step_elements(transitions, means, covs, pred_means, pred_covs, B,
                                          t, xp)
        means[t::B, ...] = g
        covs[t::B, ...] = L
        pred_covs[t + 1::B, ...] = E
        elements = _append_joined((E, g, L), elements, _combine_smoother)
    _, block_means, block_covs = associative_scan(_combine_smoother, elements, reverse=True)
    # Pass 3, from the smoothed state at the start of the next block.
    state = (block_means[1:, ...], block_covs[1:, ...])
    for t in positions:
        n_gains = _active(S, B, t + 1)
        E = pred_covs[t + 1::B, ...]
        g, L = means[t::B, ...], covs[t::B, ...]
        m_next, P_next = state[0][:n_gains, ...], state[1][:n_gains, ...]
        cross = E @ P_next
        m = _mv(E, m_next) + g[:n_gains, ...]
        P = _sym(cross @ _t(E, xp), xp) + L[:n_gains, ...]
        if n_gains < int(g.shape[0]):  # the last step: its own (g, L)
            m = xp.concat([m, g[n_gains:, ...]], axis=0)
            P = xp.concat([P, L[n_gains:, ...]], axis=0)
        pred_covs[t + 1::B, ...] = cross
        means[t::B, ...] = m
        covs[t::B, ...] = P
        state = (m, P)
    return means, covs, pred_covs[1:, ...]


def _append_joined(step, suffix, combine):
    """Each block's suffix element extended by its step before; blocks new to the pass start.

    ``step`` is ``_smoother_step_elements``'s output, whose ``E`` lacks the
    zero row of the last step when that step is among them.
    """
    xp, _ = namespace_and_device(step[1])
    E, g, L = step
    if int(E.shape[0]) < int(g.shape[0]):
        E = xp.concat([E, xp.zeros((1, *E.shape[1:]), dtype=E.dtype, device=E.device)], axis=0)
    if suffix is None:
        return E, g, L
    n = int(suffix[0].shape[0])
    joined = combine((E[:n, ...], g[:n, ...], L[:n, ...]), suffix)
    if n == int(g.shape[0]):
        return joined
    # The last block joins at its last step.
    return tuple(xp.concat([j, e[n:, ...]], axis=0) for j, e in zip(joined, (E, g, L)))


def scan_rts_smoother(A, means, covs, pred_means, pred_covs, *, block=None):
    """What :func:`sklr.tensor.rts_smoother` returns, in blocks.

    Arguments as there, already validated (and not modified); returns
    ``(means, covs, cross_covs)``.
    """
    xp, _ = namespace_and_device(A, means)
    copies = [xp.asarray(a, copy=True) for a in (means, covs, pred_covs)]
    return blocked_rts_smoother(_stored(A), copies[0], copies[1], pred_means, copies[2],
                                block=block)
