"""MatrixCompleter with its default parameters passes all of scikit-learn's estimator checks.

The checks fit matrices as narrow as 2 columns; ``n_components="auto"`` (the
default) picks a rank the matrix allows, where the former default of 10
failed 24 checks. tests/test_common.py runs the checks on ``random_state=0``.
"""

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklr._testing import expected_failed_checks
from sklr.completion import MatrixCompleter

# The checks' random matrices leave some rows or columns without an observed
# entry, or with fewer than the rank needs: MatrixCompleter says so.
pytestmark = [
    pytest.mark.filterwarnings("ignore:.* row\\(s\\) of X have no observed entry:UserWarning"),
    pytest.mark.filterwarnings("ignore:.* column\\(s\\) of X have no observed entry:UserWarning"),
    pytest.mark.filterwarnings("ignore:The observed entries cannot determine:UserWarning"),
]


def test_no_expected_failures_for_the_default():
    assert expected_failed_checks(MatrixCompleter()) == {}


@parametrize_with_checks([MatrixCompleter()], expected_failed_checks=expected_failed_checks)
def test_default_matrix_completer_passes_sklearn_checks(estimator, check):
    check(estimator)
