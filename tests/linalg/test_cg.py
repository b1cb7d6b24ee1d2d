"""sklr.linalg._cg: the batched preconditioned conjugate-gradient solver."""

import numpy as np
import pytest
from _tolerances import assert_allclose_normwise, tolerance
from numpy.testing import assert_array_equal

from sklr.linalg._cg import conjugate_gradient
from sklr.utils._array_api import namespace_and_device, to_numpy


def _spd_batch(n_problems, n, cond, seed=0):
    """SPD matrices with eigenvalues spread log-uniformly over ``[1/cond, 1]``."""
    rng = np.random.RandomState(seed)
    A = np.empty((n_problems, n, n))
    for i in range(n_problems):
        Q, _ = np.linalg.qr(rng.standard_normal((n, n)))
        A[i] = (Q * np.logspace(0, -np.log10(cond), n)) @ Q.T
        A[i] = (A[i] + A[i].T) / 2
    return A, rng.standard_normal((n_problems, n))


def _matvec(A, xp):
    return lambda P: xp.matmul(A, P[:, :, None])[:, :, 0]


def _exact(A, B):
    return np.linalg.solve(A, B[:, :, None])[:, :, 0]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_agrees_with_numpy_solve_on_every_backend(xp, dtype):
    cond, rtol = 1e3, 1e-10 if dtype == np.float64 else 1e-5
    A, B = _spd_batch(6, 15, cond)
    A, B = A.astype(dtype), B.astype(dtype)
    result = conjugate_gradient(_matvec(xp.asarray(A), xp), xp.asarray(B), rtol=rtol,
                                max_iter=500)
    assert namespace_and_device(result.x)[0] is xp
    assert result.x.dtype == xp.asarray(B).dtype
    assert_array_equal(to_numpy(result.converged), True)
    expected = _exact(A.astype(np.float64), B.astype(np.float64))
    # A residual below rtol ||b|| leaves an error below cond * rtol relative; plus rounding.
    bound = cond * rtol + tolerance(n=15, cond=cond, dtype=dtype)
    for i in range(6):
        assert_allclose_normwise(to_numpy(result.x)[i], expected[i], rtol=bound)


def test_each_problem_stops_on_its_own():
    easy = 3.0 * np.eye(8)  # one eigenvalue: CG solves it in one step
    hard, _ = _spd_batch(1, 8, 1e4, seed=1)
    A = np.stack([easy, hard[0]])
    B = np.random.RandomState(2).standard_normal((2, 8))
    alone = conjugate_gradient(_matvec(easy[None], np), B[:1], rtol=1e-12, max_iter=100)
    assert alone.n_iter == 1
    batch = conjugate_gradient(_matvec(A, np), B, rtol=1e-12, max_iter=100)
    assert batch.n_iter > 1
    assert_array_equal(batch.converged, [True, True])
    # The easy problem froze after its step: the same iterate as when solved alone.
    assert_array_equal(batch.x[0], alone.x[0])
    assert_allclose_normwise(batch.x[1], _exact(A, B)[1], rtol=1e4 * 1e-12 + tolerance(
        n=8, cond=1e4))
    # Stopped early, the hard problem is reported unconverged, the easy one converged.
    short = conjugate_gradient(_matvec(A, np), B, rtol=1e-12, max_iter=3)
    assert short.n_iter == 3
    assert_array_equal(short.converged, [True, False])


@pytest.mark.parametrize("reference", ["initial_residual", "rhs"])
def test_warm_start_at_the_solution_takes_no_step(reference):
    rng = np.random.RandomState(0)
    # Small integers: A @ X0 is exact, so the initial residual is exactly zero.
    M = rng.randint(-3, 4, size=(4, 5, 5)).astype(float)
    A = np.matmul(np.swapaxes(M, 1, 2), M) + np.eye(5)
    X0 = rng.randint(-5, 6, size=(4, 5)).astype(float)
    B = _matvec(A, np)(X0)
    result = conjugate_gradient(_matvec(A, np), B, X0, rtol=1e-8, reference=reference)
    assert result.n_iter == 0
    assert_array_equal(result.x, X0)
    assert_array_equal(result.converged, True)


