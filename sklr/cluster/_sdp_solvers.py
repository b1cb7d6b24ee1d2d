"""The two SDP solvers of iLA-SDP (Zhuang, Chen and Yang, ICML 2023): ADMM and Burer-Monteiro.

The SDP over ``K`` membership blocks, in the form both solvers take:

    min  sum_k  h_k^T Z_k 1 - 1/2 <W_k W_k^T, Z_k>
    s.t. Z_k PSD, Z_k >= 0, tr(Z_k) = t_k, sum_k Z_k 1 = 1.

LA-SDP: one block per cluster, ``W_k = X L_k`` with ``L_k L_k^T`` the
cluster's precision, ``h_k = (q_k + log|Sigma_k|) / 2`` with ``q_k`` the
squared Mahalanobis norms of the points, ``t_k = 1``; then ``Z_k = 1_G 1_G^T
/ n_k`` gives the negative profile log-likelihood of the partition. The
Peng-Wei K-means SDP is the single block ``W = X``, ``t = K`` (``h`` drops
out: ``Z 1 = 1``).
"""

import math
import time
from dataclasses import dataclass, fields
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from ..utils._array_api import device as array_device
from ..utils._array_api import inner, namespace_and_device, random_normal
from ..utils._validation import Interval, check_array_arg, validate_params

__all__ = ["SDPResult", "solve_admm", "solve_bm"]


@dataclass(kw_only=True, eq=False, repr=False)
class SDPResult:
    """What the SDP solvers return.

    Attributes
    ----------
    objective : float
        ``sum_k <C_k, Z_k>`` at the returned point (in the problem's units).
    embedding : array of shape (n_samples, d)
        Rows to round: ``[U_1, ..., U_K]`` (Burer-Monteiro) or the top
        eigenvectors of ``sum_k Z_k`` scaled by the square roots of their
        eigenvalues (ADMM).
    factors : list of arrays of shape (n_samples, rank) or None
        The Burer-Monteiro factors (``Z_k = U_k U_k^T``); None for ADMM.
    blocks : list of arrays of shape (n_samples, n_samples) or None
        The ADMM matrices ``Z_k``; None for Burer-Monteiro.
    n_iter : int
        Iterations (projected-gradient steps, or ADMM iterations).
    residual : float
        ``||sum_k Z_k 1 - 1|| / sqrt(n)`` at the end.
    converged : bool
        Whether the solver met its stopping rule (``tol``) within ``max_iter``.
    multiplier : array of shape (n_samples,) or None
        Burer-Monteiro: the augmented Lagrangian's multiplier of the coupling
        ``sum_k Z_k 1 = 1`` (in the problem's units), which warm-starts a
        related solve (``solve_bm(..., multiplier=)``); None for ADMM.
    """

    objective: float
    embedding: object
    factors: list | None = None
    blocks: list | None = None
    n_iter: int
    residual: float
    converged: bool
    multiplier: object = None

    def as_dict(self):
        """The fields as a dict ``{name: value}`` (the arrays not copied)."""
        return {item.name: getattr(self, item.name) for item in fields(self)}

    def __repr__(self):
        return (f"SDPResult(n_iter={self.n_iter}, converged={self.converged}, "
                f"objective={self.objective:.6g}, residual={self.residual:.3g})")


def _sym(A, xp):
    return (A + xp.matrix_transpose(A)) / 2.0


def _objective_dense(Ws, hs, Zs, xp):
    total = 0.0
    for W, h, Z in zip(Ws, hs, Zs):
        total += float(xp.vecdot(h, xp.sum(Z, axis=1)))
        total -= 0.5 * float(xp.sum((W @ xp.matrix_transpose(W)) * Z))
    return total


