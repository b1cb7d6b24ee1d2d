"""SinkhornNewtonOT: the entropic map, weights, POT's SinkhornTransport, domain adaptation."""

import io
from contextlib import redirect_stdout

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklr.transport import SinkhornNewtonOT


def _shifted_clouds(n=120, m=100, shift=(4.0, 0.0), seed=0):
    rng = np.random.RandomState(seed)
    return rng.standard_normal((n, 2)), rng.standard_normal((m, 2)) + np.asarray(shift)


def test_coupling_marginals_and_training_map_is_the_barycentric_projection():
    Xs, Xt = _shifted_clouds()
    est = SinkhornNewtonOT(reg=1e-3).fit(Xs, X_target=Xt)
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
    est = SinkhornNewtonOT(reg=5e-2, tol=1e-12).fit(Xs, X_target=Xt)
    pot = ot.da.SinkhornTransport(reg_e=5e-2, norm="max", method="sinkhorn_log", tol=1e-13,
                                  max_iter=100_000, out_of_sample_map="continuous")
    pot.fit(Xs=Xs, Xt=Xt)
    assert_allclose(est.coupling_, pot.coupling_, atol=1e-6 * est.coupling_.max())
    assert_allclose(est.transform(new), pot.transform(Xs=new), atol=1e-5)


def test_weights_are_normalized_and_checked():
    Xs, Xt = _shifted_clouds(40, 30)
    w = np.linspace(1.0, 3.0, 40)
    est = SinkhornNewtonOT(reg=1e-2).fit(Xs, X_target=Xt, sample_weight=w,
                                         target_weight=np.ones(30) * 7.0)
    assert_allclose(est.coupling_.sum(axis=1), w / w.sum(), atol=1e-9)
    assert_allclose(est.coupling_.sum(axis=0), 1 / 30, atol=1e-9)
    with pytest.raises(ValueError, match="sample_weight must be finite and non-negative"):
        SinkhornNewtonOT().fit(Xs, X_target=Xt, sample_weight=-w)
    with pytest.raises(ValueError, match=r"target_weight must have shape \(30,\)"):
        SinkhornNewtonOT().fit(Xs, X_target=Xt, target_weight=np.ones(29))
    with pytest.raises(ValueError, match="target_weight must not be all zero"):
        SinkhornNewtonOT().fit(Xs, X_target=Xt, target_weight=np.zeros(30))


def test_bad_input():
    Xs, Xt = _shifted_clouds(20, 10)
    with pytest.raises(ValueError, match="needs the target samples"):
        SinkhornNewtonOT().fit(Xs)
    with pytest.raises(ValueError, match="features"):
        SinkhornNewtonOT().fit(Xs, X_target=np.ones((10, 3)))
    with pytest.raises(ValueError, match="NaN"):
        SinkhornNewtonOT().fit(Xs, X_target=np.full((10, 2), np.nan))
    with pytest.raises(ValueError, match="reg"):
        SinkhornNewtonOT(reg=0.0).fit(Xs, X_target=Xt)
    est = SinkhornNewtonOT().fit(Xs, X_target=Xt)
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
    pipe = make_pipeline(SinkhornNewtonOT(reg=1e-2), LogisticRegression())
    pipe.fit(Xs, ys, sinkhornnewtonot__X_target=Xt)
    adapted = np.mean(pipe[-1].predict(Xt) == yt)
    naive = np.mean(LogisticRegression().fit(Xs, ys).predict(Xt) == yt)
    assert adapted > 0.9 > naive + 0.2, (adapted, naive)


def test_array_api_and_float32(xp):
    Xs, Xt = _shifted_clouds(50, 40, seed=3)
    ref = SinkhornNewtonOT(reg=1e-2).fit(Xs, X_target=Xt)
    est = SinkhornNewtonOT(reg=1e-2).fit(xp.asarray(Xs), X_target=xp.asarray(Xt))
    assert_allclose(np.asarray(est.coupling_), ref.coupling_, atol=1e-12)
    assert_allclose(np.asarray(est.transform(xp.asarray(Xs))), ref.transform(Xs), atol=1e-9)
    est32 = SinkhornNewtonOT(reg=1e-2).fit(Xs.astype(np.float32), X_target=Xt.astype(np.float32))
    assert est32.coupling_.dtype == np.float32 and est32.converged_
    assert est32.transform(Xs.astype(np.float32)).dtype == np.float32


def test_verbose_and_euclidean_metric():
    Xs, Xt = _shifted_clouds(30, 30, seed=4)
    out = io.StringIO()
    with redirect_stdout(out):
        est = SinkhornNewtonOT(reg=1e-3, metric="euclidean", norm=None, verbose=1).fit(
            Xs, X_target=Xt)
    assert out.getvalue().count("Newton") == est.log_["n_newton"]
    distances = np.sqrt(((Xs[:, None] - Xt[None]) ** 2).sum(-1))
    assert_allclose(est.cost_, distances, atol=1e-10)
    assert est.cost_scale_ == 1.0
