"""Synthetic problems (with ground truth) for sklr's estimators."""

from ._samples_generator import (
    make_heterogeneous_mixture,
    make_kronecker_sparse,
    make_least_squares,
    make_low_rank_completion,
    make_ratings,
)

__all__ = [
    "make_heterogeneous_mixture",
    "make_kronecker_sparse",
    "make_least_squares",
    "make_low_rank_completion",
    "make_ratings",
]
