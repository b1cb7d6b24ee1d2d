"""Linear models: :class:`SketchedRegressor` and :class:`LpRegressor`."""

from ._lp import LpRegressor
from ._sketched import SketchedRegressor

__all__ = ["LpRegressor", "SketchedRegressor"]
