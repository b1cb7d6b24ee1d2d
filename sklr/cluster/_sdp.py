"""Likelihood-adjusted SDP clustering (iLA-SDP; Zhuang, Chen and Yang, ICML 2023) and its solvers.

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
import warnings

from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ..utils._array_api import device as array_device
from ..utils._array_api import get_namespace, random_normal

__all__ = ["SDPResult", "la_sdp", "solve_admm", "solve_bm"]


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
    """

    def __init__(self, **fields):
        self.__dict__.update(fields)


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


def solve_admm(Ws, hs, traces, *, max_iter=5000, tol=1e-6, verbose=0):
    """The SDP exactly, by two-block ADMM on the full ``n x n`` matrices (small ``n``).

    Splitting ``Z_k = Y_k = V_k`` with ``Z`` on the affine constraints,
    ``Y_k`` on the PSD cone and ``V_k`` on the non-negative orthant; the
    penalty is balanced between the primal and dual residuals every 10
    iterations. Costs ``K`` eigendecompositions of ``n x n`` per iteration.
    """
    xp, _ = get_namespace(Ws[0])
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


def _project_factor(V, trace, xp):
    """Onto ``{U >= 0, ||U||_F^2 = trace}``: clip, then rescale (a zero clip restarts flat)."""
    V = xp.maximum(V, 0.0)
    norm = float(xp.linalg.vector_norm(xp.reshape(V, (-1,))))
    if norm == 0.0:
        V = xp.ones_like(V)
        norm = float(xp.linalg.vector_norm(xp.reshape(V, (-1,))))
    return V * (math.sqrt(trace) / norm)


def solve_bm(Ws, hs, traces, *, rank=2, factors=None, beta=10.0, max_iter=20000, tol=1e-5,
             random_state=None, verbose=0):
    """The SDP by non-negative Burer-Monteiro factors and an augmented Lagrangian.

    ``Z_k = U_k U_k^T`` with ``U_k >= 0`` of shape ``(n, rank)`` and
    ``||U_k||_F^2 = t_k`` (so ``Z_k >= 0``, PSD and of the right trace); the
    coupling ``sum_k U_k U_k^T 1 = 1`` enters an augmented Lagrangian with
    penalty ``beta`` (in the problem's normalized units). Projected gradient
    steps (``O(n p rank)`` each, no ``n x n`` matrix) with a backtracking step
    size; the multiplier is updated when the steps become small.
    Deviation from the authors' NLR code: the problem is rescaled so its
    gradient is of order one, and the step size is found by backtracking
    (their fixed ``alpha = 1e-6`` is tied to their data's scale).
    """
    xp, _ = get_namespace(Ws[0])
    n, K = Ws[0].shape[0], len(Ws)
    dev, dtype = array_device(Ws[0]), Ws[0].dtype
    # Normalize: shift h by its per-point minimum over blocks (a constant under
    # sum_k Z_k 1 = 1), then scale everything by the typical per-point cost.
    shift = 0.0
    if K > 1:
        h_min = hs[0]
        for h in hs[1:]:
            h_min = xp.minimum(h_min, h)
        hs = [h - h_min for h in hs]
        shift = float(xp.sum(h_min))  # the objective's constant part on sum_k Z_k 1 = 1
    scale = max(sum(float(xp.sum(W * W)) for W in Ws) / (n * sum(traces)), 1e-300)
    Ws = [W / math.sqrt(scale) for W in Ws]
    hs = [h / scale for h in hs]
    ones = xp.ones(n, dtype=dtype, device=dev)
    if factors is None:
        rng = check_random_state(random_state)
        factors = [_project_factor(xp.abs(random_normal(rng, (n, rank), xp=xp, device=dev,
                                                        dtype=dtype)) + 1.0, t, xp)
                   for t in traces]
    else:
        factors = [_project_factor(xp.asarray(U, dtype=dtype, device=dev), t, xp)
                   for U, t in zip(factors, traces)]
    y = xp.zeros(n, dtype=dtype, device=dev)

    def lagrangian(Us):
        col = [xp.sum(U, axis=0) for U in Us]  # U_k^T 1
        res = sum(U @ c for U, c in zip(Us, col)) - ones
        value = 0.0
        for U, c, W, h in zip(Us, col, Ws, hs):
            WU = xp.matrix_transpose(W) @ U
            value += float(xp.vecdot(h, U @ c)) - 0.5 * float(xp.sum(WU * WU))
        value += float(xp.vecdot(y, res)) + 0.5 * beta * float(xp.vecdot(res, res))
        return value, col, res

    def gradient(Us, col, res):
        y_tilde = y + beta * res
        grads = []
        for U, c, W, h in zip(Us, col, Ws, hs):
            g = h + y_tilde
            grads.append(g[:, None] * c[None, :] + ones[:, None] * (g @ U)[None, :]
                         - W @ (xp.matrix_transpose(W) @ U))
        return grads

    step = 0.1 / (beta * n)
    total_trace = math.sqrt(sum(traces))
    value, col, res = lagrangian(factors)
    converged, it, start = False, 0, time.perf_counter()
    for it in range(1, max_iter + 1):
        grads = gradient(factors, col, res)
        while True:
            trial = [_project_factor(U - step * G, t, xp)
                     for U, G, t in zip(factors, grads, traces)]
            moved = [T - U for T, U in zip(trial, factors)]
            decrease = sum(float(xp.sum(G * D)) for G, D in zip(grads, moved))
            sq = sum(float(xp.sum(D * D)) for D in moved)
            new_value, new_col, new_res = lagrangian(trial)
            if new_value <= value + decrease + sq / (2.0 * step) or step < 1e-12 / (beta * n):
                break
            step /= 2.0
        factors, value, col, res = trial, new_value, new_col, new_res
        change = math.sqrt(sq) / total_trace
        infeasibility = float(xp.linalg.vector_norm(res)) / math.sqrt(n)
        if change < tol:
            if infeasibility < tol:
                converged = True
                break
            y = y + beta * res  # multiplier step of the augmented Lagrangian
            value, col, res = lagrangian(factors)
        step *= 1.5
        if verbose and it % 500 == 0:
            print(f"[sdp bm] iteration {it}: infeasibility {infeasibility:.2e}, change "
                  f"{change:.2e}, step {step:.2e} ({time.perf_counter() - start:.2f} s)")
    objective = 0.0
    for U, W, h in zip(factors, Ws, hs):
        WU = xp.matrix_transpose(W) @ U
        objective += float(xp.vecdot(h, U @ xp.sum(U, axis=0))) - 0.5 * float(xp.sum(WU * WU))
    return SDPResult(objective=objective * scale + shift, embedding=xp.concat(factors, axis=1),
                     factors=factors, blocks=None, n_iter=it,
                     residual=float(xp.linalg.vector_norm(res)) / math.sqrt(n),
                     converged=converged)


