"""Loaders for the data sets shipped with sklr."""

import csv
import gzip
from importlib import resources

import numpy as np
from sklearn.utils import Bunch

from ..utils._validation import StrOptions, validate_params

__all__ = ["load_beijing_air"]

DATA_MODULE = "sklr.datasets.data"
_AIR_FILE = "beijing_air_daily.csv.gz"
_AIR_FEATURES = ["temperature", "pressure", "day"]
_AIR_COLUMNS = {"temperature": "temp", "pressure": "pres"}
_AIR_TARGETS = ("pm25", "pm10", "so2")


def load_descr(name):
    """The text of ``data/<name>`` (a data set's description and licence)."""
    return resources.files(DATA_MODULE).joinpath(name).read_text(encoding="utf-8")


def _pandas():
    try:
        import pandas
    except ImportError as exc:
        raise ImportError(
            "as_frame=True requires pandas, which is not installed "
            "(pip install pandas)."
        ) from exc
    return pandas


@validate_params(
    {
        "target": [StrOptions(set(_AIR_TARGETS))],
        "return_X_y": ["boolean"],
        "as_frame": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def load_beijing_air(*, target="pm25", return_X_y=False, as_frame=False):
    """Load the Beijing air-quality data: daily pollutant means at continuous indices.

    16,965 station-days from 12 monitoring sites in Beijing (March 2013 to
    February 2017), each indexed by three real numbers: the day's mean
    temperature, its mean air pressure and the day itself. With one
    pollutant as the target this is the continuous-indexed tensor of the
    FunBaT experiments, 428 x 501 x 1461 distinct index values of which
    16,965 are observed: the data :class:`~sklr.tensor.FunctionalTucker`
    is made for.

    =================  ====================================
    Samples total      16,965
    Dimensionality     3 (continuous indices)
    Features           real; deg C, hPa, days since 1970-01-01
    Targets            real, ug/m3 (PM2.5, PM10 or SO2)
    =================  ====================================

    The data ship with sklr (a 230 KB file), so this works offline. They are
    a daily aggregation of the UCI "Beijing Multi-Site Air Quality" data
    (S. Chen, 2017, https://doi.org/10.24432/C5RK5G) and, like the source,
    licensed under the Creative Commons Attribution 4.0 International
    licence (CC BY 4.0), not under sklr's BSD-3-Clause licence: credit the
    source (see References) when you use them. ``DESCR`` states the licence,
    the changes made to the source and the sizes.

    Parameters
    ----------
    target : {"pm25", "pm10", "so2"}, default="pm25"
        The pollutant returned as ``target``: the daily mean PM2.5, PM10 or
        SO2 concentration, in micrograms per cubic metre.
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=False
        Return ``data`` as a pandas DataFrame, ``target`` as a Series and
        ``frame`` as a DataFrame with the station, the date, the features
        and the target. Requires pandas.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with the following attributes.

        data : ndarray of shape (16965, 3) or DataFrame
            The continuous indices: ``temperature`` (daily mean, deg C,
            rounded to 0.1), ``pressure`` (daily mean, hPa, rounded to 0.1)
            and ``day`` (days since 1970-01-01), as float64.
        target : ndarray of shape (16965,) or Series
            The daily mean concentration of the chosen pollutant (ug/m3,
            rounded to 3 decimals).
        feature_names : list of str
            ``["temperature", "pressure", "day"]``.
        target_names : list of str
            ``[target]``.
        station : ndarray of str of shape (16965,)
            The monitoring site of each row.
        date : ndarray of datetime64[D] of shape (16965,)
            The calendar day of each row (``day`` as a date).
        frame : DataFrame of shape (16965, 6) or None
            With ``as_frame=True``: station, date, the three features and the
            target. None otherwise.
        DESCR : str
            Description of the data set, its source and its licence.

    (data, target) : tuple if ``return_X_y`` is True
        The two arrays (or DataFrame and Series) described above.

    Notes
    -----
    Rows are sorted by date, then station. The recipe (from the FunBaT
    paper's preprocessing) drops every hourly record that misses any of the
    source's 17 fields, averages the rest per station and day and rounds
    temperature and pressure to one decimal; these rounded values are the
    indices of the temperature and pressure modes. FunBaT then min-max
    scales each index to [0, 10] and z-scores the target
    (``benchmarks/bench_functional_tucker.py`` does the same).

    References
    ----------
    .. [1] S. Zhang, B. Guo, A. Dong, J. He, Z. Xu and S. X. Chen, "Cautionary
       tales on air-quality improvement in Beijing", Proceedings of the Royal
       Society A 473 (2017) 20170457.
    .. [2] S. Chen, "Beijing Multi-Site Air Quality", UCI Machine Learning
       Repository (2017), https://doi.org/10.24432/C5RK5G, CC BY 4.0.
    .. [3] S. Fang, X. Yu, Z. Wang, S. Li, M. Kirby and S. Zhe, "Functional
       Bayesian Tucker Decomposition for Continuous-indexed Tensor Data",
       ICLR 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.datasets import load_beijing_air
    >>> air = load_beijing_air()
    >>> air.data.shape, air.target.shape
    ((16965, 3), (16965,))
    >>> air.feature_names
    ['temperature', 'pressure', 'day']
    >>> [len(np.unique(column)) for column in air.data.T]
    [428, 501, 1461]
    >>> str(air.date[0]), str(air.station[0]), float(air.target[0])
    ('2013-03-01', 'Aotizhongxin', 7.125)
    >>> "CC BY 4.0" in air.DESCR
    True
    """
    source = resources.files(DATA_MODULE).joinpath(_AIR_FILE)
    with source.open("rb") as raw, gzip.open(raw, "rt", encoding="utf-8", newline="") as text:
        reader = csv.reader(text)
        header = next(reader)
        columns = dict(zip(header, (np.asarray(c) for c in zip(*reader))))
    date = columns["date"].astype("datetime64[D]")
    day = date.astype(np.int64).astype(np.float64)
    data = np.column_stack(
        [columns[_AIR_COLUMNS["temperature"]].astype(np.float64),
         columns[_AIR_COLUMNS["pressure"]].astype(np.float64), day]
    )
    y = columns[target].astype(np.float64)
    station = columns["station"].astype(str)
    frame = None
    if as_frame:
        pd = _pandas()
        data = pd.DataFrame(data, columns=_AIR_FEATURES)
        y = pd.Series(y, name=target)
        frame = pd.concat(
            [pd.DataFrame({"station": station, "date": date}), data, y], axis=1
        )
    if return_X_y:
        return data, y
    return Bunch(
        data=data,
        target=y,
        feature_names=list(_AIR_FEATURES),
        target_names=[target],
        station=station,
        date=date,
        frame=frame,
        DESCR=load_descr("beijing_air_daily.rst"),
    )
