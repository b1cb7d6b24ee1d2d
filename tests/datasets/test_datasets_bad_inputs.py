"""The bad-input matrix (issue 17.9) on sklr.datasets' generators: sizes and scalars."""

import numpy as np

from sklr.datasets import (
    make_heterogeneous_mixture,
    make_kronecker_sparse,
    make_least_squares,
    make_low_rank_completion,
    make_ratings,
)
from tests._bad_inputs import check_bad_inputs

FLOAT_SIZE = 10.5  # sizes must be integers


def test_make_least_squares_bad_inputs():
    check_bad_inputs(make_least_squares, dict(n_samples=30, n_features=3, n_targets=1, random_state=0),
                     positive=["n_samples", "n_features", "n_targets"],
                     extra_cases=[("n_samples:float", dict(n_samples=FLOAT_SIZE), "raise"),
                                  ("n_features:above_n_samples", dict(n_features=31), "raise"),
                                  ("design:unknown", dict(design="foo"), "raise"),
                                  ("cond:below_one", dict(cond=0.5), "raise"),
                                  ("noise:negative", dict(noise=-1.0), "raise"),
                                  ("noise:inf", dict(noise=np.inf), "raise"),
                                  ("n_targets:zero", dict(n_targets=0), "raise")])


def test_make_low_rank_completion_bad_inputs():
    # The observed matrix holds NaN by design: the check runs on the full matrix M.
    check_bad_inputs(lambda **kw: make_low_rank_completion(**kw)[1],
                     dict(n_rows=10, n_cols=8, rank=2, random_state=0),
                     positive=["n_rows", "n_cols", "rank"],
                     extra_cases=[("rank:above_min_shape", dict(rank=9), "raise"),
                                  ("n_observed:too_many", dict(n_observed=81), "raise"),
                                  ("n_observed:zero", dict(n_observed=0), "raise"),
                                  ("n_rows:float", dict(n_rows=FLOAT_SIZE), "raise"),
                                  ("noise:nan", dict(noise=np.nan), "raise")])


def test_make_ratings_bad_inputs():
    check_bad_inputs(make_ratings, dict(n_users=20, n_items=40, n_ratings=200, rank=3, random_state=0),
                     positive=["n_users", "n_items", "n_ratings", "rank"],
                     extra_cases=[("n_ratings:too_few", dict(n_ratings=50), "raise"),
                                  ("n_ratings:too_many", dict(n_ratings=401), "raise"),
                                  ("noise:negative", dict(noise=-0.1), "raise")])


def test_make_kronecker_sparse_bad_inputs():
    check_bad_inputs(make_kronecker_sparse,
                     dict(factor_shapes=((3, 4), (2, 4)), n_nonzero=2, random_state=0),
                     positive=["n_nonzero"],
                     extra_cases=[("factor_shapes:empty", dict(factor_shapes=()), "raise"),
                                  ("factor_shapes:zero", dict(factor_shapes=((0, 4),)), "raise"),
                                  ("factor_shapes:strings", dict(factor_shapes=(("a", 4),)),
                                   "raise"),
                                  ("n_nonzero:above_n", dict(n_nonzero=5), "raise"),
                                  ("snr_db:nan", dict(snr_db=np.nan), "raise"),
                                  ("snr_db:inf", dict(snr_db=np.inf), "ok"),
                                  ("n_samples:zero", dict(n_samples=0), "raise")])


def test_make_heterogeneous_mixture_bad_inputs():
    check_bad_inputs(make_heterogeneous_mixture,
                     dict(n_samples=50, n_features=2, n_clusters=3, random_state=0),
                     positive=["n_samples", "n_features", "n_clusters"],
                     extra_cases=[("n_clusters:above_n_samples", dict(n_clusters=51), "raise"),
                                  ("separation:negative", dict(separation=-1.0), "raise"),
                                  ("separation:inf", dict(separation=np.inf), "raise")])
