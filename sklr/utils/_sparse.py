"""Sparse matrices on every backend: SciPy on the host, ``cupyx.scipy.sparse`` on a GPU."""

import scipy.sparse

from ._namespace import cupy_module, cupyx_module, dispatch, host, via_host

__all__ = ["issparse", "sparse_gram", "sparse_matmul", "sparse_matrix"]


def issparse(x):
    """Whether ``x`` is a SciPy or CuPy sparse matrix/array.

    Parameters
    ----------
    x : object
        Anything.

    Returns
    -------
    sparse : bool
        True for ``scipy.sparse`` and ``cupyx.scipy.sparse`` matrices.
    """
    if scipy.sparse.issparse(x):
        return True
    if type(x).__module__.startswith("cupyx.scipy.sparse"):
        return cupyx_module().scipy.sparse.issparse(x)
    return False


def sparse_matrix(data, indices, indptr, shape, *, format="csc", like=None):
    """Build a CSC or CSR sparse matrix next to the array ``like``.

    SciPy (``csc_array``/``csr_array``) on the host, ``cupyx.scipy.sparse`` for
    CuPy. For other namespaces a SciPy matrix is returned: the products below
    move the dense operand to the host and back.

    Parameters
    ----------
    data, indices, indptr : arrays
        The compressed sparse column (or row) triplet.
    shape : tuple of int
        Shape of the matrix.
    format : {"csc", "csr"}, default="csc"
        Compressed format of the triplet.
    like : array, default=None
        An array whose namespace and device the matrix should follow.

    Returns
    -------
    S : sparse matrix
        The sparse matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._array_api import sparse_matrix
    >>> S = sparse_matrix(np.array([1.0, -1.0]), np.array([1, 0]), np.array([0, 1, 2]), (2, 2))
    >>> S.toarray()
    array([[ 0., -1.],
           [ 1.,  0.]])
    """
    def on_device():
        sparse = cupyx_module().scipy.sparse
        cls = sparse.csc_matrix if format == "csc" else sparse.csr_matrix
        cp = cupy_module()
        return cls((cp.asarray(data), cp.asarray(indices), cp.asarray(indptr)), shape=shape)

    def on_host():
        cls = scipy.sparse.csc_array if format == "csc" else scipy.sparse.csr_array
        return cls(tuple(host(data, indices, indptr)), shape=shape)

    if like is None:
        return on_host()
    return dispatch(like, numpy=on_host, cupy=on_device, other=on_host)


def sparse_matmul(S, A):
    """Dense result of ``S @ A`` for sparse ``S`` and dense or sparse ``A``.

    Parameters
    ----------
    S : sparse matrix of shape (m, n)
        Built by :func:`sparse_matrix` (or any SciPy/CuPy sparse matrix).
    A : array or sparse matrix of shape (n,) or (n, k)
        Right operand.

    Returns
    -------
    SA : array
        Dense product, in the namespace and on the device of ``A`` (NumPy for
        sparse ``A``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._array_api import sparse_matmul, sparse_matrix
    >>> S = sparse_matrix(np.array([1.0, 1.0]), np.array([0, 0]), np.array([0, 1, 2]), (1, 2))
    >>> sparse_matmul(S, np.array([[1.0, 2.0], [3.0, 4.0]]))
    array([[4., 6.]])
    """
    if issparse(A):
        out = S @ A
        return out.toarray() if issparse(out) else out
    return dispatch(
        A,
        numpy=lambda: S @ A,
        cupy=lambda: S @ A,
        other=lambda: via_host(lambda A_np: S @ A_np, A, like=A, dtype=A.dtype),
    )


def sparse_gram(data, rows, cols, shape):
    """Dense ``A^T A`` for the sparse ``A`` given as coordinates.

    Repeated coordinates are added. The product is taken sparse (SciPy) when
    ``A`` has few entries per row, and as a dense matrix product otherwise
    (always for CuPy); other namespaces go through the host and back.
    The sparse product costs about ``m d^2`` scalar steps for ``d`` entries
    per row, the dense one ``2 m n^2`` BLAS flops; the switch counts a
    scalar step as 1300 flops, a weight set from timings of the two
    products (``benchmarks/results/2026-12-05_moved_from_docstrings.md``).

    Parameters
    ----------
    data, rows, cols : arrays of shape (nnz,)
        The entries of ``A`` and their coordinates.
    shape : tuple (m, n)
        Shape of ``A``.

    Returns
    -------
    G : array of shape (n, n)
        ``A^T A``, in the namespace and on the device of ``data``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._array_api import sparse_gram
    >>> sparse_gram(np.array([1.0, 2.0, 3.0]), np.array([0, 0, 1]), np.array([0, 1, 1]), (2, 2))
    array([[ 1.,  2.],
           [ 2., 13.]])
    """
    m, n = shape
    per_row = data.shape[0] / max(m, 1)
    dense_is_cheaper = 1300.0 * per_row**2 > 2.0 * n**2

    def by_dense_product(sparse):
        A = sparse.coo_matrix((data, (rows, cols)), shape=shape).toarray()  # adds repeats
        return A.T @ A

    def by_sparse_product(data, rows, cols):
        A = scipy.sparse.coo_array((data, (rows, cols)), shape=shape).tocsc()
        return (A.T @ A).toarray()

    return dispatch(
        data,
        numpy=lambda: (
            by_dense_product(scipy.sparse) if dense_is_cheaper
            else by_sparse_product(data, rows, cols)
        ),
        cupy=lambda: by_dense_product(cupyx_module().scipy.sparse),
        other=lambda: via_host(by_sparse_product, data, rows, cols, like=data, dtype=data.dtype),
    )
