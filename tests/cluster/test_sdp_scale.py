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


# Not asserted: the same partition for decimal scales and for shifts. Those change the
# standardised data by rounding, and the search can then end elsewhere: seed 12, shift 3,
# scale 1e4 gives a partition of cost 24.45 instead of 23.72 (issue 17 stays open on it;
# doc/modules/reliability.rst states the limit).


@pytest.mark.parametrize("scale", [1e-6, 1e6])
def test_la_sdp_objective_in_other_units(scale):
    X = _data(3)
    labels, n_iter, objective = la_sdp(X, 3, random_state=0)
    moved, moved_iter, moved_objective = la_sdp(X * scale - 7.0 * scale, 3, random_state=0)
    assert misclustering_error(labels, moved) == 0.0 and moved_iter == n_iter
    n, p = X.shape
    assert moved_objective == pytest.approx(objective + n * p * np.log(scale), rel=1e-6)
