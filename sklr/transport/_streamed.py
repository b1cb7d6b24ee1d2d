"""Entropic transport between two point clouds, the cost and the plan never stored.

The streamed counterpart of :func:`sklr.transport.sinkhorn_newton` for
:class:`SinkhornNewtonOT` on large clouds (``streaming=True``): the
``n x m`` cost ``C_ij = c(x_i, y_j) / scale`` and the plan
``P_ij = exp((f_i + g_j - C_ij) / reg)`` exist only one tile at a time.

Tiles. Both clouds are put in the order of a k-d split (recursive halving
along the widest coordinate), so that consecutive points are neighbours; a
tile pairs ``_TILE_ROWS`` consecutive sources with ``_TILE_COLS`` consecutive
targets. The boxes around the tiles bound every cost in a pair of tiles from
below, hence every plan entry from above: a pair whose bound times its
number of entries is below ``_SKIP_FRACTION * tol / n_pairs`` is skipped
(its mass is at most ``_SKIP_FRACTION * tol`` in all). At small ``reg`` most
pairs are skipped: the plan lives near the graph of the transport map. The
bound is exact, so the skipping changes the marginals by less than that
fraction of ``tol``, never more.

A pass (:meth:`_StreamedCost.sweep`) computes the exponents of a tile by one
matrix product of augmented coordinates (``[2 x / (scale reg), (f - |x|^2 /
scale) / reg, 1]`` against ``[y, 1, (g - |y|^2 / scale) / reg]`` for the
squared Euclidean cost), exponentiates, and adds up what is asked: row sums,
column sums, the total, ``sum P log P``, and the entries above a threshold
(the candidates of the sparsified Hessian).

The solver (:func:`sinkhorn_newton_streamed`) follows
:func:`sinkhorn_newton`: Sinkhorn iterations (one pass per half-iteration),
then Newton steps with the sparsified Hessian solved by preconditioned
conjugate gradient (the direct solve would need a dense ``min(n, m)^2``
matrix) and a line search whose trial passes also gather the next
sparsified Hessian's candidates, so that a Newton step whose full step is
accepted costs one pass. Deviations from the in-memory solver, because a
pass is the unit of cost here: 20 Sinkhorn iterations before the Newton
stage (the paper's N1), ``_STREAM_EXTRA_SWEEPS`` after a damped step, no
finishing by Sinkhorn, and a CG iterate that did not reach ``cg_tol`` is
used as it is (any CG iterate from zero ascends the dual's quadratic model).
"""

import math
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from threadpoolctl import threadpool_limits

from ..utils._array_api import device as array_device
from ..utils._array_api import segment_sum, sparse_matrix, to_numpy
from ._newton_step import _DROP_RATIO, _NewtonSystem, _threshold
from ._sinkhorn_newton import (
    _ARMIJO,
    _BACKTRACK,
    _ENTRIES_PER_ROW,
    _MIN_STEP,
    _REG_FACTOR,
    _ROUNDING,
    _SCALING_FROM,
    _STAGE_TOL,
    _WARMUP_UP_TO,
    _forcing,
)

# Leaf sizes of the k-d orders: a tile is _TILE_ROWS sources by _TILE_COLS targets
# (8 MB of float64 exponents).
_TILE_ROWS = 512
_TILE_COLS = 2048

# At most this many consecutive column tiles are one product (2 x 512 x 2048
# exponents: 16 MB).
_RUN_TILES = 2

# Skipped tile pairs carry at most this fraction of tol, in all.
_SKIP_FRACTION = 1e-3

# Exponents are clipped to this ceiling in tiles whose bound exceeds it (trial
# steps that the line search rejects), and to the floor in every tile (NumPy's
# exp is slow where it underflows).
_EXP_CEILING = 300.0
_EXP_FLOOR = -700.0

# The streamed solve starts with _STREAM_SINKHORN Sinkhorn iterations at ten times
# its first reg, when that is at most _WARMUP_UP_TO of the largest cost (2-D clouds,
# reg = 1e-3, n = 10^4, 2 threads: 55 s and 11 Newton steps, against 78 s and 32
# from the cold start; at n = 10^5 the cold start's Newton steps gained 1.5 % each).

# Sinkhorn iterations before the Newton stage and after a damped Newton step.
_STREAM_SINKHORN = 20
_STREAM_EXTRA_SWEEPS = 20

# A pass gathers at most this many candidates (raising its threshold by factors of 2
# when it would hold more): at n = 10^5 a threshold lowered too far gathered billions
# of entries (the process was killed at 24 GB).
_GATHER_BUDGET = 1 << 27

# Candidates for the sparsified Hessian: entries at least the kept threshold divided
# by _GATHER_MARGIN are gathered by the next passes (a pass that finds too few
# gathers again with a threshold _REGATHER_FACTOR times lower).
_GATHER_MARGIN = 4.0
_REGATHER_FACTOR = 2.0 ** 4

