"""SDPClusterer: recovery against ground truth and peers, the fitted Gaussians, errors."""

import math
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.stats import multivariate_normal
from sklearn.cluster import KMeans
from sklearn.exceptions import ConvergenceWarning
from sklearn.mixture import GaussianMixture

from sklr.cluster import SDPClusterer, la_sdp, solve_admm, solve_bm
from sklr.cluster import misclustering_error as _error
from sklr.cluster._sdp import partition_cost
from sklr.datasets import make_heterogeneous_mixture


def test_misclustering_error_against_brute_force():
    from itertools import permutations

    rng = np.random.RandomState(0)
    for _ in range(20):
        truth, found = rng.randint(0, 4, 30), rng.randint(0, 4, 30)
        brute = min(np.mean(np.asarray(perm)[found] != truth) for perm in permutations(range(4)))
        assert _error(truth, found) == pytest.approx(brute)
    assert _error([0, 0, 1, 1], [1, 1, 0, 0]) == 0.0
    with pytest.raises(ValueError, match="same length"):
        _error([0, 1], [0, 1, 1])
    with pytest.raises(ValueError, match="non-negative integers"):
        _error([0, 1], [0.5, 1])


# (n, p, K, separation, seed): heterogeneous mixtures with p from 2 to 50.
CASES = [(300, 2, 3, 3.5, 0), (300, 2, 3, 3.5, 2), (400, 10, 4, 3.0, 0), (400, 10, 4, 3.0, 3),
         (600, 20, 4, 3.0, 2), (800, 50, 3, 3.0, 3)]


@pytest.mark.parametrize("n, p, K, separation, seed", CASES)
def test_heterogeneous_mixture_error_at_most_gaussian_mixture_and_kmeans(n, p, K, separation,
                                                                         seed):
    X, y, _, _ = make_heterogeneous_mixture(n, p, K, separation=separation, random_state=seed)
    ours = _error(y, SDPClusterer(K, covariance_type="full", random_state=0).fit(X).labels_)
    kmeans = _error(y, KMeans(K, n_init=10, random_state=0).fit_predict(X))
    gmm = _error(y, GaussianMixture(K, n_init=10, random_state=0).fit(X).predict(X))
    assert ours <= gmm
    assert ours <= kmeans


def test_escapes_the_local_optimum_of_em():
    # Overlapping clusters where EM from one start merges two of them.
    X, y, _, _ = make_heterogeneous_mixture(400, 10, 4, separation=2.0, random_state=3)
    em = _error(y, GaussianMixture(4, random_state=0).fit(X).predict(X))
    ours = _error(y, SDPClusterer(4, random_state=0).fit(X).labels_)
    assert em > 0.3 and ours < 0.05  # measured: 0.343 and 0.030


def test_shapes_kmeans_cannot_separate():
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(0, 0.3, (60, 2)), rng.normal(0, 1, (60, 2)) * [4, 0.5] + [0, 3]])
    y = np.repeat([0, 1], 60)
    assert _error(y, KMeans(2, n_init=10, random_state=0).fit_predict(X)) > 0.1
    model = SDPClusterer(2, random_state=0).fit(X)
    assert _error(y, model.labels_) == 0.0
    assert model.n_iter_ >= 2  # the first round starts from K-means' wrong partition
    # The weighted iteration keeps the equal-weight partition: objective_ is its first SDP's.
    assert np.isfinite(model.objective_)


def _isotropic(n_per, K, p, factor, seed=0):
    """K spherical unit-variance clusters with centres 'factor' times the SDP's threshold apart."""
    n = n_per * K
    threshold = math.sqrt(4 * (1 + math.sqrt(1 + K * p / (n * math.log(n)))) * math.log(n))
    rng = np.random.RandomState(seed)
    centres = factor * threshold / math.sqrt(2) * np.eye(K, p)  # pairwise distance factor * thr
    X = np.vstack([c + rng.standard_normal((n_per, p)) for c in centres])
    return X, np.repeat(np.arange(K), n_per)


def test_kmeans_sdp_exact_recovery_above_the_threshold():
    X, y = _isotropic(30, 3, 3, factor=1.2)
    Xc = X - X.mean(axis=0)
    n = X.shape[0]
    truth = sum(np.outer(y == k, y == k) / np.sum(y == k) for k in range(3))
    admm = solve_admm([Xc], [np.zeros(n)], [3], tol=1e-7)
    assert_allclose(sum(admm.blocks), truth, atol=1e-3)  # the SDP is tight: Z is the partition
    bm = solve_bm([Xc], [np.zeros(n)], [3], rank=6, random_state=0, tol=1e-7)
    U = bm.factors[0]
    assert_allclose(U @ U.T, truth, atol=1e-3)
    for solver in ("bm", "admm"):
        model = SDPClusterer(3, method="kmeans-sdp", solver=solver, random_state=0).fit(X)
        assert _error(y, model.labels_) == 0.0
        assert model.n_iter_ == 1


