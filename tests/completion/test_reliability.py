"""No silent wrong answer (issue 17.6): over-specified rank, too few entries, rank chosen by data."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose

from sklr.completion import MatrixCompleter, complete_matrix
from sklr.datasets import make_ratings


def _masked(M, fraction, seed=0):
    X = M.copy()
    X[np.random.RandomState(seed).uniform(size=M.shape) >= fraction] = np.nan
    return X


def _missing_error(completed, M, X):
    missing = np.isnan(X)
    return np.linalg.norm((completed - M)[missing]) / np.linalg.norm(M[missing])


def _rank2(seed=0, shape=(60, 50)):
    rng = np.random.RandomState(seed)
    return rng.standard_normal((shape[0], 2)) @ rng.standard_normal((2, shape[1]))


def _heavy_tailed(seed=1, shape=(200, 150), rank=3):
    """Not the Gaussian factors the code was written against: exponential x Student t, x1e3."""
    rng = np.random.RandomState(seed)
    return 1e3 * rng.exponential(size=(shape[0], rank)) @ rng.standard_t(3, size=(rank, shape[1]))


@pytest.mark.parametrize("n_components", [3, 5])
def test_rank_above_the_data_returns_the_exact_lower_rank(n_components):
    # Rank 3 for rank-2 data converged to a missing-entry error of 0.29 with an exact
    # fit of the observed entries: M + u e_j^T also has rank 3 when u lives on the
    # missing rows of column j.
    M = _rank2()
    X = _masked(M, 0.5)
    with pytest.warns(UserWarning, match=rf"fitted exactly by rank 2 < n_components={n_components}"):
        completer = MatrixCompleter(n_components=n_components, random_state=0).fit(X)
    assert completer.n_components_ == 2 and completer.components_.shape == (2, 50)
    assert _missing_error(completer.transform(X), M, X) < 1e-8


def test_all_ones_is_completed_by_ones():
    # n_components=2 completed an all-ones matrix to values in [-1.86, 4.13].
    X = _masked(np.ones((60, 50)), 0.5)
    with pytest.warns(UserWarning, match="fitted exactly by rank 1 < n_components=2"):
        filled = MatrixCompleter(n_components=2, random_state=0).fit_transform(X)
    assert_allclose(filled, 1.0, atol=1e-10)


@pytest.mark.parametrize("fraction, bound", [(0.1, 0.6), (0.02, 1.2)])
def test_too_few_entries_warn_and_stay_bounded(fraction, bound):
    # At 10% observed the error was 2e4, at 2% 7e24 (values up to 6e26).
    M = _rank2()
    X = _masked(M, fraction)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "(.* row|.* column)\\(s\\) of X have no observed entry")
        with pytest.warns(UserWarning, match=r"cannot determine a rank-2 model: .*"
                          r"fewer than k n log n.*n_components='auto'"):
            filled = MatrixCompleter(n_components=2, random_state=0).fit_transform(X)
    # Predicting 0 everywhere has error 1: no better is possible from so few entries
    # at 2%, and the completion must not be worse than that by much.
    assert _missing_error(filled, M, X) < bound
    assert np.abs(filled).max() <= 1.5 * np.abs(M).max()


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_heavy_tailed_factors_in_other_units():
    M = _heavy_tailed()
    X = _masked(M, 0.3)
    exact = MatrixCompleter(n_components=3, random_state=0).fit_transform(X)
    assert _missing_error(exact, M, X) < 1e-8
    with pytest.warns(UserWarning, match="fitted exactly by rank 3 < n_components=6"):
        over = MatrixCompleter(n_components=6, random_state=0).fit_transform(X)
    assert _missing_error(over, M, X) < 1e-8
    X_sparse = _masked(M, 0.1)  # 3000 entries, below k n log n = 3180
    with pytest.warns(UserWarning, match="cannot determine a rank-6 model"):
        sparse = MatrixCompleter(n_components=6, random_state=0).fit_transform(X_sparse)
    assert _missing_error(sparse, M, X_sparse) < 1.0


def test_auto_picks_the_true_rank_and_completes():
    M = _heavy_tailed()
    X = _masked(M, 0.3)
    completer = MatrixCompleter(random_state=0).fit(X)
    assert completer.n_components_ == 3
    scores = completer.validation_rmse_
    # Ranks above 3 hold out as well (their fits truncate to rank 3): the lowest wins.
    assert scores[3] < 1e-6 * scores[2] and max(scores) <= 10
    assert _missing_error(completer.transform(X), M, X) < 1e-8


def test_auto_on_noisy_ratings_beats_a_fixed_large_rank():
    users, items, ratings = make_ratings(200, 400, 8000, rank=3, random_state=0)
    test = np.random.RandomState(1).uniform(size=ratings.size) < 0.2
    X = np.full((200, 400), np.nan)
    X[users[~test], items[~test]] = ratings[~test]

    def test_rmse(completer):
        pred = completer.predict_entries(users[test], items[test])
        return np.sqrt(np.mean((pred - ratings[test]) ** 2))

    params = dict(center="biases", alpha=5.0, random_state=0)
    auto = MatrixCompleter(**params).fit(X)
    large = MatrixCompleter(n_components=20, **params).fit(X)
    assert 1 <= auto.n_components_ < 20
    assert test_rmse(auto) < test_rmse(large)


def test_auto_is_deterministic_and_works_on_2x2():
    M = _heavy_tailed()
    X = _masked(M, 0.3)
    a = MatrixCompleter(random_state=3).fit(X)
    b = MatrixCompleter(random_state=3).fit(X)
    assert a.validation_rmse_ == b.validation_rmse_
    small = MatrixCompleter().fit(np.array([[1.0, 2.0], [2.0, np.nan]]))
    assert small.n_components_ == 1
    assert_allclose(small.transform(np.array([[1.0, 2.0], [2.0, np.nan]]))[1, 1], 4.0)


def test_complete_matrix_auto_reports_the_rank():
    M = _rank2()
    rows, cols = np.nonzero(~np.isnan(_masked(M, 0.5)))
    res = complete_matrix(rows, cols, M[rows, cols], M.shape, "auto", random_state=0)
    assert res.n_components == 2 == res.row_factors.shape[1]
    assert res.validation_rmse[2] < 1e-8 * res.validation_rmse[1]


def test_the_lower_rank_check_is_cheap_at_the_true_rank():
    # An exact fit at the true rank tries rank k-1 once; that trial must give up
    # within a few sweeps even under a tight tol, not run to max_iter.
    import io
    from contextlib import redirect_stdout

    M = _heavy_tailed()
    rows, cols = np.nonzero(~np.isnan(_masked(M, 0.3)))
    out = io.StringIO()
    with redirect_stdout(out):
        res = complete_matrix(rows, cols, M[rows, cols], M.shape, 3, tol=1e-12, verbose=1,
                              random_state=0)
    assert res.n_components == 3
    assert out.getvalue().count("rank 2, sweep") <= 5


def _factor_model(shape, rank, fraction, seed=0):
    rng = np.random.RandomState(seed)
    M = rng.standard_t(4, (shape[0], rank)) @ rng.exponential(size=(rank, shape[1]))
    X = M.copy()
    X[rng.uniform(size=shape) >= fraction] = np.nan
    return M, X


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_under_sampled_but_exact_fit_is_kept():
    # 6000 entries < k n log n = 6845: the old rule always refitted with the ridge
    # (error 0.12 at 600 x 500 rank 8); the plain fit is exact here and is kept.
    M, X = _factor_model((300, 250), 4, 0.08)
    with pytest.warns(UserWarning, match="may not determine a rank-4 model"):
        filled = MatrixCompleter(n_components=4, random_state=0).fit_transform(X)
    assert _missing_error(filled, M, X) < 1e-4


@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
def test_runaway_fit_above_k_n_log_n_warns_and_stays_bounded():
    # 7500 entries > k n log n = 6845, yet the plain fit ran away silently to a
    # missing-entry error of 1.4e2.
    M, X = _factor_model((300, 250), 4, 0.1)
    with pytest.warns(UserWarning, match="rank-4 fit ran away on the missing entries"):
        filled = MatrixCompleter(n_components=4, random_state=0).fit_transform(X)
    assert _missing_error(filled, M, X) < 1.0
    assert np.abs(filled).max() <= 2 * np.nanmax(np.abs(X))


def test_auto_rank_does_not_vary_between_fits_without_a_seed():
    # With random_state=None the held-out entries used to be drawn afresh on each
    # fit, so dense data with no clear rank gave different n_components_ (and
    # components_ shapes) from one fit to the next; scikit-learn's
    # check_array_api_input failed at random.
    from sklearn.datasets import make_classification

    X = make_classification(random_state=42)[0]
    ranks = {MatrixCompleter().fit(X).n_components_ for _ in range(8)}
    assert len(ranks) == 1
