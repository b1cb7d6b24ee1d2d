"""Shared input checks, and scikit-learn's validation tools for the estimators.

``_fit_context``, ``HasMethods``/``Interval``/``StrOptions`` and ``_check_sample_weight`` are
private in scikit-learn but stable across 1.x and used by most third-party
estimators; they come through :mod:`sklr.utils._sklearn_compat`, whose names
``tests/utils/test_array_api.py`` imports so that an upgrade that moves them fails loudly.
"""

from ._sklearn_compat import (
    HasMethods,
    Interval,
    StrOptions,
    _check_sample_weight,
    _fit_context,
    validate_data,
    validate_params,
)
from ._array_api import get_namespace

__all__ = [
    "HasMethods",
    "Interval",
    "StrOptions",
    "_fit_context",
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
    xp, _ = get_namespace(sample_weight)
    # scikit-learn 1.9 raises this itself; 1.8 accepts all-zero weights.
    if sample_weight.shape[0] and not bool(xp.any(sample_weight != 0)):
        raise ValueError("Sample weights must contain at least one non-zero number.")
    return sample_weight
