"""Input checks of :mod:`sklr.linalg`'s public functions: every error names the argument."""

import math

import numpy as np

from ..utils._array_api import issparse, namespace_and_device
from ..utils._validation import check_array_arg

__all__ = ["check_matrix", "check_numeric", "check_rows"]


def check_matrix(A, name="A", *, ndim=2, accept_sparse=False, **kwargs):
    """A finite, non-empty real array (or SciPy sparse matrix) with ``ndim`` dimensions.

    Lists and integer arrays become float64; float32 and float64 are kept, in
    the namespace of ``A`` (scikit-learn's ``check_array`` rules). ``kwargs``
    go to :func:`~sklr.utils._validation.check_array_arg` (``non_negative``,
    ``not_all_zero``, ``xp``, ``device``).
    """
    if accept_sparse and issparse(A):
        if min(A.shape) == 0:
            raise ValueError(f"{name} must not be empty, got shape {tuple(A.shape)}.")
        if A.dtype.kind not in "fiub":
            raise TypeError(f"{name} must hold real numbers, got dtype {A.dtype}.")
        if A.dtype.kind != "f":
            A = A.astype(np.float64)
        if not np.all(np.isfinite(A.data)):
            raise ValueError(f"{name} must be finite (no NaN or inf).")
        return A
    # The dtypes of A's own namespace: check_array_arg's default names them by
    # strings, which array_api_strict does not accept.
    axp, _ = namespace_and_device(A)
    return check_array_arg(A, name, ndim=ndim, dtype=[axp.float64, axp.float32], **kwargs)


def check_numeric(value, name, *, min_ndim=1):
    """A finite, non-empty real or complex array in its own namespace (integers become float64).

    For the Kronecker helpers, whose factors may be complex.
    """
    if value is None or isinstance(value, str):
        raise TypeError(f"{name} must be an array of numbers, got {value!r}.")
    if not hasattr(value, "__array_namespace__") and not hasattr(value, "__cuda_array_interface__"):
        value = np.asarray(value)
        if value.dtype.kind not in "biufc":
            raise TypeError(f"{name} must be an array of numbers, got dtype {value.dtype}.")
    xp, _ = namespace_and_device(value)
    value = xp.asarray(value)
    if xp.isdtype(value.dtype, ("bool", "integral")):
        value = xp.astype(value, xp.float64)
    elif not xp.isdtype(value.dtype, ("real floating", "complex floating")):
        raise TypeError(f"{name} must be an array of numbers, got dtype {value.dtype}.")
    if value.ndim < min_ndim:
        raise ValueError(f"{name} must have at least {min_ndim} dimension(s), got shape "
                         f"{tuple(value.shape)}.")
    if math.prod(value.shape) == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(value.shape)}.")
    if not bool(xp.all(xp.isfinite(value))):
        raise ValueError(f"{name} must be finite (no NaN or inf).")
    return value


def check_rows(value, name, n_rows, *, ndim=(1,), what="A"):
    """``value`` has ``n_rows`` rows (to match ``what``) and one of the allowed ``ndim``."""
    ndims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
    if value.ndim not in ndims or value.shape[0] != n_rows:
        want = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name} must be {want} with {n_rows} rows to match {what}, got shape "
                         f"{tuple(value.shape)}.")
    return value
