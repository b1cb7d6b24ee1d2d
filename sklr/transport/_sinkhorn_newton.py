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
from numbers import Integral, Real

from sklearn.exceptions import ConvergenceWarning

from ..linalg._cg import conjugate_gradient
from ..utils._array_api import device as array_device
from ..utils._array_api import (
    add_to_diagonal,
    exp_inplace,
    get_namespace,
    kth_largest,
    logsumexp,
    segment_sum,
    solve_triangular,
    sparse_gram,
    sparse_matmul,
    sparse_matrix,
)
from ..utils._validation import Interval, StrOptions, validate_params

__all__ = ["sinkhorn_newton", "sinkhorn_newton2"]

# The sparsified Hessian keeps at least the density's entries, and more when the
# plan mass it drops would exceed this fraction of the current L1 marginal
# error (measured: with 16 entries per row alone, reg = 1e-2 plans, which are
# dense, converged only linearly: 4e-4 after 100 Newton steps; with this rule,
# 3 to 4 steps).
_DROP_RATIO = 0.1

# linear_solver="auto" solves the Newton systems directly (dense Cholesky of the
# Schur complement on the smaller side) up to this size, by CG above it: the
# dense matrix is then no larger than the plan, and its factorization costs
# min(n, m)^3 / 3 flops, against CG steps that grow into the hundreds as reg
# falls (300 to 450 at n = 500, reg = 1e-3; thousands at 1e-4). Timings:
# benchmarks/results/2026-12-05_sinkhorn_newton_scaling.md.
_CHOLESKY_MAX = 4000

# Sinkhorn iterations after a damped or failed Newton step (see _solve).
_EXTRA_SWEEPS = 100

# Sinkhorn finishes the job alone while its measured linear rate predicts at most
# this many more iterations. On 2-D clouds, n = 1000, reg = 1e-2, Sinkhorn alone
# (190 iterations, POT's) was far faster than 20 Sinkhorn + 4 Newton steps (timings:
# benchmarks/results/2026-12-05_moved_from_docstrings.md); there the prediction
# after 20 iterations was 175 more, and 176 were needed. At reg = 1e-3 the
# predictions after 20 iterations were 224 to 558 and grew as Sinkhorn slowed down.
_SINKHORN_FINISH = 200

# The line search gives up below this step (then Sinkhorn iterations follow).
_MIN_STEP = 1e-2


def _as_cost_matrix(M, xp, device):
    """``M`` as a real floating array of ``xp`` (lists, tuples and integer costs too)."""
    try:
        M = xp.asarray(M, device=device)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"M must be a 2-D array of real costs, got {type(M).__name__}.") from exc
    if xp.isdtype(M.dtype, "complex floating") or not xp.isdtype(M.dtype, "numeric"):
        raise TypeError(f"M must hold real numbers, got dtype {M.dtype}.")
    if not xp.isdtype(M.dtype, "real floating"):
        M = xp.astype(M, xp.float64)
    return M


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
            try:
                w = xp.asarray(w, dtype=M.dtype, device=device)
            except (TypeError, ValueError) as exc:
                raise TypeError(f"{name} must be an array of real weights: {exc}") from exc
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


def _plan_floor(dtype, xp):
    """The smallest plan entry :func:`_plan` returns (its clipped exponents' floor), doubled."""
    return 2.0 * math.exp(_EXP_FLOOR[0] if dtype == xp.float32 else _EXP_FLOOR[1])


_EXP_FLOOR = (-85.0, -700.0)  # float32, float64: just above the underflow threshold


def _plan(f, g, M, reg, xp):
    exponent = f[:, None] - M
    exponent += g[None, :]
    exponent *= 1.0 / reg
    # Far above 0 only for trial steps that the line search rejects: keep them
    # finite. Below, entries stop just above the underflow threshold (about
    # 1e-304, or 1e-37 in float32): far faster than underflowing (see
    # exp_inplace), and far below anything the marginals or the dual resolve.
    lower = _EXP_FLOOR[0] if exponent.dtype == xp.float32 else _EXP_FLOOR[1]
    return exp_inplace(exponent, lower=lower, upper=300.0)


def _dual(f, g, P, a, b, reg, xp):
    return float(xp.vecdot(a, f) + xp.vecdot(b, g) - reg * xp.sum(P))


