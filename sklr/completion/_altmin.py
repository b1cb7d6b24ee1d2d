"""Low-rank matrix completion by (robust) alternating minimization.

The pure function :func:`complete_matrix` behind :class:`MatrixCompleter`. It
follows Gu, Song, Yin and Zhang (ICLR 2024): spectral initialisation, then
alternating least-squares updates of the two factors, each of which may be
solved only approximately (the paper's point: the outer iteration tolerates
the inner error). Observed entries are kept as coordinate triplets; every
per-row (per-column) least-squares problem is solved for all rows at once with
batched dense algebra and sparse-times-dense products, so a sweep costs a few
passes over the observed entries.
"""

import math
import time
import warnings
from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ..linalg._cg import conjugate_gradient
from ..linalg._sketches import grouped_sparse_sign_matrix
from ..utils._array_api import device as array_device
from ..utils._array_api import (
    namespace_and_device,
    random_normal,
    random_uniform,
    segment_sum,
    sparse_matmul,
    sparse_matrix,
    to_numpy,
)
from ..utils._validation import Interval, StrOptions, validate_params

__all__ = ["MatrixCompletionResult", "complete_matrix", "predict_entries"]

_SOLVERS = ("exact", "cg", "sketch")
_BIAS_ROUNDS = 10
# On under-sampled data (alpha == 0) each factor row gets a ridge worth this many
# pseudo-observations of zero (in the units of the orthonormal other factor):
# it bounds the factors of rows whose few observed entries are nearly collinear.
_STABILISER = 0.1
# A completed row or column whose RMS exceeds this many times the largest observed
# value has run away (see _blown_up).
_RUNAWAY = 2.0
# An observed-entry RMSE below this fraction of the values' RMS is an exact fit.
_EXACT_FIT = 1e-6
# n_components="auto": the largest rank tried, the share of observed entries
# held out, and the relative slack within which the lowest rank is preferred.
_AUTO_MAX_RANK = 20
_AUTO_HOLDOUT = 0.1
_AUTO_TOLERANCE = 0.01


@dataclass
class MatrixCompletionResult:
    """What :func:`complete_matrix` returns.

    The completed matrix is ``mean + row_bias[:, None] + col_bias[None, :]
    + row_factors @ col_factors.T``.

    Attributes
    ----------
    row_factors : array of shape (n_rows, n_components)
        ``U``.
    col_factors : array of shape (n_cols, n_components)
        ``V`` (orthonormal columns when ``alpha == 0``).
    mean : float
        Global mean removed before factorising (0.0 unless centred).
    row_bias, col_bias : arrays of shape (n_rows,) and (n_cols,)
        Row and column offsets (zeros unless ``center="biases"``).
    n_iter : int
        Number of alternating sweeps (one V update and one U update each).
    rmse_path : list of float
        Root mean squared error on the observed entries after each sweep.
    converged : bool
        Whether the stopping rule was met before ``max_iter``.
    n_components : int
        Rank of the returned model: ``n_components`` as asked, the rank
        chosen on held-out entries for ``"auto"``, or a lower rank that
        already fits the observed entries exactly (with a warning).
    solver : str
        The solver used (``"auto"`` resolved).
    row_ridge : float
        The ridge that solved the final row factors against ``col_factors``
        (``alpha``, or the stabilising ridge on under-sampled data); a new
        row folded in with it gets the factors a training row would.
    validation_rmse : dict or None
        For ``n_components="auto"``: rank -> RMSE on the held-out entries.
    """

    row_factors: object
    col_factors: object
    mean: float
    row_bias: object
    col_bias: object
    n_iter: int
    rmse_path: list = field(default_factory=list)
    converged: bool = True
    n_components: int = 0
    solver: str = "exact"
    row_ridge: float = 0.0
    validation_rmse: dict = None


