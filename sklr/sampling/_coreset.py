"""Coresets of rows too many for one machine: blockwise on a cluster, merge-and-reduce in a stream.

Both faces of :class:`~sklr.sampling.SensitivitySampler` beyond memory live
here, as pure functions and one small state object:

- :func:`blocked_coreset`: a Dask array's sample. The importance scores are
  computed blockwise (:mod:`sklr.linalg._blocked_scores`), the water level
  of the inclusion probabilities from the total and the largest scores, and
  each block draws its own rows with uniforms keyed by the row index
  (:func:`~sklr.utils._random.row_keyed_uniform`): only the sampled rows
  and their weights come back, the same sample whatever the blocks.
- :class:`MergeReduce`: the merge-and-reduce tree of a stream of chunks
  (Bentley and Saxe, 1980; Har-Peled and Mazumdar, 2004), a weighted sample
  at each level of a binary counter.
"""

import math
from dataclasses import dataclass
from functools import partial

import numpy as np

from ..linalg._blocked_scores import blocked_leverage_scores, blocked_lewis_weights
from ..utils._array_api import namespace_and_device, row_keyed_uniform
from ..utils._blocked import (
    compute,
    persist,
    row_block_gather,
    row_block_map,
    row_block_sums,
)

__all__ = [
    "MergeReduce",
    "WeightedRows",
    "blocked_draw",
    "blocked_probabilities",
    "blocked_scores",
    "blocked_water_level",
    "check_method",
    "design_rows",
    "draw_key",
    "draw_rows",
    "probabilities",
    "water_level",
]

# The largest scores fetched from each block at first to find the water level
# (more are fetched only when the rows kept for sure are more than these).
_TOP_SCORES = 1024


def check_method(method, p, sensitivity):
    """The exponents each scoring method allows (same messages in memory and on a cluster)."""
    if method in ("lewis", "sensitivity") and p >= 4 and not (
            method == "sensitivity" and sensitivity == "exact"):
        raise ValueError(
            f"method={method!r} needs p < 4 (the Lewis-weight iteration diverges "
            f"beyond), got p={p}; use method='leverage' or 'uniform'."
        )
    if method == "root_leverage" and p > 2:
        raise ValueError(
            f"method='root_leverage' bounds l_p sensitivities only for p <= 2, got p={p}."
        )


def design_rows(p, fit_intercept, X, Y, v):
    """The rows ``v_i^(1/p) [x_i, y_i, 1]`` whose l_p subspace the sample preserves.

    ``Y`` (2-D) and ``v`` (1-D, or a column) may be None; so may the intercept column.
    """
    xp, dev = namespace_and_device(X)
    columns = [X]
    if Y is not None:
        columns.append(Y)
    if fit_intercept:
        columns.append(xp.ones((X.shape[0], 1), dtype=X.dtype, device=dev))
    A = xp.concat(columns, axis=1) if len(columns) > 1 else X
    if v is not None:
        A = (xp.reshape(v, (-1,)) ** (1.0 / p))[:, None] * A
    return A


def water_level(top, total, n_samples):
    """The constant ``c`` of ``q_i = min(1, c s_i)``, ``sum_i q_i = n_samples``, from the top scores.

    Water-filling: with the ``j`` largest scores kept for sure,
    ``c_j = (n_samples - j) / tail_j`` (``tail_j`` the sum of the others) is
    the level once ``c_j s_(j) <= 1``. Only the largest scores are needed.

    Parameters
    ----------
    top : array of shape (t,)
        The ``t`` largest scores, in decreasing order (zeros past the last row).
    total : float
        The sum of all the scores.
    n_samples : float
        Expected sample size, at most the number of rows.

    Returns
    -------
    c : float or None
        The level (``inf`` when every row of positive score is kept), or None
        when more than ``t - 1`` rows are kept for sure: call again with more.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.sampling._coreset import water_level
    >>> scores = np.array([10.0, 1.0, 1.0, 1.0, 1.0])  # the first row is kept for sure
    >>> water_level(scores[:4], scores.sum(), 3)
    0.5
    >>> print(water_level(scores[:1], scores.sum(), 3))  # one score is not enough to tell
    None
    """
    if total == 0.0:
        raise ValueError("all sampling scores are zero: there is nothing to sample.")
    xp, dev = namespace_and_device(top)
    k = int(n_samples)
    last = min(k, top.shape[0] - 1)
    tail = total - xp.cumulative_sum(top, include_initial=True)[: last + 1]
    js = xp.arange(last + 1, dtype=top.dtype, device=dev)
    ok = ((n_samples - js) * top[: last + 1] <= tail) & (tail > 0)
    if bool(xp.any(ok)):
        first = int(xp.argmax(xp.astype(ok, xp.int32)))
    elif last == k:
        first = k
    else:
        return None
    tail_first = float(tail[first])
    return math.inf if tail_first <= 0 else (n_samples - first) / tail_first