def _marginal_error(P, a, b, xp):
    return float(xp.sum(xp.abs(xp.sum(P, axis=1) - a)) + xp.sum(xp.abs(xp.sum(P, axis=0) - b)))


def _sinkhorn_sweep(f, g, M, reg, log_a, log_b, xp):
    """One log-domain Sinkhorn iteration (exact block ascent on D): f, then g."""
    f = reg * (log_a - logsumexp((g[None, :] - M) / reg, axis=1, xp=xp))
    g = reg * (log_b - logsumexp((f[:, None] - M) / reg, axis=0, xp=xp))
    return f, g


def _sinkhorn_stage(M, reg, a, b, log_a, log_b, n_iter, tol, xp, errors, start=None):
    """``n_iter`` Sinkhorn iterations (see :func:`_scaling_sweeps`) from shifted potentials.

    The start is ``f_i = min_j M_ij`` and ``g_j = min_i (M_ij - f_i)``: every
    exponent ``(f_i + g_j - M_ij) / reg`` is at most 0 and each row and each
    column of the kernel holds a 1, so the kernel has no zero row or column
    however small ``reg`` is (entries below ``e^-700`` sit at that floor, far
    below what the marginals resolve). No log-sum-exp is needed: the start
    replaces a first iteration in the log domain (three log-sum-exps over
    the matrix), which made the stage markedly slower on the assignment
    problem (timings: ``benchmarks/results/2026-12-05_moved_from_docstrings.md``).
    """
    if start is None:
        f = xp.min(M, axis=1)
        g = xp.min(M - f[:, None], axis=0)
        K = _plan(f, g, M, reg, xp)
    else:
        f, g = start
        K = _plan(f, g, M, reg, xp)
    if n_iter == 0:
        errors.append(_marginal_error(K, a, b, xp))
        return f, g, K, 0
    if start is None:
        v = b / xp.sum(K, axis=0)
        g = g + reg * xp.log(v)
        K = K * v[None, :]
    else:
        g = reg * (log_b - logsumexp((f[:, None] - M) / reg, axis=0, xp=xp))
        K = _plan(f, g, M, reg, xp)
    return _scaling_sweeps(f, g, K, M, reg, a, b, log_a, log_b, n_iter, tol, xp, errors)


def _scaling_sweeps(f, g, K, M, reg, a, b, log_a, log_b, n_iter, tol, xp, errors=None):
    """Up to ``n_iter`` Sinkhorn iterations from the plan ``K`` of ``(f, g)``.

    They scale ``K`` by ``u, v`` (two matrix-vector products each, not two
    log-sum-exps over the whole matrix, which take an exp per entry) and
    absorb ``u, v`` into ``f, g`` when they leave
    ``[e^-s, e^s]`` (``s = 50``, or 10 in float32); a sweep whose scalings
    are not finite and positive is redone in the log domain. The iterates
    are those of log-domain Sinkhorn. After each iteration the column
    marginals are exact, and the row error ``||u * (K v) - a||_1`` comes with
    the next iteration's first product: it is appended to ``errors`` (when
    given; the last one recomputed on the returned plan) and ends the sweeps
    once at most ``tol``.
    Returns ``f, g``, their plan and the number of iterations.
    """
    n, m = M.shape
    limit = 10.0 if M.dtype == xp.float32 else 50.0
    u = xp.ones(n, dtype=M.dtype, device=array_device(M))
    v = xp.ones(m, dtype=M.dtype, device=array_device(M))
    n_done = 0
    while n_iter > 0:
        Kv = K @ v
        if n_done > 0:
            # The error of the last sweep comes free with the next product.
            err = float(xp.sum(xp.abs(u * Kv - a)))
            if errors is not None:
                errors.append(err)
            if err <= tol or n_done == n_iter:
                break
        u_new = a / Kv
        KTu = K.T @ u_new
        v_new = b / KTu
        n_done += 1
        ok = bool(xp.all(xp.isfinite(u_new)) and xp.all(u_new > 0)
                  and xp.all(xp.isfinite(v_new)) and xp.all(v_new > 0))
        if not ok:
            # Redo this sweep in the log domain from the last good scalings.
            f, g = f + reg * xp.log(u), g + reg * xp.log(v)
            f, g = _sinkhorn_sweep(f, g, M, reg, log_a, log_b, xp)
            K = _plan(f, g, M, reg, xp)
            u, v = xp.ones_like(u), xp.ones_like(v)
        else:
            u, v = u_new, v_new
            if (float(xp.max(xp.abs(xp.log(u)))) > limit
                    or float(xp.max(xp.abs(xp.log(v)))) > limit):
                f, g = f + reg * xp.log(u), g + reg * xp.log(v)
                K = _plan(f, g, M, reg, xp)
                u, v = xp.ones_like(u), xp.ones_like(v)
    if n_done == 0:
        return f, g, K, 0
    f, g = f + reg * xp.log(u), g + reg * xp.log(v)
    # The plan of (f, g) is the scaled kernel: two products instead of an exp
    # over the matrix (|log u|, |log v| <= s keep it far from overflow).
    P = K * u[:, None]
    P *= v[None, :]
    if errors is not None:
        errors[-1] = _marginal_error(P, a, b, xp)
    return f, g, P, n_done


