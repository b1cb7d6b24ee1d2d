"""Dense linear algebra and reductions the array API standard lacks.

Each function has a NumPy/SciPy and a CuPy/cupyx implementation, chosen by
:func:`~sklr.utils._namespace.dispatch`; other namespaces go through a host
round trip (or the standard, where it has what is needed).
"""

import math

import numpy as np
import scipy.fft
import scipy.linalg
import scipy.sparse

from ._namespace import (
    cupy_module,
    cupyx_module,
    dispatch,
    namespace_and_device,
    to_numpy,
    via_host,
)

__all__ = [
    "add_to_diagonal",
    "dct",
    "exp_inplace",
    "inner",
    "kth_largest",
    "log2_histogram",
    "logsumexp",
    "lstsq",
    "qr_r",
    "scaled_products",
    "segment_sum",
    "solve_triangular",
    "subtract_outer",
]


def solve_triangular(a, b, *, lower=False, trans=False, xp=None):
    """Solve ``a @ x = b`` (or ``a.T @ x = b`` with ``trans``) for triangular ``a``.

    Parameters
    ----------
    a : array of shape (d, d)
        Triangular matrix.
    b : array of shape (d,) or (d, k)
        Right-hand side(s).
    lower : bool, default=False
        Whether ``a`` is lower (else upper) triangular.
    trans : bool, default=False
        Solve with ``a.T`` instead of ``a``.
    xp : module, default=None
        Namespace of ``a`` and ``b`` (inferred when None).

    Returns
    -------
    x : array like ``b``
        The solution.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._array_api import solve_triangular
    >>> solve_triangular(np.array([[2.0, 1.0], [0.0, 4.0]]), np.array([3.0, 4.0]))
    array([1., 1.])
    """
    trans_code = 1 if trans else 0

    def on_host(a, b):
        return scipy.linalg.solve_triangular(a, b, lower=lower, trans=trans_code, check_finite=False)

    return dispatch(
        a,
        numpy=lambda: on_host(a, b),
        cupy=lambda: cupyx_module().scipy.linalg.solve_triangular(
            a, b, lower=lower, trans=trans_code
        ),
        other=lambda: via_host(on_host, a, b, like=a, dtype=b.dtype, xp=xp),
    )


def qr_r(a):
    """The triangular factor ``R`` of a thin QR decomposition of ``a`` (no ``Q``).

    Skipping the formation of ``Q`` halves the cost; ``R`` of ``[A | b]`` holds
    ``Q^T b`` in its last columns, which is all least squares needs.

    Parameters
    ----------
    a : array of shape (m, d)
        Matrix to factor.

    Returns
    -------
    R : array of shape (min(m, d), d)
        Upper triangular (trapezoidal when ``m < d``) factor, diagonal signs
        unspecified.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._array_api import qr_r
    >>> R = qr_r(np.array([[3.0, 1.0], [4.0, 2.0]]))
    >>> bool(np.allclose(R.T @ R, [[25.0, 11.0], [11.0, 5.0]]))
    True
    """
    return dispatch(
        a,
        numpy=lambda: scipy.linalg.qr(a, mode="r", check_finite=False)[0][: min(a.shape)],
        cupy=lambda: cupy_module().linalg.qr(a, mode="r"),
        other=lambda: namespace_and_device(a)[0].linalg.qr(a)[1],
    )


def lstsq(a, b, *, rcond=None, xp=None):
    """Minimum-norm least-squares solution of ``a @ x = b`` (SVD based).

    Parameters
    ----------
    a : array of shape (m, d)
        Matrix (any shape, any rank).
    b : array of shape (m,) or (m, k)
        Right-hand side(s).
    rcond : float, default=None
        Singular values below ``rcond`` times the largest are treated as zero;
        None uses ``max(m, d) * eps``.
    xp : module, default=None
        Namespace of ``a`` and ``b`` (inferred when None).

    Returns
    -------
    x : array of shape (d,) or (d, k)
        The minimum-norm least-squares solution.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._array_api import lstsq
    >>> lstsq(np.array([[1.0], [1.0]]), np.array([1.0, 3.0]))
    array([2.])
    """
    def on_host(a, b):
        return scipy.linalg.lstsq(a, b, cond=rcond, check_finite=False)[0]

    return dispatch(
        a,
        numpy=lambda: on_host(a, b),
        cupy=lambda: cupy_module().linalg.lstsq(a, b, rcond=rcond)[0],
        other=lambda: via_host(on_host, a, b, like=a, dtype=b.dtype, xp=xp),
    )


