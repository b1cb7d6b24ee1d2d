"""The Newton half of :func:`sklr.transport.sinkhorn_newton`: one sparsified Newton system.

At the plan ``P`` of the dual potentials, the dual's negative Hessian is
``(1 / reg) [[diag(P 1), P], [P^T, diag(P^T 1)]]``. :class:`_NewtonSystem`
keeps the diagonal blocks exact and the off-diagonal blocks sparsified to the
plan's largest entries (:func:`_sparse_hessian`), pins one potential (the
exact Hessian is singular along ``(1, -1)``) and solves for the Newton
direction through the Schur complement of the larger side: by preconditioned
conjugate gradient, never forming it (:meth:`_NewtonSystem.solve_cg`), or
formed densely and factorized (:func:`_schur_direction`).
"""

import math
from dataclasses import dataclass

import numpy as np

from ..linalg._cg import conjugate_gradient
from ..utils._array_api import (
    add_to_diagonal,
    log2_histogram,
    segment_sum,
    solve_triangular,
    sparse_gram,
    sparse_matmul,
    sparse_matrix,
)
from ..utils._array_api import device as array_device
from ._sinkhorn_stage import _plan_floor

# The sparsified Hessian keeps at least the density's entries, and more when the
# plan mass it drops would exceed this fraction of the current L1 marginal
# error (measured: with 16 entries per row alone, reg = 1e-2 plans, which are
# dense, converged only linearly: 4e-4 after 100 Newton steps; with this rule,
# 3 to 4 steps).
_DROP_RATIO = 0.1

# linear_solver="auto" solves the Newton systems directly (dense Cholesky of the
# Schur complement on the smaller side) up to this size, by CG above it. CG on the
# whole two-block system needed 300 to 450 steps at n = 500, reg = 1e-3, and stalled
# at 1e-4 (benchmarks/results/2026-12-05_sinkhorn_newton_scaling.md), hence 4000 and
# then 1500 here; CG on the Schur complement (solve_cg) takes about half the steps of
# those and converged on cases where they stalled: from min(n, m) = 500 up it was as
# fast as the direct solve or faster on 14 cases (up to 1.5x on 2-D clouds, at most
# 8 % slower): benchmarks/results/2026-12-06_sinkhorn_newton_schur_cg.md.
_CHOLESKY_MAX = 500

# cg_max_iter="auto": dense BLAS (the direct solve) does this many times more
# flops per second than the sparse products of CG, so the cap is the number of
# CG steps that cost one direct solve (the timings behind the ratio:
# benchmarks/results/2026-12-05_sinkhorn_newton_scaling_after_cg_policy.md).
# The cap is never below _CG_MIN_STEPS.
_DENSE_SPEEDUP = 24.0
_CG_MIN_STEPS = 100

# The direct solve's relative ridge on the Schur complement (times max(c), at
# least 10 eps): the kept bipartite graph may fall apart into components, each
# with its own null direction (only one is pinned). It grows by _RIDGE_GROWTH
# for each of up to _RIDGE_TRIES failed factorizations.
_RIDGE = 1e-12
_RIDGE_GROWTH = 1e4
_RIDGE_TRIES = 4


def _sparse_hessian(P, k, xp, max_dropped=None):
    """The largest entries of ``P`` as a CSR matrix (ties at the threshold kept).

    At least ``k`` entries; more when the mass left out would exceed
    ``max_dropped``: then the fewest entries whose complement weighs at most
    that. The threshold is found from a histogram of the entries on a log2
    scale (:func:`~sklr.utils._array_api.log2_histogram`, one pass for the
    bins and two for their counts and masses): the counts from the top and
    the masses from the bottom locate the bin that holds it, and only that
    bin's entries are sorted. (Doubling the count by partitions until the
    dropped mass was small enough took 3 to 6 partitions of the whole plan
    per Newton step; see ``benchmarks/results/``.)
    Returns the CSR matrix and its entries as ``(data, rows, cols)``.
    """
    n, m = P.shape
    threshold = 0.0
    if k < n * m:
        threshold = _threshold(P, k, max_dropped, xp)
    # Entries at the plan's floor (exponents clipped just above underflow, see
    # _plan) carry no mass: never keep them, however many tie at the threshold.
    keep = (P >= threshold) & (P > _plan_floor(P.dtype, xp))
    rows, cols = xp.nonzero(keep)
    data = xp.take(xp.reshape(P, (-1,)), rows * m + cols)
    # Rows come sorted from nonzero: each row's start is a search, not a pass over keep.
    indptr = xp.searchsorted(rows, xp.arange(n + 1, dtype=rows.dtype, device=array_device(P)))
    S = sparse_matrix(data, cols, indptr, (n, m), format="csr", like=data)
    return S, (data, rows, cols)


