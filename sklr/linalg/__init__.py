"""Randomized numerical linear algebra shared by sklr's estimators.

Sketching operators (:class:`SRHT`, :class:`GaussianSketch`,
:class:`CountSketch`, :class:`SparseSignSketch`), sketched least squares
(:func:`sketched_lstsq`) and leverage scores (:func:`leverage_scores`).
"""

from ._lstsq import SketchedLstsqResult, default_sketch_size, leverage_scores, sketched_lstsq
from ._sketches import (
    SRHT,
    CountSketch,
    GaussianSketch,
    SparseSignSketch,
    make_sketch,
    theoretical_sketch_size,
)

__all__ = [
    "SRHT",
    "CountSketch",
    "GaussianSketch",
    "SketchedLstsqResult",
    "SparseSignSketch",
    "default_sketch_size",
    "leverage_scores",
    "make_sketch",
    "sketched_lstsq",
    "theoretical_sketch_size",
]
