"""Kronecker-structured operators: products with ``A_1 (x) ... (x) A_I`` without forming it.

The vectorization is C-order with ``A_1`` the slowest index, matching
``numpy.kron(A_1, numpy.kron(A_2, A_3))`` and ``x.reshape(N_1, N_2, N_3)``.
"""

import math
from numbers import Integral

from ..utils._array_api import namespace_and_device
from ..utils._validation import validate_params
from ._checks import check_numeric

__all__ = ["kron", "kron_matvec", "mode_product"]


def _check_factors(factors):
    """A non-empty sequence of finite 2-D numeric arrays, all in one namespace."""
    if factors is None or isinstance(factors, str) or not hasattr(factors, "__len__"):
        raise TypeError(f"factors must be a sequence of 2-D arrays, got {factors!r}.")
    if len(factors) == 0:
        raise ValueError("factors must hold at least one matrix, got none.")
    checked = []
    for i, A in enumerate(factors):
        A = check_numeric(A, f"factors[{i}]")
        if A.ndim != 2:
            raise ValueError(f"factors[{i}] must be a 2-D array, got shape {tuple(A.shape)}.")
        checked.append(A)
    namespace_and_device(*checked)  # one namespace
    return checked


@validate_params({"mode": [Integral]}, prefer_skip_nested_validation=True)
def mode_product(X, A, mode, *, xp=None):
    """Multiply the tensor ``X`` by the matrix ``A`` along axis ``mode``.

    ``Y[..., i, ...] = sum_j A[i, j] X[..., j, ...]`` (Kolda and Bader's
    n-mode product).

    Parameters
    ----------
    X : array
        Tensor with ``X.shape[mode] == A.shape[1]``.
    A : array of shape (m, n)
        The matrix.
    mode : int
        Axis of ``X`` to contract (negative counts from the end).
    xp : module, default=None
        Namespace of the arrays (inferred when None).

    Returns
    -------
    Y : array
        ``X`` with axis ``mode`` of length ``m``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.linalg import mode_product
    >>> X = np.arange(6.0).reshape(2, 3)
    >>> mode_product(X, np.ones((1, 3)), 1)
    array([[ 3.],
           [12.]])
    """
    X = check_numeric(X, "X")
    A = check_numeric(A, "A")
    if A.ndim != 2:
        raise ValueError(f"A must be a 2-D array, got shape {tuple(A.shape)}.")
    if not -X.ndim <= mode < X.ndim:
        raise ValueError(f"mode={mode} is out of range for X with {X.ndim} axes.")
    if X.shape[mode] != A.shape[1]:
        raise ValueError(f"A has {A.shape[1]} columns but axis {mode} of X has length "
                         f"{X.shape[mode]}.")
    return _mode_product(X, A, mode, xp=xp)


def _mode_product(X, A, mode, *, xp=None):
    """:func:`mode_product` without checks (for the hot loops of the estimators)."""
    if xp is None:
        xp, _ = namespace_and_device(X, A)
    moved = xp.moveaxis(X, mode, -1)
    return xp.moveaxis(moved @ xp.matrix_transpose(A), -1, mode)


@validate_params({"adjoint": ["boolean"]}, prefer_skip_nested_validation=True)
def kron_matvec(factors, x, *, adjoint=False, xp=None):
    """Kronecker matrix-vector products by one mode product per factor.

    ``(A_1 (x) ... (x) A_I) x``, batched.

    Costs ``O(N sum_i M_i)`` for ``N = prod N_i`` (when ``M_i <= N_i``), against
    ``O(prod M_i N_i)`` with the explicit Kronecker matrix, which is never formed.

    Parameters
    ----------
    factors : sequence of arrays of shape (M_i, N_i)
        The Kronecker factors.
    x : array of shape (..., prod N_i)
        Vectors (the last axis), batched over the leading axes.
    adjoint : bool, default=False
        Multiply by the conjugate transpose ``(x)_i A_i^H`` instead (then
        ``x`` has ``prod M_i`` entries on its last axis).
    xp : module, default=None
        Namespace of the arrays (inferred when None).

    Returns
    -------
    y : array of shape (..., prod M_i)
        The products (``prod N_i`` with ``adjoint``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.linalg import kron_matvec
    >>> rng = np.random.RandomState(0)
    >>> A, B = rng.standard_normal((2, 3)), rng.standard_normal((4, 5))
    >>> x = rng.standard_normal(15)
    >>> bool(np.allclose(kron_matvec([A, B], x), np.kron(A, B) @ x))
    True
    """
    factors = _check_factors(factors)
    x = check_numeric(x, "x")
    return _kron_matvec(factors, x, adjoint=adjoint, xp=xp)


