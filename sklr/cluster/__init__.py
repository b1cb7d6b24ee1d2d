"""Clustering by semidefinite programming (work in progress, issue 7: the SDP solvers only).

The estimator ``SDPClusterer`` is not built yet; :mod:`sklr.cluster._sdp` holds
the two SDP solvers it will use, tested against cvxpy.
"""
