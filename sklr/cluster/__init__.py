"""Clustering by semidefinite programming: the iterated likelihood-adjusted SDP (iLA-SDP)."""

from ._sdp import la_sdp, solve_admm, solve_bm
from ._sdp_clusterer import SDPClusterer, misclustering_error

__all__ = ["SDPClusterer", "la_sdp", "misclustering_error", "solve_admm", "solve_bm"]
