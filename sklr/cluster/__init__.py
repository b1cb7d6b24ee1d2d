"""Clustering by semidefinite programming (work in progress, issue 7).

The estimator ``SDPClusterer`` is not built yet. :mod:`sklr.cluster._sdp` holds
the two SDP solvers it will use (tested against cvxpy) and the iLA-SDP
iteration ``la_sdp`` (tested on a heterogeneous mixture); nothing here is
public API yet.
"""
