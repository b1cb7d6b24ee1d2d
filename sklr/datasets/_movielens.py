"""Fetcher for the MovieLens ratings (downloaded once from GroupLens, then cached)."""

import hashlib
import http.client
import io
import os
import time
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass
from numbers import Integral, Real
from pathlib import Path

import numpy as np
from sklearn.datasets import get_data_home
from sklearn.utils import Bunch

from ..utils._validation import Interval, StrOptions, validate_params
from ._base import _pandas, load_descr

__all__ = ["fetch_movielens", "load_movielens_splits"]


@dataclass(frozen=True)
class RemoteArchive:
    """Where an archive lives, its SHA-256 and how to read its ratings."""

    filename: str
    url: str
    sha256: str
    member: str  # the ratings file inside the archive
    separator: str
    header: bool


# SHA-256 of the archives as published in TensorFlow Datasets' checksum registry
# (tensorflow_datasets/url_checksums/movielens.txt, with sizes 4,924,029 / 5,917,549 /
# 978,202 bytes); the archives are not in this repository, so they were not recomputed.
ARCHIVES = {
    "100k": RemoteArchive(
        filename="ml-100k.zip",
        url="https://files.grouplens.org/datasets/movielens/ml-100k.zip",
        sha256="50d2a982c66986937beb9ffb3aa76efe955bf3d5c6b761f4e3a7cd717c6a3229",
        member="ml-100k/u.data",
        separator="\t",
        header=False,
    ),
    "1m": RemoteArchive(
        filename="ml-1m.zip",
        url="https://files.grouplens.org/datasets/movielens/ml-1m.zip",
        sha256="a6898adb50b9ca05aa231689da44c217cb524e7ebd39d264c56e2832f2c54e20",
        member="ml-1m/ratings.dat",
        separator="::",
        header=False,
    ),
    "latest-small": RemoteArchive(
        filename="ml-latest-small.zip",
        url="https://files.grouplens.org/datasets/movielens/ml-latest-small.zip",
        sha256="696d65a3dfceac7c45750ad32df2c259311949efec81f0f144fdfb91ebc9e436",
        member="ml-latest-small/ratings.csv",
        separator=",",
        header=True,
    ),
}


def _download(archive, path, n_retries, delay):
    """Download ``archive`` to ``path`` through a temporary file, checking its SHA-256."""
    partial = path.with_name(path.name + ".part")
    for attempt in range(n_retries + 1):
        digest = hashlib.sha256()
        try:
            with urllib.request.urlopen(archive.url, timeout=60) as response, \
                    open(partial, "wb") as out:
                while chunk := response.read(1 << 20):
                    digest.update(chunk)
                    out.write(chunk)
            break
        except (OSError, http.client.HTTPException) as exc:  # URLError is an OSError
            partial.unlink(missing_ok=True)
            if attempt == n_retries:
                raise OSError(f"Could not download {archive.url}: {exc}") from exc
            warnings.warn(f"Retrying the download of {archive.url} ({exc}).", RuntimeWarning)
            time.sleep(delay)
    if digest.hexdigest() != archive.sha256:
        partial.unlink()
        raise OSError(
            f"The file downloaded from {archive.url} has SHA-256 {digest.hexdigest()}, "
            f"expected {archive.sha256}: the download is corrupted or the file changed. "
            "Nothing was cached."
        )
    os.replace(partial, path)


def _read_ratings(path, archive):
    """The (user id, item id, rating, timestamp) columns of the ratings file in the zip."""
    with zipfile.ZipFile(path) as zf:
        text = zf.read(archive.member).decode("utf-8")
    separator = archive.separator
    if len(separator) > 1:  # np.loadtxt takes single-character delimiters
        text, separator = text.replace(separator, "\t"), "\t"
    table = np.loadtxt(io.StringIO(text), delimiter=separator, skiprows=int(archive.header),
                       dtype=np.float64, ndmin=2)
    user_id, item_id, timestamp = (table[:, j].astype(np.int64) for j in (0, 1, 3))
    return user_id, item_id, table[:, 2], timestamp


