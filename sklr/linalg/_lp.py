"""l_p regression by iteratively reweighted least squares, over any array namespace."""

from dataclasses import dataclass

from ..utils._array_api import get_namespace, lstsq, solve_triangular

__all__ = ["LpRegressionResult", "lp_regression"]


@dataclass
class LpRegressionResult:
    """What :func:`lp_regression` returns.

    Attributes
    ----------
    coef : array of shape (d,)
        Coefficients, in the namespace of the input.
    intercept : float
        Intercept (0.0 without ``fit_intercept``).
    objective : float
        ``sum_i v_i |b_i - a_i^T coef - intercept|^p`` at the solution.
    n_iter : int
        Reweighted least-squares solves after the first one.
    converged : bool
        Whether the relative decrease of the objective fell below ``tol``.
    objective_path : list of float
        The objective after each iteration (the first entry is the
        least-squares start).
    """

    coef: object
    intercept: float
    objective: float
    n_iter: int
    converged: bool
    objective_path: list


def _weighted_lstsq(A, b, c, xp):
    """``argmin_x sum_i c_i (b_i - a_i^T x)^2`` for ``c >= 0``, by QR with an SVD fallback."""
    root = xp.sqrt(c)
    B = root[:, None] * A
    rhs = root * b
    if B.shape[0] < B.shape[1]:  # underdetermined: the minimum-norm solution
        return lstsq(B, rhs, xp=xp)
    Q, R = xp.linalg.qr(B)
    diag = xp.abs(xp.linalg.diagonal(R))
    eps = xp.finfo(A.dtype).eps
    if float(xp.min(diag)) > max(A.shape) * eps * float(xp.max(diag)):
        return solve_triangular(R, Q.T @ rhs, xp=xp)
    return lstsq(B, rhs, xp=xp)


def _objective(r, v, p, xp):
    return float(xp.sum(v * xp.abs(r) ** p))


def lp_regression(A, b, p=1.0, *, sample_weight=None, fit_intercept=False, max_iter=100, tol=1e-8,
                  verbose=0):
    """Weighted l_p regression ``min_x sum_i v_i |b_i - a_i^T x|^p`` for ``p >= 1``.

    - ``p = 2``: one weighted least-squares solve.
    - ``1 <= p < 2``: iteratively reweighted least squares (IRLS) with
      weights ``v_i max(|r_i|, delta)^(p - 2)``, a majorize-minimize step for
      the l_p loss smoothed below ``delta``; ``delta`` starts at the mean
      absolute least-squares residual and shrinks fourfold per iteration to
      ``1e-10`` times it, so the iterates converge to an exact l_p solution
      (for ``p = 1``, least absolute deviations).
    - ``p > 2``: Newton's method, whose step is ``1 / (p - 1)`` times the
      IRLS step (Adil, Peng and Sachdeva, 2019), with backtracking so that
      the objective decreases monotonically.

    Each iteration is one QR of an ``n x d`` matrix, in the namespace of
    ``A`` (NumPy, CuPy or any array API library).

    Parameters
    ----------
    A : array of shape (n, d)
        Design matrix.
    b : array of shape (n,)
        Targets.
    p : float, default=1.0
        Exponent of the loss, ``p >= 1``.
    sample_weight : array of shape (n,), default=None
        Non-negative weights ``v_i`` (ones when None).
    fit_intercept : bool, default=False
        Whether to add an unpenalised constant column.
    max_iter : int, default=100
        Maximum number of reweighted solves.
    tol : float, default=1e-8
        Stop when the objective decreases by less than ``tol`` relative to
        its value (after the smoothing of ``p < 2`` has reached its floor).
    verbose : int, default=0
        Print the objective at each iteration when positive.

    Returns
    -------
    result : LpRegressionResult
        Coefficients, intercept, objective, iterations and convergence flag.

    References
    ----------
    Adil, D., Peng, R. and Sachdeva, S. "Fast, provably convergent IRLS
    algorithm for p-norm linear regression." NeurIPS 2019.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.linalg import lp_regression
    >>> A = np.c_[np.arange(6.0)]
    >>> b = np.array([0.0, 1.0, 2.0, 3.0, 40.0, 5.0])  # one outlier
    >>> res = lp_regression(A, b, p=1.0)
    >>> round(float(res.coef[0]), 6)
    1.0
    """
    xp, dev = get_namespace(A, b)
    if p < 1:
        raise ValueError(f"p must be >= 1, got {p}.")
    n = A.shape[0]
    if fit_intercept:
        A = xp.concat([A, xp.ones((n, 1), dtype=A.dtype, device=dev)], axis=1)
    v = xp.ones(n, dtype=A.dtype, device=dev) if sample_weight is None else sample_weight
    x = _weighted_lstsq(A, b, v, xp)
    r = b - A @ x
    f = _objective(r, v, p, xp)
    path = [f]
    converged = p == 2
    n_iter = 0
    scale = float(xp.sum(v * xp.abs(r))) / max(float(xp.sum(v)), 1e-300)
    delta, delta_min = scale, 1e-10 * scale
    if scale == 0.0:
        converged = True
    while not converged and n_iter < max_iter:
        n_iter += 1
        if p < 2:
            delta = max(delta_min, delta / 4)
            c = v * xp.maximum(xp.abs(r), delta) ** (p - 2)
            x_new = _weighted_lstsq(A, b, c, xp)
            r_new = b - A @ x_new
            f_new = _objective(r_new, v, p, xp)
        else:
            c = v * xp.maximum(xp.abs(r), delta_min) ** (p - 2)
            step = (_weighted_lstsq(A, b, c, xp) - x) / (p - 1)
            t = 1.0
            while True:
                x_new = x + t * step
                r_new = b - A @ x_new
                f_new = _objective(r_new, v, p, xp)
                if f_new <= f or t < 1e-10:
                    break
                t /= 2
        if verbose:
            print(f"[lp_regression] iteration {n_iter}: objective {f_new:.10g}")
        stalled = abs(f - f_new) <= tol * max(f, 1e-300)
        if f_new <= f or p < 2:
            x, r, f = x_new, r_new, f_new
        path.append(f)
        converged = stalled and (p > 2 or delta <= delta_min)
    intercept = 0.0
    if fit_intercept:
        intercept = float(x[-1])
        x = x[:-1]
    return LpRegressionResult(coef=x, intercept=intercept, objective=f, n_iter=n_iter,
                              converged=bool(converged), objective_path=path)

