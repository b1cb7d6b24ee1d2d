"""MatrixCompleter.fit on a Dask DataFrame of (row, column, value): ALS in row and column blocks."""

import warnings

import numpy as np
import pytest

from sklr.completion import MatrixCompleter, complete_matrix, ratings_matrix

pd = pytest.importorskip("pandas")
dd = pytest.importorskip("dask.dataframe")


def _ratings(m=120, n=90, k=3, frac=0.3, seed=0, offset=0.0):
    rng = np.random.RandomState(seed)
    M = rng.standard_normal((m, k)) @ rng.standard_normal((k, n)) + offset
    rows, cols = np.nonzero(rng.uniform(size=M.shape) < frac)
    order = rng.permutation(rows.shape[0])  # the frame's rows in no particular order
    rows, cols = rows[order], cols[order]
    frame = pd.DataFrame({"user": rows, "item": cols, "rating": M[rows, cols]})
    return M, rows, cols, frame


@pytest.mark.parametrize("alpha, center", [(0.0, None), (0.5, "biases"), (0.0, "global")])
def test_equals_the_in_memory_fit_on_a_cluster(dask_client, alpha, center):
    M, rows, cols, frame = _ratings()
    ddf = dd.from_pandas(frame, npartitions=3)
    params = {"n_components": 3, "alpha": alpha, "center": center, "random_state": 0,
              "tol": 1e-6}
    blocked = MatrixCompleter(solver="exact", **params).fit(ddf)
    in_memory = MatrixCompleter(solver="exact", **params).fit(
        ratings_matrix(rows, cols, frame["rating"].to_numpy(), shape=M.shape))
    assert blocked.n_features_in_ == M.shape[1]
    assert blocked.row_factors_.shape == (M.shape[0], 3)
    assert blocked.n_iter_ == in_memory.n_iter_
    completed = blocked.row_factors_ @ blocked.components_
    reference = in_memory.row_factors_ @ in_memory.components_
    assert np.max(np.abs(completed - reference)) < 1e-10 * np.max(np.abs(reference))
    np.testing.assert_allclose(blocked.row_bias_, in_memory.row_bias_, atol=1e-12)
    np.testing.assert_allclose(blocked.col_bias_, in_memory.col_bias_, atol=1e-12)
    assert blocked.mean_ == pytest.approx(in_memory.mean_, rel=1e-14)
    np.testing.assert_allclose(blocked.rmse_path_, in_memory.rmse_path_, rtol=1e-9)
    # and, without a ridge, the completion recovers the low-rank matrix
    if alpha == 0 and center is None:
        fitted = completed + blocked.mean_ + blocked.row_bias_[:, None] + blocked.col_bias_
        assert np.linalg.norm(fitted - M) < 1e-6 * np.linalg.norm(M)


def test_any_partitioning_gives_the_same_fit(dask_client):
    _, _, _, frame = _ratings(seed=1)
    fits = [MatrixCompleter(3, solver="exact", random_state=0).fit(
        dd.from_pandas(frame, npartitions=parts)) for parts in (1, 4)]
    products = [f.row_factors_ @ f.components_ for f in fits]
    for other in products[1:]:
        assert np.max(np.abs(other - products[0])) < 1e-10 * np.max(np.abs(products[0]))


def test_undersampled_warning_as_in_memory():
    # The same safeguards: too few entries for rank 2 warn (and refit with a ridge).
    frame = _ratings(m=60, n=50, k=2, frac=0.1, seed=0)[3]
    with pytest.warns(UserWarning, match="cannot determine a rank-2 model"):
        MatrixCompleter(2, max_iter=10, random_state=0).fit(dd.from_pandas(frame, npartitions=2))


def test_refuses_what_it_cannot_do_on_a_cluster():
    _, _, _, frame = _ratings()
    ddf = dd.from_pandas(frame, npartitions=2)
    with pytest.raises(ValueError, match="n_components='auto' is not available"):
        MatrixCompleter().fit(ddf)
    with pytest.raises(ValueError, match="solver='cg' is not available"):
        MatrixCompleter(3, solver="cg").fit(ddf)
    with pytest.raises(ValueError, match="n_components=90 must be <"):
        MatrixCompleter(90).fit(ddf)


@pytest.mark.parametrize("edit, error, match", [
    (lambda f: f.assign(extra=1), ValueError, "three columns"),
    (lambda f: f.assign(user=f["user"] + 0.5), TypeError, "row index column of X must hold integers"),
    (lambda f: f.assign(rating=f["rating"].where(f.index != 3)), ValueError, "NaN or infinity"),
    (lambda f: f.assign(item=f["item"] - 5), ValueError, "negative row or column index"),
    (lambda f: pd.concat([f, f.iloc[[7]]]), ValueError, r"repeats the entry \(row \d+, column \d+\)"),
    (lambda f: f.iloc[:0], ValueError, "no observed entry"),
])
def test_bad_frames_are_refused(edit, error, match):
    _, _, _, frame = _ratings()
    with pytest.raises(error, match=match):
        MatrixCompleter(2).fit(dd.from_pandas(edit(frame), npartitions=2))


def test_repeated_entry_names_its_coordinates():
    _, rows, cols, frame = _ratings()
    doubled = pd.concat([frame, frame.iloc[[7]]])
    with pytest.raises(ValueError, match=rf"repeats the entry \(row {rows[7]}, column {cols[7]}\)"):
        MatrixCompleter(2).fit(dd.from_pandas(doubled, npartitions=3))


def test_threaded_scheduler_without_a_cluster():
    # dask.delayed runs on whatever scheduler is active; no distributed client needed.
    M, rows, cols, frame = _ratings(seed=2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = MatrixCompleter(3, random_state=0).fit(dd.from_pandas(frame, npartitions=2))
    ref = complete_matrix(rows, cols, frame["rating"].to_numpy(), M.shape, 3, random_state=0)
    np.testing.assert_allclose(fit.row_factors_ @ fit.components_,
                               ref.row_factors @ ref.col_factors.T, atol=1e-9)
