"""Low-rank matrix completion: :class:`MatrixCompleter` and the functions behind it."""

from ._altmin import MatrixCompletionResult, complete_matrix

__all__ = ["MatrixCompletionResult", "complete_matrix"]
