"""sinkhorn_newton reads the caller's cost without copying or changing it; the threshold works in blocks."""

import numpy as np
import pytest

from sklr.transport import _newton_step, sinkhorn_newton
from sklr.utils._array_api import namespace_and_device


def _clouds(n, seed=0):
    rng = np.random.RandomState(seed)
    X, Y = rng.uniform(size=(n, 2)), rng.uniform(size=(n, 2))
    M = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    return M / M.max()


@pytest.mark.parametrize("with_zero_weight", [False, True])
def test_cost_is_left_unchanged(with_zero_weight):
    M = _clouds(60)
    saved = M.copy()
    a = np.full(60, 1 / 60)
    if with_zero_weight:  # the support path takes rows out of a copy
        a[3], a[4] = 0.0, 2 / 60
    P = sinkhorn_newton(a, [], M, 1e-2, tol=1e-9)
    assert np.array_equal(M, saved)
    assert not np.shares_memory(P, M)
    np.testing.assert_allclose(P.sum(axis=1), a, atol=1e-8)


@pytest.mark.parametrize("k, max_dropped", [(50, None), (400, None), (10, 1e-3), (1500, 1e-6)])
def test_blocked_threshold_equals_one_block(monkeypatch, k, max_dropped):
    rng = np.random.RandomState(1)
    P = rng.exponential(size=(37, 53)) ** 3 / 2000.0
    xp, _ = namespace_and_device(P)  # as the solver passes it (not the bare numpy module)
    whole = _newton_step._threshold(P, k, max_dropped, xp)
    monkeypatch.setattr(_newton_step, "_HISTOGRAM_BLOCK_ENTRIES", 106)  # 2 rows a block
    assert len(_newton_step._row_blocks(P)) == 19
    blocked = _newton_step._threshold(P, k, max_dropped, xp)
    assert blocked == whole
    # and the threshold does what it says: at least k entries at or above it
    assert int((P >= blocked).sum()) >= k
