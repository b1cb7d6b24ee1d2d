"""State-space pieces: closed-form Matérn transitions, Kalman/RTS and the bridge vs dense GPs."""

import numpy as np
import pytest
import scipy.linalg
import scipy.special
from numpy.testing import assert_allclose
from sklearn.gaussian_process.kernels import Matern

from sklr.tensor import (
    kalman_filter,
    matern_state_space,
    matern_transition,
    rts_smoother,
    state_space_predict,
)

KERNELS = [("matern12", 0.5), ("matern32", 1.5)]


@pytest.mark.parametrize("kernel", ["matern12", "matern32"])
@pytest.mark.parametrize("n_components", [1, 3])
def test_closed_form_transition_is_expm(kernel, n_components):
    lengthscale, variance = 0.7, 1.3
    F, P_inf, H = matern_state_space(kernel, lengthscale, variance, xp=np,
                                     n_components=n_components)
    deltas = np.array([0.0, 1e-5, 0.05, 0.3, 2.0, 10.0])
    A, Q = matern_transition(deltas, kernel, lengthscale, variance, n_components=n_components)
    for d, A_d, Q_d in zip(deltas, A, Q):
        A_ref = scipy.linalg.expm(F * d)
        assert_allclose(A_d, A_ref, rtol=0, atol=1e-14)
        assert_allclose(Q_d, P_inf - A_ref @ P_inf @ A_ref.T, rtol=0, atol=1e-14)
    # P_inf is stationary (Lyapunov equation with some white-noise input L q L^T).
    residual = F @ P_inf + P_inf @ F.T
    off_last = residual.copy()
    r = n_components
    off_last[-r:, -r:] = 0.0
    assert_allclose(off_last, 0.0, atol=1e-12)
    assert np.all(np.diag(residual)[-r:] < 0)
    # The first coordinate's covariance is the Matérn kernel.
    nu = dict(KERNELS)[kernel]
    k = variance * Matern(length_scale=lengthscale, nu=nu)(np.array([[0.0]]), deltas[:, None])[0]
    assert_allclose((A @ P_inf)[:, 0, 0], k, rtol=1e-12)
    assert H.shape == (r, F.shape[0]) and np.all(H[:, :r] == np.eye(r))


def test_small_gaps_keep_q_positive_definite():
    _, Q = matern_transition(np.array([1e-7, 1e-4]), "matern32", 1.0, 1.0)
    assert np.all(np.linalg.eigvalsh(Q) > 0)
    # Q11 = s2 P(3, 2 lam d) (regularised lower incomplete gamma), to full relative accuracy
    # even where the direct form cancels; Q22 ~ 4 lam^3 d to leading order.
    lam = np.sqrt(3.0)
    assert_allclose(Q[:, 0, 0], scipy.special.gammainc(3, 2 * lam * np.array([1e-7, 1e-4])),
                    rtol=1e-12)
    assert_allclose(Q[0, 1, 1], 4 * lam**3 * 1e-7, rtol=1e-5)


def _dense_gp(t, y, noise, t_new, kernel, lengthscale, variance):
    k = Matern(length_scale=lengthscale, nu=dict(KERNELS)[kernel])
    K = variance * k(t[:, None])
    Ks = variance * k(t_new[:, None], t[:, None])
    Kss = variance * k(t_new[:, None])
    Kn = K + np.diag(noise)
    mean = Ks @ np.linalg.solve(Kn, y)
    cov = Kss - Ks @ np.linalg.solve(Kn, Ks.T)
    return mean, cov


def _smooth(t_sorted, Lam, eta, kernel, lengthscale, variance, n_components=1):
    _, P_inf, H = matern_state_space(kernel, lengthscale, variance, xp=np,
                                     n_components=n_components)
    A, Q = matern_transition(np.diff(t_sorted, prepend=t_sorted[:1]), kernel, lengthscale,
                             variance, n_components=n_components)
    return rts_smoother(A, *kalman_filter(A, Q, H, Lam, eta, P_inf))


