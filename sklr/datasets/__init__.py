"""Synthetic problems (with ground truth) for sklr's estimators."""

from ._samples_generator import make_least_squares

__all__ = ["make_least_squares"]