def dct(x, *, axis=0, overwrite_x=False):
    """Orthonormal DCT-II along ``axis`` (``scipy.fft`` / ``cupyx.scipy.fft``).

    Uses every core on the host.

    Parameters
    ----------
    x : array
        Real input.
    axis : int, default=0
        Axis along which to transform.
    overwrite_x : bool, default=False
        Allow the transform to reuse (and clobber) the memory of ``x``.

    Returns
    -------
    y : array like ``x``
        The transform, in the namespace and on the device of ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._array_api import dct
    >>> y = dct(np.array([1.0, 2.0, 3.0]))
    >>> bool(np.isclose(np.linalg.norm(y), np.linalg.norm([1.0, 2.0, 3.0])))
    True
    """
    def on_host(x):
        return scipy.fft.dct(x, axis=axis, norm="ortho", overwrite_x=overwrite_x, workers=-1)

    return dispatch(
        x,
        numpy=lambda: on_host(x),
        cupy=lambda: cupyx_module().scipy.fft.dct(
            x, axis=axis, norm="ortho", overwrite_x=overwrite_x
        ),
        other=lambda: via_host(on_host, x, like=x, dtype=x.dtype),
    )


def logsumexp(a, *, axis=None, xp=None):
    """``log(sum(exp(a), axis))`` computed stably.

    Written with the array API standard alone, so one implementation serves
    NumPy, CuPy and every other compliant namespace. Slices of all ``-inf``
    give ``-inf``.

    Parameters
    ----------
    a : array
        Input values.
    axis : int or None, default=None
        Axis to reduce (all axes when None).
    xp : module, default=None
        Namespace of ``a`` (inferred when None).

    Returns
    -------
    out : array
        The reduced log-sum-exp.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._array_api import logsumexp
    >>> float(logsumexp(np.log(np.array([1.0, 2.0, 3.0]))))  # log(6)
    1.791759...
    """
    xp = namespace_and_device(a)[0] if xp is None else xp
    a_max = xp.max(a, axis=axis, keepdims=True)
    a_max = xp.where(xp.isfinite(a_max), a_max, xp.zeros_like(a_max))
    total = xp.sum(xp.exp(a - a_max), axis=axis, keepdims=True)
    positive = total > 0
    log_total = xp.log(xp.where(positive, total, xp.ones_like(total)))
    out = xp.where(positive, log_total + a_max, xp.full_like(total, -math.inf))
    if axis is None:
        return xp.reshape(out, ())
    return xp.squeeze(out, axis=axis)


def add_to_diagonal(A, values):
    """``A + diag(values)``, in place where the backend allows it.

    Parameters
    ----------
    A : array of shape (d, d)
        Square matrix; overwritten for NumPy and CuPy. Use the return value.
    values : array of shape (d,) or float
        Added to the diagonal.

    Returns
    -------
    out : array
        ``A`` itself (NumPy, CuPy) or a new array.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._array_api import add_to_diagonal
    >>> add_to_diagonal(np.ones((2, 2)), np.array([1.0, 2.0]))
    array([[2., 1.],
           [1., 3.]])
    """
    d = A.shape[0]

    def in_place(mod):
        index = mod.arange(d)
        A[index, index] += values
        return A

    def by_eye():
        xp, dev = namespace_and_device(A)
        eye = xp.eye(d, dtype=A.dtype, device=dev)
        return A + eye * (values[None, :] if hasattr(values, "shape") else values)

    return dispatch(
        A, numpy=lambda: in_place(np), cupy=lambda: in_place(cupy_module()), other=by_eye
    )


