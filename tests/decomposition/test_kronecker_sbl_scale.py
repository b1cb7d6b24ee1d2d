"""KroSBL is scale-free: measurements and dictionaries in any units give the same codes, scaled."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from sklr.datasets import make_kronecker_sparse
from sklr.decomposition import SparseBayesKronecker, kronecker_sbl


def _problem(seed):
    A, y, x, s2 = make_kronecker_sparse(((8, 12), (9, 12)), 2, random_state=seed)
    return A, y, x, s2


def _relative_error(coef, x):
    return np.linalg.norm(coef - x) / np.linalg.norm(x)


@pytest.mark.parametrize("method", ["svd", "am", "classic"])
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exponent=st.integers(-6, 6), seed=st.integers(0, 50))
def test_codes_scale_with_the_measurements(method, exponent, seed):
    A, y, x, _ = _problem(seed)
    scale = 10.0**exponent
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a ConvergenceWarning, if any, is the same at both scales
        ref = kronecker_sbl(A, y, method=method)
        res = kronecker_sbl(A, scale * y, method=method)
    assert res.n_iter == ref.n_iter
    # The EM runs on y / max|y| either way: the same iterates up to rounding.
    assert_allclose(res.coef, scale * ref.coef, rtol=1e-6, atol=1e-8 * scale * np.abs(ref.coef).max())
    assert res.noise_variance == pytest.approx(scale**2 * ref.noise_variance, rel=1e-6)
    assert_allclose(res.gamma, scale**2 * ref.gamma, rtol=1e-6, atol=1e-8 * scale**2 * ref.gamma.max())
    assert_allclose(res.cost_path[-1], ref.cost_path[-1] + 2 * y.size * np.log(scale),
                    rtol=1e-8, atol=1e-6 * abs(ref.cost_path[-1]))


@pytest.mark.parametrize("method", ["svd", "am", "classic"])
@pytest.mark.parametrize("scale", [1e-6, 1e3, 1e6])
def test_recovery_in_other_units(method, scale):
    # Measurements and dictionaries in other units: the paper's start (gamma = 1)
    # pruned everything at y x 1000 and returned codes of ~0.
    A, y, x, _ = _problem(3)
    ref_err = _relative_error(kronecker_sbl(A, y, method=method).coef, x)
    assert ref_err < 0.1
    res = kronecker_sbl(A, scale * y, method=method)
    assert _relative_error(res.coef / scale, x) < 1.5 * ref_err
    # Dictionaries in other units: x -> x / a.
    a = 1.0 / scale
    res = kronecker_sbl([a * A[0], A[1]], y, method=method)
    assert _relative_error(a * res.coef, x) < 1.5 * ref_err


def test_estimator_is_scale_equivariant():
    A, y, x, _ = _problem(5)
    Y = np.stack([y, 0.5 * y])
    ref = SparseBayesKronecker(A).fit(Y)
    for scale in (1e-5, 1e5):
        sbk = SparseBayesKronecker(A).fit(scale * Y)
        assert_allclose(sbk.transform(scale * Y), scale * ref.transform(Y), rtol=1e-6,
                        atol=1e-8 * scale * np.abs(ref.coef_).max())
        assert sbk.noise_variance_ == pytest.approx(scale**2 * ref.noise_variance_, rel=1e-6)


def test_huge_and_tiny_measurements_are_finite():
    A, y, x, _ = _problem(1)
    for scale, outcome in ((1e200, "overflow to inf"), (1e-200, "underflow to 0")):
        # The variances scale as y^2 (1e400, 1e-400): beyond float64, and said so.
        with pytest.warns(RuntimeWarning, match=f"they {outcome} in float64; coef is unaffected"):
            res = kronecker_sbl(A, scale * y)
        assert np.all(np.isfinite(res.coef))
        assert _relative_error(res.coef / scale, x) < 0.1


@pytest.mark.parametrize("method", ["svd", "am", "classic"])
@pytest.mark.parametrize("noise_variance", [1e-17, 1e-30])
def test_tiny_given_noise_variance_is_floored_with_a_warning(method, noise_variance):
    A, _, x, _ = _problem(2)
    y = np.kron(A[0], A[1]) @ x  # noiseless
    with pytest.warns(UserWarning, match="below 1e-12 times the measurements' power"):
        res = kronecker_sbl(A, y, method=method, noise_variance=noise_variance)
    assert _relative_error(res.coef, x) < 1e-6


def test_zero_measurements_give_zero_codes():
    A, y, _, _ = _problem(0)
    # gamma decays geometrically towards 0 and never meets the relative tolerance.
    with pytest.warns(ConvergenceWarning):
        res = kronecker_sbl(A, np.zeros_like(y), noise_variance=1.0)
    assert np.all(res.coef == 0)