def _sparse_hessian(P, k, xp, max_dropped=None):
    """The largest entries of ``P`` as a CSR matrix (ties at the threshold kept).

    At least ``k`` entries; more when the mass left out would exceed
    ``max_dropped``: then the fewest entries whose complement weighs at most
    that. They are found by doubling the count by partitions until the
    dropped mass is small enough, then sorting only the last band (a
    partition takes linear time, a sort of the whole plan does not).
    """
    n, m = P.shape
    size = n * m
    threshold = kth_largest(P, k) if k < size else 0.0
    if max_dropped is not None and threshold > 0:
        dropped = float(xp.sum(xp.where(P < threshold, P, 0.0)))
        count = k
        while dropped > max_dropped and threshold > 0:
            upper = threshold  # too few entries are kept at this threshold
            count = min(size, 2 * count)
            threshold = kth_largest(P, count) if count < size else 0.0
            dropped = float(xp.sum(xp.where(P < threshold, P, 0.0)))
        if count > k:
            # Drop the band [threshold, upper) from its smallest entry up while
            # the dropped mass stays within the limit.
            flat = xp.reshape(P, (-1,))
            band = xp.take(flat, xp.nonzero((flat >= threshold) & (flat < upper))[0])
            band = xp.sort(band)
            tail = dropped + xp.cumulative_sum(band)
            n_drop = int(xp.sum(xp.astype(tail <= max_dropped, xp.int64)))
            threshold = float(band[n_drop]) if n_drop < band.shape[0] else upper
    # Entries at the plan's floor (exponents clipped just above underflow, see
    # _plan) carry no mass: never keep them, however many tie at the threshold.
    keep = (P >= threshold) & (P > _plan_floor(P.dtype, xp))
    rows, cols = xp.nonzero(keep)
    data = xp.take(xp.reshape(P, (-1,)), rows * m + cols)
    counts = xp.sum(xp.astype(keep, xp.int64), axis=1)
    indptr = xp.cumulative_sum(counts, include_initial=True)
    S = sparse_matrix(data, cols, indptr, (n, m), format="csr", like=data)
    return S, (data, rows, cols)


def _newton_direction(P, grad_f, grad_g, reg, k, max_dropped, linear_solver, cg_tol,
                      cg_max_iter, xp, damping=0.0):
    """Solve ``H d = grad`` with the sparsified Hessian.

    ``H = (1/reg) [[diag(r), S], [S^T, diag(c)]]`` with ``r, c`` the exact
    marginals of ``P`` and ``S`` its ``k`` largest entries. One potential is
    pinned (``d = 0`` there): that removes the null direction ``(1, -1)`` of
    the exact Hessian, so the system is positive definite. ``"cg"``:
    preconditioned conjugate gradient, falling back on the direct solve when
    it does not converge in ``cg_max_iter`` steps; ``"cholesky"``: the direct
    solve (:func:`_schur_direction`).
    """
    n, m = P.shape
    r, c = xp.sum(P, axis=1) + damping, xp.sum(P, axis=0) + damping
    S, entries = _sparse_hessian(P, k, xp, max_dropped)
    nnz = int(entries[0].shape[0])
    steps = 0
    if linear_solver == "cg":
        out = _cg_direction(r, c, S, grad_f, grad_g, reg, cg_tol, cg_max_iter, xp)
        steps = out[2]
        if out[3]:
            return out[0], out[1], steps, nnz, False
    df, dg = _schur_direction(r, c, entries, grad_f, grad_g, reg, xp)
    return df, dg, steps, nnz, True


