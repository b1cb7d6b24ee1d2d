"""load_movielens_splits on small fake ml-100k folders (the real splits cannot be shipped)."""

import zipfile

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from sklr.completion import MatrixCompleter, ratings_matrix
from sklr.datasets import load_movielens_splits, make_ratings


def _fake_ml100k(folder, n_users=60, n_items=80, n_ratings=1500, seed=0):
    """Write u.data and u1..u5 .base/.test as ml-100k does: five disjoint 20 % test sets.

    MovieLens ids are 1-based and here sparse (gaps), timestamps distinct.
    Returns the (user id, item id, rating, timestamp) table and the test rows of each split.
    """
    users, items, ratings = make_ratings(n_users, n_items, n_ratings, random_state=seed)
    ratings = np.clip(np.round(ratings), 1, 5)  # whole stars, as in ml-100k
    user_id, item_id = 3 * users + 1, 2 * items + 5
    timestamp = 880_000_000 + np.arange(ratings.size)
    table = np.column_stack([user_id, item_id, ratings.astype(np.int64), timestamp])
    folder.mkdir(parents=True, exist_ok=True)

    def write(name, rows):
        (folder / name).write_text("".join("\t".join(map(str, row)) + "\n" for row in table[rows]))

    order = np.random.RandomState(seed).permutation(ratings.size)
    write("u.data", np.arange(ratings.size))
    tests = np.array_split(order, 5)
    for k, test in enumerate(tests, start=1):
        write(f"u{k}.base", np.sort(np.setdiff1d(order, test)))
        write(f"u{k}.test", np.sort(test))
    return table, tests


def _triplets(ml, index):
    """The set of (user id, item id, rating) of ``ml``'s ratings at ``index``."""
    data = ml.data[index]
    return set(zip(ml.user_ids[data[:, 0]].tolist(), ml.item_ids[data[:, 1]].tolist(),
                   ml.target[index].tolist()))


def test_reads_the_five_splits(tmp_path):
    table, tests = _fake_ml100k(tmp_path / "ml-100k")
    ml = load_movielens_splits(tmp_path / "ml-100k")
    n = table.shape[0]
    assert ml.data.shape == (n, 2) and ml.data.dtype == np.int64
    assert ml.target.dtype == np.float64 and ml.timestamp.dtype == np.int64
    assert ml.split_names == ["u1", "u2", "u3", "u4", "u5"] and len(ml.folds) == 5
    np.testing.assert_array_equal(ml.user_ids, np.unique(table[:, 0]))
    np.testing.assert_array_equal(ml.item_ids, np.unique(table[:, 1]))
    assert ml.shape == (ml.user_ids.size, ml.item_ids.size)
    # Every rating once, with its own timestamp, sorted by user then item.
    assert _triplets(ml, np.arange(n)) == {tuple(row[:3]) for row in table.tolist()}
    keys = ml.data[:, 0] * ml.shape[1] + ml.data[:, 1]
    assert np.all(np.diff(keys) > 0)
    by_pair = {(u, i): t for u, i, _, t in table.tolist()}
    assert all(by_pair[ml.user_ids[u], ml.item_ids[i]] == t
               for (u, i), t in zip(ml.data.tolist(), ml.timestamp.tolist()))
    seen_test = []
    for (train, test), rows in zip(ml.folds, tests):
        assert _triplets(ml, test) == {tuple(row[:3]) for row in table[rows].tolist()}
        assert np.intersect1d(train, test).size == 0 and train.size + test.size == n
        seen_test.append(test)
    # The five test sets partition the ratings (5-fold cross-validation).
    np.testing.assert_array_equal(np.sort(np.concatenate(seen_test)), np.arange(n))


def test_zip_archive_and_parent_folder_give_the_same(tmp_path):
    _fake_ml100k(tmp_path / "ml-100k")
    archive = tmp_path / "ml-100k.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for path in sorted((tmp_path / "ml-100k").iterdir()):
            zf.write(path, f"ml-100k/{path.name}")
    from_folder = load_movielens_splits(str(tmp_path / "ml-100k"))
    for other in (load_movielens_splits(archive), load_movielens_splits(tmp_path)):
        np.testing.assert_array_equal(other.data, from_folder.data)
        np.testing.assert_array_equal(other.target, from_folder.target)
        for (train, test), (train0, test0) in zip(other.folds, from_folder.folds):
            np.testing.assert_array_equal(train, train0)
            np.testing.assert_array_equal(test, test0)


