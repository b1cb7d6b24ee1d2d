"""MatrixCompleter is scale-free: X * s (+ shift where centred) gives the completion * s (+ shift)."""

import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from sklr.completion import MatrixCompleter


def _noisy_low_rank(seed):
    rng = np.random.RandomState(seed)
    M = rng.standard_normal((40, 3)) @ rng.standard_normal((3, 30)) + 0.1 * rng.standard_normal((40, 30))
    X = np.where(rng.uniform(size=M.shape) < 0.5, M, np.nan)
    return X


def _fit(X, **params):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a warning, if any, is the same at both scales
        completer = MatrixCompleter(random_state=0, **params).fit(X)
    return completer, completer.transform(X)


@pytest.mark.parametrize(
    "params",
    [dict(n_components=3), dict(n_components=6), dict(n_components=3, center="biases"),
     dict(n_components=3, center="global", solver="cg"), dict(n_components=3, alpha=2.0)],
    ids=["rank3", "rank6", "biases", "global-cg", "ridge"],
)
@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(exponent=st.integers(-6, 6), shift=st.floats(-100.0, 100.0), seed=st.integers(0, 20))
def test_completion_scales_with_the_data(params, exponent, shift, seed):
    X = _noisy_low_rank(seed)
    scale = 10.0**exponent
    shift = shift * scale if params.get("center") else 0.0
    ref, filled = _fit(X, **params)
    # The ridge alpha (||U||^2 + ||V||^2) is in the data's units: it scales with them.
    scaled_params = dict(params, alpha=params["alpha"] * scale) if "alpha" in params else params
    res, scaled = _fit(X * scale + shift, **scaled_params)
    assert res.n_iter_ == ref.n_iter_ and res.n_components_ == ref.n_components_
    assert_allclose(scaled, filled * scale + shift, rtol=1e-6,
                    atol=1e-7 * scale * np.abs(filled).max() + 1e-9 * abs(shift))
    assert_allclose(res.rmse_, scale * ref.rmse_, rtol=1e-6)


def test_auto_rank_is_the_same_in_any_units():
    X = _noisy_low_rank(0)
    ref, filled = _fit(X)
    for scale in (1e-6, 1e6):
        res, scaled = _fit(X * scale)
        assert res.n_components_ == ref.n_components_ == 3
        assert_allclose(scaled, filled * scale, rtol=1e-6, atol=1e-7 * scale * np.abs(filled).max())