def exp_inplace(x, *, lower=None, upper=None):
    """``exp(clip(x, lower, upper))``, overwriting ``x`` where the backend allows it.

    NumPy and CuPy compute in place (no temporary the size of ``x``, so no
    extra allocation and memory traffic); other namespaces get a new array.
    A ``lower`` bound just above the underflow threshold keeps NumPy off its
    slow path for results that underflow (timings:
    ``benchmarks/results/2026-12-05_moved_from_docstrings.md``).

    Parameters
    ----------
    x : array
        Exponents; overwritten for NumPy and CuPy. Use the return value.
    lower, upper : float, default=None
        Clip the exponents to these bounds first.

    Returns
    -------
    out : array
        ``x`` itself (NumPy, CuPy) or a new array.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._array_api import exp_inplace
    >>> exp_inplace(np.array([0.0, 1000.0]), upper=0.0)
    array([1., 1.])
    """
    clip = lower is not None or upper is not None

    def in_place(mod):
        if clip:
            mod.clip(x, lower, upper, out=x)
        return mod.exp(x, out=x)

    def new_array():
        xp, _ = namespace_and_device(x)
        return xp.exp(xp.clip(x, min=lower, max=upper) if clip else x)

    return dispatch(
        x, numpy=lambda: in_place(np), cupy=lambda: in_place(cupy_module()), other=new_array
    )


def subtract_outer(f, M, *, out=None):
    """``f[:, None] - M``, written into ``out`` where the backend allows it.

    With ``out`` (an array of ``M``'s shape and dtype), NumPy and CuPy write
    the result there in one pass, with no temporary: a new array of a few
    hundred MB costs far more than the pass itself where every page of it
    is faulted in fresh (timings: ``benchmarks/results/``). Other namespaces
    compute a new array and copy it into ``out``.

    Parameters
    ----------
    f : array of shape (n,)
    M : array of shape (n, m)
    out : array of shape (n, m), default=None
        Overwritten and returned; None: a new array.

    Returns
    -------
    D : array of shape (n, m)
        ``out`` itself, or a new array.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._array_api import subtract_outer
    >>> out = np.empty((2, 2))
    >>> subtract_outer(np.array([1.0, 2.0]), np.array([[0.0, 1.0], [1.0, 0.0]]), out=out) is out
    True
    >>> out
    array([[1., 0.],
           [1., 2.]])
    """
    if out is None:
        return f[:, None] - M

    def copy_in():
        out[...] = f[:, None] - M
        return out

    return dispatch(
        M,
        numpy=lambda: np.subtract(f[:, None], M, out=out),
        cupy=lambda: cupy_module().subtract(f[:, None], M, out=out),
        other=copy_in,
    )


# NumPy: a matrix of more than _ONE_PASS_FROM bytes (more than a processor's last-level
# cache holds) goes through scaled_products by blocks of rows of about _ONE_PASS_BLOCK
# bytes, read from memory once for both of its products.
_ONE_PASS_FROM = 1 << 26
_ONE_PASS_BLOCK = 1 << 23


