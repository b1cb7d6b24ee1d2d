"""Completion inputs: observed entries of a matrix, and the sparse matrix of rating triplets."""

import math
from numbers import Integral

import numpy as np

from ..utils._array_api import issparse, namespace_and_device
from ..utils._validation import validate_params

__all__ = ["observed_entries", "ratings_matrix"]


@validate_params(
    {
        "rows": ["array-like"],
        "cols": ["array-like"],
        "values": ["array-like"],
        "shape": [tuple, list, None],
    },
    prefer_skip_nested_validation=True,
)
def ratings_matrix(rows, cols, values, *, shape=None):
    """Build the sparse matrix of observed entries from ``(row, column, value)`` triplets.

    The result is what :class:`MatrixCompleter` expects for recommender data:
    every *stored* entry is an observed rating, zeros included, and absent
    entries are missing.

    Parameters
    ----------
    rows, cols : array-like of int of shape (n_ratings,)
        Row (user) and column (item) index of each rating, non-negative. To
        use arbitrary ids, encode them first, e.g. with
        ``np.unique(ids, return_inverse=True)``.
    values : array-like of float of shape (n_ratings,)
        The ratings (finite).
    shape : tuple of int, default=None
        ``(n_rows, n_cols)``; by default one more than the largest index.

    Returns
    -------
    X : scipy.sparse.csr_array of shape (n_rows, n_cols)
        The observed entries (explicit zeros kept).

    Raises
    ------
    ValueError
        On negative or out-of-range indices, mismatched lengths, non-finite
        values, or a ``(row, column)`` pair given twice (SciPy would add the
        two values silently).

    Examples
    --------
    >>> from sklr.completion import ratings_matrix
    >>> X = ratings_matrix([0, 0, 2], [1, 3, 0], [4.0, 0.0, 3.5])
    >>> X.shape, X.nnz
    ((3, 4), 3)
    """
    import scipy.sparse

    rows, cols, values = (np.asarray(a) for a in (rows, cols, values))
    for name, ids in (("rows", rows), ("cols", cols)):
        if ids.ndim != 1 or not (ids.size == 0 or np.issubdtype(ids.dtype, np.integer)):
            raise TypeError(f"{name} must be a 1-D array of integers, got dtype {ids.dtype}.")
        if ids.size and ids.min() < 0:
            raise ValueError(f"{name} must be non-negative indices, got {ids.min()}.")
    if not (rows.shape == cols.shape == values.shape):
        raise ValueError(
            f"rows, cols and values must have the same length, got {rows.shape[0]}, "
            f"{cols.shape[0]} and {values.shape[0] if values.ndim else values}."
        )
    if not (np.issubdtype(values.dtype, np.floating) or np.issubdtype(values.dtype, np.integer)):
        raise TypeError(f"values must hold real numbers, got dtype {values.dtype}.")
    values = values.astype(np.float64) if not np.issubdtype(values.dtype, np.floating) else values
    if not np.all(np.isfinite(values)):
        raise ValueError("values must be finite (no NaN or inf).")
    if shape is None:
        if rows.size == 0:
            raise ValueError("shape is required when there are no ratings.")
        shape = (int(rows.max()) + 1, int(cols.max()) + 1)
    if len(shape) != 2 or not all(isinstance(d, Integral) and d >= 0 for d in shape):
        raise ValueError(f"shape must be a pair of non-negative integers, got {shape!r}.")
    n_rows, n_cols = shape
    if rows.size and (rows.max() >= n_rows or cols.max() >= n_cols):
        raise ValueError(f"Indices out of range for shape={tuple(shape)}.")
    keys = rows.astype(np.int64) * n_cols + cols
    if np.unique(keys).size != keys.size:
        raise ValueError(
            f"{keys.size - np.unique(keys).size} duplicate (rows[i], cols[i]) pair(s): each "
            "entry may be rated once (average repeated ratings first)."
        )
    X = scipy.sparse.coo_array((values, (rows, cols)), shape=(n_rows, n_cols)).tocsr()
    X.sort_indices()
    return X


def observed_entries(X, missing_values):
    """The observed entries of a validated ``X``: ``(rows, cols, values, mask)``.

    Dense ``X``: the entries other than ``missing_values`` (NaN by default),
    with the mask (True where observed). Sparse ``X``: the stored entries,
    duplicates summed, and no mask (None). Raises a ``ValueError`` for NaN
    stored in sparse ``X``, for ``missing_values`` other than NaN with sparse
    ``X``, and for NaN in dense ``X`` when it is not the marker.
    """
    if issparse(X):
        if not math.isnan(missing_values):
            raise ValueError(
                "missing_values applies to dense X only: in sparse X the stored entries "
                "are the observed ones."
            )
        coo = X.tocoo()
        coo.sum_duplicates()
        if not np.all(np.isfinite(coo.data)):
            raise ValueError(
                "Sparse X stores NaN or inf values: in sparse input every stored entry is "
                "observed and must be finite; leave missing entries out of the matrix."
            )
        rows, cols = coo.row.astype(np.int64), coo.col.astype(np.int64)
        return rows, cols, coo.data, None
    xp, _ = namespace_and_device(X)
    if math.isnan(missing_values):
        observed = ~xp.isnan(X)
    else:
        if bool(xp.any(xp.isnan(X))):
            raise ValueError(
                f"X contains NaN but missing_values={missing_values}: NaN is allowed "
                "only as the missing-value marker."
            )
        observed = X != missing_values
    rows, cols = xp.nonzero(observed)
    flat = rows * X.shape[1] + cols
    values = xp.take(xp.reshape(X, (-1,)), flat)
    return xp.astype(rows, xp.int64), xp.astype(cols, xp.int64), values, observed
