"""check_array_arg: plain Python data under array API dispatch, named errors."""

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_array_equal

from sklr.utils._validation import check_array_arg


@pytest.mark.parametrize("value", [[1.0, 2.0], (1, 2), 3.0])
def test_python_data_under_dispatch_becomes_float64(value):
    # scikit-learn 1.8 with array-api-compat 1.11 rejected lists under dispatch
    # ("list is not a supported array type"), which broke la_sdp's traces and
    # funbat's lengthscales on the oldest supported versions.
    with sklearn.config_context(array_api_dispatch=True):
        arr = check_array_arg(value, "traces")
    assert isinstance(arr, np.ndarray) and arr.dtype == np.float64
    assert_array_equal(arr, np.atleast_1d(np.asarray(value, dtype=np.float64)).reshape(arr.shape))


def test_ragged_list_names_the_argument():
    with pytest.raises(ValueError, match="^lengthscales: "):
        check_array_arg([[1.0], [1.0, 2.0]], "lengthscales")


def test_array_api_strict_input_stays_in_its_namespace():
    strict = pytest.importorskip("array_api_strict")
    with sklearn.config_context(array_api_dispatch=True):
        arr = check_array_arg(strict.asarray([1.0, 2.0]), "a", ndim=1)
    assert type(arr).__module__.startswith("array_api_strict")
