"""sklr.linalg._gaussian: Gaussian negative log-densities through a Cholesky factor."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from scipy.stats import multivariate_normal

from sklr.linalg._gaussian import cholesky_log_det, gaussian_neg_log_density, whiten
from sklr.utils._array_api import get_namespace, to_numpy


@pytest.mark.parametrize("p", [1, 3])
def test_agrees_with_scipy_on_every_backend(xp, p):
    rng = np.random.RandomState(p)
    X, mean = rng.standard_normal((40, p)) * 3.0, rng.standard_normal(p)
    A = rng.standard_normal((p, p))
    cov = A @ A.T + 0.1 * np.eye(p)
    L = np.linalg.cholesky(cov)
    ours = gaussian_neg_log_density(xp.asarray(X), xp.asarray(mean), xp.asarray(L), xp)
    assert get_namespace(ours)[0] is xp
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
