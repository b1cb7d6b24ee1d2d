"""The cluster family's public functions on the bad-input matrix (issue 17.9)."""

import numpy as np
import pytest

from sklr.cluster import la_sdp, misclustering_error, solve_admm, solve_bm
from tests._bad_inputs import check_bad_inputs


def _points(n=24, seed=0):
    rng = np.random.RandomState(seed)
    return np.vstack([rng.standard_normal((n // 2, 2)), rng.standard_normal((n // 2, 2)) + 6.0])


def test_la_sdp_bad_inputs():
    X = _points()
    labels = np.repeat([0, 1], 12)
    check_bad_inputs(
        la_sdp, dict(X=X, n_clusters=2, max_iter=5, tol=1e-3, random_state=0),
        arrays=["X"], positive=["n_clusters", "max_iter", "tol"],
        expect={("X", "too_short"): "ok"},
        extra_cases=[
            ("n_clusters: more clusters than samples", dict(n_clusters=25), "raise"),
            ("init: labels of the wrong length", dict(init=labels[:-1]), "raise"),
            ("init: a label >= n_clusters", dict(init=labels * 2), "raise"),
            ("init: float labels", dict(init=labels + 0.5), "raise"),
            ("init: unknown string", dict(init="random"), "raise"),
            ("init: given labels", dict(init=labels), "ok"),
            ("method: unknown", dict(method="sdp"), "raise"),
            ("rank: zero", dict(rank=0), "raise"),
        ],
    )


def _blocks(n=10):
    X = _points(n)
    X = X - X.mean(axis=0)
    return [X, 0.5 * X], [np.zeros(n), np.ones(n)]


@pytest.mark.parametrize("solver", [solve_admm, solve_bm])
def test_solvers_bad_inputs(solver):
    Ws, hs = _blocks()
    extra = dict(random_state=0) if solver is solve_bm else {}
    check_bad_inputs(
        solver, dict(Ws=np.stack(Ws), hs=np.stack(hs), traces=np.array([1.0, 1.0]),
                     max_iter=200, tol=1e-3, **extra),
        arrays=["Ws", "hs", "traces"], weights=["traces"], positive=["max_iter", "tol"],
        expect={("hs", "wrong_ndim"): "raise"},
        extra_cases=[
            ("Ws: blocks of different row counts", dict(Ws=[Ws[0], Ws[1][:-1]]), "raise"),
            ("hs: one vector for two blocks", dict(hs=hs[:1]), "raise"),
            ("hs: vectors of the wrong length", dict(hs=[h[:-1] for h in hs]), "raise"),
            ("traces: one per block", dict(traces=[1.0]), "raise"),
            ("traces: total above n_samples", dict(traces=[6.0, 6.0]), "raise"),
            ("Ws: (X, M) with M of the wrong shape", dict(Ws=(Ws[0], np.ones((2, 3, 2)))),
             "raise"),
            ("Ws: (X, M) form", dict(Ws=(Ws[0], np.stack([np.eye(2), 0.5 * np.eye(2)]))),
             "ok"),
        ],
    )


def test_solve_bm_bad_factors():
    Ws, hs = _blocks()
    with pytest.raises(ValueError, match="factors must hold 2 arrays of shape"):
        solve_bm(Ws, hs, [1.0, 1.0], factors=[np.ones((10, 2))])
    with pytest.raises(ValueError, match="beta"):
        solve_bm(Ws, hs, [1.0, 1.0], beta=-1.0)
    with pytest.raises(ValueError, match=r"multiplier must have shape \(n_samples=\d+,\)"):
        solve_bm(Ws, hs, [1.0, 1.0], multiplier=np.zeros(3))


def test_misclustering_error_bad_inputs():
    truth = np.array([0, 0, 1, 1, 2, 2])
    found = np.array([1, 1, 0, 0, 0, 2])
    check_bad_inputs(
        misclustering_error, dict(labels_true=truth, labels_pred=found),
        arrays=["labels_true", "labels_pred"],
        extra_cases=[
            ("labels_true: negative labels", dict(labels_true=truth - 1), "raise"),
            ("labels_pred: float labels", dict(labels_pred=found + 0.5), "raise"),
            ("labels_pred: longer", dict(labels_pred=np.r_[found, 0]), "raise"),
        ],
    )


@pytest.mark.parametrize("scale", [1e-200, 1e-153, 1e153, 1e200])
def test_a_spread_whose_squares_leave_float64_is_refused(scale):
    # Measured before the check: the same labels up to 1e+-152 times the units, other labels
    # without a warning at 1e-153, and one cluster (with a warning blaming repeated points,
    # and overflow warnings above) beyond.
    from sklr.cluster import SDPClusterer

    X = _points() * scale
    with pytest.raises(ValueError, match="X's spread .* Rescale X"):
        SDPClusterer(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="X's spread"):
        la_sdp(X, 2, random_state=0)


@pytest.mark.parametrize("scale", [1e-139, 1e139])
def test_a_spread_inside_the_range_keeps_the_labels(scale):
    from sklr.cluster import SDPClusterer

    X = _points()
    reference = SDPClusterer(2, random_state=0).fit(X).labels_
    np.testing.assert_array_equal(SDPClusterer(2, random_state=0).fit(X * scale).labels_,
                                  reference)
    # identical rows (no spread at all) are one group, not an error
    assert SDPClusterer(2, random_state=0).fit(np.ones((6, 2)) * scale).labels_.shape == (6,)
