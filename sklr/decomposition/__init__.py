"""Sparse coding with structured dictionaries: :class:`SparseBayesKronecker` and its solver."""

from ._kronecker_sbl import KroneckerSBLResult, kronecker_posterior, kronecker_sbl
from ._sparse_bayes import SparseBayesKronecker

__all__ = ["KroneckerSBLResult", "SparseBayesKronecker", "kronecker_posterior", "kronecker_sbl"]
