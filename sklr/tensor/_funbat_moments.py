"""FunBaT's moment algebra: expectations of Tucker products under the factorised posterior.

Each entry's prediction ``f_n = vec(W) . kron_k u^k_n`` has second moments
that are Kronecker products of the modes' second moments ``S^k_n =
E[u^k_n u^k_n^T]``; the functions here contract them with the core's second
moment without forming the ``(prod r_k)^2`` matrix of any single entry.
Conventions as in :mod:`sklr.tensor._funbat` (``vec`` is C-order).
"""

import math

from ..linalg._kronecker import _rowwise_kron, unfold
from ..utils._array_api import namespace_and_device

__all__ = ["_mode_messages", "_quadratic_per_sample", "_second_moment_sum"]

# Entries per chunk of the per-entry contractions: their temporaries (a few
# rows of prod r_j^2 floats per entry) stay small enough to be reused from the
# heap and cached, instead of fresh arrays of n rows each time.
_CHUNK = 16384


def _chunks(n):
    """Consecutive ``slice``s of at most :data:`_CHUNK` entries covering ``range(n)``."""
    return [slice(start, min(n, start + _CHUNK)) for start in range(0, max(n, 1), _CHUNK)]


def _split(modes):
    """The modes in two halves (the first one the larger)."""
    half = (len(modes) + 1) // 2
    return modes[:half], modes[half:]


def _pair_axes(modes, K):
    """Axes of a (r_1..r_K, r_1..r_K) array in the interleaved order (a_j, b_j for j in modes)."""
    return [ax for j in modes for ax in (j, K + j)]


def _second_moment_sum(vec_seconds, modes, xp, n, dtype, device):
    """``sum_n kron_k S^k_n`` as a (prod r_k, prod r_k) array, without forming n of them.

    The modes are split in two halves whose row-wise Kronecker products of
    ``vec(S^k_n)`` are multiplied (``A^T B``), a chunk of entries at a time:
    memory ``O(prod r_k^2 + chunk prod r_k)``.
    """
    g1, g2 = _split(modes)
    G = 0.0
    for rows in _chunks(n):
        m = rows.stop - rows.start
        Amat = _rowwise_kron([vec_seconds[j][rows, ...] for j in g1], m, xp, dtype, device)
        Bmat = _rowwise_kron([vec_seconds[j][rows, ...] for j in g2], m, xp, dtype, device)
        G = G + xp.matrix_transpose(Amat) @ Bmat
    ranks = [math.isqrt(int(vec_seconds[j].shape[1])) for j in modes]
    G = xp.reshape(G, tuple(r for r in ranks for _ in range(2)))
    K = len(modes)
    G = xp.permute_dims(G, tuple(range(0, 2 * K, 2)) + tuple(range(1, 2 * K, 2)))
    M = math.prod(ranks)
    return xp.reshape(G, (M, M))


def _quadratic_per_sample(M2, vec_seconds, ranks, out_mode, xp, n, dtype, device):
    """Per sample, ``sum_{a,b} M2[(i,a),(i',b)] prod_{j != k} S^j_n[a_j, b_j]`` (k = out_mode).

    ``M2`` is the second moment of ``vec(W)``. Returns (n, r_k^2); with
    ``out_mode=None`` the full contraction ``E[f_n^2]`` of shape (n,).
    Through the same split, a chunk of entries at a time: memory ``O(n r_k^2)``
    for the result and ``O(chunk r_k^2 sqrt(prod_{j != k} r_j^2))`` besides.
    """
    K = len(ranks)
    others = [j for j in range(K) if j != out_mode]
    g1, g2 = _split(others)
    lead = [] if out_mode is None else [out_mode, K + out_mode]
    T = xp.permute_dims(xp.reshape(M2, tuple(ranks) * 2),
                        tuple(lead + _pair_axes(g1, K) + _pair_axes(g2, K)))
    c = 1 if out_mode is None else ranks[out_mode] ** 2
    P1 = math.prod(ranks[j] ** 2 for j in g1)
    P2 = math.prod(ranks[j] ** 2 for j in g2)
    T = xp.reshape(xp.permute_dims(xp.reshape(T, (c, P1, P2)), (2, 0, 1)), (P2, c * P1))
    parts = []
    for rows in _chunks(n):
        m = rows.stop - rows.start
        Amat = _rowwise_kron([vec_seconds[j][rows, ...] for j in g1], m, xp, dtype, device)
        Bmat = _rowwise_kron([vec_seconds[j][rows, ...] for j in g2], m, xp, dtype, device)
        parts.append(xp.sum(xp.reshape(Bmat @ T, (m, c, P1)) * Amat[:, None, :], axis=2))
    out = parts[0] if len(parts) == 1 else xp.concat(parts, axis=0)
    return out[:, 0] if out_mode is None else out


def _mode_messages(core_mean, core_second, k, entry_means, entry_seconds, y):
    """Per entry, the likelihood message to ``U^k`` in natural parameters, per unit ``tau``.

    With ``z_n = kron_{j != k} u^j_n``: the precision ``E[W_(k) z_n z_n^T
    W_(k)^T]`` as (n, r_k^2) and the shift ``y_n E[W_(k)] E[z_n]`` as (n, r_k),
    from the core's mean (shape ``(r_1, ..., r_K)``) and second moment
    ``E[vec(W) vec(W)^T]``, and the modes' moments at each entry.
    """
    xp, device = namespace_and_device(y)
    n, dtype = y.shape[0], y.dtype
    ranks = [int(r) for r in core_mean.shape]
    precisions = _quadratic_per_sample(core_second, entry_seconds, ranks, k, xp, n, dtype,
                                       device)
    others = _rowwise_kron([m for j, m in enumerate(entry_means) if j != k], n, xp, dtype,
                           device)
    shifts = y[:, None] * (others @ xp.matrix_transpose(unfold(core_mean, k, xp=xp)))
    return precisions, shifts