def _project_affine(Ms, traces, xp):
    """Project ``(M_k)`` onto ``{tr Z_k = t_k, sum_k Z_k 1 = 1}`` (symmetric matrices).

    ``Pi(M) = M - A*(lambda)`` with ``A A* lambda = A(M) - b`` solved in
    closed form: ``A*(t, y)_k = t_k I + (y 1^T + 1 y^T) / 2``.
    """
    K, n = len(Ms), Ms[0].shape[0]
    r1 = [float(xp.sum(xp.linalg.diagonal(M))) - t for M, t in zip(Ms, traces)]
    r2 = sum(xp.sum(M, axis=1) for M in Ms) - 1.0
    R1 = sum(r1)
    s = (float(xp.sum(r2)) - R1) / (K * (n - 1))
    T = (R1 - K * s) / n
    y = (2.0 / (K * n)) * (r2 - T - 0.5 * K * s)
    eye = xp.eye(n, dtype=Ms[0].dtype, device=array_device(Ms[0]))
    rank_two = (y[:, None] + y[None, :]) / 2.0
    return [M - ((r - s) / n) * eye - rank_two for M, r in zip(Ms, r1)]


def _project_psd(A, xp):
    w, V = xp.linalg.eigh(_sym(A, xp))
    w = xp.maximum(w, 0.0)
    return (V * w[None, :]) @ xp.matrix_transpose(V)


def _check_blocks(Ws, hs, traces):
    """The solvers' block data, validated: every error names ``Ws``, ``hs`` or ``traces``.

    ``Ws``: a sequence (or 3-D array) of 2-D blocks with one row count, or
    ``(X, M)`` with ``X`` 2-D and ``M`` of shape ``(K, p, q)``; ``hs``: ``K``
    vectors of that length; ``traces``: ``K`` positive numbers summing to at
    most ``n`` (``sum_k Z_k 1 = 1`` with ``Z_k >= 0`` PSD caps the total trace).
    """
    def array(value, name, ndim):
        axp = namespace_and_device(value)[0] if hasattr(value, "__array_namespace__") else np
        return check_array_arg(value, name, ndim=ndim, dtype=[axp.float64, axp.float32])

    if isinstance(Ws, tuple) and len(Ws) == 2 and np.ndim(Ws[1]) == 3:
        X, M = array(Ws[0], "Ws[0]", 2), array(Ws[1], "Ws[1]", 3)
        if M.shape[1] != X.shape[1]:
            raise ValueError(f"Ws = (X, M) needs M of shape (K, {X.shape[1]}, q), got "
                             f"{tuple(M.shape)}.")
        blocks, n, K = (X, M), X.shape[0], M.shape[0]
    else:
        if Ws is None or isinstance(Ws, str) or not hasattr(Ws, "__len__") or len(Ws) == 0:
            raise ValueError(f"Ws must be a non-empty sequence of 2-D arrays, got {Ws!r:.60}.")
        blocks = [array(W, f"Ws[{k}]", 2) for k, W in enumerate(Ws)]
        n, K = blocks[0].shape[0], len(blocks)
        if any(W.shape[0] != n for W in blocks):
            raise ValueError(f"Ws must have one number of rows, got shapes "
                             f"{[tuple(W.shape) for W in blocks]}.")
    if hs is None or isinstance(hs, str) or not hasattr(hs, "__len__") or len(hs) != K:
        raise ValueError(f"hs must hold one vector per block of Ws ({K}), got {hs!r:.60}.")
    hs = [array(h, f"hs[{k}]", 1) for k, h in enumerate(hs)]
    if any(h.shape[0] != n for h in hs):
        raise ValueError(f"hs must hold vectors of length n_samples = {n}, got "
                         f"{[h.shape[0] for h in hs]}.")
    traces = np.asarray(array(traces, "traces", 1), dtype=np.float64) \
        if not isinstance(traces, (int, float)) else np.asarray([traces], dtype=np.float64)
    if traces.shape[0] != K:
        raise ValueError(f"traces must hold one number per block ({K}), got {traces.shape[0]}.")
    if np.any(traces <= 0) or traces.sum() > n * (1 + 1e-12):
        raise ValueError(f"traces must be positive with a sum of at most n_samples = {n}, got "
                         f"{traces.tolist()}.")
    return blocks, hs, traces.tolist()


