"""fetch_movielens, offline: local archives with GroupLens' layout stand in for the downloads."""

import dataclasses
import hashlib
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from sklr.completion import ratings_matrix
from sklr.datasets import _movielens, fetch_movielens

SHARED_RATINGS = (Path(__file__).resolve().parents[3] / "shared" / "data" / "ml-latest-small"
                  / "ratings.csv")

# (userId, movieId, rating, timestamp): ids are sparse and unordered, as in MovieLens.
RATINGS = [(196, 242, 3, 881250949), (186, 302, 3, 891717742), (22, 377, 1, 878887116),
           (196, 377, 4, 881251011), (22, 242, 5, 878887200)]


def _ratings_text(variant):
    if variant == "100k":
        return "".join(f"{u}\t{i}\t{r}\t{t}\n" for u, i, r, t in RATINGS)
    if variant == "1m":
        return "".join(f"{u}::{i}::{r}::{t}\n" for u, i, r, t in RATINGS)
    return "userId,movieId,rating,timestamp\n" + "".join(
        f"{u},{i},{r - 0.5},{t}\n" for u, i, r, t in RATINGS)


def _serve(monkeypatch, tmp_path, variant, text=None, sha256=None):
    """Build the archive of ``variant`` locally and point the registry at it."""
    archive = _movielens.ARCHIVES[variant]
    source = tmp_path / "remote" / archive.filename
    source.parent.mkdir(exist_ok=True)
    with zipfile.ZipFile(source, "w") as zf:
        zf.writestr(archive.member, _ratings_text(variant) if text is None else text)
        zf.writestr(archive.member.split("/")[0] + "/README", "licence")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    monkeypatch.setitem(_movielens.ARCHIVES, variant, dataclasses.replace(
        archive, url=source.as_uri(), sha256=digest if sha256 is None else sha256))
    return source


