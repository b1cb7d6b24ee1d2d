"""The blocked scan form of the Kalman filter and RTS smoother against the step-by-step recursions."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklr.tensor import kalman_filter, rts_smoother
from sklr.tensor._kalman_scan import (
    _solve_small,
    block_size,
    blocked_kalman_filter,
    blocked_rts_smoother,
    scan_kalman_filter,
    scan_rts_smoother,
)
from sklr.tensor._parallel_scan import associative_scan
from sklr.tensor._state_space import _matern_state_space, _matern_transition


def sequential_filter(A, Q, H, Lam, eta, P0, m0=None):
    """The recursions of kalman_filter's docstring, one step at a time (NumPy)."""
    r, d = H.shape
    m = np.zeros(d, dtype=A.dtype) if m0 is None else m0
    P = P0
    out = [], [], [], []
    for s in range(A.shape[0]):
        if s > 0:
            m = A[s] @ m
            P = A[s] @ P @ A[s].T + Q[s]
        out[2].append(m)
        out[3].append(P)
        PHt = P @ H.T
        rhs = np.concatenate([Lam[s] @ PHt.T, (eta[s] - Lam[s] @ (H @ m))[:, None]], axis=1)
        gain_t = np.linalg.solve(np.eye(r, dtype=A.dtype) + Lam[s] @ (H @ PHt), rhs)
        m = m + PHt @ gain_t[:, -1]
        P = P - PHt @ gain_t[:, :-1]
        P = 0.5 * (P + P.T)
        out[0].append(m)
        out[1].append(P)
    return tuple(np.stack(o) for o in out)


def sequential_smoother(A, means, covs, pred_means, pred_covs):
    """The recursions of rts_smoother's docstring, one step at a time (NumPy)."""
    S, d = means.shape
    m_s, P_s = means[-1], covs[-1]
    out_m, out_P, out_C = [m_s], [P_s], []
    for s in range(S - 2, -1, -1):
        Gt = np.linalg.solve(pred_covs[s + 1], A[s + 1] @ covs[s])
        out_C.append(Gt.T @ P_s)
        m_s = means[s] + Gt.T @ (m_s - pred_means[s + 1])
        P_s = covs[s] + Gt.T @ (P_s - pred_covs[s + 1]) @ Gt
        P_s = 0.5 * (P_s + P_s.T)
        out_m.append(m_s)
        out_P.append(P_s)
    cross = np.stack(out_C[::-1]) if out_C else np.zeros((0, d, d), dtype=A.dtype)
    return np.stack(out_m[::-1]), np.stack(out_P[::-1]), cross


