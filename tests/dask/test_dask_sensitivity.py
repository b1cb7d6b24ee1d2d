"""SensitivitySampler on Dask arrays, on a real two-process cluster (issue 22.2, 22.5).

The scores are computed by passes over the blocks (TSQR, then row norms of ``A_b T``) and each
block draws its own rows with uniforms keyed by the row index, so the coreset of a Dask array is
the in-memory one: the same rows, weights equal to rounding, whatever the blocks.
"""

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklr.linear_model import LpRegressor
from sklr.sampling import SensitivitySampler

da = pytest.importorskip("dask.array")


@pytest.fixture(scope="module")
def data():
    rng = np.random.RandomState(0)
    n = 6000
    X = rng.standard_t(1.5, size=(n, 4))
    X[:, 1] *= rng.uniform(0, 1, n) < 0.01  # a few rows carry a direction alone
    y = X @ np.arange(1.0, 5.0) + 2.0 + rng.standard_t(2, size=n)
    w = rng.uniform(0, 2, n)
    # y and the weights in other blocks than X: the sampler aligns them with X's blocks.
    return (X, y, w), (da.from_array(X, chunks=(1100, 4)), da.from_array(y, chunks=2500),
                       da.from_array(w, chunks=1700))


@pytest.mark.parametrize("params", [
    {"p": 1.0},
    {"p": 1.5, "n_samples": 300},
    {"p": 2.0, "method": "leverage"},
    {"p": 1.0, "method": "root_leverage"},
    {"p": 3.0, "method": "sensitivity"},
    {"p": 1.0, "method": "uniform", "n_samples": 0.05},
])
def test_the_coreset_of_a_dask_array_is_the_in_memory_one(dask_client, data, params):
    (X, y, w), (Xd, yd, wd) = data
    ref = SensitivitySampler(random_state=0, **params)
    X_ref, y_ref = ref.fit_resample(X, y, sample_weight=w)
    sampler = SensitivitySampler(random_state=0, **params)
    X_s, y_s = sampler.fit_resample(Xd, yd, sample_weight=wd)
    # the scores, kept on the cluster, equal the in-memory ones (exact leverage both ways)
    assert isinstance(sampler.scores_, da.Array)
    assert_allclose(sampler.scores_.compute(), ref.scores_, rtol=1e-10,
                    atol=1e-12 * ref.scores_.max())
    assert_allclose(sampler.probabilities_.compute(), ref.probabilities_, rtol=1e-10, atol=1e-12)
    assert sampler.n_iter_ == ref.n_iter_
    assert sampler.total_sensitivity_ == pytest.approx(ref.total_sensitivity_, rel=1e-10)
    # the sample is small, in memory and the same rows
    assert isinstance(X_s, np.ndarray) and isinstance(sampler.sample_weight_, np.ndarray)
    assert_array_equal(sampler.sample_indices_, ref.sample_indices_)
    assert_array_equal(X_s, X_ref)
    assert_array_equal(y_s, y_ref)
    assert_allclose(sampler.sample_weight_, ref.sample_weight_, rtol=1e-10)


@pytest.mark.parametrize("chunks", [(6000, 4), (400, 4), (1500, 2), (997, 1)])
def test_the_coreset_does_not_depend_on_the_blocks(dask_client, data, chunks):
    (X, y, _), _ = data
    ref = SensitivitySampler(p=1.0, random_state=1).fit(da.from_array(X, chunks=(3000, 4)),
                                                        da.from_array(y, chunks=3000))
    # blocks of rows of any size, and blocks of columns (joined for each block of rows)
    sampler = SensitivitySampler(p=1.0, random_state=1).fit(da.from_array(X, chunks=chunks),
                                                            da.from_array(y, chunks=chunks[0]))
    assert_array_equal(sampler.sample_indices_, ref.sample_indices_)
    assert_allclose(sampler.sample_weight_, ref.sample_weight_, rtol=1e-10)


