"""Gaussian statistics of a partition: per-cluster covariances, point costs, the partition cost.

The profile negative log-likelihood that iLA-SDP minimises, and the
classification-EM step that refines a partition under it.
"""

import math

from ..linalg._gaussian import (
    inverse_factors,
    mahalanobis_squared,
    mahalanobis_squared_diagonal,
)
from ..utils._array_api import device as array_device

__all__ = ["partition_cost"]

# The covariance models that need only the diagonal of the clusters' scatter.
_DIAGONAL = ("diag", "spherical")


def _moments(X, labels, n_clusters, xp, *, diagonal=False):
    """Per-cluster sizes, means and scatter about the means.

    Returns ``(counts, means, scatter)``: ``counts`` of shape ``(K,)`` (float),
    ``means`` ``(K, p)`` (the data's mean for an empty cluster) and
    ``scatter[k] = sum_{i in G_k} (x_i - mean_k)(x_i - mean_k)^T / max(n_k, 1)``,
    shape ``(K, p, p)``, or its diagonal ``(K, p)`` when ``diagonal``. The
    points are sorted by cluster once (a stable sort: each cluster's points
    keep their order), so each cluster is a slice rather than a masked copy.
    """
    from ..utils._array_api import to_numpy

    n, p = X.shape
    dev = array_device(X)
    if labels.shape[0] == 0:  # no labels: every point in every cluster
        bounds, ordered = [0] + [n] * n_clusters, X
        slices = [(0, n)] * n_clusters
    else:
        order = xp.argsort(labels, stable=True)
        ordered = xp.take(X, order, axis=0)
        clusters = xp.arange(n_clusters + 1, dtype=labels.dtype, device=dev)
        bounds = to_numpy(xp.searchsorted(xp.take(labels, order), clusters)).tolist()
        slices = list(zip(bounds[:-1], bounds[1:]))
    overall = None
    counts, means, scatter = [], [], []
    for start, stop in slices:
        members = ordered[start:stop, :]
        n_k = stop - start
        if n_k:
            mean = xp.sum(members, axis=0) / n_k  # (xp.mean costs several times more here)
            centred = members - mean
            spread = (xp.sum(centred * centred, axis=0) if diagonal
                      else xp.matrix_transpose(centred) @ centred) / n_k
        else:
            overall = xp.mean(X, axis=0) if overall is None else overall
            mean = overall
            spread = xp.zeros((p,) if diagonal else (p, p), dtype=X.dtype, device=dev)
        counts.append(float(n_k))
        means.append(mean)
        scatter.append(spread)
    return (xp.asarray(counts, dtype=X.dtype, device=dev), xp.stack(means), xp.stack(scatter))


def _data_variance(X, xp):
    """The mean of ``X``'s column variances (the scale of the covariance floor)."""
    return float(xp.mean(xp.var(X, axis=0)))


def _fit_gaussians(X, labels, n_clusters, covariance_type, xp, data_variance=None):
    """:func:`_covariances` with the clusters' sizes: ``(counts, means, covariances)``.

    ``data_variance``: :func:`_data_variance` of ``X`` when the caller has it.
    """
    diagonal = covariance_type in _DIAGONAL
    counts, means, scatter = _moments(X, labels, n_clusters, xp, diagonal=diagonal)
    if data_variance is None:
        data_variance = _data_variance(X, xp)
    return counts, means, _shrunk(counts, scatter, covariance_type, data_variance, xp)


def _shrunk(counts, scatter, covariance_type, data_variance, xp):
    """The model's covariances from the clusters' scatter (``(K, p, p)``, or ``(K, p)`` diagonals).

    Shrunk towards ``(tr S_k / p) I`` by ``p / (n_k + p)``, plus the floor
    ``1e-6 * data_variance``; a cluster of no spread takes the data's variance.
    ``"tied"``: one covariance for every cluster (an empty one included) from
    the pooled scatter ``sum_k n_k S_k / n``, shrunk by ``p / (n + p)``.
    """
    p = scatter.shape[-1]
    dev = array_device(scatter)
    floor = 1e-6 * max(data_variance, 1e-300)
    diagonal = scatter.ndim == 2
    variances = scatter if diagonal else xp.linalg.diagonal(scatter)  # (K, p)
    variance = xp.sum(variances, axis=1) / p
    variance = xp.where(variance <= floor, xp.asarray(data_variance, dtype=scatter.dtype,
                                                        device=dev), variance)
    eye = xp.eye(p, dtype=scatter.dtype, device=dev)
    if covariance_type == "spherical":
        S = variance[:, None, None] * eye[None, :, :]
    elif covariance_type == "diag":
        S = variances[:, None, :] * eye[None, :, :]
    elif covariance_type == "tied":
        # One covariance for all clusters: the pooled within-cluster scatter, shrunk towards
        # (tr S / p) I by p / (n + p) (n the points of all clusters), the same floor.
        n = max(float(xp.sum(counts)), 1.0)
        pooled = xp.sum(counts[:, None, None] * scatter, axis=0) / n
        shared = float(xp.sum(xp.linalg.diagonal(pooled))) / p
        shared = data_variance if shared <= floor else shared
        shrink = p / (n + p)
        tied = (1.0 - shrink) * pooled + (shrink * shared + floor) * eye
        return xp.stack([tied] * scatter.shape[0])
    else:
        S = scatter
    shrink = (p / (counts + p))[:, None, None]
    return (1.0 - shrink) * S + (shrink * variance[:, None, None] + floor) * eye[None, :, :]


