"""SketchedRegressor.partial_fit: chunks of rows give the model of one fit (issue 22.1)."""

import pickle
import re

import numpy as np
import pytest
import scipy.sparse
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.linear_model import LinearRegression
from sklearn.utils.estimator_checks import (
    check_estimators_partial_fit_n_features,
    check_n_features_in_after_fitting,
)

from sklr import SketchedRegressor
from sklr.datasets import make_least_squares

ROW_SUM_SKETCHES = ["sparse_sign", "countsketch", "gaussian"]


@pytest.fixture(scope="module")
def data():
    X, y, _ = make_least_squares(6000, 7, noise=0.5, random_state=1)
    w = np.random.RandomState(1).uniform(0, 3, len(y))
    return X + 2.0, y - 5.0, w


def _chunked(reg, X, y, w, cuts, order, offsets=True):
    for i in order:
        rows = slice(cuts[i], cuts[i + 1])
        reg.partial_fit(X[rows], y[rows], sample_weight=None if w is None else w[rows],
                        row_offset=cuts[i] if offsets else None)
    return reg


def _assert_same_model(reg, ref):
    scale = np.max(np.abs(ref.coef_))
    assert np.max(np.abs(reg.coef_ - ref.coef_)) <= 1e-12 * scale
    assert_allclose(reg.intercept_, ref.intercept_, rtol=1e-12)
    assert reg.n_components_ == ref.n_components_


@pytest.mark.parametrize("sketch", ROW_SUM_SKETCHES)
@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
def test_chunks_in_any_order_give_the_model_of_one_fit(data, sketch, weighted):
    X, y, w = data
    w = w if weighted else None
    ref = SketchedRegressor(sketch=sketch, random_state=3).fit(X, y, sample_weight=w)
    cuts = [0, 1234, 1235, 4000, 6000]
    in_order = _chunked(SketchedRegressor(sketch=sketch, random_state=3), X, y, w, cuts,
                        range(4), offsets=False)
    shuffled = _chunked(SketchedRegressor(sketch=sketch, random_state=3), X, y, w, cuts,
                        [2, 0, 3, 1])
    other_cuts = _chunked(SketchedRegressor(sketch=sketch, random_state=3), X, y, w,
                          [0, 3000, 6000], [1, 0])
    for reg in (in_order, shuffled, other_cuts):
        _assert_same_model(reg, ref)
        assert reg.n_samples_seen_ == 6000 and reg.n_iter_ == 1


def test_partial_fit_after_fit_continues(data):
    X, y, _ = data
    ref = SketchedRegressor(sketch="sparse_sign", random_state=0).fit(X, y)
    reg = SketchedRegressor(sketch="sparse_sign", random_state=0).fit(X[:2500], y[:2500])
    reg.partial_fit(X[2500:], y[2500:])
    _assert_same_model(reg, ref)
    # fit starts again from nothing
    reg.fit(X, y)
    _assert_same_model(reg, ref)
    assert reg.n_samples_seen_ == 6000


def test_multi_output_sparse_and_no_intercept(data):
    X, y, _ = data
    Y = np.c_[y, 2 * y - X[:, 0]]
    Xs = scipy.sparse.csr_matrix(np.where(np.abs(X) > 1.5, X, 0.0))
    ref = SketchedRegressor(sketch="countsketch", fit_intercept=False, alpha=1.0,
                            random_state=0).fit(Xs, Y)
    reg = _chunked(SketchedRegressor(sketch="countsketch", fit_intercept=False, alpha=1.0,
                                     random_state=0), Xs, Y, None, [0, 2000, 6000], [1, 0])
    assert reg.coef_.shape == (2, 7) and reg.intercept_.shape == (2,)
    _assert_same_model(reg, ref)


def test_chunked_fit_is_as_accurate_as_fit(data):
    # The same residual bound as test_sketch_solver_close_to_exact.
    X, y, _ = data
    exact = LinearRegression().fit(X, y)
    reg = _chunked(SketchedRegressor(sketch="sparse_sign", random_state=0), X, y, None,
                   [0, 100, 3000, 6000], range(3), offsets=False)
    res = np.linalg.norm(reg.predict(X) - y) / np.linalg.norm(exact.predict(X) - y)
    assert 1.0 <= res <= 1.05