def test_rhs_reference_accepts_a_start_within_tolerance():
    A, B = _spd_batch(3, 10, 1e2)
    X0 = _exact(A, B)  # the initial residual is rounding, far below rtol ||b||
    result = conjugate_gradient(_matvec(A, np), B, X0, rtol=1e-8, reference="rhs")
    assert result.n_iter == 0
    assert_array_equal(result.converged, True)


def test_exact_preconditioner_converges_in_one_step(xp):
    A, B = _spd_batch(5, 12, 1e6)
    A_inv = xp.asarray(np.linalg.inv(A))
    result = conjugate_gradient(
        _matvec(xp.asarray(A), xp), xp.asarray(B), xp.zeros_like(xp.asarray(B)),
        precondition=_matvec(A_inv, xp), rtol=1e-6, max_iter=50,
    )
    assert result.n_iter == 1
    assert_array_equal(to_numpy(result.converged), True)
    assert_allclose_normwise(to_numpy(result.x), _exact(A, B), rtol=tolerance(n=12, cond=1e6))
    # Without it the same problems take many steps.
    plain = conjugate_gradient(_matvec(A, np), B, rtol=1e-6, max_iter=50)
    assert plain.n_iter > 10


def test_no_curvature_stops_that_problem_unconverged():
    A, B = _spd_batch(3, 6, 10.0)
    A[1] = 0.0  # p^T A p = 0 for every p: problem 1 cannot move
    result = conjugate_gradient(_matvec(A, np), B, rtol=1e-10, max_iter=100)
    assert_array_equal(result.converged, [True, False, True])
    assert_array_equal(result.x[1], 0.0)
    solution = _exact(A[[0, 2]], B[[0, 2]])
    assert_allclose_normwise(result.x[[0, 2]], solution, rtol=1e-8)


def test_semidefinite_consistent_problem_converges():
    rng = np.random.RandomState(3)
    Q, _ = np.linalg.qr(rng.standard_normal((8, 8)))
    A = ((Q * np.r_[np.ones(5), np.zeros(3)]) @ Q.T)[None]  # rank 5
    B = _matvec(A, np)(rng.standard_normal((1, 8)))  # in the range of A
    result = conjugate_gradient(_matvec(A, np), B, rtol=1e-10, max_iter=50)
    assert result.converged[0]
    assert np.linalg.norm(B - _matvec(A, np)(result.x)) <= 1e-9 * np.linalg.norm(B)


def test_check_interval_does_not_change_the_iterates():
    A, B = _spd_batch(4, 20, 1e3, seed=5)
    every = conjugate_gradient(_matvec(A, np), B, rtol=1e-9, max_iter=500, check_every=1)
    sparse = conjugate_gradient(_matvec(A, np), B, rtol=1e-9, max_iter=500, check_every=7)
    assert_array_equal(sparse.x, every.x)
    assert_array_equal(sparse.converged, every.converged)
    assert every.n_iter <= sparse.n_iter < every.n_iter + 7


def test_zero_start_is_the_default_and_max_iter_zero_takes_no_step():
    A, B = _spd_batch(2, 5, 10.0)
    default = conjugate_gradient(_matvec(A, np), B, rtol=1e-10)
    zeros = conjugate_gradient(_matvec(A, np), B, np.zeros_like(B), rtol=1e-10)
    assert_array_equal(default.x, zeros.x)
    none = conjugate_gradient(_matvec(A, np), B, max_iter=0)
    assert none.n_iter == 0
    assert_array_equal(none.x, 0.0)
    assert_array_equal(none.converged, False)


def test_unknown_reference_is_refused():
    A, B = _spd_batch(1, 3, 2.0)
    with pytest.raises(ValueError, match="reference must be one of"):
        conjugate_gradient(_matvec(A, np), B, reference="solution")