def probabilities(scores, c):
    """``q_i = min(1, c s_i)``, zero where ``s_i = 0``."""
    xp, _ = namespace_and_device(scores)
    positive = scores > 0
    if math.isinf(c):
        return xp.astype(positive, scores.dtype)
    return xp.where(positive, xp.clip(c * scores, 0.0, 1.0), xp.zeros_like(scores))


def draw_key(rng):
    """A key for :func:`~sklr.utils._random.row_keyed_uniform`, drawn from a ``RandomState``."""
    return int(rng.randint(np.iinfo(np.int64).max, dtype=np.int64))


def draw_rows(q, key, start=0):
    """Indices of the rows with ``u_i < q_i``, ``u_i`` keyed by the row index ``start + i``.

    Compared in float64: a float32 ``u`` could round up to 1 and miss a row of ``q_i = 1``.
    """
    xp, dev = namespace_and_device(q)
    u = row_keyed_uniform(key, start, q.shape[0], xp=xp, device=dev, dtype=xp.float64)
    return xp.nonzero(u < xp.astype(q, xp.float64))[0]


@dataclass
class WeightedRows:
    """Rows with weights: a chunk of data (weights ``v``) or a coreset of some rows.

    Attributes
    ----------
    X : array of shape (r, n_features)
    Y : array of shape (r, n_targets) or None
    weight : array of shape (r,)
    indices : array of shape (r,)
        The rows' numbers in the stream (int64).
    """

    X: object
    Y: object
    weight: object
    indices: object

    def __len__(self):
        return self.X.shape[0]

    def take(self, rows, weight):
        """The ``rows`` of these, with new weights."""
        xp, _ = namespace_and_device(self.X)
        Y = None if self.Y is None else xp.take(self.Y, rows, axis=0)
        return WeightedRows(xp.take(self.X, rows, axis=0), Y, weight,
                            xp.take(self.indices, rows))

    @staticmethod
    def union(parts):
        """All the rows of ``parts``, in their order."""
        if len(parts) == 1:
            return parts[0]
        xp, _ = namespace_and_device(parts[0].X)
        Y = None if parts[0].Y is None else xp.concat([part.Y for part in parts])
        return WeightedRows(xp.concat([part.X for part in parts]), Y,
                            xp.concat([part.weight for part in parts]),
                            xp.concat([part.indices for part in parts]))


