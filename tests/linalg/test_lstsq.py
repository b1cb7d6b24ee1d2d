"""sketched_lstsq and leverage_scores against exact solvers, and the paper's claims at small scale."""

import warnings

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse
from _tolerances import tolerance
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Ridge

from sklr.datasets import make_least_squares
from sklr.linalg import default_sketch_size, leverage_scores, sketched_lstsq
from sklr.utils._array_api import namespace_and_device, to_numpy

KINDS = ["srht", "gaussian", "countsketch", "sparse_sign"]


def _problem(n=4000, d=15, design="gaussian", seed=0, **kw):
    X, y, _ = make_least_squares(n, d, design=design, random_state=seed, **kw)
    x_opt = scipy.linalg.lstsq(X, y)[0]
    return X, y, x_opt, np.linalg.norm(X @ x_opt - y)


@pytest.mark.parametrize("kind", KINDS)
def test_precondition_matches_scipy_lstsq(kind):
    X, y, x_opt, _ = _problem()
    res = sketched_lstsq(X, y, sketch=kind, solver="precondition", random_state=0)
    assert res.converged and res.n_iter > 1
    assert np.linalg.norm(res.coef - x_opt) <= 1e-10 * np.linalg.norm(x_opt)


@pytest.mark.parametrize("kind", ["srht", "gaussian", "sparse_sign"])
def test_sketch_residual_within_one_plus_eps(kind):
    # m = 20 d rows: expected residual ratio sqrt(1 + d / (m - d)) ~ 1.026
    X, y, _, r_opt = _problem(n=8000, d=20)
    m = default_sketch_size(8000, 20)
    for seed in range(3):
        res = sketched_lstsq(X, y, sketch=kind, n_components=m, random_state=seed)
        ratio = np.linalg.norm(X @ res.coef - y) / r_opt
        assert 1.0 <= ratio <= 1.05, ratio


def _linf_errors(X, y, x_opt, kind, m, seeds, **kw):
    return np.array([
        np.max(np.abs(sketched_lstsq(X, y, sketch=kind, n_components=m, random_state=s,
                                     **kw).coef - x_opt))
        for s in seeds
    ])


@pytest.mark.parametrize("kind", ["srht", "gaussian"])
def test_linf_error_shrinks_like_inverse_sqrt_m(kind):
    X, y, x_opt, r_opt = _problem(n=4000, d=10)
    ms = np.array([60, 240, 960])
    errs = [np.exp(np.mean(np.log(_linf_errors(X, y, x_opt, kind, m, range(8))))) for m in ms]
    slope = np.polyfit(np.log(ms - 10), np.log(errs), 1)[0]
    assert -0.7 < slope < -0.35, (slope, errs)
    # and the l_inf guarantee holds with a modest eps: ||dx||_inf <= eps/sqrt(d) ||r*|| / s_min
    s_min = np.linalg.svd(X, compute_uv=False)[-1]
    bound = r_opt / s_min / np.sqrt(10)
    assert errs[-1] <= 0.2 * bound


def test_countsketch_worse_in_linf_on_coherent_design():
    # d identity rows hold nearly all the leverage: CountSketch hashes some of them
    # together and loses directions; the dense sketches do not (Song et al. 2023).
    n, d, m = 20000, 20, 400
    X, y, x_opt, r_opt = _problem(n=n, d=d, design="coherent")
    seeds = range(12)
    dense = _linf_errors(X, y, x_opt, "srht", m, seeds)
    sparse = _linf_errors(X, y, x_opt, "countsketch", m, seeds)
    assert np.mean(sparse) > 2 * np.mean(dense), (np.mean(sparse), np.mean(dense))
    assert np.max(sparse) > 4 * np.max(dense)


def _residual_norm(X, y, coef):
    """||y - X coef|| in extended precision (NumPy's own loops, no BLAS), and its error bound.

    In float64 the residual of a coef of norm 1e8 carries rounding errors of up to
    gamma_{d+1} || |y| + |X| |coef| || (Higham 2002, Sec. 3.1): 1e-6 relative at cond(X) = 1e10,
    and which part of that shows depends on the BLAS kernel.
    """
    X, y, coef = (np.asarray(a, dtype=np.longdouble) for a in (X, y, coef))
    r = float(np.sqrt(np.sum((y - X @ coef) ** 2)))
    condition = float(np.linalg.norm(np.abs(y) + np.abs(X) @ np.abs(coef))) / r
    return r, tolerance(n=X.shape[1] + 1, cond=condition, dtype=np.longdouble)


