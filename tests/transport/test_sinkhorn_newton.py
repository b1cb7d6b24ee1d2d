"""sinkhorn_newton: marginals, agreement with POT, the paper's case, invariants, bad input."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from sklr.transport import sinkhorn_newton, sinkhorn_newton2

ot = pytest.importorskip("ot")


def _clouds(n, m, d=2, seed=0):
    rng = np.random.RandomState(seed)
    X, Y = rng.uniform(size=(n, d)), rng.uniform(size=(m, d))
    M = ot.dist(X, Y)
    return M / M.max()


def _marginal_error(P, a, b):
    return np.abs(P.sum(axis=1) - a).sum() + np.abs(P.sum(axis=0) - b).sum()


def test_paper_random_assignment_case():
    """C_ij ~ U[0, 1], n = 500, uniform marginals, reg = 1/1200 (eta = 1200): the paper's Table 1."""
    C = np.random.RandomState(0).uniform(size=(500, 500))
    P, log = sinkhorn_newton([], [], C, 1 / 1200, n_sinkhorn=20, tol=1e-12, log=True)
    assert log["converged"] and log["final_err"] <= 1e-12
    assert _marginal_error(P, 1 / 500, 1 / 500) <= 1e-12
    total = log["n_sinkhorn"] + log["n_sinkhorn_extra"] + log["n_newton"]
    assert total <= 40, total  # the paper: 20 + 9 = 29; measured here 20 + 7
    assert log["n_fallback"] == 0


@pytest.mark.parametrize("reg", [5e-2, 1e-2])
def test_plan_matches_pot_log_sinkhorn(reg):
    M = _clouds(60, 45)
    rng = np.random.RandomState(1)
    a, b = rng.uniform(0.5, 1.5, 60), rng.uniform(0.5, 1.5, 45)
    a, b = a / a.sum(), b / b.sum()
    P = sinkhorn_newton(a, b, M, reg, tol=1e-12)
    reference = ot.sinkhorn(a, b, M, reg, method="sinkhorn_log", numItermax=200_000,
                            stopThr=1e-13)
    assert_allclose(P, reference, atol=1e-6 * P.max(), rtol=0)
    assert _marginal_error(P, a, b) <= 1e-12
    assert sinkhorn_newton2(a, b, M, reg, tol=1e-12) == pytest.approx(float(np.sum(P * M)))


def test_cost_tends_to_the_exact_transport_cost():
    M = _clouds(40, 40, seed=3)
    exact = ot.emd2([], [], M)
    gaps = [sinkhorn_newton2([], [], M, reg) - exact for reg in (1e-2, 1e-3, 1e-4)]
    assert all(gap >= -1e-9 for gap in gaps)
    assert gaps[0] > gaps[1] > gaps[2]
    assert gaps[2] < 1e-3 * exact


def test_newton_stage_increases_the_dual_and_reaches_tol():
    M = _clouds(300, 200)
    for reg in (5e-3, 1e-3):  # at 1e-2 Sinkhorn alone finishes (226 iterations)
        # A cold start with 40 Sinkhorn iterations (with "auto", the warm-up at 5e-2 and
        # Sinkhorn's finish solve reg = 5e-3 without a Newton step).
        P, log = sinkhorn_newton([], [], M, reg, n_sinkhorn=40, log=True)
        assert log["converged"] and log["n_newton"] >= 1
        dual = log["dual"]
        assert all(b >= a - 1e-12 * abs(a) for a, b in zip(dual, dual[1:]))
        assert _marginal_error(P, 1 / 300, 1 / 200) <= 1e-9
        # The dual potentials reproduce the plan.
        assert_allclose(np.exp((log["f"][:, None] + log["g"][None, :] - M) / reg), P,
                        rtol=1e-10, atol=1e-300)


