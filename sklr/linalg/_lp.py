"""l_p regression by iteratively reweighted least squares, over any array namespace."""

import math
from dataclasses import dataclass
from numbers import Integral, Real

from ..utils._array_api import device, lstsq, namespace_and_device, solve_triangular
from ..utils._validation import Interval, validate_params
from ._checks import check_matrix, check_rows

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


def _log_objective(r, v, p, xp):
    """``log(sum_i v_i |r_i|^p)`` without overflow or underflow (``-inf`` for a zero loss).

    The residuals are divided by their largest weighted magnitude before the
    power, so any ``p`` (1000 included) and any units of ``r`` are safe.
    """
    a = xp.where(v > 0, xp.abs(r), xp.zeros_like(r))
    s = float(xp.max(a)) if a.shape[0] else 0.0
    if s == 0.0:
        return -math.inf
    return p * math.log(s) + math.log(float(xp.sum(v * (a / s) ** p)))


def _exp(log_value):
    """The objective from its logarithm (``inf`` past float64's range, which ``p`` >> 2 can reach)."""
    return math.exp(log_value) if log_value < 709.0 else math.inf


def _irls_weights(r, v, p, floor, xp):
    """``v_i max(|r_i|, floor)^(p - 2)``, divided by its largest value (least squares is unchanged)."""
    a = xp.maximum(xp.abs(r), floor)
    s = float(xp.max(a))
    return v * (a / s) ** (p - 2)


def _line_search(r, Ad, v, p, xp, n_bisect=50):
    """``argmin_{t >= 0} sum_i v_i |r_i - t Ad_i|^p`` by bisection on the slope (p > 1, convex in t).

    The slope's sign is computed on residuals divided by their largest
    magnitude, so it never overflows. ``t = 1`` is the full IRLS step along
    ``Ad``; the bracket is doubled until the slope turns non-negative.
    """
    def slope(t):
        q = r - t * Ad
        a = xp.abs(q)
        s = float(xp.max(a))
        if s == 0.0:
            return 0.0
        return -float(xp.sum(v * (a / s) ** (p - 1) * xp.sign(q) * Ad))

    lo, hi = 0.0, 1.0
    while slope(hi) < 0.0 and hi < 1e8:
        lo, hi = hi, 2.0 * hi
    for _ in range(n_bisect):
        mid = 0.5 * (lo + hi)
        if slope(mid) < 0.0:
            lo = mid
        else:
            hi = mid
    return 0.5 * (lo + hi)


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


@validate_params(
    {
        "A": ["array-like"],
        "b": ["array-like"],
        "p": [Interval(Real, 1, None, closed="left")],
        "sample_weight": ["array-like", None],
        "fit_intercept": ["boolean"],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
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
      IRLS step (Adil, Peng and Sachdeva, 2019), with an exact line search
      along the IRLS direction (bisection on the slope) instead of their
      fixed step: far from the optimum the best step is up to ``p - 1``
      times Newton's, so a backtracking search from Newton's step crawls
      for large ``p``; near the optimum the search ends at Newton's step.

    Objectives are compared through their logarithms, on residuals divided
    by their largest magnitude, so any ``p`` (1000 included) and any units
    of ``b`` are safe; the returned ``objective`` is ``inf`` when the loss
    itself exceeds float64's range.

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
        its value (after the smoothing of ``p < 2`` has reached its floor),
        or when the weighted l_p norm of the residuals is below ``1e-12``
        times that of ``b`` (an exact fit).
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
    namespace_and_device(A, b)  # one namespace for both
    A = check_matrix(A, "A")
    xp, dev = namespace_and_device(A)
    b = check_rows(xp.astype(xp.asarray(check_matrix(b, "b", ndim=1), device=dev), A.dtype),
                   "b", A.shape[0])
    if sample_weight is not None:
        sample_weight = check_matrix(sample_weight, "sample_weight", ndim=1, non_negative=True,
                                        not_all_zero=True, xp=xp, device=dev)
        sample_weight = check_rows(xp.astype(sample_weight, A.dtype), "sample_weight", A.shape[0])
    return _lp_regression(A, b, float(p), sample_weight=sample_weight,
                          fit_intercept=fit_intercept, max_iter=max_iter, tol=tol,
                          verbose=verbose)


def _lp_regression(A, b, p, *, sample_weight=None, fit_intercept=False, max_iter=100, tol=1e-8,
                   verbose=0):
    """:func:`lp_regression` on checked arrays of one namespace."""
    xp, dev = namespace_and_device(A, b)
    n = A.shape[0]
    if fit_intercept:
        A = xp.concat([A, xp.ones((n, 1), dtype=A.dtype, device=dev)], axis=1)
    v = xp.ones(n, dtype=A.dtype, device=dev) if sample_weight is None else sample_weight
    if not float(xp.sum(v)) > 0.0:
        raise ValueError("sample_weight must have a positive sum; all weights are zero.")
    x = _weighted_lstsq(A, b, v, xp)
    r = b - A @ x
    # Objectives are compared through their logarithms: |r|^p over- or
    # underflows for large p or for data in other units.
    log_f = _log_objective(r, v, p, xp)
    path = [_exp(log_f)]
    n_iter = 0
    scale = float(xp.sum(v * xp.abs(r))) / max(float(xp.sum(v)), 1e-300)
    delta, delta_min = scale, 1e-10 * scale
    # An exact fit: the weighted l_p norm of the residual is at rounding level
    # against that of b (the loss of x = 0), whatever p.
    log_exact = _log_objective(b, v, p, xp) + p * math.log(1e-12)
    converged = p == 2 or scale == 0.0 or log_f <= log_exact
    while not converged and n_iter < max_iter:
        n_iter += 1
        if p < 2:
            delta = max(delta_min, delta / 2)
            c = _irls_weights(r, v, p, delta, xp)
            x_new = _weighted_lstsq(A, b, c, xp)
            r_new = b - A @ x_new
        else:
            # The IRLS step is p - 1 times Newton's (Adil, Peng and Sachdeva,
            # 2019); an exact line search along it makes every step a descent
            # and keeps Newton's local rate (the search ends near t = 1/(p-1)).
            c = _irls_weights(r, v, p, delta_min, xp)
            d = _weighted_lstsq(A, b, c, xp) - x
            Ad = A @ d
            t = _line_search(r, Ad, v, p, xp)
            x_new, r_new = x + t * d, r - t * Ad
        log_f_new = _log_objective(r_new, v, p, xp)
        if verbose:
            print(f"[lp_regression] iteration {n_iter}: objective {_exp(log_f_new):.10g}")
        # Relative decrease of the objective below tol: log(f / f_new) <= -log(1 - tol).
        stalled = not log_f_new < log_f + math.log1p(-min(tol, 0.5))
        if log_f_new <= log_f or p < 2:
            x, r, log_f = x_new, r_new, log_f_new
        path.append(_exp(log_f))
        converged = log_f <= log_exact or (stalled and (p > 2 or delta <= delta_min))
        if p == 1 and not converged and (stalled or delta <= 1e-3 * scale):
            vertex = _lad_vertex_descent(A, b, v, r, xp)
            if vertex is not None:
                x, r = vertex
                log_f = _log_objective(r, v, p, xp)
                path[-1] = _exp(log_f)
                converged = True
    f = _exp(log_f)
    intercept = 0.0
    if fit_intercept:
        intercept = float(x[-1])
        x = x[:-1]
    return LpRegressionResult(coef=x, intercept=intercept, objective=f, n_iter=n_iter,
                              converged=bool(converged), objective_path=path)

