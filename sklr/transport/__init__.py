"""Entropic optimal transport: :func:`sinkhorn_newton` (Sinkhorn then sparse Newton)."""

from ._sinkhorn_newton import sinkhorn_newton, sinkhorn_newton2

__all__ = ["sinkhorn_newton", "sinkhorn_newton2"]