def test_sparsified_newton_beats_sinkhorn_in_iterations():
    """The point of SNS: Sinkhorn alone at the same budget is far from tol."""
    M = _clouds(300, 300, seed=2)
    P, log = sinkhorn_newton([], [], M, 1e-3, n_sinkhorn=20, log=True)  # the paper's N1
    budget = log["n_sinkhorn"] + log["n_newton"]
    assert log["converged"] and budget < 60
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        sinkhorn = ot.sinkhorn([], [], M, 1e-3, method="sinkhorn_log", numItermax=budget)
    assert _marginal_error(sinkhorn, 1 / 300, 1 / 300) > 1e3 * _marginal_error(P, 1 / 300,
                                                                              1 / 300)


def test_tiny_reg_stays_finite():
    M = _clouds(100, 80, seed=4)
    for reg in (1e-4, 1e-5):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            P, log = sinkhorn_newton([], [], M, reg, max_iter=30, log=True)
        assert np.all(np.isfinite(P)) and np.all(P >= 0)
        # Never worse than where the Sinkhorn stage left it (the best iterate is kept).
        n_checked = len(log["err"]) - log["n_newton"]  # errors logged in the Sinkhorn stage
        assert log["final_err"] <= log["err"][n_checked - 1]
        assert log["final_err"] == pytest.approx(_marginal_error(P, 1 / 100, 1 / 80))
        assert np.all(np.isfinite(log["g"]))


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log:RuntimeWarning")
def test_rectangular_with_zero_weights():
    M = _clouds(30, 20, seed=5)
    a = np.full(30, 1 / 28)
    a[[3, 17]] = 0.0
    b = np.full(20, 1 / 19)
    b[0] = 0.0
    P = sinkhorn_newton(a, b, M, 1e-2)
    assert P.shape == (30, 20)
    assert_allclose(P[[3, 17]], 0.0)
    assert_allclose(P[:, 0], 0.0)
    assert _marginal_error(P, a, b) <= 1e-9
    reference = ot.sinkhorn(a, b, M, 1e-2, method="sinkhorn_log", numItermax=100_000,
                            stopThr=1e-12)
    assert_allclose(P, reference, atol=1e-6 * P.max())


def test_array_api_matches_numpy(xp):
    M = _clouds(50, 40, seed=6)
    reference, ref_log = sinkhorn_newton([], [], M, 1e-3, log=True)
    P, log = sinkhorn_newton([], [], xp.asarray(M), 1e-3, log=True)
    assert log["n_newton"] == ref_log["n_newton"]
    # Both stop at an L1 marginal error <= tol = 1e-9: entries agree to about that (on the
    # oldest supported NumPy, 2e-10 apart at an entry of 1.2e-3).
    assert_allclose(np.asarray(P), reference, rtol=0, atol=1e-9)


def test_float32_reaches_its_own_tolerance():
    M = _clouds(80, 60, seed=7).astype(np.float32)
    P, log = sinkhorn_newton([], [], M, 1e-2, log=True)
    assert P.dtype == np.float32
    assert log["converged"] and log["final_err"] <= 100 * np.finfo(np.float32).eps


def test_log_and_warning():
    M = _clouds(50, 50, seed=8)
    with pytest.warns(ConvergenceWarning, match="stopped after 1 Newton iterations"):
        P, log = sinkhorn_newton([], [], M, 1e-3, n_sinkhorn=2, max_iter=1, log=True)
    assert {"f", "g", "err", "dual", "n_sinkhorn", "n_newton", "n_cg", "nnz", "n_fallback",
            "n_direct", "converged", "final_err"} <= set(log)
    assert log["n_sinkhorn"] == 2 and log["n_newton"] == 1 and not log["converged"]
    # One error per Sinkhorn iteration, then one per Newton step.
    assert len(log["err"]) == 3 and len(log["n_cg"]) == 1


