"""The bad-input matrix (issue 17.9) on the tensor family's public functions.

Every array argument is mutated (list, NaN, inf, empty, wrong ndim, too short,
strings, None) and every positive scalar (NaN, inf, negative, zero, string);
each case must raise a ValueError/TypeError naming the argument or give the
reference result. The extra cases are the ones specific to each function:
shapes that disagree, indefinite covariances, unsorted inputs, bad ranks.
"""

import numpy as np
import pytest

from sklr.tensor import (
    funbat,
    funbat_predict,
    kalman_filter,
    matern_state_space,
    matern_transition,
    rts_smoother,
    state_space_predict,
)
from tests._bad_inputs import check_bad_inputs

T = np.array([0.0, 0.4, 1.0, 1.7])
DELTAS = np.diff(T, prepend=T[:1])
KERNEL = dict(kernel="matern32", lengthscale=0.7, variance=2.0)


def _filter_inputs():
    """A valid filtering problem: 2 GPs in one state (d = 4), messages on 2 outputs."""
    rng = np.random.RandomState(0)
    A, Q = matern_transition(DELTAS, **KERNEL, n_components=2)
    _, P_inf, H = matern_state_space(**KERNEL, n_components=2, xp=np)
    B = rng.standard_normal((len(T), 2, 2))
    Lam = B @ B.transpose(0, 2, 1) + 0.1 * np.eye(2)
    eta = rng.standard_normal((len(T), 2))
    return dict(A=A, Q=Q, H=H, obs_precision=Lam, obs_info=eta, P0=P_inf, m0=np.zeros(4))


def _indefinite(shape):
    M = np.zeros(shape)
    M[..., 0, 0] = -1.0
    return M


def test_matern_state_space_bad_inputs():
    check_bad_inputs(
        matern_state_space, dict(**KERNEL, xp=np, n_components=2),
        positive=["lengthscale", "variance"],
        extra_cases=[
            ("kernel:unknown", dict(kernel="matern52"), "raise"),
            ("n_components:zero", dict(n_components=0), "raise"),
            ("n_components:float", dict(n_components=1.5), "raise"),
        ],
    )


def test_matern_transition_bad_inputs():
    check_bad_inputs(
        matern_transition, dict(deltas=DELTAS, **KERNEL, n_components=2),
        arrays=["deltas"], weights=["deltas"], positive=["lengthscale", "variance"],
        # Zero gaps (repeated inputs) and no gaps at all are valid: identity transitions.
        expect={("deltas", "all_zero"): "ok", ("deltas", "empty"): "ok",
                ("deltas", "too_short"): "ok"},
        extra_cases=[
            ("kernel:unknown", dict(kernel="rbf"), "raise"),
            ("n_components:zero", dict(n_components=0), "raise"),
        ],
    )


def test_kalman_filter_bad_inputs():
    valid = _filter_inputs()
    asym = valid["obs_precision"].copy()
    asym[:, 0, 1] += 1.0
    check_bad_inputs(
        kalman_filter, valid,
        arrays=["A", "Q", "H", "obs_precision", "obs_info", "P0", "m0"],
        expect={("m0", "none"): "same"},  # the documented default: zero mean
        extra_cases=[
            ("P0:indefinite", dict(P0=_indefinite((4, 4))), "raise"),
            ("P0:not_square", dict(P0=valid["P0"][:, :3]), "raise"),
            ("Q:indefinite", dict(Q=valid["Q"] + _indefinite((4, 4, 4))), "raise"),
            ("obs_precision:indefinite",
             dict(obs_precision=valid["obs_precision"] - 10.0 * np.eye(2)), "raise"),
            ("obs_precision:asymmetric", dict(obs_precision=asym), "raise"),
            ("H:columns", dict(H=np.eye(2, 3)), "raise"),
            ("obs_precision:zero", dict(obs_precision=np.zeros((4, 2, 2))), "ok"),  # no data
        ],
    )


def test_rts_smoother_bad_inputs():
    valid = _filter_inputs()
    m, P, pm, pP = kalman_filter(**valid)
    singular = pP.copy()
    singular[2] = 0.0
    check_bad_inputs(
        rts_smoother, dict(A=valid["A"], means=m, covs=P, pred_means=pm, pred_covs=pP),
        arrays=["A", "means", "covs", "pred_means", "pred_covs"],
        extra_cases=[
            ("pred_covs:singular", dict(pred_covs=singular), "raise"),
            ("covs:indefinite", dict(covs=P + _indefinite(P.shape)), "raise"),
            ("means:columns", dict(means=m[:, :3]), "raise"),
        ],
    )


