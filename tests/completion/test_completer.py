"""MatrixCompleter: imputer semantics, fold-in, scoring, real ratings, bad input."""

import io
import pathlib
from contextlib import redirect_stdout

import numpy as np
import pytest
import scipy.sparse
import sklearn
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning
from sklearn.model_selection import GridSearchCV

from sklr.completion import MatrixCompleter, ratings_matrix
from sklr.datasets import make_low_rank_completion

RATINGS = pathlib.Path(__file__).resolve().parents[3] / "shared" / "data" / "ml-latest-small" / "ratings.csv"


@pytest.fixture(scope="module")
def low_rank():
    return make_low_rank_completion(300, 200, rank=4, n_observed=24_000, random_state=0)


def test_fit_transform_completes_and_keeps_observed(low_rank):
    X, M = low_rank
    completer = MatrixCompleter(n_components=4, tol=1e-12, random_state=0)
    filled = completer.fit_transform(X)
    observed = ~np.isnan(X)
    assert_array_equal(filled[observed], X[observed])
    assert np.linalg.norm(filled - M) < 1e-6 * np.linalg.norm(M)
    assert completer.components_.shape == (4, 200)
    assert completer.row_factors_.shape == (300, 4)
    assert_allclose(completer.components_ @ completer.components_.T, np.eye(4), atol=1e-10)
    assert completer.rmse_ == completer.rmse_path_[-1] < 1e-10
    assert completer.n_iter_ == len(completer.rmse_path_)
    assert_allclose(completer.transform(X), filled)
    model = MatrixCompleter(n_components=4, tol=1e-12, keep_observed=False,
                            random_state=0).fit_transform(X)
    assert_allclose(model, completer.row_factors_ @ completer.components_, atol=1e-12)


def test_transform_folds_in_new_rows(low_rank):
    X, M = low_rank
    completer = MatrixCompleter(n_components=4, tol=1e-12, random_state=0).fit(X[:200])
    filled = completer.transform(X[200:])
    assert np.linalg.norm(filled - M[200:]) < 1e-6 * np.linalg.norm(M[200:])


@pytest.mark.parametrize("solver", ["cg", "sketch"])
def test_row_factors_agree_with_fold_in(low_rank, solver):
    """The fitted rows (inexact solvers included) are what transform computes for them."""
    X, _ = low_rank
    noisy = X + 0.1 * np.random.RandomState(0).standard_normal(X.shape)
    completer = MatrixCompleter(n_components=4, solver=solver, alpha=1.0, center="biases",
                                keep_observed=False, random_state=0).fit(noisy)
    rows, cols = np.nonzero(~np.isnan(noisy))
    assert_allclose(completer.predict_entries(rows, cols),
                    completer.transform(noisy)[rows, cols], atol=1e-10)


def test_sparse_input_equals_dense(low_rank):
    X, _ = low_rank
    rows, cols = np.nonzero(~np.isnan(X))
    sparse = ratings_matrix(rows, cols, X[rows, cols], shape=X.shape)
    for fmt in ("csr", "csc", "coo"):
        a = MatrixCompleter(n_components=4, alpha=0.5, center="biases", max_iter=5,
                            tol=0, random_state=0)
        b = MatrixCompleter(n_components=4, alpha=0.5, center="biases", max_iter=5,
                            tol=0, random_state=0)
        with pytest.warns(ConvergenceWarning):  # tol=0: all 5 sweeps run
            a.fit(X)
        with pytest.warns(ConvergenceWarning):
            b.fit(sparse.asformat(fmt))
        assert_allclose(b.components_, a.components_, atol=1e-12)
        assert_allclose(b.transform(sparse), a.transform(X), atol=1e-10)