@pytest.mark.parametrize("cond, converges", [(1e8, True), (1e10, None)])
def test_precondition_solves_ill_conditioned_problem(cond, converges):
    X, y, x_opt, _ = _problem(n=5000, d=20, design="ill_conditioned", cond=cond)
    assert np.linalg.cond(X) > cond / 10
    eps = np.finfo(np.float64).eps
    # Rounding floors the relative gradient at up to eps cond(X); the solver counts a stalled run
    # as converged below 10 sqrt(eps) = 1.5e-7. At cond 1e8 the floor (2e-8) is 7x below that;
    # at 1e10 (2e-6) it is not, and the BLAS kernel decides (OpenBLAS Prescott stalls at 1.8e-7):
    # then the warning says so, and the accuracy below holds all the same.
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        res = sketched_lstsq(X, y, solver="precondition", random_state=0)
    if converges:
        assert res.converged and not caught
    else:
        assert res.converged or any("rounding errors stopped the progress" in str(w.message)
                                    for w in caught)
    # Residuals at least as small as LAPACK's: both excesses over the optimum are about half the
    # squared relative gradient, below (eps cond)^2, plus the rounding of the residuals.
    r, r_error = _residual_norm(X, y, res.coef)
    r_lapack, r_lapack_error = _residual_norm(X, y, x_opt)
    assert (r - r_lapack) / r_lapack <= (eps * cond) ** 2 + r_error + r_lapack_error
    # forward error of the same order as LAPACK's own (~ n u cond)
    rtol = tolerance(n=X.shape[1], cond=cond)
    assert np.linalg.norm(res.coef - x_opt) / np.linalg.norm(x_opt) <= rtol
    # the normal equations lose it all at this condition number
    try:
        x_ne = scipy.linalg.cho_solve(scipy.linalg.cho_factor(X.T @ X), X.T @ y)
        assert np.linalg.norm(x_ne - x_opt) / np.linalg.norm(x_opt) > 1e-2
    except np.linalg.LinAlgError:
        pass  # Cholesky breaks down: X.T @ X is numerically singular


@pytest.mark.parametrize("solver", ["sketch", "precondition"])
def test_ridge_matches_sklearn(solver):
    X, y, _, _ = _problem(n=900, d=8)
    # default m = n: the SRHT is orthogonal, so sketch-and-solve is exact too
    res = sketched_lstsq(X, y, alpha=3.0, solver=solver, fit_intercept=True, random_state=0)
    ridge = Ridge(alpha=3.0, solver="cholesky").fit(X, y)
    assert_allclose(res.coef, ridge.coef_, rtol=1e-9)
    assert_allclose(res.intercept, ridge.intercept_, rtol=1e-9)


def test_weights_and_intercept_match_exact_solution():
    X, y, _, _ = _problem(n=3000, d=6)
    w = np.random.RandomState(1).uniform(0, 3, 3000)
    res = sketched_lstsq(X + 5.0, y, sample_weight=w, fit_intercept=True,
                         solver="precondition", random_state=0)
    Xa = np.c_[X + 5.0, np.ones(3000)] * np.sqrt(w)[:, None]
    exact = scipy.linalg.lstsq(Xa, y * np.sqrt(w))[0]
    assert_allclose(res.coef, exact[:-1], rtol=1e-9)
    assert_allclose(res.intercept, exact[-1], rtol=1e-9)


@pytest.mark.parametrize("kind", KINDS)
def test_sparse_design_with_intercept(kind):
    X = scipy.sparse.random(3000, 10, density=0.3, random_state=0, format="csr")
    y = X @ np.arange(10.0) + 2.0 + 0.01 * np.random.RandomState(0).standard_normal(3000)
    res = sketched_lstsq(X, y, sketch=kind, fit_intercept=True, solver="precondition",
                         random_state=0)
    dense = sketched_lstsq(X.toarray(), y, sketch=kind, fit_intercept=True,
                           solver="precondition", random_state=0)
    assert_allclose(res.coef, dense.coef, rtol=1e-9)
    assert_allclose(res.intercept, dense.intercept, rtol=1e-9)
    assert scipy.sparse.issparse(X)  # untouched