def _covariances(X, labels, n_clusters, covariance_type, xp):
    """Per-cluster means and covariances, shrunk towards ``(tr S_k / p) I`` by ``p / (n_k + p)``.

    The shrinkage keeps small clusters (``n_k`` near or below ``p``) well
    conditioned; a floor of ``1e-6`` times the data's mean variance keeps
    degenerate ones (one point, or repeated points) invertible.
    """
    n, p = X.shape
    floor = 1e-6 * max(float(xp.mean(xp.var(X, axis=0))), 1e-300)
    means, covs = [], []
    for k in range(n_clusters):
        members = X[labels == k, :] if labels.shape[0] else X
        n_k = int(members.shape[0])
        mean = xp.mean(members, axis=0) if n_k else xp.mean(X, axis=0)
        centred = members - mean
        S = (xp.matrix_transpose(centred) @ centred) / max(n_k, 1)
        variance = float(xp.sum(xp.linalg.diagonal(S))) / p
        if variance <= floor:
            variance = float(xp.mean(xp.var(X, axis=0)))
        eye = xp.eye(p, dtype=X.dtype)
        if covariance_type == "spherical":
            S = variance * eye
        elif covariance_type == "diag":
            S = eye * xp.linalg.diagonal(S)[None, :]
        shrink = p / (n_k + p)
        S = (1.0 - shrink) * S + shrink * variance * eye + floor * eye
        means.append(mean)
        covs.append(S)
    return xp.stack(means), xp.stack(covs)