# The sparsified Hessian keeps at most this many entries (or the density's, if more;
# 1.6 GB with their indices): at reg = 1e-3 on 2-D clouds the rule on the dropped
# mass asked for 870 entries per row at n = 10^4, a number that grows like n (the
# plan's support is a fixed fraction of the pairs), 20 GB at n = 10^5. A cap of
# 2^24 at n = 2 * 10^4 left Newton converging linearly (8 % per step at 2e-3).
_MAX_HESSIAN_ENTRIES = 1 << 26

# The Hessian's diagonal blocks are the kept entries' row and column sums (the exact
# Hessian of the dual of the plan restricted to them: a graph Laplacian), not the
# plan's marginals as in memory, and at least _KEPT_FLOOR times those. When the cap
# leaves much mass out (2-D clouds, n = 10^4, reg = 1e-3, the Hessian capped at 100
# entries per row), the marginals' diagonal made the system nearly diagonal and the
# Newton steps crawl like Sinkhorn's (3.5e-3 after 60 steps, also with the average of
# both); the kept diagonal converged in 6 Newton steps (2.8e-10), 0.2 to 0.4 of each
# step accepted. Near the solution its steps can raise the marginal error while the
# dual gains: below _GUARD_BELOW a step must lower the error.
_KEPT_FLOOR = 1e-3
_GUARD_BELOW = 1e-5

# A damped step that cut the marginal error by this factor is not followed by Sinkhorn
# iterations.
_PROGRESS = 0.5



def _kd_order(points, leaf):
    """A permutation of the rows of ``points`` (host array) into k-d leaves of at most ``leaf``.

    Returns the permutation and the leaves' boundaries (``starts[t]`` to
    ``starts[t + 1]``).
    """
    n = points.shape[0]
    order = np.arange(n)
    segments, leaves = [(0, n)], []
    while segments:
        lo, hi = segments.pop()
        if hi - lo <= leaf:
            leaves.append(lo)
            continue
        block = points[order[lo:hi]]
        axis = int(np.argmax(block.max(axis=0) - block.min(axis=0)))
        half = (hi - lo) // 2
        part = np.argpartition(block[:, axis], half)
        order[lo:hi] = order[lo:hi][part]
        segments.extend([(lo + half, hi), (lo, lo + half)])
    starts = np.array(sorted(leaves) + [n])
    return order, starts


def _boxes(points, starts):
    """The lower and upper corners of every leaf's bounding box."""
    lo = np.minimum.reduceat(points, starts[:-1], axis=0)
    hi = np.maximum.reduceat(points, starts[:-1], axis=0)
    return lo, hi


def _centred(points, starts):
    """Each leaf's box centre, every point's offset from its leaf's centre, each leaf's radius."""
    lo, hi = _boxes(points, starts)
    centres = 0.5 * (lo + hi)
    offsets = points - np.repeat(centres, np.diff(starts), axis=0)
    radii = np.sqrt(np.maximum.reduceat((offsets * offsets).sum(axis=1), starts[:-1]))
    return centres, offsets, radii