@pytest.mark.parametrize(
    "a, b, M, reg, kwargs, message",
    [
        ([-0.5, 1.5], [], np.ones((2, 2)), 0.1, {}, "a must be finite and non-negative"),
        ([0.3, 0.3], [], np.ones((2, 2)), 0.1, {}, "a must sum to 1"),
        ([], [0.5, 0.5, 0.0], np.ones((2, 2)), 0.1, {}, r"b must have shape \(2,\)"),
        ([], [], np.array([[0.0, np.nan], [1.0, 0.0]]), 0.1, {}, "M must be finite"),
        ([], [], np.ones((2, 2)), 0.0, {}, "'reg' parameter"),
        ([], [], np.ones((2, 2)), -1.0, {}, "'reg' parameter"),
        ([], [], np.ones((2, 2)), np.inf, {}, "'reg' parameter"),
        ([], [], np.ones((2, 2)), np.nan, {}, "'reg' parameter"),
        ([], [], np.ones(3), 0.1, {}, "M must be a non-empty 2-D"),
        ([], [], np.ones((0, 3)), 0.1, {}, "M must be a non-empty 2-D"),
        ([], [], np.ones((2, 2)), 0.1, {"density": 1.5}, "'density' parameter"),
        ([], [], np.ones((2, 2)), 0.1, {"max_iter": -1}, "'max_iter' parameter"),
        ([], [], np.ones((2, 2)), 0.1, {"linear_solver": "lu"}, "'linear_solver' parameter"),
    ],
)
def test_bad_input(a, b, M, reg, kwargs, message):
    with pytest.raises(ValueError, match=message):
        sinkhorn_newton(a, b, M, reg, **kwargs)


def _log_domain_sinkhorn(M, reg, n_iter):
    """Reference: log-domain Sinkhorn from f = the row minima of M (g first), as the stage."""
    from scipy.special import logsumexp

    n, m = M.shape
    f = M.min(axis=1)
    g = reg * (np.log(1 / m) - logsumexp((f[:, None] - M) / reg, axis=0))
    for _ in range(n_iter):
        f = reg * (np.log(1 / n) - logsumexp((g[None, :] - M) / reg, axis=1))
        g = reg * (np.log(1 / m) - logsumexp((f[:, None] - M) / reg, axis=0))
    return np.exp((f[:, None] + g[None, :] - M) / reg)


