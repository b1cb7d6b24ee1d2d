"""Choice of the covariance model: a penalised classification likelihood (BIC on the partition cost)."""

import math

__all__ = []

# The models covariance_type="auto" compares, in the order ties are broken.
COVARIANCE_MODELS = ("full", "tied", "diag", "spherical")


def _n_parameters(n_clusters, n_features, covariance_type, weighted):
    """Free parameters of the mixture: means, covariances and, when ``weighted``, the weights."""
    weights = n_clusters - 1 if weighted else 0
    if covariance_type == "tied":  # one covariance shared by the clusters
        return n_clusters * n_features + n_features * (n_features + 1) // 2 + weights
    per_cluster = {"full": n_features * (n_features + 1) // 2, "diag": n_features,
                   "spherical": 1}[covariance_type]
    return n_clusters * (n_features + per_cluster) + weights


def classification_bic(cost, n_samples, n_clusters, n_features, covariance_type, weighted):
    """``2 cost + n_parameters log(n_samples)``: lower is better.

    ``cost`` is the partition cost (the negative classification
    log-likelihood, weighted when ``weighted``), so this is the BIC of the
    classification likelihood, the criterion of the ICL family (Biernacki,
    Celeux and Govaert, 2000) that judges a partition rather than a density.
    """
    return 2.0 * cost + _n_parameters(n_clusters, n_features, covariance_type,
                                      weighted) * math.log(n_samples)
