import numpy as np
import pytest

from sklr.datasets import make_least_squares
from sklr.linalg import leverage_scores


def test_designs():
    X, y, coef = make_least_squares(2000, 6, noise=0.0, random_state=0)
    np.testing.assert_allclose(X @ coef, y)
    X, _, _ = make_least_squares(2000, 6, design="ill_conditioned", cond=1e8, random_state=0)
    assert 1e7 < np.linalg.cond(X) < 1e9
    X, _, _ = make_least_squares(2000, 6, design="coherent", random_state=0)
    assert np.all(leverage_scores(X)[:6] > 0.99)
    X, y, coef = make_least_squares(50, 3, n_targets=2, dtype=np.float32, random_state=0)
    assert y.shape == (50, 2) and coef.shape == (3, 2) and X.dtype == np.float32


def test_errors():
    with pytest.raises(ValueError, match="n_features <= n_samples"):
        make_least_squares(5, 6)
    with pytest.raises(ValueError, match="'design' parameter of make_least_squares must be"):
        make_least_squares(50, 6, design="toeplitz")
    with pytest.raises(ValueError, match="'cond' parameter of make_least_squares must be"):
        make_least_squares(50, 6, design="ill_conditioned", cond=0.5)
