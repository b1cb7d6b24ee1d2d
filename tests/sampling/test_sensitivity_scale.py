"""SensitivitySampler and the l_p scores do not depend on the units of X, y or A's columns."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from sklr.datasets import make_least_squares
from sklr.linalg import leverage_scores, lewis_weights, lp_sensitivities
from sklr.linear_model import LpRegressor
from sklr.sampling import SensitivitySampler

SETTINGS = settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
EXPONENT = st.integers(-6, 6)


def _data(seed, n=400, d=3):
    X, y, _ = make_least_squares(n, d, random_state=seed)
    y = y + np.random.RandomState(seed).standard_cauchy(n)  # heavy tails: uneven scores
    return X, y


@pytest.mark.parametrize("method", ["lewis", "root_leverage", "leverage"])
@SETTINGS
@given(ex=EXPONENT, ey=EXPONENT, seed=st.integers(0, 20))
def test_scores_and_sample_invariant_to_units(method, ex, ey, seed):
    X, y = _data(seed)
    ref = SensitivitySampler(method=method, n_samples=60, random_state=seed).fit(X, y)
    got = SensitivitySampler(method=method, n_samples=60, random_state=seed).fit(
        10.0**ex * X, 10.0**ey * y)
    assert_allclose(got.scores_, ref.scores_, rtol=1e-6, atol=1e-12)
    assert_array_equal(got.sample_indices_, ref.sample_indices_)
    assert_allclose(got.sample_weight_, ref.sample_weight_, rtol=1e-6)
    assert got.n_iter_ == ref.n_iter_


@SETTINGS
@given(ey=EXPONENT, seed=st.integers(0, 20))
def test_prediction_scales_with_y(ey, seed):
    X, y = _data(seed)
    s = 10.0**ey
    est = LpRegressor(p=1.0, tol=1e-10)
    ref = SensitivitySampler(estimator=est, n_samples=80, random_state=seed).fit(X, y)
    got = SensitivitySampler(estimator=est, n_samples=80, random_state=seed).fit(X, s * y)
    assert_allclose(got.predict(X), s * ref.predict(X), rtol=1e-6,
                    atol=1e-8 * s * np.abs(ref.predict(X)).max())


def _column_scaled(A, exponents):
    return A * 10.0 ** np.asarray(exponents, dtype=float)


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=EXPONENT, cols=st.lists(EXPONENT, min_size=4, max_size=4), seed=st.integers(0, 20))
def test_leverage_and_lewis_weights_depend_on_the_column_space_only(s, cols, seed):
    # Scores of A, of A * s and of A @ diag(d): the same column space, the same scores.
    A, _, _ = make_least_squares(150, 4, random_state=seed)
    A[:3] *= 50.0  # a few heavy rows
    B = 10.0**s * _column_scaled(A, cols)
    assert_allclose(leverage_scores(B), leverage_scores(A), rtol=1e-8, atol=1e-14)
    w_ref, n_ref = lewis_weights(A, 1.0, tol=1e-6, return_n_iter=True)
    w, n_iter = lewis_weights(B, 1.0, tol=1e-6, return_n_iter=True)
    assert n_iter == n_ref
    assert_allclose(w, w_ref, rtol=1e-7, atol=1e-14)
    assert_allclose(lp_sensitivities(B, 1.5, method="lewis"),
                    lp_sensitivities(A, 1.5, method="lewis"), rtol=1e-6, atol=1e-14)


@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=EXPONENT, cols=st.lists(EXPONENT, min_size=3, max_size=3), seed=st.integers(0, 20))
def test_exact_sensitivities_depend_on_the_column_space_only(s, cols, seed):
    A, _, _ = make_least_squares(30, 3, random_state=seed)
    B = 10.0**s * _column_scaled(A, cols)
    assert_allclose(lp_sensitivities(B, 1.0), lp_sensitivities(A, 1.0), rtol=1e-6, atol=1e-10)


def test_leverage_scores_of_columns_in_wildly_different_units():
    # Columns 1e16 apart: without equilibrating the columns first, the QR's rank
    # test would take the smallest for rounding noise and drop a real direction.
    A, _, _ = make_least_squares(200, 3, random_state=0)
    B = _column_scaled(A, [-8, 0, 8])
    assert_allclose(leverage_scores(B), leverage_scores(A), rtol=1e-8)
    assert leverage_scores(B).sum() == pytest.approx(3.0)
