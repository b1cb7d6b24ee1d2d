"""sinkhorn_newton and SinkhornNewtonOT are scale-free: costs in any units, the same plan."""

import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from sklr.transport import SinkhornNewtonOT, sinkhorn_newton, sinkhorn_newton2


def _problem(seed, n=30, m=25):
    rng = np.random.RandomState(seed)
    X, Y = rng.uniform(size=(n, 2)), rng.uniform(size=(m, 2))
    M = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    a, b = rng.uniform(0.5, 1.5, n), rng.uniform(0.5, 1.5, m)
    return a / a.sum(), b / b.sum(), M / M.max()


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exponent=st.integers(-6, 6), seed=st.integers(0, 50),
       reg=st.sampled_from([1e-1, 1e-2, 1e-3, 1e-5]))
def test_plan_is_invariant_to_the_units_of_the_cost(exponent, seed, reg):
    # The plan depends on M / reg only; reg = 1e-5 takes the epsilon-scaling path,
    # whose schedule is relative to the cost's spread.
    a, b, M = _problem(seed)
    scale = 10.0**exponent
    ref, ref_log = sinkhorn_newton(a, b, M, reg, tol=1e-10, log=True)
    P, log = sinkhorn_newton(a, b, scale * M, scale * reg, tol=1e-10, log=True)
    assert ref_log["converged"] and log["converged"]
    assert len(log["reg_schedule"]) == len(ref_log["reg_schedule"])
    assert_allclose(P, ref, rtol=1e-5, atol=1e-9 * ref.max())
    assert sinkhorn_newton2(a, b, scale * M, scale * reg, tol=1e-10) == pytest.approx(
        scale * float(np.sum(ref * M)), rel=1e-6)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exponent=st.integers(-6, 6), seed=st.integers(0, 50))
@example(exponent=1, seed=29)
def test_estimator_is_scale_equivariant(exponent, seed):
    # norm="max" divides the cost by its maximum: the same reg gives the same
    # plan in any units, and the map scales with the data. With norm=None the
    # squared Euclidean cost scales by s^2, so reg must too.
    rng = np.random.RandomState(seed)
    Xs, Xt = rng.standard_normal((30, 2)), rng.standard_normal((25, 2)) + 2.0
    s = 10.0**exponent
    for norm, reg_scale in (("max", 1.0), (None, s**2)):
        ref = SinkhornNewtonOT(reg=1e-2, norm=norm, X_target=Xt).fit(Xs)
        est = SinkhornNewtonOT(reg=1e-2 * reg_scale, norm=norm, X_target=s * Xt).fit(s * Xs)
        # Each solve stops at an L1 marginal error <= tol = 1e-9, so the two plans agree
        # entrywise only to about tol (seed 29, exponent 1, OpenBLAS's Sandybridge
        # kernel: 4.2e-11 apart at an entry of 5e-10, against 3.3e-11 allowed before).
        assert_allclose(est.coupling_, ref.coupling_, rtol=1e-5, atol=1e-9)
        assert_allclose(est.transform(s * Xs), s * ref.transform(Xs), rtol=1e-6,
                        atol=1e-8 * s)
        assert_allclose(est.inverse_transform(s * Xt), s * ref.inverse_transform(Xt),
                        rtol=1e-6, atol=1e-8 * s)
