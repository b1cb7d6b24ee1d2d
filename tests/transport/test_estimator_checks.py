"""scikit-learn's checks on SinkhornNewtonOT with a target supplied.

The real estimator needs the ``X_target`` parameter, which scikit-learn's checks
never set, so most of them are expected failures in tests/test_common.py.
Here the same checks run on a subclass whose ``fit`` transports ``X`` onto
itself: every behaviour they test (validation, dtypes, pickling, array API,
idempotence, sample weights, ...) is exercised on the real implementation.
"""

from sklearn.utils.estimator_checks import parametrize_with_checks

from sklr.transport import SinkhornNewtonOT


class SelfTransport(SinkhornNewtonOT):
    """SinkhornNewtonOT whose target is the source sample itself (tests only).

    ``fit`` sets the target parameters to ``X`` and its weights for the call
    and restores them after, so the checks that compare parameters before
    and after ``fit`` see them unchanged.
    """

    def fit(self, X, y=None, sample_weight=None):
        self.X_target, self.target_weight = X, sample_weight
        try:
            return super().fit(X, y, sample_weight=sample_weight)
        finally:
            self.X_target = self.target_weight = None


EXPECTED = {
    "check_sample_weight_equivalence_on_dense_data": (
        "with the target tied to X, repeating a sample also repeats a target point: "
        "a different transport problem than weighting it"
    ),
}


@parametrize_with_checks([SelfTransport()], expected_failed_checks=lambda est: EXPECTED)
def test_checks_with_a_target(estimator, check):
    check(estimator)
