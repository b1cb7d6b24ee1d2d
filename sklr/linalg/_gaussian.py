"""Gaussian densities through a Cholesky factor: the one home of Mahalanobis norms and log-determinants.

Used by the clustering family (the iLA-SDP partition cost, its point costs,
starts and ``SDPClusterer``'s likelihood). Everything is in the array API
namespace of the inputs; nothing here branches on the array library.
"""

import math

__all__ = ["cholesky_log_det", "gaussian_neg_log_density", "whiten"]


def cholesky_log_det(L, xp):
    """``log |Sigma|`` from the Cholesky factor ``L`` of ``Sigma`` (``2 sum log diag L``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.linalg._gaussian import cholesky_log_det
    >>> L = np.linalg.cholesky(np.diag([4.0, 9.0]))
    >>> round(float(cholesky_log_det(L, np)), 6) == round(float(np.log(36.0)), 6)
    True
    """
    return 2.0 * xp.sum(xp.log(xp.linalg.diagonal(L)))


def whiten(X, mean, L, xp):
    """``L^-1 (X - mean)^T``, shape ``(p, n)``: the points whitened by ``Sigma = L L^T``.

    Column ``i``'s squared norm is point ``i``'s squared Mahalanobis distance.
    """
    return xp.linalg.solve(L, xp.matrix_transpose(X - mean))


def gaussian_neg_log_density(X, mean, L, xp, *, constant=True):
    """``-log N(x_i; mean, L L^T)`` for every row of ``X``.

    ``(||L^-1 (x_i - mean)||^2 + log |Sigma| + p log 2 pi) / 2``; with
    ``constant=False`` the ``p log 2 pi`` term is left out (the form iLA-SDP's
    partition cost uses).

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import multivariate_normal
    >>> from sklr.linalg._gaussian import gaussian_neg_log_density
    >>> rng = np.random.RandomState(0)
    >>> X, mean = rng.standard_normal((5, 2)), np.array([0.5, -1.0])
    >>> cov = np.array([[2.0, 0.3], [0.3, 0.5]])
    >>> ours = gaussian_neg_log_density(X, mean, np.linalg.cholesky(cov), np)
    >>> bool(np.allclose(ours, -multivariate_normal(mean, cov).logpdf(X)))
    True
    """
    W = whiten(X, mean, L, xp)
    cost = xp.sum(W * W, axis=0) + cholesky_log_det(L, xp)
    if constant:
        cost = cost + X.shape[1] * math.log(2.0 * math.pi)
    return 0.5 * cost
