"""Starting partitions for iLA-SDP: K-means (several restarts), EM, greedy."""

import math

import numpy as np
from sklearn.utils import check_random_state

from ..utils._array_api import device as array_device
from ._gaussian import (
    _classification_em,
    _data_variance,
    _fit_gaussians,
    _fitted_cost,
    _squared_distances,
)


def _kmeans_labels(X, n_clusters, n_init, random_state, xp):
    """K-means labels of the rows of ``X``: the lowest-inertia of ``n_init`` runs (on the host)."""
    partitions, inertia = _host_runs(X, n_clusters, n_init, check_random_state(random_state))
    return xp.asarray(partitions[int(np.argmin(inertia))], dtype=xp.int64,
                      device=array_device(X))


def _kmeans_runs(X, n_clusters, rng, xp, n_starts=30):
    """The distinct partitions of ``n_starts`` single k-means++ runs (K-means on the host)."""
    partitions, inertia = _host_runs(X, n_clusters, n_starts, rng)
    if np.isfinite(inertia).any():  # runs that left a cluster empty only when all did
        partitions = partitions[np.isfinite(inertia)]
    runs, seen = [], set()
    for labels in partitions:
        key = _canonical(labels)
        if key not in seen:
            seen.add(key)
            runs.append(xp.asarray(labels, dtype=xp.int64, device=array_device(X)))
    return runs


def _host_runs(X, n_clusters, n_runs, rng):
    """:func:`_lloyd_runs` on a host copy of ``X``.

    With fewer distinct rows than ``n_clusters`` (repeated points) the one
    partition K-means can find, one cluster per distinct row, at inertia 0.
    """
    from ..utils._array_api import to_numpy

    host = np.asarray(to_numpy(X), dtype=np.float64)
    distinct, inverse = np.unique(host, axis=0, return_inverse=True)
    if distinct.shape[0] < n_clusters:
        return inverse.reshape(1, -1), np.zeros(1)
    return _lloyd_runs(host, n_clusters, n_runs, rng)