class MergeReduce:
    """Merge-and-reduce over a stream of chunks: a weighted coreset of every level of a binary counter.

    Each chunk, reduced to a sample of about ``n_samples`` rows when it has
    more, enters level 0; two samples on the same level are merged (their
    union, ``~2 n_samples`` rows) and reduced to one on the next level, as a
    binary counter carries. After ``T`` chunks every row has gone through
    at most ``1 + log2(T)`` reductions and the union of the levels, at most
    ``1 + log2(T)`` samples, is a weighted coreset of all the rows.

    Attributes
    ----------
    levels : list of WeightedRows or None
        The sample held on each level (None: empty).

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.sampling._coreset import MergeReduce, WeightedRows
    >>> def halve(rows):  # a toy reduction: every other row, weight doubled
    ...     return rows if len(rows) <= 2 else rows.take(np.arange(0, len(rows), 2),
    ...                                                  2 * rows.weight[::2])
    >>> tree = MergeReduce()
    >>> for start in range(0, 12, 4):
    ...     chunk = WeightedRows(np.arange(start, start + 4.0)[:, None], None, np.ones(4),
    ...                          np.arange(start, start + 4))
    ...     tree.add(chunk, halve)
    >>> [None if held is None else held.indices.tolist() for held in tree.levels]
    [[8, 10], [0, 4]]
    >>> tree.coreset().weight.tolist()  # each weight is the rows it stands for
    [4.0, 4.0, 2.0, 2.0]
    """

    def __init__(self):
        self.levels = []

    def add(self, rows, reduce):
        """Add the rows of a chunk (or of a coreset: its rows keep their weights).

        ``reduce(rows)`` returns a weighted sample of the :class:`WeightedRows`
        ``rows``, of about ``n_samples`` rows, the rows themselves when fewer.
        """
        carry = reduce(rows)
        for level, held in enumerate(self.levels):
            if held is None:
                self.levels[level] = carry
                return
            carry = reduce(WeightedRows.union([held, carry]))
            self.levels[level] = None
        self.levels.append(carry)

    def coreset(self):
        """The union of the levels' samples, the deepest (oldest) first."""
        return WeightedRows.union([held for held in reversed(self.levels) if held is not None])


# Blockwise, on the workers -----------------------------------------------------------------


def _block_checks(X, Y, W, start):
    """Non-finite entries of ``X`` and of ``y``, negative and positive weights, in one block."""
    xp, _ = namespace_and_device(X)

    def count(mask):
        return float(xp.sum(xp.astype(mask, xp.float64)))

    bad_y = 0.0 if Y is None else count(~xp.isfinite(Y))
    bad_w = 0.0 if W is None else count((W < 0) | ~xp.isfinite(W))
    positive = float(X.shape[0]) if W is None else count(W > 0)
    return np.array([[count(~xp.isfinite(X)), bad_y, bad_w, positive]])


def _block_uniform_scores(rows, *args):
    *blocks, _ = args
    xp, _ = namespace_and_device(blocks[0])
    A = rows(*blocks)
    return xp.reshape(xp.astype(xp.any(A != 0, axis=1), A.dtype), (-1, 1))


def _block_map_scores(transform, S, start):
    return transform(S)


def _block_top(t, S, start):
    """The ``t`` largest scores of one block, decreasing, zeros past its rows."""
    xp, dev = namespace_and_device(S)
    s = xp.sort(S[:, 0], descending=True)[:t]
    if s.shape[0] < t:
        s = xp.concat([s, xp.zeros(t - s.shape[0], dtype=s.dtype, device=dev)])
    return xp.reshape(s, (-1, 1))


def _block_probabilities(c, S, start):
    return probabilities(S, c)


def _block_draw(key, c, X, Y, W, S, start):
    """The rows of one block drawn with ``q_i = min(1, c s_i)``: ``[index, x, y, v / q]``."""
    xp, _ = namespace_and_device(X)
    q = probabilities(S[:, 0], c)
    picked = draw_rows(q, key, start)
    weight = 1.0 / xp.take(q, picked)
    if W is not None:
        weight = weight * xp.take(W[:, 0], picked)
    columns = [xp.astype(picked + start, xp.float64)[:, None],
               xp.astype(xp.take(X, picked, axis=0), xp.float64)]
    if Y is not None:
        columns.append(xp.astype(xp.take(Y, picked, axis=0), xp.float64))
    columns.append(xp.astype(weight, xp.float64)[:, None])
    return xp.concat(columns, axis=1)


def _clip_power(exponent, S):
    xp, _ = namespace_and_device(S)
    return xp.clip(S, 0.0, 1.0) ** exponent


def _scale_clip(factor, S):
    xp, _ = namespace_and_device(S)
    return xp.clip(factor * S, 0.0, 1.0)


def _check_blocks(X, Y, W):
    bad_x, bad_y, bad_w, positive = row_block_sums(_block_checks, X, Y, W, shape=(1, 4),
                                                   dtype=np.float64)[0]
    for name, bad in (("X", bad_x), ("y", bad_y)):
        if bad:
            raise ValueError(f"Input {name} contains NaN or infinity.")
    if bad_w:
        raise ValueError("Negative values in data passed to `sample_weight`.")
    if not positive:
        raise ValueError("Sample weights must contain at least one non-zero number.")