def test_multi_target_equals_separate_solves():
    X, y, _, _ = _problem(n=2000, d=5, n_targets=3)
    both = sketched_lstsq(X, y, solver="precondition", random_state=0)
    assert both.coef.shape == (5, 3)
    for k in range(3):
        one = sketched_lstsq(X, y[:, k], solver="precondition", random_state=0)
        assert_allclose(both.coef[:, k], one.coef, rtol=1e-9)


@pytest.mark.parametrize("solver", ["sketch", "precondition"])
def test_backends_agree(xp, solver):
    X, y, _, _ = _problem(n=2000, d=5)
    res_np = sketched_lstsq(X, y, solver=solver, n_components=200, fit_intercept=True,
                            random_state=0)
    res = sketched_lstsq(xp.asarray(X), xp.asarray(y), solver=solver, n_components=200,
                         fit_intercept=True, random_state=0)
    assert namespace_and_device(res.coef)[0] is xp
    assert_allclose(to_numpy(res.coef), res_np.coef, atol=1000 * np.finfo(np.float64).eps)
    assert abs(res.intercept - res_np.intercept) < 1e-10


def test_float32_precondition():
    X, y, x_opt, _ = _problem(n=3000, d=8)
    res = sketched_lstsq(X.astype(np.float32), y.astype(np.float32), solver="precondition",
                         random_state=0)
    assert res.coef.dtype == np.float32
    assert res.converged
    assert np.linalg.norm(res.coef - x_opt) / np.linalg.norm(x_opt) < 1e-4


def test_convergence_warning_when_max_iter_too_small():
    X, y, _, _ = _problem()
    with pytest.warns(ConvergenceWarning, match="increase max_iter or n_components"):
        res = sketched_lstsq(X, y, solver="precondition", max_iter=1, random_state=0)
    assert not res.converged and res.n_iter == 2


def test_rank_deficient_design_warns_for_precondition():
    X, y, _, _ = _problem(n=500, d=4)
    X = np.c_[X, X[:, 0]]  # duplicated column
    with pytest.warns(UserWarning, match="rank deficient"):
        res = sketched_lstsq(X, y, solver="precondition", random_state=0)
    assert not res.converged
    # the minimum-norm answer splits the duplicated coefficient evenly
    assert_allclose(res.coef[0], res.coef[-1], rtol=1e-8)


def test_verbose_prints_progress(capsys):
    X, y, _, _ = _problem(n=2000, d=5)
    sketched_lstsq(X, y, solver="precondition", verbose=1, random_state=0)
    assert "iteration 0" in capsys.readouterr().out


def test_errors():
    X, y, _, _ = _problem(n=200, d=5)
    with pytest.raises(ValueError, match="n_components=300 must be <= n_samples="):
        sketched_lstsq(X, y, n_components=300)
    with pytest.raises(ValueError, match="n_components=3 must be >= n_features="):
        sketched_lstsq(X, y, n_components=3)
    with pytest.raises(ValueError, match="'solver' parameter of sketched_lstsq must be"):
        sketched_lstsq(X, y, solver="qr")
    with pytest.raises(ValueError, match="'sketch' parameter of sketched_lstsq must be"):
        sketched_lstsq(X, y, sketch="fjlt")


