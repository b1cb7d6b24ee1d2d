"""Entropic optimal transport by Sinkhorn then sparse Newton (Tang et al., ICLR 2024).

The pure functions behind :class:`SinkhornNewtonOT`: :func:`sinkhorn_newton`
returns the entropic plan, :func:`sinkhorn_newton2` the transport cost.

Notation. The plan of the dual potentials ``(f, g)`` is
``P_ij = exp((f_i + g_j - M_ij) / reg)``; the dual objective

    D(f, g) = <a, f> + <b, g> - reg * sum_ij P_ij

is concave, its gradient is the marginal violation ``(a - P 1, b - P^T 1)``
and its negative Hessian is ``(1 / reg) [[diag(P 1), P], [P^T, diag(P^T 1)]]``.
Maximising ``D`` solves ``min <P, M> + reg sum P (log P - 1)`` subject to
``P 1 = a, P^T 1 = b``, whose plan is POT's ``ot.sinkhorn`` plan (the
``-1`` only shifts the objective by ``reg``).
"""

import math
import time
import warnings
from numbers import Real

from sklearn.exceptions import ConvergenceWarning

from ..utils._array_api import device as array_device
from ..utils._array_api import (
    get_namespace,
    kth_largest,
    logsumexp,
    sparse_matmul,
    sparse_matrix,
    sparse_solve,
)

__all__ = ["sinkhorn_newton", "sinkhorn_newton2"]

# The sparsified Hessian keeps at least the density's entries, and more when the
# plan mass it drops would exceed this fraction of the current L1 marginal
# error (measured: with 16 entries per row alone, reg = 1e-2 plans, which are
# dense, converged only linearly: 4e-4 after 100 Newton steps; with this rule,
# 3 to 4 steps).
_DROP_RATIO = 0.1


def _check_inputs(a, b, M, reg, xp, device):
    if len(M.shape) != 2 or M.shape[0] == 0 or M.shape[1] == 0:
        raise ValueError(f"M must be a non-empty 2-D cost matrix, got shape {tuple(M.shape)}.")
    if not bool(xp.all(xp.isfinite(M))):
        raise ValueError("M must be finite (no NaN or inf).")
    if not (isinstance(reg, Real) and math.isfinite(reg) and reg > 0):
        raise ValueError(f"reg must be a positive finite number, got {reg!r}.")
    n, m = M.shape
    weights = []
    for name, w, size in (("a", a, n), ("b", b, m)):
        if w is None or (hasattr(w, "__len__") and len(w) == 0):
            w = xp.full((size,), 1.0 / size, dtype=M.dtype, device=device)
        else:
            w = xp.asarray(w, dtype=M.dtype, device=device)
            if w.shape != (size,):
                raise ValueError(
                    f"{name} must have shape ({size},) to match M of shape {(n, m)}, "
                    f"got {tuple(w.shape)}."
                )
            if not bool(xp.all(xp.isfinite(w))) or bool(xp.any(w < 0)):
                raise ValueError(f"{name} must be finite and non-negative.")
            total = float(xp.sum(w))
            if abs(total - 1.0) > 1e-6:
                raise ValueError(
                    f"{name} must sum to 1 (got {total:.8g}): balanced transport between "
                    "probability vectors; normalize the weights first."
                )
        weights.append(w)
    return weights


def _support(w, xp):
    """Indices of the positive weights, and a map from every index to its place (or a pad)."""
    inside = xp.nonzero(w > 0)[0]
    slot = xp.cumulative_sum(xp.astype(w > 0, xp.int64)) - 1
    slot = xp.where(w > 0, slot, inside.shape[0])  # zero-weight points read a zero pad
    return inside, slot


def _plan(f, g, M, reg, xp):
    exponent = (f[:, None] + g[None, :] - M) / reg
    # Far above 0 only for trial steps that the line search rejects: keep them finite.
    return xp.exp(xp.minimum(exponent, 300.0))


