"""Lewis weights, root leverage scores, l_p sensitivities and l_p regression against references."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.optimize import minimize
from sklearn.linear_model import LinearRegression, QuantileRegressor

from sklr.datasets import make_least_squares
from sklr.linalg import (
    leverage_scores,
    lewis_weights,
    lp_regression,
    lp_sensitivities,
    root_leverage_scores,
)
from sklr.utils._array_api import namespace_and_device, to_numpy


def _matrix(n=80, d=4, seed=0):
    rng = np.random.RandomState(seed)
    A = rng.standard_normal((n, d))
    A[:3] *= 15.0  # a few heavy rows, so that the scores differ
    return A


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_lewis_weights_are_the_fixed_point_and_sum_to_rank(p):
    A = _matrix()
    w, n_iter = lewis_weights(A, p, return_n_iter=True)
    assert 1 < n_iter < 100
    assert_allclose(w.sum(), 4.0, rtol=1e-7)
    # w_i = leverage score of row i of W^(1/2 - 1/p) A.
    assert_allclose(leverage_scores(w[:, None] ** (0.5 - 1.0 / p) * A), w, rtol=1e-6)
    assert np.argmax(w) < 3  # the heavy rows weigh most


def test_lewis_weights_p2_are_leverage_scores_and_rank_deficient_sum():
    A = _matrix()
    assert_allclose(lewis_weights(A, 2.0), leverage_scores(A), rtol=1e-12)
    B = np.c_[A, A[:, 0] - A[:, 1], np.zeros(80)]  # rank 4 of 6 columns
    B[5] = 0.0
    w = lewis_weights(B, 1.0)
    assert_allclose(w.sum(), 4.0, rtol=1e-6)
    assert w[5] == 0.0


def test_lewis_weights_approx_within_constant_factor():
    A = _matrix(n=4000, d=5)
    exact = lewis_weights(A, 1.0)
    approx = lewis_weights(A, 1.0, method="approx", max_iter=30, random_state=0)
    ratio = approx / exact
    assert 0.5 < ratio.min() and ratio.max() < 2.0


def test_lewis_weights_backends(xp):
    A = _matrix()
    w = lewis_weights(xp.asarray(A), 1.0)
    assert namespace_and_device(w)[0] is xp
    assert_allclose(to_numpy(w), lewis_weights(A, 1.0), rtol=1e-9)


@pytest.mark.parametrize("p", [0.5, 4.0, "1"])
def test_lewis_weights_reject_bad_p(p):
    with pytest.raises(ValueError, match="'p' parameter of lewis_weights must be"):
        lewis_weights(_matrix(), p)


def test_exact_sensitivities_p2_are_leverage_scores():
    A = _matrix(n=30, d=3)
    assert_allclose(lp_sensitivities(A, 2.0), leverage_scores(A), rtol=1e-6)


@pytest.mark.parametrize("p", [1.0, 1.5, 3.0])
def test_exact_sensitivities_below_lewis_bounds(p):
    A = _matrix(n=40, d=3)
    exact = lp_sensitivities(A, p)
    bound = lp_sensitivities(A, p, method="lewis")
    lewis = lewis_weights(A, p)
    factor = 3.0 ** max(0.0, p / 2 - 1)  # d^(p/2 - 1) for p > 2
    assert np.all(exact <= bound * (1 + 1e-6))
    assert np.all(exact <= factor * lewis * (1 + 1e-6))
    assert np.all(exact > 0) and np.all(exact <= 1 + 1e-9)
    # Sensitivities are sharp somewhere: the bound is not vacuous.
    assert np.max(exact / bound) > 0.5
    if p <= 2:
        assert exact.sum() <= 3.0 + 1e-6  # total sensitivity <= d for p <= 2
        assert np.all(exact <= root_leverage_scores(A, p) * (1 + 1e-6))


def test_exact_l1_sensitivity_matches_definition_at_its_maximiser():
    # sup_x |a_i^T x| / ||Ax||_1 is attained at a vertex; no random x beats it.
    A = _matrix(n=30, d=3)
    s = lp_sensitivities(A, 1.0)
    X = np.random.RandomState(1).standard_normal((3, 20000))
    ratios = np.abs(A @ X) / np.abs(A @ X).sum(axis=0)
    assert np.all(ratios.max(axis=1) <= s + 1e-9)
    assert np.all(ratios.max(axis=1) >= 0.8 * s)


def test_root_leverage_scores():
    A = _matrix()
    assert_allclose(root_leverage_scores(A, 1.0), np.sqrt(leverage_scores(A)))
    with pytest.raises(ValueError, match="'p' parameter of root_leverage_scores must be"):
        root_leverage_scores(A, 3.0)


def test_sensitivities_bad_method():
    with pytest.raises(ValueError, match="'method' parameter of lp_sensitivities must be"):
        lp_sensitivities(_matrix(), 1.0, method="sketch")


def _heavy_tailed(n=2000, d=8, seed=0):
    X, _, coef = make_least_squares(n, d, random_state=seed)
    y = X @ coef + 1.0 + np.random.RandomState(seed).standard_cauchy(n)
    return X, y


def test_lp_regression_p1_matches_linear_program():
    X, y = _heavy_tailed()
    res = lp_regression(X, y, 1.0, fit_intercept=True)
    ref = QuantileRegressor(alpha=0.0).fit(X, y)
    f_ref = np.abs(y - ref.predict(X)).sum()
    assert res.converged
    assert f_ref * (1 - 1e-9) <= res.objective <= f_ref * (1 + 1e-10)  # the certified LP vertex
    assert_allclose(res.coef, ref.coef_, atol=1e-2)  # the LAD optimum is flat


@pytest.mark.parametrize("p", [1.5, 3.0])
def test_lp_regression_matches_bfgs_and_decreases(p):
    X, y = _heavy_tailed(n=500, d=4)
    y = np.clip(y, -20, 20)
    res = lp_regression(X, y, p, fit_intercept=True)
    f = lambda x: np.sum(np.abs(y - X @ x[:-1] - x[-1]) ** p)  # noqa: E731
    ref = minimize(f, np.zeros(5), method="BFGS", options={"gtol": 1e-10})
    assert res.converged and res.objective <= ref.fun * (1 + 1e-7)
    assert_allclose(np.r_[res.coef, res.intercept], ref.x, rtol=1e-3, atol=1e-3)
    if p > 2:  # Newton with backtracking: monotone
        assert np.all(np.diff(res.objective_path) <= 0)


def test_lp_regression_p2_weights_equal_repetition():
    X, y = _heavy_tailed(n=300, d=3)
    res = lp_regression(X, y, 2.0, fit_intercept=True)
    ref = LinearRegression().fit(X, y)
    assert_allclose(res.coef, ref.coef_, rtol=1e-10)
    v = np.random.RandomState(0).randint(0, 3, 300).astype(float)
    for p in (1.5, 2.0):
        weighted = lp_regression(X, y, p, sample_weight=v, fit_intercept=True, tol=1e-12)
        repeated = lp_regression(np.repeat(X, v.astype(int), 0), np.repeat(y, v.astype(int)), p,
                                 fit_intercept=True, tol=1e-12)
        assert_allclose(weighted.coef, repeated.coef, rtol=1e-6, atol=1e-8)


def test_lp_regression_backends(xp):
    X, y = _heavy_tailed(n=300, d=3)
    res = lp_regression(xp.asarray(X), xp.asarray(y), 1.5, fit_intercept=True)
    ref = lp_regression(X, y, 1.5, fit_intercept=True)
    assert namespace_and_device(res.coef)[0] is xp
    assert_allclose(to_numpy(res.coef), ref.coef, rtol=1e-9)
    # p = 1 goes through the vertex certification, in the namespace too.
    lad = lp_regression(xp.asarray(X), xp.asarray(y), 1.0, fit_intercept=True)
    assert lad.converged
    assert_allclose(lad.objective, lp_regression(X, y, 1.0, fit_intercept=True).objective,
                    rtol=1e-12)
    with pytest.raises(ValueError, match="'p' parameter of lp_regression must be"):
        lp_regression(X, y, 0.5)


def test_leverage_scores_cholesky_path_accurate_and_falls_back():
    # At cond 1e12 the rounding of X itself moves its column space by about
    # eps * cond, so Householder QR and the scores agree to that, not better.
    for cond, rtol in ((1e5, 1e-10), (1e12, 1e-3)):
        X, _, _ = make_least_squares(3000, 10, design="ill_conditioned", cond=cond, random_state=0)
        Q, _ = np.linalg.qr(X)
        assert_allclose(leverage_scores(X), np.sum(Q * Q, axis=1), rtol=rtol)


@pytest.mark.parametrize(
    "func, kwargs",
    [
        (lewis_weights, {"p": 1.0, "method": "approx", "max_iter": 5}),
        (root_leverage_scores, {"p": 1.0, "method": "approx"}),
    ],
)
def test_random_state_normalised_at_the_public_entry(func, kwargs):
    """An int seed and the RandomState it names give the same approximate scores.

    The public function calls check_random_state once; the private core gets
    the RandomState (issue 18.3), so the two calls draw the same numbers.
    """
    A = _matrix(n=300, d=4, seed=2)
    from_int = func(A, random_state=7, **kwargs)
    from_state = func(A, random_state=np.random.RandomState(7), **kwargs)
    assert_allclose(from_int, from_state, rtol=0, atol=0)
    assert not np.allclose(from_int, func(A, random_state=8, **kwargs))
