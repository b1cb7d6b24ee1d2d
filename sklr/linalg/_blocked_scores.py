"""Leverage scores and Lewis weights of a matrix split into blocks of rows on a cluster.

The matrix ``A`` is never formed: each block ``A_b = rows(*blocks_b)`` is
built where its blocks lie (from ``X``, ``y`` and the sample weights, say).
``R`` comes from a TSQR (Demmel et al., 2012): the ``d x d`` triangular
factor of each block, stacked and factored again on the caller, is the exact
``R`` of ``A``; the leverage scores are then the squared row norms of
``A_b R^-1``, one more pass over the blocks, kept on the cluster. Each
Lewis-weight iteration is one such pair of passes over the reweighted rows.
"""

from functools import partial

from ..utils._array_api import namespace_and_device, qr_r
from ..utils._blocked import compute, persist, row_block_gather, row_block_map

__all__ = ["blocked_leverage_scores", "blocked_lewis_weights", "tsqr_r"]


def _split(args):
    """``(blocks, start)`` from the arguments ``*blocks, start`` of a blockwise function."""
    return args[:-1], args[-1]


def _block_r(rows, n_cols, *args):
    """The ``n_cols x n_cols`` triangular factor of one block (zero rows below a short block)."""
    blocks, _ = _split(args)
    A = rows(*blocks)
    xp, dev = namespace_and_device(A)
    R = qr_r(A)
    if R.shape[0] < n_cols:
        R = xp.concat([R, xp.zeros((n_cols - R.shape[0], n_cols), dtype=A.dtype, device=dev)])
    return R


def tsqr_r(rows, arrays, n_cols, dtype):
    """``R`` of the thin QR of ``A`` (the ``A_b = rows(*blocks_b)`` stacked), by TSQR.

    Parameters
    ----------
    rows : callable
        ``rows(*blocks)`` builds the block of ``A`` from the blocks of ``arrays``.
    arrays : sequence of Dask arrays or None
        Split into the same blocks of rows, one block of columns each.
    n_cols : int
        Columns of ``A``.
    dtype : dtype
        Its dtype.

    Returns
    -------
    R : ndarray of shape (n_cols, n_cols)
        Upper triangular, ``R^T R = A^T A``; only the blocks' ``n_cols x n_cols``
        factors come to the caller.
    """
    stacked = row_block_gather(partial(_block_r, rows, n_cols), *arrays, n_cols=n_cols,
                               dtype=dtype, rows_per_block=n_cols)
    return qr_r(stacked)


def _orthonormalizer(R, n_rows):
    """``T`` with ``A T`` an orthonormal basis of the column space of ``A = Q R``.

    The columns are first scaled to unit norm (the norms of ``R``'s columns
    are those of ``A``'s), so that the rank test does not depend on their
    units; then ``R D = U s V^T`` and ``T = D V_r / s_r`` over the numerical
    rank ``r`` (the rule of :func:`sklr.linalg.leverage_scores`).
    """
    xp, _ = namespace_and_device(R)
    norms = xp.sqrt(xp.sum(R * R, axis=0))
    scale = 1.0 / xp.where(norms > 0, norms, xp.ones_like(norms))
    _, s, Vt = xp.linalg.svd(R * scale, full_matrices=False)
    cutoff = float(s[0]) * max(n_rows, R.shape[1]) * float(xp.finfo(R.dtype).eps)
    rank = int(xp.sum(xp.astype(s > cutoff, xp.int64))) if float(s[0]) > 0 else 0
    return scale[:, None] * (xp.matrix_transpose(Vt[:rank, :]) / s[:rank])


def _row_sq_norms(A, T):
    xp, _ = namespace_and_device(A)
    P = A @ T
    return xp.sum(P * P, axis=1)


def _block_leverage(rows, T, *args):
    blocks, _ = _split(args)
    xp, _ = namespace_and_device(T)
    return xp.reshape(_row_sq_norms(rows(*blocks), T), (-1, 1))


def _lewis_scale(w, p):
    """``w^(1/2 - 1/p)`` where ``w > 0``, zero elsewhere (rows of zero weight stay out)."""
    xp, _ = namespace_and_device(w)
    positive = w > 0
    safe = xp.where(positive, w, xp.ones_like(w))
    return positive, safe, xp.where(positive, safe ** (0.5 - 1.0 / p), xp.zeros_like(w))


