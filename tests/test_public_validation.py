"""Every public function of sklr goes through the bad-input matrix (issue 17.9).

The families' tests call :func:`tests._bad_inputs.check_bad_inputs` on their
public functions; this file checks, by reading the test sources, that no public
name was left out, so that a new public function cannot ship unvalidated.
"""

import ast
import importlib
import inspect
from pathlib import Path

import pytest

SUBPACKAGES = [
    "cluster", "completion", "datasets", "decomposition", "linalg",
    "linear_model", "sampling", "tensor", "transport",
]
TESTS = Path(__file__).parent

# Public names that are not functions of array inputs: result containers, and the
# estimators (scikit-learn's checks in test_common.py feed them bad input).
def _is_estimator_or_result(obj):
    from sklearn.base import BaseEstimator

    if inspect.isclass(obj):
        return issubclass(obj, BaseEstimator) or obj.__name__.endswith("Result")
    return False


def _public_functions():
    names = set()
    for sub in SUBPACKAGES:
        mod = importlib.import_module(f"sklr.{sub}")
        for name in mod.__all__:
            obj = getattr(mod, name)
            if callable(obj) and not _is_estimator_or_result(obj):
                names.add(name)
    return names


def _checked_names():
    """Names used in the test modules that call check_bad_inputs(...).

    A public function counts as covered when a module that runs the matrix
    names it (directly as the first argument, or in a parametrization that
    feeds the call).
    """
    found = set()
    for path in TESTS.rglob("test_*.py"):
        if path.name == Path(__file__).name:
            continue
        tree = ast.parse(path.read_text(), filename=str(path))
        calls = [
            node for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "check_bad_inputs"
        ]
        if not calls:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Name):
                found.add(node.id)
            elif isinstance(node, ast.Attribute):
                found.add(node.attr)
    return found


# Functions without array arguments whose every parameter is declared to
# validate_params: scikit-learn's own validation is their bad-input matrix.
PARAMS_ONLY = {"fetch_movielens", "load_beijing_air", "load_movielens_splits"}


@pytest.mark.parametrize("name", sorted(PARAMS_ONLY))
def test_functions_without_arrays_validate_every_parameter(name):
    import sklr.datasets

    func = getattr(sklr.datasets, name)
    assert hasattr(func, "__wrapped__"), f"{name} is not decorated with validate_params"
    with pytest.raises((ValueError, TypeError), match="parameter"):
        func(**{next(iter(inspect.signature(func).parameters)): object()})


def test_every_public_function_meets_the_bad_input_matrix():
    missing = sorted(_public_functions() - _checked_names() - PARAMS_ONLY)
    assert not missing, (
        "public functions with no check_bad_inputs(...) test: " + ", ".join(missing)
    )


def test_the_matrix_catches_a_raw_exception():
    # The harness itself must be able to fail: a function that indexes past the end.
    from tests._bad_inputs import check_bad_inputs

    def first_and_tenth(x):
        import numpy as np

        x = np.asarray(x, dtype=float)
        if x.ndim != 1 or not np.all(np.isfinite(x)):
            raise ValueError("x must be a finite 1-D array")
        return x[0] + x[min(9, x.size - 1)]  # IndexError on empty input

    with pytest.raises(AssertionError, match="x:empty: raw IndexError"):
        check_bad_inputs(first_and_tenth, {"x": [1.0, 2.0, 3.0]}, arrays=["x"])
