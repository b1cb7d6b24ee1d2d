"""Utilities: the backend layer, input validation and estimator-check helpers."""