def test_water_level_with_many_rows_kept_for_sure(dask_client, data, monkeypatch):
    # Each block sends its largest scores; when more rows than these are kept
    # for sure, it sends more: the level is still the in-memory one.
    from sklr.sampling import _coreset

    monkeypatch.setattr(_coreset, "_TOP_SCORES", 4)
    (X, y, _), (Xd, yd, _) = data
    params = {"method": "leverage", "n_samples": 4000, "random_state": 0}
    ref = SensitivitySampler(**params).fit(X, y)
    assert np.sum(ref.probabilities_ == 1.0) > 4 * 16  # past a few rounds of 4x more
    sampler = SensitivitySampler(**params).fit(Xd, yd)
    assert_allclose(sampler.probabilities_.compute(), ref.probabilities_, rtol=1e-10, atol=1e-12)
    assert_array_equal(sampler.sample_indices_, ref.sample_indices_)


@pytest.mark.parametrize("p", [1.0, 2.0])
def test_dask_coreset_within_1_1_of_the_optimum(dask_client, data, p):
    (X, y, w), (Xd, yd, wd) = data
    full = LpRegressor(p=p).fit(X, y, sample_weight=w)
    optimum = np.sum(w * np.abs(y - full.predict(X)) ** p)
    sampler = SensitivitySampler(p=p, estimator=LpRegressor(p=p), random_state=0)
    sampler.fit(Xd, yd, sample_weight=wd)
    assert sampler.sample_X_.shape[0] < 0.05 * X.shape[0]
    ratio = np.sum(w * np.abs(y - sampler.predict(X)) ** p) / optimum
    assert 1.0 - 1e-9 <= ratio <= 1.1


def test_without_y_and_then_partial_fit(dask_client, data):
    (X, _, _), (Xd, _, _) = data
    sampler = SensitivitySampler(p=1.0, fit_intercept=False, random_state=0)
    X_s = sampler.fit_resample(Xd)
    ref = SensitivitySampler(p=1.0, fit_intercept=False, random_state=0).fit(X)
    assert_array_equal(X_s, ref.sample_X_)
    assert sampler.sample_y_ is None and sampler.n_features_in_ == 4
    # the Dask sample is the first level of a stream
    sampler.partial_fit(X[:500])
    assert sampler.n_samples_seen_ == 6500
    assert isinstance(sampler.sample_X_, np.ndarray)


def _nan_at(a, row):
    index = da.arange(a.shape[0])
    return da.where((index[:, None] if a.ndim == 2 else index) == row, np.nan, a)


@pytest.mark.parametrize("params, make, error, message", [
    ({"leverage": "approx"}, lambda X, y, w: (X, y, None), ValueError,
     "use leverage='exact', and a method other than the exact sensitivities"),
    ({"method": "sensitivity", "sensitivity": "exact"}, lambda X, y, w: (X, y, None), ValueError,
     "got leverage='exact', method='sensitivity', sensitivity='exact'"),
    ({"p": 5.0}, lambda X, y, w: (X, y, None), ValueError, "method='lewis' needs p < 4"),
    ({}, lambda X, y, w: (X, y.compute(), None), TypeError,
     "y must be a Dask array like X, got ndarray"),
    ({}, lambda X, y, w: (_nan_at(X, 7), y, None), ValueError,
     "Input X contains NaN or infinity"),
    ({}, lambda X, y, w: (X, _nan_at(y, 5000), None), ValueError,
     "Input y contains NaN or infinity"),
    ({}, lambda X, y, w: (X, y, -w), ValueError,
     "Negative values in data passed to `sample_weight`"),
    ({}, lambda X, y, w: (X, y, 0 * w), ValueError,
     "Sample weights must contain at least one non-zero number"),
    ({}, lambda X, y, w: (X, y[:-1], None), ValueError, "inconsistent numbers of samples"),
    ({}, lambda X, y, w: (X[X[:, 0] > 0], y[X[:, 0] > 0], None), ValueError,
     "X has blocks of unknown size; call X.compute_chunk_sizes() first"),
    ({"n_samples": 7000}, lambda X, y, w: (X, y, None), ValueError,
     "n_samples=7000 must be <= the number of rows of X (6000)"),
])
def test_bad_dask_input(data, params, make, error, message):
    _, (Xd, yd, wd) = data
    X, y, w = make(Xd, yd, wd)
    with pytest.raises(error, match=re.escape(message)):
        SensitivitySampler(random_state=0, **params).fit(X, y, sample_weight=w)
