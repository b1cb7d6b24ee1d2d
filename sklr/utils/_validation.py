"""Shared input checks, and the one place that imports scikit-learn's private validation tools.

``_fit_context``, ``HasMethods``/``Interval``/``StrOptions`` and ``_check_sample_weight`` are
private in scikit-learn but stable across 1.x and used by most third-party
estimators; sklr pins scikit-learn 1.9.x and ``tests/utils/test_array_api.py``
imports them so that an upgrade that moves them fails loudly.
"""

from sklearn.base import _fit_context
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import _check_sample_weight, validate_data

__all__ = [
    "HasMethods",
    "Interval",
    "StrOptions",
    "_fit_context",
    "check_sample_weight",
    "validate_data",
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
    return _check_sample_weight(
        sample_weight, X, dtype=X.dtype if dtype is None else dtype, ensure_non_negative=True
    )
