"""The bad-input matrix (issue 17.9) for complete_matrix and ratings_matrix."""

import numpy as np

from sklr.completion import complete_matrix, ratings_matrix
from tests._bad_inputs import check_bad_inputs


def _entries():
    rng = np.random.RandomState(0)
    M = rng.standard_normal((12, 2)) @ rng.standard_normal((2, 10))
    rows, cols = np.nonzero(rng.uniform(size=M.shape) < 0.7)
    return rows, cols, M[rows, cols], M.shape


def test_complete_matrix_bad_inputs():
    rows, cols, values, shape = _entries()
    repeated = dict(rows=np.r_[rows, rows[0]], cols=np.r_[cols, cols[0]], values=np.r_[values, 1.0])
    check_bad_inputs(
        complete_matrix,
        dict(rows=rows, cols=cols, values=values, shape=shape, n_components=2, max_iter=100,
             random_state=0),
        arrays=["rows", "cols", "values"],
        positive=["n_components", "max_iter"],
        # Integer indices given as floats with NaN/inf are rejected as non-integer.
        extra_cases=[
            ("rows:duplicate", repeated, "raise"),
            ("rows:out_of_range", dict(rows=np.r_[rows[:-1], 12]), "raise"),
            ("cols:negative", dict(cols=np.r_[cols[:-1], -1]), "raise"),
            ("shape:too_small", dict(shape=(12, 3)), "raise"),
            ("shape:one_dimension", dict(shape=(12,)), "raise"),
            ("shape:not_integers", dict(shape=(12.0, 10.0)), "raise"),
            ("n_components:above_min_shape", dict(n_components=11), "raise"),
            ("n_components:auto", dict(n_components="auto"), "ok"),
            ("alpha:nan", dict(alpha=float("nan")), "raise"),
            ("alpha:negative", dict(alpha=-1.0), "raise"),
            ("values:int", dict(values=np.round(10 * values).astype(int)), "ok"),
            ("solver:unknown", dict(solver="lsqr"), "raise"),
            ("center:unknown", dict(center="rows"), "raise"),
            ("tol:nan", dict(tol=float("nan")), "raise"),
            ("sketch_size:below_rank", dict(sketch_size=1), "raise"),
        ],
    )


def test_ratings_matrix_bad_inputs():
    rows, cols, values, shape = _entries()
    check_bad_inputs(
        ratings_matrix,
        dict(rows=rows, cols=cols, values=values, shape=shape),
        arrays=["rows", "cols", "values"],
        extra_cases=[
            ("rows:duplicate", dict(rows=np.r_[rows, rows[0]], cols=np.r_[cols, cols[0]],
                                    values=np.r_[values, 1.0]), "raise"),
            ("rows:negative", dict(rows=np.r_[rows[:-1], -1]), "raise"),
            ("shape:too_small", dict(shape=(12, 3)), "raise"),
            ("shape:one_dimension", dict(shape=(12,)), "raise"),
            ("shape:negative", dict(shape=(-1, 10)), "raise"),
            ("shape:string", dict(shape="foo"), "raise"),
            ("shape:default", dict(shape=None), "ok"),
            ("values:int", dict(values=np.round(10 * values).astype(int)), "ok"),
        ],
    )