class _StreamedCost:
    """The cost between two clouds, tile by tile (see the module docstring).

    ``X`` and ``Y`` are stored in their k-d orders (``row_order``,
    ``col_order``: the permutations from the caller's order), centred on a
    common point (the cost does not change).
    """

    def __init__(self, X, Y, metric, xp):
        self.xp, self.metric = xp, metric
        X_np, Y_np = to_numpy(X), to_numpy(Y)
        centre = 0.5 * (X_np.mean(axis=0) + Y_np.mean(axis=0))
        X_np, Y_np = X_np - centre, Y_np - centre
        self.row_order, self.row_starts = _kd_order(X_np, _TILE_ROWS)
        self.col_order, self.col_starts = _kd_order(Y_np, _TILE_COLS)
        X_np, Y_np = X_np[self.row_order], Y_np[self.col_order]
        dev = array_device(X)
        self.X = xp.asarray(X_np, dtype=X.dtype, device=dev)
        self.Y = xp.asarray(Y_np, dtype=X.dtype, device=dev)
        self.x_sq = xp.sum(self.X * self.X, axis=1)
        self.y_sq = xp.sum(self.Y * self.Y, axis=1)
        row_lo, row_hi = _boxes(X_np, self.row_starts)
        col_lo, col_hi = _boxes(Y_np, self.col_starts)
        # Least and greatest squared distances between the boxes of every tile pair.
        near = np.zeros((row_lo.shape[0], col_lo.shape[0]))
        far = np.zeros_like(near)
        for d in range(X_np.shape[1]):
            gap = np.maximum(0.0, np.maximum(col_lo[None, :, d] - row_hi[:, None, d],
                                             row_lo[:, None, d] - col_hi[None, :, d]))
            near += gap * gap
            span = np.maximum(np.abs(col_hi[None, :, d] - row_lo[:, None, d]),
                              np.abs(row_hi[:, None, d] - col_lo[None, :, d]))
            far += span * span
        self.near_sq, self.far_sq = near, far
        # For the squared Euclidean bound: every point as its tile's centre plus an
        # offset, and each tile's radius (see _sqeuclidean_bounds).
        self._row_centres, self._row_offsets, self._row_radii = _centred(X_np, self.row_starts)
        self._col_centres, self._col_offsets, self._col_radii = _centred(Y_np, self.col_starts)
        self._x_sq_host = (X_np * X_np).sum(axis=1)
        self._y_sq_host = (Y_np * Y_np).sum(axis=1)
        self.scale = 1.0
        self.tiles_computed = 0
        # Threads for the passes: NumPy only (its kernels release the GIL).
        self.threaded = isinstance(self.X, np.ndarray)
        self.n_threads = 1

    @property
    def shape(self):
        return self.X.shape[0], self.Y.shape[0]

    def _cost_of(self, sq):
        return sq if self.metric == "sqeuclidean" else np.sqrt(sq)

    def tile_slices(self):
        rs, cs = self.row_starts, self.col_starts
        return ([slice(int(rs[i]), int(rs[i + 1])) for i in range(rs.shape[0] - 1)],
                [slice(int(cs[j]), int(cs[j + 1])) for j in range(cs.shape[0] - 1)])

    def max_cost(self):
        """``max_ij c(x_i, y_j)``, from the tile pairs whose farthest bound can hold it."""
        xp = self.xp
        rows, cols = self.tile_slices()
        pairs = np.argsort(-self.far_sq, axis=None)
        best = 0.0
        for flat in pairs:
            i, j = divmod(int(flat), self.far_sq.shape[1])
            if self.far_sq[i, j] * (1.0 + 1e-12) < best:
                break
            X, Y = self.X[rows[i], ...], self.Y[cols[j], ...]
            sq = (self.x_sq[rows[i]][:, None] + self.y_sq[cols[j]][None, :]
                  - 2.0 * (X @ xp.matrix_transpose(Y)))
            best = max(best, float(xp.max(sq)))
        return float(self._cost_of(best))

    def _sqeuclidean_bounds(self, f, g, reg):
        """Upper and lower bounds on the exponents of every tile pair, squared Euclidean cost.

        With ``F = f - |x|^2 / s``, ``G = g - |y|^2 / s`` and points written as
        their tile's centre plus an offset (``x = c_I + d``, ``y = c_J + e``),
        the exponent times ``reg`` is
        ``F_i + G_j + 2 x_i . y_j / s = 2 c_I . c_J / s + (F_i + 2 d_i . c_J / s)
        + (G_j + 2 c_I . e_j / s) + 2 d_i . e_j / s``, and ``|d_i . e_j| <= rho_I
        rho_J`` (the radii). The first-order terms follow the potentials'
        slopes inside a tile, which a bound from box distances and potential
        maxima alone cannot (2-D clouds, n = 600: it skipped a third of the
        pairs at reg = 1e-4).
        """
        s = self.scale
        F = f - self._x_sq_host / s
        G = g - self._y_sq_host / s
        left = F[:, None] + (2.0 / s) * (self._row_offsets @ self._col_centres.T)
        right = G[:, None] + (2.0 / s) * (self._col_offsets @ self._row_centres.T)
        starts_r, starts_c = self.row_starts[:-1], self.col_starts[:-1]
        centre = (2.0 / s) * (self._row_centres @ self._col_centres.T)
        cross = (2.0 / s) * np.outer(self._row_radii, self._col_radii)
        upper = (centre + np.maximum.reduceat(left, starts_r, axis=0)
                 + np.maximum.reduceat(right, starts_c, axis=0).T + cross)
        lower = (centre + np.minimum.reduceat(left, starts_r, axis=0)
                 + np.minimum.reduceat(right, starts_c, axis=0).T - cross)
        return upper / reg, lower / reg

    def sweep(self, f, g, reg, tol, *, rows=True, cols=True, total=False, entropy=False,
              gather=None):
        """One pass over the plan of ``(f, g)`` (see the module docstring).

        Returns a dict with what was asked: ``r``, ``c`` (row and column
        sums), ``total``, ``plogp`` (``sum P log P``), ``gathered``
        (``(data, rows, cols)`` of the entries at least ``gather``).
        """
        xp = self.xp
        n, m = self.shape
        dtype, dev = self.X.dtype, array_device(self.X)
        row_slices, col_slices = self.tile_slices()
        f_np, g_np = to_numpy(f), to_numpy(g)
        f_max = np.maximum.reduceat(f_np, self.row_starts[:-1])
        g_max = np.maximum.reduceat(g_np, self.col_starts[:-1])
        if self.metric == "sqeuclidean":
            bound, lowest = self._sqeuclidean_bounds(f_np, g_np, reg)
        else:
            bound = (f_max[:, None] + g_max[None, :] - self._cost_of(self.near_sq) / self.scale
                     ) / reg
            f_min = np.minimum.reduceat(f_np, self.row_starts[:-1])
            g_min = np.minimum.reduceat(g_np, self.col_starts[:-1])
            lowest = (f_min[:, None] + g_min[None, :] - self._cost_of(self.far_sq) / self.scale
                      ) / reg
        sizes = (np.diff(self.row_starts)[:, None] * np.diff(self.col_starts)[None, :])
        # Skip the pairs whose entries together weigh at most _SKIP_FRACTION * tol.
        limit = math.log(_SKIP_FRACTION * tol / bound.size)
        keep = bound + np.log(sizes) > limit
        out = {}
        if rows or cols:
            # What the skipped pairs may hold, per row and per column (upper bounds).
            skipped = np.where(keep, 0.0, np.exp(np.minimum(bound, 0.0)))
            if rows:
                out["r_slack"] = xp.asarray(np.repeat(skipped @ np.diff(self.col_starts),
                                                      np.diff(self.row_starts)),
                                            dtype=dtype, device=dev)
            if cols:
                out["c_slack"] = xp.asarray(np.repeat(np.diff(self.row_starts) @ skipped,
                                                      np.diff(self.col_starts)),
                                            dtype=dtype, device=dev)
        r = xp.zeros(n, dtype=dtype, device=dev) if rows else None
        inv = 1.0 / (self.scale * reg)
        if self.metric == "sqeuclidean":
            left = xp.concat([self.X * (2.0 * inv), ((f - self.x_sq / self.scale) / reg)[:, None],
                              xp.ones((n, 1), dtype=dtype, device=dev)], axis=1)
            right = xp.concat([self.Y, xp.ones((m, 1), dtype=dtype, device=dev),
                               ((g - self.y_sq / self.scale) / reg)[:, None]], axis=1)
        else:
            left = xp.concat([self.X * -2.0, self.x_sq[:, None],
                              xp.ones((n, 1), dtype=dtype, device=dev)], axis=1)
            right = xp.concat([self.Y, xp.ones((m, 1), dtype=dtype, device=dev),
                               self.y_sq[:, None]], axis=1)
        log_gather = None if gather is None else math.log(gather) if gather > 0 else -math.inf
        index_dtype = xp.int32 if max(n, m) < 2**31 - 1 else xp.int64

        def work(tiles):
            """The row tiles ``tiles``: their row sums into ``r``; the rest returned."""
            c = xp.zeros(m, dtype=dtype, device=dev) if cols else None
            tot, plogp, parts, count = 0.0, 0.0, [], 0
            floor, held = log_gather, 0
            for i in tiles:
                rs = row_slices[i]
                js = np.flatnonzero(keep[i])
                # Consecutive kept column tiles, up to _RUN_TILES, are one product.
                runs = np.split(js, np.flatnonzero(np.diff(js) > 1) + 1) if js.shape[0] else []
                runs = [run[k:k + _RUN_TILES] for run in runs
                        for k in range(0, run.shape[0], _RUN_TILES)]
                for run in runs:
                    cs = slice(col_slices[run[0]].start, col_slices[run[-1]].stop)
                    E = left[rs, ...] @ xp.matrix_transpose(right[cs, ...])
                    if self.metric != "sqeuclidean":
                        E = xp.sqrt(xp.clip(E, min=0.0))
                        E = (f[rs][:, None] + g[cs][None, :] - E / self.scale) / reg
                    count += run.shape[0]
                    # Clip only tiles whose bounds reach past the floor or the ceiling.
                    upper = _EXP_CEILING if float(np.max(bound[i, run])) > _EXP_CEILING else None
                    lower = _EXP_FLOOR if float(np.min(lowest[i, run])) < _EXP_FLOOR else None
                    if upper is not None or lower is not None:
                        E = xp.clip(E, min=lower, max=upper)
                    P = xp.exp(E)
                    if rows:
                        r[rs] += xp.sum(P, axis=1)
                    if cols:
                        c[cs] += xp.sum(P, axis=0)
                    if total:
                        tot += float(xp.sum(P))
                    if entropy:
                        plogp += float(xp.sum(P * E))
                    if floor is not None and float(np.max(bound[i, run])) >= floor:
                        flat = xp.nonzero(xp.reshape(E >= floor, (-1,)))[0]
                        if flat.shape[0]:
                            width = P.shape[1]
                            parts.append((xp.take(xp.reshape(P, (-1,)), flat),
                                          xp.astype(flat // width + rs.start, index_dtype),
                                          xp.astype(flat % width + cs.start, index_dtype)))
                            held += flat.shape[0]
                            while held > budget:
                                # Too many candidates: raise the threshold, drop those under it.
                                floor += math.log(2.0)
                                parts = _above(parts, math.exp(floor), xp)
                                held = sum(part[0].shape[0] for part in parts)
            return c, tot, plogp, parts, count, floor
            return c, tot, plogp, parts, count

        tiles = [i for i in range(len(row_slices)) if keep[i].any()]
        threads = max(1, min(self.n_threads, len(tiles))) if self.threaded else 1
        budget = max(1, _GATHER_BUDGET // threads)
        if threads > 1:
            # NumPy releases the GIL in the products, exp and sums: threads over the
            # row tiles (disjoint rows of r), BLAS kept to one thread in each.
            with threadpool_limits(1), ThreadPoolExecutor(threads) as pool:
                results = list(pool.map(work, [tiles[t::threads] for t in range(threads)]))
        else:
            results = [work(tiles)]
        c = results[0][0]
        for other in results[1:]:
            if cols:
                c = c + other[0]
        tot = sum(res[1] for res in results)
        plogp = sum(res[2] for res in results)
        parts = [part for res in results for part in res[3]]
        if gather is not None:
            floor = max(res[5] for res in results)
            if floor > log_gather:
                parts = _above(parts, math.exp(floor), xp)
            out["gather_floor"] = math.exp(floor) if floor > -math.inf else 0.0
            out["saturated"] = floor > log_gather  # the budget, not the threshold, decided
        self.tiles_computed += sum(res[4] for res in results)
        if rows:
            out["r"] = r
        if cols:
            out["c"] = c
        if total:
            out["total"] = tot
        if entropy:
            out["plogp"] = plogp
        if gather is not None:
            out["gathered"] = _concat_parts(parts, xp, dtype, dev)
        return out


def _above(parts, threshold, xp):
    """The gathered ``(data, rows, cols)`` parts, cut to the entries at least ``threshold``."""
    kept = []
    for data, rows, cols in parts:
        at = xp.nonzero(data >= threshold)[0]
        if at.shape[0]:
            kept.append((xp.take(data, at), xp.take(rows, at), xp.take(cols, at)))
    return kept


def _concat_parts(parts, xp, dtype, dev):
    if not parts:
        empty = xp.zeros(0, dtype=xp.int32, device=dev)
        return xp.zeros(0, dtype=dtype, device=dev), empty, empty
    return tuple(xp.concat([p[k] for p in parts]) for k in range(3))


def _hessian_entries(gathered, total, k, max_dropped, xp, everything=False, saturated=False):
    """The kept entries among the gathered ones: at least ``k``, at most ``max_dropped`` left out.

    Returns ``(data, rows, cols)`` sorted by row, and the threshold, or None
    when the gathered entries are too few to decide (``everything``: they
    are all the plan has, and all are kept; ``saturated``: they are all the
    gathering budget allowed, and the heaviest up to the cap are kept).
    """
    data, rows, cols = gathered
    count = data.shape[0]
    if everything:
        k = min(k, count)
        max_dropped = math.inf
    if count < k or count == 0:
        return None
    cap = max(k, _MAX_HESSIAN_ENTRIES)
    outside = max(total - float(xp.sum(data)), 0.0)
    if outside > max_dropped:
        if count < cap and not saturated:
            return None  # gather more
        k, max_dropped, outside = min(cap, count), None, 0.0  # the memory cap decides
    threshold = 0.0
    if k < count:
        threshold = _threshold(data[None, :], k, max_dropped, xp, outside=outside)
    keep = xp.nonzero(data >= threshold)[0]
    if keep.shape[0] > cap:
        threshold = _threshold(data[None, :], cap, None, xp)
        keep = xp.nonzero(data >= threshold)[0]
    data, rows, cols = xp.take(data, keep), xp.take(rows, keep), xp.take(cols, keep)
    by_row = xp.argsort(rows, stable=True)
    return (xp.take(data, by_row), xp.take(rows, by_row), xp.take(cols, by_row)), threshold


def _newton_direction(r, c, entries, grad_f, grad_g, reg, cg_tol, cg_max_iter, xp):
    """CG on the sparsified Newton system (:meth:`_NewtonSystem.solve_cg`), its last iterate."""
    n, m = r.shape[0], c.shape[0]
    data, rows, cols = entries
    indptr = xp.searchsorted(rows, xp.arange(n + 1, dtype=rows.dtype, device=array_device(r)))
    S = sparse_matrix(data, cols, indptr, (n, m), format="csr", like=data)
    system = _NewtonSystem(r, c, S, entries, reg, xp)
    return system.solve_cg(grad_f, grad_g, cg_tol, cg_max_iter)


def sinkhorn_newton_streamed(cost, a, b, reg, *, tol=1e-9, max_iter=100, density=None,
                             n_sinkhorn="auto", cg_tol=1e-6, cg_max_iter=1000, verbose=0):
    """Sinkhorn then sparse Newton on a :class:`_StreamedCost` (weights positive, summing to 1).

    ``a``, ``b`` are in the cost's k-d orders. Returns the potentials ``f, g``
    (same orders) and a log dict like :func:`sinkhorn_newton`'s, with
    ``r``, ``c`` (the plan's marginals), ``plogp`` and ``tiles_computed``
    (tile pairs evaluated, over all passes) and ``tiles`` (pairs per pass).
    Below ``1e-3`` of the largest cost, ``reg`` is reached by epsilon
    scaling, as in :func:`sinkhorn_newton`; the first stage is warm-started
    by 20 Sinkhorn iterations at ten times its ``reg`` (``_WARMUP_UP_TO``).
    """
    spread = cost.max_cost() / cost.scale  # (the least cost taken as 0: a stage more at most)
    regs = [reg]
    while regs[-1] < _SCALING_FROM * spread:
        regs.append(regs[-1] * _REG_FACTOR)
    regs = regs[::-1]
    start, total = None, None
    warmup = regs[0] * _REG_FACTOR
    if warmup <= _WARMUP_UP_TO * spread:
        # Warm start: Sinkhorn iterations at ten times the first reg (no Newton step).
        f, g, _ = _solve_streamed_at(
            cost, a, b, warmup, tol=_STAGE_TOL, max_iter=0, density=density,
            n_sinkhorn=_STREAM_SINKHORN, cg_tol=cg_tol, cg_max_iter=cg_max_iter,
            verbose=verbose, start=None)
        start = (f, g)
    for i, reg_i in enumerate(regs):
        final = i == len(regs) - 1
        f, g, log = _solve_streamed_at(
            cost, a, b, reg_i, tol=tol if final else max(tol, _STAGE_TOL), max_iter=max_iter,
            density=density, n_sinkhorn=n_sinkhorn, cg_tol=cg_tol, cg_max_iter=cg_max_iter,
            verbose=verbose, start=start)
        start = (f, g)
        if total is None:
            total = log
        else:
            for name in ("err", "dual", "n_cg", "nnz", "n_sinkhorn", "n_sinkhorn_extra",
                         "n_newton", "n_fallback"):
                total[name] = total[name] + log[name]
            for name in ("converged", "final_err", "r", "c", "total", "plogp", "tiles_computed"):
                total[name] = log[name]
        if verbose and not final:
            print(f"[sinkhorn_newton streamed] reg {reg_i:.3g}: marginal error "
                  f"{log['final_err']:.3e}")
    total["reg_schedule"] = regs
    total["warmup_reg"] = warmup if warmup <= _WARMUP_UP_TO * spread else None
    return f, g, total


def _solve_streamed_at(cost, a, b, reg, *, tol, max_iter, density, n_sinkhorn, cg_tol,
                       cg_max_iter, verbose, start=None):
    """One epsilon-scaling stage of :func:`sinkhorn_newton_streamed` (``start``: warm start)."""
    xp = cost.xp
    n, m = cost.shape
    log_a, log_b = xp.log(a), xp.log(b)
    n_sinkhorn = _STREAM_SINKHORN if n_sinkhorn == "auto" else int(n_sinkhorn)
    fraction = (min(1.0, _ENTRIES_PER_ROW / min(n, m)) if density is None else density)
    k = max(1, min(n * m, math.ceil(fraction * n * m)))
    errors, n_cg_log, nnz_log, dual_log = [], [], [], []
    clock = time.perf_counter()

    if start is None:
        # f = 0, then the exact (log-domain) g update, column by column over the passes.
        f = xp.zeros(n, dtype=a.dtype, device=array_device(a))
        g = reg * (log_b - _exact_lse(cost, f, xp.zeros(m, dtype=a.dtype,
                                                        device=array_device(a)), reg, 0))
    else:
        f, g = start

    def evaluate(f, g, gather):
        return cost.sweep(f, g, reg, tol, total=True, gather=gather)

    # Sinkhorn: one pass for the rows, one for the columns.
    n_done, state = 0, None
    for _ in range(max(n_sinkhorn, 1)):
        f_new, r = _sinkhorn_half(cost, f, g, reg, tol, log_a, 1)
        if n_done > 0:
            errors.append(float(xp.sum(xp.abs(r - a))))
            if errors[-1] <= tol:
                break
        f = f_new
        g, _ = _sinkhorn_half(cost, f, g, reg, tol, log_b, 0)
        n_done += 1
        if verbose and errors and n_done % 5 == 0:
            print(f"[sinkhorn_newton streamed] Sinkhorn {n_done}: marginal error "
                  f"{errors[-1]:.3e} ({time.perf_counter() - clock:.1f} s)")
    gather = 0.0
    state = evaluate(f, g, gather=None)
    err = float(xp.sum(xp.abs(state["r"] - a)) + xp.sum(xp.abs(state["c"] - b)))
    errors.append(err)
    dual = float(xp.vecdot(a, f) + xp.vecdot(b, g)) - reg * state["total"]
    n_newton, n_extra, n_fallback = 0, 0, 0
    best = (err, f, g, state)
    while err > tol and n_newton < max_iter:
        n_newton += 1
        grad_f, grad_g = a - state["r"], b - state["c"]
        # The sparsified Hessian from the gathered candidates (gather again if too few).
        picked = None
        if "gathered" in state:
            picked = _hessian_entries(state["gathered"], state["total"], k,
                                      _DROP_RATIO * err, xp, saturated=state["saturated"])
        while picked is None:
            gather = gather / _REGATHER_FACTOR if gather > 0 else _first_gather(state, k)
            if gather < 1e-300:
                gather = 0.0  # every entry of the computed tiles
            found = cost.sweep(f, g, reg, tol, rows=False, cols=False, gather=gather)
            state["gathered"], state["saturated"] = found["gathered"], found["saturated"]
            picked = _hessian_entries(state["gathered"], state["total"], k,
                                      _DROP_RATIO * err, xp, everything=gather == 0.0,
                                      saturated=found["saturated"])
        entries, threshold = picked
        gather = threshold / _GATHER_MARGIN
        # An inexact Newton step (see _forcing): far from the solution CG stops early.
        forcing = _forcing(err, tol, cg_tol)
        # The diagonal of the kept entries (see _KEPT_FLOOR), not the plan's marginals.
        data_k, rows_k, cols_k = entries
        r_h = xp.maximum(segment_sum(data_k, rows_k, n, xp=xp), _KEPT_FLOOR * state["r"])
        c_h = xp.maximum(segment_sum(data_k, cols_k, m, xp=xp), _KEPT_FLOOR * state["c"])
        df, dg, n_cg, _ = _newton_direction(r_h, c_h, entries, grad_f, grad_g,
                                            reg, forcing, cg_max_iter, xp)
        n_cg_log.append(n_cg)
        nnz_log.append(int(entries[0].shape[0]))
        slope = float(xp.vecdot(grad_f, df) + xp.vecdot(grad_g, dg))
        step, allowance, accepted = 1.0, _ROUNDING * max(abs(dual), 1.0), None
        while step >= _MIN_STEP and slope > 0:
            f_new, g_new = f + step * df, g + step * dg
            trial = evaluate(f_new, g_new, gather)
            dual_new = float(xp.vecdot(a, f_new) + xp.vecdot(b, g_new)) - reg * trial["total"]
            if math.isfinite(dual_new) and dual_new >= dual + _ARMIJO * step * slope - allowance:
                # A gain within the dual's rounding proves nothing, nor any gain near the
                # solution (see _GUARD_BELOW): then the marginal error must fall.
                err_new = float(xp.sum(xp.abs(trial["r"] - a)) + xp.sum(xp.abs(trial["c"] - b)))
                if (dual_new > dual + allowance and err > _GUARD_BELOW) or err_new < err:
                    accepted = (f_new, g_new, trial, dual_new)
                    break
            curvature = ((dual_new - dual - slope * step) / step ** 2
                         if math.isfinite(dual_new) else -math.inf)
            best_step = -slope / (2.0 * curvature) if curvature < 0 else 0.0
            step = min(max(best_step, _BACKTRACK[0] * step), _BACKTRACK[1] * step)
        if accepted is None:
            n_fallback += 1
            k = min(n * m, 4 * k)
        else:
            f, g, state, dual = accepted
        progress = accepted is not None and float(
            xp.sum(xp.abs(state["r"] - a)) + xp.sum(xp.abs(state["c"] - b))) < _PROGRESS * err
        if accepted is None or (step < 1.0 and not progress):
            for _ in range(_STREAM_EXTRA_SWEEPS):
                f, _ = _sinkhorn_half(cost, f, g, reg, tol, log_a, 1)
                g, _ = _sinkhorn_half(cost, f, g, reg, tol, log_b, 0)
            n_extra += _STREAM_EXTRA_SWEEPS
            state = evaluate(f, g, gather)
            dual = float(xp.vecdot(a, f) + xp.vecdot(b, g)) - reg * state["total"]
        err = float(xp.sum(xp.abs(state["r"] - a)) + xp.sum(xp.abs(state["c"] - b)))
        errors.append(err)
        dual_log.append(dual)
        if err < best[0]:
            best = (err, f, g, state)
        if verbose:
            print(f"[sinkhorn_newton streamed] Newton {n_newton}: marginal error {err:.3e}, "
                  f"step {step:.3g}, {n_cg} CG steps, {nnz_log[-1]} Hessian entries, "
                  f"{cost.tiles_computed} tiles so far ({time.perf_counter() - clock:.1f} s)")
    err, f, g, state = best
    final = cost.sweep(f, g, reg, tol, total=True, entropy=True)
    return f, g, {
        "err": errors, "dual": dual_log, "n_cg": n_cg_log, "nnz": nnz_log,
        "n_sinkhorn": n_done, "n_sinkhorn_extra": n_extra, "n_newton": n_newton,
        "n_fallback": n_fallback, "n_direct": 0, "converged": err <= tol, "final_err": err,
        "r": final["r"], "c": final["c"], "total": final["total"], "plogp": final["plogp"],
        "tiles_computed": cost.tiles_computed,
        "tiles": cost.near_sq.size,
    }


def _first_gather(state, k):
    """A first candidate threshold: the mean entry of the heaviest ``k``, guessed from the total."""
    return state["total"] / k / _GATHER_MARGIN


def _exact_lse(cost, f, g, reg, axis, subset=None):
    """``log sum exp((f_i + g_j - C_ij) / reg)`` along ``axis`` (1: per row), exact and stable.

    Over every tile (none skipped, no clipping), for the rows (``axis=1``)
    or columns (``axis=0``) in ``subset`` (host indices; all when None): the
    log-sum-exps are merged over the tiles (running maximum and rescaled sum).
    Returns an array of the subset's size.
    """
    xp = cost.xp
    dtype, dev = cost.X.dtype, array_device(cost.X)
    row_slices, col_slices = cost.tile_slices()
    outer, inner = (row_slices, col_slices) if axis == 0 else (col_slices, row_slices)
    size = cost.shape[1 - axis] if subset is None else subset.shape[0]
    # The reduced side in chunks: all of it (by tiles), or the subset in chunks of a tile.
    if subset is None:
        chunks = [(cs, cs) for cs in inner]
    else:
        step = _TILE_ROWS if axis == 1 else _TILE_COLS
        chunks = [(slice(k, min(k + step, size)),
                   xp.asarray(subset[k:k + step], device=dev)) for k in range(0, size, step)]
    running_max = xp.full(size, -math.inf, dtype=dtype, device=dev)
    running_sum = xp.zeros(size, dtype=dtype, device=dev)

    def work(group):
        """The chunks ``group`` (disjoint parts of the result)."""
        for out_slice, index in group:
            _merge_lse(cost, f, g, reg, axis, index, outer, out_slice, running_max,
                       running_sum)

    threads = max(1, min(cost.n_threads, len(chunks))) if cost.threaded else 1
    if threads > 1:
        with threadpool_limits(1), ThreadPoolExecutor(threads) as pool:
            list(pool.map(work, [chunks[t::threads] for t in range(threads)]))
    else:
        work(chunks)
    return running_max + xp.log(running_sum)


def _merge_lse(cost, f, g, reg, axis, index, outer, out_slice, running_max, running_sum):
    """Merge the log-sum-exps of the rows or columns ``index`` over every tile of ``outer``."""
    xp = cost.xp
    for other in outer:
        rows, cols = (index, other) if axis == 1 else (other, index)
        Xr = cost.X[rows, ...] if isinstance(rows, slice) else xp.take(cost.X, rows, axis=0)
        Yc = cost.Y[cols, ...] if isinstance(cols, slice) else xp.take(cost.Y, cols, axis=0)
        x_sq = cost.x_sq[rows] if isinstance(rows, slice) else xp.take(cost.x_sq, rows)
        y_sq = cost.y_sq[cols] if isinstance(cols, slice) else xp.take(cost.y_sq, cols)
        f_r = f[rows] if isinstance(rows, slice) else xp.take(f, rows)
        g_c = g[cols] if isinstance(cols, slice) else xp.take(g, cols)
        sq = xp.clip(x_sq[:, None] + y_sq[None, :] - 2.0 * (Xr @ xp.matrix_transpose(Yc)),
                     min=0.0)
        C = (sq if cost.metric == "sqeuclidean" else xp.sqrt(sq)) / cost.scale
        E = (f_r[:, None] + g_c[None, :] - C) / reg
        old_max = running_max[out_slice]
        new_max = xp.maximum(old_max, xp.max(E, axis=axis))
        # Rows or columns still at -inf everywhere stay there (no inf - inf).
        safe = xp.where(xp.isfinite(new_max), new_max, 0.0)
        shifted = E - (safe[None, :] if axis == 0 else safe[:, None])
        running_sum[out_slice] = (running_sum[out_slice] * xp.exp(old_max - safe)
                                  + xp.sum(xp.exp(shifted), axis=axis))
        running_max[out_slice] = new_max


# A row or column sum known to less than this relative accuracy (the skipped pairs'
# bound), or this small (clipped exponents), is recomputed exactly in the log domain.
_SLACK_RATIO = 1e3
_TINY_SUM = math.exp(-600.0)


def _sinkhorn_half(cost, f, g, reg, tol, log_w, axis):
    """One half of a Sinkhorn iteration: ``f`` (``axis=1``) or ``g`` (``axis=0``) updated.

    ``w`` (the row or column weights) over the streamed sums, which are
    exact up to the skipped pairs' bound; sums known less accurately than
    ``_SLACK_RATIO`` times that bound are recomputed by :func:`_exact_lse`.
    Returns the updated potential and the sums (before the update).
    """
    xp = cost.xp
    name = "r" if axis == 1 else "c"
    out = cost.sweep(f, g, reg, tol, rows=axis == 1, cols=axis == 0)
    sums, slack = out[name], out[name + "_slack"]
    potential = f if axis == 1 else g
    tiny = xp.finfo(sums.dtype).smallest_normal
    updated = potential + reg * (log_w - xp.log(xp.maximum(sums + slack, tiny)))
    doubtful = to_numpy((sums < _SLACK_RATIO * slack) | (sums < _TINY_SUM))
    if doubtful.any():
        idx = np.flatnonzero(doubtful)
        lse = _exact_lse(cost, f, g, reg, axis, idx)
        dev = array_device(potential)
        idx_x = xp.asarray(idx, device=dev)
        exact = xp.take(potential, idx_x) + reg * (xp.take(log_w, idx_x) - lse)
        # Scattered on the host: the array API has no integer-array assignment.
        host = np.array(to_numpy(updated), copy=True)
        host[idx] = to_numpy(exact)
        updated = xp.asarray(host, dtype=potential.dtype, device=dev)
    return updated, sums
