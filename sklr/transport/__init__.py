"""Entropic optimal transport: :class:`SinkhornNewtonOT` and the solver behind it."""

from ._estimator import SinkhornNewtonOT
from ._sinkhorn_newton import sinkhorn_newton, sinkhorn_newton2

__all__ = ["SinkhornNewtonOT", "sinkhorn_newton", "sinkhorn_newton2"]
