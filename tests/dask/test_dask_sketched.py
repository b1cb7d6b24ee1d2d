"""SketchedRegressor.fit on Dask arrays, on a real two-process cluster (issue 22.1, 22.5)."""

import re

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.linear_model import LinearRegression

from sklr import SketchedRegressor
from sklr.datasets import make_least_squares

da = pytest.importorskip("dask.array")


@pytest.fixture(scope="module")
def data():
    X, y, _ = make_least_squares(8000, 6, noise=0.5, random_state=0)
    w = np.random.RandomState(0).uniform(0, 2, len(y))
    X, y = X + 3.0, y - 4.0
    # y and the weights in other blocks than X: fit aligns them with X's blocks.
    return (X, y, w), (da.from_array(X, chunks=(1500, 6)), da.from_array(y, chunks=2500),
                       da.from_array(w, chunks=2000))


@pytest.mark.parametrize("sketch", ["sparse_sign", "countsketch", "gaussian"])
def test_sketch_on_the_cluster_equals_the_in_memory_fit(dask_client, data, sketch):
    (X, y, w), (Xd, yd, wd) = data
    ref = SketchedRegressor(sketch=sketch, random_state=0).fit(X, y, sample_weight=w)
    reg = SketchedRegressor(sketch=sketch, random_state=0).fit(Xd, yd, sample_weight=wd)
    # The same sketch, summed block by block: equal up to rounding.
    assert np.max(np.abs(reg.coef_ - ref.coef_)) <= 1e-12 * np.max(np.abs(ref.coef_))
    assert reg.intercept_ == pytest.approx(ref.intercept_, rel=1e-12)
    assert isinstance(reg.coef_, np.ndarray) and reg.n_samples_seen_ == 8000
    # and within the residual bound of sketch-and-solve
    exact = LinearRegression().fit(X, y, sample_weight=w)
    r = np.sqrt(w) * (X @ reg.coef_ + reg.intercept_ - y)
    r_opt = np.sqrt(w) * (exact.predict(X) - y)
    assert 1.0 <= np.linalg.norm(r) / np.linalg.norm(r_opt) <= 1.05


def test_precondition_on_the_cluster_equals_the_exact_fit(dask_client, data):
    (X, y, w), (Xd, yd, wd) = data
    Y, Yd = np.c_[y, X[:, 0] - y], da.stack([yd, Xd[:, 0] - yd], axis=1)
    reg = SketchedRegressor(solver="precondition", sketch="sparse_sign", random_state=0)
    reg.fit(Xd, Yd, sample_weight=wd)
    ref = SketchedRegressor(solver="precondition", sketch="sparse_sign", random_state=0)
    ref.fit(X, Y, sample_weight=w)
    exact = LinearRegression().fit(X, Y, sample_weight=w)
    assert_allclose(reg.coef_, ref.coef_, rtol=1e-10, atol=1e-10 * np.abs(ref.coef_).max())
    assert_allclose(reg.coef_, exact.coef_, rtol=1e-10, atol=1e-10 * np.abs(exact.coef_).max())
    assert_allclose(reg.intercept_, exact.intercept_, rtol=1e-10)
    assert reg.n_iter_ == ref.n_iter_ > 1


def test_predict_stays_lazy(dask_client, data):
    (X, _, _), (Xd, yd, _) = data
    reg = SketchedRegressor(sketch="countsketch", random_state=0).fit(Xd, yd)
    pred = reg.predict(Xd)
    assert isinstance(pred, da.Array) and pred.chunks[0] == Xd.chunks[0]
    assert_allclose(pred.compute(), reg.predict(X), rtol=1e-12)


def test_partial_fit_on_the_blocks_equals_fit(data):
    (_, _, _), (Xd, yd, _) = data
    reg = SketchedRegressor(sketch="sparse_sign", random_state=0)
    for block in reversed(range(Xd.numblocks[0])):
        start = sum(Xd.chunks[0][:block])
        rows = slice(start, start + Xd.chunks[0][block])
        reg.partial_fit(Xd.blocks[block].compute(), yd[rows].compute(), row_offset=start)
    ref = SketchedRegressor(sketch="sparse_sign", random_state=0).fit(Xd, yd)
    assert np.max(np.abs(reg.coef_ - ref.coef_)) <= 1e-12 * np.max(np.abs(ref.coef_))


def _corrupt_x(Xd):
    return da.where(da.arange(Xd.shape[0])[:, None] == 7, np.nan, Xd)


@pytest.mark.parametrize("params, make, error, message", [
    ({}, lambda X, y, w: (X, y, None), ValueError,
     "sketch='srht' mixes all the rows, so it cannot be computed block by block"),
    ({"sketch": "gaussian", "n_buckets": 2000}, lambda X, y, w: (X, y, None), ValueError,
     "sketch='gaussian' mixes all the rows"),
    ({"sketch": "sparse_sign"}, lambda X, y, w: (X, y.compute(), None), TypeError,
     "y must be a Dask array like X, got ndarray"),
    ({"sketch": "sparse_sign"}, lambda X, y, w: (_corrupt_x(X), y, None), ValueError,
     "Input X contains NaN or infinity"),
    ({"sketch": "sparse_sign"}, lambda X, y, w: (X, y, -w), ValueError,
     "Negative values in data passed to `sample_weight`"),
    ({"sketch": "sparse_sign"}, lambda X, y, w: (X, y[:-1], None), ValueError,
     "inconsistent numbers of samples"),
    ({"sketch": "sparse_sign"}, lambda X, y, w: (X + 1j, y, None), ValueError,
     "Complex data not supported"),
])
def test_bad_dask_input(data, params, make, error, message):
    _, (Xd, yd, wd) = data
    X, y, w = make(Xd, yd, wd)
    with pytest.raises(error, match=re.escape(message)):
        SketchedRegressor(random_state=0, **params).fit(X, y, sample_weight=w)
