"""l_p regression by iteratively reweighted least squares, over any array namespace."""

from dataclasses import dataclass

from ..utils._array_api import device, get_namespace, lstsq, solve_triangular

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


def _lad_vertex_descent(A, b, v, r, xp, max_steps=None):
    """For p = 1: finish at an exactly optimal LP vertex, starting near the IRLS iterate.

    A least-absolute-deviations optimum interpolates ``d`` rows ``B`` (a
    vertex of the LP); IRLS approaches it only linearly and can pin a wrong
    row's residual near zero. From the vertex through the ``d`` rows of
    smallest ``|r|`` this runs simplex-like edge steps: the vertex is optimal
    when ``A_B^T z = -sum_{i not in B} v_i sign(r_i) a_i`` has ``|z_i| <= v_i``
    (zero is in the subdifferential); otherwise the row with the largest
    violation leaves the basis and an exact line search (a weighted median
    over the breakpoints) picks the row that enters. Each step costs
    ``O(n d)`` and strictly decreases the objective. Returns ``(x, r)`` of a
    certified optimum, or None (degenerate or singular: keep IRLS's answer).
    """
    n, d = A.shape
    if n <= d:
        return None
    dev = device(r)
    rows, cols = xp.arange(n, device=dev), xp.arange(d, device=dev)
    basis = xp.argsort(xp.where(v > 0, xp.abs(r), xp.inf), stable=True)[:d]
    max_steps = 10 * d if max_steps is None else max_steps
    for _ in range(max_steps):
        A_B = xp.take(A, basis, axis=0)
        try:
            x = xp.linalg.solve(A_B, xp.take(b, basis, axis=0))
        except Exception:  # a singular basis
            return None
        r = b - A @ x
        mask = xp.all(rows[:, None] != basis[None, :], axis=1)  # rows outside the basis
        zero = mask & (xp.abs(r) <= 1e-12 * float(xp.max(xp.abs(r))))
        signs = xp.where(mask & ~zero, xp.sign(r), xp.zeros_like(r))
        g = A.T @ (v * signs)
        try:
            z = xp.linalg.solve(A_B.T, -g)
        except Exception:
            return None
        v_B = xp.take(v, basis, axis=0)
        excess = xp.abs(z) - v_B
        j = int(xp.argmax(excess))
        if float(excess[j]) <= 1e-9 * float(xp.max(v_B)):
            # Optimal; at a degenerate vertex (zero residuals outside the
            # basis) this certificate is sufficient, not necessary.
            return x, r
        # Edge direction: basis rows other than j keep zero residual, row j moves.
        h = xp.linalg.solve(A_B, xp.astype(cols == j, A.dtype))
        h = h * (-1.0 if float(z[j]) > 0 else 1.0)
        Ah = A @ h
        # Rows outside the basis with zero residual (a degenerate vertex) leave
        # zero at once: they add to the initial slope. If the edge does not
        # descend, give up rather than cycle.
        slope0 = (float(v_B[j]) - float(xp.abs(z[j]))
                  + float(xp.sum(xp.where(zero, v * xp.abs(Ah), xp.zeros_like(r)))))
        if slope0 >= 0:
            return None
        mask = mask & ~zero
        # f(t) = v_j t + sum_{i not in B} v_i |r_i - t Ah_i|, convex piecewise linear.
        with_break = mask & (xp.abs(Ah) > 0)
        safe = xp.where(with_break, Ah, xp.ones_like(Ah))
        t_break = xp.where(with_break, r / safe, -xp.ones_like(r))
        ahead = t_break > 0
        if not bool(xp.any(ahead)):
            return None  # unbounded direction: cannot happen for a bounded LP
        idx = xp.nonzero(ahead)[0]
        tb = xp.take(t_break, idx)
        sort = xp.argsort(tb, stable=True)
        jumps = 2.0 * xp.take(xp.take(v, idx) * xp.abs(xp.take(Ah, idx)), sort)
        slope = slope0 + xp.cumulative_sum(jumps)
        k = int(xp.argmax(xp.astype(slope >= 0, xp.int32)))
        entering = int(xp.take(idx, sort)[k])
        basis = xp.where(cols == j, xp.asarray(entering, dtype=basis.dtype, device=dev), basis)
    return None


def lp_regression(A, b, p=1.0, *, sample_weight=None, fit_intercept=False, max_iter=100, tol=1e-8,
                  verbose=0):
    """Weighted l_p regression ``min_x sum_i v_i |b_i - a_i^T x|^p`` for ``p >= 1``.

    - ``p = 2``: one weighted least-squares solve.
    - ``1 <= p < 2``: iteratively reweighted least squares (IRLS) with
      weights ``v_i max(|r_i|, delta)^(p - 2)``, a majorize-minimize step for
      the l_p loss smoothed below ``delta``; ``delta`` starts at the mean
      absolute least-squares residual and halves at each iteration to
      ``1e-10`` times it, so the iterates converge to an exact l_p solution.
      For ``p = 1`` (least absolute deviations), where IRLS converges only
      linearly, each iteration also tries the LP vertex through the ``d``
      rows of smallest residual and stops there when the subgradient
      optimality condition certifies it: the exact LP optimum.
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
    f_zero = _objective(b, v, p, xp)  # the loss of x = 0, for "exact fit" tests
    if scale == 0.0 or f <= 1e-12 * f_zero:
        converged = True
    while not converged and n_iter < max_iter:
        n_iter += 1
        if p < 2:
            delta = max(delta_min, delta / 2)
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
        # An exact fit (objective at rounding level) is converged too.
        exact_fit = f <= 1e-12 * f_zero
        converged = exact_fit or (stalled and (p > 2 or delta <= delta_min))
        if p == 1 and not converged and (stalled or delta <= 1e-3 * scale):
            vertex = _lad_vertex_descent(A, b, v, r, xp)
            if vertex is not None:
                x, r = vertex
                f = _objective(r, v, p, xp)
                path[-1] = f
                converged = True
    intercept = 0.0
    if fit_intercept:
        intercept = float(x[-1])
        x = x[:-1]
    return LpRegressionResult(coef=x, intercept=intercept, objective=f, n_iter=n_iter,
                              converged=bool(converged), objective_path=path)