def _cg_direction(r, c, S, grad_f, grad_g, reg, cg_tol, cg_max_iter, xp):
    """Diagonally preconditioned CG on the sparsified system, last ``g`` pinned.

    One two-block system, solved by :func:`sklr.linalg._cg.conjugate_gradient`
    as a batch of one concatenated vector ``(df, dg)``, stopped at ``cg_tol``
    relative to the right-hand side.
    """
    n, m = r.shape[0], c.shape[0]
    ST = S.T
    dev = array_device(r)
    pin = xp.concat([xp.ones(m - 1, dtype=r.dtype, device=dev),
                     xp.zeros(1, dtype=r.dtype, device=dev)])

    def matvec(P):
        df, dg = P[0, :n], P[0, n:]
        top = (r * df + sparse_matmul(S, dg)) / reg
        bottom = (c * dg + sparse_matmul(ST, df)) / reg * pin
        return xp.concat([top, bottom])[None, :]

    inv_diag = xp.concat([xp.where(r > 0, reg / xp.where(r > 0, r, 1.0), 0.0),
                          xp.where(c > 0, reg / xp.where(c > 0, c, 1.0), 0.0) * pin])
    b = xp.concat([grad_f, grad_g * pin])[None, :]
    result = conjugate_gradient(matvec, b, precondition=lambda R: R * inv_diag[None, :],
                                rtol=cg_tol, max_iter=cg_max_iter, reference="rhs", xp=xp)
    return result.x[0, :n], result.x[0, n:], result.n_iter, bool(result.converged[0])


def _schur_direction(r, c, entries, bf, bg, reg, xp):
    """The sparsified Newton system, solved directly through its Schur complement.

    ``[[diag(r), S], [S^T, diag(c)]] (df, dg) = reg (bf, bg)``: the larger side
    is eliminated, which leaves ``(diag(c) - S^T diag(1/r) S) dg = reg (bg -
    S^T (bf / r))`` on the smaller side, dense, with its last unknown pinned
    to 0, and solved by Cholesky. The dense matrix is no larger than the plan
    and costs ``min(n, m)^3 / 3`` flops. It was much faster than SuperLU on
    the whole sparse system (``n = m``, 16 to 30 kept entries per row) at
    ``n = 500`` and ``2000`` (timings:
    ``benchmarks/results/2026-12-05_moved_from_docstrings.md``).
    """
    n, m = r.shape[0], c.shape[0]
    data, rows, cols = entries
    if n < m:
        dg, df = _schur_direction(c, r, (data, cols, rows), bg, bf, reg, xp)
        return df, dg
    dtype = r.dtype
    tiny = xp.finfo(dtype).smallest_normal
    r_safe = xp.maximum(r, tiny)
    w = data / xp.sqrt(xp.take(r_safe, rows))
    A = sparse_gram(w, rows, cols, (n, m))  # S^T diag(1 / r) S
    A = -A[:m - 1, :m - 1]
    rhs = reg * (bg - segment_sum(data * xp.take(bf / r_safe, rows), cols, m, xp=xp))
    # A relative ridge: the kept bipartite graph may fall apart into components,
    # each with its own null direction (only one is pinned).
    ridge = max(1e-12, 10.0 * float(xp.finfo(dtype).eps)) * float(xp.max(c))
    A = add_to_diagonal(A, c[:m - 1] + ridge)
    for _ in range(4):
        try:
            L = xp.linalg.cholesky(A)
        except Exception:  # NumPy raises on a non-positive pivot (CuPy gives NaN)
            L = None
        if L is not None and bool(xp.all(xp.isfinite(L))):
            y = solve_triangular(L, rhs[:m - 1], lower=True, xp=xp)
            y = solve_triangular(L, y, lower=True, trans=True, xp=xp)
            dg = xp.concat([y, xp.zeros(1, dtype=dtype, device=array_device(r))])
            df = (reg * bf - segment_sum(data * xp.take(dg, cols), rows, n, xp=xp)) / r_safe
            return df, dg
        A = add_to_diagonal(A, 1e4 * ridge)
        ridge *= 1e4
    # Numerically indefinite even with a ridge: fall back on the diagonal step.
    return reg * bf / r_safe, reg * bg / xp.maximum(c, tiny)