def test_transform_is_the_gaussian_negative_log_likelihood():
    X, y, _, _ = make_heterogeneous_mixture(300, 3, 3, separation=4.0, random_state=1)
    for covariance_type, shape in [("full", (3, 3, 3)), ("diag", (3, 3)), ("spherical", (3,))]:
        model = SDPClusterer(3, covariance_type=covariance_type, random_state=0).fit(X)
        assert model.covariances_.shape == shape and model.means_.shape == (3, 3)
        nll = model.transform(X[:20])
        for k in range(3):
            cov = model.covariances_[k]
            cov = cov if cov.ndim == 2 else np.diag(cov) if cov.ndim == 1 else cov * np.eye(3)
            reference = -multivariate_normal(model.means_[k], cov).logpdf(X[:20])
            assert_allclose(nll[:, k], reference, rtol=1e-10)
        # Default: the posterior under the fitted mixture, and labels_ is predict(X) exactly.
        posterior_cost = nll - np.log(model.weights_)[None, :]
        assert_array_equal(model.predict(X[:20]), posterior_cost.argmin(axis=1))
        assert_array_equal(model.predict(X), model.labels_)
        full = model.transform(X) - np.log(model.weights_)[None, :]
        assert model.score(X) == pytest.approx(-np.mean(full.min(axis=1)))
        paper = SDPClusterer(3, covariance_type=covariance_type, cluster_weights="equal",
                             random_state=0).fit(X)
        assert_allclose(paper.weights_, np.full(3, 1 / 3))
        assert_array_equal(paper.predict(X[:20]), paper.transform(X[:20]).argmin(axis=1))
        assert np.mean(paper.predict(X) == paper.labels_) > 0.98
        assert paper.score(X) == pytest.approx(
            -np.mean(paper.transform(X).min(axis=1)) - np.log(3))
        # The clusters are rotated ellipses: the diagonal and spherical models are misspecified.
        assert _error(y, model.labels_) < (0.05 if covariance_type == "full" else 0.1)


def test_means_and_covariances_are_the_clusters_statistics():
    X, _, _, _ = make_heterogeneous_mixture(400, 2, 2, separation=5.0, random_state=0)
    model = SDPClusterer(2, covariance_type="full", cluster_weights="equal",
                         random_state=0).fit(X)
    assert model.cost_ == pytest.approx(
        partition_cost(X, model.labels_, model.covariances_, np))
    weighted = SDPClusterer(2, covariance_type="full", random_state=0).fit(X)
    # The weights and the cost are those of the iteration's partition, before the final step.
    partition = la_sdp(X, 2, covariance_type="full", random_state=np.random.RandomState(0).randint(0, 2**31 - 1))[0]
    assert_allclose(weighted.weights_, np.bincount(partition) / 400)
    assert weighted.cost_ == pytest.approx(
        partition_cost(X, partition, weighted.covariances_, np, weighted=True))
    for k in range(2):
        members = X[model.labels_ == k]
        assert_allclose(model.means_[k], members.mean(axis=0))
        n_k, p = members.shape
        S = np.cov(members.T, bias=True)
        shrink = p / (n_k + p)
        floor = 1e-6 * X.var(axis=0).mean()  # keeps degenerate clusters invertible
        expected = (1 - shrink) * S + (shrink * np.trace(S) / p + floor) * np.eye(p)
        assert_allclose(model.covariances_[k], expected, rtol=1e-10)


@pytest.mark.parametrize("n_large, n_small, shift, seed",
                         [(900, 100, 3.0, 0), (900, 100, 3.5, 1), (900, 100, 4.0, 0),
                          (270, 30, 3.5, 0)])
def test_estimated_weights_keep_a_large_cluster_whole(n_large, n_small, shift, seed):
    # A large and a small cluster from two unit Gaussians: without weights the likelihood
    # favours equal sizes and the SDP splits the large cluster; with them the error is the
    # Bayes error's. The last case needs the weighted iteration from the K-means start too.
    rng = np.random.RandomState(seed)
    X = np.vstack([rng.normal(0.0, 1.0, (n_large, 2)),
                   rng.normal(0.0, 1.0, (n_small, 2)) + [shift, 0.0]])
    y = np.repeat([0, 1], [n_large, n_small])
    ratio = n_large / n_small
    bayes = _error(y, (X[:, 0] > shift / 2 + np.log(ratio) / shift).astype(int))
    paper = SDPClusterer(2, cluster_weights="equal", random_state=0).fit(X)
    model = SDPClusterer(2, random_state=0).fit(X)
    assert _error(y, paper.labels_) > 0.1
    assert _error(y, model.labels_) <= bayes + 0.01
    assert_allclose(np.sort(model.weights_), [1 / (1 + ratio), ratio / (1 + ratio)], atol=0.02)
    gmm = GaussianMixture(2, random_state=0).fit_predict(X)
    assert _error(y, model.labels_) <= _error(y, gmm) + 0.002


