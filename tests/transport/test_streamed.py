"""SinkhornNewtonOT(streaming=True): the plan of the in-memory solver, without the n x m arrays."""

import numpy as np
import pytest

from sklr.transport import SinkhornNewtonOT, _streamed
from sklr.transport._estimator import _pairwise_cost
from sklr.utils._array_api import namespace_and_device


def _xp(X):
    """NumPy's array-API namespace (the bare module lacks parts of the standard on NumPy 2.0)."""
    return namespace_and_device(X)[0]


@pytest.fixture
def small_tiles(monkeypatch):
    """Tiles of 32 x 64 points, so that small clouds have many tile pairs to skip."""
    monkeypatch.setattr(_streamed, "_TILE_ROWS", 32)
    monkeypatch.setattr(_streamed, "_TILE_COLS", 64)


def _clouds(n=400, m=300, seed=0, shift=0.3):
    rng = np.random.RandomState(seed)
    return rng.rand(n, 2), rng.rand(m, 2) + [shift, 0.0]


def _plan(ot, X, Y):
    """The plan of the fitted potentials, formed densely (the test's reference)."""
    C = _pairwise_cost(X, Y, ot.metric, np) / ot.cost_scale_
    return np.exp((ot.source_potential_[:, None] + ot.target_potential_[None, :] - C) / ot.reg)


@pytest.mark.parametrize("metric, reg", [("sqeuclidean", 1e-3), ("euclidean", 1e-2)])
def test_streamed_equals_in_memory(small_tiles, metric, reg):
    X, Y = _clouds()
    dense = SinkhornNewtonOT(reg=reg, X_target=Y, metric=metric, streaming=False).fit(X)
    streamed = SinkhornNewtonOT(reg=reg, X_target=Y, metric=metric, streaming=True).fit(X)
    assert not dense.streamed_ and streamed.streamed_
    assert streamed.coupling_ is None and streamed.cost_ is None
    assert streamed.converged_
    assert streamed.cost_scale_ == pytest.approx(dense.cost_scale_, rel=1e-12)
    P = _plan(streamed, X, Y)
    marginal_error = (np.abs(P.sum(axis=1) - 1 / X.shape[0]).sum()
                      + np.abs(P.sum(axis=0) - 1 / Y.shape[0]).sum())
    assert marginal_error <= 1e-9
    assert np.abs(P - dense.coupling_).sum() < 1e-8
    assert streamed.transport_cost_ == pytest.approx(dense.transport_cost_, rel=1e-9)
    np.testing.assert_allclose(streamed.transform(X[:50]), dense.transform(X[:50]), atol=1e-8)
    np.testing.assert_allclose(streamed.inverse_transform(Y[:50]),
                               dense.inverse_transform(Y[:50]), atol=1e-8)


def test_streamed_threads_give_the_same_solve(small_tiles):
    X, Y = _clouds(300, 200, seed=2)
    one = SinkhornNewtonOT(reg=1e-3, X_target=Y, streaming=True).fit(X)
    two = SinkhornNewtonOT(reg=1e-3, X_target=Y, streaming=True, n_jobs=2).fit(X)
    assert one.converged_ and two.converged_
    # The same plan (potentials are defined up to f + t, g - t).
    assert np.abs(_plan(two, X, Y) - _plan(one, X, Y)).sum() < 1e-9


def test_streamed_skips_tile_pairs_far_from_the_map(small_tiles):
    """At reg = 1e-4 a pass evaluates a minority of the tile pairs, and what it skips is < tol.

    The potentials are the in-memory solver's; the streamed sums must equal the dense plan's."""
    X, Y = _clouds(600, 600)
    ot = SinkhornNewtonOT(reg=1e-4, X_target=Y, streaming=False).fit(X)
    cost = _streamed._StreamedCost(X, Y, "sqeuclidean", _xp(X))
    cost.scale = ot.cost_scale_
    f = ot.source_potential_[cost.row_order]
    g = ot.target_potential_[cost.col_order]
    out = cost.sweep(f, g, ot.reg, 1e-9, total=True)
    assert cost.tiles_computed < 0.5 * cost.near_sq.size
    P = ot.coupling_
    np.testing.assert_allclose(out["r"], P.sum(axis=1)[cost.row_order], rtol=0, atol=1e-12)
    np.testing.assert_allclose(out["c"], P.sum(axis=0)[cost.col_order], rtol=0, atol=1e-12)
    assert abs(out["total"] - P.sum()) < 1e-12


def test_streamed_epsilon_scaling(small_tiles):
    """Below 1e-3 of the cost the streamed solve goes through reg x 10 first, like the dense one."""
    X, Y = _clouds(200, 200, seed=5)
    dense = SinkhornNewtonOT(reg=2e-4, X_target=Y, streaming=False).fit(X)
    streamed = SinkhornNewtonOT(reg=2e-4, X_target=Y, streaming=True).fit(X)
    assert streamed.converged_ and streamed.log_["reg_schedule"] == pytest.approx([2e-3, 2e-4])
    assert np.abs(_plan(streamed, X, Y) - dense.coupling_).sum() < 1e-8


