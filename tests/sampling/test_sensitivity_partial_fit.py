"""SensitivitySampler.partial_fit: a weighted coreset of a stream by merge and reduce (issue 22.2)."""

import math
import re
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from sklr.linear_model import LpRegressor
from sklr.sampling import SensitivitySampler

BEIJING = (Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "beijing-air"
           / "beijing_air_daily.csv")


def _heavy_tailed(n=20000, seed=1):
    """Student-t(1.5) features, one of them nonzero on 1% of the rows; t(2) noise."""
    rng = np.random.RandomState(seed)
    X = rng.standard_t(1.5, size=(n, 5))
    X[:, 1] *= rng.uniform(0, 1, n) < 0.01
    y = X @ np.arange(1.0, 6.0) + 2.0 + 2.0 * rng.standard_t(2, size=n)
    return X, y


def _beijing():
    if not BEIJING.exists():
        pytest.skip(f"{BEIJING} is not here")
    pd = pytest.importorskip("pandas")
    df = pd.read_csv(BEIJING).dropna()
    # PM10 from temperature, pressure, PM2.5 and SO2: heavy-tailed pollutant levels
    return df[["temp", "pres", "pm25", "so2"]].to_numpy(), df["pm10"].to_numpy()


def _cost(reg, X, y, p):
    return np.sum(np.abs(y - reg.predict(X)) ** p)


def _stream(sampler, X, y, chunk, sample_weight=None):
    for start in range(0, X.shape[0], chunk):
        rows = slice(start, start + chunk)
        sampler.partial_fit(X[rows, ...], y[rows],
                            sample_weight=None if sample_weight is None else sample_weight[rows])
    return sampler


@pytest.mark.parametrize("data", ["heavy_tailed", "beijing"])
@pytest.mark.parametrize("p", [1.0, 2.0])
def test_streamed_coreset_within_1_1_of_the_optimum(data, p):
    X, y = _heavy_tailed() if data == "heavy_tailed" else _beijing()
    optimum = _cost(LpRegressor(p=p).fit(X, y), X, y, p)
    chunk, m = 2000, 20 * (X.shape[1] + 2)
    n_chunks = math.ceil(X.shape[0] / chunk)
    for seed in range(3):
        sampler = _stream(SensitivitySampler(p=p, estimator=LpRegressor(p=p), random_state=seed),
                          X, y, chunk)
        # the model fitted on the coreset, evaluated on all the rows
        assert 1.0 - 1e-9 <= _cost(sampler, X, y, p) / optimum <= 1.1
        # at most 1 + log2(T) samples of about n_samples rows
        levels = 1 + math.ceil(math.log2(n_chunks))
        assert sampler.sample_X_.shape[0] <= levels * (m + 4 * math.sqrt(m))
        assert sampler.n_samples_seen_ == X.shape[0]


@pytest.mark.parametrize("p", [1.0, 2.0])
def test_streamed_weights_are_unbiased(p):
    # Each reduction weights its rows 1 / q_i (Horvitz-Thompson): the sum of the
    # weights is an unbiased estimate of the number of rows, through every level.
    X, y = _heavy_tailed(2000)
    sums = [_stream(SensitivitySampler(p=p, n_samples=40, random_state=seed), X, y, 250)
            .sample_weight_.sum() for seed in range(20)]
    assert np.std(sums) > 0.01 * 2000  # sampled, not kept
    assert abs(np.mean(sums) - 2000) < 3 * np.std(sums) / np.sqrt(20)


def test_the_coreset_is_made_of_the_streamed_rows():
    X, y = _heavy_tailed(6000)
    sampler = _stream(SensitivitySampler(p=1.0, n_samples=100, random_state=0), X, y, 700)
    idx = sampler.sample_indices_
    assert len(np.unique(idx)) == len(idx)
    assert_array_equal(sampler.sample_X_, X[idx])
    assert_array_equal(sampler.sample_y_, y[idx])
    # 9 chunks: a binary counter holding 9 = 1001b, two samples
    assert [held is not None for held in sampler._stream.levels] == [True, False, False, True]
    for name in ("scores_", "probabilities_", "total_sensitivity_"):
        assert not hasattr(sampler, name)


def test_one_chunk_is_fit():
    X, y = _heavy_tailed(5000)
    fitted = SensitivitySampler(p=1.0, random_state=3).fit(X, y)
    streamed = SensitivitySampler(p=1.0, random_state=3).partial_fit(X, y)
    assert_array_equal(streamed.sample_indices_, fitted.sample_indices_)
    assert_allclose(streamed.sample_weight_, fitted.sample_weight_, rtol=1e-12)
    assert streamed.n_iter_ == fitted.n_iter_