@validate_params(
    {
        "variant": [StrOptions(set(ARCHIVES))],
        "data_home": [str, os.PathLike, None],
        "download_if_missing": ["boolean"],
        "return_X_y": ["boolean"],
        "as_frame": ["boolean"],
        "n_retries": [Interval(Integral, 0, None, closed="left")],
        "delay": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def fetch_movielens(
    variant="100k",
    *,
    data_home=None,
    download_if_missing=True,
    return_X_y=False,
    as_frame=False,
    n_retries=3,
    delay=1.0,
):
    """Load the MovieLens ratings, downloading them from GroupLens the first time.

    The archive of the chosen variant is downloaded once from
    ``https://files.grouplens.org/datasets/movielens/``, checked against its
    SHA-256 and kept in ``<data_home>/movielens/``; later calls read it from
    there without a network.

    ==============  =============  ===============  ==================
    variant         100k           1m               latest-small
    ==============  =============  ===============  ==================
    ratings         100,000        1,000,209        100,836
    users x movies  943 x 1,682    6,040 x 3,706    610 x 9,724
    rating scale    1 to 5         1 to 5           0.5 to 5 (halves)
    download size   4.9 MB         5.9 MB           1.0 MB
    ==============  =============  ===============  ==================

    The data are not sklr's: the GroupLens licence (in the archive's README,
    summarised in ``DESCR``) allows research use with acknowledgement
    (cite Harper and Konstan, see References) and forbids commercial use
    without permission.

    Parameters
    ----------
    variant : {"100k", "1m", "latest-small"}, default="100k"
        Which MovieLens data set: the stable 100K and 1M benchmark sets, or
        the small development snapshot ``ml-latest-small`` (2018).
    data_home : str or path-like, default=None
        Another download and cache folder. By default all scikit-learn data
        go in ``~/scikit_learn_data`` (see
        :func:`sklearn.datasets.get_data_home`).
    download_if_missing : bool, default=True
        If False, raise an ``OSError`` instead of downloading when the data
        are not in the cache.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        Return ``data`` as a pandas DataFrame, ``target`` as a Series and
        ``frame`` as a DataFrame of users, items, ratings and timestamps.
        Requires pandas.
    n_retries : int, default=3
        Number of retries when the download fails (HTTP or network error).
    delay : float, default=1.0
        Seconds between retries.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : ndarray of shape (n_ratings, 2) or DataFrame
            The user code (column 0, ``0 <= user < n_users``) and the movie
            code (column 1) of each rating, int64. Codes number the users and
            the movies that have a rating, in the order of their MovieLens ids.
        target : ndarray of shape (n_ratings,) or Series
            The ratings, float64.
        timestamp : ndarray of shape (n_ratings,)
            When each rating was made, in seconds since 1970-01-01 UTC, int64.
        user_ids, item_ids : ndarray of shape (n_users,) and (n_items,)
            The MovieLens ``userId`` / ``movieId`` of each code.
        shape : tuple of int
            ``(n_users, n_items)``: the shape of the ratings matrix.
        feature_names : list of str
            ``["user", "item"]``.
        target_names : list of str
            ``["rating"]``.
        frame : DataFrame of shape (n_ratings, 4) or None
            With ``as_frame=True``: user, item, rating and timestamp. None
            otherwise.
        DESCR : str
            Description of the variants, their source and their licence.

    (data, target) : tuple if ``return_X_y`` is True
        The two arrays (or DataFrame and Series) described above.

    Raises
    ------
    OSError
        When the archive is not cached and ``download_if_missing=False``, when
        the download fails after ``n_retries`` retries, or when the downloaded
        file does not have the expected SHA-256 (nothing is cached then).

    See Also
    --------
    sklr.completion.ratings_matrix : The sparse ratings matrix of the triplets.
    sklr.datasets.make_ratings : Synthetic MovieLens-like ratings, offline.

    Notes
    -----
    The expected SHA-256 of each archive is the one published in TensorFlow
    Datasets' checksum registry (``url_checksums/movielens.txt``). The
    archive is written to a temporary file and moved into the cache only
    when its checksum matches, so an interrupted or corrupted download never
    leaves a file that a later call would trust.

    References
    ----------
    .. [1] F. M. Harper and J. A. Konstan, "The MovieLens Datasets: History
       and Context", ACM Transactions on Interactive Intelligent Systems 5, 4
       (2015) 19:1-19:19, https://doi.org/10.1145/2827872

    Examples
    --------
    >>> from sklr.completion import ratings_matrix
    >>> from sklr.datasets import fetch_movielens
    >>> movielens = fetch_movielens("100k")  # doctest: +SKIP
    >>> movielens.data.shape, movielens.shape  # doctest: +SKIP
    ((100000, 2), (943, 1682))
    >>> X = ratings_matrix(movielens.data[:, 0], movielens.data[:, 1],
    ...                    movielens.target, shape=movielens.shape)  # doctest: +SKIP
    >>> X.nnz  # doctest: +SKIP
    100000
    """
    archive = ARCHIVES[variant]
    folder = Path(get_data_home(data_home)) / "movielens"
    path = folder / archive.filename
    if not path.exists():
        if not download_if_missing:
            raise OSError(
                f"MovieLens {variant!r} is not in the cache ({path}) and "
                f"download_if_missing=False; it would be downloaded from {archive.url}."
            )
        folder.mkdir(parents=True, exist_ok=True)
        _download(archive, path, n_retries, delay)

    user_id, item_id, rating, timestamp = _read_ratings(path, archive)
    user_ids, users = np.unique(user_id, return_inverse=True)
    item_ids, items = np.unique(item_id, return_inverse=True)
    data = np.column_stack([users, items]).astype(np.int64)
    frame = None
    if as_frame:
        pd = _pandas()
        data = pd.DataFrame(data, columns=["user", "item"])
        rating = pd.Series(rating, name="rating")
        frame = pd.concat([data, rating, pd.Series(timestamp, name="timestamp")], axis=1)
    if return_X_y:
        return data, rating
    return Bunch(
        data=data,
        target=rating,
        timestamp=timestamp,
        user_ids=user_ids,
        item_ids=item_ids,
        shape=(user_ids.size, item_ids.size),
        feature_names=["user", "item"],
        target_names=["rating"],
        frame=frame,
        DESCR=load_descr("movielens.rst"),
    )


# ml-100k's five-fold cross-validation splits: u1.base / u1.test ... u5.base / u5.test,
# 80/20 splits of u.data with disjoint test sets.
U_SPLITS = ("u1", "u2", "u3", "u4", "u5")


def _split_files(path, splits):
    """``{file name: text}`` of ``<split>.base`` and ``<split>.test`` for each split.

    ``path`` is a folder holding the files (or an ``ml-100k`` folder inside
    it), or a zip archive holding them in any folder, as ml-100k.zip does.
    """
    names = [f"{split}.{part}" for split in splits for part in ("base", "test")]
    path = Path(path)
    if path.is_file():
        if not zipfile.is_zipfile(path):
            raise ValueError(f"path={str(path)!r} is a file but not a zip archive: give the "
                             "folder that holds u1.base, u1.test, ... or the ml-100k.zip archive.")
        with zipfile.ZipFile(path) as zf:
            members = {Path(member).name: member for member in zf.namelist()}
            missing = [name for name in names if name not in members]
            if missing:
                raise FileNotFoundError(f"{path} holds no {', '.join(missing)}.")
            return {name: zf.read(members[name]).decode("utf-8") for name in names}
    if not path.is_dir():
        raise FileNotFoundError(f"No such folder or zip archive: {path}.")
    if not (path / names[0]).exists() and (path / "ml-100k" / names[0]).exists():
        path = path / "ml-100k"
    missing = [name for name in names if not (path / name).is_file()]
    if missing:
        raise FileNotFoundError(
            f"{path} has no {', '.join(missing)}: point path at the ml-100k folder that holds "
            "the u1.base / u1.test ... u5.base / u5.test files of the MovieLens 100K archive."
        )
    return {name: (path / name).read_text(encoding="utf-8") for name in names}


def _parse_split_file(name, text):
    """The (user id, item id, rating, timestamp) columns of one tab-separated ratings file."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # loadtxt on an empty file
            table = np.loadtxt(io.StringIO(text), delimiter="\t", dtype=np.float64, ndmin=2)
    except ValueError as exc:
        raise ValueError(f"{name} is not a MovieLens ratings file (lines "
                         f"user<TAB>item<TAB>rating<TAB>timestamp): {exc}") from exc
    if table.shape[0] == 0:
        raise ValueError(f"{name} holds no ratings.")
    if table.shape[1] != 4:
        raise ValueError(f"{name} has {table.shape[1]} columns; MovieLens ratings files have 4 "
                         "(user<TAB>item<TAB>rating<TAB>timestamp).")
    ids = table[:, [0, 1, 3]]
    if not np.all(np.isfinite(table)) or np.any(ids != np.round(ids)):
        raise ValueError(f"{name}: user, item and timestamp must be integers and ratings finite.")
    user_id, item_id, timestamp = (table[:, j].astype(np.int64) for j in (0, 1, 3))
    return user_id, item_id, table[:, 2], timestamp


@validate_params(
    {"path": [str, os.PathLike], "splits": [list, tuple]},
    prefer_skip_nested_validation=True,
)
def load_movielens_splits(path, *, splits=U_SPLITS):
    """Load the train/test splits of MovieLens 100K from a local copy.

    MovieLens 100K ships five 80/20 splits of its ratings for five-fold
    cross-validation, ``u1.base`` / ``u1.test`` to ``u5.base`` / ``u5.test``,
    whose test sets are disjoint and together hold every rating; published
    results on "MovieLens-100K, 5-fold" use them. This function reads them
    from a folder or from the ``ml-100k.zip`` archive (which
    :func:`fetch_movielens` keeps in ``<data_home>/movielens/``), and returns
    the ratings once, with each split as indices into them.

    Parameters
    ----------
    path : str or path-like
        The ``ml-100k`` folder of the archive (or the folder that holds it),
        or the ``ml-100k.zip`` archive itself. The files are tab-separated
        lines ``user id, item id, rating, timestamp``.
    splits : list or tuple of str, default=("u1", "u2", "u3", "u4", "u5")
        Which splits to read, each from ``<split>.base`` (training ratings)
        and ``<split>.test`` (test ratings); ``("ua", "ub")`` are the
        archive's other two splits (ten test ratings per user).

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : ndarray of shape (n_ratings, 2)
            The user code (column 0) and the movie code (column 1) of every
            distinct rating in the files, int64, sorted by user and movie.
            Codes number the users and the movies that have a rating, in the
            order of their MovieLens ids; they are the same in every split.
        target : ndarray of shape (n_ratings,)
            The ratings, float64.
        timestamp : ndarray of shape (n_ratings,)
            When each rating was made, in seconds since 1970-01-01 UTC, int64.
        folds : list of (ndarray, ndarray)
            For each split, the indices into ``data`` of its training and of
            its test ratings, as the ``cv`` argument of scikit-learn's model
            selection tools takes them.
        split_names : list of str
            The name of each split (``splits``).
        user_ids, item_ids : ndarray of shape (n_users,) and (n_items,)
            The MovieLens id of each code.
        shape : tuple of int
            ``(n_users, n_items)``: the shape of the ratings matrices.
        feature_names : list of str
            ``["user", "item"]``.
        target_names : list of str
            ``["rating"]``.
        DESCR : str
            Description of the MovieLens data sets and their licence.

    Raises
    ------
    FileNotFoundError
        When ``path`` does not exist or lacks one of the split files.
    ValueError
        When a file is not a ratings file, rates a (user, movie) pair twice,
        or when two files give one pair different ratings, or a split has a
        rating in both its training and its test file.

    See Also
    --------
    fetch_movielens : Download MovieLens and load all of its ratings.
    sklr.completion.ratings_matrix : The sparse ratings matrix of the triplets.

    Notes
    -----
    The MovieLens 100K licence does not allow sklr to ship the data or the
    splits: download ``ml-100k.zip`` from GroupLens (or call
    ``fetch_movielens("100k")``) and point ``path`` at it.

    Examples
    --------
    >>> from sklr.completion import MatrixCompleter, ratings_matrix
    >>> from sklr.datasets import load_movielens_splits
    >>> ml = load_movielens_splits("ml-100k")  # doctest: +SKIP
    >>> ml.data.shape, ml.shape, len(ml.folds)  # doctest: +SKIP
    ((100000, 2), (943, 1682), 5)
    >>> train, test = ml.folds[0]  # doctest: +SKIP
    >>> X = ratings_matrix(ml.data[train, 0], ml.data[train, 1], ml.target[train],
    ...                    shape=ml.shape)  # doctest: +SKIP
    >>> model = MatrixCompleter(alpha=10.0, center="biases").fit(X)  # doctest: +SKIP
    >>> predicted = model.predict_entries(ml.data[test, 0], ml.data[test, 1])  # doctest: +SKIP
    """
    splits = list(splits)
    if not splits or not all(isinstance(split, str) and split for split in splits) \
            or len(set(splits)) < len(splits):
        raise ValueError(f"splits must be distinct split names such as 'u1', got {splits!r}.")
    texts = _split_files(path, splits)
    tables = {name: _parse_split_file(name, text) for name, text in texts.items()}
    user_id, item_id, rating, timestamp = (np.concatenate([t[j] for t in tables.values()])
                                           for j in range(4))
    user_ids, users = np.unique(user_id, return_inverse=True)
    item_ids, items = np.unique(item_id, return_inverse=True)
    keys = users * item_ids.size + items
    _, first, position = np.unique(keys, return_index=True, return_inverse=True)
    clash = rating != rating[first][position]
    if np.any(clash):
        at = int(np.argmax(clash))
        raise ValueError(f"The files rate user {user_id[at]}, movie {item_id[at]} both "
                         f"{rating[at]:g} and {rating[first[position[at]]]:g}.")
    positions, start = {}, 0
    for name, table in tables.items():
        positions[name] = position[start:start + table[0].size]
        start += table[0].size
        if np.unique(positions[name]).size < positions[name].size:
            raise ValueError(f"{name} rates a (user, movie) pair more than once.")
    folds = []
    for split in splits:
        train, test = positions[f"{split}.base"], positions[f"{split}.test"]
        if np.intersect1d(train, test).size:
            raise ValueError(f"{split}.base and {split}.test share ratings: a test rating "
                             "must not be in the training ratings.")
        folds.append((train, test))
    return Bunch(
        data=np.column_stack([users[first], items[first]]).astype(np.int64),
        target=rating[first],
        timestamp=timestamp[first],
        folds=folds,
        split_names=splits,
        user_ids=user_ids,
        item_ids=item_ids,
        shape=(user_ids.size, item_ids.size),
        feature_names=["user", "item"],
        target_names=["rating"],
        DESCR=load_descr("movielens.rst"),
    )
