"""The backend layer: the only package of sklr that knows NumPy from CuPy.

Everything else in sklr receives an array namespace ``xp`` (and a ``device``)
from :func:`namespace_and_device` and uses only the array API standard on it, plus the
helpers below for what the standard lacks. This module gathers the backend's
public surface; the code lives by concern:

* :mod:`sklr.utils._namespace`: namespace and device, transfers to and from
  the host, and :func:`~sklr.utils._namespace.dispatch`, the one branch on the
  array library (NumPy, CuPy, anything else). CuPy is imported lazily, there.
* :mod:`sklr.utils._random`: random numbers, reproducible from ``random_state``.
* :mod:`sklr.utils._dense`: triangular solves, QR, least squares, the DCT,
  ``logsumexp``, scatter-adds and in-place kernels.
* :mod:`sklr.utils._sparse`: sparse matrices and their products.

"Anything else" (``array_api_strict`` in the tests) goes through a host round
trip: correct everywhere, fast only on NumPy and CuPy.
"""

from ._dense import (
    add_to_diagonal,
    dct,
    einsum,
    exp_inplace,
    inner,
    kth_largest,
    log2_histogram,
    logsumexp,
    lstsq,
    qr_r,
    scaled_products,
    segment_sum,
    solve_triangular,
    subtract_outer,
)
from ._namespace import (
    array_library,
    check_same_namespace,
    convergence_check_interval,
    cuda_device_names,
    device,
    move_to,
    namespace_and_device,
    to_numpy,
)
from ._random import (
    random_integers,
    random_normal,
    random_signs,
    random_uniform,
    row_keyed_uniform,
)
from ._sparse import issparse, sparse_gram, sparse_matmul, sparse_matrix

__all__ = [
    "add_to_diagonal",
    "array_library",
    "check_same_namespace",
    "convergence_check_interval",
    "cuda_device_names",
    "device",
    "dct",
    "namespace_and_device",
    "issparse",
    "exp_inplace",
    "inner",
    "kth_largest",
    "log2_histogram",
    "logsumexp",
    "lstsq",
    "move_to",
    "qr_r",
    "random_integers",
    "random_normal",
    "random_signs",
    "random_uniform",
    "row_keyed_uniform",
    "scaled_products",
    "einsum",
    "segment_sum",
    "solve_triangular",
    "sparse_matmul",
    "subtract_outer",
    "sparse_gram",
    "sparse_matrix",
    "to_numpy",
]
