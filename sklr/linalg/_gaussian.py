"""Gaussians through a Cholesky factor: Mahalanobis norms, log-determinants, inverses.

The one home of these for the families: the clustering family (the iLA-SDP
partition cost, its point costs, starts and ``SDPClusterer``'s likelihood),
KroSBL's posterior and FunBaT's core posterior. Everything is in the array
API namespace of the inputs; nothing here branches on the array library.
"""

import math

from ..utils._array_api import device as array_device
from ..utils._array_api import solve_triangular

__all__ = [
    "cholesky_and_inverse_factor",
    "cholesky_log_det",
    "gaussian_neg_log_density",
    "spd_inverse",
    "whiten",
]


def cholesky_and_inverse_factor(M, xp):
    """``L`` with ``L L^H = M`` (Hermitian positive definite) and ``L^-1``, by a triangular solve.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.linalg._gaussian import cholesky_and_inverse_factor
    >>> L, L_inv = cholesky_and_inverse_factor(np.array([[4.0, 2.0], [2.0, 5.0]]), np)
    >>> bool(np.allclose(L_inv @ L, np.eye(2)))
    True
    """
    L = xp.linalg.cholesky(M)
    eye = xp.eye(M.shape[0], dtype=M.dtype, device=array_device(M))
    return L, solve_triangular(L, eye, lower=True, xp=xp)


def spd_inverse(M, xp):
    """``M^-1 = L^-H L^-1`` for a Hermitian positive-definite ``M``, through its Cholesky factor.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.linalg._gaussian import spd_inverse
    >>> M = np.array([[4.0, 2.0], [2.0, 5.0]])
    >>> bool(np.allclose(spd_inverse(M, np) @ M, np.eye(2)))
    True
    """
    _, L_inv = cholesky_and_inverse_factor(M, xp)
    L_inv_h = xp.matrix_transpose(L_inv)
    if xp.isdtype(L_inv.dtype, "complex floating"):
        L_inv_h = xp.conj(L_inv_h)
    return L_inv_h @ L_inv


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
    Computed as ``((X - mean) L^-T)^T`` with ``L^-1`` from one ``p x p``
    triangular solve: one matrix product over the points rather than a
    general solve with ``n`` right-hand sides (a transposed view is returned).

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.linalg._gaussian import whiten
    >>> L = np.linalg.cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]))
    >>> X, mean = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 0.5]]), np.array([0.5, 0.5])
    >>> bool(np.allclose(L @ whiten(X, mean, L, np), (X - mean).T))
    True
    """
    eye = xp.eye(L.shape[0], dtype=L.dtype, device=array_device(L))
    L_inv = solve_triangular(L, eye, lower=True, xp=xp)
    return xp.matrix_transpose((X - mean) @ xp.matrix_transpose(L_inv))


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
