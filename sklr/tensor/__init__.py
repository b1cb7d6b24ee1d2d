"""Tensors with continuous indices: :class:`FunctionalTucker` and its state-space tools."""

from ._estimator import FunctionalTucker
from ._funbat import FunBaTResult, funbat, funbat_predict
from ._state_space import (
    kalman_filter,
    matern_state_space,
    matern_transition,
    rts_smoother,
    state_space_predict,
)

__all__ = [
    "FunBaTResult",
    "FunctionalTucker",
    "funbat",
    "funbat_predict",
    "kalman_filter",
    "matern_state_space",
    "matern_transition",
    "rts_smoother",
    "state_space_predict",
]