def blocked_scores(X, Y, W, *, p, method, fit_intercept, max_iter, tol):
    """Importance scores of the rows of Dask ``[X | Y | 1]`` (weighted): ``(scores, n_iter)``.

    A first pass checks the values (NaN, negative weights); ``scores`` is an
    ``(n, 1)`` Dask array kept on the cluster. ``method`` is any but the exact
    sensitivities, with exact leverage scores (TSQR).
    """
    _check_blocks(X, Y, W)
    rows = partial(design_rows, p, fit_intercept)
    arrays = (X, Y, W)
    n_cols = X.shape[1] + (0 if Y is None else Y.shape[1]) + int(fit_intercept)
    if method == "uniform":
        return persist(row_block_map(partial(_block_uniform_scores, rows), *arrays, n_cols=1,
                                     dtype=X.dtype)), 0
    if method in ("leverage", "root_leverage"):
        scores = blocked_leverage_scores(rows, arrays, n_cols, X.dtype)
        if method == "root_leverage":
            scores = persist(row_block_map(partial(_block_map_scores,
                                                   partial(_clip_power, p / 2.0)),
                                           scores, n_cols=1, dtype=X.dtype))
        return scores, 0
    scores, n_iter = blocked_lewis_weights(rows, arrays, n_cols, X.dtype, p, max_iter=max_iter,
                                           tol=tol)
    if method == "sensitivity":  # the Lewis-weight bounds of _lp_sensitivities
        rank = float(compute(scores.sum()))
        factor = 1.0 if p <= 2 else rank ** (p / 2.0 - 1.0)
        scores = persist(row_block_map(partial(_block_map_scores, partial(_scale_clip, factor)),
                                       scores, n_cols=1, dtype=X.dtype))
    return scores, n_iter


def blocked_water_level(scores, n_samples):
    """:func:`water_level` of a Dask ``(n, 1)`` score column: the total, then the top scores."""
    total = float(compute(scores.sum()))
    k = int(n_samples)
    t = min(k + 1, _TOP_SCORES)
    while True:
        tops = row_block_gather(partial(_block_top, t), scores, n_cols=1, dtype=scores.dtype,
                                rows_per_block=t)[:, 0]
        c = water_level(-np.sort(-tops)[:t], total, n_samples)
        if c is not None:
            return c, total
        t = min(k + 1, 4 * t)


def blocked_draw(X, Y, W, scores, c, key):
    """The rows of Dask arrays drawn with ``q_i = min(1, c s_i)``, brought to the caller.

    Each block draws its rows where it lies, with uniforms keyed by the row
    index: the sample does not depend on the blocks.

    Parameters
    ----------
    X, Y, W : Dask arrays
        Checked and aligned by :func:`~sklr.utils._blocked.check_row_blocked`
        (``Y`` and ``W`` may be None).
    scores : Dask array of shape (n, 1)
        The scores (:func:`blocked_scores`).
    c : float
        The water level (:func:`blocked_water_level`).
    key : int
        Key of the row-keyed uniforms (:func:`draw_key`).

    Returns
    -------
    sample : WeightedRows
        NumPy rows of ``X`` and ``Y``, their weights ``v_i / q_i`` and indices.
    """
    d, k = X.shape[1], 0 if Y is None else Y.shape[1]
    packed = row_block_gather(partial(_block_draw, key, c), X, Y, W, scores, n_cols=d + k + 2,
                              dtype=np.float64)
    dtype = X.dtype
    return WeightedRows(
        X=np.ascontiguousarray(packed[:, 1:1 + d], dtype=dtype),
        Y=None if Y is None else np.ascontiguousarray(packed[:, 1 + d:1 + d + k], dtype=dtype),
        weight=np.ascontiguousarray(packed[:, -1], dtype=dtype),
        indices=packed[:, 0].astype(np.int64),
    )


def blocked_probabilities(scores, c):
    """The inclusion probabilities of a Dask ``(n, 1)`` score column, lazy, as an ``(n,)`` array."""
    return row_block_map(partial(_block_probabilities, c), scores, n_cols=1,
                         dtype=scores.dtype)[:, 0]
