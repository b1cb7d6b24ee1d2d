"""The alternating-minimization core: exact recovery, inexact updates, the per-row solves."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from sklr.completion import complete_matrix
from sklr.completion._altmin import _Side, _Updater, fold_in
from sklr.datasets import make_low_rank_completion
from sklr.utils._array_api import namespace_and_device


@pytest.fixture(scope="module")
def paper_problem():
    """Noiseless incoherent rank 5, m = n = 500, about 5 n k log n observed entries."""
    X, M = make_low_rank_completion(500, 500, rank=5, random_state=0)
    rows, cols = np.nonzero(~np.isnan(X))
    return rows, cols, X[rows, cols], M, np.isnan(X)


def _relative_error_unobserved(result, M, missing):
    completed = result.row_factors @ result.col_factors.T
    return np.linalg.norm((completed - M)[missing]) / np.linalg.norm(M[missing])


@pytest.mark.parametrize("solver", ["exact", "cg", "sketch"])
def test_exact_recovery(paper_problem, solver):
    rows, cols, values, M, missing = paper_problem
    assert 70_000 < values.size < 80_000  # 5 n k log n = 77,682: 31% of the entries
    result = complete_matrix(rows, cols, values, M.shape, 5, solver=solver, tol=1e-12,
                             random_state=0)
    assert result.converged
    assert _relative_error_unobserved(result, M, missing) <= 1e-6


@pytest.mark.parametrize("solver", ["cg", "sketch"])
def test_loose_inner_solves_still_converge(paper_problem, solver):
    """One inner step, asked for only a halving of the residual: the outer loop still recovers M."""
    rows, cols, values, M, missing = paper_problem
    result = complete_matrix(rows, cols, values, M.shape, 5, solver=solver, tol=1e-12,
                             inner_tol=0.5, inner_max_iter=1, max_iter=500, random_state=0)
    assert result.converged
    assert _relative_error_unobserved(result, M, missing) <= 1e-6
    # The updates really were inexact: the first sweep is worse than an exact one.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        exact = complete_matrix(rows, cols, values, M.shape, 5, max_iter=1, random_state=0)
    assert result.rmse_path[0] > 1.1 * exact.rmse_path[0]


def test_exact_solver_decreases_its_objective(paper_problem):
    """Each exact update minimises over one factor: the objective never goes up."""
    rows, cols, values, M, _ = paper_problem
    noisy = values + 0.1 * np.random.RandomState(1).standard_normal(values.size)
    path = complete_matrix(rows, cols, noisy, M.shape, 5, tol=1e-9, random_state=0).rmse_path
    assert len(path) > 3
    assert all(b <= a * (1 + 1e-12) for a, b in zip(path, path[1:]))
    # With a ridge the objective is ||P(UV^T - X)||^2 + alpha (||U||^2 + ||V||^2).
    objective = []
    for sweeps in range(1, 6):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = complete_matrix(rows, cols, noisy, M.shape, 5, alpha=50.0, max_iter=sweeps,
                                  tol=0, random_state=0)
        fit = np.sum(res.row_factors[rows] * res.col_factors[cols], axis=1)
        objective.append(np.sum((fit - noisy) ** 2)
                         + 50.0 * (np.sum(res.row_factors**2) + np.sum(res.col_factors**2)))
    assert all(b <= a * (1 + 1e-12) for a, b in zip(objective, objective[1:]))
    assert objective[-1] < objective[0]


def _small_problem(seed=0, n_rows=40, n_cols=30, k=3, fraction=0.4):
    rng = np.random.RandomState(seed)
    mask = rng.uniform(size=(n_rows, n_cols)) < fraction
    mask[0] = False  # an empty row
    mask[1, :2] = True  # a row with fewer entries than k
    mask[1, 2:] = False
    rows, cols = np.nonzero(mask)
    return rows, cols, rng.standard_normal(rows.size), rng.standard_normal((n_cols, k))


@pytest.mark.parametrize("alpha", [0.0, 0.5])
def test_fold_in_matches_row_by_row_lstsq(alpha):
    rows, cols, values, V = _small_problem()
    U, bias = fold_in(rows, cols, values, 40, V, 0.0, np.zeros(30), alpha, False)
    assert_allclose(bias, 0.0)
    for i in range(40):
        A, b = V[cols[rows == i]], values[rows == i]
        if alpha:
            A, b = np.vstack([A, np.sqrt(alpha) * np.eye(3)]), np.r_[b, np.zeros(3)]
        expected = np.linalg.lstsq(A, b, rcond=None)[0] if A.size else np.zeros(3)
        assert_allclose(U[i], expected, atol=1e-9)


@pytest.mark.parametrize("solver", ["cg", "sketch"])
def test_inner_solvers_converge_to_the_exact_update(solver):
    k = 20
    rows, cols, values, V = _small_problem(n_rows=300, n_cols=400, k=k, fraction=0.5)
    # Correlated, badly scaled columns (cond 1e4): a diagonal preconditioner cannot fix it.
    rotation, _ = np.linalg.qr(np.random.RandomState(1).standard_normal((k, k)))
    V = V @ np.diag(np.logspace(0, -4, k)) @ rotation
    xp, device = namespace_and_device(values)
    side = _Side(rows, cols, values, 300, 400, xp, device)
    exact = _Updater(side, "exact", 0.0, 0, 1, 4 * k, 2, 0)(V, None, side.values)
    updater = _Updater(side, solver, 0.0, 1e-10, 1000, 4 * k, 2, np.random.RandomState(0))
    approx = updater(V, np.zeros_like(exact), side.values)
    full = np.bincount(rows, minlength=300) >= k
    assert not full[0] and not full[1] and full[2:].all()
    assert np.linalg.norm(approx[full] - exact[full]) < 1e-6 * np.linalg.norm(exact[full])
    # Row 1 has 2 entries for 20 unknowns: any solution fits them exactly.
    assert_allclose(V[cols[rows == 1]] @ approx[1], values[rows == 1], atol=1e-8)
    assert_allclose(approx[0], 0.0)
    if solver == "sketch":  # the preconditioner makes the step count independent of cond
        cg = _Updater(side, "cg", 0.0, 1e-10, 1000, 4 * k, 2, 0)
        cg(V, np.zeros_like(exact), side.values)
        assert 3 * updater.inner_iterations < cg.inner_iterations


def test_centering_biases_recover_an_additive_matrix():
    rng = np.random.RandomState(0)
    M = 3.0 + rng.standard_normal(80)[:, None] + rng.standard_normal(60)[None, :]
    rows, cols = np.nonzero(rng.uniform(size=M.shape) < 0.5)
    result = complete_matrix(rows, cols, M[rows, cols], M.shape, 1, center="biases",
                             tol=1e-12, random_state=0)
    offsets = result.mean + result.row_bias[:, None] + result.col_bias[None, :]
    assert_allclose(offsets + result.row_factors @ result.col_factors.T, M, atol=1e-6)
    assert np.linalg.norm(result.row_factors @ result.col_factors.T) < 1e-6 * np.linalg.norm(M)


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_array_api_matches_numpy(xp, paper_problem):
    rows, cols, values, M, _ = paper_problem
    keep = rows < 120
    rows, cols, values = rows[keep], cols[keep], values[keep]
    reference = complete_matrix(rows, cols, values, (120, 500), 3, solver="sketch",
                                max_iter=5, random_state=0)
    result = complete_matrix(
        xp.asarray(rows), xp.asarray(cols), xp.asarray(values), (120, 500), 3,
        solver="sketch", max_iter=5, random_state=0,
    )
    assert_allclose(np.asarray(result.col_factors), reference.col_factors, atol=1e-10)
    assert_allclose(np.asarray(result.row_factors), reference.row_factors, atol=1e-10)


def test_max_iter_warns():
    X, _ = make_low_rank_completion(60, 50, rank=2, n_observed=1200, random_state=0)
    rows, cols = np.nonzero(~np.isnan(X))
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        result = complete_matrix(rows, cols, X[rows, cols], X.shape, 2, max_iter=1, tol=0,
                                 random_state=0)
    assert not result.converged and result.n_iter == 1


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"n_components": 30}, "n_components=30 must be"),
        ({"solver": "lsqr"}, "The 'solver' parameter of complete_matrix must be a str among"),
        ({"center": "rows"}, "The 'center' parameter of complete_matrix must be"),
        ({"values": np.array([np.inf, 1.0, 2.0])}, "must be finite"),
        ({"rows": np.array([-1, 0, 1])}, r"rows must lie in \[0, 40\) for shape=\(40, 30\)"),
        ({"cols": np.array([0, 1, 30])}, r"cols must lie in \[0, 30\)"),
        ({"sketch_size": 1, "n_components": 2}, "sketch_size=1 must be >= n_components=2"),
    ],
)
def test_bad_input(kwargs, message):
    arguments = dict(rows=np.array([0, 1, 2]), cols=np.array([0, 1, 2]),
                     values=np.array([1.0, 2.0, 3.0]), shape=(40, 30), n_components=1)
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        complete_matrix(**arguments)


def test_many_rows_with_fewer_entries_than_the_rank():
    """Rank 12 from 5 entries per row and column: warned, and the completion stays bounded.

    Exact least squares (minimum norm where a row has fewer entries than the
    rank) fitted such rows exactly and amplified nearly collinear entries
    without limit: missing entries came out orders of magnitude too large.
    """
    X, M = make_low_rank_completion(300, 200, rank=12, n_observed=3000, random_state=0)
    rows, cols = np.nonzero(~np.isnan(X))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        with pytest.warns(UserWarning, match=r"cannot determine a rank-12 model: \d+ row\(s\) "
                          r"have fewer than n_components=12 observed entries.*n_components='auto'"):
            result = complete_matrix(rows, cols, X[rows, cols], X.shape, 12, random_state=0)
    completed = result.row_factors @ result.col_factors.T
    missing = np.isnan(X)
    # No better than predicting 0 (the data determine little), but not worse either.
    error = np.linalg.norm((completed - M)[missing]) / np.linalg.norm(M[missing])
    assert error < 1.1
    assert np.abs(completed).max() < 2 * np.abs(M).max()


@pytest.mark.parametrize(
    "change, error, match",
    [
        (dict(values="int"), None, None),
        (dict(values="short"), ValueError, "rows, cols and values must be 1-D arrays of one length"),
        (dict(rows="float"), TypeError, "rows must hold integer indices"),
        (dict(rows="duplicate"), ValueError, r"1 \(rows\[i\], cols\[i\]\) pair\(s\) are repeated"),
        (dict(values="text"), TypeError, "values must hold real numbers"),
        (dict(alpha=float("nan")), ValueError, r"'alpha' parameter .* range \[0.0?, inf\)\. Got nan"),
        (dict(alpha=-1.0), ValueError, r"'alpha' parameter .* range \[0.0?, inf\)\. Got -1.0"),
    ],
)
def test_complete_matrix_names_bad_entries(change, error, match):
    # int values gave AttributeError, short values IndexError, duplicate pairs and
    # alpha=nan were accepted.
    from sklr.completion import complete_matrix

    rng = np.random.RandomState(0)
    M = rng.standard_normal((30, 2)) @ rng.standard_normal((2, 20))
    rows, cols = np.nonzero(rng.uniform(size=M.shape) < 0.6)
    args = dict(rows=rows, cols=cols, values=M[rows, cols], alpha=0.0)
    special = {
        "int": lambda: np.round(10 * M[rows, cols]).astype(int),
        "short": lambda: M[rows, cols][:-3],
        "float": lambda: rows.astype(float),
        "text": lambda: np.array(["a"] * len(rows)),
    }
    if change.get("rows") == "duplicate":  # repeat the first (row, col) pair in the last slot
        args["rows"], args["cols"] = np.r_[rows[:-1], rows[0]], np.r_[cols[:-1], cols[0]]
    else:
        for key, value in change.items():
            args[key] = special[value]() if isinstance(value, str) else value
    call = lambda: complete_matrix(args["rows"], args["cols"], args["values"], M.shape, 2,  # noqa: E731
                                   alpha=args["alpha"], random_state=0)
    if error is None:
        res = call()
        assert res.row_factors.dtype == np.float64
    else:
        with pytest.raises(error, match=match):
            call()