def test_sparse_stored_zero_is_an_observed_rating():
    rng = np.random.RandomState(0)
    M = np.abs(rng.standard_normal((40, 1)) @ rng.standard_normal((1, 30)))
    M[:, 0] = 0.0  # a column of genuine zeros
    rows, cols = np.nonzero(rng.uniform(size=M.shape) < 0.6)
    X = ratings_matrix(rows, cols, M[rows, cols], shape=M.shape)
    assert np.count_nonzero(X.data == 0) > 0
    completer = MatrixCompleter(n_components=1, tol=1e-12, random_state=0).fit(X)
    assert_allclose(completer.transform(X), M, atol=1e-8)


def test_score_is_deterministic_and_selects_the_rank():
    X, _ = make_low_rank_completion(300, 120, rank=3, n_observed=14_000, noise=0.05,
                                    random_state=1)
    completer = MatrixCompleter(n_components=3, random_state=0).fit(X[:200])
    first, second = completer.score(X[200:]), completer.score(X[200:])
    assert first == second and -0.1 < first < -0.03  # near the noise level 0.05
    search = GridSearchCV(MatrixCompleter(random_state=0), {"n_components": [1, 3, 8]},
                          cv=3).fit(X)
    assert search.best_params_ == {"n_components": 3}


def test_predict_entries_matches_transform():
    X, _ = make_low_rank_completion(80, 60, rank=2, n_observed=2000, noise=0.1,
                                    random_state=0)
    completer = MatrixCompleter(n_components=2, alpha=0.5, center="biases",
                                keep_observed=False, random_state=0).fit(X)
    rows, cols = np.meshgrid(np.arange(80), np.arange(60), indexing="ij")
    assert_allclose(completer.predict_entries(rows.ravel(), cols.ravel()),
                    completer.transform(X).ravel(), atol=1e-10)
    with pytest.raises(ValueError, match=r"rows must lie in \[0, 80\)"):
        completer.predict_entries([80], [0])
    with pytest.raises(TypeError, match="cols must be a 1-D array of integers"):
        completer.predict_entries([0], [0.5])


def test_empty_row_and_column_are_completed_by_the_offsets():
    X, _ = make_low_rank_completion(60, 40, rank=2, n_observed=1500, noise=0.1,
                                    random_state=0)
    X[5, :] = np.nan
    X[:, 7] = np.nan
    completer = MatrixCompleter(n_components=2, alpha=1.0, center="biases", random_state=0)
    with pytest.warns(UserWarning) as record:
        filled = completer.fit_transform(X)
    messages = [str(w.message) for w in record]
    assert any(m.startswith("1 row(s)") for m in messages)
    # An unobserved column gets the offsets (the cold-start answer): not reported.
    assert not any("column(s)" in m for m in messages)
    assert_allclose(completer.row_factors_[5], 0.0)
    assert_allclose(completer.components_[:, 7], 0.0)
    assert_allclose(filled[5], completer.mean_ + completer.col_bias_)
    assert_allclose(filled[:, 7], completer.mean_ + completer.row_bias_)
    assert np.all(np.isfinite(filled))


def test_verbose_prints_each_sweep(low_rank):
    X, _ = low_rank
    out = io.StringIO()
    with redirect_stdout(out):
        completer = MatrixCompleter(n_components=4, verbose=1, random_state=0).fit(X)
    assert out.getvalue().count("rank 4, sweep") == completer.n_iter_


def test_float32_and_array_api(xp, low_rank):
    X, _ = low_rank
    reference = MatrixCompleter(n_components=4, random_state=0).fit(X)
    completer = MatrixCompleter(n_components=4, random_state=0).fit(xp.asarray(X))
    assert_allclose(np.asarray(completer.transform(xp.asarray(X))), reference.transform(X),
                    atol=1e-10)
    X32 = X.astype(np.float32)
    filled = MatrixCompleter(n_components=4, random_state=0).fit_transform(X32)
    assert filled.dtype == np.float32
    assert np.linalg.norm(filled - reference.transform(X)) < 1e-4 * np.linalg.norm(filled)


