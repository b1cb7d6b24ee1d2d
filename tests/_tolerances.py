"""Tolerances for numerical tests, from the dtype's eps and the problem's conditioning.

Two correct implementations of one formula (a Kronecker shortcut and the dense matrix, a
Cholesky and an eigendecomposition, one OpenBLAS kernel and another) round differently: the
summation order, the blocking and the use of fused multiply-adds all depend on the code path and
on the kernel chosen for the CPU (``OPENBLAS_CORETYPE``) and the thread count. A tolerance that
only one kernel meets is a test of that kernel, not of the formula. The bounds here are the
standard first-order ones (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed.,
2002), with ``u = eps / 2`` the unit roundoff:

- a sum or dot product of ``n`` terms has error at most ``gamma_n |x|^T |y|`` with
  ``gamma_n = n u / (1 - n u)`` (Sec. 3.1), so its relative error is at most ``n u`` times the
  sum's condition number ``sum |x_i y_i| / |sum x_i y_i|``; a product of matrices of inner
  size ``n`` is made of such sums;
- a backward-stable solve with a matrix of condition number ``kappa`` has a normwise relative
  forward error of order ``n kappa u`` (Sec. 7.1-7.2, with a backward error of order ``n u``).

Two results that both meet a bound differ by at most twice it. :func:`tolerance` returns
``safety * n * cond * eps`` (eps = 2 u already covers the factor two) with ``safety = 10`` by
default: the bounds are worst-case per operation but a chain of a few factorizations and products
adds a few of them up, and 10 is the headroom for that chain, stated once here rather than
tuned per kernel. Whatever the safety factor, the tolerances stay many orders of magnitude below
the O(1) relative error of a wrong formula (a missing conjugate, a wrong scale, a dropped term).

Compare normwise (:func:`assert_allclose_normwise`) where the entries of a result differ in
magnitude: the bounds above are normwise, and an entry far below the norm of its vector only
inherits the vector's absolute error, so an element-wise relative tolerance on it has no bound.
"""

import numpy as np


def eps(dtype=np.float64):
    """Machine epsilon of a real or complex floating dtype (2 u, the spacing of floats at 1)."""
    return float(np.finfo(np.dtype(dtype)).eps)


def tolerance(*, n=1, cond=1.0, dtype=np.float64, safety=10.0):
    """``safety * n * cond * eps(dtype)``: the relative error two correct computations may show.

    Parameters
    ----------
    n : int
        The longest inner dimension of the sums, products or factorizations in the chain.
    cond : float
        The condition number of the computation: of the matrix solved with, or of the sum
        (``sum |t_i| / |sum t_i|``).
    dtype : dtype
        The working precision.
    safety : float
        Headroom for a chain of a few operations; see the module docstring.
    """
    return float(safety * n * cond * eps(dtype))


def assert_allclose_normwise(actual, desired, rtol, err_msg=""):
    """Assert ``||actual - desired||_F <= rtol * ||desired||_F`` (and equal shapes)."""
    actual, desired = np.asarray(actual), np.asarray(desired)
    assert actual.shape == desired.shape, (actual.shape, desired.shape)
    error = np.linalg.norm((actual - desired).ravel())
    scale = np.linalg.norm(desired.ravel())
    assert error <= rtol * scale, (
        f"normwise relative difference {error / scale:.3g} > rtol {rtol:.3g}"
        + (f": {err_msg}" if err_msg else "")
    )


def preconditioned_lstsq_tolerance(X, y, coef, *, tol, distortion=0.5):
    """Normwise relative error bound of a least-squares solution stopped at ``tol``.

    ``solver="precondition"`` stops when ``||A^T r|| <= tol ||r||`` for ``A = X R^-1``, whose
    singular values lie in ``[1 / (1 + e), 1 / (1 - e)]`` for a sketch of distortion ``e``. The
    optimum has ``A^T r* = 0``, so ``||A^T A (z - z*)|| <= tol ||r||`` in ``z = R x`` and
    ``||z - z*|| <= (1 + e)^2 tol ||r||``; with ``||R^-1|| = ||X^+ A|| <= 1 / ((1 - e) s_min(X))``,
    ``||x - x*|| <= (1 + e)^2 / (1 - e) tol ||r|| / s_min(X)``, taken at ``e = 1/2`` (a sketch
    that distorts by more than half does not precondition). Added: the reference's own rounding,
    ``tolerance(n=n_samples, cond=kappa (1 + kappa ||r|| / (||X|| ||x||)))``, the least-squares
    perturbation bound (Higham 2002, Sec. 20.1). ``X`` is the design the solver sees (centred
    when the intercept is fitted, scaled by ``sqrt(sample_weight)``), ``y`` the matching target.
    """
    X, y, coef = np.asarray(X), np.asarray(y), np.asarray(coef)
    s = np.linalg.svd(X, compute_uv=False)
    residual = np.linalg.norm(y - X @ coef)
    coef_norm = np.linalg.norm(coef)
    kappa = s[0] / s[-1]
    stopping = (1 + distortion) ** 2 / (1 - distortion) * tol * residual / (s[-1] * coef_norm)
    rounding = tolerance(n=X.shape[0], cond=kappa * (1 + kappa * residual / (s[0] * coef_norm)),
                         dtype=X.dtype)
    return float(stopping + rounding)
