"""SDPClusterer and la_sdp are free of units and origin: X * s + shift gives the same clusters."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from sklr.cluster import SDPClusterer, la_sdp, misclustering_error
from sklr.datasets import make_heterogeneous_mixture


def _data(seed):
    X, _, _, _ = make_heterogeneous_mixture(60, 2, 3, separation=2.5, random_state=seed)
    return X


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exponent=st.integers(-6, 6), shift=st.floats(-100.0, 100.0), seed=st.integers(0, 30))
def test_same_labels_and_rounds_in_any_units(exponent, shift, seed):
    X = _data(seed)
    scale = 10.0**exponent
    moved = X * scale + shift * scale * np.array([1.0, -0.5])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a ConvergenceWarning, if any, is the same for both
        ref = SDPClusterer(3, random_state=0).fit(X)
        res = SDPClusterer(3, random_state=0).fit(moved)
    assert misclustering_error(ref.labels_, res.labels_) == 0.0
    assert res.n_iter_ == ref.n_iter_
    # The fitted Gaussians follow the data; the costs shift by n p log(scale).
    order = [int(np.argmax(np.bincount(ref.labels_[res.labels_ == k], minlength=3)))
             for k in range(3)]
    assert_allclose(res.means_, ref.means_[order] * scale + shift * scale * np.array([1.0, -0.5]),
                    rtol=1e-6, atol=1e-6 * scale * (1 + abs(shift)))
    assert_allclose(res.covariances_, ref.covariances_[order] * scale**2, rtol=1e-6)
    n, p = X.shape
    assert res.cost_ == pytest.approx(ref.cost_ + n * p * np.log(scale), rel=1e-7, abs=1e-6)


@pytest.mark.parametrize("scale", [1e-6, 1e6])
def test_la_sdp_objective_in_other_units(scale):
    X = _data(3)
    labels, n_iter, objective = la_sdp(X, 3, random_state=0)
    moved, moved_iter, moved_objective = la_sdp(X * scale - 7.0 * scale, 3, random_state=0)
    assert misclustering_error(labels, moved) == 0.0 and moved_iter == n_iter
    n, p = X.shape
    assert moved_objective == pytest.approx(objective + n * p * np.log(scale), rel=1e-6)
