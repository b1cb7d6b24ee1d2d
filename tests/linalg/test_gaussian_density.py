"""sklr.linalg._gaussian: Gaussian negative log-densities through a Cholesky factor."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import multivariate_normal

from sklr.linalg._gaussian import cholesky_log_det, gaussian_neg_log_density, whiten
from sklr.utils._array_api import namespace_and_device, to_numpy


@pytest.mark.parametrize("p", [1, 3])
def test_agrees_with_scipy_on_every_backend(xp, p):
    rng = np.random.RandomState(p)
    X, mean = rng.standard_normal((40, p)) * 3.0, rng.standard_normal(p)
    A = rng.standard_normal((p, p))
    cov = A @ A.T + 0.1 * np.eye(p)
    L = np.linalg.cholesky(cov)
    ours = gaussian_neg_log_density(xp.asarray(X), xp.asarray(mean), xp.asarray(L), xp)
    assert namespace_and_device(ours)[0] is xp
    reference = -multivariate_normal(mean, cov).logpdf(X)
    assert_allclose(to_numpy(ours), np.atleast_1d(reference), rtol=1e-12)
    # Without the constant: the iLA-SDP point cost.
    bare = gaussian_neg_log_density(xp.asarray(X), xp.asarray(mean), xp.asarray(L), xp,
                                    constant=False)
    assert_allclose(to_numpy(bare), np.atleast_1d(reference) - 0.5 * p * np.log(2 * np.pi),
                    rtol=1e-12)
    assert float(cholesky_log_det(xp.asarray(L), xp)) == pytest.approx(np.linalg.slogdet(cov)[1])
    W = to_numpy(whiten(xp.asarray(X), xp.asarray(mean), xp.asarray(L), xp))
    assert W.shape == (p, 40)
    assert_allclose((W * W).sum(0), np.einsum("ij,jk,ik->i", X - mean, np.linalg.inv(cov),
                                              X - mean), rtol=1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_spd_inverse_and_inverse_factor(dtype):
    from sklr.linalg._gaussian import cholesky_and_inverse_factor, spd_inverse

    rng = np.random.RandomState(0)
    A = rng.standard_normal((6, 6)).astype(dtype)
    if dtype == np.complex128:
        A = A + 1j * rng.standard_normal((6, 6))
    M = A @ A.conj().T + np.eye(6)
    L, L_inv = cholesky_and_inverse_factor(M, np)
    assert_allclose(L @ L.conj().T, M, rtol=1e-12, atol=1e-12)
    assert_allclose(L_inv @ L, np.eye(6), atol=1e-12)
    assert_allclose(spd_inverse(M, np), np.linalg.inv(M), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("K,p", [(1, 1), (3, 4)])
def test_batched_mahalanobis_agrees_with_scipy_on_every_backend(xp, K, p):
    from scipy.spatial.distance import cdist

    from sklr.linalg._gaussian import inverse_factors, mahalanobis_squared

    rng = np.random.RandomState(K + p)
    X, means = rng.standard_normal((30, p)) * 2.0, rng.standard_normal((K, p))
    covs = np.stack([A @ A.T + 0.1 * np.eye(p) for A in rng.standard_normal((K, p, p))])
    L, L_inv, log_det = inverse_factors(xp.asarray(covs), xp)
    assert namespace_and_device(L_inv)[0] is xp
    assert_allclose(to_numpy(L @ xp.matrix_transpose(L)), covs, rtol=1e-12)
    assert_allclose(to_numpy(log_det), np.linalg.slogdet(covs)[1], rtol=1e-12)
    ours = to_numpy(mahalanobis_squared(xp.asarray(X), xp.asarray(means), L_inv, xp))
    assert ours.shape == (30, K)
    for k in range(K):
        reference = cdist(X, means[k:k + 1], "mahalanobis", VI=np.linalg.inv(covs[k]))[:, 0]
        assert_allclose(ours[:, k], reference**2, rtol=1e-10)


@pytest.mark.parametrize("K,p", [(1, 1), (3, 4)])
def test_diagonal_mahalanobis_agrees_with_scipy_on_every_backend(xp, K, p):
    from scipy.spatial.distance import cdist

    from sklr.linalg._gaussian import mahalanobis_squared_diagonal

    rng = np.random.RandomState(K + p)
    # Far from the origin and in other units: the points' offset must not cost digits.
    offset = 1e4 * rng.standard_normal(p)
    X = rng.standard_normal((30, p)) * 2.0 + offset
    means = rng.standard_normal((K, p)) + offset
    variances = rng.uniform(0.01, 3.0, (K, p))
    ours = mahalanobis_squared_diagonal(xp.asarray(X), xp.asarray(means), xp.asarray(variances),
                                        xp)
    assert namespace_and_device(ours)[0] is xp and ours.shape == (30, K)
    for k in range(K):
        reference = cdist(X, means[k:k + 1], "seuclidean", V=variances[k])[:, 0]
        assert_allclose(to_numpy(ours)[:, k], reference**2, rtol=1e-8)
    empty = mahalanobis_squared_diagonal(xp.asarray(X), xp.asarray(means[:0]),
                                         xp.asarray(variances[:0]), xp)
    assert empty.shape == (30, 0)


def test_diagonal_mahalanobis_with_one_shared_diagonal():
    from sklr.linalg._gaussian import mahalanobis_squared_diagonal

    rng = np.random.RandomState(0)
    X, means, shared = rng.standard_normal((20, 3)), rng.standard_normal((4, 3)), rng.uniform(
        0.5, 2.0, (1, 3))
    assert_allclose(mahalanobis_squared_diagonal(X, means, shared, np),
                    mahalanobis_squared_diagonal(X, means, np.repeat(shared, 4, axis=0), np),
                    rtol=1e-12)


def test_diagonal_mahalanobis_keeps_the_digits_of_a_tight_cluster_far_away(xp):
    # A cluster of spread 1e-3 ten units from the others: expanding the square into
    # products of the points and the means lost every digit of its points' own
    # distances in float32.
    from sklr.linalg._gaussian import mahalanobis_squared_diagonal

    rng = np.random.RandomState(0)
    means = np.array([[0.0, 0.0, 0.0], [10.0, -10.0, 10.0]])
    variances = np.array([[1.0, 1.0, 1.0], [1e-6, 1e-6, 1e-6]])
    X = np.vstack([rng.standard_normal((20, 3)), means[1] + 1e-3 * rng.standard_normal((20, 3))])
    reference = ((X[:, None, :] - means[None]) ** 2 / variances[None]).sum(axis=2)
    for dtype, rtol in ((np.float64, 1e-12), (np.float32, 1e-5)):
        ours = to_numpy(mahalanobis_squared_diagonal(
            xp.asarray(X.astype(dtype)), xp.asarray(means.astype(dtype)),
            xp.asarray(variances.astype(dtype)), xp))
        assert ours.dtype == dtype
        cast = ((X.astype(dtype).astype(np.float64)[:, None, :]
                 - means.astype(dtype).astype(np.float64)[None]) ** 2
                / variances.astype(dtype).astype(np.float64)[None]).sum(axis=2)
        assert_allclose(ours, cast, rtol=rtol)
        assert (ours >= 0).all()
    assert_allclose(cast, reference, rtol=1e-2)  # the float32 inputs themselves
    itself = to_numpy(mahalanobis_squared_diagonal(xp.asarray(means), xp.asarray(means),
                                                   xp.asarray(variances), xp))
    assert itself[0, 0] == 0.0 and itself[1, 1] == 0.0
