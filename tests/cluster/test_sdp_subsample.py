"""SDPClusterer's sketch and lift (``subsample``): the search on a subsample, its partition on all points."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture
from sklearn.utils._param_validation import InvalidParameterError

from sklr.cluster import SDPClusterer, misclustering_error
from sklr.cluster._gaussian import _point_costs
from sklr.cluster._lift import AUTO_SUBSAMPLE, lift, standardised, subsample_size
from sklr.datasets import make_heterogeneous_mixture


@pytest.fixture(scope="module")
def mixture():
    X, y, _, _ = make_heterogeneous_mixture(2400, 3, 3, separation=3.0, random_state=0)
    return X, y


@pytest.fixture(scope="module")
def lifted(mixture):
    return _fit(mixture[0], subsample=250)


def _fit(X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SDPClusterer(3, random_state=0, **params).fit(X)


def test_subsample_size():
    assert subsample_size("auto", AUTO_SUBSAMPLE) is None
    assert subsample_size("auto", AUTO_SUBSAMPLE + 1) == AUTO_SUBSAMPLE
    assert subsample_size(None, 10**7) is None
    assert subsample_size(50, 50) is None and subsample_size(50, 51) == 50


def test_small_data_are_not_subsampled():
    # Up to "auto"'s size, the default is the full search: same labels as subsample=None.
    X, _, _, _ = make_heterogeneous_mixture(90, 2, 3, separation=3.0, random_state=1)
    auto, none, big = _fit(X), _fit(X, subsample=None), _fit(X, subsample=90)
    assert auto.subsample_indices_ is None and big.subsample_indices_ is None
    assert np.array_equal(auto.labels_, none.labels_)
    assert np.array_equal(big.labels_, none.labels_)


def test_lifted_partition_is_as_accurate_as_em(mixture, lifted):
    # EM with ten starts on all points is the reference (the full search matches it on
    # these mixtures: benchmarks/results/2026-12-06_sdp_subsample.md); the search on 250
    # points, lifted, must match it too.
    X, y = mixture
    em = GaussianMixture(3, n_init=10, random_state=0).fit_predict(X)
    em_error = misclustering_error(y, em)
    assert em_error < 0.06  # the data are clusterable at all
    assert misclustering_error(y, lifted.labels_) <= em_error + 0.005
    indices = lifted.subsample_indices_
    assert indices.shape == (250,) and np.all(np.diff(indices) > 0)
    assert indices.min() >= 0 and indices.max() < X.shape[0]


def test_lift_ends_where_no_point_moves(mixture, lifted):
    # The refinement is classification EM on all points: at its end every point is
    # in its cheapest cluster under the clusters' own Gaussians (on the search's scale).
    X, _ = mixture
    weighted = lifted.cluster_weights == "estimated"
    costs = _point_costs(standardised(X, np), lifted.labels_, 3, lifted.covariance_type_,
                         weighted, np)
    assert np.array_equal(np.argmin(costs, axis=1), lifted.labels_)


def test_reproducible_and_seed_dependent(mixture, lifted):
    X, _ = mixture
    a, b = lifted, _fit(X, subsample=250)
    assert np.array_equal(a.subsample_indices_, b.subsample_indices_)
    assert np.array_equal(a.labels_, b.labels_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = SDPClusterer(3, subsample=250, random_state=1).fit(X)
    assert not np.array_equal(a.subsample_indices_, c.subsample_indices_)


@pytest.mark.parametrize("scale, shift", [(1e4, 3.0), (1e-5, -7.0)])
def test_lift_is_free_of_units(mixture, lifted, scale, shift):
    X, _ = mixture
    ref, moved = lifted, _fit(X * scale + shift, subsample=250)
    assert np.array_equal(ref.labels_, moved.labels_)


def _nearest(Z, labels, K):
    centroids = np.stack([Z[labels == k].mean(axis=0) for k in range(K)])
    return np.argmin(((Z[:, None, :] - centroids[None]) ** 2).sum(axis=2), axis=1)


def test_kmeans_sdp_lift_is_the_nearest_centroid_then_lloyd(mixture):
    X, y = mixture
    fit = _fit(X, subsample=250, method="kmeans-sdp")
    kmeans = KMeans(3, n_init=10, random_state=0).fit(X)
    # heterogeneous clusters: K-means' model is wrong, but the lift loses nothing to it
    assert misclustering_error(y, fit.labels_) <= misclustering_error(y, kmeans.labels_) + 0.01
    # lift itself: each point to the nearest centroid of the subsample's clusters (the
    # paper's), then Lloyd steps on all points until none moves
    Z = standardised(X, np)
    indices = np.arange(0, X.shape[0], 10)
    sample_labels = y[indices]
    labels = lift(Z, indices, sample_labels, 3, method="kmeans-sdp",
                  covariance_type="spherical", weighted=False)
    centroids = np.stack([Z[indices][sample_labels == k].mean(axis=0) for k in range(3)])
    expected = np.argmin(((Z[:, None, :] - centroids[None]) ** 2).sum(axis=2), axis=1)
    for _ in range(100):
        step = _nearest(Z, expected, 3)
        if np.array_equal(step, expected):
            break
        expected = step
    assert np.array_equal(expected, labels)
    assert np.array_equal(_nearest(Z, labels, 3), labels)  # a Lloyd fixed point


def test_kmeans_sdp_lifted_labels_are_what_predict_gives():
    # Before the Lloyd steps 7 of these 400 points were nearer another cluster's mean (over
    # all points) than their own: labels_ and predict(X) disagreed.
    X = make_heterogeneous_mixture(400, 3, 3, separation=2.0, random_state=2)[0]
    model = SDPClusterer(3, method="kmeans-sdp", subsample=100, random_state=0).fit(X)
    assert model.subsample_indices_ is not None
    assert_array_equal(model.predict(X), model.labels_)


@pytest.mark.parametrize("subsample", [0, 1, -5, 2.5, "half"])
def test_bad_subsample_is_refused(mixture, subsample):
    X, _ = mixture
    with pytest.raises(InvalidParameterError, match="subsample"):
        SDPClusterer(3, subsample=subsample).fit(X[:50])


def test_subsample_below_n_clusters_is_refused(mixture):
    X, _ = mixture
    with pytest.raises(ValueError, match=r"subsample=2 must be >= n_clusters=3"):
        SDPClusterer(3, subsample=2).fit(X[:50])
    # ... unless nothing is subsampled
    assert SDPClusterer(2, subsample=2, random_state=0).fit(X[:2]).subsample_indices_ is None


@pytest.mark.parametrize("model", ["full", "tied", "diag", "spherical"])
@pytest.mark.parametrize("weighted", [False, True])
def test_lift_step_is_the_cheapest_cluster_under_the_model(mixture, model, weighted):
    # The lift's first assignment, before classification EM refines it (which would hide
    # a wrong model): each point to its cheapest cluster under the subsample clusters'
    # Gaussians of this covariance model, by the general Cholesky formula.
    from sklr.cluster._gaussian import _fit_gaussians, _gaussian_costs

    X, y = mixture
    Z = standardised(X, np)
    indices = np.arange(0, X.shape[0], 8)
    sample_labels = y[indices]
    labels = lift(Z, indices, sample_labels, 3, method="ila-sdp", covariance_type=model,
                  weighted=weighted, max_iter=0)
    counts, means, covs = _fit_gaussians(Z[indices], sample_labels, 3, model, np)
    costs = _gaussian_costs(Z, means, covs, counts / indices.size, weighted, np, "full")
    assert_array_equal(labels, np.argmin(costs, axis=1))
