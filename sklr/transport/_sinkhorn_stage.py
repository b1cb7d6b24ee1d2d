"""The Sinkhorn half of :func:`sklr.transport.sinkhorn_newton`.

One problem (:class:`_Problem`: weights, cost, ``reg``, tolerance), the plan
of dual potentials ``P_ij = exp((f_i + g_j - M_ij) / reg)``, the dual
objective, the L1 marginal error, and Sinkhorn iterations (block ascent on
the dual) in the scaling form with log-domain safeguards. The Newton half is
in ``_newton_step.py``; the driver that alternates them in
``_sinkhorn_newton.py``.
"""

import dataclasses
import math
from dataclasses import dataclass

from ..utils._array_api import device as array_device
from ..utils._array_api import exp_inplace, logsumexp, scaled_products, subtract_outer

# float32, float64: the plan's exponents are clipped just above the underflow
# threshold (about 1e-37 and 1e-304), far faster than underflowing (see
# exp_inplace) and far below anything the marginals or the dual resolve.
_EXP_FLOOR = (-85.0, -700.0)

# ... and far above 0 only for trial steps that the line search rejects: kept finite.
_EXP_CEILING = 300.0

# float32, float64: a warm start's first column scaling v is applied to the kernel
# directly while log v is at most this (the entries clipped at _EXP_FLOOR then stay
# below e^-45 and e^-400 after it); above, the columns' potentials come from a
# log-sum-exp over the cost. After the warm-up at ten times reg (2-D clouds, reg
# 1e-3 to 1e-6) log v was 62 to 117; the log-sum-exp took 1.3 s of 12 at n = 6000.
_WARM_SCALING_LIMIT = (40.0, 300.0)

# float32, float64: scalings u, v are absorbed into the potentials once
# |log u| or |log v| exceeds this (the scaled kernel then stays far from overflow).
_ABSORB_LIMIT = (10.0, 50.0)


@dataclass(frozen=True)
class _Problem:
    """One balanced entropic transport problem, on the support of its weights.

    ``a`` and ``b`` are positive and sum to 1, ``M`` is ``(n, m)``, ``tol`` is
    the L1 marginal error to reach, ``xp`` the namespace of them all.
    """

    a: object
    b: object
    M: object
    reg: float
    tol: float
    xp: object
    log_a: object
    log_b: object

    @classmethod
    def of(cls, a, b, M, reg, tol, xp):
        return cls(a, b, M, reg, tol, xp, xp.log(a), xp.log(b))

    def at(self, reg, tol):
        """The same weights and cost at another ``reg`` and ``tol``."""
        return dataclasses.replace(self, reg=reg, tol=tol)

    def plan(self, f, g, out=None):
        """The plan of ``(f, g)``, written into ``out`` (a plan-sized buffer) when given."""
        return _plan(f, g, self.M, self.reg, self.xp, out=out)

    def dual(self, f, g, P):
        """``D(f, g) = <a, f> + <b, g> - reg sum_ij P_ij`` (``P`` the plan of ``f, g``)."""
        xp = self.xp
        return float(xp.vecdot(self.a, f) + xp.vecdot(self.b, g) - self.reg * xp.sum(P))

    def marginal_error(self, P):
        """``||P 1 - a||_1 + ||P^T 1 - b||_1``."""
        xp = self.xp
        return float(xp.sum(xp.abs(xp.sum(P, axis=1) - self.a))
                     + xp.sum(xp.abs(xp.sum(P, axis=0) - self.b)))


def _plan_floor(dtype, xp):
    """The smallest plan entry :func:`_plan` returns (its clipped exponents' floor), doubled."""
    return 2.0 * math.exp(_EXP_FLOOR[0] if dtype == xp.float32 else _EXP_FLOOR[1])


def _plan(f, g, M, reg, xp, out=None):
    exponent = subtract_outer(f, M, out=out)
    exponent += g[None, :]
    exponent *= 1.0 / reg
    lower = _EXP_FLOOR[0] if exponent.dtype == xp.float32 else _EXP_FLOOR[1]
    return exp_inplace(exponent, lower=lower, upper=_EXP_CEILING)


def _sinkhorn_sweep(problem, f, g):
    """One log-domain Sinkhorn iteration (exact block ascent on D): f, then g."""
    xp, M, reg = problem.xp, problem.M, problem.reg
    f = reg * (problem.log_a - logsumexp((g[None, :] - M) / reg, axis=1, xp=xp))
    g = reg * (problem.log_b - logsumexp((f[:, None] - M) / reg, axis=0, xp=xp))
    return f, g