def irregular_inputs(S, rng):
    """Sorted inputs with clusters of tiny gaps, ordinary gaps and one gap of many lengthscales."""
    t = np.sort(rng.uniform(0.0, 3.0, S))
    t[S // 3:] += 20.0
    t[S // 2:] = np.sort(t[S // 2] + 1e-5 * rng.uniform(0.0, 1.0, S - S // 2)) + 1e-3
    return np.sort(t)


def matern_problem(kernel, r, S, seed):
    """A Matérn model with ``r`` coupled components (full message precisions, some zero)."""
    rng = np.random.RandomState(seed)
    t = irregular_inputs(S, rng)
    A, Q = _matern_transition(np.diff(t, prepend=t[:1]), kernel, 0.4, 1.3, n_components=r)
    _, P0, H = _matern_state_space(kernel, 0.4, 1.3, xp=np, n_components=r)
    B = rng.standard_normal((S, r, r))
    Lam = 3.0 * B @ np.swapaxes(B, 1, 2)
    Lam[::4] = 0.0  # inputs that carry no information
    eta = rng.standard_normal((S, r))
    m0 = rng.standard_normal(P0.shape[0]) if seed % 2 else None
    return A, Q, H, Lam, eta, P0, m0


def generic_problem(d, r, S, seed):
    """Random stable transitions and SPD noises; a dense emission of ``r`` rows."""
    rng = np.random.RandomState(seed)
    A = 0.9 * np.linalg.qr(rng.standard_normal((S, d, d)))[0] + 0.05 * rng.standard_normal(
        (S, d, d))
    B = rng.standard_normal((S, d, d))
    Q = 0.1 * B @ np.swapaxes(B, 1, 2) + 1e-3 * np.eye(d)
    H = rng.standard_normal((r, d))
    C = rng.standard_normal((S, r, r))
    Lam = C @ np.swapaxes(C, 1, 2)
    eta = rng.standard_normal((S, r))
    return A, Q, H, Lam, eta, np.eye(d), rng.standard_normal(d)


def assert_same(got, want, rtol):
    """Every output within ``rtol`` of the largest entry of the reference."""
    for g, w in zip(got, want):
        assert g.shape == w.shape
        if w.size:
            assert_allclose(np.asarray(g, dtype=np.float64), w, rtol=0,
                            atol=rtol * np.abs(w).max())


@pytest.mark.parametrize("kernel", ["matern12", "matern32"])
@pytest.mark.parametrize("r", [1, 2, 3])
@pytest.mark.parametrize("S", [1, 2, 5, 40])
def test_scan_equals_sequential_float64(kernel, r, S):
    """Means and covariances (filtered, predicted, smoothed, cross) agree to rounding."""
    args = matern_problem(kernel, r, S, seed=S + r)
    filtered = scan_kalman_filter(*args)
    want = sequential_filter(*args)
    assert_same(filtered, want, 1e-12)
    assert_same(scan_rts_smoother(args[0], *filtered),
                sequential_smoother(args[0], *want), 1e-12)


@pytest.mark.parametrize("d, r", [(3, 1), (3, 2), (5, 3)])
def test_scan_equals_sequential_generic_models(d, r):
    """State sizes 3 and 5 (a Matérn-5/2 state has 3), dense emissions, a prior mean."""
    args = generic_problem(d, r, 37, seed=d * r)
    filtered = scan_kalman_filter(*args)
    want = sequential_filter(*args)
    assert_same(filtered, want, 1e-12)
    assert_same(scan_rts_smoother(args[0], *filtered),
                sequential_smoother(args[0], *want), 1e-12)


@pytest.mark.parametrize("kernel", ["matern12", "matern32"])
def test_scan_float32_as_accurate_as_sequential_float32(kernel):
    """In float32 the scan is within a few eps of the float64 answer, as the recursion is."""
    args = matern_problem(kernel, 2, 64, seed=3)
    A = args[0]
    exact = sequential_smoother(A, *sequential_filter(*args))
    single = [None if a is None else a.astype(np.float32) for a in args]
    A32 = single[0]
    scan = scan_rts_smoother(A32, *scan_kalman_filter(*single))
    recursion = sequential_smoother(A32, *sequential_filter(*single))
    assert all(x.dtype == np.float32 for x in scan)

    def error(out):
        return max(np.abs(g.astype(np.float64) - w).max() / np.abs(w).max()
                   for g, w in zip(out, exact))

    eps = np.finfo(np.float32).eps
    assert error(scan) <= max(4 * error(recursion), 50 * eps), (error(scan), error(recursion))


def test_public_functions_on_every_namespace(xp):
    """kalman_filter and rts_smoother (the scan) on each namespace equal the NumPy recursion."""
    args = matern_problem("matern32", 2, 23, seed=5)
    want_f = sequential_filter(*args)
    want_s = sequential_smoother(args[0], *want_f)
    on_xp = [xp.asarray(a) for a in args[:-1]] + [xp.asarray(args[-1])]
    filtered = kalman_filter(*on_xp)
    smoothed = rts_smoother(on_xp[0], *filtered)
    atol = 1000 * np.finfo(np.float64).eps
    for got, want in zip((*filtered, *smoothed), (*want_f, *want_s)):
        assert_allclose(np.asarray(got), want, rtol=0, atol=atol * max(np.abs(want).max(), 1))


def test_associative_scan_prefixes_and_suffixes_of_matrix_products():
    """A non-commutative operator (matrix products) for every length up to 17."""
    rng = np.random.RandomState(0)

    def combine(earlier, later):
        return (later[0] @ earlier[0],)

    for T in range(1, 18):
        M = rng.standard_normal((T, 2, 2))
        (prefix,) = associative_scan(combine, (M,))
        (suffix,) = associative_scan(combine, (M,), reverse=True)
        for t in range(T):
            want_p, want_s = np.eye(2), np.eye(2)
            for u in range(t + 1):
                want_p = M[u] @ want_p
            for u in range(t, T):
                want_s = M[u] @ want_s
            assert_allclose(prefix[t], want_p, rtol=1e-12, atol=1e-12)
            assert_allclose(suffix[t], want_s, rtol=1e-12, atol=1e-12)


def stored(A, Q):
    """The ``transitions`` argument of the blocked functions, from stored arrays."""
    return lambda steps: (A[steps], Q[steps])


@pytest.mark.parametrize("S, block", [
    (1, 4),     # one step, a block longer than the sequence
    (7, 16),    # the whole sequence shorter than a block
    (12, 4),    # whole blocks only
    (13, 4),    # one step in the last block
    (15, 4),    # the last block one step short
    (29, 5),    # odd length, odd block
    (30, 1),    # one step per block: the scan does all the work
    (30, 30),   # one block: the recursion does all the work
    (101, None),
])
def test_blocked_filter_and_smoother_equal_sequential(S, block):
    """Every block layout: boundaries, a short last block, N below one block."""
    args = matern_problem("matern32", 2, S, seed=S)
    A, Q, H, Lam, eta, P0, m0 = args
    want_f = sequential_filter(*args)
    filtered = blocked_kalman_filter(stored(A, Q), H, Lam, eta, P0, m0, block=block)
    assert_same(filtered, want_f, 1e-12)
    assert_same(scan_kalman_filter(*args, block=block), want_f, 1e-12)
    want_s = sequential_smoother(A, *want_f)
    assert_same(scan_rts_smoother(A, *filtered, block=block), want_s, 1e-12)


@pytest.mark.parametrize("S, block", [(13, 4), (64, 8), (1, 2)])
def test_blocked_float32(S, block):
    """float32 in, float32 out, as accurate as the float32 recursion (relative to float64)."""
    args = matern_problem("matern32", 2, S, seed=3)
    A = args[0]
    exact = sequential_smoother(A, *sequential_filter(*args))
    single = [None if a is None else a.astype(np.float32) for a in args]
    blocked = scan_rts_smoother(single[0], *scan_kalman_filter(*single, block=block),
                                block=block)
    recursion = sequential_smoother(single[0], *sequential_filter(*single))
    assert all(x.dtype == np.float32 for x in blocked)

    def error(out):
        return max(np.abs(g.astype(np.float64) - w).max() / np.abs(w).max()
                   for g, w in zip(out, exact) if w.size)

    eps = np.finfo(np.float32).eps
    assert error(blocked) <= max(4 * error(recursion), 50 * eps), (error(blocked),
                                                                    error(recursion))


def test_blocked_filter_writes_into_out_and_smoother_overwrites_its_inputs():
    """``out`` is filled and returned; the in-place smoother's outputs are those arrays."""
    args = matern_problem("matern12", 3, 23, seed=2)
    A, Q, H, Lam, eta, P0, m0 = args
    want_f = sequential_filter(*args)
    out = tuple(np.full_like(w, np.nan) for w in want_f)
    filtered = blocked_kalman_filter(stored(A, Q), H, Lam, eta, P0, m0, block=5, out=out)
    assert all(f is o for f, o in zip(filtered, out))
    assert_same(filtered, want_f, 1e-12)
    pred_means = filtered[2].copy()
    means, covs, cross = blocked_rts_smoother(stored(A, Q), *filtered, block=5)
    assert means is out[0] and covs is out[1] and np.shares_memory(cross, out[3])
    assert_same((means, covs, cross), sequential_smoother(A, *want_f), 1e-12)
    assert_allclose(out[2], pred_means, rtol=0, atol=0)


def test_block_size_grows_like_the_square_root():
    assert [block_size(S) for S in (0, 1, 2, 4, 5, 100, 101, 10**6)] == [
        1, 1, 2, 2, 3, 10, 11, 1000]


@pytest.mark.parametrize("k, m", [(1, 2), (2, 3), (3, 4), (5, 1)])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_solve_small_equals_lapack(k, m, dtype):
    """Batched elimination with partial pivoting, including zero leading pivots."""
    rng = np.random.RandomState(k * m)
    M = rng.standard_normal((50, k, k))
    if k > 1:
        M[:5, 0, 0] = 0.0  # needs a row swap
    M[5:10, -1] *= 1e6  # a badly scaled row
    R = rng.standard_normal((50, k, m))
    want = np.linalg.solve(M, R)
    got = _solve_small(M.astype(dtype), R.astype(dtype), np)
    assert got.dtype == dtype
    # Within a few eps times each system's condition number.
    bound = 20 * np.finfo(dtype).eps * np.linalg.cond(M) * np.abs(want).max(axis=(1, 2))
    assert np.all(np.abs(got - want).max(axis=(1, 2)) <= bound)


def kron_layout_run(kernel, r, S, block, seed):
    """funbat's path: kron(A1, I_r) transitions, H = [I_r, 0], batch-last arrays in the layout."""
    from sklr.tensor._kalman_scan import (
        _KronTransitions,
        _Layout,
        _Observation,
        layout_kalman_filter,
        layout_rts_smoother,
    )
    from sklr.tensor._state_space import _matern_transition_one

    rng = np.random.RandomState(seed)
    t = irregular_inputs(S, rng)
    deltas = np.diff(t, prepend=t[:1])
    A, Q = _matern_transition(deltas, kernel, 0.4, 1.3, n_components=r)
    _, P0, H = _matern_state_space(kernel, 0.4, 1.3, xp=np, n_components=r)
    B = rng.standard_normal((S, r, r))
    Lam = 3.0 * B @ np.swapaxes(B, 1, 2)
    Lam[::4] = 0.0
    eta = rng.standard_normal((S, r))
    L = _Layout(S, block)
    trans = _KronTransitions(*(L.to_layout(M, np) for M in
                               _matern_transition_one(deltas, kernel, 0.4, 1.3)), r)
    d = P0.shape[0]
    work = tuple(np.zeros((*shape, L.size)) for shape in ((d,), (d, d), (d,), (d, d)))
    obs = _Observation(H, np)
    assert obs.first
    layout_kalman_filter(L, trans, obs, L.to_layout(Lam, np), L.to_layout(eta, np), P0, None,
                         work)
    filtered = tuple(L.to_steps(w, np) for w in work)
    means, covs, cross = layout_rts_smoother(L, trans, *work)
    smoothed = (L.to_steps(means, np), L.to_steps(covs, np), L.to_steps(cross, np, start=1))
    return (A, Q, H, Lam, eta, P0), filtered, smoothed


@pytest.mark.parametrize("kernel, r", [("matern32", 2), ("matern32", 1), ("matern12", 3)])
@pytest.mark.parametrize("S, block", [(1, 4), (13, 4), (15, 4), (29, 5), (30, 1), (40, 40),
                                      (101, 3)])
def test_kron_layout_path_equals_sequential(kernel, r, S, block):
    """The structured path funbat runs (no stored kron(A, I_r), H products as slices)."""
    args, filtered, smoothed = kron_layout_run(kernel, r, S, block, seed=S + r)
    want_f = sequential_filter(*args)
    assert_same(filtered, want_f, 1e-12)
    assert_same(smoothed, sequential_smoother(args[0], *want_f), 1e-12)


def test_layout_round_trip_and_to_steps_into_spare_memory():
    from sklr.tensor._kalman_scan import _Layout

    rng = np.random.RandomState(0)
    for S, B in [(1, 1), (7, 3), (12, 4), (13, 4), (100, 7)]:
        L = _Layout(S, B)
        x = rng.standard_normal((S, 2, 3))
        y = L.to_layout(x, np)
        assert y.shape == (2, 3, L.size)
        assert_allclose(L.to_steps(y, np), x, rtol=0, atol=0)
        spare = np.full((2, 3, L.size), np.nan)
        out = L.to_steps(y, np, start=1, out=spare)
        assert S == 1 or np.shares_memory(out, spare)
        assert_allclose(out, x[1:], rtol=0, atol=0)


def test_wide_block_size_aims_at_2048_blocks():
    from sklr.tensor._kalman_scan import wide_block_size

    assert [wide_block_size(S) for S in (0, 1, 2, 100, 10**4, 10**5, 10**6, 10**7)] == [
        1, 1, 1, 3, 25, 79, 489, 4883]
