"""The one module of sklr that imports scikit-learn's private names.

sklr supports scikit-learn 1.8 and every later 1.x release. The private helpers
below are used by most third-party estimators and have been stable since 1.8;
where a release lacks one, a fallback written against that release's own
helpers takes its place. ``tests/utils/test_array_api.py`` imports every name
listed in ``PRIVATE_NAMES`` from scikit-learn, so that a release which moves
one fails loudly, and tests the fallbacks against the installed release.

Array API helpers (``sklearn.utils._array_api``)
    ``get_namespace_and_device``, ``move_to``, ``device``, ``_convert_to_numpy``
    (1.8+); ``check_same_namespace`` (1.9+, fallback below for 1.8).
    ``get_namespace_and_device`` ignores lists and tuples on every release (1.9's
    default; 1.8 raises ``TypeError`` on them when array API dispatch is on).
Validation (``sklearn.base``, ``sklearn.utils._param_validation``,
``sklearn.utils.validation``)
    ``_fit_context``, ``HasMethods``, ``Interval``, ``StrOptions``,
    ``validate_params``, ``_check_sample_weight`` (with ``ensure_non_negative``;
    1.8 accepts all-zero weights, which ``sklr.utils._validation`` rejects itself),
    ``validate_data``.
"""

import scipy.sparse
import sklearn
from sklearn import get_config
from sklearn.base import _fit_context
from sklearn.utils._array_api import _convert_to_numpy, move_to
from sklearn.utils._array_api import device as sklearn_device
from sklearn.utils._array_api import (
    get_namespace_and_device as _get_namespace_and_device,
)
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import _check_sample_weight, validate_data

__all__ = [
    "HasMethods",
    "Interval",
    "PRIVATE_NAMES",
    "SKLEARN_VERSION",
    "StrOptions",
    "_check_sample_weight",
    "_convert_to_numpy",
    "_fit_context",
    "check_same_namespace",
    "get_namespace_and_device",
    "move_to",
    "sklearn_device",
    "validate_data",
    "validate_params",
]

# (major, minor) of the installed scikit-learn.
SKLEARN_VERSION = tuple(int(part) for part in sklearn.__version__.split(".")[:2])

# Every private scikit-learn name sklr imports, by module, with the first
# release that has it (the canary test checks the installed release).
PRIVATE_NAMES = {
    "sklearn.utils._array_api": {
        "_convert_to_numpy": (1, 8),
        "check_same_namespace": (1, 9),
        "device": (1, 8),
        "get_namespace_and_device": (1, 8),
        "move_to": (1, 8),
    },
    "sklearn.base": {"_fit_context": (1, 8)},
    "sklearn.utils._param_validation": {
        "HasMethods": (1, 8),
        "Interval": (1, 8),
        "StrOptions": (1, 8),
        "validate_params": (1, 8),
    },
    "sklearn.utils.validation": {"_check_sample_weight": (1, 8), "validate_data": (1, 8)},
}



def get_namespace_and_device(*arrays, xp=None):
    """``(xp, is_array_api_compliant, device)`` of the arrays, as scikit-learn 1.9 returns them.

    ``None``, strings, lists, tuples, sparse matrices and data frames are
    ignored; NumPy is the namespace when nothing is left or when array API
    dispatch is off.

    Parameters
    ----------
    *arrays : objects
        Arrays whose namespace and device are wanted.
    xp : module, default=None
        Precomputed namespace (skips the inspection).

    Returns
    -------
    xp : module
        The array API compatible namespace.
    is_array_api_compliant : bool
        False when array API dispatch is off.
    device : object
        The arrays' common device (None when no array is left).
    """
    return _get_namespace_and_device(*arrays, remove_types=(str, list, tuple), xp=xp)


_NUMPY_NAMESPACES = {"numpy", "array_api_compat.numpy", "sklearn.externals.array_api_compat.numpy"}


def _check_same_namespace(X, estimator, *, attribute, method):
    """Raise when ``X`` is not on the namespace and device of a fitted attribute.

    scikit-learn 1.9's ``check_same_namespace``, written for 1.8, which lacks
    it: a no-op unless ``array_api_dispatch`` is on; NumPy arrays, array-likes
    and sparse matrices are all compatible with a NumPy fit.

    Parameters
    ----------
    X : array-like
        The data passed to the fitted estimator's method.
    estimator : estimator object
        The fitted estimator.
    attribute : str
        Name of the fitted array attribute to compare with.
    method : str
        Name of the calling method, for the error message.
    """
    if not get_config()["array_api_dispatch"]:
        return
    a_xp, _, a_device = get_namespace_and_device(getattr(estimator, attribute))
    X_xp, _, X_device = get_namespace_and_device(X)
    if X_xp == a_xp and X_device == a_device:
        return
    if a_xp.__name__ in _NUMPY_NAMESPACES and X_xp.__name__ in _NUMPY_NAMESPACES:
        return
    if X_device is None:
        type_name = "sparse array" if scipy.sparse.issparse(X) else "array-like"
        msg = (
            f"Array namespace used during fit ({a_xp.__name__}) is not compatible with "
            f"the {type_name} input passed to {method}. Only the NumPy namespace is "
            f"compatible with {type_name} inputs."
        )
    elif X_xp != a_xp:
        msg = (
            f"Array namespaces used during fit ({a_xp.__name__}) and {method} "
            f"({X_xp.__name__}) differ."
        )
    else:
        msg = f"Devices used during fit ({a_device}) and {method} ({X_device}) differ."
    raise ValueError(
        f"Inputs passed to {estimator.__class__.__name__}.{method}() must use the same "
        f"namespace and the same device as those passed to fit(). {msg}"
    )


try:
    from sklearn.utils._array_api import check_same_namespace
except ImportError:  # scikit-learn 1.8
    check_same_namespace = _check_same_namespace