def _dual(f, g, P, a, b, reg, xp):
    return float(xp.vecdot(a, f) + xp.vecdot(b, g) - reg * xp.sum(P))


def _marginal_error(P, a, b, xp):
    return float(xp.sum(xp.abs(xp.sum(P, axis=1) - a)) + xp.sum(xp.abs(xp.sum(P, axis=0) - b)))


def _sinkhorn_sweep(f, g, M, reg, log_a, log_b, xp):
    """One log-domain Sinkhorn iteration (exact block ascent on D): f, then g."""
    f = reg * (log_a - logsumexp((g[None, :] - M) / reg, axis=1, xp=xp))
    g = reg * (log_b - logsumexp((f[:, None] - M) / reg, axis=0, xp=xp))
    return f, g


def _sparse_hessian(P, k, xp, max_dropped=None):
    """The largest entries of ``P`` as a CSR matrix (ties at the threshold kept).

    At least ``k`` entries; more when the mass left out would exceed
    ``max_dropped`` (then the fewest entries whose complement weighs at most
    that, found by one sort).
    """
    n, m = P.shape
    threshold = kth_largest(P, k) if k < n * m else 0.0
    if max_dropped is not None and threshold > 0:
        dropped = float(xp.sum(xp.where(P < threshold, P, 0.0)))
        if dropped > max_dropped:
            ascending = xp.sort(xp.reshape(P, (-1,)))
            tail = xp.cumulative_sum(ascending)  # tail[i]: mass of the i + 1 smallest
            n_drop = int(xp.sum(xp.astype(tail <= max_dropped, xp.int64)))
            threshold = float(ascending[n_drop]) if n_drop < n * m else 0.0
    keep = P >= threshold if threshold > 0 else P > 0
    rows, cols = xp.nonzero(keep)
    data = xp.take(xp.reshape(P, (-1,)), rows * m + cols)
    counts = xp.sum(xp.astype(keep, xp.int64), axis=1)
    indptr = xp.cumulative_sum(counts, include_initial=True)
    S = sparse_matrix(data, cols, indptr, (n, m), format="csr", like=data)
    return S, (data, rows, cols)


def _newton_direction(P, grad_f, grad_g, reg, k, max_dropped, cg_tol, cg_max_iter, xp,
                      damping=0.0):
    """Solve ``H d = grad`` by preconditioned CG with the sparsified Hessian.

    ``H = (1/reg) [[diag(r), S], [S^T, diag(c)]]`` with ``r, c`` the exact
    marginals of ``P`` and ``S`` its ``k`` largest entries. The last ``g``
    coordinate is pinned (``d_g[-1] = 0``): that removes the null direction
    ``(1, -1)`` of the exact Hessian, so the system is positive definite.
    """
    n, m = P.shape
    r, c = xp.sum(P, axis=1) + damping, xp.sum(P, axis=0) + damping
    S, entries = _sparse_hessian(P, k, xp, max_dropped)
    nnz = int(entries[0].shape[0])
    ST = S.T
    pin = xp.concat([xp.ones(m - 1, dtype=P.dtype, device=array_device(P)),
                     xp.zeros(1, dtype=P.dtype, device=array_device(P))])

    def matvec(df, dg):
        return ((r * df + sparse_matmul(S, dg)) / reg,
                (c * dg + sparse_matmul(ST, df)) / reg * pin)

    inv_r = xp.where(r > 0, reg / xp.where(r > 0, r, 1.0), 0.0)
    inv_c = xp.where(c > 0, reg / xp.where(c > 0, c, 1.0), 0.0) * pin
    bf, bg = grad_f, grad_g * pin
    df, dg = xp.zeros_like(bf), xp.zeros_like(bg)
    rf, rg = bf, bg
    zf, zg = rf * inv_r, rg * inv_c
    pf, pg = zf, zg
    rz = float(xp.vecdot(rf, zf) + xp.vecdot(rg, zg))
    norm_b = math.sqrt(float(xp.vecdot(bf, bf) + xp.vecdot(bg, bg)))
    steps, converged = 0, False
    for steps in range(1, cg_max_iter + 1):
        qf, qg = matvec(pf, pg)
        pq = float(xp.vecdot(pf, qf) + xp.vecdot(pg, qg))
        if pq <= 0:
            break
        alpha = rz / pq
        df, dg = df + alpha * pf, dg + alpha * pg
        rf, rg = rf - alpha * qf, rg - alpha * qg
        if math.sqrt(float(xp.vecdot(rf, rf) + xp.vecdot(rg, rg))) <= cg_tol * norm_b:
            converged = True
            break
        zf, zg = rf * inv_r, rg * inv_c
        rz_new = float(xp.vecdot(rf, zf) + xp.vecdot(rg, zg))
        pf, pg = zf + (rz_new / rz) * pf, zg + (rz_new / rz) * pg
        rz = rz_new
    if not converged:
        df, dg = _direct_direction(r, c, entries, bf, bg, reg, xp)
    return df, dg, steps, nnz, not converged


