"""SketchedRegressor is equivariant to the units of X and y (issue 17, scale-free)."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from sklr.datasets import make_least_squares
from sklr.linear_model import SketchedRegressor

SETTINGS = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _data(seed):
    X, y, _ = make_least_squares(600, 4, random_state=seed)
    return X, y + 3.0


@pytest.mark.parametrize("solver", ["sketch", "precondition"])
@SETTINGS
@given(exponent=st.integers(-6, 6), seed=st.integers(0, 20))
def test_y_in_other_units_scales_the_coefficients(solver, exponent, seed):
    X, y = _data(seed)
    s = 10.0**exponent
    ref = SketchedRegressor(solver=solver, n_components=100, random_state=seed).fit(X, y)
    reg = SketchedRegressor(solver=solver, n_components=100, random_state=seed).fit(X, s * y)
    assert reg.n_iter_ == ref.n_iter_
    assert_allclose(reg.coef_, s * ref.coef_, rtol=1e-9)
    assert reg.intercept_ == pytest.approx(s * ref.intercept_, rel=1e-9)


@pytest.mark.parametrize("solver", ["sketch", "precondition"])
@SETTINGS
@given(exponent=st.integers(-6, 6), seed=st.integers(0, 20))
def test_X_in_other_units_divides_the_coefficients(solver, exponent, seed):
    X, y = _data(seed)
    s = 10.0**exponent
    ref = SketchedRegressor(solver=solver, n_components=100, random_state=seed).fit(X, y)
    reg = SketchedRegressor(solver=solver, n_components=100, random_state=seed).fit(s * X, y)
    assert_allclose(reg.coef_, ref.coef_ / s, rtol=1e-8)
    assert reg.intercept_ == pytest.approx(ref.intercept_, rel=1e-8)
    assert_allclose(reg.predict(s * X), ref.predict(X), rtol=1e-8, atol=1e-8 * np.abs(y).max())


@SETTINGS
@given(shift=st.floats(-1e6, 1e6), seed=st.integers(0, 20))
def test_a_shift_of_y_moves_only_the_intercept(shift, seed):
    X, y = _data(seed)
    ref = SketchedRegressor(n_components=100, random_state=seed).fit(X, y)
    reg = SketchedRegressor(n_components=100, random_state=seed).fit(X, y + shift)
    scale = 1.0 + abs(shift) / np.abs(y).max()
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-9 * scale, atol=1e-9 * scale)
    assert reg.intercept_ == pytest.approx(ref.intercept_ + shift, rel=1e-9, abs=1e-8 * scale)