def test_state_space_predict_bad_inputs():
    valid = _filter_inputs()
    m, P, C = rts_smoother(valid["A"], *kalman_filter(**valid))
    kwargs = dict(t_new=np.array([-0.5, 0.2, 1.0, 2.5]), t=T, means=m, covs=P, cross_covs=C,
                  **KERNEL, n_components=2)
    check_bad_inputs(
        state_space_predict, kwargs,
        arrays=["t_new", "t", "means", "covs", "cross_covs"],
        positive=["lengthscale", "variance"],
        # Predicting at no input, or at fewer, is valid.
        expect={("t_new", "empty"): "ok", ("t_new", "too_short"): "ok"},
        extra_cases=[
            ("t:unsorted", dict(t=T[::-1].copy()), "raise"),
            ("t:repeated", dict(t=np.array([0.0, 0.4, 0.4, 1.7])), "raise"),
            ("means:kernel", dict(kernel="matern12"), "raise"),  # state size 2 != 4
            ("means:n_components", dict(n_components=1), "raise"),
            ("kernel:unknown", dict(kernel="rbf"), "raise"),
            ("covs:indefinite", dict(covs=P + _indefinite(P.shape)), "raise"),
        ],
    )


@pytest.fixture(scope="module")
def small_tensor():
    rng = np.random.RandomState(0)
    X = rng.uniform(0, 1, (40, 2))
    return X, np.sin(3 * X[:, 0]) * np.cos(2 * X[:, 1])


def test_funbat_bad_inputs(small_tensor):
    X, y = small_tensor
    check_bad_inputs(
        funbat, dict(X=X, y=y, ranks=[2, 2], lengthscales=0.5, variances=1.0, max_iter=4,
                     alpha_1=1e-6, alpha_2=1e-6, random_state=0),
        arrays=["X", "y"], positive=["lengthscales", "variances", "alpha_1", "alpha_2"],
        extra_cases=[
            ("ranks:zero", dict(ranks=[0, 2]), "raise"),
            ("ranks:length", dict(ranks=[2, 2, 2]), "raise"),
            ("ranks:float", dict(ranks=[2.5, 2]), "raise"),
            ("ranks:none", dict(ranks=None), "raise"),
            ("ranks:string", dict(ranks="foo"), "raise"),
            ("ranks:diagonal", dict(ranks=[2, 3], core="diagonal"), "raise"),
            ("lengthscales:length", dict(lengthscales=[0.5, 0.5, 0.5]), "raise"),
            ("lengthscales:per_mode_nan", dict(lengthscales=[0.5, np.nan]), "raise"),
            ("variances:per_mode_zero", dict(variances=[1.0, 0.0]), "raise"),
            ("max_iter:zero", dict(max_iter=0), "raise"),
            ("n_init:zero", dict(n_init=0), "raise"),
            ("damping:one", dict(damping=1.0), "raise"),
            ("tol:negative", dict(tol=-1.0), "raise"),
            ("kernel:unknown", dict(kernel="rbf"), "raise"),
            ("core:unknown", dict(core="tt"), "raise"),
            ("X:one_column", dict(X=X[:, :1]), "raise"),  # 2 ranks for 1 mode
            ("y:constant_zero", dict(y=np.zeros_like(y)), "ok"),
            ("lengthscales:per_mode", dict(lengthscales=np.array([0.5, 0.5])), "same"),
        ],
    )


def test_funbat_predict_bad_inputs(small_tensor):
    X, y = small_tensor
    result = funbat(X, y, [2, 2], lengthscales=0.5, max_iter=4, random_state=0, warn=False)
    check_bad_inputs(
        funbat_predict, dict(result=result, X=X[:5]),
        arrays=["X"],
        expect={("X", "too_short"): "ok"},
        extra_cases=[
            ("X:columns", dict(X=X[:5, :1]), "raise"),
            ("result:none", dict(result=None), "raise"),
            ("result:dict", dict(result={"core": 1.0}), "raise"),
            ("return_std:string", dict(return_std="yes"), "raise"),
            ("X:outside_range", dict(X=X[:5] + 10.0), "ok"),  # extrapolation is defined
        ],
    )
