"""SDPClusterer and la_sdp are free of units and origin: X * s + shift gives the same clusters."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from sklr.cluster import SDPClusterer, la_sdp, misclustering_error
from sklr.datasets import make_heterogeneous_mixture


def _data(seed, separation=2.5):
    X, _, _, _ = make_heterogeneous_mixture(60, 2, 3, separation=separation, random_state=seed)
    return X


def _fit_both(X, moved):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a ConvergenceWarning, if any, is the same for both
        return SDPClusterer(3, random_state=0).fit(X), SDPClusterer(3, random_state=0).fit(moved)


@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exponent=st.integers(-20, 20), seed=st.integers(0, 30))
def test_identical_in_power_of_two_units(exponent, seed):
    # Scaling by a power of two is exact in floating point, and so is the
    # standardisation that follows: the whole search must be the same, on any data.
    X = _data(seed)
    scale = 2.0**exponent
    ref, res = _fit_both(X, X * scale)
    assert np.array_equal(ref.labels_, res.labels_)
    assert res.n_iter_ == ref.n_iter_
    # The fitted Gaussians follow the data; the costs shift by n p log(scale).
    assert_allclose(res.means_, ref.means_ * scale, rtol=1e-12)
    assert_allclose(res.covariances_, ref.covariances_ * scale**2, rtol=1e-12)
    n, p = X.shape
    assert res.cost_ == pytest.approx(ref.cost_ + n * p * np.log(scale), rel=1e-12, abs=1e-9)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(log10_scale=st.floats(-6, 6), shift=st.floats(-1e3, 1e3), seed=st.integers(0, 30))
def test_same_partition_in_decimal_units_and_shifted(log10_scale, shift, seed):
    # Decimal scales and shifts change the standardised data by rounding; the
    # standardised data are rounded to a grid far coarser than that (_snap), so
    # the search is the same. Before, seed 15 at separation 6 in units 1e4 with
    # shift 3 ended in another partition (1.7 % of the points moved).
    X = _data(seed)
    scale = 10.0**log10_scale
    ref, res = _fit_both(X, X * scale + shift * scale)
    assert np.array_equal(ref.labels_, res.labels_)
    n, p = X.shape
    assert res.cost_ == pytest.approx(ref.cost_ + n * p * np.log(scale), rel=1e-9, abs=1e-6)


def test_known_unit_sensitive_case():
    X = _data(15, separation=6.0)
    ref, res = _fit_both(X, X * 1e4 + 3.0)
    assert np.array_equal(ref.labels_, res.labels_)


@pytest.mark.parametrize("scale", [1e-6, 1e6])
def test_la_sdp_objective_in_other_units(scale):
    X = _data(3)
    labels, n_iter, objective = la_sdp(X, 3, random_state=0)
    moved, moved_iter, moved_objective = la_sdp(X * scale - 7.0 * scale, 3, random_state=0)
    assert misclustering_error(labels, moved) == 0.0 and moved_iter == n_iter
    n, p = X.shape
    assert moved_objective == pytest.approx(objective + n * p * np.log(scale), rel=1e-6)
