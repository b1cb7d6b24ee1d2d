"""The bad-input matrix (issue 17.9) on every public function and sketch of sklr.linalg."""

import numpy as np
import pytest

from sklr.linalg import (
    SRHT,
    CountSketch,
    GaussianSketch,
    SparseSignSketch,
    default_sketch_size,
    kron,
    kron_matvec,
    leverage_scores,
    lewis_weights,
    lp_regression,
    lp_sensitivities,
    make_sketch,
    mode_product,
    root_leverage_scores,
    sketched_lstsq,
    theoretical_sketch_size,
)
from tests._bad_inputs import check_bad_inputs

RNG = np.random.RandomState(0)
A = RNG.standard_normal((40, 3))
B = A @ np.array([1.0, -2.0, 0.5]) + 0.1 * RNG.standard_normal(40)
W = RNG.uniform(0.5, 2.0, 40)


def test_sketched_lstsq_bad_inputs():
    check_bad_inputs(
        sketched_lstsq, dict(A=A, b=B, sample_weight=W, n_components=20, random_state=0),
        arrays=["A", "b", "sample_weight"], weights=["sample_weight"],
        positive=["n_components"],
        skip=[("b", "wrong_ndim")],  # b may be 2-D: several right-hand sides
        expect={("sample_weight", "none"): "ok"},  # None: unweighted
        extra_cases=[
            ("n_components:above_n", dict(n_components=41), "raise"),
            ("n_components:below_d", dict(n_components=2), "raise"),
            ("n_components:float", dict(n_components=20.5), "raise"),
            ("alpha:negative", dict(alpha=-1.0), "raise"),
            ("sketch:unknown", dict(sketch="foo"), "raise"),
            ("solver:unknown", dict(solver="foo"), "raise"),
            ("sparsity:zero", dict(sketch="sparse_sign", sparsity=0), "raise"),
            ("n_buckets:string", dict(n_buckets="foo"), "raise"),
        ],
    )


def test_default_and_theoretical_sketch_size_bad_inputs():
    check_bad_inputs(default_sketch_size, dict(n_samples=1000, n_features=5),
                     positive=["n_samples", "n_features"],
                     extra_cases=[("solver:unknown", dict(solver="foo"), "raise"),
                                  ("n_samples:float", dict(n_samples=10.5), "raise")])
    check_bad_inputs(theoretical_sketch_size, dict(n_samples=1000, n_features=5, eps=1.0,
                                                   delta=0.01),
                     positive=["n_samples", "n_features", "eps", "delta"],
                     extra_cases=[("delta:one", dict(delta=1.0), "raise")])


SKETCH_ARGS = dict(n_samples=40, n_components=10, random_state=0)
SKETCH_CASES = dict(positive=["n_samples", "n_components"],
                    extra_cases=[("random_state:string", dict(random_state="foo"), "raise"),
                                 ("n_components:float", dict(n_components=10.5), "raise")])


def test_sketch_constructors_bad_inputs():
    check_bad_inputs(SRHT, SKETCH_ARGS, **SKETCH_CASES)
    check_bad_inputs(GaussianSketch, SKETCH_ARGS, **SKETCH_CASES)
    check_bad_inputs(CountSketch, SKETCH_ARGS, **SKETCH_CASES)
    check_bad_inputs(SparseSignSketch, SKETCH_ARGS, **SKETCH_CASES)
    check_bad_inputs(SparseSignSketch, dict(SKETCH_ARGS, sparsity=4), positive=["sparsity"])
    check_bad_inputs(SRHT, dict(SKETCH_ARGS, n_buckets=20),
                     extra_cases=[("n_buckets:below_n_components", dict(n_buckets=5), "raise"),
                                  ("n_buckets:string", dict(n_buckets="foo"), "raise")])


@pytest.mark.parametrize("cls", [SRHT, GaussianSketch, CountSketch, SparseSignSketch])
def test_sketch_apply_bad_inputs(cls):

    def apply(A, row_scale):
        return cls(40, 10, random_state=0).apply(A, row_scale=row_scale)

    check_bad_inputs(apply, dict(A=A, row_scale=W), arrays=["A", "row_scale"],
                     skip=[("A", "wrong_ndim")],  # (40, 3, 1) is 3-D: rejected, see below
                     expect={("row_scale", "none"): "ok"})  # None: no row scaling
    with pytest.raises(ValueError, match="A must be a 1-D or 2-D array"):
        apply(A[:, :, None], None)

    def apply_many(arrays):
        return cls(40, 10, random_state=0).apply_many(arrays)

    check_bad_inputs(apply_many, dict(arrays=[A, B]),
                     extra_cases=[("arrays:not_a_list", dict(arrays=A), "raise"),
                                  ("arrays:nan", dict(arrays=[A, np.full(40, np.nan)]), "raise"),
                                  ("arrays:short", dict(arrays=[A, B[:3]]), "raise")])


