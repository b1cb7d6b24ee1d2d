"""Alternating minimisation on a Dask cluster, in Spark ALS's layout.

The observed entries of a Dask DataFrame of ``(row, column, value)`` are
partitioned twice, into blocks of consecutive rows and blocks of consecutive
columns (one shard per block, built and kept on the workers). A sweep sends
the column factors ``V`` (``n_cols x k``, small) to every row shard, which
solves its rows' ``k x k`` normal equations and returns its block of ``U``
with its squared error; the column update is the same with the sides
swapped. The client holds the two factors and a few numbers per row and
column (offsets, counts), never the entries.

Each shard's update is the in-memory solver's (:class:`~._altmin._Side`,
:func:`~._altmin._solve_exact`) on its block of problems, and the outer
iteration, the spectral start and the safeguards (:func:`~._altmin._fit_rank`)
are the in-memory ones, so a fit equals :func:`~._altmin.complete_matrix`
on the same entries to rounding. Only ``dask.delayed``, ``dask.persist`` and
``dask.compute`` are used (from the backend's ``dask_module``), which any
scheduler (a ``distributed`` client or the local threads) runs.
"""

import math

import numpy as np

from ..utils._array_api import namespace_and_device
from ..utils._namespace import dask_module
from ._altmin import (
    _BIAS_ROUNDS,
    _alternate,
    _fit_rank,
    _shrunk_mean,
    _Side,
    _solve_exact,
    _spectral_start,
)

__all__ = ["complete_matrix_blocked", "is_dask_frame"]


def _numpy():
    """NumPy's array-API namespace (the bare module lacks some functions before NumPy 2.1)."""
    return namespace_and_device(np.zeros(0))[0]


def is_dask_frame(X):
    """Whether ``X`` is a lazy data frame split into partitions (a Dask DataFrame)."""
    return all(hasattr(X, name) for name in ("__dask_graph__", "to_delayed", "columns",
                                              "npartitions"))


# ---------------------------------------------------------------- on the workers
def _triplets(part):
    """A partition's ``(rows, cols, values)`` as NumPy arrays (its first three columns)."""
    return tuple(part.iloc[:, j].to_numpy() for j in range(3))


def _summarise(part):
    """What the client checks of one partition: dtypes, ranges, finiteness, size."""
    rows, cols, values = _triplets(part)
    finite = bool(np.all(np.isfinite(values))) if values.dtype.kind in "fiu" else False
    return {
        "n": rows.shape[0],
        "kinds": (rows.dtype.kind, cols.dtype.kind, values.dtype.kind),
        "min": (int(rows.min()), int(cols.min())) if rows.shape[0] else (0, 0),
        "max": (int(rows.max()), int(cols.max())) if rows.shape[0] else (-1, -1),
        "finite": finite,
    }


def _split(part, axis, bounds):
    """A partition's entries split by block of ``axis`` (0: rows, 1: columns)."""
    rows, cols, values = _triplets(part)
    problem, other = (rows, cols) if axis == 0 else (cols, rows)
    block = np.searchsorted(bounds, problem, side="right") - 1
    order = np.argsort(block, kind="stable")
    edges = np.searchsorted(block[order], np.arange(len(bounds)))
    pieces = []
    for b in range(len(bounds) - 1):
        take = order[edges[b]:edges[b + 1]]
        pieces.append((problem[take].astype(np.int64), other[take].astype(np.int64),
                       values[take].astype(np.float64)))
    return pieces


class _Shard:
    """One block of problems (rows ``lo:hi``, or columns) with its entries and residuals.

    The grouped layout (a :class:`~._altmin._Side`) is rebuilt where the
    shard lands instead of being sent: only the sorted entries travel.
    """

    def __init__(self, lo, hi, n_other, problem, other, values, resid=None, side=None):
        self.lo, self.hi, self.n_other = lo, hi, n_other
        self.problem, self.other, self.values = problem, other, values
        self.resid = resid
        self._side = side

    @property
    def side(self):
        if self._side is None:
            self._side = _Side(self.problem, self.other, self.values, self.hi - self.lo,
                               self.n_other, _numpy(), None)
        return self._side

    def __getstate__(self):
        return {key: value for key, value in self.__dict__.items() if key != "_side"}

    def __setstate__(self, state):
        self.__dict__.update(state, _side=None)

    def with_resid(self, resid):
        return _Shard(self.lo, self.hi, self.n_other, self.problem, self.other, self.values,
                      resid, self._side)