class _Side:
    """The observed entries grouped by one side's index.

    For the U update the "problems" are the rows (one k-variable least-squares
    problem per row, over that row's observed columns); for the V update they
    are the columns. Entries are sorted by problem, so that a sparse
    ``(n_problems, n_other)`` CSR matrix with any per-entry data shares one
    index structure.

    For the batched dense algebra the problems are also laid out in *blocks*
    of problems with similar entry counts (within 25%), each padded to its
    longest: a block's design matrices ``A_i`` are then one
    ``(n_block, length, k)`` array, and ``A_i^T A_i`` or ``A_i^T (A_i x_i)``
    one batched BLAS call instead of a sparse product with ``k^2`` columns.
    """

    _BLOCK_ENTRIES = 1 << 18  # entries per block: bounds the padded copies' memory

    def __init__(self, problem, other, values, n_problems, n_other, xp, device):
        order = xp.argsort(problem * n_other + other, stable=True)
        self.problem = xp.take(problem, order)
        self.other = xp.take(other, order)
        self.values = xp.take(values, order)
        self.n_problems, self.n_other = n_problems, n_other
        self.xp, self.device = xp, device
        self.counts = segment_sum(self.ones, self.problem, n_problems, xp=xp)
        counts_int = xp.astype(xp.round(self.counts), xp.int64)
        self.indptr = xp.cumulative_sum(counts_int, include_initial=True)
        self._plan_blocks(to_numpy(counts_int), to_numpy(self.indptr), to_numpy(self.other))

    @property
    def ones(self):
        """A one per entry (made when asked: nnz numbers a side need not keep)."""
        return self.xp.ones(self.values.shape, dtype=self.values.dtype, device=self.device)

    def _plan_blocks(self, counts, indptr, other):
        """Group the problems by entry count (a host-side plan of index arrays)."""
        xp, device = self.xp, self.device
        nnz = int(indptr[-1])
        # Index arrays as int32 where they fit: the padded plans hold about 2 nnz of them.
        index_dtype = np.int32 if max(nnz, self.n_other) < np.iinfo(np.int32).max else np.int64
        order = np.argsort(counts, kind="stable")
        sorted_counts = counts[order]
        start = self.n_empty = int(np.searchsorted(sorted_counts, 1))
        self.blocks, self._entries, self._starts = [], [], [start]
        while start < self.n_problems:
            shortest = int(sorted_counts[start])
            cap = max(int(1.25 * shortest), shortest + 4)
            stop = int(np.searchsorted(sorted_counts, cap, side="right"))
            stop = max(start + 1, min(stop, start + max(1, self._BLOCK_ENTRIES // cap)))
            length = int(sorted_counts[stop - 1])
            lanes = np.arange(length)
            entry = indptr[order[start:stop], None] + lanes
            valid = lanes < sorted_counts[start:stop, None]
            entry = np.where(valid, entry, nnz)  # padding points at an appended zero
            # Index straight into the other side's factor; padding points at a zero row.
            index = np.where(valid, other[np.minimum(entry, nnz - 1)], self.n_other)
            self.blocks.append((stop - start, length,
                                xp.asarray(index.reshape(-1).astype(index_dtype), device=device)))
            self._entries.append(xp.asarray(entry.reshape(-1).astype(index_dtype), device=device))
            self._starts.append(stop)
            start = stop
        self.perm = xp.asarray(order, device=device)
        self.inv_perm = xp.asarray(np.argsort(order, kind="stable"), device=device)

    def spmm(self, data, F):
        """``P @ F`` for the sparse matrix ``P`` with ``data`` on the observed entries."""
        P = sparse_matrix(
            data, self.other, self.indptr, (self.n_problems, self.n_other),
            format="csr", like=data,
        )
        return sparse_matmul(P, F)

    def design(self, F, *, lazy=False):
        """Every problem's design matrix ``A_i = F[observed of i]``, as padded blocks.

        ``lazy``: an iterable that gathers each block when it is reached (one
        block alive at a time, ``_BLOCK_ENTRIES x k`` numbers) instead of a
        list of all of them (``nnz x k`` numbers, padded). The exact solver
        and the RMSE read the blocks once each, so they gather lazily;
        CG reads them at every step and keeps them.
        """
        blocks = _DesignBlocks(self, F)
        return blocks if lazy else list(blocks)

    def _per_block(self, blocks, compute, tail_shape, dtype):
        """Apply ``compute`` block by block; results in the problems' own order."""
        xp = self.xp
        empty = xp.zeros((self.n_empty, *tail_shape), dtype=dtype, device=self.device)
        out = xp.concat([empty] + [compute(g, A) for g, A in enumerate(blocks)])
        return xp.take(out, self.inv_perm, axis=0)

    def gram(self, blocks, F):
        """``A_i^T A_i`` for every problem, shape (n_problems, k, k)."""
        xp, k = self.xp, F.shape[1]
        return self._per_block(
            blocks, lambda g, A: xp.matmul(xp.matrix_transpose(A), A), (k, k), F.dtype
        )

    def _block_rows(self, P):
        """``P``'s rows for each block, as ``(n_block, k, 1)`` arrays."""
        P_sorted = self.xp.take(P, self.perm, axis=0)
        return [P_sorted[a:b, :, None] for a, b in zip(self._starts, self._starts[1:])]

    def normal_matvec(self, blocks, P):
        """``A_i^T (A_i p_i)`` for every problem: two batched matrix-vector products."""
        xp, rows = self.xp, self._block_rows(P)

        def compute(g, A):
            return xp.matmul(xp.matrix_transpose(A), xp.matmul(A, rows[g]))[:, :, 0]

        return self._per_block(blocks, compute, (P.shape[1],), P.dtype)

    def pad_values(self, values):
        """Per-entry ``values`` laid out like the blocks, ``(n_block, length)`` each (0 padded)."""
        xp = self.xp
        padded = xp.concat([values, xp.zeros(1, dtype=values.dtype, device=self.device)])
        return [xp.reshape(xp.take(padded, entry), (n, length))
                for (n, length, _), entry in zip(self.blocks, self._entries)]

    def squared_error(self, blocks, X, value_blocks):
        """``sum_i ||b_i - A_i x_i||^2`` over every problem's observed entries."""
        xp, rows = self.xp, self._block_rows(X)
        return sum(
            float(xp.sum((b - xp.matmul(A, x)[:, :, 0]) ** 2))
            for A, x, b in zip(blocks, rows, value_blocks)
        )


class _DesignBlocks:
    """The padded design blocks of one side for factor ``F``, gathered on iteration."""

    def __init__(self, side, F):
        xp, k = side.xp, F.shape[1]
        self.side, self.k = side, k
        self.padded = xp.concat([F, xp.zeros((1, k), dtype=F.dtype, device=side.device)])

    def __iter__(self):
        xp = self.side.xp
        for n, length, index in self.side.blocks:
            yield xp.reshape(xp.take(self.padded, index, axis=0), (n, length, self.k))


def _shifted(G, alpha, relative):
    """``G_i + (alpha + relative_i * trace(G_i) / k + tiny) I`` for every problem ``i``.

    ``relative`` (a scalar or one value per problem) of about ``eps`` keeps
    an LU of a nearly singular ``G_i`` from breaking down and moves a
    well-posed solution by about ``relative * cond(G_i)``.
    """
    xp, k = namespace_and_device(G)[0], G.shape[-1]
    eye = xp.eye(k, dtype=G.dtype, device=array_device(G))
    trace = xp.sum(xp.linalg.diagonal(G), axis=-1)
    shift = alpha + relative * trace / k + xp.finfo(G.dtype).smallest_normal
    return G + shift[:, None, None] * eye


def _solve_exact(side, F, B, alpha, blocks):
    """Solve every problem's normal equations: batched LU, minimum norm where singular.

    With ``alpha == 0`` a problem with fewer observed entries than ``k`` has
    a singular normal matrix; those problems (usually few) are solved by a
    batched eigendecomposition instead, with the least-squares solution of
    minimum norm (zero for an empty problem), as ``numpy.linalg.lstsq`` would.
    Should the LU still meet an exactly singular matrix (a degenerate
    factor), every problem takes that route.
    """
    xp, k = side.xp, F.shape[1]
    G = side.gram(blocks, F)
    eps = xp.finfo(F.dtype).eps
    deficient = (side.counts < k) if alpha == 0 else xp.zeros(side.counts.shape, dtype=xp.bool)
    # Deficient problems get a large shift here (any regular matrix will do):
    # their LU answer is replaced below.
    relative = eps + (1.0 - eps) * xp.astype(deficient, F.dtype)
    try:
        X = xp.linalg.solve(_shifted(G, alpha, relative), B[:, :, None])[:, :, 0]
        solved = bool(xp.all(xp.isfinite(X)))
    except Exception:  # numpy.linalg.LinAlgError; other backends differ
        solved = False
    if not solved:
        return _solve_min_norm(G, B, xp)
    subset = xp.nonzero(deficient)[0]
    if subset.shape[0] == 0:
        return X
    X_subset = _solve_min_norm(xp.take(G, subset, axis=0), xp.take(B, subset, axis=0), xp)
    # Gather the subset's solutions back into place (no scatter in the array API).
    slot = xp.cumulative_sum(xp.astype(deficient, xp.int64)) - 1
    slot = xp.where(deficient, slot, 0)
    return xp.where(deficient[:, None], xp.take(X_subset, slot, axis=0), X)


def _solve_min_norm(G, B, xp):
    """Minimum-norm solutions of ``G_i x_i = b_i`` for symmetric PSD ``G_i`` (batched eigh)."""
    k = G.shape[-1]
    w, Q = xp.linalg.eigh(G)
    cutoff = 10.0 * k * xp.finfo(G.dtype).eps * xp.max(xp.abs(w), axis=1, keepdims=True)
    kept = w > cutoff
    inverse = xp.where(kept, 1.0 / xp.where(kept, w, 1.0), 0.0)
    return _batched_matvec(Q, inverse * _batched_matvec(xp.matrix_transpose(Q), B, xp), xp)


def _batched_matvec(A, x, xp):
    return xp.matmul(A, x[:, :, None])[:, :, 0]


def _sketch_preconditioner(side, F, alpha, sketch, sketch_size):
    """``L^-1`` with ``L L^T = (S_i A_i)^T (S_i A_i) + alpha I``, for every problem ``i``."""
    xp, k = side.xp, F.shape[1]
    SA = xp.reshape(sparse_matmul(sketch, F), (side.n_problems, sketch_size, k))
    M = _shifted(xp.matmul(xp.matrix_transpose(SA), SA), alpha, math.sqrt(xp.finfo(F.dtype).eps))
    return xp.linalg.inv(xp.linalg.cholesky(M))


class _Updater:
    """Solves one side's least-squares problems with the chosen solver."""

    def __init__(self, side, solver, alpha, inner_tol, inner_max_iter, sketch_size,
                 sparsity, random_state):
        self.side, self.solver, self.alpha = side, solver, alpha
        self.inner_tol, self.inner_max_iter = inner_tol, inner_max_iter
        self.sketch_size = sketch_size
        self.sketch = (
            grouped_sparse_sign_matrix(
                side.problem, side.other, side.indptr, side.n_other, sketch_size, sparsity,
                random_state, dtype=side.values.dtype, xp=side.xp,
            )
            if solver == "sketch" else None
        )
        self.inner_iterations = 0

    def __call__(self, F, X0, values, solver=None):
        side, xp = self.side, self.side.xp
        solver = self.solver if solver is None else solver
        B = side.spmm(values, F)
        # The padded design blocks hold nnz x k numbers: drop the last ones before
        # making these (the caller's RMSE reuses them, then releases them).
        self.blocks = None
        self.blocks = blocks = side.design(F, lazy=solver == "exact")
        if solver == "exact":
            return _solve_exact(side, F, B, self.alpha, blocks)
        if solver == "cg":
            diagonal = side.spmm(side.ones, F * F) + self.alpha
            diagonal = xp.where(diagonal > 0, diagonal, 1.0)

            def precondition(R):
                return R / diagonal
        else:
            L_inv = _sketch_preconditioner(side, F, self.alpha, self.sketch, self.sketch_size)
            L_inv_T = xp.matrix_transpose(L_inv)

            def precondition(R):
                return _batched_matvec(L_inv_T, _batched_matvec(L_inv, R, xp), xp)

        def normal_matvec(P):
            # (A_i^T A_i + alpha I) p_i for every problem: two batched products
            # with the padded design blocks, O(nnz k) per CG step.
            return side.normal_matvec(blocks, P) + self.alpha * P

        result = conjugate_gradient(
            normal_matvec, B, X0, precondition=precondition, rtol=self.inner_tol,
            max_iter=self.inner_max_iter, xp=xp,
        )
        self.inner_iterations += result.n_iter
        return result.x


def _fit_biases(rows, cols, values, alpha, xp):
    """Global mean and shrunk row/column offsets by alternating means.

    ``col_bias[j] = sum_i (x_ij - mean - row_bias[i]) / (n_j + alpha)`` and
    the same for rows, ``_BIAS_ROUNDS`` times, rows last: exactly what
    :func:`fold_in_biases` recomputes for new rows.
    """
    mean = float(xp.mean(values))
    row_bias = xp.zeros(rows.n_problems, dtype=values.dtype, device=rows.device)
    col_bias = xp.zeros(cols.n_problems, dtype=values.dtype, device=rows.device)
    for _ in range(_BIAS_ROUNDS):
        col_bias = _shrunk_mean(cols, cols.values - mean - xp.take(row_bias, cols.other), alpha)
        row_bias = _shrunk_mean(rows, rows.values - mean - xp.take(col_bias, rows.other), alpha)
    return mean, row_bias, col_bias


def _shrunk_mean(side, residual, alpha):
    xp = side.xp
    total = segment_sum(residual, side.problem, side.n_problems, xp=xp)
    denominator = side.counts + alpha
    positive = denominator > 0
    return xp.where(positive, total / xp.where(positive, denominator, 1.0), 0.0)


def _offsets(side, mean, row_bias, col_bias):
    """``mean + row_bias[i] + col_bias[j]`` at ``side``'s entries (rows as problems)."""
    xp = side.xp
    return mean + xp.take(row_bias, side.problem) + xp.take(col_bias, side.other)


def _initialize(rows, cols, residual_rows, residual_cols, k, n_rows, random_state):
    """:func:`_spectral_start` of the entries in memory."""
    p = rows.values.shape[0] / (n_rows * cols.n_problems)
    return _spectral_start(
        lambda Q: rows.spmm(residual_rows / p, Q), lambda Q: cols.spmm(residual_cols / p, Q),
        (n_rows, cols.n_problems), k, random_state, rows.xp, rows.device, rows.values.dtype)


def _spectral_start(row_product, col_product, shape, k, random_state, xp, device, dtype):
    """Top-k SVD of the rescaled zero-filled matrix ``M / p``, rows clipped for incoherence.

    ``row_product(Q)`` is ``(M / p) Q`` and ``col_product(Q)`` is
    ``(M / p)^T Q``. Randomised subspace iteration (``k + 10`` vectors, 4
    power steps): ``O(nnz k)`` per step.
    """
    n_rows, n_cols = shape
    width = min(k + 10, n_rows, n_cols)
    Q = random_normal(random_state, (n_cols, width), xp=xp, device=device, dtype=dtype)
    Q = row_product(Q)
    for _ in range(4):
        Q, _ = xp.linalg.qr(Q)
        Q, _ = xp.linalg.qr(col_product(Q))
        Q = row_product(Q)
    Q, _ = xp.linalg.qr(Q)
    Bt = col_product(Q)  # (M / p)^T Q, shape (n_cols, width)
    W, s, Zt = xp.linalg.svd(Bt, full_matrices=False)
    U = Q @ xp.matrix_transpose(Zt)[:, :k]
    V = W[:, :k] * s[:k]
    # Clip rows for incoherence (the paper zeroes them; scaling them down to
    # the threshold keeps their direction).
    threshold = 2.0 * math.sqrt(k / n_rows)
    norms = xp.linalg.vector_norm(U, axis=1)
    U = U * xp.where(norms > threshold, threshold / xp.where(norms > 0, norms, 1.0), 1.0)[:, None]
    U, R = xp.linalg.qr(U)
    return U, V @ xp.matrix_transpose(R)


def _check_entries(rows, cols, values, shape, xp, device):
    """The entries as ``xp`` arrays: int indices in range, finite float values, no repeats."""
    n_rows, n_cols = shape
    rows, cols, values = (xp.asarray(a, device=device) for a in (rows, cols, values))
    if not (rows.ndim == cols.ndim == values.ndim == 1
            and rows.shape[0] == cols.shape[0] == values.shape[0]):
        raise ValueError(
            "rows, cols and values must be 1-D arrays of one length, got shapes "
            f"{tuple(rows.shape)}, {tuple(cols.shape)} and {tuple(values.shape)}."
        )
    for name, index in (("rows", rows), ("cols", cols)):
        if not xp.isdtype(index.dtype, "integral"):
            raise TypeError(f"{name} must hold integer indices, got dtype {index.dtype}.")
    if xp.isdtype(values.dtype, "complex floating") or not xp.isdtype(values.dtype, "numeric"):
        raise TypeError(f"values must hold real numbers, got dtype {values.dtype}.")
    if not xp.isdtype(values.dtype, "real floating"):
        values = xp.astype(values, xp.float64)
    rows, cols = xp.astype(rows, xp.int64), xp.astype(cols, xp.int64)
    if values.shape[0] == 0:
        raise ValueError("No observed entries: at least one entry of X must be observed.")
    if not bool(xp.all(xp.isfinite(values))):
        raise ValueError("The observed values must be finite (no NaN or inf).")
    for name, index, bound in (("rows", rows, n_rows), ("cols", cols, n_cols)):
        if int(xp.min(index)) < 0 or int(xp.max(index)) >= bound:
            raise ValueError(
                f"{name} must lie in [0, {bound}) for shape={(n_rows, n_cols)}, got values "
                f"from {int(xp.min(index))} to {int(xp.max(index))}."
            )
    # Repeats are equal neighbours once sorted (a sort, not unique_values, whose hashed
    # version is several times slower on many random keys: see
    # benchmarks/results/2026-12-06_matrix_completer_scaling.md).
    keys = xp.sort(rows * n_cols + cols)
    n_repeated = int(xp.sum(xp.astype(keys[1:] == keys[:-1], xp.int64)))
    del keys
    if n_repeated:
        raise ValueError(
            f"{n_repeated} (rows[i], cols[i]) pair(s) are repeated: each entry "
            "must be observed at most once (average repeated ratings first)."
        )
    return rows, cols, values


# Shared with MatrixCompleter's _parameter_constraints.
_FIT_CONSTRAINTS = {
    "n_components": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "solver": [StrOptions({"auto", *_SOLVERS})],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "center": [StrOptions({"global", "biases"}), None],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "inner_tol": [Interval(Real, 0, None, closed="left")],
    "inner_max_iter": [Interval(Integral, 1, None, closed="left")],
    "sketch_size": [Interval(Integral, 1, None, closed="left"), None],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
}


@validate_params(
    {
        "rows": ["array-like"],
        "cols": ["array-like"],
        "values": ["array-like"],
        "shape": [tuple, list],
        "sparsity": [Interval(Integral, 1, None, closed="left")],
        **_FIT_CONSTRAINTS,
    },
    prefer_skip_nested_validation=True,
)
def complete_matrix(
    rows,
    cols,
    values,
    shape,
    n_components,
    *,
    solver="exact",
    alpha=0.0,
    center=None,
    max_iter=100,
    tol=1e-4,
    inner_tol=1e-2,
    inner_max_iter=3,
    sketch_size=None,
    sparsity=2,
    random_state=None,
    verbose=0,
):
    """Fit a rank-``n_components`` model to the observed entries of a matrix.

    Minimises ``sum_(i,j) observed (x_ij - m_ij)^2 + alpha (||U||^2 + ||V||^2)``
    with ``m_ij = mean + row_bias_i + col_bias_j + U_i . V_j`` by alternating
    minimisation (Gu et al., 2024): spectral initialisation, then sweeps that
    update ``V`` given ``U`` and ``U`` given ``V``, each a batch of small
    least-squares problems (one per column, one per row).

    Parameters
    ----------
    rows, cols : int arrays of shape (nnz,)
        Coordinates of the observed entries (no duplicates).
    values : array of shape (nnz,)
        The observed values (finite).
    shape : tuple (n_rows, n_cols)
        Shape of the matrix.
    n_components : int or "auto"
        Rank ``k`` of the model, ``1 <= k < min(shape)``, or ``"auto"``: the
        lowest rank whose RMSE on 10% of the observed entries, held out
        (drawn from ``random_state``; with None, the same entries and
        starts on every call, so that the chosen rank does not vary from one
        fit to the next) while ranks 1, 2, ... are fitted to
        the rest, is within 1% of the best rank's; the model of that rank
        is then fitted to all entries. The search stops two ranks past the
        best (and at rank 20).
    solver : {"exact", "cg", "sketch", "auto"}, default="exact"
        How each batch of least-squares problems is solved (``"auto"``:
        ``"exact"`` with at least ``k`` entries per row and column on
        average, ``nnz >= k (n_rows + n_cols)``, else ``"cg"``):

        - ``"exact"``: normal equations, formed in one sparse product
          (``O(nnz k^2)``) and solved by batched LU.
        - ``"cg"``: a few warm-started Jacobi-preconditioned CG steps
          (``O(nnz k)`` each), an approximate update.
        - ``"sketch"``: the paper's solver: CG preconditioned by the QR
          (here: Cholesky) factor of a sparse sketch of each problem, with
          ``sketch_size`` rows, ``O(nnz k sparsity + n k^2 sketch_size)``
          to build, then ``O(nnz k)`` per step.
    alpha : float, default=0.0
        Ridge penalty on both factors (and shrinkage of the biases).
    center : {None, "global", "biases"}, default=None
        Remove the global mean (``"global"``) or the mean and shrunk row and
        column offsets (``"biases"``) before factorising.
    max_iter : int, default=100
        Maximum number of sweeps.
    tol : float, default=1e-4
        Stop when a sweep changes the observed-entry RMSE by less than
        ``tol`` times its previous value, or the RMSE reaches rounding level.
    inner_tol : float, default=1e-2
        Relative residual reduction asked of the ``"cg"`` and ``"sketch"``
        inner solves.
    inner_max_iter : int, default=3
        Maximum CG steps per update for ``"cg"`` and ``"sketch"``.
    sketch_size : int, default=None
        Rows of each problem's sketch (``4 k`` when None).
    sparsity : int, default=2
        Nonzeros per column of the sparse-sign sketch.
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation and of the sketches.
    verbose : int, default=0
        Print the RMSE after each sweep.

    Returns
    -------
    result : MatrixCompletionResult
        Factors, offsets, ``n_iter``, the RMSE path and a convergence flag.

    Warns
    -----
    UserWarning
        When ``alpha == 0`` and the observed entries may not determine a
        rank-``k`` model: some row or column has fewer than ``k`` observed
        entries, or there are fewer than ``k n log n`` of them (``n`` the
        larger dimension). The plain fit is kept when it stays within the
        observed range (it is often exact there).
    UserWarning
        When ``alpha == 0`` and the fit *runs away* on the missing entries
        (the RMS of some completed row or column exceeds twice the largest
        observed value, which exact least squares on a few nearly collinear
        entries can do, under-sampled or not). The factors are then refitted
        with a small ridge (0.1 pseudo-observations of zero per factor row),
        which keeps the completion bounded. This guard is not in the paper.
    UserWarning
        When ``alpha == 0`` and a rank below ``n_components`` fits the
        observed entries exactly: the extra components are not determined
        (a rank-``k`` matrix can then take any value on some missing
        entries) and the lowest exact rank is returned instead.
    ConvergenceWarning
        When ``max_iter`` sweeps end before the stopping rule is met.

    Notes
    -----
    The factors are fitted to the residuals (values minus offsets) divided
    by their root mean square, and scaled back: multiplying ``values`` by
    ``s`` multiplies the completion by ``s`` (with ``alpha`` multiplied by
    ``s`` too, for the same ridge).

    When ``alpha == 0`` each factor is orthonormalised (QR) before it is
    used to update the other, as in the paper; the other factor is rotated
    to match, so ``U V^T`` is unchanged and warm starts stay valid. With a
    ridge penalty the factors are not orthonormalised (that would change the
    objective).

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.completion import complete_matrix
    >>> rng = np.random.RandomState(0)
    >>> M = rng.standard_normal((60, 2)) @ rng.standard_normal((2, 50))
    >>> rows, cols = np.nonzero(rng.uniform(size=M.shape) < 0.5)
    >>> res = complete_matrix(rows, cols, M[rows, cols], M.shape, 2, tol=1e-12,
    ...                       random_state=0)
    >>> completed = res.row_factors @ res.col_factors.T
    >>> bool(np.linalg.norm(completed - M) < 1e-6 * np.linalg.norm(M))
    True
    """
    xp, device = _namespace_of(values)
    if len(shape) != 2 or not all(isinstance(d, Integral) for d in shape):
        raise ValueError(f"shape must be a pair of integers (n_rows, n_cols), got {shape!r}.")
    n_rows, n_cols = int(shape[0]), int(shape[1])
    if n_components != "auto" and not n_components < min(n_rows, n_cols):
        raise ValueError(
            f"n_components={n_components} must be < min(n_rows, n_cols)="
            f"{min(n_rows, n_cols)} for shape={(n_rows, n_cols)}: a rank that high fits any "
            "observed entries and leaves the missing ones undetermined."
        )
    if min(n_rows, n_cols) < 2:
        raise ValueError(f"shape must be at least (2, 2), got {(n_rows, n_cols)}.")
    if sketch_size is not None and n_components != "auto" and sketch_size < n_components:
        raise ValueError(f"sketch_size={sketch_size} must be >= n_components={n_components}.")
    rows, cols, values = _check_entries(rows, cols, values, (n_rows, n_cols), xp, device)
    # With random_state=None the held-out entries of n_components="auto" are still
    # the same on every call (seed 0), so that the chosen rank, and the shapes of
    # the fitted factors, do not change from one fit to the next.
    split_state = check_random_state(0) if random_state is None else None
    random_state = check_random_state(random_state)
    split_state = random_state if split_state is None else split_state
    options = dict(
        solver=solver, alpha=alpha, center=center, max_iter=max_iter, tol=tol,
        inner_tol=inner_tol, inner_max_iter=inner_max_iter, sketch_size=sketch_size,
        sparsity=sparsity, verbose=verbose,
    )
    validation_rmse = None
    if n_components == "auto":
        n_components, validation_rmse = _select_rank(
            rows, cols, values, (n_rows, n_cols), split_state, options
        )
    result = _complete(rows, cols, values, (n_rows, n_cols), n_components, random_state,
                       **options)
    result.validation_rmse = validation_rmse
    return result


def _namespace_of(values):
    """The namespace and device of ``values`` (NumPy for lists and other non-arrays)."""
    if hasattr(values, "__array_namespace__"):
        return namespace_and_device(values)
    return namespace_and_device(np.zeros(0))


def _select_rank(rows, cols, values, shape, random_state, options):
    """The lowest rank whose RMSE on held-out observed entries is within tolerance of the best.

    A share ``_AUTO_HOLDOUT`` of the observed entries is hidden; ranks 1, 2,
    ... are fitted on the rest (the search stops two ranks past the best so
    far) and scored on the hidden ones.
    """
    xp, device = namespace_and_device(values)
    max_rank = min(min(shape) - 1, _AUTO_MAX_RANK)
    hide = random_uniform(random_state, (values.shape[0],), xp=xp, device=device,
                          dtype=values.dtype) < _AUTO_HOLDOUT
    hidden, kept = xp.nonzero(hide)[0], xp.nonzero(~hide)[0]
    if max_rank == 1 or hidden.shape[0] == 0 or kept.shape[0] == 0:
        return 1, None
    train = [xp.take(a, kept) for a in (rows, cols, values)]
    test = [xp.take(a, hidden) for a in (rows, cols, values)]
    scores, best = {}, 1
    for rank in range(1, max_rank + 1):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the final fit warns about what applies to it
            fit = _complete(*train, shape, rank, random_state, **dict(options, verbose=0))
        predicted = predict_entries(test[0], test[1], fit.row_factors, fit.col_factors,
                                    fit.mean, fit.row_bias, fit.col_bias)
        error = predicted - test[2]
        scores[rank] = math.sqrt(float(xp.mean(error * error)))
        if not math.isfinite(scores[rank]):
            scores[rank] = math.inf
        if scores[rank] < scores[best]:
            best = rank
        if rank >= best + 2 or fit.n_components < rank:  # past the best, or past an exact fit
            break
    scale = math.sqrt(float(xp.mean(values * values)))
    threshold = scores[best] * (1.0 + _AUTO_TOLERANCE) + _EXACT_FIT * scale
    return min(rank for rank, score in scores.items() if score <= threshold), scores


def _undersampled(row_counts, col_counts, n_observed, k, xp):
    """Why the observed entries cannot determine a rank-``k`` model (a sentence), or ''.

    ``row_counts`` and ``col_counts`` are the numbers of observed entries of
    every row and column.
    """
    reasons = []
    for name, counts in (("row", row_counts), ("column", col_counts)):
        few = int(xp.sum(xp.astype((counts > 0) & (counts < k), xp.int64)))
        if few:
            reasons.append(f"{few} {name}(s) have fewer than n_components={k} observed entries")
    n = max(row_counts.shape[0], col_counts.shape[0])
    needed = k * n * math.log(n)
    if n_observed < needed:
        reasons.append(
            f"{n_observed} observed entries are fewer than k n log n = {math.ceil(needed)} "
            "(n = the larger dimension), the sample size that determines a rank-k matrix"
        )
    return "; ".join(reasons)


class _InMemoryEntries:
    """The observed entries in memory, grouped both ways, with their offsets and residuals.

    The residuals (values minus offsets) are divided by their RMS ``scale``:
    the factors are fitted to them, so that the iterates, the stopping rule
    and the ridges do not depend on the data's units.
    :class:`~sklr.completion._altmin_blocked._BlockedEntries` is the same
    on a Dask cluster; :func:`_fit_rank` runs on either.
    """

    def __init__(self, rows, cols, values, shape, alpha, center):
        xp, device = namespace_and_device(values)
        self.xp, self.n_observed, self.dtype = xp, values.shape[0], values.dtype
        n_rows, n_cols = self.shape = shape
        self.by_row = by_row = _Side(rows, cols, values, n_rows, n_cols, xp, device)
        self.by_col = by_col = _Side(cols, rows, values, n_cols, n_rows, xp, device)
        if center == "biases":
            mean, row_bias, col_bias = _fit_biases(by_row, by_col, values, alpha, xp)
        else:
            mean = float(xp.mean(values)) if center == "global" else 0.0
            row_bias = xp.zeros(n_rows, dtype=values.dtype, device=device)
            col_bias = xp.zeros(n_cols, dtype=values.dtype, device=device)
        self.mean, self.row_bias, self.col_bias = mean, row_bias, col_bias
        resid_rows = by_row.values - _offsets(by_row, mean, row_bias, col_bias)
        resid_cols = by_col.values - _offsets(by_col, mean, col_bias, row_bias)
        scale = math.sqrt(float(xp.mean(resid_rows * resid_rows)))
        self.scale = scale if scale > 0 and math.isfinite(scale) else 1.0
        self.resid_rows, self.resid_cols = resid_rows / self.scale, resid_cols / self.scale

    def counts(self):
        """Observed entries per row and per column."""
        return self.by_row.counts, self.by_col.counts

    def largest_residual(self):
        """The largest absolute (scaled) residual."""
        return float(self.xp.max(self.xp.abs(self.resid_rows)))

    def sweeps(self, k, ridges, orthonormalise, *, solver, max_iter, tol, inner_tol,
               inner_max_iter, sketch_size, sparsity, random_state, verbose, start=None,
               exact_or_stop=False):
        """:func:`_sweeps` on these entries."""
        return _sweeps(self.by_row, self.by_col, self.resid_rows, self.resid_cols, k, ridges,
                       solver, orthonormalise, max_iter, tol, inner_tol, inner_max_iter,
                       sketch_size, sparsity, random_state, verbose, start=start,
                       exact_or_stop=exact_or_stop)


def _complete(rows, cols, values, shape, k, random_state, *, solver, alpha, center, max_iter,
              tol, inner_tol, inner_max_iter, sketch_size, sparsity, verbose):
    """:func:`complete_matrix` for a fixed rank ``k`` on validated entries."""
    n_rows, n_cols = shape
    if solver == "auto":
        solver = "exact" if values.shape[0] >= k * (n_rows + n_cols) else "cg"
    sketch_size = 4 * k if sketch_size is None else int(sketch_size)
    entries = _InMemoryEntries(rows, cols, values, shape, alpha, center)
    return _fit_rank(entries, k, random_state, alpha=alpha, solver=solver, max_iter=max_iter,
                     tol=tol, inner_tol=inner_tol, inner_max_iter=inner_max_iter,
                     sketch_size=sketch_size, sparsity=sparsity, verbose=verbose)


def _fit_rank(entries, k, random_state, *, alpha, solver, stacklevel=5, **options):
    """The rank-``k`` fit of ``entries`` (in memory or on a cluster), with its safeguards.

    The plain alternating sweeps; when ``alpha == 0``, the refit with a small
    ridge if they run away, and lower ranks where a lower rank fits exactly.
    ``stacklevel`` of the warnings: 5 is past ``_fit_rank``, ``_complete``,
    :func:`complete_matrix` and its validation wrapper.
    """
    xp, (n_rows, n_cols) = entries.xp, entries.shape
    max_iter, tol, scale = options["max_iter"], options["tol"], entries.scale
    options = dict(options, solver=solver, random_state=random_state)
    orthonormalise = alpha == 0
    reason = _undersampled(*entries.counts(), entries.n_observed, k, xp) if orthonormalise else ""
    ridges = (alpha / scale, alpha / scale)
    fit = entries.sweeps(k, ridges, orthonormalise, **options)
    stabilised = False
    if orthonormalise and _blown_up(fit, entries.largest_residual()):
        # Below the sample size that determines a rank-k matrix the plain fit is
        # either exact (it often is: 600 x 500 rank 8 at 5 % observed, error 2e-13)
        # or runs away on the missing entries (60 x 50 rank 2 at 10 %: error 1.5e3,
        # values 1.9e4 x the observed ones). Only the runaway fit is refitted with a
        # small ridge, which bounds it (error 0.76, values within 1.3 x).
        # Enough entries by the count can still run away when their pattern is
        # unlucky: heavy-tailed rank-4 factors, 300 x 250 at 10 % observed (above
        # k n log n) completed with error 1.4e2.
        reason = reason or (
            "the rank-{k} fit ran away on the missing entries (completed rows or columns "
            "far beyond the observed values), although there are more than k n log n "
            "observed entries".format(k=k)
        )
        warnings.warn(
            f"The observed entries cannot determine a rank-{k} model: {reason}. The factors "
            "are kept bounded by a small ridge, but the missing entries are guesses; use "
            "n_components='auto' (or a smaller n_components), alpha > 0, or observe more "
            "entries.",
            UserWarning,
            stacklevel=stacklevel,
        )
        ridges, stabilised = (_STABILISER * k / n_cols, _STABILISER * k / n_rows), True
        fit = entries.sweeps(k, ridges, orthonormalise, **options)
    elif reason:
        warnings.warn(
            f"The observed entries may not determine a rank-{k} model: {reason}. The fit "
            "stays within the range of the observed values, but check the completion on "
            "held-out entries (n_components='auto' does) or observe more entries.",
            UserWarning,
            stacklevel=stacklevel,
        )
    if orthonormalise and not stabilised and k > 1 and fit[2][-1] <= _EXACT_FIT:
        # Over-specified rank? If a lower rank fits exactly too, it determines the
        # missing entries and the extra components of the rank-k fit do not.
        # Lower ranks are tried downwards, each started from the truncated SVD
        # of the last exact fit and, where that start stalls, from the spectral
        # start, until neither fits exactly. (The truncation alone is not enough:
        # heavy-tailed rank-3 factors fitted at rank 6 gave a rank-4 exact fit
        # whose truncation stalled at a relative RMSE of 0.15 at rank 3, while the
        # spectral start at rank 3 fitted exactly in 35 sweeps.)
        rank = k
        while rank > 1:
            lower = None
            for start in (_truncate(fit, rank - 1), None):
                lower = entries.sweeps(rank - 1, ridges, True, start=start, exact_or_stop=True,
                                       **options)
                if lower[2][-1] <= _EXACT_FIT:
                    break
            if lower[2][-1] > _EXACT_FIT:
                break
            fit, rank = lower, rank - 1
        if rank < k:
            warnings.warn(
                f"The observed entries are fitted exactly by rank {rank} < n_components={k}: "
                f"they do not determine the other {k - rank} component(s), which could take "
                f"any value on the missing entries, so the rank-{rank} model is returned. Set "
                f"n_components={rank} or 'auto'.",
                UserWarning,
                stacklevel=stacklevel,
            )
            k = rank
    U, V, rmse_path, n_iter, converged = fit
    if not converged and max_iter > 0:
        warnings.warn(
            f"complete_matrix stopped at max_iter={max_iter} sweeps before the observed RMSE "
            f"settled (last relative change above tol={tol}); increase max_iter.",
            ConvergenceWarning,
            stacklevel=stacklevel,
        )
    if orthonormalise:
        U, row_ridge = U * scale, ridges[0]
    else:
        U, V, row_ridge = U * math.sqrt(scale), V * math.sqrt(scale), alpha
    return MatrixCompletionResult(
        U, V, entries.mean, entries.row_bias, entries.col_bias, n_iter,
        [r * scale for r in rmse_path], converged,
        n_components=k, solver=solver, row_ridge=row_ridge,
    )


def _blown_up(fit, largest):
    """Whether a fit's completed rows or columns run past the observed values.

    Each row's (and column's) RMS over *all* its entries, from the thin SVD of
    ``U V^T`` in ``O((m + n) k^2)``, is compared with the largest observed
    residual: a row's RMS cannot exceed its largest entry, so a fit that stays
    within the observed range passes, and a runaway one (factors of rows with
    too few entries growing without bound) exceeds it many times over.
    """
    U, V = fit[0], fit[1]
    xp, _ = namespace_and_device(U)
    if not (bool(xp.all(xp.isfinite(U))) and bool(xp.all(xp.isfinite(V)))):
        return True
    Q_U, R_U = xp.linalg.qr(U)
    Q_V, R_V = xp.linalg.qr(V)
    core = R_U @ xp.matrix_transpose(R_V)
    row_rms = xp.linalg.vector_norm(Q_U @ core, axis=1) / math.sqrt(V.shape[0])
    col_rms = xp.linalg.vector_norm(Q_V @ xp.matrix_transpose(core), axis=1) / math.sqrt(U.shape[0])
    return max(float(xp.max(row_rms)), float(xp.max(col_rms))) > _RUNAWAY * largest


def _truncate(fit, rank):
    """The factors of the best rank-``rank`` approximation of a fit's ``U V^T``."""
    U, V = fit[0], fit[1]
    xp, _ = namespace_and_device(U)
    Q_U, R_U = xp.linalg.qr(U)
    Q_V, R_V = xp.linalg.qr(V)
    W, s, Zt = xp.linalg.svd(R_U @ xp.matrix_transpose(R_V))
    return Q_U @ (W[:, :rank] * s[:rank]), Q_V @ xp.matrix_transpose(Zt[:rank, :])


def _sweeps(by_row, by_col, resid_rows, resid_cols, k, ridges, solver, orthonormalise,
            max_iter, tol, inner_tol, inner_max_iter, sketch_size, sparsity, random_state,
            verbose, start=None, exact_or_stop=False):
    """Alternating sweeps on residuals of RMS 1, from ``start`` or the spectral start.

    With ``exact_or_stop``, give up as soon as a sweep shrinks the RMSE by
    less than 10% short of an exact fit. Returns ``(U, V, rmse_path, n_iter,
    converged)``.
    """
    if start is None:
        U, V = _initialize(by_row, by_col, resid_rows, resid_cols, k, by_row.n_problems,
                           random_state)
    else:
        U, V = start
    resid_blocks = by_row.pad_values(resid_rows)
    options = dict(inner_tol=inner_tol, inner_max_iter=inner_max_iter,
                   sketch_size=sketch_size, sparsity=sparsity, random_state=random_state)
    update_U = _Updater(by_row, solver, alpha=ridges[0], **options)
    update_V = _Updater(by_col, solver, alpha=ridges[1], **options)

    def update_rows(V, U):
        U = update_U(V, U, resid_rows)
        error = by_row.squared_error(update_U.blocks, U, resid_blocks)
        # One side's design blocks alive at a time (each is nnz x k numbers, padded).
        update_U.blocks = update_V.blocks = None
        return U, error

    U, V, rmse_path, n_iter, converged = _alternate(
        U, V, lambda U, V: update_V(U, V, resid_cols), update_rows, resid_rows.shape[0], k,
        orthonormalise, max_iter, tol, verbose, exact_or_stop)
    if solver != "exact":
        # Refit the row factors exactly against the final V: the fitted rows
        # then agree with the fold-in of MatrixCompleter.transform.
        U = update_U(V, U, resid_rows, solver="exact")
    return U, V, rmse_path, n_iter, converged


def _alternate(U, V, update_cols, update_rows, n_observed, k, orthonormalise, max_iter, tol,
               verbose, exact_or_stop):
    """The outer iteration: ``V = update_cols(U, V)``, then ``U, sse = update_rows(V, U)``.

    Each factor is orthonormalised before it updates the other when
    ``orthonormalise`` (the other rotated to match); stops when the observed
    RMSE (``sqrt(sse / n_observed)``) changes by at most ``tol`` relative, or
    reaches rounding level.
    """
    xp, _ = namespace_and_device(U)
    floor = 10.0 * xp.finfo(U.dtype).eps
    rmse_path, converged, start = [], False, time.perf_counter()
    n_iter = 0
    for n_iter in range(1, max_iter + 1):
        if orthonormalise:
            U, R = xp.linalg.qr(U)
            V = V @ xp.matrix_transpose(R)
        V = update_cols(U, V)
        if orthonormalise:
            V, R = xp.linalg.qr(V)
            U = U @ xp.matrix_transpose(R)
        U, sse = update_rows(V, U)
        rmse = math.sqrt(sse / n_observed)
        rmse_path.append(rmse)
        if verbose:
            print(f"[complete_matrix] rank {k}, sweep {n_iter}: observed RMSE {rmse:.6g} "
                  f"(relative) ({time.perf_counter() - start:.2f} s)")
        previous = rmse_path[-2] if len(rmse_path) > 1 else None
        if rmse <= floor or (previous is not None and abs(previous - rmse) <= tol * previous):
            converged = True
            break
        if exact_or_stop and previous is not None and rmse > _EXACT_FIT and rmse > 0.9 * previous:
            break  # no longer heading for an exact fit (which converges geometrically)
    return U, V, rmse_path, n_iter, converged


def fold_in(rows, cols, values, n_rows, col_factors, mean, col_bias, alpha, bias_rows,
            ridge=None):
    """Row factors and row offsets of new rows against fixed column factors.

    Each row's least squares over its observed entries, solved exactly:
    ``row_bias_i = sum_j (x_ij - mean - col_bias_j) / (n_i + alpha)`` when
    ``bias_rows``, then ``U_i = argmin ||x_i - offsets - V_obs u||^2 + ridge ||u||^2``
    (``ridge`` is ``alpha`` when None; pass a fit's ``row_ridge``).
    Rows with no observed entry get zeros.
    """
    xp, device = namespace_and_device(values)
    n_cols = col_factors.shape[0]
    side = _Side(rows, cols, values, n_rows, n_cols, xp, device)
    row_bias = xp.zeros(n_rows, dtype=values.dtype, device=device)
    if bias_rows:
        row_bias = _shrunk_mean(side, side.values - mean - xp.take(col_bias, side.other), alpha)
    residual = side.values - _offsets(side, mean, row_bias, col_bias)
    B = side.spmm(residual, col_factors)
    ridge = alpha if ridge is None else ridge
    return _solve_exact(side, col_factors, B, ridge, side.design(col_factors, lazy=True)), row_bias


def predict_entries(rows, cols, row_factors, col_factors, mean, row_bias, col_bias):
    """Model values at the coordinates ``(rows[t], cols[t])`` without forming the matrix.

    Parameters
    ----------
    rows, cols : int arrays of shape (n,)
        Coordinates.
    row_factors, col_factors : arrays of shape (n_rows, k) and (n_cols, k)
        The factors.
    mean : float
        Global offset.
    row_bias, col_bias : arrays of shape (n_rows,) and (n_cols,)
        Row and column offsets.

    Returns
    -------
    values : array of shape (n,)
        ``mean + row_bias[rows] + col_bias[cols] + <U[rows], V[cols]>``.
    """
    xp, _ = namespace_and_device(row_factors)
    return (
        mean
        + xp.take(row_bias, rows)
        + xp.take(col_bias, cols)
        + xp.vecdot(xp.take(row_factors, rows, axis=0), xp.take(col_factors, cols, axis=0))
    )
