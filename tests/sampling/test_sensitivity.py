"""SensitivitySampler: probabilities, unbiasedness, embedding quality, coreset fits, bad input."""

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.linear_model import QuantileRegressor
from sklearn.model_selection import GridSearchCV
from sklearn.neighbors import KNeighborsRegressor

from sklr.datasets import make_least_squares
from sklr.linalg import lp_sensitivities
from sklr.linear_model import LpRegressor
from sklr.sampling import SensitivitySampler, inclusion_probabilities, sampling_scores
from sklr.utils._array_api import namespace_and_device, to_numpy

METHODS = ["lewis", "sensitivity", "root_leverage", "leverage", "uniform"]


def _lad_problem(n=5000, d=5, design="gaussian", seed=0):
    X, _, coef = make_least_squares(n, d, design=design, random_state=seed)
    y = X @ coef + 2.0 + np.random.RandomState(seed).standard_t(1.5, size=n)
    return X, y


def _distortion(A, indices, weights, directions, p):
    full = np.sum(np.abs(A @ directions) ** p, axis=0)
    sample = weights @ np.abs(A[indices] @ directions) ** p
    return np.abs(sample / full - 1.0)


def _directions(A, n_random=200, n_adversarial=10, seed=0):
    """Random directions, plus the worst ones for the highest-leverage rows."""
    rng = np.random.RandomState(seed)
    Q, R = np.linalg.qr(A)
    tau = np.sum(Q * Q, axis=1)
    top = np.argsort(tau)[-n_adversarial:]
    # x = (A^T A)^-1 a_i maximises |a_i^T x| / ||A x||_2: the row dominates A x.
    adversarial = np.linalg.solve(R.T @ R, A[top].T)
    return np.c_[rng.standard_normal((A.shape[1], n_random)), adversarial]


def test_inclusion_probabilities_water_filling():
    s = np.array([100.0, 50.0, 1.0, 1.0, 2.0, 0.0, 4.0])
    q = inclusion_probabilities(s, 4)
    assert_allclose(q.sum(), 4.0)
    assert q[0] == q[1] == 1.0 and q[5] == 0.0
    assert_allclose(q[[2, 3, 4, 6]], np.array([1.0, 1.0, 2.0, 4.0]) / 4.0)  # proportional
    assert_allclose(inclusion_probabilities(s, 6), np.r_[1, 1, 1, 1, 1, 0, 1])  # all positive
    assert_allclose(inclusion_probabilities(np.ones(10), 2.5), np.full(10, 0.25))
    with pytest.raises(ValueError, match="all sampling scores are zero"):
        inclusion_probabilities(np.zeros(3), 2)


@pytest.mark.parametrize("method", METHODS)
def test_attributes_and_unbiased_cost(method):
    X, y = _lad_problem(n=2000, d=4)
    sampler = SensitivitySampler(p=1.0, method=method, n_samples=200, random_state=0).fit(X, y)
    q = sampler.probabilities_
    assert_allclose(q.sum(), 200.0, rtol=1e-9)
    assert np.all(np.diff(sampler.sample_indices_) > 0)
    assert_allclose(sampler.sample_weight_, 1.0 / q[sampler.sample_indices_])
    assert abs(len(sampler.sample_indices_) - 200) < 5 * np.sqrt(200)
    assert_allclose(sampler.total_sensitivity_, sampler.scores_.sum())
    # E[sum_i w_i |r_i|] = ||r||_1 for any residual r: Monte Carlo over draws.
    r = y - X @ np.ones(4)
    full = np.abs(r).sum()
    estimates = []
    for seed in range(300):
        rng = np.random.RandomState(seed)
        kept = np.nonzero(rng.uniform(size=2000) < q)[0]
        estimates.append(np.sum(np.abs(r[kept]) / q[kept]))
    standard_error = np.std(estimates) / np.sqrt(len(estimates))
    assert abs(np.mean(estimates) - full) < 4 * standard_error + 1e-9 * full


def test_sample_is_reproducible_and_the_unbiased_estimate_uses_it():
    X, y = _lad_problem(n=3000, d=4)
    r = y - X @ np.ones(4) - 2.0
    estimates = []
    for seed in range(200):
        s = SensitivitySampler(p=1.0, n_samples=100, random_state=seed).fit(X, y)
        estimates.append(s.sample_weight_ @ np.abs(r[s.sample_indices_]))
    assert abs(np.mean(estimates) / np.abs(r).sum() - 1) < 4 * np.std(estimates) / np.sqrt(
        200) / np.abs(r).sum() + 1e-12
    a = SensitivitySampler(random_state=3).fit(X, y)
    b = SensitivitySampler(random_state=3).fit(X, y)
    assert np.array_equal(a.sample_indices_, b.sample_indices_)