def _kron_matvec(factors, x, *, adjoint=False, xp=None):
    """:func:`kron_matvec` without checks (for the hot loops of the estimators)."""
    if xp is None:
        xp, _ = namespace_and_device(x, *factors)
    if adjoint:
        factors = [xp.conj(xp.matrix_transpose(A)) if xp.isdtype(A.dtype, "complex floating")
                   else xp.matrix_transpose(A) for A in factors]
    batch = tuple(x.shape[:-1])
    sizes_in = tuple(int(A.shape[1]) for A in factors)
    if x.shape[-1] != math.prod(sizes_in):
        raise ValueError(
            f"x has {x.shape[-1]} entries on its last axis; the Kronecker product of the "
            f"factors needs {math.prod(sizes_in)}."
        )
    X = xp.reshape(x, batch + sizes_in)
    offset = len(batch)
    for i, A in enumerate(factors):
        X = _mode_product(X, A, offset + i, xp=xp)
    return xp.reshape(X, batch + (math.prod(int(A.shape[0]) for A in factors),))


def kron(factors, *, xp=None):
    """The explicit Kronecker product of the factors (for small sizes and references).

    ``A_1 (x) ... (x) A_I``.

    Parameters
    ----------
    factors : sequence of arrays of shape (M_i, N_i)
        The factors.
    xp : module, default=None
        Namespace of the arrays (inferred when None).

    Returns
    -------
    K : array of shape (prod M_i, prod N_i)
        Equal to ``numpy.kron(A_1, numpy.kron(A_2, ...))``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.linalg import kron
    >>> kron([np.eye(2), np.array([[1.0, 2.0]])])
    array([[1., 2., 0., 0.],
           [0., 0., 1., 2.]])
    """
    return _kron(_check_factors(factors), xp=xp)


def _kron(factors, *, xp=None):
    """:func:`kron` without checks."""
    if xp is None:
        xp, _ = namespace_and_device(*factors)
    K = factors[0]
    for A in factors[1:]:
        m, n = K.shape
        p, q = A.shape
        K = xp.reshape(K[:, None, :, None] * A[None, :, None, :], (m * p, n * q))
    return K


# Helpers of the families' Kronecker algebra (KroSBL, FunBaT and its state-space
# priors), kept here so that each product has one implementation.


def unfold(W, mode, *, xp=None):
    """Mode-``mode`` unfolding ``W_(k)`` of shape ``(r_k, prod_{j != k} r_j)``, C-order.

    Parameters
    ----------
    W : array of shape (r_1, ..., r_K)
        The tensor.
    mode : int
        The mode ``k``.
    xp : module, default=None
        Namespace of ``W`` (inferred when None).

    Returns
    -------
    W_k : array of shape (r_k, prod_{j != k} r_j)
        Columns ordered like ``kron(u^j for j != k)`` (earlier modes slower).

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.linalg._kronecker import unfold
    >>> unfold(np.arange(8.0).reshape(2, 2, 2), 1)
    array([[0., 1., 4., 5.],
           [2., 3., 6., 7.]])
    """
    if xp is None:
        xp, _ = namespace_and_device(W)
    return xp.reshape(xp.moveaxis(W, mode, 0), (W.shape[mode], -1))


def _rowwise_kron(mats, n, xp, dtype, device):
    """Row-wise Kronecker (face-splitting) product of (n, d_j) arrays; ones (n, 1) if none."""
    if not mats:
        return xp.ones((n, 1), dtype=dtype, device=device)
    out = mats[0]
    for B in mats[1:]:
        out = xp.reshape(out[:, :, None] * B[:, None, :], (n, -1))
    return out


def _kron_eye(M, n_components, xp):
    """``kron(M, I_r)`` for a batch of matrices ``M`` of shape (..., d, d)."""
    if n_components == 1:
        return M
    *batch, d, e = M.shape
    eye = xp.eye(n_components, dtype=M.dtype, device=M.device)
    out = M[..., :, None, :, None] * eye[:, None, :]
    return xp.reshape(out, (*batch, d * n_components, e * n_components))


def _kron_vector(vectors, xp):
    """``v_1 (x) ... (x) v_I`` for 1-D arrays."""
    return _kron([v[:, None] for v in vectors], xp=xp)[:, 0]
