"""Entropic optimal transport by Sinkhorn then sparse Newton (Tang et al., ICLR 2024).

The pure functions behind :class:`SinkhornNewtonOT`: :func:`sinkhorn_newton`
returns the entropic plan, :func:`sinkhorn_newton2` the transport cost. This
file holds them, their input checks and the driver (epsilon scaling, the
Sinkhorn stage, Newton steps with a line search); the Sinkhorn iterations are
in ``_sinkhorn_stage.py``, the sparsified Newton system in ``_newton_step.py``.

Notation. The plan of the dual potentials ``(f, g)`` is
``P_ij = exp((f_i + g_j - M_ij) / reg)``; the dual objective

    D(f, g) = <a, f> + <b, g> - reg * sum_ij P_ij

is concave, its gradient is the marginal violation ``(a - P 1, b - P^T 1)``
and its negative Hessian is ``(1 / reg) [[diag(P 1), P], [P^T, diag(P^T 1)]]``.
Maximising ``D`` solves ``min <P, M> + reg sum P (log P - 1)`` subject to
``P 1 = a, P^T 1 = b``, whose plan is POT's ``ot.sinkhorn`` plan (the
``-1`` only shifts the objective by ``reg``).
"""

import dataclasses
import math
import time
import warnings
from dataclasses import dataclass, field, fields
from numbers import Integral, Real

from sklearn.exceptions import ConvergenceWarning

from ..utils._array_api import namespace_and_device
from ..utils._validation import Interval, StrOptions, validate_params
from ._newton_step import _CHOLESKY_MAX, _DROP_RATIO, _NewtonSystem
from ._sinkhorn_stage import (
    _Problem,
    _scaling_sweeps,
    _sinkhorn_iterations_needed,
    _sinkhorn_stage,
)

__all__ = ["sinkhorn_newton", "sinkhorn_newton2"]


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


def _check_inputs(a, b, M, xp, device):
    """``M`` and the weights ``a``, ``b`` that must match it (scalars: validate_params)."""
    if len(M.shape) != 2 or M.shape[0] == 0 or M.shape[1] == 0:
        raise ValueError(f"M must be a non-empty 2-D cost matrix, got shape {tuple(M.shape)}.")
    if not bool(xp.all(xp.isfinite(M))):
        raise ValueError("M must be finite (no NaN or inf).")
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


# Sinkhorn iterations after a damped or failed Newton step (see _solve_at).
_EXTRA_SWEEPS = 100

# Sinkhorn finishes the job alone while its measured linear rate predicts at most
# this many more iterations. On 2-D clouds, n = 1000, reg = 1e-2, Sinkhorn alone
# (190 iterations, POT's) was far faster than 20 Sinkhorn + 4 Newton steps (timings:
# benchmarks/results/2026-12-05_moved_from_docstrings.md); there the prediction
# after 20 iterations was 175 more, and 176 were needed. At reg = 1e-3 the
# predictions after 20 iterations were 224 to 558 and grew as Sinkhorn slowed down.
# The prediction is renewed after at most _FINISH_BATCH iterations (Sinkhorn's
# rate slows down as it goes). After the warm-up (which caps "auto" at 100 iterations
# instead of up to 500) the horizon is _WARMED_FINISH, about the same ~700 iterations
# in all: with 200 there, weighted 3-D Gaussian clouds at n = 5000, reg = 1e-3 took
# two Newton steps in 7.5 s where Sinkhorn alone needed 5.4 s (timings:
# benchmarks/results/2026-12-06_sinkhorn_newton_warmup.md).
_SINKHORN_FINISH = 200
_WARMED_FINISH = 600
_FINISH_BATCH = 40

# The line search: Armijo's sufficient-increase constant; a rounding allowance
# relative to |D| (near the solution the gain is ~||grad||^2, below the
# resolution of D itself, and a strict test would reject the excellent full
# Newton step); each backtrack to the maximizer of the quadratic through D(0),
# D'(0) and D(step), kept in [_BACKTRACK[0], _BACKTRACK[1]] x step (measured on
# the assignment problem, n = 500, reg = 1e-4: 3.4 plan evaluations per Newton
# step with plain halving, 2.2 this way); it gives up below _MIN_STEP.
_ARMIJO = 1e-4
_ROUNDING = 1e-14
_BACKTRACK = (0.1, 0.5)
_MIN_STEP = 1e-2