@pytest.mark.parametrize("p", [1.0, 1.5])
def test_lewis_sample_is_an_lp_subspace_embedding(p):
    X, _, _ = make_least_squares(20000, 6, design="coherent", random_state=0)
    sampler = SensitivitySampler(p=p, n_samples=1500, fit_intercept=False, random_state=0).fit(X)
    dist = _distortion(X, sampler.sample_indices_, sampler.sample_weight_, _directions(X), p)
    assert dist.max() < 0.2
    # ... and the d coherent rows, which carry the leverage, are all kept with weight 1.
    assert set(range(6)) <= set(sampler.sample_indices_.tolist())
    assert_allclose(sampler.probabilities_[:6], 1.0)


def test_uniform_fails_on_coherent_design_where_lewis_succeeds():
    # d rows of size n carry most of the l_1 mass of their directions: a uniform
    # sample of 300 rows misses them (or, once in a while, weighs one n / 300 times).
    n, d = 20000, 6
    X = np.random.RandomState(0).standard_normal((n, d))
    X[:d] = n * np.eye(d)
    directions = _directions(X)
    worst = {}
    for method in ("uniform", "lewis"):
        dists = [
            _distortion(X, s.sample_indices_, s.sample_weight_, directions, 1.0).max()
            for s in (
                SensitivitySampler(p=1.0, method=method, n_samples=300, fit_intercept=False,
                                   random_state=seed).fit(X)
                for seed in range(5)
            )
        ]
        worst[method] = dists
    assert min(worst["uniform"]) > 0.5  # measured 0.74 to 36 over five seeds
    assert max(worst["lewis"]) < 0.1  # measured 0.03 to 0.06


@pytest.mark.parametrize("method", ["lewis", "sensitivity", "root_leverage"])
def test_lad_on_coreset_within_1_1_of_full_lad(method):
    X, y = _lad_problem(n=5000, d=5, design="coherent")
    full = QuantileRegressor(alpha=0.0).fit(X, y)
    f_opt = np.abs(y - full.predict(X)).sum()
    sampler = SensitivitySampler(p=1.0, method=method, estimator=QuantileRegressor(alpha=0.0),
                                 random_state=0).fit(X, y)
    assert len(sampler.sample_indices_) < 0.05 * 5000  # 20 * (5 + 2) = 140 rows expected
    assert np.abs(y - sampler.predict(X)).sum() <= 1.1 * f_opt
    assert_allclose(sampler.predict(X), sampler.estimator_.predict(X))
    assert sampler.score(X, y) == sampler.estimator_.score(X, y)


def test_sample_weight_scales_the_loss_and_zero_weight_rows_are_never_drawn():
    X, y = _lad_problem(n=2000, d=3)
    v = np.random.RandomState(0).uniform(0.5, 2.0, 2000)
    v[:500] = 0.0
    s = SensitivitySampler(p=1.0, n_samples=300, random_state=0).fit(X, y, sample_weight=v)
    assert s.sample_indices_.min() >= 500
    assert np.all(s.probabilities_[:500] == 0)
    assert_allclose(s.sample_weight_, v[s.sample_indices_] / s.probabilities_[s.sample_indices_])


def test_fit_resample_returns_the_sampled_rows():
    X, y = _lad_problem(n=1000, d=3)
    s = SensitivitySampler(n_samples=0.1, random_state=0)
    X_s, y_s = s.fit_resample(X, y)
    assert_allclose(X_s, X[s.sample_indices_])
    assert_allclose(y_s, y[s.sample_indices_])
    assert_allclose(s.probabilities_.sum(), 100.0)
    X_only = SensitivitySampler(n_samples=50, random_state=0).fit_resample(X)
    assert X_only.shape[1] == 3


def test_scores_of_each_method():
    X, _, _ = make_least_squares(3000, 4, design="coherent", random_state=0)
    lewis = sampling_scores(X, 1.0, "lewis")
    assert_allclose(lewis.sum(), 4.0, rtol=2e-2)  # tol=1e-2: constant-factor weights
    assert_allclose(sampling_scores(X, 1.0, "uniform"), np.ones(3000))
    tau = sampling_scores(X, 1.0, "leverage")
    assert_allclose(sampling_scores(X, 1.0, "root_leverage"), np.sqrt(tau))
    bound = sampling_scores(X, 1.0, "sensitivity")
    assert np.all(bound <= lewis + 1e-12) and np.all(bound <= np.sqrt(tau) + 1e-12)
    assert np.all(lewis <= np.sqrt(tau) * (1 + 1e-6))  # Lewis weights below root leverage