def test_streamed_max_cost_is_exact(small_tiles):
    X, Y = _clouds(300, 500, seed=3)
    for metric in ("sqeuclidean", "euclidean"):
        cost = _streamed._StreamedCost(X, Y, metric, _xp(X))
        assert cost.max_cost() == pytest.approx(_pairwise_cost(X, Y, metric, np).max(),
                                                rel=1e-12)


def test_streamed_weights_with_zeros(small_tiles):
    X, Y = _clouds(200, 150, seed=1)
    rng = np.random.RandomState(1)
    w = rng.rand(200)
    w[::7] = 0.0
    wt = rng.rand(150)
    wt[:5] = 0.0
    dense = SinkhornNewtonOT(reg=1e-2, X_target=Y, target_weight=wt, streaming=False)
    dense.fit(X, sample_weight=w)
    streamed = SinkhornNewtonOT(reg=1e-2, X_target=Y, target_weight=wt, streaming=True)
    streamed.fit(X, sample_weight=w)
    assert np.all(np.isneginf(streamed.source_potential_[::7]))
    assert np.all(np.isneginf(streamed.target_potential_[:5]))
    P = _plan(streamed, X, Y)
    np.testing.assert_allclose(P.sum(axis=1), w / w.sum(), atol=1e-10)
    np.testing.assert_allclose(P.sum(axis=0), wt / wt.sum(), atol=1e-10)
    assert np.abs(P - dense.coupling_).sum() < 1e-8


def test_streaming_auto_keeps_small_problems_in_memory():
    X, Y = _clouds(50, 40)
    ot = SinkhornNewtonOT(X_target=Y).fit(X)
    assert not ot.streamed_ and ot.coupling_.shape == (50, 40)


def test_streaming_rejects_median_norm():
    X, Y = _clouds(50, 40)
    with pytest.raises(ValueError, match="norm='median'"):
        SinkhornNewtonOT(X_target=Y, norm="median", streaming=True).fit(X)
    with pytest.raises(ValueError, match="streaming"):
        SinkhornNewtonOT(X_target=Y, streaming="yes").fit(X)


def test_transform_in_blocks_equals_one_block(monkeypatch):
    from sklr.transport import _estimator

    X, Y = _clouds(120, 90)
    ot = SinkhornNewtonOT(reg=1e-2, X_target=Y).fit(X)
    whole = ot.transform(X)
    monkeypatch.setattr(_estimator, "_MAP_BLOCK_ENTRIES", 1000)  # blocks of 11 rows
    np.testing.assert_allclose(ot.transform(X), whole, rtol=1e-14, atol=1e-15)


def test_streamed_array_api_strict_and_float32(small_tiles):
    """The streamed solve runs on any array-API namespace (array_api_strict) and in float32."""
    xps = pytest.importorskip("array_api_strict")
    import sklearn

    X, Y = _clouds(200, 150)
    ref = SinkhornNewtonOT(reg=1e-2, X_target=Y, streaming=True).fit(X)
    with sklearn.config_context(array_api_dispatch=True):
        ot = SinkhornNewtonOT(reg=1e-2, X_target=xps.asarray(Y), streaming=True)
        ot.fit(xps.asarray(X))
        assert isinstance(ot.source_potential_, type(xps.asarray(X)))
        assert ot.converged_
        assert ot.transport_cost_ == pytest.approx(ref.transport_cost_, rel=1e-10)
    o32 = SinkhornNewtonOT(reg=1e-2, X_target=Y.astype(np.float32), streaming=True)
    o32.fit(X.astype(np.float32))
    assert o32.source_potential_.dtype == np.float32 and o32.converged_
    assert o32.transport_cost_ == pytest.approx(ref.transport_cost_, rel=1e-5)


def test_streamed_memory_caps_still_converge(small_tiles, monkeypatch):
    """With the Hessian capped at 6400 entries (of 120000) and at most 20000 candidates gathered
    per pass, the solve still reaches tol and the in-memory plan (more Newton steps)."""
    monkeypatch.setattr(_streamed, "_GATHER_BUDGET", 20000)
    monkeypatch.setattr(_streamed, "_MAX_HESSIAN_ENTRIES", 6400)
    X, Y = _clouds()
    dense = SinkhornNewtonOT(reg=1e-3, X_target=Y, streaming=False).fit(X)
    ot = SinkhornNewtonOT(reg=1e-3, X_target=Y, streaming=True).fit(X)
    assert ot.converged_ and max(ot.log_["nnz"]) <= 6400 + 16
    assert np.abs(_plan(ot, X, Y) - dense.coupling_).sum() < 1e-8