def test_kmeans_sdp_predicts_the_nearest_mean():
    X, _ = _isotropic(20, 3, 2, factor=1.2)
    model = SDPClusterer(3, method="kmeans-sdp", random_state=0).fit(X)
    rng = np.random.RandomState(1)
    Z = rng.uniform(X.min(), X.max(), (50, 2))
    nearest = ((Z[:, None, :] - model.means_[None]) ** 2).sum(axis=2).argmin(axis=1)
    assert_array_equal(model.predict(Z), nearest)


def test_la_sdp_bm_and_admm_agree():
    X, y = _isotropic(20, 3, 2, factor=1.0, seed=2)
    bm_labels, _, _ = la_sdp(X, 3, solver="bm", random_state=0)
    admm_labels, _, _ = la_sdp(X, 3, solver="admm", random_state=0)
    assert _error(np.asarray(bm_labels), np.asarray(admm_labels)) == 0.0


def test_n_init_keeps_the_lowest_cost_and_n_jobs_does_not_change_it():
    from sklr.cluster._sdp_clusterer import _run_finish, _run_start

    # Overlapping clusters: the runs end at different partitions.
    X, _, _, _ = make_heterogeneous_mixture(200, 3, 4, separation=1.0, random_state=0)
    best = SDPClusterer(4, covariance_type="full", n_init=4, random_state=0).fit(X)
    seeds = np.random.RandomState(0).randint(0, 2**31 - 1, size=4).tolist()
    params = dict(method="ila-sdp", solver="bm", covariance_type="full", init="k-means++",
                  cluster_weights="estimated",
                  max_iter=20, tol=1e-4, verbose=0, rank=None)
    # Each run from its own starts; a run whose starts an earlier run had is not iterated.
    begun = [_run_start(X, 4, params, seed) for seed in seeds]
    distinct = []
    for run in begun:
        if not any(run.iterates_as(other) for other in distinct):
            distinct.append(run)
    costs = [_run_finish(X, 4, params, run).cost for run in distinct]
    assert len(set(np.round(costs, 6))) > 1  # the runs differ, so the choice matters
    assert best.cost_ == pytest.approx(min(costs), rel=1e-12)
    parallel = SDPClusterer(4, covariance_type="full", n_init=4, n_jobs=2,
                            random_state=0).fit(X)
    assert_array_equal(parallel.labels_, best.labels_)
    assert parallel.cost_ == best.cost_


def test_init_from_the_kmeans_sdp():
    X, y, _, _ = make_heterogeneous_mixture(300, 2, 3, separation=3.5, random_state=0)
    model = SDPClusterer(3, init="kmeans-sdp", random_state=0).fit(X)
    assert _error(y, model.labels_) < 0.05


def test_more_features_than_samples_is_regularized():
    rng = np.random.RandomState(0)
    X = np.vstack([rng.standard_normal((15, 40)), rng.standard_normal((15, 40)) + 3.0])
    model = SDPClusterer(2, covariance_type="full", random_state=0).fit(X)
    assert _error(np.repeat([0, 1], 15), model.labels_) == 0.0
    assert np.all(np.linalg.eigvalsh(model.covariances_) > 0)
    assert np.all(np.isfinite(model.transform(X)))


def test_max_iter_warns():
    X, _, _, _ = make_heterogeneous_mixture(200, 2, 3, separation=1.0, random_state=0)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        SDPClusterer(3, max_iter=1, random_state=0).fit(X)


def test_bad_input():
    X = np.random.RandomState(0).standard_normal((10, 2))
    with pytest.raises(ValueError, match="n_clusters=11 must be <= n_samples=10"):
        SDPClusterer(11).fit(X)
    with pytest.raises(ValueError, match="NaN"):
        SDPClusterer(2).fit(np.where(np.eye(10, 2) > 0, np.nan, X))
    with pytest.raises(ValueError, match="n_samples = 1"):
        SDPClusterer(1).fit(X[:1])
    with pytest.raises(ValueError, match="method"):
        SDPClusterer(2, method="sdp").fit(X)
    with pytest.raises(ValueError, match="covariance_type"):
        SDPClusterer(2, covariance_type="pooled").fit(X)
    model = SDPClusterer(2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="2 features"):
        model.predict(np.zeros((3, 3)))