@pytest.mark.parametrize(
    "change, error, match",
    [
        (dict(b="inf"), ValueError, "Input b contains infinity"),
        (dict(A="nan"), ValueError, "Input A contains NaN"),
        (dict(b="short"), ValueError, "b must be 1-D or 2-D with 200 rows to match A"),
        (dict(alpha=-1e6), ValueError, "'alpha' parameter of sketched_lstsq must be"),
        (dict(alpha=float("nan")), ValueError, "'alpha' parameter of sketched_lstsq must be"),
        (dict(sample_weight="negative"), ValueError, "sample_weight must be non-negative"),
        (dict(sample_weight="zero"), ValueError, "sample_weight must have at least one non-zero"),
        (dict(sample_weight="short"), ValueError, "sample_weight must be 1-D with 200 rows"),
        (dict(A="1-D"), ValueError, "A must be a 2-D array"),
    ],
)
def test_bad_input_is_named(change, error, match):
    # inf in b gave NaN coefficients, alpha=-1e6 was silently 0, NaN in A a
    # LinAlgError with LAPACK noise on stderr.
    X, y, _, _ = _problem(n=200, d=5)
    args = dict(A=X.copy(), b=y.copy())
    special = {
        "inf": lambda v: np.r_[v[:-1], np.inf], "nan": lambda v: np.where(v > 1.5, np.nan, v),
        "short": lambda v: v[:10], "negative": lambda v: -np.ones(200),
        "zero": lambda v: np.zeros(200), "1-D": lambda v: v[:, 0],
    }
    for key, value in change.items():
        base = args.get(key, np.ones(200))
        args[key] = special[value](base) if isinstance(value, str) else value
    with pytest.raises(error, match=match):
        sketched_lstsq(args.pop("A"), args.pop("b"), **args)


def test_lists_are_arrays_and_default_sketch_size_checks_solver():
    res = sketched_lstsq([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [1, 2, 3], n_components=3)
    assert_allclose(res.coef, [1.0, 2.0], rtol=1e-10)
    with pytest.raises(ValueError, match="'solver' parameter of default_sketch_size must be"):
        default_sketch_size(100, 5, "foo")


def test_leverage_scores_exact_and_approx():
    X, _, _, _ = _problem(n=3000, d=10, design="coherent")
    exact = leverage_scores(X)
    H = X @ np.linalg.solve(X.T @ X, X.T)
    assert_allclose(exact, np.diag(H), rtol=1e-6, atol=1e-12)
    assert_allclose(exact.sum(), 10)
    assert np.all(exact[:10] > 0.99)  # the coherent rows
    approx = leverage_scores(X, method="approx", random_state=0)
    ratio = approx / exact
    assert 0.4 < ratio.min() and ratio.max() < 2.5
    assert abs(approx.sum() - 10) < 2.0


def test_leverage_scores_rank_deficient_and_backends(xp):
    X = np.random.RandomState(0).standard_normal((200, 4))
    X = np.c_[X, X[:, :1] + X[:, 1:2]]
    scores = leverage_scores(xp.asarray(X))
    assert namespace_and_device(scores)[0] is xp
    assert_allclose(float(np.sum(to_numpy(scores))), 4.0)
    with pytest.raises(ValueError, match="'method' parameter of leverage_scores must be"):
        leverage_scores(X, method="fast")


def test_approx_leverage_scores_of_a_rank_deficient_matrix(xp):
    # Rank 5 in 8 columns (3 combinations of two of them, one set in units 1e6):
    # R^-1 of the sketch's QR blew up the null directions (scores summing to 7.3,
    # 2x off per row); the SVD of the sketch restricted to its rank is as accurate
    # as the full-rank path.
    rng = np.random.RandomState(0)
    B = rng.standard_normal((2000, 5))
    A = np.c_[B, 1e6 * B[:, :2] @ rng.standard_normal((2, 3))]
    exact = leverage_scores(A)
    assert_allclose(exact.sum(), 5.0)
    approx = leverage_scores(xp.asarray(A), method="approx", random_state=0)
    assert namespace_and_device(approx)[0] is xp
    ratio = to_numpy(approx) / exact
    assert 0.4 < ratio.min() and ratio.max() < 2.5
    assert abs(float(np.sum(to_numpy(approx))) - 5.0) < 1.0


def test_precondition_stops_at_rounding_floor_with_clear_warning():
    X, y, x_opt, r_opt = _problem(n=3000, d=10, design="ill_conditioned", cond=1e14)
    with pytest.warns(ConvergenceWarning, match="too ill-conditioned for this tolerance"):
        res = sketched_lstsq(X, y, solver="precondition", tol=1e-14, random_state=0)
    assert res.n_iter < 100
    assert (np.linalg.norm(X @ res.coef - y) - r_opt) / r_opt < 1e-6  # cond 1e14: u * cond ~ 1e-2
