"""SinkhornNewtonOT: the entropic map, weights, POT's SinkhornTransport, domain adaptation."""

import io
import warnings
from contextlib import redirect_stdout

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn import config_context
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline

from sklr.transport import SinkhornNewtonOT


def _shifted_clouds(n=120, m=100, shift=(4.0, 0.0), seed=0):
    rng = np.random.RandomState(seed)
    return rng.standard_normal((n, 2)), rng.standard_normal((m, 2)) + np.asarray(shift)


def test_coupling_marginals_and_training_map_is_the_barycentric_projection():
    Xs, Xt = _shifted_clouds()
    est = SinkhornNewtonOT(reg=1e-3, X_target=Xt).fit(Xs)
    assert est.converged_ and est.n_iter_ == (est.log_["n_sinkhorn"] + est.log_["n_sinkhorn_extra"]
                                              + est.log_["n_newton"])
    P = est.coupling_
    assert_allclose(P.sum(axis=1), 1 / 120, atol=1e-9)
    assert_allclose(P.sum(axis=0), 1 / 100, atol=1e-9)
    barycentric = (P / P.sum(axis=1, keepdims=True)) @ Xt
    assert_allclose(est.transform(Xs), barycentric, atol=1e-8)
    assert est.cost_scale_ == pytest.approx(np.max(((Xs[:, None] - Xt[None]) ** 2).sum(-1)))
    assert est.transport_cost_ == pytest.approx(np.sum(P * est.cost_))
    # A translation is recovered, and mapped back.
    assert_allclose(est.transform(Xs).mean(axis=0), Xs.mean(axis=0) + [4.0, 0.0], atol=0.3)
    assert_allclose(est.inverse_transform(Xt).mean(axis=0), Xt.mean(axis=0) - [4.0, 0.0],
                    atol=0.3)


def test_out_of_sample_map_matches_pot_continuous_map():
    ot = pytest.importorskip("ot")
    Xs, Xt = _shifted_clouds(seed=1)
    new = np.random.RandomState(2).standard_normal((30, 2)) * 1.5
    est = SinkhornNewtonOT(reg=5e-2, tol=1e-12, X_target=Xt).fit(Xs)
    pot = ot.da.SinkhornTransport(reg_e=5e-2, norm="max", method="sinkhorn_log", tol=1e-13,
                                  max_iter=100_000, out_of_sample_map="continuous")
    pot.fit(Xs=Xs, Xt=Xt)
    assert_allclose(est.coupling_, pot.coupling_, atol=1e-6 * est.coupling_.max())
    assert_allclose(est.transform(new), pot.transform(Xs=new), atol=1e-5)


def test_weights_are_normalized_and_checked():
    Xs, Xt = _shifted_clouds(40, 30)
    w = np.linspace(1.0, 3.0, 40)
    est = SinkhornNewtonOT(reg=1e-2, X_target=Xt, target_weight=np.ones(30) * 7.0).fit(
        Xs, sample_weight=w)
    assert_allclose(est.coupling_.sum(axis=1), w / w.sum(), atol=1e-9)
    assert_allclose(est.coupling_.sum(axis=0), 1 / 30, atol=1e-9)
    with pytest.raises(ValueError, match="sample_weight must be finite and non-negative"):
        SinkhornNewtonOT(X_target=Xt).fit(Xs, sample_weight=-w)
    with pytest.raises(ValueError, match=r"target_weight must have shape \(30,\)"):
        SinkhornNewtonOT(X_target=Xt, target_weight=np.ones(29)).fit(Xs)
    with pytest.raises(ValueError, match="target_weight must not be all zero"):
        SinkhornNewtonOT(X_target=Xt, target_weight=np.zeros(30)).fit(Xs)


def test_bad_input():
    Xs, Xt = _shifted_clouds(20, 10)
    with pytest.raises(ValueError, match="needs the target samples"):
        SinkhornNewtonOT().fit(Xs)
    with pytest.raises(ValueError, match="X_target has 3 features, but X has 2 features"):
        SinkhornNewtonOT(X_target=np.ones((10, 3))).fit(Xs)
    with pytest.raises(ValueError, match="Input X_target contains NaN"):
        SinkhornNewtonOT(X_target=np.full((10, 2), np.nan)).fit(Xs)
    for reg in (0.0, np.inf, np.nan):  # the estimator's constraints; the function's are skipped
        with pytest.raises(ValueError, match="'reg' parameter of SinkhornNewtonOT"):
            SinkhornNewtonOT(reg=reg, X_target=Xt).fit(Xs)
    with pytest.raises(TypeError, match="X_target"):  # the target is a parameter now
        SinkhornNewtonOT().fit(Xs, X_target=Xt)
    est = SinkhornNewtonOT(X_target=Xt).fit(Xs)
    with pytest.raises(ValueError, match="features"):
        est.transform(np.ones((3, 5)))