# After a failed line search the sparsified Hessian keeps _FALLBACK_GROWTH times
# more entries from then on, and a Levenberg-Marquardt damping (at least
# _DAMPING_START / (n + m), times _DAMPING_FACTOR on each further failure,
# divided by it after each full step, dropped below _DAMPING_END / (n + m)) is
# added to the Hessian's diagonal.
_FALLBACK_GROWTH = 4
_DAMPING_START = 1e-3
_DAMPING_FACTOR = 10.0
_DAMPING_END = 1e-12

# Entries per row of a square plan kept in the sparsified Hessian by default
# (density=None): 16 / min(n, m) of the plan.
_ENTRIES_PER_ROW = 16

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

# Warm-up (a deviation from the paper, as in the streamed solver): with
# n_sinkhorn="auto", when ten times the first reg of the schedule is at most this
# fraction of the cost's spread, the first stage starts from the potentials of
# _WARMUP_SINKHORN Sinkhorn iterations at that larger reg (more while their rate
# predicts _STAGE_TOL within _SINKHORN_FINISH, see _finish_by_sinkhorn), and "auto"
# is capped at _WARMED_SINKHORN iterations instead of _COLD_SINKHORN[1] (Sinkhorn's
# finish then looks _WARMED_FINISH ahead). Timings before and after on 2-D clouds at
# reg = 1e-3 (n = 1000 to 8000) and 20 other cases:
# benchmarks/results/2026-12-06_sinkhorn_newton_warmup.md.
_WARMUP_UP_TO = 0.1
_WARMUP_SINKHORN = 20
_WARMED_SINKHORN = 100
_COLD_SINKHORN = (20, 500)

# With CG (above _CHOLESKY_MAX), the sparsified Hessian drops at most this fraction of
# the marginal error's mass (_DROP_RATIO = 0.1 with the direct solve, where more
# entries make the Schur complement's product dearer; with CG they cost only their
# share of each product). 2-D clouds, n = 6000, reg = 1e-3: 2 Newton steps instead
# of 3 (1.9e-4 -> 3.9e-6 -> 6.5e-11 against -> 4.4e-6 -> 3.1e-9 -> 3.0e-11), with
# 3.3 / 4.1 million entries instead of 2.7 / 3.6 / 5.1 (timings:
# benchmarks/results/2026-12-06_sinkhorn_newton_warmup.md).
_CG_DROP_RATIO = 0.01

# The CG solve of a Newton step stops at a relative residual of min(_MAX_FORCING,
# marginal error), and never below cg_tol (an inexact Newton step, Eisenstat and
# Walker's forcing term): far from the solution CG stops early. Near tol it stops
# at _LAST_FORCING * tol / error, what the last step needs to land below tol.
_MAX_FORCING = 0.1
_LAST_FORCING = 0.01

# Below this fraction of the cost's spread, a ConvergenceWarning blames the
# resolution of the plan's exponents (see sinkhorn_newton's docstring).
_FLOAT_LIMIT = 1e-7


@dataclass(frozen=True)
class _Settings:
    """The user's choices for the solve, resolved ("auto" replaced)."""

    n_sinkhorn: int
    auto_sinkhorn: bool
    finish: int  # see _finish_by_sinkhorn
    density: object
    max_iter: int
    linear_solver: str
    cg_tol: float
    cg_max_iter: object  # int or "auto"
    verbose: int

    def hessian_entries(self, n, m):
        """Least number of Hessian entries kept (see ``density``)."""
        if self.density is None and min(n, m) <= _ENTRIES_PER_ROW:
            return n * m
        fraction = (min(1.0, _ENTRIES_PER_ROW / min(n, m)) if self.density is None
                    else self.density)
        return max(1, min(n * m, math.ceil(fraction * n * m)))


@dataclass
class _SolveLog:
    """What :func:`sinkhorn_newton` reports with ``log=True`` (see its docstring)."""

    err: list = field(default_factory=list)
    dual: list = field(default_factory=list)
    n_cg: list = field(default_factory=list)
    nnz: list = field(default_factory=list)
    n_fallback: int = 0
    n_direct: int = 0
    n_sinkhorn_extra: int = 0
    n_sinkhorn: int = 0
    f: object = None
    g: object = None
    n_newton: int = 0
    converged: bool = False
    final_err: float = math.inf
    reg_schedule: list = None
    warmup_reg: float = None

    def extend(self, later):
        """Add a later epsilon-scaling stage: counts and lists add up, the result is the later one."""
        for name in ("n_fallback", "n_direct", "n_sinkhorn_extra", "n_sinkhorn", "n_newton",
                     "err", "dual", "n_cg", "nnz"):
            setattr(self, name, getattr(self, name) + getattr(later, name))
        self.f, self.g = later.f, later.g
        self.converged, self.final_err = later.converged, later.final_err

    def as_dict(self):
        """POT's log convention: a dict (the arrays not copied)."""
        return {item.name: getattr(self, item.name) for item in fields(self)}


