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

Layout: the passes work on *batch-last* arrays in *position-major* order
(:class:`_Layout`): vectors ``(d, size)`` and matrices ``(d, d, size)`` whose
column ``t * n_blocks + b`` holds step ``b * B + t``. The steps at one position
of all blocks are one contiguous run per matrix entry (instead of
``n_blocks`` rows ``B`` rows apart, which at ``S = 10^6`` cost as much as the
arithmetic), every operation runs along the blocks in contiguous memory (on
``(n, d, d)`` arrays NumPy loops over rows of ``d`` entries), and transposes
are views; products go through the backend's ``einsum``. Blocks of
:func:`wide_block_size` steps (about 2048 blocks) for funbat.
:func:`blocked_kalman_filter` and :func:`blocked_rts_smoother` take and return
batch-first arrays in step order and convert; :mod:`sklr.tensor._funbat_factors`
keeps its modes' arrays in the layout and calls :func:`layout_kalman_filter`
and :func:`layout_rts_smoother` with :class:`_KronTransitions`
(``kron(A, I_r)`` applied on the ``p`` axis, nothing of size ``S d^2`` stored
for the transitions) and ``H = [I_r, 0]``, whose products are slices.

Numerics (the same posterior; rounding differs from the step-by-step
recursions by ~1e-13 of the largest entry): covariances are symmetrised once
per update (``P - K G K^T``) and once per smoothed covariance, not after every
product; the ``r x r`` update systems are solved in closed form for ``r <= 2``
(Cramer's rule, ``det(I + Lam H P- H^T) >= 1``) and by partial pivoting
above; the RTS gain's ``P-`` (symmetric positive definite) by elimination
without pivoting, stable for such matrices.
"""

import math

from ..utils._array_api import einsum, namespace_and_device
from ._parallel_scan import associative_scan

__all__ = [
    "block_size",
    "blocked_kalman_filter",
    "blocked_rts_smoother",
    "layout_kalman_filter",
    "layout_rts_smoother",
    "scan_kalman_filter",
    "scan_rts_smoother",
    "wide_block_size",
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


# Blocks per position that the batch-last passes aim at (see wide_block_size).
_TARGET_BLOCKS = 2048


def wide_block_size(n_steps):
    """Steps per block for the batch-last passes: about :data:`_TARGET_BLOCKS` blocks.

    ``max(ceil(S / 2048), ceil(sqrt(S) / 4))``. Each position's operations act
    on vectors of ``n_blocks`` values, and NumPy's cost per call (a few
    microseconds) is amortised once they are ~10^3 long: at ``S = 10^4``,
    ``10^5`` and ``10^6`` the filter and smoother take 0.016 / 0.11 / 0.98 s
    with this size against 0.029 / 0.14 / 1.06 s with :func:`block_size`
    (``sqrt(S)``, which leaves 100-1000 blocks). The floor keeps a short
    sequence from being cut into blocks of one or two steps.
    """
    S = max(int(n_steps), 1)
    return max(1, -(-S // _TARGET_BLOCKS), -(-math.isqrt(S) // 4))


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


# Batch-last arrays: the passes keep vectors as (d, n) and matrices as (d, d, n),
# n the blocks at one position, so that every elementwise operation runs along
# n contiguous values (on (n, d, d) arrays NumPy loops over rows of d entries,
# and its batched matmul costs ~25 ns per 4 x 4 product whatever the sizes).


def _bT(M, xp):
    """Transpose of each matrix of a batch-last (i, j, n) array (a view)."""
    return xp.permute_dims(M, (1, 0, 2))


def _bsym(M, xp):
    return 0.5 * (M + _bT(M, xp))


def _bmm(A, B):
    """Batch-last matrix product: (i, k, n) and (k, j, n) to (i, j, n)."""
    return einsum("ikn,kjn->ijn", A, B)


def _bmv(A, v):
    """Batch-last matrix-vector product: (i, k, n) and (k, n) to (i, n)."""
    return einsum("ikn,kn->in", A, v)


def _aos(x, xp):
    """A batch-last array as batch-first (a view): (..., n) to (n, ...)."""
    return xp.permute_dims(x, (x.ndim - 1, *range(x.ndim - 1)))


def _soa(x, xp):
    """A batch-first array as batch-last (a view): (n, ...) to (..., n)."""
    return xp.permute_dims(x, (*range(1, x.ndim), 0))


def _contiguous(x, xp):
    """``x`` copied into C order (a permuted view is not, and ``reshape`` to its own shape keeps it)."""
    shape = tuple(x.shape)
    return xp.reshape(xp.reshape(x, (-1,)), shape)


def _solve_spd(M, R, xp):
    """``M^{-1} R`` for batch-last symmetric positive definite ``M`` (k, k, n), ``R`` (k, m, n).

    Gaussian elimination without pivoting (stable for positive definite
    matrices, Wilkinson), each step on all rows below the pivot at once and
    the back substitution on all rows above: about 20 operations along the
    batch for ``k = 4`` (NumPy's ``solve`` makes a LAPACK call per matrix, 3-5x
    slower at these sizes).
    """
    k = int(M.shape[0])
    U = xp.concat([M, R], axis=1)
    for j in range(k - 1):
        factor = U[j + 1:, j:j + 1, :] / U[j:j + 1, j:j + 1, :]
        U[j + 1:, j + 1:, :] = U[j + 1:, j + 1:, :] - factor * U[j:j + 1, j + 1:, :]
    X = U[:, k:, :]
    for j in range(k - 1, -1, -1):
        X[j, :, :] = X[j, :, :] / U[j, j:j + 1, :]
        if j > 0:
            X[:j, :, :] = X[:j, :, :] - U[:j, j:j + 1, :] * X[j:j + 1, :, :]
    return X


def _solve_update(M, R, xp):
    """``M^{-1} R`` for the filter's batch-last ``r x r`` systems ``M = I + Lam H P- H^T``.

    ``r = 1`` and ``r = 2`` in closed form (Cramer's rule, forward stable for
    ``2 x 2``; ``det M = det(I + Lam W) >= 1`` for ``Lam, W`` positive
    semi-definite), larger ``r`` by :func:`_solve_small` (partial pivoting).
    """
    k = int(M.shape[0])
    if k == 1:
        return R / M
    if k == 2:
        m00, m01, m10, m11 = M[0, 0:1, :], M[0, 1:2, :], M[1, 0:1, :], M[1, 1:2, :]
        r0, r1 = R[0, :, :], R[1, :, :]
        inv_det = 1.0 / (m00 * m11 - m01 * m10)
        return xp.stack([(m11 * r0 - m01 * r1) * inv_det, (m00 * r1 - m10 * r0) * inv_det],
                        axis=0)
    return _soa(_solve_small(_aos(M, xp), _aos(R, xp), xp), xp)


def _mv(M, v):
    """Batch-first matrix-vector product (the scan's combinations)."""
    return (M @ v[..., None])[..., 0]


# Blocks per tile of the layout's transposes.
_TILE = 64


class _Layout:
    """The position-major order of ``S`` steps cut into blocks of ``B`` (module docstring).

    Column ``t * n_blocks + b`` of a batch-last array holds step ``b * B + t``;
    the columns of steps past ``S - 1`` (the missing tail of the last block)
    are padding, never read.
    """

    def __init__(self, n_steps, block):
        self.S, self.B = int(n_steps), int(block)
        self.n_blocks = max(1, -(-self.S // self.B))
        self.size = self.B * self.n_blocks

    def active(self, t):
        """Number of blocks (the first ones) with a step at position ``t``."""
        return _active(self.S, self.B, t)

    def rows(self, t):
        """The columns of position ``t``'s steps."""
        start = t * self.n_blocks
        return slice(start, start + self.active(t))

    def next_rows(self, t):
        """The columns of the steps after position ``t``'s (the next blocks' first steps after the last position)."""
        if t + 1 < self.B:
            return self.rows(t + 1)
        return slice(1, self.n_blocks)

    def row_of_step(self, xp, device):
        """Int array (S,): the column of each step."""
        steps = xp.arange(self.S, device=device)
        return (steps % self.B) * self.n_blocks + steps // self.B

    def to_layout(self, x, xp):
        """``x`` of shape (S, ...) in step order as a batch-last array (..., size) in the layout.

        The steps' order changes on batch-first rows, :data:`_TILE` blocks at a
        time (a plain gather or transpose reads one row per memory page at
        ``S = 10^6``), then one transpose makes it batch-last; the padding
        repeats the last step.
        """
        rest = tuple(x.shape[1:])
        k = math.prod(rest)
        x = xp.reshape(x, (self.S, k))
        if self.size > self.S:
            x = xp.concat([x, xp.broadcast_to(x[-1:, :], (self.size - self.S, k))], axis=0)
        x3 = xp.reshape(x, (self.n_blocks, self.B, k))
        y = xp.empty((self.B, self.n_blocks, k), dtype=x.dtype, device=x.device)
        for j in range(0, self.n_blocks, _TILE):
            tile = slice(j, min(j + _TILE, self.n_blocks))
            y[:, tile, :] = xp.permute_dims(x3[tile, :, :], (1, 0, 2))
        y = _contiguous(xp.permute_dims(xp.reshape(y, (self.size, k)), (1, 0)), xp)
        return xp.reshape(y, (*rest, self.size))

    def to_steps(self, x, xp, start=0, out=None):
        """Steps ``start..S-1``, batch-first in step order, from a batch-last array in the layout.

        The reverse of :meth:`to_layout`, one tiled copy; written into the
        memory of ``out`` (an array of ``x``'s size no longer needed, so that
        no new memory is touched) when given.
        """
        rest = tuple(x.shape[:-1])
        k = math.prod(rest)
        src = xp.reshape(x, (k, self.B, self.n_blocks))
        if out is None:
            out = xp.empty((self.n_blocks, self.B, k), dtype=x.dtype, device=x.device)
        else:
            out = xp.reshape(out, (self.n_blocks, self.B, k))
        for j in range(0, self.n_blocks, _TILE):
            tile = slice(j, min(j + _TILE, self.n_blocks))
            out[tile, :, :] = xp.permute_dims(src[:, :, tile], (2, 1, 0))
        return xp.reshape(out, (self.size, *rest))[start:self.S, ...]


class _Observation:
    """``H`` of shape (r, d); ``H = [I_r, 0]`` (``first``) turns its products into slices."""

    def __init__(self, H, xp):
        r, d = int(H.shape[0]), int(H.shape[1])
        self.r = r
        self.first = bool(xp.all(H == xp.eye(r, d, dtype=H.dtype, device=H.device)))
        self.H = H[:, :, None]  # batch-last, broadcast over the blocks
        self.Ht = _bT(self.H, xp)

    def of(self, x):
        """``H x`` for batch-last vectors (d, n)."""
        return x[:self.r, :] if self.first else _bmv(self.H, x)

    def rows_of(self, X):
        """``H X`` for batch-last matrices (d, k, n)."""
        return X[:self.r, :, :] if self.first else _bmm(self.H, X)

    def cols_of(self, X):
        """``X H^T`` for batch-last matrices (k, d, n)."""
        return X[:, :self.r, :] if self.first else _bmm(X, self.Ht)


class _DenseTransitions:
    """Stored transitions ``A`` and process noises ``Q``, batch-last (d, d, size), in the layout."""

    def __init__(self, A, Q=None):
        self.A, self.Q = A, Q

    def matrices(self, rows):
        """``(A, Q)`` at ``rows``."""
        return self.A[:, :, rows], self.Q[:, :, rows]

    def left(self, rows, X, xp):
        """``A X`` for batch-last ``X`` (d, k, n) at ``rows``."""
        return _bmm(self.A[:, :, rows], X)

    def predict(self, rows, mean, cov, xp):
        """``(A m, A P A^T + Q)`` at ``rows``."""
        F = self.A[:, :, rows]
        return _bmv(F, mean), _bsym(_bmm(_bmm(F, cov), _bT(F, xp)), xp) + self.Q[:, :, rows]


class _KronTransitions:
    """``kron(A1, I_r)`` and ``kron(Q1, I_r)`` from batch-last ``A1``, ``Q1`` (p, p, size) in the layout.

    The stacked state of ``r`` independent components (``d = p r``, component
    ``c`` of order ``a`` at ``a r + c``): products with the transition act on
    the ``p`` axis of ``X`` reshaped to ``(p, r, ...)``, and the noise is added
    to the ``r`` diagonal ``p x p`` blocks, so that nothing of size ``S d^2``
    is stored for them.
    """

    def __init__(self, A1, Q1, r):
        self.A1, self.Q1, self.r = A1, Q1, int(r)

    def matrices(self, rows):
        """``(kron(A1, I_r), kron(Q1, I_r))`` at ``rows``, batch-last."""
        xp, _ = namespace_and_device(self.A1)
        return tuple(_soa(_kron_eye_batch(_contiguous(_aos(M[:, :, rows], xp), xp), self.r),
                          xp) for M in (self.A1, self.Q1))

    def _left(self, F1, X, xp):
        """``kron(F1, I_r) X`` for batch-last ``X`` of shape (d, n) or (d, k, n)."""
        p, r = int(F1.shape[0]), self.r
        X4 = xp.reshape(X, (p, r, *X.shape[1:]))
        spec = "abn,brkn->arkn" if X4.ndim == 4 else "abn,brn->arn"
        return xp.reshape(einsum(spec, F1, X4), tuple(X.shape))

    def left(self, rows, X, xp):
        """``kron(A1, I_r) X`` at ``rows``."""
        return self._left(self.A1[:, :, rows], X, xp)

    def predict(self, rows, mean, cov, xp):
        """``(A m, A P A^T + Q)`` at ``rows``, ``A P A^T + Q`` not symmetrised (the update is)."""
        F1, Q1 = self.A1[:, :, rows], self.Q1[:, :, rows]
        p, r = int(F1.shape[0]), self.r
        n = int(cov.shape[-1])
        mean = self._left(F1, mean, xp)
        # kron(F1, I_r) P kron(F1, I_r)^T in one contraction over both p axes.
        Z = einsum("abn,brcsn,ecn->aresn", F1, xp.reshape(cov, (p, r, p, r, n)), F1)
        for c in range(r):
            Z[:, c, :, c, :] = Z[:, c, :, c, :] + Q1
        return mean, xp.reshape(Z, (p * r, p * r, n))


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
    """Condition batch-last ``N(mean, cov)`` on the messages; also ``K^T = H cov``, ``G``, ``v``."""
    r = obs.r
    KT = obs.rows_of(cov)
    W = obs.cols_of(KT)
    eye_r = xp.eye(r, dtype=cov.dtype, device=cov.device)[:, :, None]
    innovation = obs_info - _bmv(obs_precision, obs.of(mean))
    Z = _solve_update(eye_r + _bmm(obs_precision, W),
                      xp.concat([obs_precision, innovation[:, None, :]], axis=1), xp)
    G, v = Z[:, :r, :], Z[:, r, :]
    K = _bT(KT, xp)
    return mean + _bmv(K, v), _bsym(cov - _bmm(K, _bmm(G, KT)), xp), K, G, v


def _filter_block_elements(L, trans, obs, obs_precision, obs_info, P0, m0, xp):
    """Pass 1 of the filter: the element of every block (the first one conditioned on the prior).

    Returned batch-first, for the scan.
    """
    S, B, d = L.S, L.B, int(P0.shape[0])
    n_blocks = L.n_blocks
    dtype, device = P0.dtype, P0.device
    # The identity element predicted through the first step of each block; the
    # first block's first step starts from the prior instead.
    first = L.next_rows(B - 1)
    A, Q = trans.matrices(first)
    T = xp.concat([xp.zeros((d, d, 1), dtype=dtype, device=device), A], axis=-1)
    b = xp.zeros((d, n_blocks), dtype=dtype, device=device)
    if m0 is not None:
        b = xp.concat([m0[:, None], b[:, 1:]], axis=-1)
    C = xp.concat([P0[:, :, None], Q], axis=-1)
    eta = xp.zeros((d, n_blocks), dtype=dtype, device=device)
    J = xp.zeros((d, d, n_blocks), dtype=dtype, device=device)
    finished = None
    for t in range(min(B, S)):
        rows, n = L.rows(t), L.active(t)
        if n < T.shape[-1]:  # the last, shorter block is complete
            finished = tuple(e[..., n:] for e in (T, b, C, eta, J))
            T, b, C, eta, J = (e[..., :n] for e in (T, b, C, eta, J))
        if t > 0:
            T = trans.left(rows, T, xp)
            b, C = trans.predict(rows, b, C, xp)
        b, C, K, G, v = _update(b, C, obs, obs_precision[..., rows], obs_info[..., rows], xp)
        HT = obs.rows_of(T)
        GHT = _bmm(G, HT)
        HTt = _bT(HT, xp)
        T = T - _bmm(K, GHT)
        J = J + _bmm(HTt, GHT)
        eta = eta + _bmv(HTt, v)
    elements = (T, b, C, eta, J)
    if finished is not None:
        elements = tuple(xp.concat([e, f], axis=-1) for e, f in zip(elements, finished))
    T, b, C, eta, J = (_aos(e, xp) for e in elements)
    # J summed without symmetrising each step's term.
    return T, b, C, eta, _sym(J, xp)


def layout_kalman_filter(L, trans, obs, obs_precision, obs_info, P0, m0, out):
    """The blocked filter on batch-last arrays in the layout ``L`` (:class:`_Layout`).

    ``trans`` the transitions (:class:`_DenseTransitions` or
    :class:`_KronTransitions`), ``obs`` an :class:`_Observation`,
    ``obs_precision`` (r, r, size), ``obs_info`` (r, size) and the four ``out``
    arrays (means, covs, pred_means, pred_covs: (d, size) and (d, d, size)) in
    the layout. Writes the outputs' columns of the ``S`` steps and returns ``out``.
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
    mean, cov = trans.predict(first, _soa(block_means[:-1, ...], xp),
                              _soa(block_covs[:-1, ...], xp), xp)
    prior_mean = (xp.zeros((d, 1), dtype=dtype, device=device) if m0 is None
                  else m0[:, None])
    mean = xp.concat([prior_mean, mean], axis=-1)
    cov = xp.concat([P0[:, :, None], cov], axis=-1)
    for t in range(min(B, S)):
        rows, n = L.rows(t), L.active(t)
        if t > 0:
            mean, cov = trans.predict(rows, mean[..., :n], cov[..., :n], xp)
        pred_means[:, rows] = mean
        pred_covs[:, :, rows] = cov
        mean, cov, _, _, _ = _update(mean, cov, obs, obs_precision[..., rows],
                                     obs_info[..., rows], xp)
        means[:, rows] = mean
        covs[:, :, rows] = cov
    return out


def _combine_smoother_batch_last(earlier, later, xp):
    """:func:`_combine_smoother` on batch-last arrays (``L`` not symmetrised)."""
    E_i, g_i, L_i = earlier
    E_j, g_j, L_j = later
    return (_bmm(E_i, E_j), _bmv(E_i, g_j) + g_i, _bmm(_bmm(E_i, L_j), _bT(E_i, xp)) + L_i)


def _smoother_step_elements(L, trans, means, covs, pred_means, pred_covs, t, xp):
    """``(E, g, L)`` of the steps at position ``t`` of every block; ``E`` for those before the last step."""
    rows, nxt = L.rows(t), L.next_rows(t)
    P, m = covs[:, :, rows], means[:, rows]
    n = nxt.stop - nxt.start
    AP = trans.left(nxt, P[..., :n], xp)
    # G_s^T = (P-_{s+1})^{-1} A_{s+1} P_s, P- symmetric positive definite.
    gains = _bT(_solve_spd(pred_covs[:, :, nxt], AP, xp), xp)
    g = m[:, :n] - _bmv(gains, pred_means[:, nxt])
    Lc = P[..., :n] - _bmm(gains, AP)  # symmetrised with the smoothed covariance (pass 3)
    if n < int(m.shape[-1]):  # the last step: (0, m_{S-1}, P_{S-1})
        g = xp.concat([g, m[:, n:]], axis=-1)
        Lc = xp.concat([Lc, P[..., n:]], axis=-1)
    return gains, g, Lc


def layout_rts_smoother(L, trans, means, covs, pred_means, pred_covs):
    """The blocked RTS smoother on the filter's batch-last outputs in the layout ``L``, in place.

    Writes over its inputs: ``means`` and ``covs`` become the smoothed moments
    and ``pred_covs``, at the columns of steps ``1..S-1``, the
    cross-covariances of each step with the one before (``pred_means`` is left
    as it was).
    """
    xp, _ = namespace_and_device(means, covs)
    positions = range(min(L.B, L.S) - 1, -1, -1)
    # Pass 1: each step's element is stored over the inputs it replaces (the
    # gain over P-_{s+1}, read only at step s), and the blocks' elements kept.
    elements = None
    for t in positions:
        E, g, Lc = _smoother_step_elements(L, trans, means, covs, pred_means, pred_covs, t, xp)
        rows = L.rows(t)
        means[:, rows] = g
        covs[:, :, rows] = Lc
        pred_covs[:, :, L.next_rows(t)] = E
        elements = _append_joined((E, g, Lc), elements, xp)
    elements = tuple(_aos(e, xp) for e in elements)
    _, block_means, block_covs = associative_scan(_combine_smoother, elements, reverse=True)
    # Pass 3, from the smoothed state at the start of the next block.
    state = (_soa(block_means[1:, ...], xp), _soa(block_covs[1:, ...], xp))
    for t in positions:
        rows, nxt = L.rows(t), L.next_rows(t)
        n_gains = nxt.stop - nxt.start
        E = pred_covs[:, :, nxt]
        g, Lc = means[:, rows], covs[:, :, rows]
        m_next, P_next = state[0][:, :n_gains], state[1][..., :n_gains]
        cross = _bmm(E, P_next)
        m = _bmv(E, m_next) + g[:, :n_gains]
        P = _bsym(_bmm(cross, _bT(E, xp)) + Lc[..., :n_gains], xp)
        if n_gains < int(g.shape[-1]):  # the last step: its own (g, L)
            m = xp.concat([m, g[:, n_gains:]], axis=-1)
            P = xp.concat([P, Lc[..., n_gains:]], axis=-1)
        pred_covs[:, :, nxt] = cross
        means[:, rows] = m
        covs[:, :, rows] = P
        state = (m, P)
    return means, covs, pred_covs


def _append_joined(step, suffix, xp):
    """Each block's suffix element extended by its step before; blocks new to the pass start.

    ``step`` is ``_smoother_step_elements``'s output, whose ``E`` lacks the
    zero column of the last step when that step is among them.
    """
    E, g, L = step
    if int(E.shape[-1]) < int(g.shape[-1]):
        E = xp.concat([E, xp.zeros((*E.shape[:-1], 1), dtype=E.dtype, device=E.device)],
                      axis=-1)
    if suffix is None:
        return E, g, L
    n = int(suffix[0].shape[-1])
    joined = _combine_smoother_batch_last((E[..., :n], g[..., :n], L[..., :n]), suffix, xp)
    if n == int(g.shape[-1]):
        return joined
    # The last block joins at its last step.
    return tuple(xp.concat([j, e[..., n:]], axis=-1) for j, e in zip(joined, (E, g, L)))


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
    written into and returned. Arrays in step order (batch-first), converted
    to and from the layout (:func:`layout_kalman_filter`).
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
    work = tuple(xp.zeros((*o.shape[1:], L.size), dtype=dtype, device=device) for o in out)
    trans = _DenseTransitions(L.to_layout(A, xp), L.to_layout(Q, xp))
    layout_kalman_filter(L, trans, _Observation(H, xp), L.to_layout(obs_precision, xp),
                         L.to_layout(obs_info, xp), P0, m0, work)
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