def test_domain_adaptation_in_a_pipeline():
    """Labelled source, shifted unlabelled target: map the source, then classify the target."""
    rng = np.random.RandomState(0)
    ys = np.repeat([0, 1], 100)
    Xs = rng.standard_normal((200, 2)) * 0.7 + np.where(ys[:, None] == 0, [-1.5, 0], [1.5, 0])
    yt = np.repeat([0, 1], 80)
    shift = np.array([3.0, 4.0])
    Xt = rng.standard_normal((160, 2)) * 0.7 + np.where(yt[:, None] == 0, [-1.5, 0], [1.5, 0])
    Xt = Xt @ np.array([[0.9, 0.3], [-0.3, 0.9]]) + shift
    pipe = make_pipeline(SinkhornNewtonOT(reg=1e-2, X_target=Xt), LogisticRegression())
    pipe.fit(Xs, ys)
    adapted = np.mean(pipe[-1].predict(Xt) == yt)
    naive = np.mean(LogisticRegression().fit(Xs, ys).predict(Xt) == yt)
    assert adapted > 0.9 > naive + 0.2, (adapted, naive)


def test_array_api_and_float32(xp):
    Xs, Xt = _shifted_clouds(50, 40, seed=3)
    ref = SinkhornNewtonOT(reg=1e-2, X_target=Xt).fit(Xs)
    est = SinkhornNewtonOT(reg=1e-2, X_target=xp.asarray(Xt)).fit(xp.asarray(Xs))
    assert_allclose(np.asarray(est.coupling_), ref.coupling_, atol=1e-12)
    assert_allclose(np.asarray(est.transform(xp.asarray(Xs))), ref.transform(Xs), atol=1e-9)
    est32 = SinkhornNewtonOT(reg=1e-2, X_target=Xt.astype(np.float32)).fit(Xs.astype(np.float32))
    assert est32.coupling_.dtype == np.float32 and est32.converged_
    assert est32.transform(Xs.astype(np.float32)).dtype == np.float32


def test_verbose_and_euclidean_metric():
    Xs, Xt = _shifted_clouds(30, 30, seed=4)
    out = io.StringIO()
    with redirect_stdout(out):
        est = SinkhornNewtonOT(reg=1e-3, X_target=Xt, metric="euclidean", norm=None,
                               verbose=1).fit(Xs)
    assert out.getvalue().count("Newton") == est.log_["n_newton"]
    distances = np.sqrt(((Xs[:, None] - Xt[None]) ** 2).sum(-1))
    assert_allclose(est.cost_, distances, atol=1e-10)
    assert est.cost_scale_ == 1.0


def _labelled_source_and_target(n_source, n_target, seed=0):
    rng = np.random.RandomState(seed)
    ys = np.arange(n_source) % 2
    Xs = rng.standard_normal((n_source, 2)) * 0.7 + np.where(ys[:, None] == 0, [-1.5, 0], [1.5, 0])
    Xt = rng.standard_normal((n_target, 2)) * 0.7 + [2.0, 3.0]
    return Xs, ys, Xt


class _RecordingOT(SinkhornNewtonOT):
    """Records, for each fit, the numbers of source rows, target rows and the plan's shape."""

    fits = []

    def fit(self, X, y=None, sample_weight=None):
        super().fit(X, y, sample_weight=sample_weight)
        type(self).fits.append((X.shape[0], self.X_target_.shape[0], self.coupling_.shape))
        return self


@pytest.mark.parametrize("n_target", [120, 77])  # as many rows as X, and not
def test_grid_search_never_splits_the_target(n_target):
    """Each fold fits the whole target: a CV splits X (and sample-aligned metadata), not it."""
    Xs, ys, Xt = _labelled_source_and_target(120, n_target)
    _RecordingOT.fits = []
    pipe = make_pipeline(_RecordingOT(X_target=Xt), LogisticRegression())
    search = GridSearchCV(pipe, {"_recordingot__reg": [1e-2, 1e-1]}, cv=4).fit(Xs, ys)
    assert len(_RecordingOT.fits) == 2 * 4 + 1
    assert {fit[1] for fit in _RecordingOT.fits} == {n_target}
    assert {fit[0] for fit in _RecordingOT.fits} == {90, 120}  # folds of X, then the refit
    assert all(fit[2] == (fit[0], n_target) for fit in _RecordingOT.fits)
    assert search.best_estimator_[0].X_target_.shape == Xt.shape


@pytest.mark.parametrize("n_target", [120, 77])
def test_cross_validate_routes_sample_weight_and_keeps_the_target(n_target):
    """Under metadata routing, sample_weight is split with X; X_target, a parameter, is not."""
    Xs, ys, Xt = _labelled_source_and_target(120, n_target, seed=1)
    w = np.linspace(1.0, 2.0, 120)
    with config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            SinkhornNewtonOT(X_target=Xt).set_fit_request(sample_weight=True),
            LogisticRegression().set_fit_request(sample_weight=False)
            .set_score_request(sample_weight=True),
        )
        result = cross_validate(pipe, Xs, ys, cv=3, params={"sample_weight": w},
                                return_estimator=True, return_indices=True,
                                error_score="raise")
    assert np.all(result["test_score"] > 0.9)
    for fitted, train in zip(result["estimator"], result["indices"]["train"]):
        ot = fitted[0]
        assert_allclose(ot.X_target_, Xt, rtol=0, atol=0)
        assert ot.coupling_.shape == (train.size, n_target)
        assert_allclose(ot.coupling_.sum(axis=1), w[train] / w[train].sum(), atol=1e-8)