@validate_params(
    {
        "a": ["array-like", None],
        "b": ["array-like", None],
        "M": ["array-like"],
        "reg": [Interval(Real, 0, None, closed="neither")],
        "n_sinkhorn": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "density": [Interval(Real, 0, 1, closed="right"), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "linear_solver": [StrOptions({"auto", "cholesky", "cg"})],
        "cg_tol": [Interval(Real, 0, None, closed="left")],
        "cg_max_iter": [Interval(Integral, 1, None, closed="left")],
        "log": ["boolean"],
        "warn": ["boolean"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def sinkhorn_newton(
    a,
    b,
    M,
    reg,
    *,
    n_sinkhorn="auto",
    density=None,
    tol=1e-9,
    max_iter=100,
    linear_solver="auto",
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

    1. ``n_sinkhorn`` Sinkhorn iterations (block ascent on the dual), two
       matrix-vector products each on the kernel ``exp((f_i + g_j - M_ij) /
       reg)`` of potentials started at the row and column minima of ``M``
       (a 1 in every row and column: the plain kernel ``exp(-M / reg)`` is
       never formed, so small ``reg`` cannot give a zero row) and kept
       stabilized by absorbing the scalings into the potentials;
    2. Newton steps on the dual potentials with the Hessian's off-diagonal
       blocks sparsified to the largest ``density`` fraction of the plan's
       entries and the diagonal blocks exact, solved by preconditioned
       conjugate gradient or directly (``linear_solver``) with one
       potential pinned (the exact Hessian is singular along ``(1, -1)``),
       with a backtracking line search on the dual objective.

    Deviations from the paper (measured, see ``benchmarks/README.md``): the
    sparsified Hessian keeps more than ``density`` when the dropped mass is
    large against the marginal error (the paper's fixed ``2/n`` converged
    only linearly); the Newton systems are solved directly up to
    ``min(n, m) = 4000`` (see ``linear_solver``), and by CG above, with the
    direct solve taking over when CG stalls; after a damped Newton step
    (line-search step below 1) 100 more Sinkhorn iterations are taken,
    which are far cheaper than Newton steps where Newton is slow; a failed
    line search (step below 0.01) also keeps 4 times more Hessian entries
    from then on and adds a Levenberg-Marquardt damping to the diagonal
    (divided by 10 after each full step); the iterate with the smallest
    marginal error is returned.

    Epsilon scaling (not in the paper): when ``reg`` is below ``1e-3`` times
    the cost's spread ``max(M) - min(M)``, the problem is first solved at
    ``reg`` times 10, 100, ... (the largest just above that threshold) to a
    marginal error of ``1e-6``, each solution's potentials warm-starting the
    next; the plan is always formed in the log domain,
    ``exp((f_i + g_j - M_ij) / reg)``. From the cold start the Newton steps
    stall at such ``reg``: on 200-point 2-D clouds (cost divided by its
    maximum) the L1 marginal error stayed at 0.02-0.04 for ``reg = 1e-5``
    and 0.15-0.8 for ``1e-6``; with the warm starts ``tol = 1e-9`` is reached
    in 20 to 75 Newton steps, and the cost is within ``1e-8`` of the exact
    transport cost at ``1e-6``. Float64 resolves the plan's exponents
    ``(f_i + g_j - M_ij) / reg`` only to about ``eps * spread / reg``: far
    below ``1e-7`` of the spread ``tol`` may be out of reach (measured on
    1-D histograms: ``1e-8`` converges, ``1e-10`` stops at ``1e-7``), and
    the ``ConvergenceWarning`` then says so.

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
        costs to ``[0, 1]`` and use ``1e-1`` down to ``1e-6`` (below
        ``1e-3``, by the epsilon scaling described above).
    n_sinkhorn : int or "auto", default="auto"
        Sinkhorn iterations before the Newton stage (the paper's N1 = 20).
        ``"auto"``: ``min(n, m) // 5``, clipped to ``[20, 500]``, about the
        time of three Newton steps (a Newton step costs a factorization of
        ``min(n, m)^3 / 3`` flops, a Sinkhorn iteration two matrix-vector
        products). A deviation from the paper: the early Newton steps, far
        from the solution, gain little per cost (2-D clouds n = 1000,
        reg = 1e-3: 5 Newton steps with 200 iterations, 10 with 20), and
        ``"auto"`` was faster than 20 on every case tried, 2-D and 10-D
        clouds and assignment problems (timings:
        ``benchmarks/results/2026-12-05_moved_from_docstrings.md``).
    density : float, default=None
        Least fraction of the plan's entries kept in the sparsified Hessian;
        by default ``16 / min(n, m)`` (16 entries per row of a square plan),
        capped at 1. More are kept when the plan mass left out would exceed
        a tenth of the current marginal error (dense plans, large ``reg``).
    tol : float, default=1e-9
        Stop when ``||P 1 - a||_1 + ||P^T 1 - b||_1 <= tol`` (raised to
        ``100 eps`` of ``M``'s dtype, ``1.2e-5`` in float32).
    max_iter : int, default=100
        Maximum Newton iterations (per epsilon-scaling stage).
    linear_solver : {"auto", "cholesky", "cg"}, default="auto"
        How each Newton system is solved. ``"cholesky"``: directly, by a
        dense Cholesky factorization of its Schur complement on the smaller
        side (``min(n, m)^2`` memory, no more than the plan); ``"cg"``:
        preconditioned conjugate gradient as in the paper, falling back on
        the direct solve when it does not converge in ``cg_max_iter`` steps;
        ``"auto"``: ``"cholesky"`` up to ``min(n, m) = 4000``, ``"cg"``
        above. At ``n = 500, reg = 1e-3`` (assignment problem) CG needed
        300 to 450 steps per Newton step (thousands at ``1e-4``), each a
        pass over the sparsified Hessian; the direct solve was far faster
        (timings: ``benchmarks/results/2026-12-05_moved_from_docstrings.md``).
    cg_tol : float, default=1e-10
        Relative residual of each conjugate-gradient solve.
    cg_max_iter : int, default=100
        Maximum conjugate-gradient steps per Newton step before the direct
        solve takes over.
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
        every Sinkhorn iteration of the first stage, then after each Newton
        step, the Sinkhorn iterations that follow it included), ``dual``
        (dual objective after each Newton step), ``n_sinkhorn`` (first
        stage), ``n_sinkhorn_extra`` (Sinkhorn iterations after damped Newton
        steps), ``n_newton``, ``n_cg`` (CG steps per Newton step), ``nnz``
        (kept Hessian entries per step), ``n_fallback`` (failed line
        searches),
        ``n_direct`` (Newton steps solved directly),
        ``final_err`` (marginal error of the returned plan),
        ``converged``, ``reg_schedule`` (the epsilon-scaling stages, ending
        at ``reg``; the counts and lists add up over the stages).

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
    M = _as_cost_matrix(M, xp, device)
    a, b = _check_inputs(a, b, M, reg, xp, device)
    if isinstance(n_sinkhorn, str) and n_sinkhorn == "auto":
        n_sinkhorn = min(500, max(20, min(M.shape) // 5))
    n_sinkhorn, max_iter, cg_max_iter = int(n_sinkhorn), int(max_iter), int(cg_max_iter)

    tol = max(float(tol), 100.0 * xp.finfo(M.dtype).eps)
    # Zero-weight points carry no mass: solve on the support, pad back after.
    rows_in, row_slot = _support(a, xp)
    cols_in, col_slot = _support(b, xp)
    M_s = xp.take(xp.take(M, rows_in, axis=0), cols_in, axis=1)
    a_s, b_s = xp.take(a, rows_in), xp.take(b, cols_in)
    if linear_solver == "auto":
        linear_solver = "cholesky" if min(M_s.shape) <= _CHOLESKY_MAX else "cg"
    P_s, info = _solve(a_s, b_s, M_s, float(reg), n_sinkhorn, density, tol, max_iter,
                       linear_solver, cg_tol, cg_max_iter, verbose, xp)
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
        advice = "increase max_iter or reg"
        spread = float(xp.max(M_s) - xp.min(M_s))
        if reg < _FLOAT_LIMIT * spread:
            resolution = float(xp.finfo(M.dtype).eps) * spread / reg
            advice = (
                f"reg is {reg / spread:.1e} of the cost's spread (max - min), where "
                f"{M.dtype} resolves the plan's exponents only to about {resolution:.1e}: "
                f"increase reg or tol"
            )
        warnings.warn(
            f"sinkhorn_newton stopped after {info['n_newton']} Newton iterations with a marginal "
            f"error of {info['final_err']:.3g} > tol={tol}; {advice}.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return (P, info) if log else P


def _sinkhorn_iterations_needed(errors, tol):
    """Iterations to reach ``tol`` at the rate measured over the last three, or None if none.

    Computed from logarithms: the cube root of a ratio just below 1 rounds to
    1.0 (whose logarithm divided by zero, at very small ``reg``).
    """
    log_rate = (math.log(errors[-1]) - math.log(errors[-4])) / 3.0
    if not log_rate < 0.0:
        return None
    return math.log(tol / errors[-1]) / log_rate


# Epsilon scaling (a deviation from the paper): below this fraction of the cost's
# spread (max - min), the solve is warm-started from the solutions at reg
# multiplied by _REG_FACTOR, _REG_FACTOR^2, ... up to that fraction, each solved
# to a marginal error of _STAGE_TOL. From the cold start Newton steps stall at
# such small reg (measured on 200-point 2-D clouds, cost / max: L1 marginal
# error 0.02-0.04 at reg = 1e-5, 0.15-0.8 at 1e-6 after 100 Newton steps and
# 10,000 Sinkhorn iterations); with the warm starts they reach 1e-9.
_SCALING_FROM = 1e-3
_REG_FACTOR = 10.0
_STAGE_TOL = 1e-6

# Below this fraction of the cost's spread, a ConvergenceWarning blames the
# resolution of the plan's exponents (see sinkhorn_newton's docstring).
_FLOAT_LIMIT = 1e-7


def _solve(a, b, M, reg, n_sinkhorn, density, tol, max_iter, linear_solver, cg_tol, cg_max_iter,
           verbose, xp):
    """The schedule of ``reg`` (see ``_SCALING_FROM``), each stage warm-started from the last."""
    spread = float(xp.max(M) - xp.min(M))
    regs = [reg]
    while regs[-1] < _SCALING_FROM * spread:
        regs.append(regs[-1] * _REG_FACTOR)
    regs = regs[::-1]
    start = None
    total = None
    for i, r in enumerate(regs):
        final = i == len(regs) - 1
        P, info = _solve_at(a, b, M, r, n_sinkhorn, density, tol if final else max(tol, _STAGE_TOL),
                            max_iter, linear_solver, cg_tol, cg_max_iter, verbose, xp, start)
        start = (info["f"], info["g"])
        if total is None:
            total = info
        else:
            for key in ("n_fallback", "n_direct", "n_sinkhorn_extra", "n_sinkhorn", "n_newton"):
                total[key] += info[key]
            for key in ("err", "dual", "n_cg", "nnz"):
                total[key] += info[key]
            for key in ("f", "g", "converged", "final_err"):
                total[key] = info[key]
        if verbose and not final:
            print(f"[sinkhorn_newton] reg {r:.3g}: marginal error {info['final_err']:.3e}")
    total["reg_schedule"] = regs
    return P, total


def _solve_at(a, b, M, reg, n_sinkhorn, density, tol, max_iter, linear_solver, cg_tol,
              cg_max_iter, verbose, xp, warm=None):
    n, m = M.shape
    k = n * m if density is None and min(n, m) <= 16 else None
    if k is None:
        fraction = min(1.0, 16.0 / min(n, m)) if density is None else density
        k = max(1, min(n * m, math.ceil(fraction * n * m)))
    log_a, log_b = xp.log(a), xp.log(b)
    info = {"err": [], "dual": [], "n_cg": [], "nnz": [], "n_fallback": 0, "n_direct": 0,
            "n_sinkhorn_extra": 0}
    start = time.perf_counter()
    f, g, P, n_done = _sinkhorn_stage(M, reg, a, b, log_a, log_b, n_sinkhorn, tol, xp,
                                      info["err"], warm)
    errors = info["err"]
    while errors[-1] > tol and n_done >= 4 and 0 < errors[-1] < errors[-4]:
        # Sinkhorn converges linearly; while its measured rate predicts tol within
        # _SINKHORN_FINISH more iterations, going on with it is cheaper than Newton
        # steps (dense plans: large reg). Checked every 40 iterations, since the
        # rate of Sinkhorn slows down as it goes.
        needed = _sinkhorn_iterations_needed(errors, tol)
        if needed is None or needed > _SINKHORN_FINISH:
            break
        f, g, P, n_more = _scaling_sweeps(f, g, P, M, reg, a, b, log_a, log_b,
                                          min(int(needed) + 5, 40), tol, xp, errors)
        n_done += n_more
    info["n_sinkhorn"] = n_done
    dual = _dual(f, g, P, a, b, reg, xp)
    n_newton, damping = 0, 0.0
    best = (info["err"][-1], f, g, P)
    while info["err"][-1] > tol and n_newton < max_iter:
        n_newton += 1
        grad_f, grad_g = a - xp.sum(P, axis=1), b - xp.sum(P, axis=0)
        max_dropped = _DROP_RATIO * info["err"][-1]
        df, dg, n_cg, nnz, direct = _newton_direction(P, grad_f, grad_g, reg, k, max_dropped,
                                                      linear_solver, cg_tol, cg_max_iter, xp,
                                                      damping)
        info["n_cg"].append(n_cg)
        info["n_direct"] += int(direct)
        info["nnz"].append(nnz)
        slope = float(xp.vecdot(grad_f, df) + xp.vecdot(grad_g, dg))
        step, accepted = 1.0, False
        # Armijo on the dual, with a rounding allowance: near the solution the
        # gain is ~||grad||^2, below the resolution of D itself, and a strict
        # test would reject the (excellent) full Newton step.
        allowance = 1e-14 * max(abs(dual), 1.0)
        # Backtracking by the maximizer of the quadratic through D(0), D'(0) and
        # D(step), kept in [step / 10, step / 2] (measured on the assignment
        # problem, n = 500, reg = 1e-4: 3.4 plan evaluations per Newton step
        # with plain halving, 2.2 this way).
        while step >= _MIN_STEP:
            f_new, g_new = f + step * df, g + step * dg
            P_new = _plan(f_new, g_new, M, reg, xp)
            dual_new = _dual(f_new, g_new, P_new, a, b, reg, xp)
            if math.isfinite(dual_new) and dual_new >= dual + 1e-4 * step * slope - allowance:
                accepted = True
                break
            curvature = (dual_new - dual - slope * step) / step**2 if math.isfinite(dual_new) \
                else -math.inf
            best_step = -slope / (2.0 * curvature) if curvature < 0 else 0.0
            step = min(max(best_step, 0.1 * step), 0.5 * step)
        if not accepted:
            # The direction is useless: the sparsified Hessian is too far from the
            # true one (its kept graph may even fall apart). Keep 4 times more
            # entries from now on, and make this step a Sinkhorn one.
            k = min(n * m, 4 * k)
            damping = max(10.0 * damping, 1e-3 / (n + m))
            f_new, g_new, P_new = f, g, P
            info["n_fallback"] += 1
        elif step == 1.0:
            damping = damping / 10.0 if damping > 1e-12 / (n + m) else 0.0
        if step < 1.0:
            # Damped or failed: far from the region where Newton converges fast.
            # Sinkhorn iterations cost two matrix-vector products each, a Newton
            # step several passes over the plan and a factorization: take a
            # batch of them: over six benchmark cases (assignment n = 500 at
            # reg 1e-3 and 1e-4; 2-D clouds n = 1000 at 1e-2, 1e-3, 1e-4; 10-D
            # clouds at 1e-3) the total time fell with a batch of 100 (timings:
            # benchmarks/results/2026-12-05_moved_from_docstrings.md).
            f_new, g_new, P_new, n_extra = _scaling_sweeps(
                f_new, g_new, P_new, M, reg, a, b, log_a, log_b, _EXTRA_SWEEPS, tol, xp)
            dual_new = _dual(f_new, g_new, P_new, a, b, reg, xp)
            info["n_sinkhorn_extra"] += n_extra
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
