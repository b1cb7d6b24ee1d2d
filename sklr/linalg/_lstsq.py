"""Sketched least squares (sketch-and-solve, sketch-and-precondition) and leverage scores."""

import math
import warnings
from dataclasses import dataclass, field
from functools import partial
from numbers import Integral, Real

from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ..utils._array_api import (
    convergence_check_interval,
    device,
    lstsq,
    namespace_and_device,
    qr_r,
    random_normal,
    solve_triangular,
)
from ..utils._blocked import (
    check_row_blocked,
    compute,
    is_row_blocked,
    persist,
    row_block_sums,
)
from ..utils._validation import Interval, StrOptions, validate_params
from ._checks import check_matrix, check_rows
from ._sketches import make_sketch

# Checks without a new smallest gradient after which refinement stops.
_PATIENCE = 3

__all__ = [
    "SketchSums",
    "SketchedLstsqResult",
    "default_sketch_size",
    "leverage_scores",
    "sketched_lstsq",
    "solve_sketch_sums",
]


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "solver": [StrOptions({"sketch", "precondition"})],
    },
    prefer_skip_nested_validation=True,
)
def default_sketch_size(n_samples, n_features, solver="sketch"):
    """The rules of thumb for the number of sketch rows ``m``.

    ``solver="sketch"``: ``m = min(n, max(20 d, 1000))``. For a Gaussian-like
    sketch, sketch-and-solve has an expected residual ``sqrt(1 + d / (m - d - 1))``
    times the optimum, so ``m = 20 d`` gives about 1.026 (measured 1.02 to
    1.04 with SRHT on Gaussian designs). The floor of 1000 rows costs little
    and steadies small problems. ``m = n`` makes the SRHT and Gaussian
    sketches exact (an orthogonal or invertible map).

    ``solver="precondition"``: ``m = min(n, max(20 d, 1000, min(50 d, n // 20)))``.
    A larger sketch gives a better preconditioner (condition number about
    ``(1 + sqrt(d/m)) / (1 - sqrt(d/m))``) and so fewer passes over the data;
    at ``n = 10**6, d = 100`` to ``tol=1e-10``: 16 iterations with
    ``m = 20 d``, 12 with ``m = 50 d`` and a shorter solve, no gain beyond
    (timings: ``benchmarks/results/2026-12-05_moved_from_docstrings.md``).
    The cap ``n // 20`` keeps the QR of the sketch cheap.

    Parameters
    ----------
    n_samples : int
        Number of rows ``n``.
    n_features : int
        Number of columns ``d``.
    solver : {"sketch", "precondition"}, default="sketch"
        Which use of the sketch.

    Returns
    -------
    m : int
        Number of sketch rows.

    Examples
    --------
    >>> from sklr.linalg import default_sketch_size
    >>> default_sketch_size(10**6, 100), default_sketch_size(500, 10)
    (2000, 500)
    >>> default_sketch_size(10**6, 100, solver="precondition")
    5000
    """
    m = max(20 * n_features, 1000)
    if solver == "precondition":
        m = max(m, min(50 * n_features, n_samples // 20))
    return int(min(n_samples, m))


def _check_lstsq_inputs(A, b, sample_weight):
    """``A`` (dense or sparse), ``b`` and ``sample_weight`` checked, in ``A``'s namespace.

    Every error names the argument: finite real values, ``b`` with the rows of
    ``A``, non-negative weights that are not all zero.
    """
    A = check_matrix(A, "A", accept_sparse=True)
    xp, dev = namespace_and_device(A)
    b = xp.asarray(check_matrix(b, "b", ndim=(1, 2)), device=dev)
    check_rows(b, "b", A.shape[0], ndim=(1, 2))
    if sample_weight is not None:
        sample_weight = check_matrix(sample_weight, "sample_weight", ndim=1, non_negative=True,
                                        not_all_zero=True, xp=xp, device=dev)
        sample_weight = xp.astype(sample_weight, b.dtype)
        check_rows(sample_weight, "sample_weight", A.shape[0])
    return A, b, sample_weight


@dataclass
class SketchedLstsqResult:
    """Result of :func:`sketched_lstsq`.

    Attributes
    ----------
    coef : array of shape (d,) or (d, k)
        The solution ``x``.
    intercept : float or array of shape (k,)
        The fitted intercept (0.0 when ``fit_intercept=False``).
    n_iter : int
        1 for the sketched solve plus the number of refinement iterations.
    converged : bool
        Whether ``solver="precondition"`` reached ``tol`` (always True for
        ``solver="sketch"``).
    n_components : int
        Number of sketch rows used.
    sums : SketchSums or None
        The sketch's sums over the rows, to which more rows can be added
        (``solver="sketch"`` with a sketch that is a sum over rows); else None.
    """

    coef: object
    intercept: object
    n_iter: int
    converged: bool
    n_components: int
    sums: object = None


class _Design:
    """The operator ``diag(row_scale) @ (A - 1 offset^T)`` of weighted, centred least squares.

    Centring and weighting stay implicit: ``A`` (dense or sparse) is never copied.
    """

    def __init__(self, A, offset, row_scale, xp):
        self.A, self.offset, self.row_scale, self.xp = A, offset, row_scale, xp

    def matvec(self, X):
        out = self.A @ X
        if self.offset is not None:
            out = out - self.offset @ X
        return out if self.row_scale is None else out * self.row_scale[:, None]

    def rmatvec(self, R):
        if self.row_scale is not None:
            R = R * self.row_scale[:, None]
        out = self.A.T @ R
        if self.offset is not None:
            out = out - self.offset[:, None] * self.xp.sum(R, axis=0)
        return out

    def residual(self, B, X):
        """``B - design @ X``, a vector with one entry per row."""
        return B - self.matvec(X)

    def update(self, R, step, Q):
        """``R - step * Q`` for two vectors with one entry per row."""
        return R - step * Q

    def column_sq_norms(self, V):
        """Squared norms of the columns of a vector with one entry per row."""
        return self.xp.sum(V * V, axis=0)


class _BlockedDesign(_Design):
    """:class:`_Design` of a Dask ``A``: two passes over its blocks per CGLS iteration.

    The products run blockwise on the workers; vectors with one entry per row
    (residuals, ``A v``) are kept there (persisted), and only vectors with one
    entry per feature, and norms, come back.
    """

    def matvec(self, X):
        return persist(super().matvec(X))

    def rmatvec(self, R):
        return self.xp.asarray(compute(super().rmatvec(R)))

    def residual(self, B, X):
        return persist(B - super().matvec(X))

    def update(self, R, step, Q):
        return persist(R - step * Q)

    def column_sq_norms(self, V):
        return self.xp.asarray(compute(super().column_sq_norms(V)))


def _as_dense_xp(A, xp, dtype):
    """``A.T @ v``-style products of sparse A return NumPy; keep them in xp/dtype."""
    return xp.asarray(A, dtype=dtype)


@validate_params(
    {
        "A": ["array-like", "sparse matrix"],
        "b": ["array-like"],
        "sketch": [StrOptions({"srht", "gaussian", "countsketch", "sparse_sign"})],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "solver": [StrOptions({"sketch", "precondition"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "sample_weight": ["array-like", None],
        "fit_intercept": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "n_buckets": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"}), None],
        "sparsity": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def sketched_lstsq(
    A,
    b,
    *,
    sketch="srht",
    n_components=None,
    solver="sketch",
    alpha=0.0,
    sample_weight=None,
    fit_intercept=False,
    tol=1e-10,
    max_iter=100,
    n_buckets=None,
    sparsity=8,
    random_state=None,
    verbose=0,
):
    """Least squares ``min_x ||A x - b||^2 + alpha ||x||^2`` through a random sketch.

    ``solver="sketch"`` is sketch-and-solve, the estimator of Song et al.
    (2023): ``x' = argmin ||S A x - S b||`` for a sketch ``S`` with
    ``n_components`` rows. With a dense sketch (``"srht"``, ``"gaussian"``) it
    satisfies ``||x' - x*||_inf <= eps / sqrt(d) * ||A x* - b|| * ||A^+||`` with
    ``m ~ eps^-2 d log^3(n / delta)`` rows; its residual is about
    ``sqrt(1 + d / m)`` times the optimal one.

    ``solver="precondition"`` is sketch-and-precondition (Blendenpik/LSRN
    style): the R factor of the QR decomposition of ``S A`` is a right
    preconditioner, and conjugate gradients on the normal equations of
    ``A R^-1`` (CGLS, equivalent to LSQR in exact arithmetic), warm-started at
    the sketch-and-solve answer, iterate until
    ``||(A R^-1)^T r|| <= tol * ||r||`` (or ``||r|| <= tol * ||b||``). The
    number of iterations depends on ``m / d``, not on the condition number of
    ``A``.

    Parameters
    ----------
    A : array or sparse matrix of shape (n, d)
        Design matrix (NumPy, CuPy or array API array; SciPy sparse with
        NumPy).
    b : array of shape (n,) or (n, k)
        Right-hand side(s), solved together.
    sketch : {"srht", "gaussian", "countsketch", "sparse_sign"}, default="srht"
        Sketching operator (see :func:`make_sketch`).
    n_components : int, default=None
        Sketch rows ``m``, with ``d <= m <= n``; None uses
        :func:`default_sketch_size` for the solver.
    solver : {"sketch", "precondition"}, default="sketch"
        Sketch-and-solve or sketch-and-precondition.
    alpha : float, default=0.0
        Ridge penalty (not applied to the intercept).
    sample_weight : array of shape (n,), default=None
        Non-negative row weights.
    fit_intercept : bool, default=False
        Fit an unpenalized intercept (by implicit centring: ``A`` is not
        copied).
    tol : float, default=1e-10
        Relative tolerance of ``solver="precondition"`` (raised to ``4 * eps``
        of the dtype when smaller).
    max_iter : int, default=100
        Maximum refinement iterations of ``solver="precondition"``.
    n_buckets : "auto", int or None, default=None
        Optional CountSketch pre-stage of the dense sketches (see :class:`SRHT`).
    sparsity : int, default=8
        Nonzeros per column of ``sketch="sparse_sign"``.
    random_state : int, RandomState instance or None, default=None
        Seed of the sketch.
    verbose : int, default=0
        Print the relative gradient norm at each refinement iteration.

    Returns
    -------
    result : SketchedLstsqResult
        ``coef``, ``intercept``, ``n_iter``, ``converged``, ``n_components``.

    References
    ----------
    Song, Z., Ye, M., Yin, J. and Zhang, L. "A Nearly-Optimal Bound for Fast
    Regression with l_inf Guarantee." ICML 2023.

    Avron, H., Maymounkov, P. and Toledo, S. "Blendenpik: Supercharging
    LAPACK's least-squares solver." SIAM J. Sci. Comput. 32(3), 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.linalg import sketched_lstsq
    >>> rng = np.random.RandomState(0)
    >>> A = rng.standard_normal((5000, 20))
    >>> b = A @ np.arange(20.0) + 0.01 * rng.standard_normal(5000)
    >>> res = sketched_lstsq(A, b, solver="precondition", random_state=0)
    >>> bool(np.allclose(res.coef, np.linalg.lstsq(A, b, rcond=None)[0], rtol=1e-9))
    True
    """
    solve_params = {"solver": solver, "alpha": alpha, "fit_intercept": fit_intercept,
                    "tol": tol, "max_iter": max_iter, "verbose": verbose}
    sketch_params = {"sketch": sketch, "n_components": n_components,
                     "random_state": random_state, **_sketch_params(sketch, n_buckets, sparsity)}
    if is_row_blocked(A):
        return _blocked_sketched_lstsq(A, b, sample_weight, sketch_params, solve_params)
    namespace_and_device(A, b)  # one namespace for both
    A, b, sample_weight = _check_lstsq_inputs(A, b, sample_weight)
    xp, dev = namespace_and_device(A)
    n, d = A.shape
    B = xp.reshape(b, (-1, 1)) if len(b.shape) == 1 else b
    S = _make_sketch(n, d, solver, **sketch_params)
    row_scale = None
    if sample_weight is not None:
        row_scale = xp.sqrt(xp.asarray(sample_weight, dtype=B.dtype, device=dev))
    values = _row_sums(S._sketch_many, A, B, row_scale, xp)
    sums = SketchSums(values, d, S.row_keyed(), [(0, n)])
    return _solve_from_sums(sums, _Design, A, B, row_scale, one_d=len(b.shape) == 1,
                            **solve_params)


def _make_sketch(n, d, solver, *, sketch, n_components, random_state, **params):
    """The sketch operator, its size checked against the data (``n_components=None``: the default)."""
    m = default_sketch_size(n, d, solver) if n_components is None else int(n_components)
    if m > n:
        raise ValueError(
            f"n_components={m} must be <= n_samples={n}: a sketch cannot have more rows than "
            "the data."
        )
    if m < min(d, n):
        raise ValueError(
            f"n_components={m} must be >= n_features={d}: a sketch with fewer rows than "
            "features loses the solution."
        )
    return make_sketch(sketch, n, m, random_state=random_state, **params)


def _solve_from_sums(sums, design_class, A, B, row_scale, *, one_d, solver, alpha, fit_intercept,
                     tol, max_iter, verbose):
    """Sketch-and-solve from ``sums``; then, for ``solver="precondition"``, CGLS on ``A`` and ``B``."""
    xp, dev = namespace_and_device(sums.values)
    R, X, offset, y_offset = sums.solve(alpha=alpha, fit_intercept=fit_intercept)
    n_iter, converged = 1, True
    if solver == "precondition" and R is None:
        converged = False
        warnings.warn(
            "The sketched design is rank deficient, so it cannot precondition "
            "solver='precondition': returning the minimum-norm sketch-and-solve answer. "
            "A has rank < n_features, or n_components is too small for this sketch.",
            UserWarning,
            stacklevel=3,
        )
    elif solver == "precondition":
        if fit_intercept:
            B = B - y_offset
        if row_scale is not None:
            B = B * row_scale[:, None]
        design = design_class(A, offset, row_scale, xp)
        X, n_refine, converged, gradient = _preconditioned_cgls(
            design, B, R, X, alpha=alpha, tol=tol, max_iter=max_iter, verbose=verbose, xp=xp
        )
        n_iter += n_refine
        if not converged:
            hint = (
                "rounding errors stopped the progress first: A is too ill-conditioned for "
                "this tolerance" if n_refine < max_iter
                else "increase max_iter or n_components"
            )
            warnings.warn(
                f"Sketch-and-precondition stopped at a relative gradient of {gradient:.1e} "
                f"after {n_refine} iterations, above tol={tol}; {hint}.",
                ConvergenceWarning,
                stacklevel=3,
            )

    if fit_intercept:
        intercept = y_offset - offset @ X
    else:
        intercept = xp.zeros(X.shape[1], dtype=X.dtype, device=dev)
    if one_d:
        X, intercept = xp.reshape(X, (-1,)), float(intercept[0])
    keep = solver == "sketch" and sums.sketch is not None
    return SketchedLstsqResult(X, intercept, n_iter, converged, sums.n_components,
                               sums if keep else None)


def solve_sketch_sums(sums, *, alpha=0.0, fit_intercept=False, one_d=False):
    """Sketch-and-solve from :class:`SketchSums` (the end of ``sketched_lstsq(solver="sketch")``).

    Parameters
    ----------
    sums : SketchSums
        The sums over the rows.
    alpha : float, default=0.0
        Ridge penalty (not applied to the intercept).
    fit_intercept : bool, default=False
        Centre by the weighted means the sums hold.
    one_d : bool, default=False
        Return the coefficients of a single target as a 1-D array.

    Returns
    -------
    result : SketchedLstsqResult
    """
    return _solve_from_sums(sums, None, None, None, None, one_d=one_d, solver="sketch",
                            alpha=alpha, fit_intercept=fit_intercept, tol=0.0, max_iter=0,
                            verbose=0)


def _blocked_sketched_lstsq(A, b, sample_weight, sketch_params, solve_params):
    """:func:`sketched_lstsq` on Dask arrays: one pass for the sketch, two per CGLS iteration.

    Each block of rows is sketched where it lies (a :class:`RowKeyedSketch`
    column per row) and the sketches are summed on the cluster; only the
    ``(m + 1) x (d + 1 + k)`` sum and vectors of length ``d`` come back.
    """
    A, B, W = check_row_blocked(A, b, sample_weight)
    n, d = A.shape
    S = _make_sketch(n, d, solve_params["solver"], **sketch_params)
    keyed = S.row_keyed()
    if keyed is None:
        raise ValueError(
            f"sketch={sketch_params['sketch']!r} mixes all the rows, so it cannot be computed "
            "block by block on a Dask array: use sketch='sparse_sign', 'countsketch' or "
            "'gaussian' (with n_buckets=None)."
        )
    if W is not None and bool(compute((W < 0).any())):
        raise ValueError("Negative values in data passed to `sample_weight`.")
    m, k = S.n_components, B.shape[1]
    values = row_block_sums(partial(_block_sums, keyed), A, B, W, shape=(m + 1, d + 1 + k),
                            dtype=A.dtype)
    xp, _ = namespace_and_device(values)
    for name, cols in (("X", values[:, :d]), ("sample_weight", values[:, d]),
                       ("y", values[:, d + 1:])):
        if not bool(xp.all(xp.isfinite(cols))):
            raise ValueError(f"Input {name} contains NaN or infinity.")
    if not values[m, d] > 0:
        raise ValueError("Sample weights must contain at least one non-zero number.")
    sums = SketchSums(values, d, keyed, [(0, n)])
    row_scale = None if W is None else W[:, 0] ** 0.5
    return _solve_from_sums(sums, _BlockedDesign, A, B, row_scale, one_d=b.ndim == 1,
                            **solve_params)


def _block_sums(sketch, A, B, W, start):
    """``SketchSums`` values of one block of rows of Dask arrays (run on the workers)."""
    xp, _ = namespace_and_device(A)
    row_scale = None if W is None else xp.sqrt(W[:, 0])
    return SketchSums.of_rows(sketch, A, B, row_scale, start).values


def _row_sums(apply, A, B, row_scale, xp):
    """``S diag(r) [A | 1 | B]`` over ``w^T [A | 1 | B]`` (``w = r**2``) for a block of rows.

    ``apply(arrays, row_scales)`` applies ``S`` (its columns for these rows).
    ``A`` is sketched with ``row_scale`` folded into ``S``: it is never copied.
    """
    dtype, dev = B.dtype, device(B)
    ones = xp.ones(A.shape[0], dtype=dtype, device=dev) if row_scale is None else row_scale
    extras = xp.concat([xp.reshape(ones, (-1, 1)),
                        B if row_scale is None else B * row_scale[:, None]], axis=1)
    SA, SE = apply([A, extras], [row_scale, None])
    w = ones if row_scale is None else row_scale * row_scale
    moments = xp.concat([xp.reshape(_as_dense_xp(A.T @ w, xp, dtype), (-1,)), ones @ extras])
    return xp.concat([xp.concat([_as_dense_xp(SA, xp, dtype), SE], axis=1),
                      xp.reshape(moments, (1, -1))], axis=0)


@dataclass
class SketchSums:
    """What sketch-and-solve needs from the rows of ``(A, B)``, as sums over the rows.

    ``values`` stacks ``S diag(r) [A | 1 | B]`` (``m`` rows) over the row
    ``w^T [A | 1 | B]``, for sample weights ``w = r**2``: the sketch, and the
    weighted sums from which the means of centring come. Both are sums over
    the rows, so with a :class:`~sklr.linalg._sketches.RowKeyedSketch` the
    sums of blocks of rows add up (:meth:`add`) to those of all the rows, in
    any order. Centring is applied in :meth:`solve`, once the means are known.

    Attributes
    ----------
    values : array of shape (m + 1, d + 1 + k)
        The sums.
    n_features : int
        ``d``.
    sketch : RowKeyedSketch or None
        The sketch's rule, or None when it mixes the rows (no rows can be added).
    spans : list of (int, int)
        The ``[start, stop)`` row ranges summed, sorted and merged.
    """

    values: object
    n_features: int
    sketch: object = None
    spans: list = field(default_factory=list)

    @classmethod
    def of_rows(cls, sketch, A, B, row_scale, start):
        """The sums of rows ``start .. start + n`` (``A`` of shape (n, d), ``B`` of shape (n, k))."""
        xp, _ = namespace_and_device(B)
        values = _row_sums(lambda arrays, scales: sketch.apply_rows(arrays, scales, start),
                           A, B, row_scale, xp)
        return cls(values, A.shape[1], sketch, [(start, start + A.shape[0])])

    @property
    def n_components(self):
        return self.values.shape[0] - 1

    @property
    def n_rows(self):
        return sum(stop - start for start, stop in self.spans)

    @property
    def end(self):
        """One past the last row summed (0 when none)."""
        return self.spans[-1][1] if self.spans else 0

    def overlap(self, start, stop):
        """A ``(start, stop)`` range of rows already summed that meets ``[start, stop)``, or None."""
        return next(((a, b) for a, b in self.spans if a < stop and start < b), None)

    def add(self, other):
        """The sums of the rows of both (their row ranges must not overlap)."""
        spans = sorted(self.spans + other.spans)
        merged = [spans[0]]
        for start, stop in spans[1:]:
            if start < merged[-1][1]:
                raise ValueError(f"rows {start}..{stop - 1} overlap rows already summed.")
            if start == merged[-1][1]:
                merged[-1] = (merged[-1][0], stop)
            else:
                merged.append((start, stop))
        return SketchSums(self.values + other.values, self.n_features, self.sketch, merged)

    def solve(self, *, alpha, fit_intercept):
        """Sketch-and-solve: ``(R, X, offset, y_offset)``, ``R = None`` when rank deficient."""
        xp, dev = namespace_and_device(self.values)
        d, m = self.n_features, self.n_components
        SA, SB = self.values[:m, :d], self.values[:m, d + 1:]
        offset, y_offset = None, None
        if fit_intercept:
            Sr, moments = self.values[:m, d:d + 1], self.values[m, :]
            offset, y_offset = moments[:d] / moments[d], moments[d + 1:] / moments[d]
            SA, SB = SA - Sr * offset, SB - Sr * y_offset
        if alpha > 0:
            penalty = math.sqrt(alpha) * xp.eye(d, dtype=SA.dtype, device=dev)
            SA = xp.concat([SA, penalty], axis=0)
            SB = xp.concat([SB, xp.zeros((d, SB.shape[1]), dtype=SB.dtype, device=dev)], axis=0)
        R, X = _qr_solve(SA, SB, xp)
        return R, X, offset, y_offset


def _sketch_params(sketch, n_buckets, sparsity):
    if sketch in ("srht", "gaussian"):
        return {"n_buckets": n_buckets}
    if sketch == "sparse_sign":
        return {"sparsity": sparsity}
    return {}


def _qr_solve(SA, SB, xp):
    """Solve ``min ||SA X - SB||`` by QR; SVD fallback when ``SA`` is rank deficient.

    One QR of ``[SA | SB]`` without forming ``Q``: its triangular factor holds
    ``R`` and ``Q^T SB`` (half the cost of a QR with ``Q``).

    Returns ``(R, X)``, with ``R = None`` when the fallback was needed. The
    fallback treats singular values below ``sqrt(eps)`` times the largest as
    zero (as ``LinearRegression`` does with its ``tol``): an exactly rank
    deficient design, such as a centred one with fewer rows than columns,
    then gets the same minimum-norm answer whatever its rounding errors.
    """
    rcond = math.sqrt(float(xp.finfo(SA.dtype).eps))
    m, d = SA.shape
    if m < d:
        return None, lstsq(SA, SB, rcond=rcond, xp=xp)
    R_aug = qr_r(xp.concat([SA, SB], axis=1))
    R, QtB = R_aug[:d, :d], R_aug[:d, d:]
    diag = xp.abs(xp.linalg.diagonal(R))
    eps = xp.finfo(SA.dtype).eps
    if float(xp.min(diag)) > max(m, d) * eps * float(xp.max(diag)):
        return R, solve_triangular(R, QtB, lower=False, xp=xp)
    return None, lstsq(SA, SB, rcond=rcond, xp=xp)


def _preconditioned_cgls(design, B, R, X, *, alpha, tol, max_iter, verbose, xp):
    """CGLS on ``min ||[A; sqrt(alpha) I] R^-1 y - [B; 0]||``, ``x = R^-1 y``, all columns at once.

    Stops when every column meets ``||grad|| <= tol ||r||`` (or
    ``||r|| <= tol ||b||``). Rounding puts a floor of about
    ``eps * cond(A)`` under the relative gradient; when the gradient has not
    reached a new minimum for ``_PATIENCE`` checks the iteration stops and
    returns its best iterate, which counts as converged when the gradient is
    below ``10 sqrt(eps)``: the residual is then optimal to about ``100 eps``
    relative (its excess is about half the squared relative gradient).
    """
    eps = float(xp.finfo(B.dtype).eps)
    tol = max(float(tol), 4 * eps)
    floor_ok = 10 * math.sqrt(eps)
    sqrt_alpha = math.sqrt(alpha)
    Rres = design.residual(B, X)
    Rpen = -sqrt_alpha * X
    b_norm = xp.sqrt(design.column_sq_norms(B))
    grad = solve_triangular(R, design.rmatvec(Rres) + sqrt_alpha * Rpen, trans=True, xp=xp)
    P = grad
    gamma = xp.sum(grad * grad, axis=0)
    check_every = convergence_check_interval(B)
    tiny = float(xp.finfo(B.dtype).smallest_normal)
    best_ratio, best_X, best_it, since_best = math.inf, X, 0, 0
    it = 0
    while True:
        if it % check_every == 0 or it == max_iter:
            r_norm = xp.sqrt(design.column_sq_norms(Rres) + xp.sum(Rpen * Rpen, axis=0))
            ratio = xp.where(r_norm <= tol * b_norm, xp.zeros_like(r_norm),
                             xp.sqrt(gamma) / xp.maximum(r_norm, tiny))
            worst = float(xp.max(ratio))
            if verbose:
                print(f"[sketched_lstsq] iteration {it}: max relative gradient {worst:.3e}")
            if worst < best_ratio:
                best_ratio, best_X, best_it, since_best = worst, X, it, 0
            else:
                since_best += 1
            if best_ratio <= tol:
                return best_X, best_it, True, best_ratio
            if since_best >= _PATIENCE or it == max_iter:
                stalled = since_best >= _PATIENCE
                return best_X, best_it, stalled and best_ratio <= floor_ok, best_ratio
        it += 1
        Qx = solve_triangular(R, P, xp=xp)
        Q = design.matvec(Qx)
        delta = design.column_sq_norms(Q) + alpha * xp.sum(Qx * Qx, axis=0)
        step = xp.where(delta > 0, gamma / xp.maximum(delta, tiny), xp.zeros_like(delta))
        X = X + step * Qx
        Rres = design.update(Rres, step, Q)
        Rpen = Rpen - (sqrt_alpha * step) * Qx
        grad = solve_triangular(R, design.rmatvec(Rres) + sqrt_alpha * Rpen, trans=True, xp=xp)
        gamma_new = xp.sum(grad * grad, axis=0)
        beta = xp.where(gamma > 0, gamma_new / xp.maximum(gamma, tiny), xp.zeros_like(gamma))
        P = grad + beta * P
        gamma = gamma_new


def _cholesky_qr2_leverage(A, xp):
    """Leverage scores by CholeskyQR2, or None when ``A`` is too ill-conditioned for it.

    Two Gram-matrix Cholesky passes (Fukaya et al., 2014) give an orthonormal
    basis as accurate as Householder QR when ``cond(A) < ~1e7``, with
    matrix-matrix products only: far faster than ``numpy.linalg.qr`` on tall
    matrices (timings: ``benchmarks/results/2026-12-05_moved_from_docstrings.md``),
    which matters for :func:`lewis_weights`, one leverage computation per
    iteration.
    """
    Q = A
    for _ in range(2):
        try:
            L = xp.linalg.cholesky(Q.T @ Q)
        except Exception:  # not numerically positive definite
            return None
        diag = xp.linalg.diagonal(L)
        if not float(xp.min(diag)) > 1e-7 * float(xp.max(diag)):
            return None
        eye = xp.eye(L.shape[0], dtype=L.dtype, device=device(L))
        # A d x d inverse then one product: far faster than a triangular
        # solve with n right-hand sides, and accurate at this conditioning.
        Q = Q @ solve_triangular(L, eye, lower=True, xp=xp).T
    return xp.vecdot(Q, Q, axis=-1)


@validate_params(
    {
        "A": ["array-like"],
        "method": [StrOptions({"exact", "approx"})],
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "sketch": [StrOptions({"srht", "gaussian", "countsketch", "sparse_sign"})],
        "n_projections": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def leverage_scores(A, *, method="exact", n_components=None, sketch="srht", n_projections=None,
                    random_state=None):
    """Statistical leverage scores ``l_i = ||e_i^T U||^2`` of the rows of ``A``.

    ``U`` is an orthonormal basis of the column space of ``A``; the scores
    sum to ``rank(A)`` and ``l_i`` is the largest influence row ``i`` can
    have on a least-squares fit.

    ``method="exact"`` uses CholeskyQR2 (two Gram-matrix Cholesky passes,
    as accurate as Householder QR for ``cond(A) < 1e7`` and several times
    faster), a Householder QR beyond that, and an SVD when ``A`` is rank
    deficient: ``O(n d^2)``. ``method="approx"`` is the sketched algorithm of Drineas et
    al. (2012): ``R`` from a QR of ``S A``, then the row norms of
    ``A R^-1 G`` for a Gaussian ``G`` with ``n_projections`` columns, in
    ``O(nnz(A) k + d^3)``, each score within a constant factor w.h.p.

    Parameters
    ----------
    A : array of shape (n, d)
        Tall matrix (NumPy, CuPy or array API array).
    method : {"exact", "approx"}, default="exact"
        Exact or sketched scores.
    n_components : int, default=None
        Sketch rows for ``"approx"`` (:func:`default_sketch_size` when None).
    sketch : str, default="srht"
        Sketch for ``"approx"`` (see :func:`make_sketch`).
    n_projections : int, default=None
        Columns of ``G`` for ``"approx"``; ``None`` uses
        ``max(50, ceil(8 log n))``.
    random_state : int, RandomState instance or None, default=None
        Seed for ``"approx"``.

    Returns
    -------
    scores : array of shape (n,)
        The leverage scores, in the namespace of ``A``.

    References
    ----------
    Drineas, P., Magdon-Ismail, M., Mahoney, M. W. and Woodruff, D. P. "Fast
    approximation of matrix coherence and statistical leverage." JMLR 13, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.linalg import leverage_scores
    >>> A = np.vstack([np.eye(2), np.zeros((3, 2))])
    >>> leverage_scores(A)
    array([1., 1., 0., 0., 0.])
    """
    A = check_matrix(A, "A")
    _check_leverage_method(A.shape, method, n_components)
    return _leverage_scores(A, method=method, n_components=n_components, sketch=sketch,
                            n_projections=n_projections, rng=check_random_state(random_state))


def _check_leverage_method(shape, method, n_components):
    """``method="approx"`` needs a tall ``A`` and ``n_features <= n_components <= n_samples``."""
    n, d = shape
    if method != "approx":
        return
    if n < d:
        raise ValueError(f"method='approx' needs a tall A (n_samples >= n_features), got A of "
                         f"shape {tuple(shape)}; use method='exact'.")
    if n_components is not None and not d <= n_components <= n:
        raise ValueError(f"n_components={n_components} must be between n_features={d} and "
                         f"n_samples={n}.")


def _leverage_scores(A, *, method="exact", n_components=None, sketch="srht", n_projections=None,
                     rng=None):
    """:func:`leverage_scores` on a checked ``A``; ``rng`` a ``RandomState`` (unused, and
    may be None, with ``method="exact"``).

    The scores depend on the column space of ``A`` only, so its columns are
    first divided by their largest magnitudes: the scores are then the same
    whatever the units of the columns (a column in units 10^12 times another's
    would otherwise look rank deficient to the QR's rank test).
    """
    xp, dev = namespace_and_device(A)
    col_max = xp.max(xp.abs(A), axis=0)
    A = A / xp.where(col_max > 0, col_max, xp.ones_like(col_max))
    n, d = A.shape
    if method == "exact":
        scores = _cholesky_qr2_leverage(A, xp) if n >= 4 * d else None
        if scores is not None:
            return scores
        Q, R = xp.linalg.qr(A)
        diag = xp.abs(xp.linalg.diagonal(R))
        if float(xp.min(diag)) > max(n, d) * xp.finfo(A.dtype).eps * float(xp.max(diag)):
            return xp.sum(Q * Q, axis=1)
        U, s, _ = xp.linalg.svd(A, full_matrices=False)
        rank = int(xp.sum(xp.astype(s > s[0] * max(n, d) * xp.finfo(A.dtype).eps, xp.int64)))
        U = U[:, :rank]
        return xp.sum(U * U, axis=1)
    m = default_sketch_size(n, d) if n_components is None else int(n_components)
    k = max(50, math.ceil(8 * math.log(n))) if n_projections is None else int(n_projections)
    S = make_sketch(sketch, n, m, random_state=rng)
    SA = S._sketch_many([A], [None])[0]
    R = qr_r(SA)
    diag = xp.abs(xp.linalg.diagonal(R))
    rank_tol = max(m, d) * float(xp.finfo(A.dtype).eps)
    if float(xp.min(diag)) > rank_tol * float(xp.max(diag)):
        G = random_normal(rng, (d, k), xp=xp, device=dev, dtype=A.dtype) / math.sqrt(k)
        P = A @ solve_triangular(R, G, xp=xp)
        return xp.sum(P * P, axis=1)
    # Rank-deficient A (S A has A's rank w.h.p.): R^-1 would blow up the null
    # directions (scores summing to 7.3 instead of rank 5, 2x off per row), so
    # the basis comes from the SVD of S A restricted to its numerical rank,
    # A V_r diag(1/s_r), as the exact path's SVD fallback.
    _, s, Vt = xp.linalg.svd(SA, full_matrices=False)
    rank = int(xp.sum(xp.astype(s > s[0] * rank_tol, xp.int64)))
    T = xp.matrix_transpose(Vt[:rank, :]) / s[:rank]
    G = random_normal(rng, (rank, k), xp=xp, device=dev, dtype=A.dtype) / math.sqrt(k)
    P = A @ (T @ G)
    return xp.sum(P * P, axis=1)
