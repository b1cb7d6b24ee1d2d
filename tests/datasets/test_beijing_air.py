import csv
import gzip
import hashlib
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
from sklearn.utils._param_validation import InvalidParameterError

from sklr.datasets import load_beijing_air

SHARED_CSV = (Path(__file__).resolve().parents[3] / "shared" / "data" / "beijing-air"
              / "beijing_air_daily.csv")
needs_shared = pytest.mark.skipif(not SHARED_CSV.exists(),
                                  reason="shared/data/beijing-air is not next to the repository")


def test_shipped_file_is_small_and_packaged():
    source = resources.files("sklr.datasets.data").joinpath("beijing_air_daily.csv.gz")
    assert source.is_file()
    assert len(source.read_bytes()) < 300_000


def test_bunch():
    air = load_beijing_air()
    assert air.data.shape == (16965, 3) and air.data.dtype == np.float64
    assert air.target.shape == (16965,) and air.target.dtype == np.float64
    assert air.feature_names == ["temperature", "pressure", "day"]
    assert air.target_names == ["pm25"]
    assert air.frame is None
    assert np.all(np.isfinite(air.data)) and np.all(np.isfinite(air.target))
    # The sizes of the FunBaT paper's tensor: 428 x 501 x 1461 distinct indices.
    assert [np.unique(c).size for c in air.data.T] == [428, 501, 1461]
    assert air.data[:, 0].min() == -15.7 and air.data[:, 0].max() == 37.0
    assert air.data[:, 1].min() == 985.6 and air.data[:, 1].max() == 1041.0
    # day is the date as days since 1970-01-01, every day of the four years present
    assert air.date.dtype == np.dtype("datetime64[D]")
    np.testing.assert_array_equal(air.data[:, 2], air.date.astype(np.int64))
    assert str(air.date.min()) == "2013-03-01" and str(air.date.max()) == "2017-02-28"
    assert np.all(np.diff(air.date.astype(np.int64)) >= 0)  # sorted by date
    assert np.unique(air.station).size == 12
    pairs = {(s, d) for s, d in zip(air.station, air.date.astype(str))}
    assert len(pairs) == 16965  # one row per station-day
    assert np.all(air.target > 0)


def test_targets_and_return_X_y():
    full = load_beijing_air()
    for target in ("pm10", "so2"):
        X, y = load_beijing_air(target=target, return_X_y=True)
        np.testing.assert_array_equal(X, full.data)
        assert y.shape == (16965,) and not np.array_equal(y, full.target)
    assert load_beijing_air(target="so2").target_names == ["so2"]


def test_descr_states_source_and_licence():
    descr = load_beijing_air().DESCR
    for text in ("CC BY 4.0", "Creative Commons Attribution 4.0",
                 "https://creativecommons.org/licenses/by/4.0/", "10.24432/C5RK5G",
                 "Cautionary", "Changes from the source"):
        assert text in descr
    assert "CC BY 4.0" in load_beijing_air.__doc__


def test_as_frame():
    pd = pytest.importorskip("pandas")
    air = load_beijing_air(as_frame=True, target="pm10")
    assert isinstance(air.data, pd.DataFrame) and isinstance(air.target, pd.Series)
    assert list(air.data.columns) == air.feature_names
    assert air.target.name == "pm10"
    assert list(air.frame.columns) == ["station", "date", "temperature", "pressure", "day",
                                       "pm10"]
    np.testing.assert_array_equal(air.frame["pm10"].to_numpy(),
                                  load_beijing_air(target="pm10").target)
    X, y = load_beijing_air(as_frame=True, return_X_y=True)
    assert X.shape == (16965, 3) and y.name == "pm25"


def test_bad_target():
    with pytest.raises(InvalidParameterError, match="The 'target' parameter"):
        load_beijing_air(target="no2")


@needs_shared
def test_shipped_file_is_the_shared_file():
    source = resources.files("sklr.datasets.data").joinpath("beijing_air_daily.csv.gz")
    with source.open("rb") as fh:
        shipped = gzip.decompress(fh.read())
    assert hashlib.sha256(shipped).hexdigest() == hashlib.sha256(
        SHARED_CSV.read_bytes()).hexdigest()


@needs_shared
def test_values_against_the_shared_csv():
    with open(SHARED_CSV, newline="") as fh:
        rows = list(csv.DictReader(fh))
    air = load_beijing_air()
    for target in ("pm25", "pm10", "so2"):
        np.testing.assert_array_equal(load_beijing_air(target=target).target,
                                      [float(r[target]) for r in rows])
    np.testing.assert_array_equal(air.data[:, 0], [float(r["temp"]) for r in rows])
    np.testing.assert_array_equal(air.data[:, 1], [float(r["pres"]) for r in rows])
    np.testing.assert_array_equal(
        air.data[:, 2], [np.datetime64(r["date"], "D").astype(np.int64) for r in rows])
    assert list(air.station) == [r["station"] for r in rows]