def test_rows_fewer_than_n_samples_are_kept_exactly():
    X, y = _heavy_tailed(300)
    w = np.random.RandomState(0).uniform(0.5, 2.0, 300)
    sampler = _stream(SensitivitySampler(p=1.0, n_samples=400, random_state=0), X, y, 70,
                      sample_weight=w)
    order = np.argsort(sampler.sample_indices_)
    assert_array_equal(sampler.sample_indices_[order], np.arange(300))
    assert_array_equal(sampler.sample_weight_[order], w)


def test_partial_fit_is_reproducible_and_goes_on_after_fit():
    X, y = _heavy_tailed(6000)
    a = _stream(SensitivitySampler(p=1.5, random_state=0), X, y, 1000)
    b = _stream(SensitivitySampler(p=1.5, random_state=0), X, y, 1000)
    assert_array_equal(a.sample_indices_, b.sample_indices_)
    assert_array_equal(a.sample_weight_, b.sample_weight_)
    # fit's sample is the first level; partial_fit adds the next rows to it
    c = SensitivitySampler(p=1.5, random_state=0).fit(X[:3000], y[:3000])
    c.partial_fit(X[3000:], y[3000:])
    assert c.n_samples_seen_ == 6000
    assert c.sample_indices_.max() >= 3000 and c.sample_indices_.min() < 3000
    assert_array_equal(c.sample_X_, X[c.sample_indices_])


def test_zero_weight_rows_never_enter_the_coreset():
    X, y = _heavy_tailed(4000)
    w = np.ones(4000)
    w[::3] = 0.0
    sampler = _stream(SensitivitySampler(p=1.0, random_state=0), X, y, 500, sample_weight=w)
    assert np.all(sampler.sample_indices_ % 3 != 0)


def test_without_y_and_in_float32():
    X, _ = _heavy_tailed(3000)
    sampler = SensitivitySampler(p=2.0, n_samples=60, random_state=0)
    for start in range(0, 3000, 1000):
        sampler.partial_fit(X[start:start + 1000].astype(np.float32))
    assert sampler.sample_y_ is None and sampler.sample_X_.dtype == np.float32
    assert sampler.sample_weight_.dtype == np.float32


@pytest.mark.parametrize("params, chunks, error, message", [
    ({"n_samples": 0.1}, [(10, True)], ValueError,
     "partial_fit needs n_samples as an int or 'auto', got 0.1"),
    ({}, [(10, True), (10, False)], ValueError,
     "y was given with the first chunk; give it with every chunk."),
    ({}, [(10, False), (10, True)], ValueError,
     "y was not given with the first chunk; give it with no chunk."),
    ({"estimator": LpRegressor()}, [(10, False)], ValueError, "requires y to be passed"),
])
def test_bad_streams(params, chunks, error, message):
    X, y = _heavy_tailed(100)
    sampler = SensitivitySampler(random_state=0, **params)
    with pytest.raises(error, match=re.escape(message)):
        for n, with_y in chunks:
            sampler.partial_fit(X[:n], y[:n] if with_y else None)


def test_later_chunks_must_match_the_first():
    X, y = _heavy_tailed(100)
    sampler = SensitivitySampler(random_state=0).partial_fit(X, np.c_[y, y])
    with pytest.raises(ValueError, match=re.escape("y has 1 target(s) but the first chunk had 2")):
        sampler.partial_fit(X, y[:, None])
    with pytest.raises(ValueError, match="X has 4 features, but SensitivitySampler is expecting 5"):
        sampler.partial_fit(X[:, :4], np.c_[y, y])


def test_partial_fit_under_array_api_strict_equals_numpy():
    xp = pytest.importorskip("array_api_strict")
    sklearn = pytest.importorskip("sklearn")
    X, y = _heavy_tailed(3000)
    w = np.random.RandomState(0).uniform(0, 1, 3000)
    ref = _stream(SensitivitySampler(n_samples=100, random_state=0), X, y, 500, sample_weight=w)
    with sklearn.config_context(array_api_dispatch=True):
        got = _stream(SensitivitySampler(n_samples=100, random_state=0), xp.asarray(X),
                      xp.asarray(y), 500, sample_weight=xp.asarray(w))
    assert isinstance(got.sample_X_, type(xp.asarray(X)))
    assert_array_equal(np.asarray(got.sample_indices_), ref.sample_indices_)
    assert_allclose(np.asarray(got.sample_weight_), ref.sample_weight_, rtol=1e-12)