def test_dataframes_raise_no_feature_name_warning():
    pd = pytest.importorskip("pandas")
    Xs, ys, Xt = _labelled_source_and_target(60, 50, seed=2)
    Xs_df, Xt_df = pd.DataFrame(Xs, columns=["a", "b"]), pd.DataFrame(Xt, columns=["a", "b"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for source, target in [(Xs_df, Xt_df), (Xs_df, Xt), (Xs, Xt_df)]:
            est = SinkhornNewtonOT(X_target=target).fit(source)
            mapped = est.transform(source)
            assert_allclose(np.asarray(mapped).mean(axis=0), Xt.mean(axis=0), atol=1e-6)
        est = SinkhornNewtonOT(X_target=Xt_df).fit(Xs_df)
        est.inverse_transform(Xt_df)
        pipe = make_pipeline(SinkhornNewtonOT(X_target=Xt_df), LogisticRegression())
        GridSearchCV(pipe.set_output(transform="pandas"),
                     {"sinkhornnewtonot__reg": [1e-2, 1e-1]}, cv=3).fit(Xs_df, ys)
    assert list(est.feature_names_in_) == ["a", "b"]
    with pytest.raises(ValueError, match=r"X_target's column names \['b', 'a'\] differ"):
        SinkhornNewtonOT(X_target=Xt_df[["b", "a"]]).fit(Xs_df)


def _nan_at_first(arr):
    arr = np.array(arr, dtype=float)
    arr.flat[0] = np.nan
    return arr


@pytest.mark.parametrize(
    "name, params, fit_kwargs",
    [
        ("X", {}, {"X": lambda X: _nan_at_first(X)}),
        # scikit-learn's own message for an empty X (its common checks expect it).
        (r"0 sample\(s\)", {}, {"X": lambda X: X[:0]}),
        ("X_target", {"X_target": lambda Xt: _nan_at_first(Xt)}, {}),
        ("X_target", {"X_target": lambda Xt: Xt[:, 0]}, {}),
        ("X_target", {"X_target": lambda Xt: Xt[:0]}, {}),
        ("X_target", {"X_target": lambda Xt: Xt[:, :1]}, {}),
        ("X_target", {"X_target": lambda Xt: np.full(Xt.shape, "a")}, {}),
        ("target_weight", {"target_weight": lambda Xt: -np.ones(len(Xt))}, {}),
        ("target_weight", {"target_weight": lambda Xt: np.ones(len(Xt) - 1)}, {}),
        ("target_weight", {"target_weight": lambda Xt: np.zeros(len(Xt))}, {}),
        ("target_weight", {"target_weight": lambda Xt: np.full(len(Xt), "a")}, {}),
        ("sample_weight", {}, {"sample_weight": lambda X: _nan_at_first(np.ones(len(X)))}),
        ("sample_weight", {}, {"sample_weight": lambda X: np.ones(len(X) + 1)}),
        ("sample_weight", {}, {"sample_weight": lambda X: np.zeros(len(X))}),
        ("sample_weight", {}, {"sample_weight": lambda X: np.full(len(X), "a")}),
    ],
)
def test_fit_rejects_bad_data_naming_it(name, params, fit_kwargs):
    """Issue 17.9: bad X, X_target or weights raise a ValueError/TypeError naming them."""
    Xs, Xt = _shifted_clouds(20, 15)
    params = {key: make(Xt) for key, make in params.items()}
    fit_kwargs = {key: make(Xs) for key, make in fit_kwargs.items()}
    fit_kwargs.setdefault("X", Xs)
    est = SinkhornNewtonOT(**{"X_target": Xt, **params})
    with pytest.raises((ValueError, TypeError), match=name):
        est.fit(**fit_kwargs)


def test_tiny_reg_converges_and_maps_onto_the_exact_transport():
    """Issue 17.5 through the estimator: reg = 1e-6 of the max-normalised cost converges,
    and the coupling is then close to the exact (unregularised) one."""
    ot = pytest.importorskip("ot")
    Xs, Xt = _shifted_clouds(60, 50, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = SinkhornNewtonOT(reg=1e-6, X_target=Xt).fit(Xs)
    assert est.converged_ and est.log_["reg_schedule"][-1] == 1e-6
    assert_allclose(est.coupling_.sum(axis=1), 1 / 60, atol=1e-9)
    exact = ot.emd2([], [], est.cost_)
    assert est.transport_cost_ == pytest.approx(exact, rel=1e-4)
