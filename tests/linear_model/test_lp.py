"""LpRegressor against exact references, with weights, warnings and backends."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LinearRegression, QuantileRegressor

from sklr.datasets import make_least_squares
from sklr.linear_model import LpRegressor
from sklr.utils._array_api import namespace_and_device, to_numpy


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
    assert namespace_and_device(reg.coef_)[0] is xp
    assert_allclose(to_numpy(reg.coef_), ref.coef_, rtol=1e-8)
    assert_allclose(to_numpy(reg.predict(xp.asarray(X))), ref.predict(X), rtol=1e-8)


def _lp_norm(r, p):
    """``||r||_p`` without overflow (residuals divided by their largest magnitude first)."""
    s = np.abs(r).max()
    return s * np.sum((np.abs(r) / s) ** p) ** (1.0 / p)


@pytest.fixture(scope="module")
def gaussian_data():
    # Light-tailed noise: least squares is close to, but not at, the l_p optimum
    # and a large offset, so the residual is small against y: the case where an
    # "exact fit" test on |r|^p against |y|^p stopped at the least-squares start.
    X, y, _ = make_least_squares(800, 5, random_state=3)
    return np.c_[X, np.ones(len(y))], y + 50.0


@pytest.mark.filterwarnings("ignore:pnorm with p=:UserWarning")  # cvxpy's exact SOC form
@pytest.mark.parametrize("p", [3.0, 8.0, 10.0, 100.0])
def test_large_p_matches_conic_solver(gaussian_data, p):
    cp = pytest.importorskip("cvxpy")
    X, y = gaussian_data
    reg = LpRegressor(p=p, fit_intercept=False, tol=1e-12, max_iter=300).fit(X, y)
    w = cp.Variable(X.shape[1])
    cp.Problem(cp.Minimize(cp.pnorm(y - X @ w, p))).solve(solver="CLARABEL")
    ours, ref = _lp_norm(y - reg.predict(X), p), _lp_norm(y - X @ w.value, p)
    # The conic solver is accurate to ~1e-9 relative; ours must be as good.
    assert ours <= ref * (1 + 1e-8)
    assert reg.n_iter_ > 0 and reg.objective_ < np.sum(np.abs(y - LinearRegression(
        fit_intercept=False).fit(X, y).predict(X)) ** p)


def test_p_1000_is_stationary_and_no_overflow(gaussian_data):
    from scipy.optimize import linprog

    X, y = gaussian_data
    p = 1000.0
    reg = LpRegressor(p=p, fit_intercept=False, tol=1e-12, max_iter=300).fit(X, y)
    r = y - reg.predict(X)
    assert np.all(np.isfinite(reg.coef_))
    # First-order optimality of the smooth convex loss, in scaled form.
    g = (np.abs(r) / np.abs(r).max()) ** (p - 1) * np.sign(r)
    assert np.linalg.norm(X.T @ g) <= 1e-6 * np.linalg.norm(np.abs(X).T @ np.abs(g))
    # No worse in the 1000-norm than the minimax (l_inf) fit, by an LP.
    n, d = X.shape
    c = np.r_[np.zeros(d), 1.0]
    A_ub = np.block([[X, -np.ones((n, 1))], [-X, -np.ones((n, 1))]])
    lp = linprog(c, A_ub=A_ub, b_ub=np.r_[y, -y], bounds=[(None, None)] * d + [(0, None)])
    assert _lp_norm(r, p) <= _lp_norm(y - X @ lp.x[:d], p) * (1 + 1e-12)
    assert np.abs(r).max() <= lp.x[-1] * (n ** (1 / p)) * (1 + 1e-9)


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0, 10.0, 100.0])
@pytest.mark.parametrize("scale", [1e-6, 1e6])
def test_equivariant_to_the_units_of_y(gaussian_data, p, scale):
    X, y = gaussian_data
    X = X[:, :-1]  # the intercept is fitted
    ref = LpRegressor(p=p, tol=1e-12, max_iter=300).fit(X, y)
    reg = LpRegressor(p=p, tol=1e-12, max_iter=300).fit(X, scale * y)
    assert_allclose(reg.coef_, scale * ref.coef_, rtol=1e-6, atol=1e-9 * scale * np.abs(ref.coef_).max())
    assert_allclose(reg.intercept_, scale * ref.intercept_, rtol=1e-6,
                    atol=1e-9 * scale * np.abs(ref.coef_).max())


def test_lp_regression_rejects_bad_p_and_zero_weights(gaussian_data):
    from sklr.linalg import lp_regression

    X, y = gaussian_data
    with pytest.raises(ValueError, match="'p' parameter of lp_regression must be"):
        lp_regression(X, y, float("nan"))
    with pytest.raises(ValueError, match="sample_weight must have at least one non-zero"):
        lp_regression(X, y, 1.5, sample_weight=np.zeros(len(y)))
