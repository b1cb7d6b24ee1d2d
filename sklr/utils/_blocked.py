"""Arrays split into blocks of rows on a cluster (Dask): recognised, checked, worked on blockwise.

sklr does not import Dask. A Dask array is recognised by the Dask collection
protocol (``__dask_graph__``) and worked on through its own methods
(``map_blocks``, ``rechunk``, ``persist``, ``compute``), so sklr imports and
runs without Dask, and with Dask every block stays where the scheduler puts
it: the functions here send small functions to the blocks and bring back
small results (a sum over the blocks, a few numbers). Vectors with one entry
per row stay on the cluster (:func:`persist`).
"""

import numpy as np

__all__ = [
    "check_row_blocked",
    "compute",
    "is_row_blocked",
    "persist",
    "row_block_gather",
    "row_block_map",
    "row_block_sums",
]


def is_row_blocked(x):
    """Whether ``x`` is a lazy array split into blocks (a Dask array).

    Parameters
    ----------
    x : object
        Anything.

    Returns
    -------
    blocked : bool

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._blocked import is_row_blocked
    >>> is_row_blocked(np.ones((3, 2)))
    False
    """
    return all(hasattr(x, name) for name in ("__dask_graph__", "map_blocks", "chunks"))


def _check_one(a, name, n_rows, row_chunks, dtype=None):
    """``a`` as a 2-D row-blocked float array with the given row chunks (lazy casts only)."""
    if not is_row_blocked(a):
        raise TypeError(f"{name} must be a Dask array like X, got {type(a).__name__}.")
    if a.ndim not in (1, 2):
        raise ValueError(f"{name} must be 1-D or 2-D, got shape {tuple(a.shape)}.")
    if any(np.isnan(c) for c in a.chunks[0]):
        raise ValueError(f"{name} has blocks of unknown size; call {name}.compute_chunk_sizes() "
                         "first.")
    kind = np.dtype(a.dtype).kind
    if kind == "c":
        raise ValueError(f"Complex data not supported: {name} has dtype {a.dtype}.")
    if kind not in "fiub":
        raise TypeError(f"{name} must hold real numbers, got dtype {a.dtype}.")
    if n_rows is not None and a.shape[0] != n_rows:
        raise ValueError(f"Found input variables with inconsistent numbers of samples: "
                         f"{name} has {a.shape[0]} rows, X has {n_rows}.")
    if dtype is None:
        dtype = a.dtype if a.dtype in (np.float32, np.float64) else np.float64
    a = a.astype(dtype) if a.dtype != dtype else a
    a = a[:, None] if a.ndim == 1 else a
    return a.rechunk((row_chunks if row_chunks is not None else a.chunks[0], -1))


def check_row_blocked(X, y, sample_weight=None):
    """Dask ``X``, ``y`` and ``sample_weight`` checked and aligned, without computing them.

    ``X`` becomes a float32 or float64 (integers: float64) 2-D array with one
    block of columns; ``y`` (in ``X``'s dtype) and ``sample_weight`` become
    2-D arrays with ``X``'s blocks of rows. Values (NaN, negative weights) are
    checked by the passes that read them.

    Parameters
    ----------
    X : Dask array of shape (n_samples, n_features)
    y : Dask array of shape (n_samples,) or (n_samples, n_targets), or None
    sample_weight : Dask array of shape (n_samples,) or None

    Returns
    -------
    X : Dask array of shape (n_samples, n_features)
    Y : Dask array of shape (n_samples, n_targets) or None
    W : Dask array of shape (n_samples, 1) or None
    """
    if X.ndim != 2:
        raise ValueError(f"Expected 2D array, got X of shape {tuple(X.shape)} instead.")
    X = _check_one(X, "X", None, None)
    if X.shape[0] == 0 or X.shape[1] == 0:
        raise ValueError(f"Found array with 0 sample(s) or feature(s): X has shape "
                         f"{tuple(X.shape)}.")
    Y = None if y is None else _check_one(y, "y", X.shape[0], X.chunks[0], X.dtype)
    W = None
    if sample_weight is not None:
        if sample_weight.ndim != 1:
            raise ValueError(f"sample_weight must be 1-D, got shape {tuple(sample_weight.shape)}.")
        W = _check_one(sample_weight, "sample_weight", X.shape[0], X.chunks[0], X.dtype)
    return X, Y, W