def _build_shard(lo, hi, n_other, axis, *pieces):
    """The shard of problems ``lo:hi`` from every partition's piece; refuses repeated entries."""
    problem = np.concatenate([p[0] for p in pieces]) - lo
    other = np.concatenate([p[1] for p in pieces])
    values = np.concatenate([p[2] for p in pieces])
    side = _Side(problem, other, values, hi - lo, n_other, _numpy(), None)
    key = side.problem * n_other + side.other
    repeated = np.flatnonzero(key[1:] == key[:-1])
    if repeated.shape[0]:
        i = int(repeated[0])
        row, col = (side.problem[i] + lo, side.other[i])
        row, col = (row, col) if axis == 0 else (col, row)
        raise ValueError(f"X repeats the entry (row {row}, column {col}): each (row, column) "
                         "may be observed once.")
    return _Shard(lo, hi, n_other, side.problem, side.other, side.values, side=side)


def _shard_counts(shard):
    return shard.side.counts


def _shard_sum(shard):
    return float(np.sum(shard.side.values))


def _shard_bias(shard, mean, other_bias, alpha):
    side = shard.side
    return _shrunk_mean(side, side.values - mean - other_bias[side.other], alpha)


def _shard_offset_residual(shard, mean, own_bias, other_bias, scale):
    side = shard.side
    resid = side.values - (mean + own_bias[side.problem] + other_bias[side.other])
    return shard.with_resid(resid / scale)


def _shard_residual_stats(shard):
    return float(np.sum(shard.resid * shard.resid)), float(np.max(np.abs(shard.resid),
                                                                   initial=0.0))


def _shard_product(shard, Q, p):
    return shard.side.spmm(shard.resid / p, Q)


def _shard_solve(shard, F, alpha, error):
    """The shard's problems solved exactly against the other factor ``F`` (and their SSE)."""
    side = shard.side
    X = _solve_exact(side, F, side.spmm(shard.resid, F), alpha, side.design(F, lazy=True))
    sse = (side.squared_error(side.design(F, lazy=True), X, side.pad_values(shard.resid))
           if error else 0.0)
    return X, sse