# Rows of the plan per block of the threshold's histogram: the entries' bin ids
# (int64) then take 8 bytes per entry of one block, not of the whole plan.
_HISTOGRAM_BLOCK_ENTRIES = 1 << 22


def _row_blocks(P):
    """Consecutive row slices of ``P`` with about ``_HISTOGRAM_BLOCK_ENTRIES`` entries each."""
    n, m = P.shape
    rows = max(1, _HISTOGRAM_BLOCK_ENTRIES // max(m, 1))
    return [P[i:min(i + rows, n), ...] for i in range(0, n, rows)]


def _blocked_histogram(P):
    """:func:`log2_histogram` of ``P`` summed over row blocks (counts and sums only)."""
    counts = sums = None
    for block in _row_blocks(P):
        _, c, s = log2_histogram(block)
        counts, sums = (c, s) if counts is None else (counts + c, sums + s)
    return counts, sums


def _bin_entries(P, b, xp):
    """The entries of ``P`` in histogram bin ``b``, block by block."""
    parts = []
    for block in _row_blocks(P):
        ids, _, _ = log2_histogram(block)
        parts.append(xp.take(xp.reshape(block, (-1,)), xp.nonzero(ids == b)[0]))
    return parts[0] if len(parts) == 1 else xp.concat(parts)


def _threshold(P, k, max_dropped, xp, outside=0.0):
    """``min(t_k, t_D)``: the ``k``-th largest entry, and the largest ``t`` with mass(P < t) <= D.

    The histogram runs over blocks of rows, so that no per-entry array as
    large as the plan is made (the Newton step's memory peak otherwise).
    ``outside``: mass of entries not in ``P`` and below all of them (the
    streamed solver passes the plan's candidate entries only); at most
    ``max_dropped``.
    """
    counts, sums = _blocked_histogram(P)
    at_least = np.cumsum(counts[::-1])[::-1]  # entries in bin b and above
    below = np.cumsum(sums) - sums + outside  # mass in the bins under bin b
    bin_k = int(np.flatnonzero(at_least >= k)[-1])
    bin_d = n_bins = counts.shape[0]
    if max_dropped is not None:
        bin_d = int(np.flatnonzero(below <= max_dropped)[-1])
    b = min(bin_k, bin_d)
    values = xp.sort(_bin_entries(P, b, xp))
    t_k = t_d = math.inf
    if b == bin_k:
        above = int(at_least[b + 1]) if b + 1 < n_bins else 0
        t_k = float(values[values.shape[0] - (k - above)])
    if b == bin_d:
        # Drop the bin's entries from its smallest up while the dropped mass stays
        # within the limit; the first one that would overshoot is the threshold.
        tail = float(below[b]) + xp.cumulative_sum(values)
        n_drop = int(xp.sum(xp.astype(tail <= max_dropped, xp.int64)))
        if n_drop < values.shape[0]:
            t_d = float(values[n_drop])
        elif b < bin_k:  # (rounding) the whole bin goes: the next entries up start the kept
            b_next = b + 1 + int(np.flatnonzero(counts[b + 1:])[0])
            t_d = float(xp.min(_bin_entries(P, b_next, xp)))
    return min(t_k, t_d)


@dataclass
class _NewtonSystem:
    """``H = (1/reg) [[diag(r), S], [S^T, diag(c)]]``, the heaviest column's ``g`` pinned.

    ``r, c``: the plan's exact marginals (plus a Levenberg-Marquardt
    ``damping``); ``S``: its largest entries, CSR, with ``entries =
    (data, rows, cols)``.
    """

    r: object
    c: object
    S: object
    entries: tuple
    reg: float
    xp: object

    @classmethod
    def at_plan(cls, P, reg, k, max_dropped, damping, xp):
        """The system at ``P``: at least ``k`` Hessian entries, at most ``max_dropped`` mass left out."""
        r, c = xp.sum(P, axis=1) + damping, xp.sum(P, axis=0) + damping
        S, entries = _sparse_hessian(P, k, xp, max_dropped)
        return cls(r, c, S, entries, reg, xp)

    @property
    def nnz(self):
        return int(self.entries[0].shape[0])

    def cg_steps_worth_a_direct_solve(self):
        """CG steps that cost about one direct solve (``cg_max_iter="auto"``).

        The direct solve takes ``min(n, m)^3 / 3`` flops at dense-BLAS speed;
        a CG step two passes over the kept entries and a few over the
        potentials, at sparse speed, ``_DENSE_SPEEDUP`` times slower per flop.
        """
        n, m = self.r.shape[0], self.c.shape[0]
        direct = min(n, m) ** 3 / 3.0
        step = _DENSE_SPEEDUP * (4.0 * self.nnz + 10.0 * (n + m))
        return max(_CG_MIN_STEPS, math.ceil(direct / step))

    def solve_cg(self, grad_f, grad_g, cg_tol, cg_max_iter):
        """CG on the Schur complement of the larger side, stopped at ``cg_tol``.

        The larger side's potentials are eliminated as in
        :func:`_schur_direction`, but the Schur complement ``diag(c) - S^T
        diag(1/r) S`` (for ``n >= m``) is applied, never formed: one product
        with ``S`` and one with ``S^T`` per step, as CG on the whole two-block
        system takes, in about half the steps (with the block-diagonal
        preconditioner the whole system's spectrum is ``1 +- sigma_i``, and CG
        on it advances the reduced system by one step every two; see Hageman
        and Young, *Applied Iterative Methods*, on 2-cyclic systems). The
        heaviest potential of the smaller side is pinned (see
        :func:`_schur_direction`), the preconditioner is the Schur complement's
        diagonal. The stopping rule is the whole system's: its first block's
        residual is zero after the back substitution, so CG stops once the
        second block's residual is at most ``cg_tol`` times the right-hand
        side ``(grad_f, grad_g)``. Returns ``df, dg``, the CG steps and whether
        it converged.
        """
        xp, r, c, S, reg = self.xp, self.r, self.c, self.S, self.reg
        n, m = r.shape[0], c.shape[0]
        if n >= m:
            dg, df, steps, converged = _reduced_cg(r, c, S, S.T, self.entries, grad_f, grad_g,
                                                   reg, cg_tol, cg_max_iter, xp)
        else:
            data, rows, cols = self.entries
            df, dg, steps, converged = _reduced_cg(c, r, S.T, S, (data, cols, rows), grad_g,
                                                   grad_f, reg, cg_tol, cg_max_iter, xp)
        return df, dg, steps, converged

    def solve_direct(self, grad_f, grad_g):
        """``df, dg`` by :func:`_schur_direction`."""
        return _schur_direction(self.r, self.c, self.entries, grad_f, grad_g, self.reg, self.xp)


def _reduced_cg(r, c, S, ST, entries, bf, bg, reg, cg_tol, cg_max_iter, xp):
    """:meth:`_NewtonSystem.solve_cg` with the rows' side (``r``, ``bf``) eliminated.

    ``S`` is ``(n, m)`` with ``entries = (data, rows, cols)``, ``ST`` its
    transpose. Solves ``(diag(c) - S^T diag(1/r) S) dg = reg (bg - S^T (bf / r))``
    with the heaviest column's unknown pinned to 0, then ``df = (reg bf - S dg) / r``.
    Returns ``dg, df``, the CG steps and whether CG converged.
    """
    m = c.shape[0]
    data, rows, cols = entries
    dtype = r.dtype
    tiny = xp.finfo(dtype).smallest_normal
    r_safe = xp.maximum(r, tiny)
    dev = array_device(r)
    pin = xp.astype(xp.arange(m, device=dev) != xp.argmax(c), dtype)

    def schur(X):
        x = X[0, :]
        return ((c * x - sparse_matmul(ST, sparse_matmul(S, x) / r_safe)) * pin)[None, :]

    # The Schur complement's diagonal: c_j - sum_i S_ij^2 / r_i. It is at most c_j, and
    # near 0 only where a column's mass sits in rows it fills alone (its unknown then
    # barely couples): there c_j preconditions instead.
    diagonal = c - segment_sum(data * data / xp.take(r_safe, rows), cols, m, xp=xp)
    diagonal = xp.where(diagonal > 1e-3 * c, diagonal, c)
    inv_diag = xp.where(diagonal > 0, 1.0 / xp.where(diagonal > 0, diagonal, 1.0), 0.0) * pin
    rhs = reg * (bg - sparse_matmul(ST, bf / r_safe)) * pin
    # The whole system's residual is (0, residual / reg) after the back substitution.
    whole = math.sqrt(float(xp.vecdot(bf, bf) + xp.vecdot(bg * pin, bg * pin)))
    rhs_norm = math.sqrt(float(xp.vecdot(rhs, rhs)))
    rtol = cg_tol * reg * whole / rhs_norm if rhs_norm > 0 else cg_tol
    result = conjugate_gradient(schur, rhs[None, :], precondition=lambda R: R * inv_diag[None, :],
                                rtol=rtol, max_iter=cg_max_iter, reference="rhs", xp=xp)
    dg = result.x[0, :]
    df = (reg * bf - sparse_matmul(S, dg)) / r_safe
    return dg, df, result.n_iter, bool(result.converged[0])


def _schur_direction(r, c, entries, bf, bg, reg, xp):
    """The sparsified Newton system, solved directly through its Schur complement.

    ``[[diag(r), S], [S^T, diag(c)]] (df, dg) = reg (bf, bg)``: the larger side
    is eliminated, which leaves ``(diag(c) - S^T diag(1/r) S) dg = reg (bg -
    S^T (bf / r))`` on the smaller side, dense, with the unknown of its
    heaviest column pinned to 0, and solved by Cholesky. The dense matrix is no larger than the plan
    and costs ``min(n, m)^3 / 3`` flops. It was much faster than SuperLU on
    the whole sparse system (``n = m``, 16 to 30 kept entries per row) at
    ``n = 500`` and ``2000`` (timings:
    ``benchmarks/results/2026-12-05_moved_from_docstrings.md``).
    """
    n, m = r.shape[0], c.shape[0]
    data, rows, cols = entries
    if n < m:
        dg, df = _schur_direction(c, r, (data, cols, rows), bg, bf, reg, xp)
        return df, dg
    heaviest = int(xp.argmax(c))
    if heaviest != m - 1:
        # Pin the heaviest column, which the plan determines best, by swapping it
        # with the last: a pinned column of almost no mass is never raised by the
        # Newton steps (2-D clouds, n = 700: the L1 error stalled at 2 b_j for 20 steps).
        index = xp.arange(m, device=array_device(c))
        swap = xp.where(index == heaviest, m - 1, xp.where(index == m - 1, heaviest, index))
        df, dg = _schur_last_pinned(r, xp.take(c, swap), (data, rows, xp.take(swap, cols)),
                                    bf, xp.take(bg, swap), reg, xp)
        return df, xp.take(dg, swap)
    return _schur_last_pinned(r, c, entries, bf, bg, reg, xp)


def _schur_last_pinned(r, c, entries, bf, bg, reg, xp):
    """:func:`_schur_direction` with ``n >= m`` and the last column's potential pinned."""
    n, m = r.shape[0], c.shape[0]
    data, rows, cols = entries
    dtype = r.dtype
    tiny = xp.finfo(dtype).smallest_normal
    r_safe = xp.maximum(r, tiny)
    w = data / xp.sqrt(xp.take(r_safe, rows))
    A = sparse_gram(w, rows, cols, (n, m))  # S^T diag(1 / r) S
    A = -A[:m - 1, :m - 1]
    rhs = reg * (bg - segment_sum(data * xp.take(bf / r_safe, rows), cols, m, xp=xp))
    ridge = max(_RIDGE, 10.0 * float(xp.finfo(dtype).eps)) * float(xp.max(c))
    A = add_to_diagonal(A, c[:m - 1] + ridge)
    for _ in range(_RIDGE_TRIES):
        try:
            L = xp.linalg.cholesky(A)
        except Exception:  # NumPy raises on a non-positive pivot (CuPy gives NaN)
            L = None
        if L is not None and bool(xp.all(xp.isfinite(L))):
            y = solve_triangular(L, rhs[:m - 1], lower=True, xp=xp)
            y = solve_triangular(L, y, lower=True, trans=True, xp=xp)
            dg = xp.concat([y, xp.zeros(1, dtype=dtype, device=array_device(r))])
            df = (reg * bf - segment_sum(data * xp.take(dg, cols), rows, n, xp=xp)) / r_safe
            return df, dg
        A = add_to_diagonal(A, _RIDGE_GROWTH * ridge)
        ridge *= _RIDGE_GROWTH
    # Numerically indefinite even with a ridge: fall back on the diagonal step.
    return reg * bf / r_safe, reg * bg / xp.maximum(c, tiny)
