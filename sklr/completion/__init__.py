"""Low-rank matrix completion: :class:`MatrixCompleter` and the functions behind it."""

from ._altmin import MatrixCompletionResult, complete_matrix
from ._completer import MatrixCompleter
from ._observed import ratings_matrix

__all__ = ["MatrixCompleter", "MatrixCompletionResult", "complete_matrix", "ratings_matrix"]