def _direct_direction(r, c, entries, bf, bg, reg, xp):
    """The same pinned sparse system, by a sparse direct solver (when CG stalls).

    Near a sparse optimal plan the kept bipartite graph is poorly connected and
    the system, though definite, is too ill-conditioned for CG in
    ``cg_max_iter`` steps (measured: 10-D point clouds at ``reg = 1e-3``).
    """
    n, m = r.shape[0], c.shape[0]
    data, rows, cols = entries
    keep = cols < m - 1  # the pinned last column of g has no unknown
    data, rows, cols = (xp.take(v, xp.nonzero(keep)[0]) for v in (data, rows, cols))
    diag = xp.arange(n + m - 1, dtype=xp.int64, device=array_device(r))
    # A relative 1e-12 ridge: the kept graph may fall apart into components,
    # each with its own null direction (only one is pinned).
    ridge = 1e-12 * float(xp.max(r))
    all_data = xp.concat([r + ridge, c[:m - 1] + ridge, data, data]) / reg
    all_rows = xp.concat([diag, rows, cols + n])
    all_cols = xp.concat([diag, cols + n, rows])
    rhs = xp.concat([bf, bg[:m - 1]])
    x = sparse_solve(all_data, all_rows, all_cols, (n + m - 1, n + m - 1), rhs)
    zero = xp.zeros(1, dtype=x.dtype, device=array_device(x))
    return x[:n], xp.concat([x[n:], zero])