@pytest.mark.parametrize("reg", [1e-2, 1e-4])
def test_sinkhorn_stage_equals_log_domain_sinkhorn(reg, monkeypatch):
    """The stabilized scaling sweeps are log-domain Sinkhorn, absorptions included.

    At reg = 1e-4 the scalings leave [e^-50, e^50] within a few sweeps, so the
    absorption path is taken (epsilon scaling, which would start at 1e-3, is
    switched off to test the cold-start stage).
    """
    from sklr.transport import _sinkhorn_newton

    monkeypatch.setattr(_sinkhorn_newton, "_SCALING_FROM", 0.0)
    M = _clouds(70, 50, seed=11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        P, log = sinkhorn_newton([], [], M, reg, n_sinkhorn=40, max_iter=0, tol=1e-300,
                                 log=True)
    reference = _log_domain_sinkhorn(M, reg, 40)
    assert log["n_sinkhorn"] == 40 and len(log["err"]) == 40
    assert_allclose(P, reference, rtol=1e-7, atol=1e-14)
    assert log["err"][-1] == pytest.approx(_marginal_error(reference, 1 / 70, 1 / 50), rel=1e-6)
    # The errors logged on the way are the true ones (Sinkhorn's error need not
    # decrease monotonically, but it must match the reference's after 10 sweeps).
    assert log["err"][9] == pytest.approx(
        _marginal_error(_log_domain_sinkhorn(M, reg, 10), 1 / 70, 1 / 50), rel=1e-6)


@pytest.mark.parametrize("reg", [5e-3, 1e-3])
def test_cg_and_cholesky_newton_solvers_agree(reg):
    M = _clouds(120, 90, seed=12)
    # n_sinkhorn=20: a cold start that leaves work for the Newton steps at both reg.
    P_cg, log_cg = sinkhorn_newton([], [], M, reg, linear_solver="cg", cg_max_iter=2000,
                                   n_sinkhorn=20, log=True)
    P_ch, log_ch = sinkhorn_newton([], [], M, reg, linear_solver="cholesky", n_sinkhorn=20,
                                   log=True)
    assert log_cg["converged"] and log_ch["converged"]
    assert log_ch["n_direct"] == log_ch["n_newton"] and sum(log_ch["n_cg"]) == 0
    assert sum(log_cg["n_cg"]) > 0 and log_ch["n_newton"] > 0
    assert_allclose(P_cg, P_ch, rtol=1e-5, atol=1e-12)


def test_sinkhorn_finishes_when_its_rate_predicts_tol_soon():
    """At large reg Sinkhorn converges fast and the Newton stage is skipped; at small reg not."""
    M = _clouds(200, 150, seed=14)
    P, log = sinkhorn_newton([], [], M, 5e-2, log=True)
    assert log["converged"] and log["n_newton"] == 0 and log["n_sinkhorn"] > 20
    assert _marginal_error(P, 1 / 200, 1 / 150) <= 1e-9
    P, log = sinkhorn_newton([], [], M, 1e-3, log=True)
    assert log["converged"] and log["n_newton"] > 0


def _random_newton_system(rng, n, m, extra):
    """A sparsified Newton system's parts: S (30 % of entries kept), r and c its row and column
    sums plus uniform(*extra) (the mass the sparsification dropped), and S's entries."""
    S = rng.uniform(size=(n, m)) * (rng.uniform(size=(n, m)) < 0.3)
    r = S.sum(axis=1) + rng.uniform(*extra, size=n)
    c = S.sum(axis=0) + rng.uniform(*extra, size=m)
    rows, cols = np.nonzero(S)
    return S, r, c, (S[rows, cols], rows, cols)


def test_schur_direction_solves_the_sparsified_system():
    """The direct Newton step solves [[diag r, S], [S^T, diag c]] d = reg grad, the potential of
    the smaller side's heaviest point pinned."""
    from sklr.transport._newton_step import _schur_direction

    rng = np.random.RandomState(13)
    for n, m in ((30, 20), (20, 30)):
        S, r, c, entries = _random_newton_system(rng, n, m, (0.1, 1.0))
        bf, bg = rng.normal(size=n), rng.normal(size=m)
        df, dg = _schur_direction(r, c, entries, bf, bg, 0.5, np)
        H = np.block([[np.diag(r), S], [S.T, np.diag(c)]])
        d = np.concatenate([df, dg])
        pinned = (n + int(np.argmax(c))) if n >= m else int(np.argmax(r))
        assert d[pinned] == 0.0
        free = np.delete(np.arange(n + m), pinned)
        assert_allclose((H @ d)[free], 0.5 * np.concatenate([bf, bg])[free], rtol=1e-9,
                        atol=1e-9)


def test_cg_on_the_schur_complement_matches_the_direct_step():
    """solve_cg runs CG on the Schur complement of the larger side: the direction of the direct
    solve (same pinned potential) to its tolerance, whichever side is larger, and the whole
    system's residual (both blocks) within cg_tol of the right-hand side."""
    from sklr.transport._newton_step import _NewtonSystem, _schur_direction
    from sklr.utils._array_api import sparse_matrix

    rng = np.random.RandomState(21)
    for n, m in ((40, 25), (25, 40)):
        S, r, c, (data, rows, cols) = _random_newton_system(rng, n, m, (0.01, 0.1))
        indptr = np.searchsorted(rows, np.arange(n + 1))
        system = _NewtonSystem(r, c, sparse_matrix(data, cols, indptr, (n, m), format="csr"),
                               (data, rows, cols), 0.5, np)
        bf, bg = rng.normal(size=n), rng.normal(size=m)
        df, dg, steps, converged = system.solve_cg(bf, bg, 1e-10, 500)
        df_ref, dg_ref = _schur_direction(r, c, (data, rows, cols), bf, bg, 0.5, np)
        assert converged and 0 < steps < min(n, m)
        assert_allclose(np.concatenate([df, dg]), np.concatenate([df_ref, dg_ref]), rtol=1e-7,
                        atol=1e-9)
        H = np.block([[np.diag(r), S], [S.T, np.diag(c)]]) / 0.5
        pinned = (n + int(np.argmax(c))) if n >= m else int(np.argmax(r))
        free = np.delete(np.arange(n + m), pinned)
        residual = (H @ np.concatenate([df, dg]) - np.concatenate([bf, bg]))[free]
        assert np.linalg.norm(residual) <= 1e-9 * np.linalg.norm(np.concatenate([bf, bg]))


def test_pinning_a_column_of_little_mass_does_not_stall_newton():
    """Pinning the last column's potential, which had almost no mass after 20 Sinkhorn
    iterations here, held the L1 error at 2 / 600 for 20 Newton steps (41 in all); the
    heaviest column's potential is pinned instead. The step count depends on rounding (10 to
    12 under OpenBLAS's SkylakeX and Nehalem kernels, 28 under Sandybridge, with no plateau)."""
    rng = np.random.default_rng(0)
    X, Y = rng.uniform(size=(700, 2)), rng.uniform(size=(600, 2)) + [0.3, 0.0]
    M = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    for solver in ("cholesky", "cg"):
        P, log = sinkhorn_newton([], [], M / M.max(), 1e-3, n_sinkhorn=20, log=True,
                                 linear_solver=solver, cg_max_iter=1000)
        assert log["converged"] and log["n_newton"] <= 32
        plateau = [e for e in log["err"][20:] if abs(e - 2 / 600) < 1e-5]
        assert len(plateau) <= 1


def test_inexact_cg_newton_step_converges_like_the_direct_one():
    """Issue 20.1: the default cg_tol=1e-6 is an inexact Newton step that reaches tol=1e-9
    in no more Newton steps than the direct solve (with 1e-10 and a cap of 100 every CG
    solve fell back on the direct one; with CG the Hessian drops 10 times less mass)."""
    M = _clouds(300, 300, seed=3)
    P_cg, log_cg = sinkhorn_newton([], [], M, 1e-3, linear_solver="cg", cg_max_iter=1000,
                                   log=True)
    P_ch, log_ch = sinkhorn_newton([], [], M, 1e-3, linear_solver="cholesky", log=True)
    assert log_cg["converged"] and log_cg["n_direct"] == 0
    assert 0 < log_cg["n_newton"] <= log_ch["n_newton"]
    assert 0 < max(log_cg["n_cg"]) < 200
    assert_allclose(P_cg, P_ch, rtol=1e-5, atol=1e-12)


def test_stalled_cg_hands_over_to_the_direct_solve_for_good():
    """After CG fails once, the later Newton steps of the solve are direct (no CG paid twice)."""
    M = np.random.RandomState(1).uniform(size=(80, 80))  # an assignment problem
    P, log = sinkhorn_newton([], [], M, 1e-4, linear_solver="cg", cg_max_iter=3, log=True,
                             n_sinkhorn=20)
    assert log["converged"] and log["n_newton"] >= 2
    n_cg = log["n_cg"]
    first_failure = n_cg.index(3)
    assert all(steps == 0 for steps in n_cg[first_failure + 1:])
    assert log["n_direct"] == log["n_newton"] - first_failure
    assert _marginal_error(P, 1 / 80, 1 / 80) <= 1e-9


def test_cg_max_iter_auto_is_the_cost_of_a_direct_solve():
    from sklr.transport._newton_step import _NewtonSystem

    def cap(n, nnz):
        system = _NewtonSystem(np.ones(n), np.ones(n), None, (np.ones(nnz),), 1.0, np)
        return system.cg_steps_worth_a_direct_solve()

    assert cap(500, 8000) == 100  # never below 100
    assert cap(6000, 4_000_000) > cap(4000, 1_500_000) > 100  # grows like n^3 / nnz
    assert cap(6000, 400_000) > 5 * cap(6000, 4_000_000) // 2
    with pytest.raises(ValueError, match="cg_max_iter"):
        sinkhorn_newton([], [], np.ones((3, 3)), 0.1, cg_max_iter="many")


def test_sinkhorn_finish_rule_with_a_rate_that_rounds_to_one():
    # errors[-1] / errors[-4] = 1 - 2^-53: its cube root rounds to 1.0, whose
    # logarithm used to divide by zero (ZeroDivisionError at reg = 1e-6).
    from sklr.transport._sinkhorn_stage import _sinkhorn_iterations_needed

    e = 0.5
    slow = [e, e, e, e * (1.0 - 2.0**-53)]
    assert (slow[-1] / slow[0]) ** (1.0 / 3.0) == 1.0
    needed = _sinkhorn_iterations_needed(slow, 1e-9)
    assert needed > 1e15
    assert _sinkhorn_iterations_needed([1.0, 1.0, 1.0, 1.0], 1e-9) is None
    assert _sinkhorn_iterations_needed([1.0, 0.5, 0.25, 0.125], 1e-9) == pytest.approx(
        np.log(1e-9 / 0.125) / np.log(0.5))


@pytest.mark.parametrize("reg", [1e-5, 1e-6])
@pytest.mark.parametrize("case", ["clouds2d", "hist1d"])
def test_tiny_reg_converges_by_epsilon_scaling(reg, case):
    """Issue 17.5: from the cold start, 0.02-0.04 (1e-5) and ~0.6 (1e-6) marginal error.

    With epsilon scaling (warm starts from reg x 10, x 100, ...) the requested
    tol is reached, and the cost approaches the exact transport cost.
    """
    if case == "clouds2d":
        M, a, b = _clouds(120, 100, seed=21), np.full(120, 1 / 120), np.full(100, 1 / 100)
    else:  # non-uniform 1-D histograms
        x = np.arange(100.0)
        a, b = np.exp(-(x - 30) ** 2 / 50) + 1e-3, np.exp(-(x - 65) ** 2 / 100) + 1e-3
        a, b = a / a.sum(), b / b.sum()
        M = (x[:, None] - x[None, :]) ** 2
        M = M / M.max()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        P, log = sinkhorn_newton(a, b, M, reg, tol=1e-9, log=True)
    assert log["converged"] and _marginal_error(P, a, b) <= 1e-9
    assert log["reg_schedule"][-1] == reg and log["reg_schedule"][0] >= 1e-3
    exact = ot.emd2(a, b, M)
    assert abs(float(np.sum(P * M)) - exact) <= 1e-4 * exact


def test_bad_input_matrix():
    """Issue 17.9: every bad array, weight or scalar is rejected naming the argument."""
    from tests._bad_inputs import check_bad_inputs

    rng = np.random.RandomState(0)
    valid = dict(a=np.full(6, 1 / 6), b=np.full(5, 0.2), M=rng.uniform(size=(6, 5)), reg=0.1)
    # None or an empty list means uniform weights, as in POT (here the valid
    # weights are uniform, so the result is the reference one).
    uniform = {(w, mut): "same" for w in "ab" for mut in ("none", "empty")}
    extra = [
        ("max_iter:negative", {"max_iter": -1}, "raise"),
        ("max_iter:float", {"max_iter": 2.5}, "raise"),
        ("max_iter:numpy_int", {"max_iter": np.int64(100)}, "same"),
        ("tol:nan", {"tol": np.nan}, "raise"),
        ("tol:negative", {"tol": -1e-9}, "raise"),
        ("tol:string", {"tol": "small"}, "raise"),
        ("n_sinkhorn:negative", {"n_sinkhorn": -3}, "raise"),
        ("n_sinkhorn:string", {"n_sinkhorn": "many"}, "raise"),
        ("density:zero", {"density": 0.0}, "raise"),
        ("density:above_one", {"density": 1.5}, "raise"),
        ("density:nan", {"density": np.nan}, "raise"),
        ("linear_solver:unknown", {"linear_solver": "lu"}, "raise"),
        ("linear_solver:none", {"linear_solver": None}, "raise"),
        ("b:length_mismatch", {"b": np.full(4, 0.25)}, "raise"),
        ("a:length_mismatch", {"a": np.full(7, 1 / 7)}, "raise"),
        ("a:not_normalised", {"a": np.full(6, 1.0)}, "raise"),
    ]
    for func in (sinkhorn_newton, sinkhorn_newton2):
        check_bad_inputs(func, valid, arrays=["a", "b", "M"], weights=["a", "b"],
                         positive=["reg"], extra_cases=extra, expect=uniform)


def test_warning_below_float64_resolution_says_why():
    """Far below 1e-7 of the cost's spread the warning blames float64, not max_iter."""
    M = _clouds(40, 30, seed=22) * 1e3  # spread 1e3: reg = 1e-8 is 1e-11 of it
    with pytest.warns(ConvergenceWarning, match=r"1\.0e-11 of the cost's spread.*increase reg"):
        sinkhorn_newton([], [], M, 1e-8, max_iter=1, n_sinkhorn=1)
    with pytest.warns(ConvergenceWarning, match="increase max_iter or reg"):
        sinkhorn_newton([], [], M, 1e-1, max_iter=1, n_sinkhorn=1)


def test_auto_warm_up_at_ten_times_reg_gives_the_same_plan():
    """n_sinkhorn="auto" starts from Sinkhorn potentials at 10 reg (when 10 reg <= 0.1 spread)."""
    M = _clouds(300, 250, seed=21)
    P, log = sinkhorn_newton([], [], M, 1e-3, log=True)
    assert log["converged"] and log["warmup_reg"] == pytest.approx(1e-2)
    # The warm-up's iterations (at least 20) count with the first stage's, and its errors
    # (at its own reg) come first in log["err"].
    assert 20 < log["n_sinkhorn"] <= (20 + 200 + 40) + (100 + 600 + 40)
    assert len(log["err"]) == log["n_sinkhorn"] + log["n_newton"]
    P_cold, log_cold = sinkhorn_newton([], [], M, 1e-3, n_sinkhorn=100, log=True)
    assert log_cold["warmup_reg"] is None and log_cold["converged"]
    # Both are the plan of the same strictly concave dual's maximiser, to tol = 1e-9.
    assert_allclose(P, P_cold, rtol=1e-5, atol=1e-9 / 300)
    assert _marginal_error(P, 1 / 300, 1 / 250) <= 1e-9
    # With epsilon scaling (reg < 1e-3 spread) the warm-up is at 10 x the first stage's reg.
    _, log = sinkhorn_newton([], [], M, 1e-4, log=True)
    assert log["converged"] and log["reg_schedule"] == pytest.approx([1e-3, 1e-4])
    assert log["warmup_reg"] == pytest.approx(1e-2)
    # No warm-up where 10 reg exceeds a tenth of the spread.
    _, log = sinkhorn_newton([], [], M, 2e-2, log=True)
    assert log["warmup_reg"] is None


def test_warm_start_scaling_and_log_domain_columns_agree(monkeypatch):
    """A warm start's first column update: the scaled kernel, or the log-sum-exp when its
    scaling is too large (forced here); the same plan either way."""
    from sklr.transport import _sinkhorn_stage

    calls = []

    def counted(*args, **kwargs):
        calls.append(1)
        return logsumexp(*args, **kwargs)

    logsumexp = _sinkhorn_stage.logsumexp
    monkeypatch.setattr(_sinkhorn_stage, "logsumexp", counted)
    M = _clouds(90, 70, seed=22)
    P, log = sinkhorn_newton([], [], M, 1e-3, log=True)
    assert log["converged"] and log["warmup_reg"] is not None and not calls
    monkeypatch.setattr(_sinkhorn_stage, "_WARM_SCALING_LIMIT", (-1.0, -1.0))
    P_log, log_log = sinkhorn_newton([], [], M, 1e-3, log=True)
    assert log_log["converged"] and len(calls) == 1
    assert_allclose(P, P_log, rtol=1e-4, atol=1e-9 / 90)