def _movielens_split():
    if not RATINGS.exists():
        pytest.skip(f"{RATINGS} not found")
    data = np.loadtxt(RATINGS, delimiter=",", skiprows=1)
    users = np.unique(data[:, 0], return_inverse=True)[1]
    items = np.unique(data[:, 1], return_inverse=True)[1]
    test = np.random.RandomState(0).uniform(size=len(data)) < 0.2
    return users, items, data[:, 2], test


def test_movielens_beats_the_bias_baseline():
    users, items, ratings, test = _movielens_split()
    train = ~test
    # The global + user + item baseline, by alternating shrunk means (10 rounds, shrinkage 10).
    mean = ratings[train].mean()
    b_user, b_item = np.zeros(users.max() + 1), np.zeros(items.max() + 1)
    for _ in range(10):
        resid = ratings[train] - mean - b_user[users[train]]
        b_item = (np.bincount(items[train], resid, b_item.size)
                  / (np.bincount(items[train], minlength=b_item.size) + 10.0))
        resid = ratings[train] - mean - b_item[items[train]]
        b_user = (np.bincount(users[train], resid, b_user.size)
                  / (np.bincount(users[train], minlength=b_user.size) + 10.0))
    baseline = np.sqrt(np.mean((mean + b_user[users[test]] + b_item[items[test]]
                                - ratings[test]) ** 2))
    X = ratings_matrix(users[train], items[train], ratings[train],
                       shape=(users.max() + 1, items.max() + 1))
    completer = MatrixCompleter(n_components=5, alpha=10.0, center="biases",
                                random_state=0).fit(X)
    predicted = np.clip(completer.predict_entries(users[test], items[test]), 0.5, 5.0)
    rmse = np.sqrt(np.mean((predicted - ratings[test]) ** 2))
    assert 0.85 < baseline < 0.95
    print(f"MovieLens 80/20: bias baseline RMSE {baseline:.4f}, MatrixCompleter {rmse:.4f}")
    assert rmse < baseline - 0.01, (rmse, baseline)


@pytest.mark.parametrize(
    "X, params, error, message",
    [
        (np.full((5, 4), np.nan), {"n_components": 1}, ValueError, "no observed entry"),
        (np.ones((5, 4)), {"n_components": 4}, ValueError,
         r"n_components=4 must be < min\(n_samples, n_features\)=4"),
        (np.array([[1.0, np.inf], [2.0, 3.0], [1.0, 1.0]]), {"n_components": 1}, ValueError,
         "infinity"),
        (np.ones((1, 4)), {"n_components": 1}, ValueError, "n_samples=1"),
        (np.ones((4, 1)), {"n_components": 1}, ValueError, "n_features=1"),
        (np.array([[1.0, np.nan], [0.0, 3.0], [1.0, 1.0]]),
         {"n_components": 1, "missing_values": 0.0}, ValueError, "NaN is allowed only"),
        (scipy.sparse.csr_array(np.array([[1.0, np.nan], [0.0, 3.0], [1.0, 1.0]])),
         {"n_components": 1}, ValueError, "Sparse X stores NaN"),
        (np.ones((5, 4)), {"n_components": 1, "solver": "lsqr"}, ValueError, "solver"),
        (np.ones((5, 4)), {"n_components": 1, "alpha": -1.0}, ValueError, "alpha"),
        (np.ones(5), {"n_components": 1}, ValueError, "2D array"),
    ],
)
def test_bad_input(X, params, error, message):
    with pytest.raises(error, match=message):
        MatrixCompleter(**params).fit(X)


def test_numeric_missing_values_marker():
    X, M = make_low_rank_completion(60, 40, rank=2, n_observed=1500, random_state=0)
    X0 = np.where(np.isnan(X), -1.0, X)
    a = MatrixCompleter(n_components=2, missing_values=-1.0, tol=1e-12, random_state=0)
    assert np.linalg.norm(a.fit_transform(X0) - M) < 1e-6 * np.linalg.norm(M)