def _solve(problem, settings):
    """The schedule of ``reg`` (see ``_SCALING_FROM``), each stage warm-started from the last."""
    xp = problem.xp
    spread = float(xp.max(problem.M) - xp.min(problem.M))
    regs = [problem.reg]
    while regs[-1] < _SCALING_FROM * spread:
        regs.append(regs[-1] * _REG_FACTOR)
    regs = regs[::-1]
    start, total = None, None
    n_warmup, warmup_errors = 0, []
    warmup = regs[0] * _REG_FACTOR
    if settings.auto_sinkhorn and warmup <= _WARMUP_UP_TO * spread:
        # Warm start (see _WARMUP_UP_TO): Sinkhorn iterations at ten times the first reg.
        warm = problem.at(warmup, max(problem.tol, _STAGE_TOL))
        f, g, P, n_warmup = _sinkhorn_stage(warm, _WARMUP_SINKHORN, warmup_errors)
        f, g, P, n_warmup = _finish_by_sinkhorn(warm, f, g, P, n_warmup, warmup_errors,
                                                _SINKHORN_FINISH)
        del P
        start = (f, g)
        settings = dataclasses.replace(settings, finish=_WARMED_FINISH,
                                       n_sinkhorn=min(settings.n_sinkhorn, _WARMED_SINKHORN))
    for i, reg in enumerate(regs):
        final = i == len(regs) - 1
        stage = problem.at(reg, problem.tol if final else max(problem.tol, _STAGE_TOL))
        P, log = _solve_at(stage, settings, start)
        start = (log.f, log.g)
        if settings.linear_solver == "cg" and log.n_direct > 0:
            # CG stalled at this reg: it will at the smaller ones too.
            settings = dataclasses.replace(settings, linear_solver="cholesky")
        if total is None:
            total = log
        else:
            total.extend(log)
        if settings.verbose and not final:
            print(f"[sinkhorn_newton] reg {reg:.3g}: marginal error {log.final_err:.3e}")
    total.reg_schedule = regs
    total.warmup_reg = warmup if n_warmup else None
    total.n_sinkhorn += n_warmup
    total.err = warmup_errors + total.err
    return P, total


def _forcing(err, tol, cg_tol):
    """The relative residual at which CG stops in a Newton step at marginal error ``err``."""
    return max(cg_tol, min(_MAX_FORCING, max(err, _LAST_FORCING * tol / err)))


def _finish_by_sinkhorn(problem, f, g, P, n_done, errors, horizon):
    """Sinkhorn iterations while their measured rate predicts ``tol`` within ``horizon``.

    Sinkhorn converges linearly; while its rate predicts ``tol`` within
    ``horizon`` more iterations (``_SINKHORN_FINISH``, or ``_WARMED_FINISH``
    after the warm-up), going on with it is cheaper than Newton steps (dense
    plans: large ``reg``).
    """
    while errors[-1] > problem.tol and n_done >= 4 and 0 < errors[-1] < errors[-4]:
        needed = _sinkhorn_iterations_needed(errors, problem.tol)
        if needed is None or needed > horizon:
            break
        f, g, P, n_more = _scaling_sweeps(problem, f, g, P, min(int(needed) + 5, _FINISH_BATCH),
                                          errors)
        n_done += n_more
    return f, g, P, n_done


def _line_search(problem, f, g, df, dg, dual, slope, spare):
    """Backtracking on the dual along ``(df, dg)`` (see ``_ARMIJO``).

    Trial plans are written into ``spare`` (a plan-sized buffer, or None to
    allocate one). Returns the step, the buffer, and, when a step is
    accepted, the new potentials, their plan (in the buffer) and dual
    (``None`` when the step fell below ``_MIN_STEP``).
    """
    step = 1.0
    allowance = _ROUNDING * max(abs(dual), 1.0)
    while step >= _MIN_STEP:
        f_new, g_new = f + step * df, g + step * dg
        spare = problem.plan(f_new, g_new, out=spare)
        dual_new = problem.dual(f_new, g_new, spare)
        if math.isfinite(dual_new) and dual_new >= dual + _ARMIJO * step * slope - allowance:
            return step, spare, (f_new, g_new, spare, dual_new)
        curvature = (dual_new - dual - slope * step) / step**2 if math.isfinite(dual_new) \
            else -math.inf
        best_step = -slope / (2.0 * curvature) if curvature < 0 else 0.0
        step = min(max(best_step, _BACKTRACK[0] * step), _BACKTRACK[1] * step)
    return step, spare, None