def test_exact_sensitivity_sampling_on_small_n():
    X, y = _lad_problem(n=150, d=3, design="coherent")
    exact = SensitivitySampler(method="sensitivity", sensitivity="exact", n_samples=40,
                               random_state=0).fit(X, y)
    bound = SensitivitySampler(method="sensitivity", n_samples=40, random_state=0).fit(X, y)
    A = np.c_[X, y, np.ones(150)]
    assert_allclose(exact.scores_, lp_sensitivities(A, 1.0), rtol=1e-9)
    assert np.all(exact.scores_ <= bound.scores_ * (1 + 1e-6))
    # the total sensitivity is at most the rank (5) for p = 1, and below its bound
    assert exact.total_sensitivity_ < bound.total_sensitivity_ <= 5.0 + 1e-6
    assert_allclose(exact.probabilities_.sum(), 40.0)


def test_sensitivity_bounds_are_lewis_weights_up_to_scale():
    X, _, _ = make_least_squares(500, 3, design="coherent", random_state=0)
    lewis = sampling_scores(X, 1.0, "lewis")
    assert_allclose(sampling_scores(X, 1.0, "sensitivity"), lewis)  # s_i <= w_i for p <= 2
    lewis3 = sampling_scores(X, 3.0, "lewis")
    bound3 = sampling_scores(X, 3.0, "sensitivity")
    assert_allclose(bound3, np.minimum(1.0, lewis3.sum() ** 0.5 * lewis3), rtol=1e-9)  # d^(1/2) w


def test_grid_search_tunes_n_samples_and_method():
    X, y = _lad_problem(n=1500, d=3)
    search = GridSearchCV(
        SensitivitySampler(estimator=LpRegressor(p=1.0), random_state=0),
        {"n_samples": [30, 300], "method": ["uniform", "lewis"]}, cv=3,
        scoring="neg_mean_absolute_error",
    ).fit(X, y)
    assert search.best_params_["n_samples"] == 300
    assert search.best_estimator_.estimator_.coef_.shape == (3,)


def test_backends_agree(xp):
    X, y = _lad_problem(n=600, d=3)
    ref = SensitivitySampler(n_samples=60, random_state=0).fit(X, y)
    got = SensitivitySampler(n_samples=60, random_state=0).fit(xp.asarray(X), xp.asarray(y))
    assert namespace_and_device(got.sample_weight_)[0] is xp
    assert np.array_equal(to_numpy(got.sample_indices_), ref.sample_indices_)
    assert_allclose(to_numpy(got.sample_weight_), ref.sample_weight_, rtol=1e-9)


def test_verbose_prints(capsys):
    X, y = _lad_problem(n=500, d=3)
    SensitivitySampler(n_samples=50, verbose=1, random_state=0).fit(X, y)
    assert "drew" in capsys.readouterr().out


@pytest.mark.parametrize(
    "params, fit_kwargs, error, match",
    [
        ({"p": 0.5}, {}, ValueError, "'p' parameter of SensitivitySampler must be"),
        ({"n_samples": 5000}, {}, ValueError, "n_samples=5000 must be <= the number of rows"),
        ({"n_samples": 0}, {}, ValueError, "'n_samples' parameter"),
        ({"n_samples": -0.5}, {}, ValueError, "'n_samples' parameter"),
        ({"method": "lewis", "p": 4.0}, {}, ValueError, "method='lewis' needs p < 4"),
        ({"method": "root_leverage", "p": 3.0}, {}, ValueError, "p <= 2"),
        ({"method": "magic"}, {}, ValueError, "'method' parameter"),
        ({}, {"sample_weight": -np.ones(1000)}, ValueError, "Negative values in data passed to"),
        ({"estimator": KNeighborsRegressor()}, {}, TypeError, "does not accept sample_weight"),
    ],
)
def test_bad_input(params, fit_kwargs, error, match):
    X, y = _lad_problem(n=1000, d=3)
    with pytest.raises(error, match=re.escape(match) if "'" not in match else match):
        SensitivitySampler(random_state=0, **params).fit(X, y, **fit_kwargs)


def test_bad_data():
    X, y = _lad_problem(n=100, d=3)
    X_nan = X.copy()
    X_nan[3, 1] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        SensitivitySampler().fit(X_nan, y)
    with pytest.raises(ValueError, match="Expected 2D array, got 1D array"):
        SensitivitySampler().fit(X[:, 0], y)
    with pytest.raises(ValueError, match="requires y to be passed"):
        SensitivitySampler(estimator=LpRegressor()).fit(X)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        SensitivitySampler().fit(X, y[:50])
    with pytest.raises(AttributeError):
        SensitivitySampler().fit(X, y).predict(X)  # no estimator: nothing to predict with