# ---------------------------------------------------------------- on the client
def _bounds(n, n_blocks):
    """``n_blocks + 1`` edges of blocks of consecutive indices (as even as possible)."""
    n_blocks = max(1, min(n_blocks, n))
    return [n * b // n_blocks for b in range(n_blocks + 1)]


def read_entries(frame, n_blocks=None):
    """Check a Dask DataFrame of ``(row, column, value)`` and shard it on the cluster.

    Returns ``((row_shards, row_bounds), (col_shards, col_bounds), shape,
    n_observed)``: lists of persisted ``dask.delayed`` shards (one per block
    of rows, one per block of columns) and the blocks' edges.
    """
    dask = dask_module()
    if len(frame.columns) != 3:
        raise ValueError(
            "A Dask DataFrame X must have three columns (row index, column index, observed "
            f"value), got {len(frame.columns)}: {list(frame.columns)}.")
    parts = frame.to_delayed()
    summaries = dask.compute(*[dask.delayed(_summarise)(part) for part in parts])
    names = ("row index", "column index", "value")
    for summary in summaries:
        for name, kind in zip(names, summary["kinds"]):
            if name != "value" and kind not in "iu":
                raise TypeError(f"The {name} column of X must hold integers, got dtype kind "
                                f"{kind!r}.")
            if name == "value" and kind not in "fiu":
                raise TypeError(f"The value column of X must hold real numbers, got dtype "
                                f"kind {kind!r}.")
        if not summary["finite"]:
            raise ValueError("The value column of X holds NaN or infinity; drop the missing "
                             "entries instead (the rows of X are the observed entries).")
        if min(summary["min"]) < 0:
            raise ValueError("X has a negative row or column index.")
    n_observed = sum(s["n"] for s in summaries)
    if n_observed == 0:
        raise ValueError("X has no observed entry: there is nothing to complete from.")
    shape = tuple(max(s["max"][j] for s in summaries) + 1 for j in range(2))
    n_blocks = len(parts) if n_blocks is None else n_blocks
    sharded = []
    for axis in (0, 1):
        bounds = _bounds(shape[axis], n_blocks)
        n_shards = len(bounds) - 1
        pieces = [dask.delayed(_split, nout=n_shards)(part, axis, bounds) for part in parts]
        shards = [
            dask.delayed(_build_shard)(bounds[b], bounds[b + 1], shape[1 - axis], axis,
                                       *[piece[b] for piece in pieces])
            for b in range(n_shards)
        ]
        sharded.append((list(dask.persist(*shards)), bounds))
    return sharded[0], sharded[1], shape, n_observed


class _BlockedEntries:
    """:class:`~._altmin._InMemoryEntries` with the entries in shards on a cluster."""

    def __init__(self, rows, cols, shape, n_observed, alpha, center):
        self._dask = dask_module()
        self.xp, self.shape, self.n_observed, self.dtype = _numpy(), shape, n_observed, np.float64
        (row_shards, self.row_bounds), (col_shards, self.col_bounds) = rows, cols
        self.row_shards, self.col_shards = row_shards, col_shards
        n_rows, n_cols = shape
        mean, row_bias, col_bias = 0.0, np.zeros(n_rows), np.zeros(n_cols)
        if center in ("global", "biases"):
            mean = sum(self._each(_shard_sum, row_shards)) / n_observed
        if center == "biases":
            for _ in range(_BIAS_ROUNDS):
                col_bias = self._stack(_shard_bias, col_shards, mean, row_bias, alpha)
                row_bias = self._stack(_shard_bias, row_shards, mean, col_bias, alpha)
        self.mean, self.row_bias, self.col_bias = mean, row_bias, col_bias
        unscaled = self._with_resid(row_shards, mean, row_bias, col_bias, 1.0)
        stats = self._each(_shard_residual_stats, unscaled)
        del unscaled
        scale = math.sqrt(sum(s[0] for s in stats) / n_observed)
        self.scale = scale if scale > 0 and math.isfinite(scale) else 1.0
        self._largest = max(s[1] for s in stats) / self.scale
        self.row_shards = self._with_resid(row_shards, mean, row_bias, col_bias, self.scale)
        self.col_shards = self._with_resid(col_shards, mean, col_bias, row_bias, self.scale)

    # -- helpers: one small task per shard, the shared operand sent once
    def _each(self, function, shards, *shared):
        delayed = self._dask.delayed
        shared = [delayed(a) if isinstance(a, np.ndarray) else a for a in shared]
        return self._dask.compute(*[delayed(function)(shard, *shared) for shard in shards])

    def _stack(self, function, shards, *shared):
        return np.concatenate(self._each(function, shards, *shared))

    def _with_resid(self, shards, mean, own_bias, other_bias, scale):
        delayed = self._dask.delayed
        other = delayed(other_bias)
        bounds = self.row_bounds if shards is self.row_shards else self.col_bounds
        out = [delayed(_shard_offset_residual)(shard, mean, own_bias[lo:hi], other, scale)
               for shard, lo, hi in zip(shards, bounds[:-1], bounds[1:])]
        return list(self._dask.persist(*out))

    # -- the interface _fit_rank uses
    def counts(self):
        return (self._stack(_shard_counts, self.row_shards),
                self._stack(_shard_counts, self.col_shards))

    def largest_residual(self):
        return self._largest

    def _product(self, shards, p):
        return lambda Q: self._stack(_shard_product, shards, Q, p)

    def _solve(self, shards, F, alpha, error):
        results = self._each(_shard_solve, shards, F, alpha, error)
        return np.concatenate([r[0] for r in results]), sum(r[1] for r in results)

    def sweeps(self, k, ridges, orthonormalise, *, solver, max_iter, tol, random_state,
               verbose, start=None, exact_or_stop=False, **_):
        if start is None:
            p = self.n_observed / (self.shape[0] * self.shape[1])
            U, V = _spectral_start(self._product(self.row_shards, p),
                                   self._product(self.col_shards, p), self.shape, k,
                                   random_state, self.xp, None, np.float64)
        else:
            U, V = start
        return _alternate(
            U, V, lambda U, V: self._solve(self.col_shards, U, ridges[1], False)[0],
            lambda V, U: self._solve(self.row_shards, V, ridges[0], True),
            self.n_observed, k, orthonormalise, max_iter, tol, verbose, exact_or_stop)


def complete_matrix_blocked(frame, n_components, *, alpha=0.0, center=None, max_iter=100,
                            tol=1e-4, random_state=None, verbose=0, n_blocks=None,
                            stacklevel=3):
    """:func:`~sklr.completion.complete_matrix` on a Dask DataFrame of ``(row, column, value)``.

    The exact solver only; ``n_components`` an int. Returns the
    :class:`~sklr.completion.MatrixCompletionResult` (factors in memory),
    the matrix's shape (one past the largest indices) and the numbers of
    observed entries of its rows and columns.
    """
    from sklearn.utils import check_random_state

    rows, cols, shape, n_observed = read_entries(frame, n_blocks)
    if not n_components < min(shape):
        raise ValueError(
            f"n_components={n_components} must be < min(n_rows, n_cols)={min(shape)} for the "
            f"{shape} matrix of X's indices.")
    entries = _BlockedEntries(rows, cols, shape, n_observed, alpha, center)
    result = _fit_rank(entries, n_components, check_random_state(random_state), alpha=alpha,
                       solver="exact", max_iter=max_iter, tol=tol, inner_tol=None,
                       inner_max_iter=None, sketch_size=None, sparsity=None, verbose=verbose,
                       stacklevel=stacklevel)
    return result, shape, entries.counts()
