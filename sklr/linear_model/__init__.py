"""Linear models: :class:`SketchedRegressor`."""

from ._sketched import SketchedRegressor

__all__ = ["SketchedRegressor"]
