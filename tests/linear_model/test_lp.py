"""LpRegressor against exact references, with weights, warnings and backends."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, QuantileRegressor

from sklr.datasets import make_least_squares
from sklr.linear_model import LpRegressor
from sklr.utils._array_api import get_namespace, to_numpy


@pytest.fixture(scope="module")
def data():
    X, _, coef = make_least_squares(1500, 6, random_state=0)
    y = X @ coef + 4.0 + np.random.RandomState(0).standard_t(2.0, size=1500)
    return X, y


def test_p1_is_least_absolute_deviations(data):
    X, y = data
    reg = LpRegressor(p=1.0).fit(X, y)
    ref = QuantileRegressor(alpha=0.0).fit(X, y)
    f_ref = np.abs(y - ref.predict(X)).sum()
    assert f_ref * (1 - 1e-9) <= reg.objective_ <= f_ref * (1 + 1e-10)  # the certified LP vertex
    assert_allclose(reg.objective_, np.abs(y - reg.predict(X)).sum())


def test_p2_is_least_squares(data):
    X, y = data
    reg = LpRegressor(p=2.0).fit(X, y)
    ref = LinearRegression().fit(X, y)
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-10)
    assert_allclose(reg.intercept_, ref.intercept_, rtol=1e-10)
    assert reg.n_iter_ == 0


@pytest.mark.parametrize("p", [1.3, 2.5])
def test_general_p_matches_direct_minimisation(data, p):
    X, y = data
    reg = LpRegressor(p=p, fit_intercept=False, tol=1e-12).fit(X, y)
    f = lambda w: np.sum(np.abs(y - X @ w) ** p)  # noqa: E731
    ref = minimize(f, np.zeros(6), method="BFGS", options={"gtol": 1e-9})
    assert reg.objective_ <= ref.fun * (1 + 1e-8)
    assert_allclose(reg.coef_, ref.x, rtol=1e-4, atol=1e-4)
    assert reg.intercept_ == 0.0


def test_integer_weights_equal_repeated_rows(data):
    X, y = data
    v = np.random.RandomState(1).randint(0, 3, X.shape[0])
    a = LpRegressor(p=1.5, tol=1e-12).fit(X, y, sample_weight=v.astype(float))
    b = LpRegressor(p=1.5, tol=1e-12).fit(np.repeat(X, v, 0), np.repeat(y, v))
    assert_allclose(a.coef_, b.coef_, rtol=1e-6)


def test_convergence_warning_and_bad_input(data):
    X, y = data
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        LpRegressor(p=1.0, max_iter=2).fit(X, y)
    with pytest.raises(ValueError, match="'p' parameter of LpRegressor must be"):
        LpRegressor(p=0.5).fit(X, y)
    with pytest.raises(ValueError, match="Negative values in data passed to"):
        LpRegressor().fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="Input X contains NaN"):
        LpRegressor().fit(np.where(X > 2.5, np.nan, X), y)


def test_backends(data, xp):
    X, y = data
    ref = LpRegressor(p=1.5).fit(X, y)
    reg = LpRegressor(p=1.5).fit(xp.asarray(X), xp.asarray(y))
    assert get_namespace(reg.coef_)[0] is xp
    assert_allclose(to_numpy(reg.coef_), ref.coef_, rtol=1e-8)
    assert_allclose(to_numpy(reg.predict(xp.asarray(X))), ref.predict(X), rtol=1e-8)