def _fitted_cost(X, labels, n_clusters, covariance_type, xp, data_variance=None):
    """A partition's covariances and its cost, from one pass over the points.

    Returns ``(covariances, cost, weights_term)``: :func:`_covariances` and
    :func:`partition_cost` of the partition under them, equal weights; the
    weighted cost is ``cost + weights_term``. Diagonal models need only the
    scatter's diagonal (``tr(Sigma_k^-1 S_k) = sum_j S_k,jj / Sigma_k,jj``).
    ``data_variance``: :func:`_data_variance` of ``X`` when the caller has it.
    """
    n = labels.shape[0]
    diagonal = covariance_type in _DIAGONAL
    counts, _, scatter = _moments(X, labels, n_clusters, xp, diagonal=diagonal)
    if data_variance is None:
        data_variance = _data_variance(X, xp)
    covs = _shrunk(counts, scatter, covariance_type, data_variance, xp)
    if diagonal:
        variances = xp.linalg.diagonal(covs)  # (K, p)
        traces = xp.sum(scatter / variances, axis=1)
        log_det = xp.sum(xp.log(variances), axis=1)
    else:
        _, L_inv, log_det = inverse_factors(covs, xp)
        traces = xp.sum((L_inv @ scatter) * L_inv, axis=(1, 2))  # tr(L^-1 S L^-T)
    cost = 0.5 * float(xp.sum(counts * (traces + log_det)))
    return covs, cost, _weights_term(counts, n, xp)


def _weights_term(counts, n, xp):
    """``-sum_k n_k log(n_k / n)``: the weighted partition cost's part from the cluster sizes."""
    return -float(xp.sum(counts * xp.log(xp.maximum(counts, 1.0) / n)))


def _covariances(X, labels, n_clusters, covariance_type, xp):
    """Per-cluster means and covariances, shrunk towards ``(tr S_k / p) I`` by ``p / (n_k + p)``.

    (``"tied"``: the pooled scatter's, by ``p / (n + p)``; see :func:`_shrunk`.)

    The shrinkage keeps small clusters (``n_k`` near or below ``p``) well
    conditioned; a floor of ``1e-6`` times the data's mean variance keeps
    degenerate ones (one point, or repeated points) invertible.
    """
    _, means, covs = _fit_gaussians(X, labels, n_clusters, covariance_type, xp)
    return means, covs


def _point_costs(X, labels, n_clusters, covariance_type, weighted, xp, data_variance=None):
    """``(n, K)`` cost of each point in each cluster, for the partition's Gaussians.

    ``(||x - mean_k||^2_{Sigma_k^-1} + log|Sigma_k|) / 2``, minus ``log(n_k / n)``
    when ``weighted``; ``+inf`` for empty clusters. The partition's cost
    (:func:`partition_cost`) is the sum of each point's cost in its own cluster.
    """
    n = X.shape[0]
    counts, means, covs = _fit_gaussians(X, labels, n_clusters, covariance_type, xp,
                                         data_variance)
    return _gaussian_costs(X, means, covs, counts / max(n, 1), weighted, xp, covariance_type)