def sinkhorn_newton(
    a,
    b,
    M,
    reg,
    *,
    n_sinkhorn=20,
    density=None,
    tol=1e-9,
    max_iter=100,
    cg_tol=1e-10,
    cg_max_iter=100,
    log=False,
    warn=True,
    verbose=0,
):
    """Entropic optimal transport plan by Sinkhorn then sparse Newton (SNS).

    Solves ``min_P <P, M> + reg * sum_ij P_ij (log P_ij - 1)`` over plans
    with marginals ``P 1 = a`` and ``P^T 1 = b`` (the plan of POT's
    ``ot.sinkhorn``), to an L1 marginal error below ``tol``:

    1. ``n_sinkhorn`` log-domain Sinkhorn iterations (block ascent on the
       dual; the kernel ``exp(-M / reg)`` is never formed, so small ``reg``
       cannot underflow);
    2. Newton steps on the dual potentials with the Hessian's off-diagonal
       blocks sparsified to the largest ``density`` fraction of the plan's
       entries and the diagonal blocks exact, solved by preconditioned
       conjugate gradient with one potential pinned (the exact Hessian is
       singular along ``(1, -1)``), with a backtracking line search on the
       dual objective.

    Deviations from the paper (measured, see ``benchmarks/README.md``): the
    sparsified Hessian keeps more than ``density`` when the dropped mass is
    large against the marginal error (the paper's fixed ``2/n`` converged
    only linearly); when CG does not converge in ``cg_max_iter`` steps the
    same sparse system is solved by a sparse direct solver; a failed line
    search falls back to one Sinkhorn step and from then on keeps 4 times
    more Hessian entries and adds a Levenberg-Marquardt damping to the
    diagonal (divided by 10 after each full step); the iterate with the
    smallest marginal error is returned.

    Parameters
    ----------
    a : array of shape (n,) or empty
        Source weights (non-negative, summing to 1); empty means uniform.
    b : array of shape (m,) or empty
        Target weights; empty means uniform.
    M : array of shape (n, m)
        Cost matrix (finite).
    reg : float
        Entropic regularization ``> 0`` (POT's ``reg``; the paper's
        ``1 / eta``). Meaningful relative to the scale of ``M``: scale
        costs to ``[0, 1]`` and use ``1e-1`` down to ``1e-5``.
    n_sinkhorn : int, default=20
        Sinkhorn iterations before the Newton stage (the paper's N1).
    density : float, default=None
        Least fraction of the plan's entries kept in the sparsified Hessian;
        by default ``16 / min(n, m)`` (16 entries per row of a square plan),
        capped at 1. More are kept when the plan mass left out would exceed
        a tenth of the current marginal error (dense plans, large ``reg``).
    tol : float, default=1e-9
        Stop when ``||P 1 - a||_1 + ||P^T 1 - b||_1 <= tol`` (raised to
        ``100 eps`` of ``M``'s dtype, ``1.2e-5`` in float32).
    max_iter : int, default=100
        Maximum Newton iterations.
    cg_tol : float, default=1e-10
        Relative residual of each conjugate-gradient solve.
    cg_max_iter : int, default=100
        Maximum conjugate-gradient steps per Newton step; past them the same
        sparse system is solved directly (SuperLU). Measured at ``n = 500``:
        at ``reg = 1e-4`` CG needs thousands of steps and this default fits
        1.6 to 1.7 times faster than ``cg_max_iter=1000``; at ``reg = 1e-3``
        on the paper's assignment problem CG converges in 300 to 450 steps,
        and ``cg_max_iter=1000`` is faster (0.5 s against 0.9 s).
    log : bool, default=False
        Also return a dict of diagnostics.
    warn : bool, default=True
        Emit a ``ConvergenceWarning`` when ``tol`` is not reached.
    verbose : int, default=0
        Print the marginal error after each Newton step.

    Returns
    -------
    P : array of shape (n, m)
        The transport plan.
    log : dict
        Only with ``log=True``: ``f``, ``g`` (dual potentials, the plan is
        ``exp((f_i + g_j - M_ij) / reg)``), ``err`` (marginal error after
        every fifth and the last Sinkhorn iteration, then after each Newton
        step), ``dual`` (dual objective after each Newton step), ``n_sinkhorn``, ``n_newton``, ``n_cg`` (CG steps
        per Newton step), ``nnz`` (kept Hessian entries per step),
        ``n_fallback`` (Sinkhorn steps taken when a line search failed),
        ``n_direct`` (Newton steps solved directly after CG stalled),
        ``final_err`` (marginal error of the returned plan),
        ``converged``.

    References
    ----------
    .. [1] Tang, X., Shavlovsky, M., Rahmanian, H., Tardini, E.,
       Thekumparampil, K. K., Xiao, T. and Ying, L. "Accelerating Sinkhorn
       Algorithm with Sparse Newton Iterations." ICLR 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.transport import sinkhorn_newton
    >>> rng = np.random.RandomState(0)
    >>> M = rng.uniform(size=(50, 40))
    >>> P = sinkhorn_newton([], [], M, 1e-3)
    >>> bool(np.abs(P.sum(axis=1) - 1 / 50).sum() + np.abs(P.sum(axis=0) - 1 / 40).sum() < 1e-9)
    True
    """
    xp, device = get_namespace(M)
    if not (xp.isdtype(M.dtype, "real floating")):
        M = xp.astype(M, xp.float64)
    a, b = _check_inputs(a, b, M, reg, xp, device)
    for name, value in (("n_sinkhorn", n_sinkhorn), ("max_iter", max_iter)):
        if not (isinstance(value, int) and value >= 0):
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}.")
    if density is not None and not (0 < density <= 1):
        raise ValueError(f"density must lie in (0, 1], got {density!r}.")

    tol = max(float(tol), 100.0 * xp.finfo(M.dtype).eps)
    # Zero-weight points carry no mass: solve on the support, pad back after.
    rows_in, row_slot = _support(a, xp)
    cols_in, col_slot = _support(b, xp)
    M_s = xp.take(xp.take(M, rows_in, axis=0), cols_in, axis=1)
    a_s, b_s = xp.take(a, rows_in), xp.take(b, cols_in)
    P_s, info = _solve(a_s, b_s, M_s, float(reg), n_sinkhorn, density, tol, max_iter, cg_tol,
                       cg_max_iter, verbose, xp)
    n, m = M.shape
    if P_s.shape != (n, m):
        padded = xp.concat([P_s, xp.zeros((1, P_s.shape[1]), dtype=P_s.dtype, device=device)])
        padded = xp.concat([padded, xp.zeros((padded.shape[0], 1), dtype=P_s.dtype,
                                             device=device)], axis=1)
        P = xp.take(xp.take(padded, row_slot, axis=0), col_slot, axis=1)
        info["f"] = xp.take(xp.concat([info["f"], xp.asarray([-math.inf], dtype=M.dtype,
                                                              device=device)]), row_slot)
        info["g"] = xp.take(xp.concat([info["g"], xp.asarray([-math.inf], dtype=M.dtype,
                                                              device=device)]), col_slot)
    else:
        P = P_s
    if warn and not info["converged"]:
        warnings.warn(
            f"sinkhorn_newton stopped after {info['n_newton']} Newton iterations with a marginal "
            f"error of {info['final_err']:.3g} > tol={tol}; increase max_iter or reg.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return (P, info) if log else P


def _solve(a, b, M, reg, n_sinkhorn, density, tol, max_iter, cg_tol, cg_max_iter, verbose, xp):
    n, m = M.shape
    k = n * m if density is None and min(n, m) <= 16 else None
    if k is None:
        fraction = min(1.0, 16.0 / min(n, m)) if density is None else density
        k = max(1, min(n * m, math.ceil(fraction * n * m)))
    log_a, log_b = xp.log(a), xp.log(b)
    f = xp.zeros(n, dtype=M.dtype, device=array_device(M))
    g = reg * (log_b - logsumexp((f[:, None] - M) / reg, axis=0, xp=xp))
    info = {"err": [], "dual": [], "n_cg": [], "nnz": [], "n_fallback": 0, "n_direct": 0}
    start = time.perf_counter()
    n_done = 0
    while n_done < n_sinkhorn:
        f, g = _sinkhorn_sweep(f, g, M, reg, log_a, log_b, xp)
        n_done += 1
        # The error costs as much as a sweep: look every 5 sweeps and at the end.
        if n_done % 5 == 0 or n_done == n_sinkhorn:
            P = _plan(f, g, M, reg, xp)
            info["err"].append(_marginal_error(P, a, b, xp))
            if info["err"][-1] <= tol:
                break
    if n_done == 0:
        P = _plan(f, g, M, reg, xp)
        info["err"].append(_marginal_error(P, a, b, xp))
    info["n_sinkhorn"] = n_done
    dual = _dual(f, g, P, a, b, reg, xp)
    n_newton, damping = 0, 0.0
    best = (info["err"][-1], f, g, P)
    while info["err"][-1] > tol and n_newton < max_iter:
        n_newton += 1
        grad_f, grad_g = a - xp.sum(P, axis=1), b - xp.sum(P, axis=0)
        max_dropped = _DROP_RATIO * info["err"][-1]
        df, dg, n_cg, nnz, direct = _newton_direction(P, grad_f, grad_g, reg, k, max_dropped,
                                                      cg_tol, cg_max_iter, xp, damping)
        info["n_cg"].append(n_cg)
        info["n_direct"] += int(direct)
        info["nnz"].append(nnz)
        slope = float(xp.vecdot(grad_f, df) + xp.vecdot(grad_g, dg))
        step, accepted = 1.0, False
        # Armijo on the dual, with a rounding allowance: near the solution the
        # gain is ~||grad||^2, below the resolution of D itself, and a strict
        # test would reject the (excellent) full Newton step.
        allowance = 1e-14 * max(abs(dual), 1.0)
        for _ in range(30):
            f_new, g_new = f + step * df, g + step * dg
            P_new = _plan(f_new, g_new, M, reg, xp)
            dual_new = _dual(f_new, g_new, P_new, a, b, reg, xp)
            if math.isfinite(dual_new) and dual_new >= dual + 1e-4 * step * slope - allowance:
                accepted = True
                break
            step *= 0.5
        if not accepted or step < 1e-8:
            # The direction is useless: the sparsified Hessian is too far from the
            # true one (its kept graph may even fall apart). Keep 4 times more
            # entries from now on, and make this step a Sinkhorn one.
            k = min(n * m, 4 * k)
            damping = max(10.0 * damping, 1e-3 / (n + m))
            f_new, g_new = _sinkhorn_sweep(f, g, M, reg, log_a, log_b, xp)
            P_new = _plan(f_new, g_new, M, reg, xp)
            dual_new = _dual(f_new, g_new, P_new, a, b, reg, xp)
            info["n_fallback"] += 1
        elif step == 1.0:
            damping = damping / 10.0 if damping > 1e-12 / (n + m) else 0.0
        f, g, P, dual = f_new, g_new, P_new, dual_new
        info["err"].append(_marginal_error(P, a, b, xp))
        info["dual"].append(dual)
        if info["err"][-1] < best[0]:
            best = (info["err"][-1], f, g, P)
        if verbose:
            print(f"[sinkhorn_newton] Newton {n_newton}: marginal error {info['err'][-1]:.3e}, "
                  f"step {step:.3g}, {n_cg} CG steps, {nnz} Hessian entries "
                  f"({time.perf_counter() - start:.2f} s)")
    # Far from the solution (very small reg) the dual can rise while the marginals
    # get worse: return the iterate with the smallest marginal error.
    err, f, g, P = best
    info.update(f=f, g=g, n_newton=n_newton, converged=err <= tol, final_err=err)
    return P, info


def sinkhorn_newton2(a, b, M, reg, **kwargs):
    """Entropic transport cost ``<P, M>`` of the :func:`sinkhorn_newton` plan.

    Like POT's ``ot.sinkhorn2``: the linear part of the objective only (no
    entropy term).

    Parameters
    ----------
    a, b, M, reg
        As in :func:`sinkhorn_newton`.
    **kwargs
        Passed on to :func:`sinkhorn_newton` (``log=True`` returns the log
        dict too).

    Returns
    -------
    cost : float
        ``sum_ij P_ij M_ij``.
    log : dict
        Only with ``log=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.transport import sinkhorn_newton2
    >>> M = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> round(sinkhorn_newton2([], [], M, 1e-3), 6)
    0.0
    """
    out = sinkhorn_newton(a, b, M, reg, **kwargs)
    P, info = out if kwargs.get("log") else (out, None)
    xp, _ = get_namespace(P)
    cost = float(xp.sum(P * xp.asarray(M, dtype=P.dtype)))
    return (cost, info) if kwargs.get("log") else cost
