"""Gaussian statistics of a partition: per-cluster covariances, point costs, the partition cost.

The profile negative log-likelihood that iLA-SDP minimises, and the
classification-EM step that refines a partition under it.
"""

import math

from ..linalg._gaussian import cholesky_log_det, gaussian_neg_log_density, whiten
from ..utils._array_api import device as array_device

__all__ = ["partition_cost"]


def _covariances(X, labels, n_clusters, covariance_type, xp):
    """Per-cluster means and covariances, shrunk towards ``(tr S_k / p) I`` by ``p / (n_k + p)``.

    The shrinkage keeps small clusters (``n_k`` near or below ``p``) well
    conditioned; a floor of ``1e-6`` times the data's mean variance keeps
    degenerate ones (one point, or repeated points) invertible.
    """
    n, p = X.shape
    floor = 1e-6 * max(float(xp.mean(xp.var(X, axis=0))), 1e-300)
    means, covs = [], []
    for k in range(n_clusters):
        members = X[labels == k] if labels.shape[0] else X
        n_k = int(members.shape[0])
        mean = xp.mean(members, axis=0) if n_k else xp.mean(X, axis=0)
        centred = members - mean
        S = (xp.matrix_transpose(centred) @ centred) / max(n_k, 1)
        variance = float(xp.sum(xp.linalg.diagonal(S))) / p
        if variance <= floor:
            variance = float(xp.mean(xp.var(X, axis=0)))
        eye = xp.eye(p, dtype=X.dtype, device=array_device(X))
        if covariance_type == "spherical":
            S = variance * eye
        elif covariance_type == "diag":
            S = eye * xp.linalg.diagonal(S)[None, :]
        shrink = p / (n_k + p)
        S = (1.0 - shrink) * S + shrink * variance * eye + floor * eye
        means.append(mean)
        covs.append(S)
    return xp.stack(means), xp.stack(covs)


def _point_costs(X, labels, n_clusters, covariance_type, weighted, xp):
    """``(n, K)`` cost of each point in each cluster, for the partition's Gaussians.

    ``(||x - mean_k||^2_{Sigma_k^-1} + log|Sigma_k|) / 2``, minus ``log(n_k / n)``
    when ``weighted``; ``+inf`` for empty clusters. The partition's cost
    (:func:`partition_cost`) is the sum of each point's cost in its own cluster.
    """
    n = X.shape[0]
    means, covs = _covariances(X, labels, n_clusters, covariance_type, xp)
    sizes = [int(xp.sum(xp.astype(labels == k, xp.int64))) for k in range(n_clusters)]
    return _gaussian_costs(X, means, covs, [n_k / n for n_k in sizes], weighted, xp)


def _gaussian_costs(X, means, covs, fractions, weighted, xp):
    """``(n, K)`` costs of the points ``X`` under the Gaussians ``(means, covs)``.

    ``fractions`` are the clusters' shares of the points they were fitted on:
    a cluster with none costs ``+inf``; ``-log(fraction)`` is added when
    ``weighted``.
    """
    n = X.shape[0]
    columns = []
    for k, fraction in enumerate(fractions):
        if fraction == 0:
            columns.append(xp.full(n, math.inf, dtype=X.dtype, device=array_device(X)))
            continue
        L = xp.linalg.cholesky(covs[k, ...])
        cost = gaussian_neg_log_density(X, means[k, :], L, xp, constant=False)
        columns.append(cost - math.log(fraction) if weighted else cost)
    return xp.stack(columns, axis=1)


def _classification_em(X, labels, n_clusters, covariance_type, weighted, xp, max_iter=100):
    """Classification EM: move every point to its cheapest cluster until none moves.

    Each step lowers the partition cost for fixed Gaussians; re-estimating
    them lowers it again (up to the covariance shrinkage).
    """
    for _ in range(max_iter):
        costs = _point_costs(X, labels, n_clusters, covariance_type, weighted, xp)
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
    """
    n = labels.shape[0]
    total = 0.0
    for k in range(covariances.shape[0]):
        members = X[labels == k]
        n_k = members.shape[0]
        if n_k == 0:
            continue
        L = xp.linalg.cholesky(covariances[k, ...])
        W = whiten(members, xp.mean(members, axis=0), L, xp)
        total += 0.5 * (float(xp.sum(W * W)) + n_k * float(cholesky_log_det(L, xp)))
        if weighted:
            total -= n_k * math.log(n_k / n)
    return total


def _pooled_spherical(X, labels, n_clusters, xp):
    """Means and the shared spherical within-cluster variance (the K-means SDP's model)."""
    n, p = X.shape
    means, within = [], 0.0
    for k in range(n_clusters):
        members = X[labels == k]
        mean = xp.mean(members, axis=0)
        means.append(mean)
        within += float(xp.sum((members - mean) ** 2))
    variance = max(within / (n * p), 1e-6 * max(float(xp.mean(xp.var(X, axis=0))), 1e-300))
    eye = xp.eye(p, dtype=X.dtype, device=array_device(X))
    return xp.stack(means), xp.stack([variance * eye] * n_clusters)
