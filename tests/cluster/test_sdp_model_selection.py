"""Starts and covariance models chosen by the estimator's own likelihood, on data it was not tuned on
(issue 21): scikit-learn's real data sets and a mixture drawn here, not by sklr.datasets."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.cluster import KMeans
from sklearn.datasets import load_iris, load_wine
from sklearn.decomposition import PCA
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError

from sklr.cluster import SDPClusterer, la_sdp, misclustering_error
from sklr.cluster._gaussian import _covariances, partition_cost
from sklr.cluster._model_selection import classification_bic


def _prepared(loader):
    X, y = loader(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    if X.shape[1] > 10:
        X = PCA(n_components=10, random_state=0).fit_transform(X)
    return X, y


def _better_peer(X, y, K):
    gmm = GaussianMixture(K, covariance_type="full", n_init=10, random_state=0).fit(X).predict(X)
    kmeans = KMeans(K, n_init=10, random_state=0).fit_predict(X)
    return min(misclustering_error(y, gmm), misclustering_error(y, kmeans))


def _cost(X, labels, K, covariance_type):
    _, covs = _covariances(X, np.asarray(labels), K, covariance_type, np)
    return partition_cost(X, np.asarray(labels), covs, np, weighted=True)


def test_iris_search_reaches_a_partition_cheaper_than_the_truth():
    # Without the EM start the kept partition cost -218.86 against the truth's -219.42 under
    # the full model (0.293 error; GaussianMixture 0.033): a search failure. The BIC now
    # picks the tied model (-236.8 against the full model's -229.5): 0.020 error.
    X, y = _prepared(load_iris)
    model = SDPClusterer(3, covariance_type="auto", random_state=0).fit(X)
    assert model.covariance_type_ == "tied"
    assert set(model.covariance_scores_) == {"full", "tied", "diag", "spherical"}
    assert model.covariance_scores_["tied"] == min(model.covariance_scores_.values())
    assert model.cost_ <= _cost(X, y, 3, "tied")
    assert misclustering_error(y, model.labels_) <= _better_peer(X, y, 3) - 0.01
    assert model.selected_start_ in model.start_costs_
    assert model.start_costs_[model.selected_start_] == pytest.approx(
        min(model.start_costs_.values()))
    assert model.start_costs_[model.selected_start_] == pytest.approx(model.cost_, rel=1e-6)


def test_iris_one_run_can_miss_the_cheaper_partition_and_a_restart_finds_it():
    # At random_state=5 the run ends at a partition of cost -177.26 (0.027 error); the
    # other seeds reach -178.53 (0.020). n_init=2 keeps the cheaper run of two: the
    # estimator's own objective judges the restart (benchmarks/results/
    # 2026-12-07_sdp_restarts.md and 2026-12-07_sdp_tied.md).
    X, y = _prepared(load_iris)
    one = SDPClusterer(3, random_state=5).fit(X)
    two = SDPClusterer(3, n_init=2, random_state=5).fit(X)
    assert two.cost_ < one.cost_ - 1.0
    assert two.cost_ <= _cost(X, y, 3, two.covariance_type_)
    assert misclustering_error(y, two.labels_) < misclustering_error(y, one.labels_)
    assert misclustering_error(y, two.labels_) <= _better_peer(X, y, 3)


def test_wine_auto_selects_the_diagonal_model():
    # The full-covariance likelihood prefers a partition 0.04 to 0.06 from the truth on wine.
    X, y = _prepared(load_wine)
    model = SDPClusterer(3, covariance_type="auto", random_state=0).fit(X)
    assert model.covariance_type_ == "diag"
    assert set(model.covariance_scores_) == {"full", "tied", "diag", "spherical"}
    assert model.covariance_scores_["diag"] == min(model.covariance_scores_.values())
    assert model.covariances_.shape == (3, 10)  # GaussianMixture's "diag" layout
    assert misclustering_error(y, model.labels_) <= _better_peer(X, y, 3) + 0.01
    assert model.predict(X).tolist() == model.labels_.tolist()


def _axis_stretched(seed, p=6, sizes=(40, 120, 200)):
    """Axis-aligned Gaussians, one axis of each stretched 4x, means 3 apart on the axes."""
    rng = np.random.RandomState(seed)
    parts = []
    for k, n_k in enumerate(sizes):
        scales = np.exp(rng.uniform(-0.5, 0.5, p))
        scales[rng.randint(p)] *= 4.0
        parts.append(3.0 * np.eye(len(sizes), p)[k] + rng.standard_normal((n_k, p)) * scales)
    return np.vstack(parts), np.repeat(np.arange(len(sizes)), sizes)


@pytest.mark.parametrize("seed", [1, 2])
def test_axis_stretched_mixture_auto_at_least_the_better_peer(seed):
    X, y = _axis_stretched(seed)
    model = SDPClusterer(3, covariance_type="auto", random_state=0).fit(X)
    assert model.covariance_type_ in ("diag", "full")
    assert misclustering_error(y, model.labels_) <= _better_peer(X, y, 3) + 0.01


def _tight_beside_wide(seed):
    """A tight cluster (40 points, sd 0.3) 2.5 from the centre of a wide one (400, sd 2), p = 3."""
    rng = np.random.RandomState(seed)
    X = np.vstack([[2.5, 0.0, 0.0] + 0.3 * rng.standard_normal((40, 3)),
                   2.0 * rng.standard_normal((400, 3))])
    return X, np.repeat([0, 1], [40, 400])


@pytest.mark.parametrize("seed", [3, 4])
def test_default_screens_starts_and_keeps_up_with_the_peers_on_unequal_shapes(seed):
    # The default is "auto"; every start is refined by classification EM, the iteration runs
    # from the cheapest for the model of lowest BIC, and the others keep screened scores.
    X, y = _tight_beside_wide(seed)
    model = SDPClusterer(2, random_state=0).fit(X)
    assert model.get_params()["covariance_type"] == "auto"
    assert set(model.covariance_scores_) == {"full", "tied", "diag", "spherical"}
    chosen = model.covariance_type_
    assert model.covariance_scores_[chosen] == min(model.covariance_scores_.values())
    assert model.covariance_scores_[chosen] == pytest.approx(
        classification_bic(model.cost_, 440, 2, 3, chosen, True), rel=1e-9)
    assert len(model.start_costs_) >= 2
    assert min(model.start_costs_.values()) == pytest.approx(model.cost_, rel=1e-6)
    # Measured: seed 3 0.014 (GaussianMixture 0.011), seeds 100-102 of the benchmark
    # 0.007-0.096 where both peers split the wide cluster (0.41-0.49).
    error = misclustering_error(y, model.labels_)
    assert error <= min(_better_peer(X, y, 2) + 0.01, 0.1)


def _shared_shape(seed, p=6, sizes=(60, 150, 240)):
    """Three Gaussians of one rotated, elongated covariance (axes 6 to 0.15), unequal sizes."""
    rng = np.random.RandomState(seed)
    Q, _ = np.linalg.qr(rng.standard_normal((p, p)))
    C = Q @ np.diag(np.geomspace(6.0, 0.15, p)) @ Q.T
    means = 1.4 * rng.standard_normal((len(sizes), p))
    X = np.vstack([rng.multivariate_normal(means[k], C, n_k) for k, n_k in enumerate(sizes)])
    return X, np.repeat(np.arange(len(sizes)), sizes), C


def test_tied_model_recovers_clusters_of_one_shape():
    # One shape for every cluster: the full model's extra parameters let the likelihood
    # prefer a wrong partition (0.20 to 0.23 error for GaussianMixture(full) and for
    # SDPClusterer when "auto" compared only full, diag and spherical), the tied model
    # finds the clusters.
    from scipy.stats import multivariate_normal

    X, y, C = _shared_shape(103)
    X = X * 1e4 + 7.0  # in other units
    model = SDPClusterer(3, covariance_type="tied", random_state=0).fit(X)
    error = misclustering_error(y, model.labels_)
    assert error <= 0.05 and error <= _better_peer(X, y, 3) - 0.1
    assert model.covariance_type_ == "tied" and list(model.covariance_scores_) == ["tied"]
    # The default compares the four models by their classification BIC and picks this one.
    auto = SDPClusterer(3, random_state=0).fit(X)
    assert auto.covariance_type_ == "tied"
    assert auto.covariance_scores_["tied"] == min(auto.covariance_scores_.values())
    assert misclustering_error(y, auto.labels_) <= 0.05
    assert model.covariances_.shape == (6, 6)  # GaussianMixture's "tied" layout
    assert np.linalg.norm(model.covariances_ / 1e8 - C) <= 0.15 * np.linalg.norm(C)
    nll = model.transform(X[:20])
    for k in range(3):
        assert_allclose(nll[:, k], -multivariate_normal(model.means_[k],
                                                        model.covariances_).logpdf(X[:20]),
                        rtol=1e-10)
    assert model.predict(X).tolist() == model.labels_.tolist()
    assert model.covariance_scores_["tied"] == pytest.approx(
        classification_bic(model.cost_, 450, 3, 6, "tied", True), rel=1e-9)
    # The BIC counts one covariance: K p means, p (p + 1) / 2 covariances, K - 1 weights.
    assert classification_bic(0.0, 450, 3, 6, "tied", True) == pytest.approx(
        (3 * 6 + 21 + 2) * np.log(450))
    assert classification_bic(0.0, 450, 3, 6, "full", False) == pytest.approx(
        (3 * 6 + 3 * 21) * np.log(450))


def test_subsample_with_one_covariance_model_scores_it_on_all_points():
    X, y, _ = _shared_shape(101, sizes=(600, 1200, 1800))
    model = SDPClusterer(3, covariance_type="tied", subsample=300, random_state=0).fit(X)
    assert model.subsample_indices_.shape == (300,)
    assert list(model.covariance_scores_) == ["tied"]
    assert model.covariance_scores_["tied"] == pytest.approx(
        classification_bic(model.cost_, 3600, 3, 6, "tied", True), rel=1e-9)
    assert misclustering_error(y, model.labels_) <= 0.02


def test_subsample_lift_chooses_the_model_on_all_points():
    # On 250 points the BIC picks the spherical model (0.062 error, GaussianMixture 0.052);
    # all 2400 points' BIC picks the full one (0.055).
    from sklr.datasets import make_heterogeneous_mixture

    X, y, _, _ = make_heterogeneous_mixture(2400, 3, 3, separation=3.0, random_state=0)
    model = SDPClusterer(3, subsample=250, random_state=0).fit(X)
    assert model.covariance_type_ == "full"
    assert set(model.covariance_scores_) == {"full", "tied", "diag", "spherical"}
    assert model.covariance_scores_["full"] == pytest.approx(
        classification_bic(model.cost_, 2400, 3, 3, "full", True), rel=1e-9)
    assert misclustering_error(y, model.labels_) <= 0.056


def test_fixed_covariance_type_scores_one_model_and_one_cluster_selects_too():
    X, _ = _axis_stretched(1, p=3, sizes=(15, 30, 45))
    model = SDPClusterer(3, covariance_type="spherical", random_state=0).fit(X)
    assert model.covariance_type_ == "spherical" and list(model.covariance_scores_) == [
        "spherical"]
    one = SDPClusterer(1, covariance_type="auto").fit(X)
    assert one.covariance_type_ == min(one.covariance_scores_, key=one.covariance_scores_.get)
    assert one.start_costs_ == {} and one.selected_start_ is None
    kmeans_sdp = SDPClusterer(3, method="kmeans-sdp", covariance_type="auto",
                              random_state=0).fit(X)
    assert kmeans_sdp.covariance_type_ == "spherical" and kmeans_sdp.covariance_scores_ == {}
    assert kmeans_sdp.covariances_.shape == (3,)


def test_covariance_type_bad_input():
    X, _ = _axis_stretched(1, p=3, sizes=(15, 30, 45))
    with pytest.raises(InvalidParameterError, match="'auto'"):
        SDPClusterer(3, covariance_type="automatic").fit(X)
    with pytest.raises(InvalidParameterError, match="covariance_type"):
        la_sdp(X, 3, covariance_type="pooled")


@pytest.mark.parametrize("model", ["tied", "diag", "spherical"])
def test_structured_point_costs_agree_with_the_full_formula(xp, model):
    # The diagonal models' distances come from the covariances' diagonals and the tied
    # model's through its one factor (cheaper); they must equal the general Cholesky
    # formula on the same covariances, empty clusters and weights included.
    from sklr.cluster._gaussian import _fit_gaussians, _gaussian_costs, _point_costs
    from sklr.utils._array_api import namespace_and_device, to_numpy

    X, y, _ = _shared_shape(104, sizes=(30, 60, 90))
    X = xp.asarray(X * 3.0 + 5.0)
    labels = xp.asarray(np.where(y == 2, 3, y))  # cluster 2 empty of four
    for weighted in (False, True):
        ours = _point_costs(X, labels, 4, model, weighted, xp)
        assert namespace_and_device(ours)[0] is xp
        counts, means, covs = _fit_gaussians(X, labels, 4, model, xp)
        general = _gaussian_costs(X, means, covs, counts / 180, weighted, xp, "full")
        ours, general = to_numpy(ours), to_numpy(general)
        assert np.isinf(ours[:, 2]).all() and np.isinf(general[:, 2]).all()
        assert_allclose(np.delete(ours, 2, axis=1), np.delete(general, 2, axis=1), rtol=1e-10)
    from sklr.cluster._gaussian import _squared_distances

    none, log_det = _squared_distances(X, means[:0, ...], covs[:0, ...], model, xp)
    assert tuple(none.shape) == (180, 0) and tuple(log_det.shape) == (0,)