def _lloyd_runs(X, n_clusters, n_runs, rng, max_iter=300, budget=4_000_000):
    """``n_runs`` independent K-means runs on the NumPy ``X``, all at once.

    Greedy k-means++ seeding (``2 + log K`` candidates per centre, the one
    that lowers the potential most kept: Arthur and Vassilvitskii, 2007, as
    in scikit-learn), then Lloyd steps until a run's centres move less
    than ``1e-4`` times the features' mean variance (squared, summed).
    Every step of all runs is one matrix product over the points, in
    groups of runs of at most ``budget`` distances. Replaces 30 separate
    ``sklearn.cluster.KMeans(n_init=1)`` fits, whose fixed cost per call
    dominated the starts on small data sets (timings:
    ``benchmarks/results/2026-12-07_sdp_starts.md``). The random draws are
    made before the grouping, so the runs do not depend on ``budget``. A
    run whose last step leaves a cluster empty keeps the empty cluster's
    centre.

    Returns ``(labels, inertia)``: int array ``(n_runs, n)`` and float
    array ``(n_runs,)``; runs with an empty cluster rank last by inertia.
    """
    n, p = X.shape
    K = n_clusters
    sq = np.einsum("ij,ij->i", X, X)
    tol = 1e-4 * float(np.mean(np.var(X, axis=0)))
    trials = 2 + int(math.log(K))
    group = max(1, min(n_runs, budget // max(n * K, 1)))
    ks = np.arange(K)

    def distances(centers):  # (n, runs * K) squared distances to the flattened centres
        flat = centers.reshape(-1, p)
        return np.maximum(sq[:, None] - 2.0 * (X @ flat.T)
                          + np.einsum("ij,ij->i", flat, flat)[None, :], 0.0)

    # All draws up front, so that the runs do not depend on how they are grouped.
    firsts = rng.randint(n, size=n_runs)
    uniforms = rng.uniform(size=(max(K - 1, 0), n_runs, trials))
    all_labels, all_inertia = [], []
    for first_run in range(0, n_runs, group):
        R = min(group, n_runs - first_run)
        runs = slice(first_run, first_run + R)
        centers = np.empty((R, K, p))
        centers[:, 0] = X[firsts[runs]]
        nearest = distances(centers[:, :1]).T  # (R, n): squared distance to the nearest centre
        for k in range(1, K):
            cumulative = np.cumsum(nearest, axis=1)
            draws = uniforms[k - 1, runs] * cumulative[:, -1:]
            candidates = np.stack([np.searchsorted(cumulative[r], draws[r])
                                   for r in range(R)]).clip(0, n - 1)
            to_candidates = distances(X[candidates]).T.reshape(R, trials, n)
            potential = np.minimum(to_candidates, nearest[:, None, :])
            best = np.argmin(potential.sum(axis=2), axis=1)
            centers[:, k] = X[candidates[np.arange(R), best]]
            nearest = potential[np.arange(R), best]
        active = np.arange(R)
        for _ in range(max_iter):
            A = active.size
            labels = np.argmin(distances(centers[active]).reshape(n, A, K), axis=2)
            onehot = (labels[:, :, None] == ks).reshape(n, A * K).astype(X.dtype)
            counts = onehot.sum(axis=0).reshape(A, K)
            sums = (X.T @ onehot).T.reshape(A, K, p)
            old = centers[active]
            new = np.where(counts[:, :, None] > 0, sums / np.maximum(counts, 1.0)[:, :, None],
                           old)
            centers[active] = new
            active = active[((new - old) ** 2).sum(axis=(1, 2)) > tol]
            if active.size == 0:
                break
        D = distances(centers).reshape(n, R, K)
        labels = np.argmin(D, axis=2)  # (n, R)
        inertia = np.take_along_axis(D, labels[:, :, None], axis=2)[:, :, 0].sum(axis=0)
        full = (labels[:, :, None] == ks).any(axis=0).all(axis=1)
        all_labels.append(labels.T)
        all_inertia.append(np.where(full, inertia, np.inf))
    return np.concatenate(all_labels), np.concatenate(all_inertia)


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
        cost = _fitted_cost(X, labels, n_clusters, covariance_type, xp)[1]
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
    variance = _data_variance(X, xp)  # of X: the same for every candidate's statistics
    for k in range(1, n_clusters):
        counts, means, covs = _fit_gaussians(X, labels, k, covariance_type, xp, variance)
        host = to_numpy(labels)
        squared, log_det = _squared_distances(X, means, covs, covariance_type, xp)
        # Each point's squared Mahalanobis distance to its own cluster, and its cost there.
        squared = to_numpy(squared)[np.arange(n), host]
        own = 0.5 * (squared + to_numpy(log_det)[host])
        if weighted:
            own = own - np.log(to_numpy(counts)[host] / n)
        seeds = np.argsort(-own, kind="stable")[:n_candidates].tolist()
        if squared.sum() > 0:
            seeds += rng.choice(n, size=n_candidates, p=squared / squared.sum()).tolist()
        best, best_cost, seeded = None, math.inf, set()
        for i in seeds:
            if i in seeded:
                continue
            j = int(host[i])
            distances = _squared_distances(X, X[i:i + 1, :], covs[j:j + 1, ...], covariance_type,
                                           xp)[0][:, 0]
            near = np.argsort(to_numpy(distances), kind="stable")[:n_near]
            seeded.update(near.tolist())
            candidate = np.where(np.isin(np.arange(n), near), k, host)
            candidate = _classification_em(
                X, xp.asarray(candidate, dtype=xp.int64, device=array_device(X)), k + 1,
                covariance_type, weighted, xp, max_iter=candidate_steps, data_variance=variance)
            if int(xp.unique_values(candidate).shape[0]) < k + 1:
                continue
            _, cost, weights_term = _fitted_cost(X, candidate, k + 1, covariance_type, xp,
                                                 variance)
            cost = cost + weights_term if weighted else cost
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
