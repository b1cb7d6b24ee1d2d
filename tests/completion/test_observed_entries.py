"""completion/_observed.py: the observed entries of dense and sparse X."""

import numpy as np
import pytest
import scipy.sparse
from numpy.testing import assert_array_equal

from sklr.completion._observed import observed_entries


def test_dense_nan_and_custom_marker_and_sparse_agree():
    X = np.array([[1.0, np.nan, 0.0], [np.nan, 2.5, -1.0]])
    rows, cols, values, mask = observed_entries(X, np.nan)
    assert_array_equal(rows, [0, 0, 1, 1]) and assert_array_equal(cols, [0, 2, 1, 2])
    assert_array_equal(values, [1.0, 0.0, 2.5, -1.0])
    assert_array_equal(mask, ~np.isnan(X))
    marked = np.where(np.isnan(X), -99.0, X)
    assert_array_equal(observed_entries(marked, -99.0)[2], values)
    sparse = scipy.sparse.csr_array(np.nan_to_num(X, nan=0.0))
    sparse.data[sparse.data == 0] = 0.0  # explicit zeros are not stored here
    s_rows, s_cols, s_values, s_mask = observed_entries(sparse, np.nan)
    assert s_mask is None and set(zip(s_rows, s_cols)) == {(0, 0), (1, 1), (1, 2)}


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="NaN is allowed only as the missing-value marker"):
        observed_entries(np.array([[1.0, np.nan]]), 0.0)
    with pytest.raises(ValueError, match="missing_values applies to dense X only"):
        observed_entries(scipy.sparse.csr_array(np.eye(2)), 0.0)
    bad = scipy.sparse.csr_array(np.eye(2))
    bad.data[0] = np.nan
    with pytest.raises(ValueError, match="Sparse X stores NaN or inf"):
        observed_entries(bad, np.nan)