def test_auto_size_comes_from_n_features_and_memory_from_it():
    X, y, _ = make_least_squares(300, 60, random_state=0)
    reg = SketchedRegressor(sketch="sparse_sign", random_state=0).partial_fit(X, y)
    assert reg.n_components_ == 1200  # max(20 * 60, 1000), although the chunk has 300 rows
    assert reg._sketch_sums.values.shape == (1201, 62)
    reg.partial_fit(X, y)
    assert reg._sketch_sums.values.shape == (1201, 62) and reg.n_samples_seen_ == 600
    given = SketchedRegressor(sketch="sparse_sign", n_components=100, random_state=0)
    assert given.partial_fit(X, y).n_components_ == 100


def test_float32_chunk_joins_a_float64_sketch(data):
    X, y, _ = data
    reg = SketchedRegressor(sketch="sparse_sign", random_state=0)
    reg.partial_fit(X[:3000], y[:3000]).partial_fit(X[3000:].astype(np.float32), y[3000:])
    assert reg.coef_.dtype == np.float64
    single = SketchedRegressor(sketch="sparse_sign", random_state=0).partial_fit(
        X.astype(np.float32), y.astype(np.float32))
    assert single.coef_.dtype == np.float32


def test_pickle_round_trip_keeps_the_sketch(data):
    X, y, _ = data
    reg = SketchedRegressor(sketch="sparse_sign", random_state=0).partial_fit(X[:3000], y[:3000])
    again = pickle.loads(pickle.dumps(reg)).partial_fit(X[3000:], y[3000:])
    _assert_same_model(again, SketchedRegressor(sketch="sparse_sign", random_state=0).fit(X, y))


@pytest.mark.parametrize("params", [
    {"solver": "precondition", "sketch": "sparse_sign"},
    {"sketch": "srht"},
    {"sketch": "gaussian", "n_buckets": "auto"},
])
def test_partial_fit_only_for_sums_over_rows(params):
    reg = SketchedRegressor(**params)
    assert not hasattr(reg, "partial_fit")
    with pytest.raises(AttributeError) as info:
        _ = reg.partial_fit
    assert f"got solver={reg.solver!r}, sketch={reg.sketch!r}" in str(info.value.__cause__)


def _X_y():
    X, y, _ = make_least_squares(200, 4, random_state=0)
    return X, y


def test_bad_chunks():
    X, y = _X_y()
    reg = SketchedRegressor(sketch="sparse_sign", random_state=0).partial_fit(X[:100], y[:100])
    with pytest.raises(ValueError, match="X has 3 features, but SketchedRegressor is expecting 4"):
        reg.partial_fit(X[100:, :3], y[100:])
    with pytest.raises(ValueError, match=re.escape("y has 2 target(s) but the first chunk had 1")):
        reg.partial_fit(X[100:], np.c_[y[100:], y[100:]])
    with pytest.raises(ValueError, match=re.escape(
            "row_offset=50 puts this chunk on rows 50..149, which overlap rows 0..99")):
        reg.partial_fit(X[100:], y[100:], row_offset=50)
    for bad in (-1, 2.5, True):
        with pytest.raises(ValueError, match="row_offset must be a non-negative int or None"):
            clone(reg).partial_fit(X, y, row_offset=bad)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        reg.partial_fit(np.full((3, 4), np.nan), y[:3])
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        reg.partial_fit(X[100:], y[100:], sample_weight=-np.ones(100))
    assert reg.n_samples_seen_ == 100  # no failed chunk was added


@pytest.mark.parametrize("params, message", [
    ({"n_components": "theory"}, "n_components='theory' needs n_samples"),
    ({"n_components": 3}, "n_components=3 must be >= n_features=4"),
    ({"n_components": 0}, "The 'n_components' parameter of SketchedRegressor must be"),
    ({"alpha": -1.0}, "The 'alpha' parameter of SketchedRegressor must be"),
])
def test_bad_parameters(params, message):
    X, y = _X_y()
    with pytest.raises(ValueError, match=re.escape(message)):
        SketchedRegressor(sketch="sparse_sign", **params).partial_fit(X, y)


def test_no_rows_can_be_added_to_a_mixing_sketch():
    X, y = _X_y()
    reg = SketchedRegressor(random_state=0).fit(X, y).set_params(sketch="sparse_sign")
    with pytest.raises(ValueError, match="no rows can be added to it"):
        reg.partial_fit(X, y)


@pytest.mark.parametrize("check", [
    check_estimators_partial_fit_n_features,
    check_n_features_in_after_fitting,
])
def test_sklearn_checks_on_partial_fit(check):
    # tests/test_common.py runs the default (SRHT) estimator, which has no partial_fit.
    check("SketchedRegressor", SketchedRegressor(sketch="sparse_sign", random_state=0))