def test_other_splits_and_a_subset(tmp_path):
    table, tests = _fake_ml100k(tmp_path)
    (tmp_path / "ua.base").write_text((tmp_path / "u2.base").read_text())
    (tmp_path / "ua.test").write_text((tmp_path / "u2.test").read_text())
    ml = load_movielens_splits(tmp_path, splits=("ua",))
    train, test = ml.folds[0]
    assert ml.split_names == ["ua"] and train.size + test.size == table.shape[0]
    assert _triplets(ml, test) == {tuple(row[:3]) for row in table[tests[1]].tolist()}


def test_completion_on_the_folds_beats_the_mean(tmp_path):
    """The user's loop: one ratings matrix per fold, the test ratings predicted."""
    _fake_ml100k(tmp_path, n_users=120, n_items=100, n_ratings=4000, seed=1)
    ml = load_movielens_splits(tmp_path)
    for train, test in ml.folds:
        X = ratings_matrix(ml.data[train, 0], ml.data[train, 1], ml.target[train], shape=ml.shape)
        model = MatrixCompleter(n_components=2, alpha=10.0, center="biases", random_state=0).fit(X)
        predicted = model.predict_entries(ml.data[test, 0], ml.data[test, 1])
        rmse = np.sqrt(np.mean((predicted - ml.target[test]) ** 2))
        baseline = np.sqrt(np.mean((ml.target[train].mean() - ml.target[test]) ** 2))
        assert rmse < 0.95 * baseline


def _rewrite(path, transform):
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(transform(lines)))


@pytest.mark.parametrize(
    "damage, error, match",
    [
        (lambda d: (d / "u3.test").unlink(), FileNotFoundError, "has no u3.test"),
        (lambda d: _rewrite(d / "u2.base", lambda ls: [ls[0].rsplit("\t", 1)[0] + "\n"] + ls[1:]),
         ValueError, "u2.base is not a MovieLens ratings file"),
        (lambda d: _rewrite(d / "u1.test", lambda ls: [ls[0].replace("\t", ",")] + ls[1:]),
         ValueError, "u1.test is not a MovieLens ratings file"),
        (lambda d: (d / "u4.test").write_text(""), ValueError, "u4.test holds no ratings"),
        (lambda d: _rewrite(d / "u5.test", lambda ls: ls + ls[:1]),
         ValueError, "u5.test rates a \\(user, movie\\) pair more than once"),
        (lambda d: _rewrite(d / "u1.base", lambda ls: ls + (d / "u1.test").read_text()
                            .splitlines(keepends=True)[:1]),
         ValueError, "u1.base and u1.test share ratings"),
        (lambda d: _rewrite(d / "u2.test", lambda ls: [
            "\t".join([*ls[0].split("\t")[:2], "9" if ls[0].split("\t")[2] != "9" else "8",
                       ls[0].split("\t")[3]])] + ls[1:]),
         ValueError, "The files rate user .* both"),
    ],
)
def test_damaged_folders_are_named(tmp_path, damage, error, match):
    _fake_ml100k(tmp_path)
    damage(tmp_path)
    with pytest.raises(error, match=match):
        load_movielens_splits(tmp_path)


def test_bad_parameters(tmp_path):
    with pytest.raises(InvalidParameterError, match="'path' parameter"):
        load_movielens_splits(None)
    with pytest.raises(InvalidParameterError, match="'splits' parameter"):
        load_movielens_splits(tmp_path, splits="u1")
    for splits in ([], ["u1", "u1"], ["u1", 2]):
        with pytest.raises(ValueError, match="splits must be distinct split names"):
            load_movielens_splits(tmp_path, splits=splits)
    with pytest.raises(FileNotFoundError, match="No such folder or zip archive"):
        load_movielens_splits(tmp_path / "nowhere")
    (tmp_path / "notes.txt").write_text("not a zip")
    with pytest.raises(ValueError, match="is a file but not a zip archive"):
        load_movielens_splits(tmp_path / "notes.txt")
    with pytest.raises(FileNotFoundError, match="has no u1.base, u1.test"):
        load_movielens_splits(tmp_path)