def test_srht_rejects_more_rows_than_samples_and_make_sketch_checks():
    with pytest.raises(ValueError, match="n_components=50 must be <= n_samples=40"):
        SRHT(40, 50)
    assert GaussianSketch(40, 50, random_state=0).apply(A).shape == (50, 3)  # valid, if wasteful
    check_bad_inputs(make_sketch, dict(kind="srht", n_samples=40, n_components=10, random_state=0),
                     positive=["n_samples", "n_components"],
                     extra_cases=[("kind:unknown", dict(kind="foo"), "raise"),
                                  ("n_components:above_n", dict(n_components=41), "raise"),
                                  ("foo:unknown_param", dict(foo=1), "raise")])


def test_leverage_scores_bad_inputs():
    # Any non-empty A has leverage scores: one row fewer is a valid matrix.
    check_bad_inputs(leverage_scores, dict(A=A), arrays=["A"], expect={("A", "too_short"): "ok"},
                     extra_cases=[("method:unknown", dict(method="foo"), "raise")])
    check_bad_inputs(leverage_scores, dict(A=A, method="approx", n_components=20, random_state=0),
                     arrays=["A"], positive=["n_components"], expect={("A", "too_short"): "ok"},
                     extra_cases=[("n_components:above_n", dict(n_components=41), "raise"),
                                  ("n_components:below_d", dict(n_components=2), "raise"),
                                  ("A:wide", dict(A=A[:2]), "raise"),
                                  ("n_projections:zero", dict(n_projections=0), "raise")])


def test_lewis_root_leverage_and_sensitivities_bad_inputs():
    check_bad_inputs(lewis_weights, dict(A=A, p=1.0), arrays=["A"], positive=["p"],
                     expect={("A", "too_short"): "ok"},
                     extra_cases=[("p:below_one", dict(p=0.5), "raise"),
                                  ("p:four", dict(p=4.0), "raise"),
                                  ("method:unknown", dict(method="foo"), "raise"),
                                  ("tol:negative", dict(tol=-1.0), "raise")])
    check_bad_inputs(root_leverage_scores, dict(A=A, p=1.5), arrays=["A"], positive=["p"],
                     expect={("A", "too_short"): "ok"},
                     extra_cases=[("p:above_two", dict(p=3.0), "raise")])
    small = A[:12]
    check_bad_inputs(lp_sensitivities, dict(A=small, p=1.0), arrays=["A"], positive=["p"],
                     expect={("A", "too_short"): "ok"},
                     extra_cases=[("p:below_one", dict(p=0.5), "raise"),
                                  ("method:unknown", dict(method="foo"), "raise")])
    lewis = lewis_weights(small, 1.0)
    check_bad_inputs(lp_sensitivities, dict(A=small, p=1.0, method="lewis", lewis=lewis),
                     arrays=["lewis"],
                     expect={("lewis", "list"): "same", ("lewis", "none"): "ok"},
                     extra_cases=[("lewis:negative", dict(lewis=-lewis), "raise"),
                                  ("p:four", dict(p=4.0), "raise")])


def test_lp_regression_bad_inputs():
    check_bad_inputs(lp_regression, dict(A=A, b=B, p=1.5, sample_weight=W),
                     arrays=["A", "b", "sample_weight"], weights=["sample_weight"],
                     positive=["p"], expect={("sample_weight", "none"): "ok"},
                     extra_cases=[("p:below_one", dict(p=0.5), "raise"),
                                  ("max_iter:float", dict(max_iter=2.5), "raise"),
                                  ("tol:nan", dict(tol=float("nan")), "raise")])


def test_kronecker_helpers_bad_inputs():
    F = [RNG.standard_normal((2, 3)), RNG.standard_normal((2, 3))]
    x = RNG.standard_normal(9)
    check_bad_inputs(kron_matvec, dict(factors=F, x=x), arrays=["factors", "x"],
                     expect={("x", "wrong_ndim"): "raise"},
                     extra_cases=[("adjoint:string", dict(adjoint="foo"), "raise")])
    check_bad_inputs(kron, dict(factors=F), arrays=["factors"],
                     expect={("factors", "too_short"): "ok"})  # one factor: a valid product
    X = RNG.standard_normal((4, 3))
    check_bad_inputs(mode_product, dict(X=X, A=F[0], mode=1), arrays=["X", "A"],
                     expect={("X", "wrong_ndim"): "ok", ("X", "too_short"): "ok",
                             ("A", "too_short"): "ok"},
                     extra_cases=[("mode:out_of_range", dict(mode=2), "raise"),
                                  ("mode:float", dict(mode=1.0), "raise"),
                                  ("A:mismatch", dict(A=np.ones((2, 4))), "raise")])