def _squared_distances(X, means, covs, covariance_type, xp):
    """``(n, K)`` squared Mahalanobis distances to the Gaussians, and ``(K,)`` log-determinants.

    By the model's structure: the diagonal models from their covariances'
    diagonals (no factorisation), the tied model through its one shared
    factor (the points transformed once), the full model through the
    batched inverse factors (:func:`~sklr.linalg._gaussian.mahalanobis_squared`).
    """
    if covariance_type in _DIAGONAL:
        variances = xp.linalg.diagonal(covs)  # (K, p)
        return (mahalanobis_squared_diagonal(X, means, variances, xp),
                xp.sum(xp.log(variances), axis=1))
    if covariance_type == "tied" and means.shape[0] > 0:  # one factor, one transform
        _, L_inv, log_det = inverse_factors(covs[:1, ...], xp)
        transform = xp.matrix_transpose(L_inv[0, ...])
        ones = xp.ones((1, X.shape[1]), dtype=X.dtype, device=array_device(X))
        squared = mahalanobis_squared_diagonal(X @ transform, means @ transform, ones, xp)
        return squared, xp.broadcast_to(log_det, (means.shape[0],))
    _, L_inv, log_det = inverse_factors(covs, xp)
    return mahalanobis_squared(X, means, L_inv, xp), log_det


def _gaussian_costs(X, means, covs, fractions, weighted, xp, covariance_type="full"):
    """``(n, K)`` costs of the points ``X`` under the Gaussians ``(means, covs)``.

    ``fractions`` (a sequence or an array) are the clusters' shares of the
    points they were fitted on: a cluster with none costs ``+inf``;
    ``-log(fraction)`` is added when ``weighted``. ``covariance_type``: the
    model the covariances have (its structure makes the distances cheaper,
    see :func:`_squared_distances`).
    """
    dev = array_device(X)
    fractions = xp.asarray(fractions, dtype=X.dtype, device=dev)
    squared, log_det = _squared_distances(X, means, covs, covariance_type, xp)
    cost = 0.5 * (squared + log_det[None, :])
    if weighted:
        cost = cost - xp.log(xp.maximum(fractions, 1e-300))[None, :]
    return xp.where(fractions[None, :] > 0, cost, xp.asarray(math.inf, dtype=X.dtype,
                                                              device=dev))


def _classification_em(X, labels, n_clusters, covariance_type, weighted, xp, max_iter=100,
                       data_variance=None):
    """Classification EM: move every point to its cheapest cluster until none moves.

    Each step lowers the partition cost for fixed Gaussians; re-estimating
    them lowers it again (up to the covariance shrinkage).
    """
    if data_variance is None:
        data_variance = _data_variance(X, xp)
    for _ in range(max_iter):
        costs = _point_costs(X, labels, n_clusters, covariance_type, weighted, xp,
                             data_variance)
        new = xp.argmin(costs, axis=1)
        if bool(xp.all(new == labels)):
            break
        labels = new
    return labels


def partition_cost(X, labels, covariances, xp, *, weighted=False):
    """Negative profile log-likelihood of a partition (the LA-SDP objective at its indicator point).

    ``1/2 sum_k [sum_{i in G_k} ||x_i - mean_k||^2_{Sigma_k^-1} + n_k log|Sigma_k|]``,
    plus ``-sum_k n_k log(n_k / n)`` when ``weighted`` (the classification
    likelihood of a mixture whose weights are the cluster fractions).
    Computed from the clusters' scatter matrices: the sum of the squared
    Mahalanobis norms in cluster ``k`` is ``n_k tr(Sigma_k^-1 S_k)``.
    """
    n = labels.shape[0]
    K = covariances.shape[0]
    counts, _, scatter = _moments(X, labels, K, xp)
    _, L_inv, log_det = inverse_factors(covariances, xp)
    traces = xp.sum((L_inv @ scatter) * L_inv, axis=(1, 2))  # tr(L^-1 S L^-T)
    total = 0.5 * float(xp.sum(counts * (traces + log_det)))
    return total + _weights_term(counts, n, xp) if weighted else total


def _pooled_spherical(X, labels, n_clusters, xp):
    """Means and the shared spherical within-cluster variance (the K-means SDP's model).

    An empty cluster gets the data's mean (as in :func:`_moments`).
    """
    n, p = X.shape
    means, within, overall = [], 0.0, None
    for k in range(n_clusters):
        members = X[labels == k]
        if members.shape[0] == 0:
            overall = xp.mean(X, axis=0) if overall is None else overall
            means.append(overall)
            continue
        mean = xp.sum(members, axis=0) / members.shape[0]
        means.append(mean)
        within += float(xp.sum((members - mean) ** 2))
    variance = max(within / (n * p), 1e-6 * max(float(xp.mean(xp.var(X, axis=0))), 1e-300))
    eye = xp.eye(p, dtype=X.dtype, device=array_device(X))
    return xp.stack(means), xp.stack([variance * eye] * n_clusters)
