"""Starting partitions for iLA-SDP: K-means (several restarts), EM, greedy."""

import math

import numpy as np

from ..linalg._gaussian import whiten
from ..utils._array_api import device as array_device
from ._gaussian import _classification_em, _covariances, _point_costs, partition_cost


def _kmeans_labels(X, n_clusters, n_init, random_state, xp):
    """K-means labels of the rows of ``X`` (run on the host), on ``X``'s device.

    With fewer distinct rows than ``n_clusters`` (repeated points) the
    partition is one cluster per distinct row, the only one K-means can
    find; scikit-learn's KMeans would find it too, but with a
    ``ConvergenceWarning`` about duplicate points per run, which is not the
    user's concern here: an internal start or rounding, whose outcome the
    estimator reports itself (``SDPClusterer`` warns when clusters are left
    empty).
    """
    from sklearn import config_context
    from sklearn.cluster import KMeans

    from ..utils._array_api import to_numpy

    host = to_numpy(X)
    distinct, inverse = np.unique(host, axis=0, return_inverse=True)
    if distinct.shape[0] < n_clusters:
        labels = inverse.reshape(-1)
    else:
        # NumPy in, so no dispatch: scikit-learn 1.8's KMeans fails under it even on NumPy.
        with config_context(array_api_dispatch=False):
            kmeans = KMeans(n_clusters, n_init=n_init, random_state=random_state)
            labels = kmeans.fit_predict(host)
    return xp.asarray(labels, dtype=xp.int64, device=array_device(X))


def _kmeans_runs(X, n_clusters, rng, xp, n_starts=30):
    """The distinct partitions of ``n_starts`` single k-means++ runs (K-means on the host)."""
    from ..utils._array_api import to_numpy

    runs, seen = [], set()
    for _ in range(n_starts):
        labels = _kmeans_labels(X, n_clusters, 1, rng, xp)
        key = _canonical(to_numpy(labels))
        if key not in seen:
            seen.add(key)
            runs.append(labels)
    return runs


def _canonical(host):
    """The partition's labels renamed in the order of first appearance, as hashable bytes."""
    _, first, inverse = np.unique(host, return_index=True, return_inverse=True)
    rank = np.empty(first.size, dtype=np.int64)
    rank[np.argsort(first)] = np.arange(first.size)
    return rank[inverse.reshape(-1)].tobytes()


def _kmeans_start(X, runs, n_clusters, covariance_type, xp):
    """The K-means partition (of the k-means++ ``runs``) of lowest partition cost.

    Chosen by the likelihood the iteration optimizes rather than by K-means'
    inertia: on heterogeneous mixtures most single K-means runs split a wide
    cluster, and the lowest-inertia run can be one of them. The cost has no
    cluster weights even when the iteration uses them: with them, one of six
    heterogeneous mixtures at p = 2 started from a worse partition and ended
    at 0.168 mis-clustering error instead of 0.047.
    """
    best, best_cost = None, math.inf
    for labels in runs:
        _, covs = _covariances(X, labels, n_clusters, covariance_type, xp)
        cost = partition_cost(X, labels, covs, xp)
        if cost < best_cost:
            best, best_cost = labels, cost
    return best


def _greedy_start(X, n_clusters, covariance_type, weighted, rng, xp, n_candidates=3,
                  candidate_steps=3):
    """A partition grown one cluster at a time from the points the current clusters fit worst.

    Greedy mixture learning (Vlassis and Likas, 2002; Verbeek, Vlassis and
    Krose, 2003) with classification EM: from one cluster, each step seeds a
    new cluster at a point and its ``p + 1`` nearest neighbours (in the metric
    of the point's cluster), runs classification EM, and keeps the candidate
    of lowest partition cost. Candidates: the ``n_candidates`` points of
    highest cost in their cluster, then as many drawn with probability
    proportional to their squared Mahalanobis distance (k-means++ in each
    cluster's metric; it makes ``n_init`` runs differ). K-means starts never
    see a small tight cluster next to a large one (every K-means optimum
    splits the large one); its points are among the worst fitted by the
    large cluster's Gaussian. None when no candidate keeps every cluster.

    Each candidate gets ``candidate_steps`` classification-EM steps before
    the candidates are compared (the start is refined to the end when the
    starts are screened, see ``_la_sdp``). On issue 21's real data sets and
    foreign mixtures (20 cases) 3 steps instead of running EM to the end
    gave the same final errors (one lower) at a fraction of the start's
    cost on digits (K = 10), where the start dominated the fit (timings:
    ``benchmarks/results/2026-12-06_sdp_screened.md``).
    """
    from ..utils._array_api import to_numpy

    n, p = X.shape
    n_near = max(2, min(p + 1, n // n_clusters))
    labels = xp.zeros(n, dtype=xp.int64, device=array_device(X))
    for k in range(1, n_clusters):
        means, covs = _covariances(X, labels, k, covariance_type, xp)
        host = to_numpy(labels)
        own = to_numpy(_point_costs(X, labels, k, covariance_type, weighted, xp))[np.arange(n), host]
        squared = np.zeros(n)
        chol = [xp.linalg.cholesky(covs[j, ...]) for j in range(k)]
        for j in range(k):
            W = whiten(X, means[j, :], chol[j], xp)
            squared = np.where(host == j, to_numpy(xp.sum(W * W, axis=0)), squared)
        seeds = np.argsort(-own, kind="stable")[:n_candidates].tolist()
        if squared.sum() > 0:
            seeds += rng.choice(n, size=n_candidates, p=squared / squared.sum()).tolist()
        best, best_cost, seeded = None, math.inf, set()
        for i in seeds:
            if i in seeded:
                continue
            W = whiten(X, X[i, :], chol[int(host[i])], xp)
            near = np.argsort(to_numpy(xp.sum(W * W, axis=0)), kind="stable")[:n_near]
            seeded.update(near.tolist())
            candidate = np.where(np.isin(np.arange(n), near), k, host)
            candidate = _classification_em(
                X, xp.asarray(candidate, dtype=xp.int64, device=array_device(X)), k + 1,
                covariance_type, weighted, xp, max_iter=candidate_steps)
            if int(xp.unique_values(candidate).shape[0]) < k + 1:
                continue
            _, candidate_covs = _covariances(X, candidate, k + 1, covariance_type, xp)
            cost = partition_cost(X, candidate, candidate_covs, xp, weighted=weighted)
            if cost < best_cost:
                best, best_cost = candidate, cost
        if best is None:
            return None
        labels = best
    return labels


def _mixture_start(X, n_clusters, covariance_type, rng, xp):
    """The partition of scikit-learn's GaussianMixture (EM from one k-means start), on the host.

    EM's soft assignments let points move between clusters gradually, and so
    leave hard-partition optima that K-means, classification EM and the
    rounded SDP stay in. None when the mixture leaves a cluster empty.
    """
    import warnings

    from sklearn import config_context
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    from ..utils._array_api import to_numpy

    host = np.asarray(to_numpy(X))
    with config_context(array_api_dispatch=False), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        mixture = GaussianMixture(n_clusters, covariance_type=covariance_type,
                                  random_state=rng).fit(host)
        labels = mixture.predict(host)
    if np.unique(labels).size < n_clusters:
        return None
    return xp.asarray(labels, dtype=xp.int64, device=array_device(X))