def _la_blocks(X, covs, xp):
    """LA-SDP block data ``(W_k, h_k)`` from the cluster covariances."""
    Ws, hs = [], []
    for k in range(covs.shape[0]):
        L = xp.linalg.cholesky(covs[k, ...])
        # W_k = X L^{-T}: rows whitened by the cluster's covariance.
        W = xp.matrix_transpose(xp.linalg.solve(L, xp.matrix_transpose(X)))
        log_det = 2.0 * float(xp.sum(xp.log(xp.linalg.diagonal(L))))
        Ws.append(W)
        hs.append(0.5 * (xp.sum(W * W, axis=1) + log_det))
    return Ws, hs


def _round(embedding, n_clusters, random_state, xp):
    """Spectral rounding: top singular vectors of the embedding, then K-means (on the host)."""
    from sklearn.cluster import KMeans

    from ..utils._array_api import to_numpy

    U, S, _ = xp.linalg.svd(embedding, full_matrices=False)
    top = to_numpy(U[:, :n_clusters] * S[None, :n_clusters])
    labels = KMeans(n_clusters, n_init=10, random_state=random_state).fit_predict(top)
    return xp.asarray(labels, device=array_device(embedding))


def _canonical(labels, xp):
    """Relabel by order of first appearance (partitions compare equal as arrays)."""
    from ..utils._array_api import to_numpy

    seen, out = {}, []
    for value in to_numpy(labels).tolist():
        out.append(seen.setdefault(value, len(seen)))
    return xp.asarray(out, device=array_device(labels))


def la_sdp(X, n_clusters, *, method="ila-sdp", solver="auto", covariance_type="full",
           max_iter=10, init=None, rank=None, sdp_tol=None, random_state=None, verbose=0):
    """Cluster ``X`` by the (iterated) likelihood-adjusted SDP, or the K-means SDP.

    ``method="kmeans-sdp"``: one Peng-Wei SDP, rounded. ``method="ila-sdp"``:
    from initial labels (K-means), iterate covariance estimation, the
    LA-SDP with those covariances, and rounding, until the partition stops
    changing or ``max_iter`` rounds.

    Returns
    -------
    labels : int array of shape (n_samples,)
    n_iter : int
        Rounds of the iteration (1 for the K-means SDP).
    objective : float
        The last SDP's objective.
    """
    from sklearn.cluster import KMeans

    from ..utils._array_api import to_numpy

    xp, dev = get_namespace(X)
    n = X.shape[0]
    X = X - xp.mean(X, axis=0)
    if solver == "auto":
        solver = "admm" if n <= 200 else "bm"
    solve_kw = {} if sdp_tol is None else {"tol": sdp_tol}
    rng = check_random_state(random_state)
    if method == "kmeans-sdp":
        if solver == "admm":
            result = solve_admm([X], [xp.zeros(n, dtype=X.dtype, device=dev)], [n_clusters],
                                verbose=verbose, **solve_kw)
        else:
            result = solve_bm([X], [xp.zeros(n, dtype=X.dtype, device=dev)], [n_clusters],
                              rank=rank or 2 * n_clusters, random_state=rng, verbose=verbose,
                              **solve_kw)
        return _round(result.embedding, n_clusters, rng, xp), 1, result.objective
    if init is None:
        init = KMeans(n_clusters, n_init=10, random_state=rng).fit_predict(to_numpy(X))
    labels = _canonical(xp.asarray(init, device=dev), xp)
    factors, objective, it = None, math.nan, 0
    for it in range(1, max_iter + 1):
        _, covs = _covariances(X, labels, n_clusters, covariance_type, xp)
        Ws, hs = _la_blocks(X, covs, xp)
        if solver == "admm":
            result = solve_admm(Ws, hs, [1.0] * n_clusters, verbose=verbose, **solve_kw)
        else:
            result = solve_bm(Ws, hs, [1.0] * n_clusters, rank=rank or 2, factors=factors,
                              random_state=rng, verbose=verbose, **solve_kw)
            factors = result.factors
        objective = result.objective
        new = _canonical(_round(result.embedding, n_clusters, rng, xp), xp)
        changed = int(xp.sum(xp.astype(new != labels, xp.int64)))
        labels = new
        if verbose:
            print(f"[la_sdp] round {it}: objective {objective:.6g}, {changed} labels changed")
        if changed == 0:
            break
    else:
        warnings.warn(f"la_sdp: the partition still changed after max_iter={max_iter} rounds.",
                      ConvergenceWarning, stacklevel=2)
    return labels, it, objective