@pytest.mark.parametrize("kernel", ["matern12", "matern32"])
def test_kalman_rts_and_bridge_equal_dense_gp_regression(kernel):
    """Repeated inputs merged into one message per distinct value, as FunBaT does."""
    rng = np.random.RandomState(0)
    lengthscale, variance = 0.4, 1.7
    grid = np.sort(rng.uniform(0, 3, 25))
    counts = rng.randint(1, 4, grid.size)
    t = np.repeat(grid, counts)
    noise = rng.uniform(0.01, 0.1, t.size)
    y = np.sin(3 * t) + rng.standard_normal(t.size) * np.sqrt(noise)
    pos = np.repeat(np.arange(grid.size), counts)
    Lam = np.bincount(pos, 1 / noise)[:, None, None]
    eta = np.bincount(pos, y / noise)[:, None]
    means, covs, cross = _smooth(grid, Lam, eta, kernel, lengthscale, variance)
    mean_ref, cov_ref = _dense_gp(t, y, noise, grid, kernel, lengthscale, variance)
    assert_allclose(means[:, 0], mean_ref, rtol=0, atol=1e-8)
    assert_allclose(covs[:, 0, 0], np.diag(cov_ref), rtol=0, atol=1e-8)
    # Cross-covariances of neighbours (used by the bridge).
    assert_allclose(cross[:, 0, 0], np.diag(cov_ref, 1), rtol=0, atol=1e-8)

    # New inputs: before, between (and on) and after the training ones.
    t_new = np.concatenate([[-1.0, -0.01], rng.uniform(0, 3, 30), grid[[0, 5, -1]], [3.2, 5.0]])
    m_new, P_new = state_space_predict(t_new, grid, means, covs, cross, kernel, lengthscale,
                                       variance)
    mean_ref, cov_ref = _dense_gp(t, y, noise, t_new, kernel, lengthscale, variance)
    assert_allclose(m_new[:, 0], mean_ref, rtol=0, atol=1e-8)
    assert_allclose(P_new[:, 0, 0], np.diag(cov_ref), rtol=0, atol=1e-8)


def test_coupled_components_equal_dense_posterior():
    """Two GPs observed through full 2x2 message precisions (what the Tucker messages are)."""
    rng = np.random.RandomState(1)
    kernel, lengthscale, variance, r = "matern32", 0.5, 0.8, 2
    grid = np.sort(rng.uniform(0, 2, 15))
    B = rng.standard_normal((grid.size, r, 3))
    Lam = B @ np.swapaxes(B, 1, 2)
    Lam[4] = 0.0  # an index without information
    eta = rng.standard_normal((grid.size, r))
    means, covs, _ = _smooth(grid, Lam, eta, kernel, lengthscale, variance, n_components=r)
    # Dense: prior block-diagonal over components, messages block-diagonal over inputs.
    K = variance * Matern(length_scale=lengthscale, nu=1.5)(grid[:, None])
    prior_prec = np.kron(np.linalg.inv(K), np.eye(r))  # ordering (input, component)
    prec = prior_prec + scipy.linalg.block_diag(*Lam)
    cov = np.linalg.inv(prec)
    mean = cov @ eta.ravel()
    assert_allclose(means[:, :r], mean.reshape(grid.size, r), rtol=0, atol=1e-8)
    blocks = np.array([cov[i * r:(i + 1) * r, i * r:(i + 1) * r] for i in range(grid.size)])
    assert_allclose(covs[:, :r, :r], blocks, rtol=0, atol=1e-8)


def test_state_space_functions_agree_across_namespaces(xp):
    rng = np.random.RandomState(2)
    grid = np.sort(rng.uniform(0, 2, 12))
    Lam = rng.uniform(0.5, 2.0, (12, 1, 1))
    eta = rng.standard_normal((12, 1))
    t_new = np.array([-0.5, 0.3, 1.1, 2.5])
    ref = _smooth(grid, Lam, eta, "matern32", 0.5, 1.0)
    ref_new = state_space_predict(t_new, grid, *ref, "matern32", 0.5, 1.0)
    g, L, e, tn = (xp.asarray(a) for a in (grid, Lam, eta, t_new))
    _, P_inf, H = matern_state_space("matern32", 0.5, 1.0, xp=xp, dtype=g.dtype)
    A, Q = matern_transition(xp.concat([g[:1] - g[:1], g[1:] - g[:-1]]), "matern32", 0.5, 1.0)
    out = rts_smoother(A, *kalman_filter(A, Q, H, L, e, P_inf))
    out_new = state_space_predict(tn, g, *out, "matern32", 0.5, 1.0)
    atol = 1000 * np.finfo(np.float64).eps
    for got, want in zip((*out, *out_new), (*ref, *ref_new)):
        assert_allclose(np.asarray(got), want, rtol=0, atol=atol)


def test_unknown_kernel_is_rejected():
    with pytest.raises(ValueError, match="kernel.*'rbf'"):
        matern_transition(np.zeros(2), "rbf", 1.0, 1.0)
