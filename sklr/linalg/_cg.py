"""The one preconditioned conjugate-gradient solver of sklr, for many problems at once.

:func:`conjugate_gradient` solves a batch of independent symmetric positive
(semi)definite systems ``A_i x_i = b_i``: the problems run along the leading
axis and their vectors along the last, the operator is a user-supplied
``matvec`` that applies every ``A_i`` at once, and each problem stops on its
own. A single system is a batch of one (``b[None, :]``); a system in several
blocks of unknowns is one concatenated vector that ``matvec`` splits.

Users: the inner solves of matrix completion (one small ridge problem per row
or column, with a diagonal or a sketched Cholesky preconditioner).

How it relates to the CGLS of :mod:`sklr.linalg._lstsq`
(``_preconditioned_cgls``): CGLS is the same iteration in least-squares form.
It solves ``min ||A x - b||^2 + alpha ||x||^2`` for one tall ``A`` (all
right-hand sides as columns), applying ``A`` and ``A^T`` separately and
recurring on the residual ``b - A x`` rather than on ``A^T (b - A x)``, which
is the numerically stable way to run CG on normal equations that are never
formed; its preconditioner is the triangular factor ``R`` of a sketch of
``A`` (``x = R^-1 y``). In exact arithmetic it produces the iterates of this
solver applied to ``(A^T A + alpha I) x = A^T b`` with
``precondition = (R^T R)^-1``. This solver takes the symmetric operator itself,
which suits small batched problems whose ``A_i^T A_i`` products are cheap.
"""

from dataclasses import dataclass

from ..utils._array_api import convergence_check_interval, namespace_and_device

__all__ = ["ConjugateGradientResult", "conjugate_gradient"]

_REFERENCES = ("initial_residual", "rhs")


@dataclass
class ConjugateGradientResult:
    """What :func:`conjugate_gradient` returns.

    Attributes
    ----------
    x : array of shape (n_problems, n)
        The last iterate of every problem.
    n_iter : int
        Steps the batch ran: the number of batched ``matvec`` calls after the
        one that formed the initial residuals. A problem that stopped earlier
        kept its iterate over the remaining steps.
    converged : bool array of shape (n_problems,)
        Whether each problem met its stopping rule (a problem whose search
        direction has no positive curvature stops without converging).
    """

    x: object
    n_iter: int
    converged: object


def conjugate_gradient(matvec, B, X0=None, *, precondition=None, rtol=1e-6, max_iter=100,
                       reference="initial_residual", check_every=None, xp=None):
    """Preconditioned conjugate gradients on a batch of symmetric positive (semi)definite systems.

    Solves ``A_i x_i = b_i`` for every problem ``i`` from ``x_i = X0[i]``.
    Problem ``i`` stops once ``||b_i - A_i x_i|| <= rtol * ||ref_i||``, where
    ``ref_i`` is its initial residual ``b_i - A_i X0[i]`` (``reference=
    "initial_residual"``) or ``b_i`` (``reference="rhs"``), or when its
    search direction has no positive curvature (an exactly solved
    semidefinite problem meets that before the residual test); from then on
    its iterate is frozen while the others go on. The batch stops when no
    problem is left, or after ``max_iter`` steps.

    Parameters
    ----------
    matvec : callable
        ``matvec(P)`` returns ``A_i p_i`` for every row ``p_i`` of ``P``, an
        array of shape (n_problems, n).
    B : array of shape (n_problems, n)
        The right-hand sides.
    X0 : array of shape (n_problems, n), default=None
        The warm start (zeros when None).
    precondition : callable, default=None
        ``precondition(R)`` returns ``M_i^-1 r_i`` for every row of ``R``,
        with ``M_i`` symmetric positive definite (an approximation of
        ``A_i``); the identity when None.
    rtol : float, default=1e-6
        Relative residual at which a problem stops.
    max_iter : int, default=100
        Most steps.
    reference : {"initial_residual", "rhs"}, default="initial_residual"
        What the residual is measured against: the warm start's residual
        (the gain of this solve) or the right-hand side (a tolerance on the
        solution, whatever the start). With ``X0 = 0`` they are the same.
    check_every : int, default=None
        Steps between two tests of whether any problem is left (each reads a
        flag back to the host); ``convergence_check_interval(B)`` when None.
        The iterates do not depend on it.
    xp : namespace, default=None
        The namespace of ``B`` (inferred when None).

    Returns
    -------
    result : ConjugateGradientResult
        The iterates, the step count and the per-problem convergence flags.

    Notes
    -----
    One step costs one ``matvec`` and one ``precondition`` of the whole
    batch plus ``O(n_problems n)``. The stopping test uses the recurred
    residual, not a recomputed ``b - A x``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.linalg._cg import conjugate_gradient
    >>> A = np.array([[[4.0, 1.0], [1.0, 3.0]], [[2.0, 0.0], [0.0, 5.0]]])
    >>> B = np.array([[1.0, 2.0], [2.0, 5.0]])
    >>> result = conjugate_gradient(lambda P: (A @ P[:, :, None])[:, :, 0], B, rtol=1e-12)
    >>> bool(np.allclose(result.x, np.linalg.solve(A, B[:, :, None])[:, :, 0]))
    True
    >>> result.n_iter, result.converged.tolist()
    (2, [True, True])
    """
    if reference not in _REFERENCES:
        raise ValueError(f"reference must be one of {_REFERENCES}, got {reference!r}.")
    if xp is None:
        xp, _ = namespace_and_device(B)
    if precondition is None:
        def precondition(R):
            return R
    check_every = convergence_check_interval(B) if check_every is None else int(check_every)

    X = xp.zeros_like(B) if X0 is None else X0
    R = B - matvec(X) if X0 is not None else B
    rr = xp.vecdot(R, R)
    scale = rr if reference == "initial_residual" else xp.vecdot(B, B)
    target = rtol**2 * scale
    # Problems stop one by one (a rank-deficient one converges in fewer
    # steps, after which its directions are rounding noise).
    active = rr > target
    steps = 0
    if max_iter > 0 and bool(xp.any(active)):
        Z = precondition(R)
        P = Z
        rz = xp.vecdot(R, Z)
        for steps in range(1, max_iter + 1):
            AP = matvec(P)
            pAp = xp.vecdot(P, AP)
            usable = active & (pAp > 0)
            step = xp.where(usable, rz / xp.where(usable, pAp, 1.0), 0.0)
            X = X + step[:, None] * P
            R = R - step[:, None] * AP
            rr = xp.vecdot(R, R)
            active = usable & (rr > target)
            if steps == max_iter or (steps % check_every == 0 and not bool(xp.any(active))):
                break
            Z = precondition(R)
            rz_new = xp.vecdot(R, Z)
            beta = xp.where(active, rz_new / xp.where(rz > 0, rz, 1.0), 0.0)
            P = Z + beta[:, None] * P
            rz = rz_new
    return ConjugateGradientResult(X, steps, rr <= target)