def test_fewer_distinct_groups_than_clusters_warns():
    X = np.repeat([[0.0, 0.0], [1.0, 1.0]], 5, axis=0)
    with pytest.warns(ConvergenceWarning, match="Only 2 of n_clusters=3"):
        model = SDPClusterer(3, random_state=0).fit(X)
    assert sorted(np.bincount(model.labels_, minlength=3)) == [0, 5, 5]
    assert np.all(np.isfinite(model.transform(X)))


@pytest.mark.parametrize("method", ["ila-sdp", "kmeans-sdp"])
def test_repeated_points_raise_no_kmeans_warning(method):
    """The internal K-means starts and roundings on repeated points do not warn the user.

    Two distinct points for three clusters: scikit-learn's KMeans would warn about duplicate
    points at every internal start; only sklr's own warning about the empty cluster remains.
    """
    X = np.repeat([[0.0, 0.0], [1.0, 1.0]], 5, axis=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model = SDPClusterer(3, method=method, random_state=0).fit(X)
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "Number of distinct clusters" in m], messages
    # nor numpy's ("Mean of empty slice" from kmeans-sdp's empty clusters, once)
    assert all(m.startswith("Only 2 of n_clusters=3") for m in messages), messages
    if method == "ila-sdp":
        assert len(messages) == 1, messages
        assert sorted(np.bincount(model.labels_, minlength=3)) == [0, 5, 5]


@pytest.mark.parametrize("method, cluster_weights", [("ila-sdp", "estimated"),
                                                     ("ila-sdp", "equal"),
                                                     ("kmeans-sdp", "estimated")])
def test_an_empty_cluster_takes_no_point(method, cluster_weights):
    # Three distinct points, four clusters. kmeans-sdp gave the empty cluster a NaN mean
    # (every point then predicted into it, score NaN); with equal weights it kept 1/K.
    X = np.repeat(np.random.RandomState(0).randn(3, 2), 5, axis=0)
    with pytest.warns(ConvergenceWarning, match="weight 0"):
        model = SDPClusterer(4, method=method, cluster_weights=cluster_weights,
                             random_state=0).fit(X)
    empty = int(np.flatnonzero(np.bincount(model.labels_, minlength=4) == 0)[0])
    assert np.all(np.isfinite(model.means_)) and np.all(np.isfinite(model.covariances_))
    assert_allclose(model.means_[empty], X.mean(axis=0))
    assert model.weights_[empty] == 0.0
    assert_allclose(np.delete(model.weights_, empty), 1 / 3)
    assert_array_equal(model.predict(X), model.labels_)
    assert np.isfinite(model.score(X))


def test_one_cluster():
    X = np.random.RandomState(0).standard_normal((10, 2))
    model = SDPClusterer(1).fit(X)
    assert_array_equal(model.labels_, 0)
    assert_allclose(model.means_[0], X.mean(axis=0))


def test_verbose(capsys):
    X, _, _, _ = make_heterogeneous_mixture(200, 2, 3, separation=3.0, random_state=0)
    SDPClusterer(3, random_state=0, verbose=1).fit(X)
    out = capsys.readouterr().out
    assert "[sdp] round 1: LA-SDP objective" in out and "partition cost" in out and "[SDPClusterer] run with seed" in out


def test_float32_and_array_api_strict_agree_with_numpy():
    X, _, _, _ = make_heterogeneous_mixture(200, 3, 3, separation=4.0, random_state=0)
    reference = SDPClusterer(3, random_state=0).fit(X)
    single = SDPClusterer(3, random_state=0).fit(X.astype(np.float32))
    assert single.means_.dtype == np.float32 and single.transform(X[:5]).dtype == np.float64
    assert_array_equal(single.labels_, reference.labels_)
    xp = pytest.importorskip("array_api_strict")
    from sklearn import config_context

    with config_context(array_api_dispatch=True):
        strict = SDPClusterer(3, random_state=0).fit(xp.asarray(X))
        labels = np.asarray(strict.labels_)
        nll = np.asarray(strict.transform(xp.asarray(X[:5])))
    assert_array_equal(labels, reference.labels_)
    assert_allclose(nll, reference.transform(X[:5]), rtol=1e-10)
    # The tied model and the subsample's sketch and lift through the same namespace.
    tied = SDPClusterer(3, covariance_type="tied", subsample=100, random_state=0).fit(X)
    assert tied.covariances_.shape == (3, 3)
    assert_array_equal(SDPClusterer(3, covariance_type="tied", subsample=100, random_state=0)
                       .fit(X.astype(np.float32)).labels_, tied.labels_)
    with config_context(array_api_dispatch=True):
        strict = SDPClusterer(3, covariance_type="tied", subsample=100,
                              random_state=0).fit(xp.asarray(X))
        labels, covariances = np.asarray(strict.labels_), np.asarray(strict.covariances_)
    assert_array_equal(labels, tied.labels_)
    assert_allclose(covariances, tied.covariances_, rtol=1e-10)