def _lewis_rows(rows, p, *blocks):
    """The rows ``w_i^(1/2 - 1/p) a_i`` of one Lewis iteration (``w`` the last block)."""
    *data, state = blocks
    _, _, scale = _lewis_scale(state[:, 0], p)
    return scale[:, None] * rows(*data)


def _block_lewis_step(rows, p, T, *args):
    """``[w_new, |log w_new - log w|]`` of one block (the update of ``_lewis_weights``)."""
    blocks, _ = _split(args)
    *data, state = blocks
    xp, _ = namespace_and_device(state)
    w = state[:, 0]
    positive, safe, scale = _lewis_scale(w, p)
    tau = _row_sq_norms(scale[:, None] * rows(*data), T)
    w_new = xp.where(positive, (tau * safe ** (2.0 / p - 1.0)) ** (p / 2.0), xp.zeros_like(w))
    both = positive & (w_new > 0)
    one = xp.ones_like(w)
    change = xp.where(both, xp.abs(xp.log(xp.where(both, w_new, one))
                                   - xp.log(xp.where(both, w, one))), xp.zeros_like(w))
    return xp.stack([w_new, change], axis=1)


def blocked_leverage_scores(rows, arrays, n_cols, dtype):
    """Exact leverage scores of ``A`` (blocks ``rows(*blocks_b)``): two passes over the blocks.

    Parameters
    ----------
    rows, arrays, n_cols, dtype
        As in :func:`tsqr_r`.

    Returns
    -------
    scores : Dask array of shape (n_samples, 1)
        Computed and kept on the cluster (persisted), in the blocks of ``arrays``.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from sklr.linalg import leverage_scores
    >>> from sklr.linalg._blocked_scores import blocked_leverage_scores
    >>> A = np.random.RandomState(0).standard_normal((1000, 3))
    >>> blocked = blocked_leverage_scores(np.asarray, (da.from_array(A, chunks=(300, 3)),),
    ...                                   3, A.dtype)
    >>> bool(np.allclose(blocked.compute()[:, 0], leverage_scores(A), rtol=1e-12))
    True
    """
    R = tsqr_r(rows, arrays, n_cols, dtype)
    n_rows = next(a for a in arrays if a is not None).shape[0]
    T = _orthonormalizer(R, n_rows)
    return persist(row_block_map(partial(_block_leverage, rows, T), *arrays, n_cols=1,
                                 dtype=dtype))


def blocked_lewis_weights(rows, arrays, n_cols, dtype, p, *, max_iter=100, tol=1e-8):
    """l_p Lewis weights of ``A`` (blocks ``rows(*blocks_b)``) by the Cohen-Peng iteration.

    The iteration of :func:`sklr.linalg.lewis_weights` with exact leverage
    scores, each step two passes over the blocks: the TSQR of the reweighted
    rows ``W^(1/2 - 1/p) A``, then their leverage scores and the new weights,
    kept on the cluster; only ``R`` and the largest change come back.

    Parameters
    ----------
    rows, arrays, n_cols, dtype
        As in :func:`tsqr_r`.
    p : float
        The exponent, ``1 <= p < 4``.
    max_iter : int, default=100
        Maximum number of iterations.
    tol : float, default=1e-8
        Stop when ``max_i |log w_i_new - log w_i| <= tol``.

    Returns
    -------
    weights : Dask array of shape (n_samples, 1)
        The Lewis weights, persisted on the cluster.
    n_iter : int
        Iterations run.
    """
    w = blocked_leverage_scores(rows, arrays, n_cols, dtype)
    if p == 2.0:
        return w, 0
    n_rows = w.shape[0]
    state = w
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        R = tsqr_r(partial(_lewis_rows, rows, p), (*arrays, state), n_cols, dtype)
        T = _orthonormalizer(R, n_rows)
        state = persist(row_block_map(partial(_block_lewis_step, rows, p, T), *arrays, state,
                                      n_cols=2, dtype=dtype))
        if float(compute(state[:, 1].max())) <= tol:
            break
    return persist(state[:, :1]), n_iter