def _sinkhorn_stage(problem, n_iter, errors, start=None):
    """``n_iter`` Sinkhorn iterations (see :func:`_scaling_sweeps`) from shifted potentials.

    The start is ``f_i = min_j M_ij`` and ``g_j = min_i (M_ij - f_i)``: every
    exponent ``(f_i + g_j - M_ij) / reg`` is at most 0 and each row and each
    column of the kernel holds a 1, so the kernel has no zero row or column
    however small ``reg`` is (entries below ``e^-700`` sit at that floor, far
    below what the marginals resolve). No log-sum-exp is needed: the start
    replaces a first iteration in the log domain (three log-sum-exps over
    the matrix), which made the stage markedly slower on the assignment
    problem (timings: ``benchmarks/results/2026-12-05_moved_from_docstrings.md``).
    ``start``: warm potentials ``(f, g)`` instead (epsilon scaling, the
    warm-up); the first column scaling is then taken in the log domain only
    when it is too large for the clipped kernel (``_WARM_SCALING_LIMIT``).
    Returns ``f, g``, their plan and the number of iterations.
    """
    xp, M = problem.xp, problem.M
    if start is None:
        f = xp.min(M, axis=1)
        g = xp.min(M - f[:, None], axis=0)
    else:
        f, g = start
    K = problem.plan(f, g)
    if n_iter == 0:
        errors.append(problem.marginal_error(K))
        return f, g, K, 0
    v = problem.b / xp.sum(K, axis=0)
    limit = _WARM_SCALING_LIMIT[0] if M.dtype == xp.float32 else _WARM_SCALING_LIMIT[1]
    if start is None or float(xp.max(xp.log(v))) <= limit:
        g = g + problem.reg * xp.log(v)
        K *= v[None, :]
    else:
        # Warm potentials from another reg may leave a column's kernel near the
        # clipping floor: its g in the log domain.
        g = problem.reg * (problem.log_b - logsumexp((f[:, None] - M) / problem.reg, axis=0,
                                                     xp=xp))
        K = problem.plan(f, g, out=K)
    return _scaling_sweeps(problem, f, g, K, n_iter, errors)


def _scaling_sweeps(problem, f, g, K, n_iter, errors=None):
    """Up to ``n_iter`` Sinkhorn iterations from the plan ``K`` of ``(f, g)``.

    They scale ``K`` by ``u, v`` (two matrix-vector products each, not two
    log-sum-exps over the whole matrix, which take an exp per entry) and
    absorb ``u, v`` into ``f, g`` when they leave ``[e^-s, e^s]``
    (``_ABSORB_LIMIT``); a sweep whose scalings are not finite and positive
    is redone in the log domain. The iterates are those of log-domain
    Sinkhorn. After each iteration the column marginals are exact, and the
    row error ``||u * (K v) - a||_1`` comes with the next iteration's first
    product: it is appended to ``errors`` (when given; the last one
    recomputed on the returned plan) and ends the sweeps once at most
    ``problem.tol``.
    ``K`` is overwritten: the returned plan lives in it (no new plan-sized
    array is made).
    Returns ``f, g``, their plan and the number of iterations.
    """
    xp, M, reg, a, b = problem.xp, problem.M, problem.reg, problem.a, problem.b
    limit = _ABSORB_LIMIT[0] if M.dtype == xp.float32 else _ABSORB_LIMIT[1]
    n, m = M.shape
    u = xp.ones(n, dtype=M.dtype, device=array_device(M))
    v = xp.ones(m, dtype=M.dtype, device=array_device(M))
    n_done = 0
    while n_iter > 0:
        # K v, the next u and K^T u in one pass over K where K is large (the
        # sweeps are bound by memory); the last K^T u goes unused.
        Kv, u_new, KTu = scaled_products(K, v, a)
        if n_done > 0:
            # The error of the last sweep comes free with the next product.
            err = float(xp.sum(xp.abs(u * Kv - a)))
            if errors is not None:
                errors.append(err)
            if err <= problem.tol or n_done == n_iter:
                break
        v_new = b / KTu
        n_done += 1
        ok = bool(xp.all(xp.isfinite(u_new)) and xp.all(u_new > 0)
                  and xp.all(xp.isfinite(v_new)) and xp.all(v_new > 0))
        if not ok:
            # Redo this sweep in the log domain from the last good scalings.
            f, g = f + reg * xp.log(u), g + reg * xp.log(v)
            f, g = _sinkhorn_sweep(problem, f, g)
            K = problem.plan(f, g, out=K)
            u, v = xp.ones_like(u), xp.ones_like(v)
        else:
            u, v = u_new, v_new
            if (float(xp.max(xp.abs(xp.log(u)))) > limit
                    or float(xp.max(xp.abs(xp.log(v)))) > limit):
                f, g = f + reg * xp.log(u), g + reg * xp.log(v)
                K = problem.plan(f, g, out=K)
                u, v = xp.ones_like(u), xp.ones_like(v)
    if n_done == 0:
        return f, g, K, 0
    f, g = f + reg * xp.log(u), g + reg * xp.log(v)
    # The plan of (f, g) is the scaled kernel: two products instead of an exp
    # over the matrix (|log u|, |log v| <= s keep it far from overflow).
    K *= u[:, None]
    K *= v[None, :]
    P = K
    if errors is not None:
        errors[-1] = problem.marginal_error(P)
    return f, g, P, n_done


def _sinkhorn_iterations_needed(errors, tol):
    """Iterations to reach ``tol`` at the rate measured over the last three, or None if none.

    Computed from logarithms: the cube root of a ratio just below 1 rounds to
    1.0 (whose logarithm divided by zero, at very small ``reg``).
    """
    log_rate = (math.log(errors[-1]) - math.log(errors[-4])) / 3.0
    if not log_rate < 0.0:
        return None
    return math.log(tol / errors[-1]) / log_rate
