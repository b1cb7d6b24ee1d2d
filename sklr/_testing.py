"""What sklr's estimators are tested against: discovery and the expected-failure table."""

import inspect
import pkgutil
from importlib import import_module

from sklearn.base import BaseEstimator

from .utils._sklearn_compat import SKLEARN_VERSION

__all__ = ["all_estimators", "expected_failed_checks"]

# Check name -> reason, per estimator class name. The goal is an empty table;
# every entry must say why the check cannot pass.
_N_COMPONENTS_IS_ONE = (
    "the check sets n_components=1, meant for decompositions; a sketch with fewer rows "
    "than features loses the least-squares solution, so SketchedRegressor rejects it "
    "with a ValueError (issue #2). tests/linear_model/test_sketched.py re-runs this "
    "check with the default sketch size."
)
_NEEDS_TARGET = (
    "fit needs the target samples (the X_target parameter), which the check does not set; "
    "SinkhornNewtonOT raises an informative ValueError instead of transporting onto a "
    "default target (issue #5). tests/transport/test_estimator_checks.py re-runs every "
    "check on a subclass that supplies a target, and they pass."
)
_EXPECTED_FAILED_CHECKS = {
    "SinkhornNewtonOT": {
        name: _NEEDS_TARGET
        for name in [
            "check_all_zero_sample_weights_error",
            "check_array_api_input",
            "check_array_api_same_namespace",
            "check_dict_unchanged",
            "check_dont_overwrite_parameters",
            "check_dtype_object",
            "check_estimators_dtypes",
            "check_estimators_fit_returns_self",
            "check_estimators_nan_inf",
            "check_estimators_overwrite_params",
            "check_estimators_pickle",
            "check_f_contiguous_array_estimator",
            "check_fit2d_1feature",
            "check_fit2d_1sample",
            "check_fit2d_predict1d",
            "check_fit_check_is_fitted",
            "check_fit_idempotent",
            "check_fit_score_takes_y",
            "check_methods_sample_order_invariance",
            "check_methods_subset_invariance",
            "check_n_features_in",
            "check_n_features_in_after_fitting",
            "check_pipeline_consistency",
            "check_positive_only_tag_during_fit",
            "check_readonly_memmap_input",
            "check_sample_weight_equivalence_on_dense_data",
            "check_sample_weights_list",
            "check_sample_weights_not_an_array",
            "check_sample_weights_not_overwritten",
            "check_sample_weights_pandas_series",
            "check_sample_weights_shape",
            "check_transformer_data_not_an_array",
            "check_transformer_general",
            "check_transformer_n_iter",
            "check_transformer_preserve_dtypes",
        ]
    },
    "SketchedRegressor": {
        name: _N_COMPONENTS_IS_ONE
        for name in [
            "check_dont_overwrite_parameters",
            "check_fit2d_predict1d",
            "check_methods_subset_invariance",
            "check_methods_sample_order_invariance",
        ]
    },
}


# scikit-learn 1.8's check_array_api_input fits on make_classification's 20
# features: for FunctionalTucker a 20-mode tensor, whose Tucker core at the
# default rank has 2^20 entries and a 2^20 x 2^20 covariance. Later releases
# run the check on 3 features, and FunctionalTucker passes it there.
_EXPECTED_FAILED_CHECKS_SKLEARN_1_8 = {
    "FunctionalTucker": {
        "check_array_api_input": (
            "scikit-learn 1.8 runs this check on 20 features, a 20-mode tensor whose "
            "core has 2^20 entries; scikit-learn 1.9+ runs it on 3 and it passes"
        )
    },
}


def expected_failed_checks(estimator):
    """Checks of scikit-learn's suite that ``estimator`` is known to fail, with reasons.

    Parameters
    ----------
    estimator : estimator instance
        An sklr estimator.

    Returns
    -------
    failed : dict
        Check name -> reason; empty when every check passes.

    Examples
    --------
    >>> from sklr import SketchedRegressor
    >>> from sklr._testing import expected_failed_checks
    >>> sorted(expected_failed_checks(SketchedRegressor()))[:2]
    ['check_dont_overwrite_parameters', 'check_fit2d_predict1d']
    """
    name = type(estimator).__name__
    failed = dict(_EXPECTED_FAILED_CHECKS.get(name, {}))
    if SKLEARN_VERSION < (1, 9):
        failed.update(_EXPECTED_FAILED_CHECKS_SKLEARN_1_8.get(name, {}))
    return failed


def all_estimators():
    """Every public estimator class that sklr exports, discovered by walking the package.

    Returns
    -------
    estimators : list of (name, class)
        Sorted by name.

    Examples
    --------
    >>> from sklr._testing import all_estimators
    >>> [name for name, _ in all_estimators()]  # doctest: +NORMALIZE_WHITESPACE
    ['FunctionalTucker', 'LpRegressor', 'MatrixCompleter', 'SDPClusterer',
     'SensitivitySampler', 'SinkhornNewtonOT', 'SketchedRegressor', 'SparseBayesKronecker']
    """
    import sklr

    found = {}
    for module_info in pkgutil.walk_packages(sklr.__path__, prefix="sklr."):
        parts = module_info.name.split(".")
        if any(part.startswith("_") for part in parts) or "tests" in parts:
            continue
        module = import_module(module_info.name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if inspect.isclass(obj) and issubclass(obj, BaseEstimator) and not inspect.isabstract(obj):
                found[name] = obj
    return sorted(found.items())
