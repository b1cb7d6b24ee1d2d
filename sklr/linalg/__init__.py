"""Randomized numerical linear algebra shared by sklr's estimators.

Sketching operators (:class:`SRHT`, :class:`GaussianSketch`,
:class:`CountSketch`, :class:`SparseSignSketch`), sketched least squares
(:func:`sketched_lstsq`), leverage scores (:func:`leverage_scores`), Kronecker-structured products
(:func:`kron_matvec`, :func:`mode_product`, :func:`kron`), l_p
importance scores (:func:`lewis_weights`, :func:`root_leverage_scores`,
:func:`lp_sensitivities`) and l_p regression (:func:`lp_regression`).
"""

from ._kronecker import kron, kron_matvec, mode_product
from ._lewis import lewis_weights, lp_sensitivities, root_leverage_scores
from ._lp import LpRegressionResult, lp_regression
from ._lstsq import (
    SketchedLstsqResult,
    default_sketch_size,
    leverage_scores,
    sketched_lstsq,
)
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
    "LpRegressionResult",
    "SketchedLstsqResult",
    "SparseSignSketch",
    "default_sketch_size",
    "kron",
    "kron_matvec",
    "leverage_scores",
    "lewis_weights",
    "lp_regression",
    "lp_sensitivities",
    "make_sketch",
    "mode_product",
    "root_leverage_scores",
    "sketched_lstsq",
    "theoretical_sketch_size",
]
