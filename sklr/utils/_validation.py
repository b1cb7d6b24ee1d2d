"""Shared input checks, and scikit-learn's validation tools for the estimators.

``_fit_context``, ``HasMethods``/``Interval``/``StrOptions`` and ``_check_sample_weight`` are
private in scikit-learn but stable across 1.x and used by most third-party
estimators; they come through :mod:`sklr.utils._sklearn_compat`, whose names
``tests/utils/test_array_api.py`` imports so that an upgrade that moves them fails loudly.
"""

import math

import numpy as np

from ._array_api import namespace_and_device
from ._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _check_sample_weight,
    _fit_context,
    validate_data,
    validate_params,
)

__all__ = [
    "HasMethods",
    "Interval",
    "StrOptions",
    "_fit_context",
    "check_array_arg",
    "check_sample_weight",
    "validate_data",
    "validate_params",
]


def check_sample_weight(sample_weight, X, *, dtype=None):
    """Validate ``sample_weight`` for ``X``: finite, non-negative, right length, not all zero.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), float or None
        The weights; None means all ones.
    X : array-like of shape (n_samples, n_features)
        The validated data.
    dtype : dtype, default=None
        Dtype of the result (that of ``X`` when None).

    Returns
    -------
    sample_weight : array of shape (n_samples,)
        The weights, in the namespace and on the device of ``X``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._validation import check_sample_weight
    >>> check_sample_weight(None, np.zeros((3, 2)))
    array([1., 1., 1.])
    """
    sample_weight = _check_sample_weight(
        sample_weight, X, dtype=X.dtype if dtype is None else dtype, ensure_non_negative=True
    )
    xp, _ = namespace_and_device(sample_weight)
    # scikit-learn 1.9 raises this itself; 1.8 accepts all-zero weights.
    if sample_weight.shape[0] and not bool(xp.any(sample_weight != 0)):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sample_weight


def check_array_arg(
    value, name, *, ndim=None, dtype=("float64", "float32"), allow_nan=False,
    allow_empty=False, non_negative=False, not_all_zero=False, xp=None, device=None,
):
    """Validate one array argument of a public function; every error names it.

    A thin layer over :func:`sklearn.utils.check_array` for the functional
    faces (``sinkhorn_newton``, ``kronecker_sbl``, ...): lists, tuples and
    integer arrays are accepted and converted; ``None``, strings, NaN/inf,
    empty arrays, the wrong number of dimensions, negative or all-zero weights
    are rejected with a ``ValueError``/``TypeError`` whose message starts with
    or contains ``name``.

    Parameters
    ----------
    value : array-like
        The argument.
    name : str
        Its name in the public signature (used in error messages).
    ndim : int or tuple of int, default=None
        The allowed number(s) of dimensions; None allows any.
    dtype : str, type, list of type or None, default=("float64", "float32")
        Passed to ``check_array``: by default float32/float64 are kept and
        anything else (integers, booleans) becomes float64.
    allow_nan : bool, default=False
        Whether NaN is allowed (inf never is).
    allow_empty : bool, default=False
        Whether a zero-size array is allowed.
    non_negative : bool, default=False
        Reject negative entries (weights, marginals).
    not_all_zero : bool, default=False
        Reject arrays whose entries are all zero (weights that carry no mass).
    xp : namespace, default=None
        Move the result into this namespace (and onto ``device``).
    device : device, default=None
        Device for ``xp``.

    Returns
    -------
    array
        The validated array.

    Examples
    --------
    >>> from sklr.utils._validation import check_array_arg
    >>> check_array_arg([1, 2], "a", ndim=1)
    array([1., 2.])
    >>> check_array_arg([1.0, -2.0], "a", non_negative=True)
    Traceback (most recent call last):
        ...
    ValueError: a must be non-negative, got a minimum of -2.0.
    """
    from sklearn.utils import check_array

    if value is None:
        raise TypeError(f"{name} must be an array-like, got None.")
    if isinstance(value, str):
        raise TypeError(f"{name} must be an array-like of numbers, got the string {value!r}.")
    if isinstance(value, (list, tuple, int, float)):
        # Plain Python data becomes a NumPy array first: scikit-learn 1.8 under
        # array API dispatch hands it to array-api-compat 1.11, which rejects lists.
        try:
            value = np.asarray(value)
        except (ValueError, TypeError) as exc:
            raise type(exc)(f"{name}: {exc}") from exc
    if isinstance(dtype, (tuple, list)) and all(isinstance(d, str) for d in dtype):
        # Names of dtypes, resolved in the input's own namespace (array_api_strict
        # rejects strings as dtypes).
        vxp = namespace_and_device(value)[0] if hasattr(value, "__array_namespace__") else None
        if vxp is not None and not vxp.__name__.endswith("numpy"):
            dtype = [getattr(vxp, d) for d in dtype]
    try:
        arr = check_array(
            value, input_name=name, ensure_2d=False, allow_nd=True, dtype=dtype,
            ensure_all_finite="allow-nan" if allow_nan else True,
            ensure_min_samples=0, ensure_min_features=0,
        )
    except (ValueError, TypeError) as exc:
        if name in str(exc):
            raise
        raise type(exc)(f"{name}: {exc}") from exc
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be a {want} array, got shape {tuple(arr.shape)}.")
    size = math.prod(arr.shape)
    if not allow_empty and size == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(arr.shape)}.")
    axp, _ = namespace_and_device(arr)
    if non_negative and size and bool(axp.any(arr < 0)):
        raise ValueError(f"{name} must be non-negative, got a minimum of {float(axp.min(arr))}.")
    if not_all_zero and size and not bool(axp.any(arr != 0)):
        raise ValueError(f"{name} must have at least one non-zero entry (all are zero).")
    if xp is not None:
        arr = xp.asarray(arr, device=device)
    return arr