def row_block_sums(func, *arrays, shape, dtype):
    """``sum_b func(*blocks_b, start_b)`` over the blocks of rows, computed where the blocks are.

    Parameters
    ----------
    func : callable
        ``func(*blocks, start)`` takes the NumPy blocks of ``arrays`` that hold
        rows ``start .. start + len(block)`` and returns an array of ``shape``.
    *arrays : Dask arrays
        2-D, with the same blocks of rows and one block of columns each (or None,
        passed to ``func`` as None).
    shape : tuple of int
        Shape of each term and of the sum.
    dtype : dtype
        Its dtype.

    Returns
    -------
    total : ndarray of ``shape``
        The sum, the only array that comes back to the caller.
    """
    present = [a for a in arrays if a is not None]
    where = [a is not None for a in arrays]

    def term(*blocks, block_info=None):
        it = iter(blocks)
        full = [next(it) if here else None for here in where]
        start = block_info[0]["array-location"][0][0]
        return np.asarray(func(*full, start), dtype=dtype)[None]

    first = present[0]
    terms = first.map_blocks(
        term, *present[1:], new_axis=[2], dtype=dtype, meta=np.empty((0, 0, 0), dtype=dtype),
        chunks=((1,) * first.numblocks[0], (shape[0],), (shape[1],)),
    )
    return np.asarray(terms.sum(axis=0).compute())


def _block_terms(func, arrays, chunks, dtype):
    """``func(*blocks_b, start_b)`` for each block of rows, as a lazy Dask array of ``chunks``."""
    present = [a for a in arrays if a is not None]
    where = [a is not None for a in arrays]

    def term(*blocks, block_info=None):
        it = iter(blocks)
        full = [next(it) if here else None for here in where]
        start = block_info[0]["array-location"][0][0]
        return np.asarray(func(*full, start), dtype=dtype)

    return present[0].map_blocks(term, *present[1:], dtype=dtype, chunks=chunks,
                                 meta=np.empty((0, 0), dtype=dtype))


def row_block_map(func, *arrays, n_cols, dtype):
    """``func(*blocks_b, start_b)`` on each block of rows, kept on the cluster as a Dask array.

    Parameters
    ----------
    func : callable
        ``func(*blocks, start)`` returns one row of ``n_cols`` values for each
        row of its blocks (rows ``start .. start + len(block)``).
    *arrays : Dask arrays or None
        As in :func:`row_block_sums`.
    n_cols : int
        Columns of each output block.
    dtype : dtype
        Its dtype.

    Returns
    -------
    out : Dask array of shape (n_samples, n_cols)
        Lazy, with the blocks of rows of the first array.
    """
    first = next(a for a in arrays if a is not None)
    return _block_terms(func, arrays, (first.chunks[0], (n_cols,)), dtype)


def row_block_gather(func, *arrays, n_cols, dtype, rows_per_block=None):
    """The outputs of ``func(*blocks_b, start_b)`` for all the blocks, stacked on the caller.

    For small per-block results: a triangular factor of each block, or the
    few rows a block contributes to a sample.

    Parameters
    ----------
    func : callable
        ``func(*blocks, start)`` returns an array of shape ``(r_b, n_cols)``.
    *arrays : Dask arrays or None
        As in :func:`row_block_sums`.
    n_cols : int
        Columns of each output.
    dtype : dtype
        Its dtype.
    rows_per_block : int, default=None
        ``r_b`` when the same for every block; None when it depends on the
        data (known only once computed).

    Returns
    -------
    stacked : ndarray of shape (sum_b r_b, n_cols)
        The outputs in the order of the blocks.
    """
    first = next(a for a in arrays if a is not None)
    n_blocks = first.numblocks[0]
    rows = (np.nan if rows_per_block is None else rows_per_block,) * n_blocks
    return np.asarray(_block_terms(func, arrays, (rows, (n_cols,)), dtype).compute())


def persist(x):
    """``x`` computed and kept on the cluster (its blocks stay where they were computed).

    Parameters
    ----------
    x : Dask array

    Returns
    -------
    x : Dask array
        Backed by the computed blocks.
    """
    return x.persist()


def compute(x):
    """The value of a small lazy ``x`` as a NumPy array (it comes to the caller).

    Parameters
    ----------
    x : Dask array

    Returns
    -------
    value : ndarray
    """
    return np.asarray(x.compute())
