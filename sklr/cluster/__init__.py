"""Clustering by semidefinite programming: the iterated likelihood-adjusted SDP (iLA-SDP)."""

from ._sdp import la_sdp, solve_admm, solve_bm
from ._sdp_clusterer import SDPClusterer

__all__ = ["SDPClusterer", "la_sdp", "solve_admm", "solve_bm"]