def test_transform_checks_shape_and_fit():
    X, _ = make_low_rank_completion(60, 40, rank=2, n_observed=1500, random_state=0)
    with pytest.raises(sklearn.exceptions.NotFittedError):
        MatrixCompleter(n_components=2).transform(X)
    completer = MatrixCompleter(n_components=2, random_state=0).fit(X)
    with pytest.raises(ValueError, match="features"):
        completer.transform(X[:, :30])
    with pytest.raises(ValueError, match="No observed entry was held out"):
        MatrixCompleter(n_components=1, score_holdout=1e-9, random_state=0).fit(
            X[:3, :3]).score(X[:2, :3])


@pytest.mark.parametrize(
    "args, kwargs, message",
    [
        (([-1, 0], [0, 1], [1.0, 2.0]), {}, "rows must be non-negative"),
        (([0, 1], [0, -3], [1.0, 2.0]), {}, "cols must be non-negative"),
        (([0, 0], [1, 1], [1.0, 2.0]), {}, r"1 duplicate \(rows\[i\], cols\[i\]\) pair"),
        (([0, 1], [0, 1], [1.0, np.nan]), {}, "finite"),
        (([0, 1], [0, 1], [1.0]), {}, "same length"),
        (([0, 5], [0, 1], [1.0, 2.0]), {"shape": (3, 3)}, "out of range"),
    ],
)
def test_ratings_matrix_bad_input(args, kwargs, message):
    with pytest.raises(ValueError, match=message):
        ratings_matrix(*args, **kwargs)


def test_ratings_matrix_rejects_float_ids():
    with pytest.raises(TypeError, match="rows must be a 1-D array of integers"):
        ratings_matrix([0.5, 1.0], [0, 1], [1.0, 2.0])


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.filterwarnings("ignore:The observed entries cannot determine:UserWarning")
def test_auto_solver_follows_the_entries_per_row(low_rank):
    X, _ = low_rank  # 24,000 entries for 500 rows and columns: 48 each
    kwargs = dict(max_iter=2, tol=0.5, random_state=0)
    assert MatrixCompleter(n_components=4, **kwargs).fit(X).solver_ == "exact"
    X_sparse, _ = make_low_rank_completion(300, 200, rank=12, n_observed=3000, random_state=0)
    assert MatrixCompleter(n_components=12, **kwargs).fit(X_sparse).solver_ == "cg"
    assert MatrixCompleter(n_components=12, solver="sketch",
                           **kwargs).fit(X_sparse).solver_ == "sketch"


def test_global_centering_removes_the_mean():
    X, M = make_low_rank_completion(120, 80, rank=2, n_observed=4000, random_state=0)
    shifted = X + 7.0
    completer = MatrixCompleter(n_components=3, center="global", tol=1e-12,
                                random_state=0).fit(shifted)
    assert completer.mean_ == pytest.approx(np.nanmean(shifted))
    assert_allclose(completer.row_bias_, 0.0)
    assert_allclose(completer.col_bias_, 0.0)
    # A rank-2 matrix plus a constant is rank 3 at most: recovered exactly.
    assert np.linalg.norm(completer.transform(shifted) - (M + 7.0)) < 1e-6 * np.linalg.norm(M)


def test_an_unobserved_column_without_centering_is_reported():
    # Without centering it used to be filled with ~0 silently (empty rows already warned).
    X_missing, _ = make_low_rank_completion(60, 30, rank=2, random_state=0)
    X_missing[:, 4] = np.nan
    with pytest.warns(UserWarning, match=r"1 column\(s\) of X have no observed entry in fit; "
                                         r"nothing determines them, so they are completed by 0"):
        filled = MatrixCompleter(n_components=2, random_state=0).fit_transform(X_missing)
    assert_allclose(filled[:, 4], 0.0, atol=1e-12)


def test_max_iter_zero_is_rejected():
    # max_iter=0 left rmse_ = NaN silently.
    X_missing, _ = make_low_rank_completion(30, 20, rank=2, random_state=0)
    with pytest.raises(ValueError, match="'max_iter' parameter of MatrixCompleter must be"):
        MatrixCompleter(n_components=2, max_iter=0).fit(X_missing)
