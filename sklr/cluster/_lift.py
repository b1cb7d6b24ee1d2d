"""Sketch and lift: the search on a uniform subsample, its partition extended to every point.

Zhuang, Chen and Yang (AISTATS 2022) solve the K-means SDP on a subsample
and give every point the nearest subsample centroid. For the likelihood
adjusted SDP the lift is the same with the clusters' Gaussians: each point
goes to the cluster of lowest cost (Mahalanobis distance and log-determinant,
minus the log weight when the weights are estimated), then classification EM
on all points refines the partition (each step lowers its cost).
"""

import math

from sklearn.utils import check_random_state

from ..utils._array_api import device as array_device
from ..utils._array_api import namespace_and_device
from ._gaussian import (
    _classification_em,
    _covariances,
    _gaussian_costs,
    _pooled_spherical,
)

# subsample="auto": the search runs on this many points at most.
AUTO_SUBSAMPLE = 2000


def subsample_size(subsample, n_samples):
    """The number of points the search runs on, or None for all of them."""
    m = AUTO_SUBSAMPLE if subsample == "auto" else subsample
    return None if m is None or m >= n_samples else int(m)


def draw_subsample(n_samples, size, rng, xp, device):
    """``size`` sorted indices drawn uniformly without replacement from ``rng``."""
    import numpy as np

    host = np.sort(check_random_state(rng).choice(n_samples, size, replace=False))
    return xp.asarray(host, dtype=xp.int64, device=device)


def standardised(X, xp):
    """``X`` centred, divided by its root mean variance and put on the search's grid."""
    from ._sdp import _normalised

    return _normalised(X)[0]


def lift(X, indices, labels, n_clusters, *, method, covariance_type, weighted, max_iter=100):
    """The subsample's partition ``labels`` (of ``X[indices]``) extended to every row of ``X``."""
    xp, _ = namespace_and_device(X)
    sample = xp.take(X, indices, axis=0)
    m = sample.shape[0]
    fractions = [int(xp.sum(xp.astype(labels == k, xp.int64))) / m for k in range(n_clusters)]
    if method == "kmeans-sdp":
        # The paper's lift: the nearest subsample centroid (the K-means SDP's model is
        # one shared spherical covariance, under which the cost is the distance). Then
        # Lloyd steps on all points (not in the paper; the K-means model's classification
        # EM, as for the Gaussians below): without them a point could be nearer another
        # cluster's mean over all points than its own, and predict(X) differ from the
        # labels (7 of 400 points of a 3-cluster mixture lifted from 100).
        sq = xp.sum(X * X, axis=1)[:, None]
        means, _ = _pooled_spherical(sample, labels, n_clusters, xp)
        held = xp.asarray([f > 0 for f in fractions], device=array_device(X))
        clusters = xp.arange(n_clusters, device=array_device(X))
        current = None
        for _ in range(max_iter + 1):
            d = sq - 2.0 * (X @ xp.matrix_transpose(means)) + xp.sum(means * means, axis=1)[None, :]
            d = xp.where(held[None, :], d, xp.asarray(math.inf, dtype=X.dtype))
            new = xp.argmin(d, axis=1)
            if current is not None and bool(xp.all(new == current)):
                break
            current = new
            held = xp.any(current[:, None] == clusters[None, :], axis=0)
            means, _ = _pooled_spherical(X, current, n_clusters, xp)
        return current
    means, covs = _covariances(sample, labels, n_clusters, covariance_type, xp)
    full = xp.argmin(_gaussian_costs(X, means, covs, fractions, weighted, xp,
                                      covariance_type), axis=1)
    return _classification_em(X, full, n_clusters, covariance_type, weighted, xp,
                              max_iter=max_iter)