def scaled_products(K, v, a):
    """``K v``, ``u = a / (K v)`` and ``K^T u``: a Sinkhorn half-iteration and the next product.

    For a NumPy ``K`` larger than a processor's cache would hold, in one pass
    over ``K``: each block of rows gives its share of ``K v`` and ``u`` and,
    while it is still in cache, its share of ``K^T u``. Two separate products
    read ``K`` from memory twice, and sweeping a large matrix is bound by
    memory, not arithmetic (timings: ``benchmarks/results/``). CuPy and other
    namespaces take the two products as they are.

    Parameters
    ----------
    K : array of shape (n, m)
    v : array of shape (m,)
    a : array of shape (n,)

    Returns
    -------
    Kv : array of shape (n,)
    u : array of shape (n,)
        ``a / Kv``.
    KTu : array of shape (m,)

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._array_api import scaled_products
    >>> Kv, u, KTu = scaled_products(np.array([[1.0, 1.0], [0.0, 2.0]]), np.ones(2), np.ones(2))
    >>> Kv, u, KTu
    (array([2., 2.]), array([0.5, 0.5]), array([0.5, 1.5]))
    """

    def separate():
        Kv = K @ v
        u = a / Kv
        return Kv, u, K.T @ u

    def one_pass():
        n, m = K.shape
        if K.nbytes <= _ONE_PASS_FROM or not K.flags.c_contiguous:
            return separate()
        dtype = np.result_type(K, v, a)
        rows = max(1, _ONE_PASS_BLOCK // (m * K.itemsize))
        Kv, u, KTu = np.empty(n, dtype), np.empty(n, dtype), np.zeros(m, dtype)
        for start in range(0, n, rows):
            block, part = K[start:start + rows], slice(start, min(start + rows, n))
            np.matmul(block, v, out=Kv[part])
            np.divide(a[part], Kv[part], out=u[part])
            KTu += u[part] @ block
        return Kv, u, KTu

    return dispatch(K, numpy=one_pass, cupy=separate, other=separate)


def kth_largest(x, k):
    """The ``k``-th largest value of ``x`` (all axes flattened), by partial sort.

    ``numpy.partition`` / ``cupy.partition`` (linear time) where available; a
    full sort elsewhere (the array API standard has no partition).

    Parameters
    ----------
    x : array
        Values.
    k : int
        Rank, ``1 <= k <= x.size``.

    Returns
    -------
    value : float
        The ``k``-th largest entry.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._array_api import kth_largest
    >>> kth_largest(np.array([[3.0, 1.0], [4.0, 2.0]]), 2)
    3.0
    """
    size = math.prod(x.shape)
    if not 1 <= k <= size:
        raise ValueError(f"k must lie in [1, {size}], got {k}.")
    return dispatch(
        x,
        numpy=lambda: float(np.partition(np.reshape(x, (-1,)), size - k)[size - k]),
        cupy=lambda: float(cupy_module().partition(x.ravel(), size - k)[size - k]),
        other=lambda: _kth_largest_by_sort(x, size - k),
    )


def log2_histogram(x, *, bins_per_octave=16):
    """Counts and sums of the entries of a non-negative array in bins of a log2 scale.

    One pass over ``x`` for the bin of every entry and two for the counts and
    sums (no sort, no partition): what a threshold on the entries' sizes,
    or on the mass they leave out, needs before it looks at one bin closely.
    The bins split each octave ``[2^e, 2^(e+1))`` into ``bins_per_octave``
    parts (NumPy and CuPy: by the float's exponent and leading mantissa
    bits, so the parts are equal in the bits, not in value; other
    namespaces: by ``log2``). The bin of an entry never decreases as the
    entry grows; zero and subnormal entries share the lowest bins.

    Parameters
    ----------
    x : array of float32 or float64, non-negative and finite
        The entries.
    bins_per_octave : int, default=16
        A power of two, at most 2^16.

    Returns
    -------
    ids : int array of shape ``(x.size,)``
        The bin of each entry (of ``x`` flattened in C order), in the
        namespace and on the device of ``x``.
    counts : ndarray of shape (n_bins,)
        NumPy array of the entries per bin.
    sums : ndarray of shape (n_bins,)
        NumPy array (float64) of the entries' sum per bin.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._array_api import log2_histogram
    >>> ids, counts, sums = log2_histogram(np.array([0.5, 0.75, 1.0, 3.0]), bins_per_octave=2)
    >>> [int(i) - int(ids[0]) for i in ids]  # 0.75 is in the upper half of 0.5's octave
    [0, 1, 2, 5]
    >>> float(sums[ids[1]]), int(counts.sum())
    (0.75, 4)
    """
    bits = int(bins_per_octave).bit_length() - 1
    if bins_per_octave != 1 << bits or not 0 <= bits <= 16:
        raise ValueError(f"bins_per_octave must be a power of two <= 2^16, got {bins_per_octave}.")

    def by_bits(mod):
        flat = mod.reshape(x, (-1,))
        if flat.dtype == mod.float64:
            ids, n_bins = flat.view(mod.int64) >> (52 - bits), 1 << (11 + bits)
        else:
            ids, n_bins = flat.view(mod.int32) >> (23 - bits), 1 << (8 + bits)
        counts = mod.bincount(ids, minlength=n_bins)
        sums = mod.bincount(ids, weights=flat, minlength=n_bins)
        return ids, counts, sums

    def on_device():
        ids, counts, sums = by_bits(cupy_module())
        return ids, counts.get(), sums.get()

    def by_log2():
        xp, _ = namespace_and_device(x)
        flat = xp.reshape(x, (-1,))
        tiny = xp.finfo(flat.dtype).smallest_normal
        low = math.floor(math.log2(tiny) * bins_per_octave)
        n_bins = math.ceil(math.log2(xp.finfo(flat.dtype).max) * bins_per_octave) - low + 1
        scaled = xp.floor(xp.log2(xp.maximum(flat, tiny)) * bins_per_octave)
        ids = xp.astype(scaled, xp.int64) - low
        host_ids, host_flat = np.asarray(to_numpy(ids)), np.asarray(to_numpy(flat))
        counts = np.bincount(host_ids, minlength=n_bins)
        return ids, counts, np.bincount(host_ids, weights=host_flat, minlength=n_bins)

    return dispatch(x, numpy=lambda: by_bits(np), cupy=on_device, other=by_log2)


def _kth_largest_by_sort(x, index):
    xp, _ = namespace_and_device(x)
    return float(xp.sort(xp.reshape(x, (-1,)))[index])


def einsum(subscripts, *operands):
    """``numpy.einsum`` on the operands' namespace (CuPy's own; a host round trip elsewhere).

    For small batched contractions, such as products of ``(k, k, n)`` stacks
    of small matrices along a trailing batch axis, where it is about twice as
    fast as the equivalent sum of broadcast products.

    Parameters
    ----------
    subscripts : str
        As for ``numpy.einsum`` (explicit output, no ``optimize``).
    *operands : arrays
        Of one namespace and device.

    Returns
    -------
    out : array
        On the operands' namespace and device.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._array_api import einsum
    >>> einsum("ikn,kjn->ijn", np.ones((2, 3, 4)), np.ones((3, 2, 4))).shape
    (2, 2, 4)
    """
    first = operands[0]
    return dispatch(
        first,
        numpy=lambda: np.einsum(subscripts, *operands),
        cupy=lambda: cupy_module().einsum(subscripts, *operands),
        other=lambda: via_host(lambda *a: np.einsum(subscripts, *a), *operands, like=first,
                               dtype=first.dtype),
    )


def inner(a, b):
    """``sum(a * b)`` over every element of two real arrays of one shape, as a Python float.

    One pass and no temporary on NumPy and CuPy (``vdot`` of the flattened
    arrays), where ``float(xp.sum(a * b))`` makes two and allocates the product;
    for the many small reductions of an iterative solver's step.

    Parameters
    ----------
    a, b : arrays
        Real, of one shape, namespace and device.

    Returns
    -------
    value : float

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._array_api import inner
    >>> inner(np.arange(6.0).reshape(2, 3), np.ones((2, 3)))
    15.0
    """
    return float(dispatch(
        a,
        numpy=lambda: np.vdot(a, b),
        cupy=lambda: cupy_module().vdot(a, b),
        other=lambda: namespace_and_device(a)[0].sum(a * b),
    ))


def segment_sum(values, segment_ids, n_segments, *, xp=None):
    """Sum the rows of ``values`` that share a segment id (a scatter-add).

    ``out[k] = sum(values[i] for i where segment_ids[i] == k)``. Repeated ids
    accumulate (unlike ``array_api_extra.at(...).add``).

    Parameters
    ----------
    values : array of shape (n,) or (n, k)
        Values to add up.
    segment_ids : int array of shape (n,)
        Target row of each value, in ``[0, n_segments)``.
    n_segments : int
        Number of output rows.
    xp : module, default=None
        Namespace of ``values`` (inferred when None).

    Returns
    -------
    out : array of shape (n_segments,) or (n_segments, k)
        The segment sums.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._array_api import segment_sum
    >>> segment_sum(np.array([1.0, 2.0, 3.0, 4.0]), np.array([0, 2, 0, 2]), 4)
    array([4., 0., 6., 0.])
    """
    def on_device():
        out = cupy_module().zeros((n_segments,) + values.shape[1:], dtype=values.dtype)
        cupyx_module().scatter_add(out, segment_ids, values)
        return out

    def on_host(values, ids):
        return _segment_sum_numpy(values, np.asarray(ids), n_segments)

    return dispatch(
        values,
        numpy=lambda: on_host(values, segment_ids),
        cupy=on_device,
        other=lambda: via_host(
            on_host, values, segment_ids, like=values, dtype=values.dtype, xp=xp
        ),
    )


def _segment_sum_numpy(values, ids, n_segments):
    if values.ndim == 1:
        return np.bincount(ids, weights=values, minlength=n_segments).astype(values.dtype)
    n = ids.shape[0]
    summer = scipy.sparse.csc_array(
        (np.ones(n, dtype=values.dtype), ids, np.arange(n + 1)), shape=(n_segments, n)
    )
    return np.asarray(summer @ values)