def _solve_at(problem, settings, warm=None):
    """Sinkhorn, then Newton steps, at one ``reg``; returns the plan and its :class:`_SolveLog`."""
    xp, a, b = problem.xp, problem.a, problem.b
    n, m = problem.M.shape
    k = settings.hessian_entries(n, m)
    log = _SolveLog()
    errors = log.err
    start = time.perf_counter()
    f, g, P, n_done = _sinkhorn_stage(problem, settings.n_sinkhorn, errors, warm)
    f, g, P, log.n_sinkhorn = _finish_by_sinkhorn(problem, f, g, P, n_done, errors,
                                                  settings.finish)
    dual = problem.dual(f, g, P)
    n_newton, damping = 0, 0.0
    linear_solver = settings.linear_solver
    # Two plan-sized arrays take turns: the current plan and the line search's trial
    # (fresh arrays of that size cost more than the passes over them; see
    # subtract_outer). The best iterate is kept by its potentials.
    spare = None
    best = (errors[-1], f, g)
    best_is_current = True
    while errors[-1] > problem.tol and n_newton < settings.max_iter:
        n_newton += 1
        grad_f, grad_g = a - xp.sum(P, axis=1), b - xp.sum(P, axis=0)
        drop = _DROP_RATIO if linear_solver == "cholesky" else _CG_DROP_RATIO
        system = _NewtonSystem.at_plan(P, problem.reg, k, drop * errors[-1], damping, xp)
        n_cg, direct = 0, True
        if linear_solver == "cg":
            cap = settings.cg_max_iter
            if cap == "auto":
                cap = system.cg_steps_worth_a_direct_solve()
            df, dg, n_cg, converged = system.solve_cg(
                grad_f, grad_g, _forcing(errors[-1], problem.tol, settings.cg_tol), cap)
            direct = not converged
        if direct:  # "cholesky", or CG did not converge in cg_max_iter steps
            df, dg = system.solve_direct(grad_f, grad_g)
            if linear_solver == "cg":
                # CG that stalls once stalls again on this problem (assignment problems,
                # 10-D clouds at reg = 1e-4: thousands of steps): direct from now on.
                linear_solver = "cholesky"
        log.n_cg.append(n_cg)
        log.n_direct += int(direct)
        log.nnz.append(system.nnz)
        slope = float(xp.vecdot(grad_f, df) + xp.vecdot(grad_g, dg))
        step, spare, accepted = _line_search(problem, f, g, df, dg, dual, slope, spare)
        if accepted is None:
            # The direction is useless: the sparsified Hessian is too far from the
            # true one (its kept graph may even fall apart). Keep more entries
            # from now on, damp, and make this step a Sinkhorn one.
            k = min(n * m, _FALLBACK_GROWTH * k)
            damping = max(_DAMPING_FACTOR * damping, _DAMPING_START / (n + m))
            f_new, g_new, P_new = f, g, P
            log.n_fallback += 1
        else:
            f_new, g_new, P_new, dual_new = accepted
            spare = P  # the old plan's array takes the next trials
            if step == 1.0:
                damping = damping / _DAMPING_FACTOR if damping > _DAMPING_END / (n + m) else 0.0
        if step < 1.0:
            # Damped or failed: far from the region where Newton converges fast.
            # Sinkhorn iterations cost two matrix-vector products each, a Newton
            # step several passes over the plan and a factorization: take a
            # batch of them: over six benchmark cases (assignment n = 500 at
            # reg 1e-3 and 1e-4; 2-D clouds n = 1000 at 1e-2, 1e-3, 1e-4; 10-D
            # clouds at 1e-3) the total time fell with a batch of 100 (timings:
            # benchmarks/results/2026-12-05_moved_from_docstrings.md).
            f_new, g_new, P_new, n_extra = _scaling_sweeps(problem, f_new, g_new, P_new,
                                                           _EXTRA_SWEEPS)
            dual_new = problem.dual(f_new, g_new, P_new)
            log.n_sinkhorn_extra += n_extra
        f, g, P, dual = f_new, g_new, P_new, dual_new
        errors.append(problem.marginal_error(P))
        log.dual.append(dual)
        best_is_current = errors[-1] < best[0]
        if best_is_current:
            best = (errors[-1], f, g)
        if settings.verbose:
            print(f"[sinkhorn_newton] Newton {n_newton}: marginal error {errors[-1]:.3e}, "
                  f"step {step:.3g}, {n_cg} CG steps, {system.nnz} Hessian entries "
                  f"({time.perf_counter() - start:.2f} s)")
    # Far from the solution (very small reg) the dual can rise while the marginals
    # get worse: return the iterate with the smallest marginal error.
    err, log.f, log.g = best
    if not best_is_current:
        P = problem.plan(log.f, log.g, out=P)
    log.n_newton, log.converged, log.final_err = n_newton, err <= problem.tol, err
    return P, log


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
        "cg_max_iter": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
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
    cg_tol=1e-6,
    cg_max_iter="auto",
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
    ``min(n, m) = 1500`` (see ``linear_solver``), and by CG above (an inexact
    Newton step, see ``cg_tol``), with the direct solve taking over
    when CG stalls; after a damped Newton step
    (line-search step below 1) 100 more Sinkhorn iterations are taken,
    which are far cheaper than Newton steps where Newton is slow; a failed
    line search (step below 0.01) also keeps 4 times more Hessian entries
    from then on and adds a Levenberg-Marquardt damping to the diagonal
    (divided by 10 after each full step); the iterate with the smallest
    marginal error is returned.

    Warm-up (not in the paper; with ``n_sinkhorn="auto"`` only, a given
    number of Sinkhorn iterations starting cold as in the paper): when ten
    times the first ``reg`` solved
    (``reg`` itself, or the largest of the epsilon scaling below) is at most
    ``0.1`` times the cost's spread ``max(M) - min(M)``, the first stage
    starts from potentials solved at that larger ``reg`` by Sinkhorn
    iterations alone (20, and more while their rate predicts a marginal
    error of ``1e-6`` within 200): Sinkhorn converges fast there, and its
    potentials need fewer Newton steps and Sinkhorn iterations at ``reg``.
    These iterations count in the log's ``n_sinkhorn``.

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
        products), and at most 100 after the warm-up described below. A
        deviation from the paper: the early Newton steps, far from the
        solution, gain little per cost (2-D clouds n = 1000, reg = 1e-3:
        5 Newton steps with 200 iterations, 10 with 20), and ``"auto"`` was
        faster than 20 on every case tried, 2-D and 10-D clouds and
        assignment problems (timings:
        ``benchmarks/results/2026-12-05_moved_from_docstrings.md`` and
        ``2026-12-06_sinkhorn_newton_warmup.md``).
    density : float, default=None
        Least fraction of the plan's entries kept in the sparsified Hessian;
        by default ``16 / min(n, m)`` (16 entries per row of a square plan),
        capped at 1. More are kept when the plan mass left out would exceed
        a tenth of the current marginal error (dense plans, large ``reg``);
        a hundredth with the conjugate-gradient solver.
    tol : float, default=1e-9
        Stop when ``||P 1 - a||_1 + ||P^T 1 - b||_1 <= tol`` (raised to
        ``100 eps`` of ``M``'s dtype, ``1.2e-5`` in float32).
    max_iter : int, default=100
        Maximum Newton iterations (per epsilon-scaling stage).
    linear_solver : {"auto", "cholesky", "cg"}, default="auto"
        How each Newton system is solved. ``"cholesky"``: directly, by a
        dense Cholesky factorization of its Schur complement on the smaller
        side (``min(n, m)^2`` memory, no more than the plan); ``"cg"``:
        preconditioned conjugate gradient as in the paper, on that Schur
        complement without forming it, falling back on
        the direct solve when it does not converge in ``cg_max_iter`` steps
        (and using the direct solve for the rest of the solve from then on);
        ``"auto"``: ``"cholesky"`` up to ``min(n, m) = 500``, ``"cg"``
        above. From 500 up CG was as fast as the direct solve or faster on
        every case tried but within 8 % (2-D and 3-D clouds, 10-D clouds,
        assignment problems, ``reg`` 1e-3 and 1e-4; timings:
        ``benchmarks/results/2026-12-06_sinkhorn_newton_schur_cg.md``).
    cg_tol : float, default=1e-6
        Smallest relative residual of a conjugate-gradient solve (an inexact
        Newton step: on 2-D clouds, reg = 1e-3, n = 1000 to 6000, ``1e-6``
        took the same Newton steps to ``tol = 1e-9`` as the direct solve, in
        88 to 115 CG steps each on the whole system, 46 to 52 on the Schur
        complement; ``1e-10`` did not converge in 100 whole-system steps).
        Each solve stops at ``min(0.1, max(err, 0.01 * tol / err))`` for a
        marginal error ``err`` when that is larger (Eisenstat and Walker's
        forcing term; the second term is what the last step needs to land
        below ``tol``).
    cg_max_iter : int or "auto", default="auto"
        Maximum conjugate-gradient steps per Newton step before the direct
        solve takes over. ``"auto"``: about as many as cost one direct
        solve (``min(n, m)^3 / 3`` flops at dense speed against two passes
        over the kept entries per step at sparse speed), at least 100.
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
        every Sinkhorn iteration of the first stage, the warm-up's at its own
        ``reg`` first, then after each Newton step, the Sinkhorn iterations
        that follow it included), ``dual``
        (dual objective after each Newton step), ``n_sinkhorn`` (before the
        Newton steps of each stage, the warm-up's included), ``warmup_reg``
        (the warm-up's ``reg``, or None without one), ``n_sinkhorn_extra``
        (Sinkhorn iterations after damped Newton steps), ``n_newton``,
        ``n_cg`` (CG steps per Newton step), ``nnz`` (kept Hessian entries
        per step), ``n_fallback`` (failed line searches), ``n_direct``
        (Newton steps solved directly),
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
    xp, device = namespace_and_device(M)
    M = _as_cost_matrix(M, xp, device)
    a, b = _check_inputs(a, b, M, xp, device)
    auto_sinkhorn = isinstance(n_sinkhorn, str) and n_sinkhorn == "auto"
    if auto_sinkhorn:
        n_sinkhorn = min(_COLD_SINKHORN[1], max(_COLD_SINKHORN[0], min(M.shape) // 5))
    tol = max(float(tol), 100.0 * xp.finfo(M.dtype).eps)
    # Zero-weight points carry no mass: solve on the support, pad back after.
    rows_in, row_slot = _support(a, xp)
    cols_in, col_slot = _support(b, xp)
    # The cost is only read: with every weight positive it is used as given (a copy
    # of it was a whole n x m array of the solver's memory peak).
    M_s = M
    if rows_in.shape[0] < M.shape[0]:
        M_s = xp.take(M_s, rows_in, axis=0)
    if cols_in.shape[0] < M.shape[1]:
        M_s = xp.take(M_s, cols_in, axis=1)
    a_s, b_s = xp.take(a, rows_in), xp.take(b, cols_in)
    if linear_solver == "auto":
        linear_solver = "cholesky" if min(M_s.shape) <= _CHOLESKY_MAX else "cg"
    settings = _Settings(n_sinkhorn=int(n_sinkhorn), auto_sinkhorn=auto_sinkhorn,
                         finish=_SINKHORN_FINISH,
                         density=density, max_iter=int(max_iter),
                         linear_solver=linear_solver, cg_tol=float(cg_tol),
                         cg_max_iter=cg_max_iter if cg_max_iter == "auto" else int(cg_max_iter),
                         verbose=verbose)
    P_s, info = _solve(_Problem.of(a_s, b_s, M_s, float(reg), tol, xp), settings)
    n, m = M.shape
    if P_s.shape != (n, m):
        padded = xp.concat([P_s, xp.zeros((1, P_s.shape[1]), dtype=P_s.dtype, device=device)])
        padded = xp.concat([padded, xp.zeros((padded.shape[0], 1), dtype=P_s.dtype,
                                             device=device)], axis=1)
        P = xp.take(xp.take(padded, row_slot, axis=0), col_slot, axis=1)
        pad = xp.asarray([-math.inf], dtype=M.dtype, device=device)
        info.f = xp.take(xp.concat([info.f, pad]), row_slot)
        info.g = xp.take(xp.concat([info.g, pad]), col_slot)
    else:
        P = P_s
    if warn and not info.converged:
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
            f"sinkhorn_newton stopped after {info.n_newton} Newton iterations with a marginal "
            f"error of {info.final_err:.3g} > tol={tol}; {advice}.",
            ConvergenceWarning,
            stacklevel=2,
        )
    return (P, info.as_dict()) if log else P


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
    xp, _ = namespace_and_device(P)
    cost = float(xp.sum(P * xp.asarray(M, dtype=P.dtype)))
    return (cost, info) if kwargs.get("log") else cost