@pytest.fixture
def count_downloads(monkeypatch):
    calls = []
    urlopen = urllib.request.urlopen

    def counting(url, *args, **kwargs):
        calls.append(url)
        return urlopen(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", counting)
    return calls


def test_registry_points_at_grouplens():
    for variant, archive in _movielens.ARCHIVES.items():
        assert archive.url == ("https://files.grouplens.org/datasets/movielens/"
                               + archive.filename)
        assert len(archive.sha256) == 64 and int(archive.sha256, 16) >= 0
        assert archive.member.startswith(archive.filename.removesuffix(".zip") + "/")


@pytest.mark.parametrize("variant", ["100k", "1m", "latest-small"])
def test_download_once_then_cache(monkeypatch, tmp_path, count_downloads, variant):
    source = _serve(monkeypatch, tmp_path, variant)
    data_home = tmp_path / "home"
    movielens = fetch_movielens(variant, data_home=data_home)
    cached = data_home / "movielens" / source.name
    assert cached.read_bytes() == source.read_bytes()
    assert count_downloads == [source.as_uri()]
    assert not list(cached.parent.glob("*.part"))

    # users 22 < 186 < 196 and movies 242 < 302 < 377 are coded in the order of their ids
    np.testing.assert_array_equal(movielens.data, [[2, 0], [1, 1], [0, 2], [2, 2], [0, 0]])
    assert movielens.data.dtype == np.int64 and movielens.target.dtype == np.float64
    np.testing.assert_array_equal(movielens.user_ids, [22, 186, 196])
    np.testing.assert_array_equal(movielens.item_ids, [242, 302, 377])
    np.testing.assert_array_equal(movielens.user_ids[movielens.data[:, 0]],
                                  [r[0] for r in RATINGS])
    offset = 0.5 if variant == "latest-small" else 0.0
    np.testing.assert_array_equal(movielens.target, [r[2] - offset for r in RATINGS])
    np.testing.assert_array_equal(movielens.timestamp, [r[3] for r in RATINGS])
    assert movielens.shape == (3, 3)
    assert movielens.feature_names == ["user", "item"] and movielens.target_names == ["rating"]
    assert "Harper" in movielens.DESCR and "commercial" in movielens.DESCR

    # The second call reads the cache: no download, even with the source gone.
    source.unlink()
    again = fetch_movielens(variant, data_home=data_home, download_if_missing=False)
    np.testing.assert_array_equal(again.data, movielens.data)
    assert len(count_downloads) == 1


def test_default_data_home_is_scikit_learns(monkeypatch, tmp_path):
    source = _serve(monkeypatch, tmp_path, "100k")
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sk"))
    fetch_movielens()
    assert (tmp_path / "sk" / "movielens" / source.name).is_file()


def test_missing_without_download(monkeypatch, tmp_path, count_downloads):
    _serve(monkeypatch, tmp_path, "100k")
    url = _movielens.ARCHIVES["100k"].url
    with pytest.raises(OSError, match="download_if_missing=False") as info:
        fetch_movielens(data_home=tmp_path / "home", download_if_missing=False)
    assert url in str(info.value)
    # the real URL is named too
    with pytest.raises(OSError, match="https://files.grouplens.org/datasets/movielens/ml-1m"):
        fetch_movielens("1m", data_home=tmp_path / "home", download_if_missing=False)
    assert count_downloads == []


def test_checksum_mismatch_caches_nothing(monkeypatch, tmp_path):
    _serve(monkeypatch, tmp_path, "100k", sha256="0" * 64)
    data_home = tmp_path / "home"
    with pytest.raises(OSError, match="expected 0{64}"):
        fetch_movielens(data_home=data_home)
    assert list((data_home / "movielens").iterdir()) == []


def test_failed_download_retries_then_names_the_url(monkeypatch, tmp_path, count_downloads):
    source = _serve(monkeypatch, tmp_path, "100k")
    source.unlink()
    with pytest.warns(RuntimeWarning, match="Retrying the download"):
        with pytest.raises(OSError, match=f"Could not download {source.as_uri()}"):
            fetch_movielens(data_home=tmp_path / "home", n_retries=2, delay=0)
    assert len(count_downloads) == 3
    assert list((tmp_path / "home" / "movielens").iterdir()) == []


def test_return_X_y_and_as_frame(monkeypatch, tmp_path):
    _serve(monkeypatch, tmp_path, "100k")
    X, y = fetch_movielens(data_home=tmp_path, return_X_y=True)
    assert X.shape == (5, 2) and y.shape == (5,)
    pd = pytest.importorskip("pandas")
    movielens = fetch_movielens(data_home=tmp_path, as_frame=True)
    assert isinstance(movielens.data, pd.DataFrame) and isinstance(movielens.target, pd.Series)
    assert list(movielens.frame.columns) == ["user", "item", "rating", "timestamp"]
    np.testing.assert_array_equal(movielens.frame["rating"].to_numpy(), y)


def test_bad_parameters():
    with pytest.raises(InvalidParameterError, match="The 'variant' parameter"):
        fetch_movielens("10m")
    with pytest.raises(InvalidParameterError, match="The 'n_retries' parameter"):
        fetch_movielens(n_retries=-1)


@pytest.mark.skipif(not SHARED_RATINGS.exists(),
                    reason="shared/data/ml-latest-small is not next to the repository")
def test_real_latest_small_ratings(monkeypatch, tmp_path):
    """GroupLens' real ratings.csv, zipped with the archive's layout, read back."""
    _serve(monkeypatch, tmp_path, "latest-small", text=SHARED_RATINGS.read_text())
    movielens = fetch_movielens("latest-small", data_home=tmp_path / "home")
    assert movielens.data.shape == (100836, 2)
    assert movielens.shape == (610, 9724)
    np.testing.assert_array_equal(np.unique(movielens.target), np.arange(1, 11) / 2)
    first = SHARED_RATINGS.read_text().splitlines()[1].split(",")
    assert movielens.user_ids[movielens.data[0, 0]] == int(first[0])
    assert movielens.item_ids[movielens.data[0, 1]] == int(first[1])
    assert movielens.target[0] == float(first[2]) and movielens.timestamp[0] == int(first[3])
    X = ratings_matrix(movielens.data[:, 0], movielens.data[:, 1], movielens.target,
                       shape=movielens.shape)
    assert X.nnz == 100836 and np.all(np.diff(X.indptr) >= 20)  # every user rated >= 20
