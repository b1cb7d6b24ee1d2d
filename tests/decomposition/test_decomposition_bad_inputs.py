"""The bad-input matrix (issue 17.9) on kronecker_sbl and kronecker_posterior."""

import numpy as np
import pytest

from sklr.decomposition import kronecker_posterior, kronecker_sbl
from tests._bad_inputs import check_bad_inputs


@pytest.fixture(scope="module")
def problem():
    rng = np.random.RandomState(0)
    A1, A2 = rng.standard_normal((6, 8)), rng.standard_normal((5, 7))
    x1, x2 = np.zeros(8), np.zeros(7)
    x1[[1, 5]], x2[[2, 4]] = [1.0, -2.0], [1.5, 0.5]
    y = np.kron(A1, A2) @ np.kron(x1, x2) + 1e-2 * rng.standard_normal(30)
    return A1, A2, y


def test_kronecker_sbl_bad_inputs(problem):
    A1, A2, y = problem
    check_bad_inputs(
        kronecker_sbl, dict(dictionaries=[A1, A2], y=y, noise_variance=1e-4, max_iter=20),
        arrays=["y"], positive=["noise_variance", "max_iter"],
        extra_cases=[
            ("dictionaries:none", dict(dictionaries=None), "raise"),
            ("dictionaries:string", dict(dictionaries="foo"), "raise"),
            ("dictionaries:empty_list", dict(dictionaries=[]), "raise"),
            ("dictionaries:nan", dict(dictionaries=[A1, np.where(A2 > 1, np.nan, A2)]), "raise"),
            ("dictionaries:1d", dict(dictionaries=[A1, A2[0]]), "raise"),
            ("dictionaries:strings", dict(dictionaries=[A1, np.full(A2.shape, "a")]), "raise"),
            ("dictionaries:rows_vs_y", dict(dictionaries=[A1, A2[:4]]), "raise"),
            ("dictionaries:lists", dict(dictionaries=[A1.tolist(), A2.tolist()]), "same"),
            ("method:unknown", dict(method="foo"), "raise"),
            ("prune:one", dict(prune=1.0), "raise"),
            ("tol:negative", dict(tol=-1.0), "raise"),
            ("inner_max_iter:zero", dict(inner_max_iter=0), "raise"),
            ("y:zeros", dict(y=np.zeros_like(y)), "ok"),
            ("noise_variance:tiny", dict(noise_variance=1e-18), "ok"),
            # Variances scale as y^2: beyond ~1e154 gamma and noise_variance overflow float64
            # (the codes do not: y x 1e200 in test_kronecker_sbl_extreme_scales_are_scale_free).
            ("y:huge", dict(y=y * 1e150, noise_variance=None), "ok"),
        ],
    )


def test_kronecker_sbl_extreme_scales_are_scale_free(problem):
    # Issue 17.8: y x 1e200 gave NaN codes; noise_variance <= 1e-17 crashed.
    A1, A2, y = problem
    ref = kronecker_sbl([A1, A2], y, max_iter=50, warn=False)
    with pytest.warns(RuntimeWarning, match="overflow to inf in float64; coef is unaffected"):
        huge = kronecker_sbl([A1, A2], y * 1e200, max_iter=50, warn=False)
    np.testing.assert_allclose(huge.coef / 1e200, ref.coef, rtol=1e-6, atol=1e-10)
    with pytest.warns(UserWarning, match="noise_variance=1e-18 is below"):
        tiny = kronecker_sbl([A1, A2], y, noise_variance=1e-18, max_iter=50, warn=False)
    assert np.all(np.isfinite(tiny.coef)) and tiny.noise_variance > 1e-18


def test_kronecker_posterior_bad_inputs(problem):
    A1, A2, y = problem
    res = kronecker_sbl([A1, A2], y, noise_variance=1e-4, max_iter=20, warn=False)
    Y = np.stack([y, 0.5 * y])
    check_bad_inputs(
        kronecker_posterior,
        dict(dictionaries=[A1, A2], gamma=res.gamma, noise_variance=1e-4, y=Y),
        arrays=["gamma", "y"], weights=["gamma"], positive=["noise_variance"],
        # Every entry pruned is a valid model (codes 0, y ~ N(0, s2 I)); fewer rows too.
        expect={("gamma", "all_zero"): "ok", ("y", "too_short"): "ok"},
        extra_cases=[
            ("gamma:factors", dict(gamma=res.gammas), "ok"),
            ("gamma:factor_count", dict(gamma=res.gammas[:1]), "raise"),
            ("gamma:factor_length", dict(gamma=[res.gammas[0][:-1], res.gammas[1]]), "raise"),
            ("gamma:factor_negative", dict(gamma=[-res.gammas[0], res.gammas[1]]), "raise"),
            ("dictionaries:none", dict(dictionaries=None), "raise"),
            ("dictionaries:rows_vs_y", dict(dictionaries=[A1, A2[:4]]), "raise"),
            ("y:columns", dict(y=Y[:, :-1]), "raise"),
        ],
    )
