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

Layout: the passes work on arrays in *position-major* order (:class:`_Layout`):
row ``t * n_blocks + b`` holds step ``b * B + t``, so that the steps at one
position of all blocks are consecutive rows (a contiguous slab read or written
per position, instead of ``n_blocks`` rows ``B`` rows apart: at ``S = 10^6``
the strided accesses cost as much as the arithmetic). :func:`blocked_kalman_filter`
and :func:`blocked_rts_smoother` take and return arrays in step order and
convert; :mod:`sklr.tensor._funbat_factors` keeps its modes' arrays in the
layout and calls :func:`layout_kalman_filter` and :func:`layout_rts_smoother`.
With ``H = [I_r, 0]`` (the Matérn models' observation) ``H P`` and ``H m``
are slices, not products.
"""

import functools
import math

from ..utils._array_api import namespace_and_device
from ._parallel_scan import associative_scan

__all__ = [
    "block_size",
    "blocked_kalman_filter",
    "blocked_rts_smoother",
    "layout_kalman_filter",
    "layout_rts_smoother",
    "scan_kalman_filter",
    "scan_rts_smoother",
]


def _t(M, xp):
    return xp.matrix_transpose(M)


def _sym(M, xp):
    return 0.5 * (M + xp.matrix_transpose(M))


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


def _combine_smoother(earlier, later, *, symmetrise=True):
    """Lemma 10: ``(E, g, L)`` of steps ``i..j`` from those of ``i..k`` and ``k+1..j``."""
    E_i, g_i, L_i = earlier
    E_j, g_j, L_j = later
    xp, _ = namespace_and_device(E_i)
    L = E_i @ L_j @ _t(E_i, xp)
    return E_i @ E_j, _mv(E_i, g_j) + g_i, (_sym(L, xp) if symmetrise else L) + L_i


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
        best = xp.argmax(xp.stack([xp.abs(row[..., j]) for row in rows[j:]], axis=-1), axis=-1)
        for i in range(j + 1, k):
            swap = (best == i - j)[..., None]
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


def _solve_spd(M, R, xp):
    """``M^{-1} R`` for batches of small symmetric positive definite ``M`` (the smoother's ``P-``).

    Gaussian elimination without pivoting (stable for positive definite
    matrices, Wilkinson) on the batch transposed to ``(k, k, n)``, so that
    every operation runs along the ``n`` systems in contiguous memory: about
    40 operations on vectors of length ``n`` for ``k = 4`` (NumPy's ``solve``
    makes a LAPACK call per matrix, and operations on ``(n, k, k)`` arrays
    loop over rows of ``k`` entries: both several times slower).
    """
    k = int(M.shape[-1])
    U = xp.permute_dims(xp.concat([M, R], axis=-1), (1, 2, 0))
    shape = tuple(U.shape)
    U = xp.reshape(xp.reshape(U, (-1,)), shape)  # a copy, C-contiguous along the batch
    for j in range(k - 1):
        factor = U[j + 1:, j:j + 1, :] / U[j:j + 1, j:j + 1, :]
        U[j + 1:, j + 1:, :] = U[j + 1:, j + 1:, :] - factor * U[j:j + 1, j + 1:, :]
    X = U[:, k:, :]
    for j in range(k - 1, -1, -1):
        X[j, :, :] = X[j, :, :] / U[j, j:j + 1, :]
        if j > 0:
            X[:j, :, :] = X[:j, :, :] - U[:j, j:j + 1, :] * X[j:j + 1, :, :]
    return xp.permute_dims(X, (2, 0, 1))


def _solve_update(M, R, xp):
    """``M^{-1} R`` for the filter's ``r x r`` systems ``M = I + Lam H P- H^T``.

    ``r = 1`` and ``r = 2`` in closed form (Cramer's rule, forward stable for
    ``2 x 2``; ``det M = det(I + Lam W) >= 1`` for ``Lam, W`` positive
    semi-definite), larger ``r`` by :func:`_solve_small`.
    """
    k = int(M.shape[-1])
    if k == 1:
        return R / M
    if k == 2:
        m00, m01, m10, m11 = M[..., 0, 0:1], M[..., 0, 1:2], M[..., 1, 0:1], M[..., 1, 1:2]
        r0, r1 = R[..., 0, :], R[..., 1, :]
        inv_det = 1.0 / (m00 * m11 - m01 * m10)
        return xp.stack([(m11 * r0 - m01 * r1) * inv_det, (m00 * r1 - m10 * r0) * inv_det],
                        axis=-2)
    return _solve_small(M, R, xp)


def _mv(M, v):
    """Batched matrix-vector product: a sum over the (short) inner axis, else ``@``.

    For the inner lengths of these models (up to 4) the sum of columns scaled
    by the vector's entries costs less than NumPy's batched ``matmul`` with a
    trailing axis of one.
    """
    k = int(M.shape[-1])
    if k > 4:
        return (M @ v[..., None])[..., 0]
    out = M[..., :, 0] * v[..., 0:1]
    for j in range(1, k):
        out = out + M[..., :, j] * v[..., j:j + 1]
    return out


# Blocks per tile of the layout's transposes.
_TILE = 64


class _Layout:
    """The position-major order of ``S`` steps cut into blocks of ``B`` (module docstring).

    Row ``t * n_blocks + b`` holds step ``b * B + t``; the rows of steps past
    ``S - 1`` (the missing tail of the last block) are padding, never read.
    """

    def __init__(self, n_steps, block):
        self.S, self.B = int(n_steps), int(block)
        self.n_blocks = max(1, -(-self.S // self.B))
        self.size = self.B * self.n_blocks

    def active(self, t):
        """Number of blocks (the first ones) with a step at position ``t``."""
        return _active(self.S, self.B, t)

    def rows(self, t):
        """The rows of position ``t``'s steps."""
        start = t * self.n_blocks
        return slice(start, start + self.active(t))

    def next_rows(self, t):
        """The rows of the steps after position ``t``'s (the first steps of the next blocks after the last position)."""
        if t + 1 < self.B:
            return self.rows(t + 1)
        return slice(1, self.n_blocks)

    def row_of_step(self, xp, device):
        """Int array (S,): the row of each step."""
        steps = xp.arange(self.S, device=device)
        return (steps % self.B) * self.n_blocks + steps // self.B

    def to_layout(self, x, xp):
        """``x`` of shape (S, ...) in step order as an array of shape (size, ...) in the layout.

        A transpose of ``(n_blocks, B, ...)`` to ``(B, n_blocks, ...)`` done
        :data:`_TILE` blocks at a time (a plain gather or transpose reads one row
        per memory page at ``S = 10^6``), the padding rows repeating the last step.
        """
        rest = tuple(x.shape[1:])
        if self.size > self.S:
            pad = xp.broadcast_to(x[-1:, ...], (self.size - self.S, *rest))
            x = xp.concat([x, pad], axis=0)
        x3 = xp.reshape(x, (self.n_blocks, self.B, *rest))
        axes = (1, 0, *range(2, 2 + len(rest)))
        tiles = [xp.permute_dims(x3[j:min(j + _TILE, self.n_blocks), ...], axes)
                 for j in range(0, self.n_blocks, _TILE)]
        return xp.reshape(xp.concat(tiles, axis=1), (self.size, *rest))

    def to_steps(self, x, xp, start=0):
        """Rows of steps ``start..S-1``, in step order, from an array in the layout (tiled as :meth:`to_layout`)."""
        rest = tuple(x.shape[1:])
        x3 = xp.reshape(x, (self.B, self.n_blocks, *rest))
        axes = (1, 0, *range(2, 2 + len(rest)))
        tiles = [xp.reshape(xp.permute_dims(x3[:, j:min(j + _TILE, self.n_blocks), ...], axes), (-1, *rest))
                 for j in range(0, self.n_blocks, _TILE)]
        return xp.concat(tiles, axis=0)[start:self.S, ...]


class _Observation:
    """``H`` of shape (r, d); ``H = [I_r, 0]`` (``first``) turns its products into slices."""

    def __init__(self, H, xp):
        r, d = int(H.shape[0]), int(H.shape[1])
        self.H, self.r = H, r
        self.first = bool(xp.all(H == xp.eye(r, d, dtype=H.dtype, device=H.device)))

    def of(self, x):
        """``H x`` for a batch of vectors (n, d)."""
        return x[..., :self.r] if self.first else _mv(self.H, x)

    def rows_of(self, X):
        """``H X`` for a batch of matrices (n, d, k)."""
        return X[..., :self.r, :] if self.first else self.H @ X

    def cols_of(self, X, xp):
        """``X H^T`` for a batch of matrices (n, k, d)."""
        return X[..., :self.r] if self.first else X @ _t(self.H, xp)


class _DenseTransitions:
    """Stored transitions ``A`` and process noises ``Q``, shape (size, d, d), in the layout."""

    def __init__(self, A, Q=None):
        self.A, self.Q = A, Q

    def matrices(self, rows):
        """``(A, Q)`` at ``rows``."""
        return self.A[rows, ...], self.Q[rows, ...]

    def left(self, rows, X):
        """``A X`` for a batch ``X`` (n, d, k) at ``rows``."""
        return self.A[rows, ...] @ X

    def predict(self, rows, mean, cov, xp):
        """``(A m, A P A^T + Q)`` at ``rows``."""
        F = self.A[rows, ...]
        return _mv(F, mean), _sym(F @ cov @ _t(F, xp), xp) + self.Q[rows, ...]


class _KronTransitions:
    """``kron(A1, I_r)`` and ``kron(Q1, I_r)`` from ``A1``, ``Q1`` of shape (size, p, p) in the layout.

    The stacked state of ``r`` independent components (``d = p r``, component
    ``c`` of order ``a`` at ``a r + c``): products with the transition act on
    the ``p`` axis of ``X`` reshaped to ``(n, p, r k)``, and the noise is added
    to the ``r`` diagonal ``p x p`` blocks, so that nothing of size ``S d^2``
    is stored for them.
    """

    def __init__(self, A1, Q1, r):
        self.A1, self.Q1, self.r = A1, Q1, int(r)

    def matrices(self, rows):
        return _kron_eye_batch(self.A1[rows, ...], self.r), _kron_eye_batch(self.Q1[rows, ...],
                                                                             self.r)

    def _left(self, F1, X, xp):
        n, d, k = (int(s) for s in X.shape)
        p = int(F1.shape[-1])
        return xp.reshape(F1 @ xp.reshape(X, (n, p, (d // p) * k)), (n, d, k))

    def left(self, rows, X, xp=None):
        if xp is None:
            xp, _ = namespace_and_device(X)
        return self._left(self.A1[rows, ...], X, xp)

    def predict(self, rows, mean, cov, xp):
        F1, Q1 = self.A1[rows, ...], self.Q1[rows, ...]
        n, d = int(cov.shape[0]), int(cov.shape[-1])
        p, r = int(F1.shape[-1]), self.r
        mean = xp.reshape(F1 @ xp.reshape(mean, (n, p, r)), (n, d))
        # F (F P)^T = F P F^T for symmetric P.
        Z = xp.reshape(self._left(F1, _t(self._left(F1, cov, xp), xp), xp), (n, p, r, p, r))
        for c in range(r):
            Z[:, :, c, :, c] = Z[:, :, c, :, c] + Q1
        # Not symmetrised: the update that follows symmetrises its result.
        return mean, xp.reshape(Z, (n, d, d))


def _kron_eye_batch(M, r):
    """``kron(M_s, I_r)`` for a batch ``M`` of shape (n, p, p), written into zeros.

    The entries are copied, not multiplied by the identity's (a broadcast
    product over (n, p, r, p, r) is several times slower for small ``p, r``).
    """
    xp, device = namespace_and_device(M)
    n, p = int(M.shape[0]), int(M.shape[-1])
    out = xp.zeros((n, p, r, p, r), dtype=M.dtype, device=device)
    for c in range(r):
        out[:, :, c, :, c] = M
    return xp.reshape(out, (n, p * r, p * r))


def _update(mean, cov, obs, obs_precision, obs_info, xp):
    """Condition ``N(mean, cov)`` on the messages; also ``K^T = H cov``, ``G`` and ``v``."""
    r = obs.r
    KT = obs.rows_of(cov)
    W = obs.cols_of(KT, xp)
    eye_r = xp.eye(r, dtype=cov.dtype, device=cov.device)
    innovation = obs_info - _mv(obs_precision, obs.of(mean))
    Z = _solve_update(eye_r + obs_precision @ W,
                      xp.concat([obs_precision, innovation[..., None]], axis=-1), xp)
    G, v = Z[..., :r], Z[..., r]
    K = _t(KT, xp)
    return mean + _mv(K, v), _sym(cov - K @ (G @ KT), xp), K, G, v


def _filter_block_elements(L, trans, obs, obs_precision, obs_info, P0, m0, xp):
    """Pass 1 of the filter: the element of every block (the first one conditioned on the prior)."""
    S, B, d = L.S, L.B, int(P0.shape[0])
    n_blocks = L.n_blocks
    dtype, device = P0.dtype, P0.device
    # The identity element predicted through the first step of each block; the
    # first block's first step starts from the prior instead.
    first = L.next_rows(B - 1)
    A, Q = trans.matrices(first)
    T = xp.concat([xp.zeros((1, d, d), dtype=dtype, device=device), A], axis=0)
    b = xp.zeros((n_blocks, d), dtype=dtype, device=device)
    if m0 is not None:
        b = xp.concat([m0[None, ...], b[1:, ...]], axis=0)
    C = xp.concat([P0[None, ...], Q], axis=0)
    eta = xp.zeros((n_blocks, d), dtype=dtype, device=device)
    J = xp.zeros((n_blocks, d, d), dtype=dtype, device=device)
    finished = None
    for t in range(min(B, S)):
        rows, n = L.rows(t), L.active(t)
        if n < T.shape[0]:  # the last, shorter block is complete
            finished = tuple(e[n:, ...] for e in (T, b, C, eta, J))
            T, b, C, eta, J = (e[:n, ...] for e in (T, b, C, eta, J))
        if t > 0:
            T = trans.left(rows, T)
            b, C = trans.predict(rows, b, C, xp)
        b, C, K, G, v = _update(b, C, obs, obs_precision[rows, ...], obs_info[rows, ...], xp)
        HT = obs.rows_of(T)
        GHT = G @ HT
        HTt = _t(HT, xp)
        T = T - K @ GHT
        J = J + HTt @ GHT
        eta = eta + _mv(HTt, v)
    elements = (T, b, C, eta, J)
    if finished is not None:
        elements = tuple(xp.concat([e, f], axis=0) for e, f in zip(elements, finished))
    # J summed without symmetrising each step's term.
    return (*elements[:4], _sym(elements[4], xp))


def layout_kalman_filter(L, trans, obs, obs_precision, obs_info, P0, m0, out):
    """The blocked filter on arrays in the layout ``L`` (:class:`_Layout`).

    ``trans`` the transitions (:class:`_DenseTransitions` or
    :class:`_KronTransitions`), ``obs_precision`` (size, r, r), ``obs_info``
    (size, r) and the four ``out`` arrays (means, covs, pred_means, pred_covs:
    (size, d) and (size, d, d)) in the layout; ``obs`` an :class:`_Observation`.
    Writes the outputs' rows of the ``S`` steps and returns ``out``.
    """
    xp, _ = namespace_and_device(P0, obs_info)
    S, B, d = L.S, L.B, int(P0.shape[0])
    dtype, device = P0.dtype, P0.device
    means, covs, pred_means, pred_covs = out
    elements = _filter_block_elements(L, trans, obs, obs_precision, obs_info, P0, m0, xp)
    _, block_means, block_covs, _, _ = associative_scan(_combine_filter, elements)
    # The state predicted into the first step of each block: the prior for the
    # first block, from the filtered state at the end of the block before after.
    first = L.next_rows(B - 1)
    mean, cov = trans.predict(first, block_means[:-1, ...], block_covs[:-1, ...], xp)
    prior_mean = (xp.zeros((1, d), dtype=dtype, device=device) if m0 is None
                  else m0[None, ...])
    mean = xp.concat([prior_mean, mean], axis=0)
    cov = xp.concat([P0[None, ...], cov], axis=0)
    for t in range(min(B, S)):
        rows, n = L.rows(t), L.active(t)
        if t > 0:
            mean, cov = trans.predict(rows, mean[:n, ...], cov[:n, ...], xp)
        pred_means[rows, ...] = mean
        pred_covs[rows, ...] = cov
        mean, cov, _, _, _ = _update(mean, cov, obs, obs_precision[rows, ...],
                                     obs_info[rows, ...], xp)
        means[rows, ...] = mean
        covs[rows, ...] = cov
    return out


def _smoother_step_elements(L, trans, means, covs, pred_means, pred_covs, t, xp):
    """``(E, g, L)`` of the steps at position ``t`` of every block; ``E`` for those before the last step."""
    rows, nxt = L.rows(t), L.next_rows(t)
    P, m = covs[rows, ...], means[rows, ...]
    n = nxt.stop - nxt.start
    AP = trans.left(nxt, P[:n, ...])
    # G_s^T = (P-_{s+1})^{-1} A_{s+1} P_s, P- symmetric positive definite.
    gains = _t(_solve_spd(pred_covs[nxt, ...], AP, xp), xp)
    g = m[:n, ...] - _mv(gains, pred_means[nxt, ...])
    Lc = P[:n, ...] - gains @ AP  # symmetrised with the smoothed covariance (pass 3)
    if n < int(m.shape[0]):  # the last step: (0, m_{S-1}, P_{S-1})
        g = xp.concat([g, m[n:, ...]], axis=0)
        Lc = xp.concat([Lc, P[n:, ...]], axis=0)
    return gains, g, Lc


def layout_rts_smoother(L, trans, means, covs, pred_means, pred_covs):
    """The blocked RTS smoother on the filter's outputs in the layout ``L``, in place.

    Writes over its inputs: ``means`` and ``covs`` become the smoothed moments
    and ``pred_covs``, at the rows of steps ``1..S-1``, the cross-covariances
    of each step with the one before (``pred_means`` is left as it was).
    """
    xp, _ = namespace_and_device(means, covs)
    positions = range(min(L.B, L.S) - 1, -1, -1)
    # Pass 1: each step's element is stored over the inputs it replaces (the
    # gain over P-_{s+1}, read only at step s), and the blocks' elements kept.
    elements = None
    for t in positions:
        E, g, Lc = _smoother_step_elements(L, trans, means, covs, pred_means, pred_covs, t, xp)
        rows = L.rows(t)
        means[rows, ...] = g
        covs[rows, ...] = Lc
        pred_covs[L.next_rows(t), ...] = E
        elements = _append_joined((E, g, Lc), elements,
                                  functools.partial(_combine_smoother, symmetrise=False))
    _, block_means, block_covs = associative_scan(_combine_smoother, elements, reverse=True)
    # Pass 3, from the smoothed state at the start of the next block.
    state = (block_means[1:, ...], block_covs[1:, ...])
    for t in positions:
        rows, nxt = L.rows(t), L.next_rows(t)
        n_gains = nxt.stop - nxt.start
        E = pred_covs[nxt, ...]
        g, Lc = means[rows, ...], covs[rows, ...]
        m_next, P_next = state[0][:n_gains, ...], state[1][:n_gains, ...]
        cross = E @ P_next
        m = _mv(E, m_next) + g[:n_gains, ...]
        P = _sym(cross @ _t(E, xp) + Lc[:n_gains, ...], xp)
        if n_gains < int(g.shape[0]):  # the last step: its own (g, L)
            m = xp.concat([m, g[n_gains:, ...]], axis=0)
            P = xp.concat([P, Lc[n_gains:, ...]], axis=0)
        pred_covs[nxt, ...] = cross
        means[rows, ...] = m
        covs[rows, ...] = P
        state = (m, P)
    return means, covs, pred_covs


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
    """:func:`scan_kalman_filter` with the transitions given by a function of the steps.

    ``transitions(steps)`` returns ``(A[steps], Q[steps])`` for a ``slice`` of
    steps, and ``out`` optional arrays of the shapes and dtype of the results,
    written into and returned. Arrays in step order, converted to and from the
    layout (:func:`layout_kalman_filter`).
    """
    xp, _ = namespace_and_device(P0, obs_info)
    S, d = int(obs_info.shape[0]), int(P0.shape[0])
    dtype, device = P0.dtype, P0.device
    if out is None:
        out = tuple(xp.empty(shape, dtype=dtype, device=device)
                    for shape in ((S, d), (S, d, d), (S, d), (S, d, d)))
    if S == 0:
        return out
    L = _Layout(S, block_size(S) if block is None else block)
    A, Q = transitions(slice(0, S))
    work = tuple(xp.zeros((L.size, *o.shape[1:]), dtype=dtype, device=device) for o in out)
    trans = _DenseTransitions(L.to_layout(A, xp), L.to_layout(Q, xp))
    layout_kalman_filter(L, trans, _Observation(H, xp),
                         L.to_layout(obs_precision, xp), L.to_layout(obs_info, xp), P0, m0,
                         work)
    for o, w in zip(out, work):
        o[...] = L.to_steps(w, xp)
    return out


def blocked_rts_smoother(transitions, means, covs, pred_means, pred_covs, *, block=None):
    """:func:`scan_rts_smoother` with the transitions as in :func:`blocked_kalman_filter`, in place.

    Writes over its inputs: ``means`` and ``covs`` become the smoothed moments
    and ``pred_covs[1:]`` the cross-covariances (``pred_means`` is left as it
    was); returns ``(means, covs, pred_covs[1:])``.
    """
    xp, _ = namespace_and_device(means, covs)
    S = int(means.shape[0])
    if S == 0:
        return means, covs, pred_covs[1:, ...]
    L = _Layout(S, block_size(S) if block is None else block)
    A = transitions(slice(0, S))[0]
    work = [L.to_layout(x, xp) for x in (means, covs, pred_means, pred_covs)]
    layout_rts_smoother(L, _DenseTransitions(L.to_layout(A, xp)), *work)
    means[...] = L.to_steps(work[0], xp)
    covs[...] = L.to_steps(work[1], xp)
    pred_covs[1:, ...] = L.to_steps(work[3], xp, start=1)
    return means, covs, pred_covs[1:, ...]


def scan_rts_smoother(A, means, covs, pred_means, pred_covs, *, block=None):
    """What :func:`sklr.tensor.rts_smoother` returns, in blocks.

    Arguments as there, already validated (and not modified); returns
    ``(means, covs, cross_covs)``.
    """
    xp, _ = namespace_and_device(A, means)
    copies = [xp.asarray(a, copy=True) for a in (means, covs, pred_covs)]
    return blocked_rts_smoother(_stored(A), copies[0], copies[1], pred_means, copies[2],
                                block=block)
