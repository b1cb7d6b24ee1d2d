"""Synthetic problems (with ground truth) for sklr's estimators, and real data to try them on."""

from ._base import load_beijing_air
from ._movielens import fetch_movielens, load_movielens_splits
from ._samples_generator import (
    make_heterogeneous_mixture,
    make_kronecker_sparse,
    make_least_squares,
    make_low_rank_completion,
    make_ratings,
)

__all__ = [
    "fetch_movielens",
    "load_beijing_air",
    "load_movielens_splits",
    "make_heterogeneous_mixture",
    "make_kronecker_sparse",
    "make_least_squares",
    "make_low_rank_completion",
    "make_ratings",
]