@validate_params(
    {
        "Ws": [list, tuple, "array-like"],
        "hs": [list, tuple, "array-like"],
        "traces": [list, tuple, "array-like"],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def solve_admm(Ws, hs, traces, *, max_iter=5000, tol=1e-6, verbose=0):
    """The SDP exactly, by two-block ADMM on the full ``n x n`` matrices (small ``n``).

    Solves ``min sum_k h_k^T Z_k 1 - 1/2 <W_k W_k^T, Z_k>`` over ``Z_k``
    PSD, ``Z_k >= 0``, ``tr(Z_k) = t_k``, ``sum_k Z_k 1 = 1``. Splitting
    ``Z_k = Y_k = V_k`` with ``Z`` on the affine constraints (closed-form
    projection), ``Y_k`` on the PSD cone and ``V_k`` on the non-negative
    orthant; the penalty is balanced between the primal and dual residuals
    every 10 iterations. Costs ``K`` eigendecompositions of ``n x n`` per
    iteration: the reference solver of the tests, not for large ``n``.

    Parameters
    ----------
    Ws : list of arrays of shape (n_samples, p_k), or tuple (X, M)
        The blocks' ``W_k``; ``(X, M)`` with ``M`` of shape ``(K, p, q)``
        stands for ``W_k = X M[k]``.
    hs : list of arrays of shape (n_samples,)
        The blocks' linear terms ``h_k``.
    traces : list of float
        ``t_k``.
    max_iter : int, default=5000
        Maximum ADMM iterations.
    tol : float, default=1e-6
        Stop when the primal and dual residuals are below ``tol`` relative
        to ``||Z||_F``.
    verbose : int, default=0
        Print the residuals every 100 iterations.

    Returns
    -------
    result : SDPResult
        With ``blocks`` (the ``Z_k``, PSD and clipped to ``>= 0``),
        ``objective``, ``embedding`` (top eigenvectors of ``sum_k Z_k``),
        ``n_iter``, ``residual``, ``converged``.
    """
    Ws, hs, traces = _check_blocks(Ws, hs, traces)
    Ws = _block_list(Ws)
    xp, _ = namespace_and_device(Ws[0])
    n, K = Ws[0].shape[0], len(Ws)
    dev, dtype = array_device(Ws[0]), Ws[0].dtype
    ones = xp.ones(n, dtype=dtype, device=dev)
    Cs = [_sym(h[:, None] * ones[None, :], xp) - 0.5 * (W @ xp.matrix_transpose(W))
          for W, h in zip(Ws, hs)]
    scale = max(max(float(xp.max(xp.abs(C))) for C in Cs), 1e-300)
    Cs = [C / scale for C in Cs]
    Ys = [xp.full((n, n), t / n, dtype=dtype, device=dev) for t in traces]
    Vs = [xp.asarray(Y, copy=True) for Y in Ys]
    L1 = [xp.zeros((n, n), dtype=dtype, device=dev) for _ in range(K)]
    L2 = [xp.zeros((n, n), dtype=dtype, device=dev) for _ in range(K)]
    rho, converged, it = 1.0, False, 0
    start = time.perf_counter()
    for it in range(1, max_iter + 1):
        Ms = [(Y - A + V - B) / 2.0 - C / (2.0 * rho) for Y, A, V, B, C in zip(Ys, L1, Vs, L2, Cs)]
        Zs = _project_affine(Ms, traces, xp)
        Y_old, V_old = Ys, Vs
        Ys = [_project_psd(Z + A, xp) for Z, A in zip(Zs, L1)]
        Vs = [xp.maximum(Z + B, 0.0) for Z, B in zip(Zs, L2)]
        L1 = [A + Z - Y for A, Z, Y in zip(L1, Zs, Ys)]
        L2 = [B + Z - V for B, Z, V in zip(L2, Zs, Vs)]
        primal = math.sqrt(sum(float(xp.sum((Z - Y) ** 2) + xp.sum((Z - V) ** 2))
                               for Z, Y, V in zip(Zs, Ys, Vs)))
        dual = rho * math.sqrt(sum(float(xp.sum((Y - Yo) ** 2) + xp.sum((V - Vo) ** 2))
                                   for Y, Yo, V, Vo in zip(Ys, Y_old, Vs, V_old)))
        size = math.sqrt(sum(float(xp.sum(Z * Z)) for Z in Zs))
        if primal <= tol * max(size, 1.0) and dual <= tol * max(size, 1.0):
            converged = True
            break
        if it % 10 == 0:
            if primal > 10.0 * dual:
                rho *= 2.0
                L1, L2 = [A / 2.0 for A in L1], [B / 2.0 for B in L2]
            elif dual > 10.0 * primal:
                rho /= 2.0
                L1, L2 = [A * 2.0 for A in L1], [B * 2.0 for B in L2]
        if verbose and it % 100 == 0:
            print(f"[sdp admm] iteration {it}: primal {primal:.2e}, dual {dual:.2e}, rho {rho:.3g} "
                  f"({time.perf_counter() - start:.2f} s)")
    # The iterate on the PSD cone, made non-negative (both differ from Z by < tol).
    Zs = [xp.maximum(Y, 0.0) for Y in Ys]
    total = sum(Zs)
    w, V = xp.linalg.eigh(_sym(total, xp))
    k_top = int(round(sum(traces)))
    embedding = V[:, n - k_top:] * xp.sqrt(xp.maximum(w[n - k_top:], 0.0))[None, :]
    residual = float(xp.linalg.vector_norm(xp.sum(total, axis=1) - 1.0)) / math.sqrt(n)
    return SDPResult(objective=_objective_dense(Ws, hs, Zs, xp), embedding=embedding,
                     factors=None, blocks=Zs, n_iter=it, residual=residual, converged=converged)


def _block_list(Ws):
    """The list ``[W_1, ..., W_K]`` from either form the solvers accept."""
    if isinstance(Ws, tuple):
        X, M = Ws
        return [X @ M[k, ...] for k in range(M.shape[0])]
    return list(Ws)


def _selectors(widths, like, xp):
    """``S_k`` with ``[W_1 ... W_K] S_k = W_k`` (zero-padded), shape ``(K, sum(widths), max(widths))``."""
    total, widest = sum(widths), max(widths)
    columns = xp.arange(widest, device=array_device(like))
    out, offset = [], 0
    for width in widths:
        S = xp.eye(total, widest, k=-offset, dtype=like.dtype, device=array_device(like))
        out.append(S * xp.astype(columns < width, like.dtype)[None, :])
        offset += width
    return xp.stack(out)


# solve_bm's step size (first 1 / n, in the problem's normalized units) grows at most to this
# over n.
_MAX_STEP = 1e6


@validate_params(
    {
        "Ws": [list, tuple, "array-like"],
        "hs": [list, tuple, "array-like"],
        "traces": [list, tuple, "array-like"],
        "rank": [Interval(Integral, 1, None, closed="left")],
        "factors": [list, tuple, "array-like", None],
        "beta": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "settle": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def solve_bm(Ws, hs, traces, *, rank=2, factors=None, multiplier=None, beta=10.0,
             max_iter=20000, tol=1e-4, settle=None, random_state=None, verbose=0):
    """The SDP by non-negative Burer-Monteiro factors and an augmented Lagrangian.

    Solves the problem of :func:`solve_admm` over ``Z_k = U_k U_k^T`` with
    ``U_k >= 0`` of shape ``(n, rank)`` and ``||U_k||_F^2 = t_k`` (so
    ``Z_k >= 0``, PSD and of the right trace); the coupling
    ``sum_k U_k U_k^T 1 = 1`` enters an augmented Lagrangian with penalty
    ``beta`` (in the problem's normalized units). Each step costs
    ``O(n p rank K)``; no ``n x n`` matrix is formed. With ``Ws = (X, M)``
    every product goes through the shared ``X``.

    Deviations from the authors' NLR code (plain projected gradient with a
    fixed step ``alpha = 1e-6`` tied to their data's scale and a multiplier
    step when the iterate moves less than ``1e-3``):

    - the problem is rescaled so its per-point cost is of order one, and the
      step size is found by backtracking (Armijo on the augmented
      Lagrangian), growing by 1.2 after each accepted step;
    - Nesterov momentum with a restart whenever the augmented Lagrangian
      goes up (the extrapolated point is projected back onto the factor set);
    - inexact multiplier updates: ``y += beta * r`` as soon as the step
      falls below ``max(tol, infeasibility / 10)``.

    On a K = 5, p = 10, n = 1000 heterogeneous mixture from K-means labels
    they take 3,174 steps to ``tol = 1e-5`` against 7,875 for plain
    projected gradient, with the same rounded labels (timings:
    ``benchmarks/README.md``).

    Parameters
    ----------
    Ws : list of arrays of shape (n_samples, p_k), or tuple (X, M)
        The blocks' ``W_k``; ``(X, M)`` with ``M`` of shape ``(K, p, q)``
        stands for ``W_k = X M[k]``.
    hs : list of arrays of shape (n_samples,)
        The blocks' linear terms ``h_k``.
    traces : list of float
        ``t_k``.
    rank : int, default=2
        Columns of each factor ``U_k``.
    factors : list of arrays of shape (n_samples, rank), default=None
        Starting factors (projected onto the factor set); random when None.
    multiplier : array of shape (n_samples,), default=None
        Starting multiplier of the coupling constraint (a previous result's
        ``multiplier``, for a problem that differs little); zero when None.
    beta : float, default=10.0
        Penalty of the augmented Lagrangian.
    max_iter : int, default=20000
        Maximum projected-gradient steps.
    tol : float, default=1e-4
        Stop when both the step (relative to ``sqrt(sum t_k)``) and
        ``||sum_k Z_k 1 - 1|| / sqrt(n)`` are below ``tol``.
    settle : int, default=None
        With several blocks, also stop once each point's block of largest
        mass (``argmax_k (Z_k 1)_i``, checked every 10 steps) has not changed
        for ``settle`` steps while the step and the infeasibility are below
        ``10 * tol``: for a solution that is only rounded to a partition.
        Not in the paper; see the note below.
    random_state : int, RandomState instance or None, default=None
        Seeds the random start.
    verbose : int, default=0
        Above 1, print the progress every 500 steps.

    Returns
    -------
    result : SDPResult
        With ``factors`` (the ``U_k``), ``embedding`` (their concatenation),
        ``objective``, ``n_iter``, ``residual``, ``converged`` (also True
        when ``settle`` stopped it).

    Notes
    -----
    ``settle`` is what iLA-SDP's rounds use (``settle=100`` for the first,
    cold solve of an iteration, 50 for the warm-started ones): recorded every
    10 steps over 87 solves of its rounds (iris, wine, breast_cancer and six
    foreign mixtures of ``benchmarks/sdp_errors.py``, two seeds each), the
    labelling settled long before ``tol`` was met; stopping 100 steps after it
    settled would have saved 44 % of the steps, and 3 of the 87 solves would
    have rounded to a partition one point away from the converged solution's
    (the next round, warm-started, sees it). On the 36 data sets of
    ``sdp_errors.py`` at six seeds the mean error stayed 0.0422 (33 sets
    unchanged) in two thirds of the time
    (``benchmarks/results/2026-12-07_sdp_settle.md``).
    """
    Ws, hs, traces = _check_blocks(Ws, hs, traces)
    if isinstance(Ws, tuple):  # W_k = X M_k with one shared X
        X, M = Ws
    elif len(Ws) == 1:
        X, M = Ws[0], None
    else:  # W_k = [W_1 ... W_K] S_k with S_k selecting block k's columns
        xp, _ = namespace_and_device(Ws[0])
        X = xp.concat(list(Ws), axis=1)
        M = _selectors([W.shape[1] for W in Ws], X, xp)
    xp, _ = namespace_and_device(X)
    n, K = X.shape[0], len(hs)
    dev, dtype = array_device(X), X.dtype
    # All blocks at once, points last (contiguous reductions over them): h (K, n),
    # U (K, rank, n) (the transposed factors), t (K,). Products with the W_k go
    # through the shared X: one pass over it per product whatever K is.
    h = xp.stack(list(hs))
    t = xp.asarray(list(traces), dtype=dtype, device=dev)
    # Normalize: shift h by its per-point minimum over blocks (a constant under
    # sum_k Z_k 1 = 1), then scale everything by the typical per-point cost.
    shift, h_min = 0.0, None
    if K > 1:
        h_min = xp.min(h, axis=0)
        h = h - h_min
        shift = float(xp.sum(h_min))  # the objective's constant part on sum_k Z_k 1 = 1
    if M is None:
        total = float(xp.sum(X * X))
    else:
        gram = xp.matrix_transpose(X) @ X
        total = float(xp.sum((gram @ M) * M))  # sum_k ||X M_k||_F^2
    scale = max(total / (n * sum(traces)), 1e-300)
    X = X / math.sqrt(scale)
    Xt = xp.asarray(xp.matrix_transpose(X), copy=True)
    h = h / scale
    p = X.shape[1]
    MMt = None if M is None else M @ xp.matrix_transpose(M)  # (K, p, p)

    def products(U):
        """``(W_k^T U_k)^T`` for every block, shape (K, r, q), and ``(X^T U_k)^T``."""
        r = U.shape[1]
        XU = xp.reshape(xp.reshape(U, (K * r, n)) @ X, (K, r, p))
        return XU if M is None else XU @ M, XU

    def back(XU):
        """``(W_k W_k^T U_k)^T`` from ``(X^T U_k)^T``, shape (K, r, n)."""
        r = XU.shape[1]
        V = XU if MMt is None else XU @ MMt
        return xp.reshape(xp.reshape(V, (K * r, p)) @ Xt, (K, r, n))

    ones = xp.ones(n, dtype=dtype, device=dev)

    def project(V, *, check=False):
        """Onto ``{U_k >= 0, ||U_k||_F^2 = t_k}`` (a block clipped to zero restarts flat).

        With ``check``, None when a block clips to zero (the step was too long).
        """
        V = xp.maximum(V, 0.0)
        squares = xp.sum(V * V, axis=(1, 2))  # (K,)
        if bool(xp.any(squares == 0.0)):
            if check:
                return None
            V = xp.where((squares == 0.0)[:, None, None], xp.ones_like(V), V)
            squares = xp.sum(V * V, axis=(1, 2))
        return V * xp.sqrt(t / squares)[:, None, None]

    if factors is not None:
        if len(factors) != K or any(tuple(U.shape) != (n, factors[0].shape[1]) for U in factors):
            raise ValueError(f"factors must hold {K} arrays of shape (n_samples={n}, rank), got "
                             f"{[tuple(U.shape) for U in factors]}.")
    if factors is None:
        rng = check_random_state(random_state)
        U0 = xp.abs(random_normal(rng, (K, rank, n), xp=xp, device=dev, dtype=dtype)) + 1.0
    else:
        U0 = xp.stack([xp.matrix_transpose(xp.asarray(U, dtype=dtype, device=dev))
                       for U in factors])
    U0 = project(U0)
    # The multiplier in the normalized units: the Lagrangian there is the caller's divided
    # by scale, with h shifted by h_min (y + h is what the stationarity conditions see).
    if multiplier is None:
        y = xp.zeros(n, dtype=dtype, device=dev)
    else:
        y = xp.asarray(multiplier, dtype=dtype, device=dev)
        if tuple(y.shape) != (n,):
            raise ValueError(f"multiplier must have shape (n_samples={n},), got "
                             f"{tuple(y.shape)}.")
        y = (y if h_min is None else y + h_min) / scale

    def lagrangian(U):
        """The augmented Lagrangian and what its gradient reuses."""
        col = xp.sum(U, axis=2, keepdims=True)  # (K, r, 1): U_k^T 1
        mass = (xp.matrix_transpose(col) @ U)[:, 0, :]  # (K, n): Z_k 1
        res = xp.sum(mass, axis=0) - ones
        WU, XU = products(U)
        res_sq = inner(res, res)
        value = inner(h, mass) - 0.5 * inner(WU, WU) + inner(y, res) + 0.5 * beta * res_sq
        return value, (col, res, XU, res_sq, mass)

    def gradient(U, cache):
        col, res, XU = cache[:3]
        g = h + (y + beta * res)[None, :]  # (K, n)
        gU = U @ g[:, :, None]  # (K, r, 1): U_k^T g_k
        return g[:, None, :] * col + gU - back(XU)

    step = 1.0 / n
    total_trace = math.sqrt(sum(traces))
    current = point = U0  # the accepted iterate and the extrapolated point
    current_value, _ = point_value, point_cache = lagrangian(point)
    momentum, converged, it, infeasibility = 1.0, False, 0, math.inf
    # No convergence test (nor multiplier step) before the step size has met the
    # curvature (its first backtrack): until then a small change may only mean a small
    # step, and a warm start (factors and multiplier near a solution) would stop at once.
    calibrated = False
    start = time.perf_counter()
    labels, stable_since = None, 0  # the blocks' argmax labelling (settle) and since when
    for it in range(1, max_iter + 1):
        G = gradient(point, point_cache)
        while True:
            trial = project(point - step * G, check=step > 1e-14 / n)
            if trial is None:
                step /= 2.0  # a step that clips a whole block to zero is too long
                calibrated = True
                continue
            moved = trial - point
            decrease = inner(G, moved)
            sq = inner(moved, moved)
            value, cache = lagrangian(trial)
            if (value <= point_value + decrease + sq / (2.0 * step)
                    + 1e-12 * abs(point_value) or step < 1e-14 / n):
                break
            step /= 2.0
            calibrated = True
        diff = trial - current
        change = math.sqrt(inner(diff, diff)) / total_trace
        previous, current = current, trial
        res = cache[1]
        infeasibility = math.sqrt(cache[3] / n)
        if value > current_value:  # restart the momentum
            momentum, point, point_value, point_cache = 1.0, current, value, cache
        else:
            next_momentum = (1.0 + math.sqrt(1.0 + 4.0 * momentum**2)) / 2.0
            weight = (momentum - 1.0) / next_momentum
            momentum = next_momentum
            point = project(current + weight * (current - previous))
            point_value, point_cache = lagrangian(point)
        current_value = value
        if settle is not None and K > 1 and it % 10 == 0:
            now = xp.argmax(cache[4], axis=0)
            if labels is None or not bool(xp.all(now == labels)):
                labels, stable_since = now, it
            elif (calibrated and it - stable_since >= settle and infeasibility < 10.0 * tol
                    and change < 10.0 * tol):
                converged = True
                break
        if calibrated and it >= 5 and change < max(tol, 0.1 * infeasibility):
            if infeasibility < tol and change < tol:
                converged = True
                break
            y = y + beta * res  # multiplier step of the augmented Lagrangian
            momentum, point = 1.0, current
            point_value, point_cache = current_value, _ = lagrangian(current)
        # The step grows until it meets the curvature. One a million times the first that
        # still met none: the Lagrangian is flat along the projected gradient (a start at
        # a solution, say; n = 2 points in K = 2 blocks grew it to overflow): calibrated,
        # and no longer grown.
        step = min(step * 1.2, _MAX_STEP / n)
        if step >= _MAX_STEP / n:
            calibrated = True
        if verbose > 1 and it % 500 == 0:
            print(f"[sdp bm] step {it}: infeasibility {infeasibility:.2e}, change "
                  f"{change:.2e}, step size {step:.2e} ({time.perf_counter() - start:.2f} s)")
    col = xp.sum(current, axis=2, keepdims=True)
    WU, _ = products(current)
    objective = float(xp.sum(h * xp.sum(current * col, axis=1))) - 0.5 * float(xp.sum(WU * WU))
    factors = [xp.matrix_transpose(current[k, ...]) for k in range(K)]
    y = y * scale
    return SDPResult(objective=objective * scale + shift, embedding=xp.concat(factors, axis=1),
                     factors=factors, blocks=None, n_iter=it, residual=infeasibility,
                     converged=converged, multiplier=y if h_min is None else y - h_min)
