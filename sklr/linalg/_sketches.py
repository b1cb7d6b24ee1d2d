"""Random sketching operators ``S`` (m x n) applied to tall matrices without forming ``S``.

Each operator draws one integer seed from ``random_state`` when it is built and
regenerates its random signs, indices or Gaussian entries from that seed on
every :meth:`~_BaseSketch.apply`, so the same operator applied to ``A`` and then
to ``b`` is the same matrix ``S``. The sparse and Gaussian sketches draw the
column of ``S`` that meets row ``i`` from a generator keyed by the seed and
``i // rows_per_key``: ``S @ A`` is then the sum of ``S[:, rows] @ A[rows]``
over any split of the rows into blocks (:class:`RowKeyedSketch`), which is what
``partial_fit`` and Dask's row blocks need. The random numbers are drawn on the host, so
NumPy and array_api_strict inputs see bit-identical sketches; CuPy inputs see the
same signs and indices (and, for large Gaussian blocks, numbers drawn on the
device from the same seed).
"""

import math
import numbers
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from ..utils._array_api import (
    dct,
    device,
    issparse,
    namespace_and_device,
    random_integers,
    random_normal,
    random_signs,
    segment_sum,
    sparse_matmul,
    sparse_matrix,
    to_numpy,
)
from ..utils._validation import Interval, StrOptions, validate_params
from ._checks import check_matrix

__all__ = [
    "SRHT",
    "CountSketch",
    "GaussianSketch",
    "RowKeyedSketch",
    "SparseSignSketch",
    "draw_seed",
    "grouped_sparse_sign_matrix",
    "make_sketch",
    "theoretical_sketch_size",
]

# Opt-in pre-stage (n_buckets="auto"): a CountSketch into BUCKETS_PER_ROW * m
# rows before the dense sketches, when n exceeds PRESTAGE_MIN_RATIO times that.
BUCKETS_PER_ROW = 32
PRESTAGE_MIN_RATIO = 2

# Row-keyed draws: one generator, keyed by (seed, stream, key), draws the columns of S
# for _HASHED_ROWS_PER_KEY rows of a sparse sketch (a few hundred kB of integers), or
# for _GAUSSIAN_ELEMENTS_PER_KEY // m rows of a Gaussian one (8 MB in float64, which
# bounds its memory). Building a generator costs about 30 us, negligible per key.
_HASHED_ROWS_PER_KEY = 1 << 12
_GAUSSIAN_ELEMENTS_PER_KEY = 1 << 20

# Streams of the keyed generators, one per use.
_SPARSE_STREAM, _PRESTAGE_STREAM, _GAUSSIAN_STREAM = 0, 1, 3


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "eps": [Interval(Real, 0, None, closed="neither")],
        "delta": [Interval(Real, 0, 1, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def theoretical_sketch_size(n_samples, n_features, *, eps=1.0, delta=0.01):
    """Sketch size ``m = eps**-2 * d * log(n / delta)**3`` from Song et al. (2023).

    The paper proves that a dense sketch with this many rows (up to constants
    it does not state) gives the l_inf guarantee with probability
    ``1 - delta``. At practical sizes it exceeds ``n_samples``: with
    ``n = 10**6, d = 100, eps = 1`` it is 625,054 rows. It is offered for
    completeness; the default rule of thumb of :class:`SketchedRegressor`
    is far smaller and measured to be accurate.

    Parameters
    ----------
    n_samples : int
        Number of rows ``n`` of the design.
    n_features : int
        Number of columns ``d``.
    eps : float, default=1.0
        Accuracy parameter of the guarantee.
    delta : float, default=0.01
        Failure probability.

    Returns
    -------
    m : int
        The number of sketch rows (natural logarithm, no constant).

    Examples
    --------
    >>> from sklr.linalg import theoretical_sketch_size
    >>> theoretical_sketch_size(10**6, 100)
    625054
    """
    return math.ceil(n_features * math.log(n_samples / delta) ** 3 / eps**2)


def draw_seed(random_state):
    """The integer seed a sketch draws from ``random_state`` (one draw from it).

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Source of the seed.

    Returns
    -------
    seed : int
        In ``[0, 2**31 - 1)``.
    """
    try:
        rng = check_random_state(random_state)
    except ValueError as exc:
        raise ValueError(f"random_state: {exc}") from exc
    return int(rng.randint(np.iinfo(np.int32).max))


def _keyed_rng(seed, stream, key):
    return np.random.default_rng((seed, stream, key))


def _keyed_blocks(start, stop, rows_per_key):
    """``(key, lo, hi)``: rows ``key * rows_per_key + lo .. + hi`` cover ``start..stop`` in order."""
    for key in range(start // rows_per_key, (stop - 1) // rows_per_key + 1):
        first = key * rows_per_key
        yield key, max(start - first, 0), min(stop - first, rows_per_key)


def _check_int(value, name, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an int, got {value!r}.")
    if value < low:
        raise ValueError(f"{name} must be >= {low}, got {value}.")
    return int(value)


class _BaseSketch:
    """A random linear map from R^n to R^m (``n_samples`` to ``n_components``)."""

    def __init__(self, n_samples, n_components, *, random_state=None):
        self.n_samples = _check_int(n_samples, "n_samples", 1)
        self.n_components = _check_int(n_components, "n_components", 1)
        self.random_state = random_state
        self.seed = draw_seed(random_state)

    def _rng(self, stream=0):
        """The generator of the sketch's stream ``stream``: one ``SeedSequence`` of (seed, stream)."""
        return np.random.default_rng((self.seed, stream))

    def row_keyed(self):
        """The :class:`RowKeyedSketch` this operator applies to all its rows, or None.

        None for a sketch that mixes the rows (the SRHT, or any dense sketch
        behind a CountSketch pre-stage): it cannot be summed over row blocks.
        """

    def apply(self, A, *, row_scale=None):
        """Return ``S @ diag(row_scale) @ A`` as a dense array.

        Parameters
        ----------
        A : array or sparse matrix of shape (n_samples,) or (n_samples, k)
            The matrix to sketch (NumPy, CuPy or any array API array; SciPy
            sparse matrices are accepted).
        row_scale : array of shape (n_samples,), default=None
            Optional weights that multiply the rows of ``A`` first (the square
            roots of sample weights, say); folded into the sketch, no copy of
            ``A`` is made for them.

        Returns
        -------
        SA : array of shape (n_components,) or (n_components, k)
            The sketch, in the namespace and on the device of ``A`` (NumPy for
            sparse ``A``).
        """
        return self.apply_many([A], row_scales=[row_scale])[0]

    def apply_many(self, arrays, *, row_scales=None):
        """Apply the same ``S`` to several matrices, in one pass where that saves work.

        Parameters
        ----------
        arrays : list of arrays or sparse matrices with ``n_samples`` rows
            The matrices to sketch.
        row_scales : list of arrays of shape (n_samples,) or None, default=None
            One optional row weighting per matrix (see :meth:`apply`).

        Returns
        -------
        sketches : list of arrays
            ``S @ diag(row_scale) @ A`` for each matrix.
        """
        if isinstance(arrays, str) or not isinstance(arrays, (list, tuple)):
            raise TypeError(f"arrays must be a list of arrays, got {type(arrays).__name__}.")
        if row_scales is None:
            row_scales = [None] * len(arrays)
        elif len(row_scales) != len(arrays):
            raise ValueError(f"row_scales must have one entry per array ({len(arrays)}), got "
                             f"{len(row_scales)}.")
        name = "A" if len(arrays) == 1 else "arrays"
        checked, scales = [], []
        for A, row_scale in zip(arrays, row_scales):
            A = check_matrix(A, name, ndim=(1, 2), accept_sparse=True)
            if A.shape[0] != self.n_samples:
                raise ValueError(f"{name} has an array of {A.shape[0]} rows but the sketch was "
                                 f"built for n_samples={self.n_samples}." if name == "arrays" else
                                 f"A has {A.shape[0]} rows but the sketch was built for "
                                 f"n_samples={self.n_samples}.")
            if row_scale is not None:
                xp, dev = namespace_and_device(A)
                row_scale = check_matrix(row_scale, "row_scale", ndim=1)
                row_scale = xp.asarray(row_scale, dtype=_xp_float(A, xp), device=dev)
            checked.append(A)
            scales.append(row_scale)
        return self._sketch_many(checked, scales)

    def _sketch_many(self, arrays, row_scales):
        """:meth:`apply_many` on arrays already checked (finite, real, 1-D or 2-D)."""
        mats, one_d = [], []
        for A, row_scale in zip(arrays, row_scales):
            if A.shape[0] != self.n_samples:
                raise ValueError(
                    f"A has {A.shape[0]} rows but the sketch was built for "
                    f"n_samples={self.n_samples}."
                )
            if row_scale is not None and tuple(row_scale.shape) != (self.n_samples,):
                raise ValueError(
                    f"row_scale must have shape ({self.n_samples},), got "
                    f"{tuple(row_scale.shape)}."
                )
            one_d.append(len(A.shape) == 1)
            mats.append(namespace_and_device(A)[0].reshape(A, (-1, 1)) if one_d[-1] else A)
        outs = self._apply_many(mats, row_scales)
        return [namespace_and_device(o)[0].reshape(o, (-1,)) if flat else o
                for o, flat in zip(outs, one_d)]

    def __matmul__(self, A):
        return self.apply(A)

    def to_dense(self, *, dtype=np.float64):
        """The sketch as a dense NumPy matrix (for inspection on small ``n``).

        Parameters
        ----------
        dtype : dtype, default=np.float64
            Dtype of the matrix.

        Returns
        -------
        S : ndarray of shape (n_components, n_samples)
            The explicit sketching matrix.
        """
        return to_numpy(self.apply(np.eye(self.n_samples, dtype=dtype)))

    def __repr__(self):
        return (
            f"{type(self).__name__}(n_samples={self.n_samples}, "
            f"n_components={self.n_components}, random_state={self.random_state!r})"
        )


def _hashed_columns(seed, stream, start, stop, n_rows, nnz_per_col):
    """Rows and signs of the columns ``start..stop`` of a sparse sketch, keyed by column index.

    ``nnz_per_col`` signed entries per column fall in distinct blocks of rows
    (block OSNAP), so a column never hits the same row twice.
    """
    s = min(nnz_per_col, n_rows)
    block = n_rows // s
    rows, signs = [], []
    for key, lo, hi in _keyed_blocks(start, stop, _HASHED_ROWS_PER_KEY):
        rng = _keyed_rng(seed, stream, key)
        rows.append(rng.integers(0, block, size=(_HASHED_ROWS_PER_KEY, s))[lo:hi])
        signs.append(rng.integers(0, 2, size=(_HASHED_ROWS_PER_KEY, s), dtype=np.int8)[lo:hi])
    rows = np.concatenate(rows) + block * np.arange(s)
    values = (2.0 * np.concatenate(signs) - 1.0) / math.sqrt(s)
    return rows, values


def _countsketch_matrix(n_rows, n_cols, seed, stream, row_scale, like, dtype, nnz_per_col=1,
                        start=0):
    """Sparse ``S[:, start:start + n_cols]`` (``n_rows`` rows) with ``nnz_per_col`` signs per column."""
    rows, values = _hashed_columns(seed, stream, start, start + n_cols, n_rows, nnz_per_col)
    return _sparse_columns(rows, values, n_rows, row_scale, like, dtype)


def _sparse_columns(rows, values, n_rows, row_scale, like, dtype):
    n_cols, s = rows.shape
    if row_scale is not None:
        values = values * to_numpy(row_scale)[:, None]
    indptr = np.arange(0, s * n_cols + 1, s)
    return sparse_matrix(
        values.astype(dtype, copy=False).ravel(), rows.ravel(), indptr,
        (n_rows, n_cols), format="csc", like=like,
    )


class RowKeyedSketch:
    """The columns of a sparse or Gaussian sketch, each drawn from its row's index.

    Column ``i`` of ``S`` (the one that meets row ``i`` of ``A``) is drawn by a
    generator keyed by ``(seed, i // rows_per_key)``, so it does not depend on
    which other rows are sketched with it: for any split of the rows of ``A``
    into blocks, ``S @ A`` is the sum of ``S[:, block] @ A[block]``, in any
    order (up to rounding). :class:`CountSketch`, :class:`SparseSignSketch`
    and :class:`GaussianSketch` apply it to all their rows; ``partial_fit``
    and Dask blocks apply it to theirs.

    Parameters
    ----------
    kind : {"countsketch", "sparse_sign", "gaussian"}
        The sketch.
    n_components : int
        Number of rows ``m`` of ``S``.
    seed : int
        Seed of the keyed generators (:func:`draw_seed`).
    sparsity : int, default=8
        Nonzeros per column of ``"sparse_sign"``.
    """

    kinds = ("countsketch", "sparse_sign", "gaussian")

    def __init__(self, kind, n_components, seed, *, sparsity=8):
        self.kind, self.n_components, self.seed, self.sparsity = (
            kind, n_components, seed, sparsity)

    def apply_rows(self, arrays, row_scales, start):
        """``S[:, start:start + n] @ diag(row_scale) @ A`` for each 2-D ``A`` of ``n`` rows.

        Parameters
        ----------
        arrays : list of arrays or sparse matrices of shape (n, k_i)
            Rows ``start .. start + n`` of the matrices to sketch.
        row_scales : list of arrays of shape (n,) or None
            One optional row weighting per matrix.
        start : int
            Index of the first row.

        Returns
        -------
        sketches : list of arrays of shape (n_components, k_i)
        """
        if self.kind == "gaussian":
            dense = [A.toarray() if issparse(A) else A for A in arrays]
            return _gaussian_rows(self.seed, self.n_components, dense, row_scales, start)
        nnz = 1 if self.kind == "countsketch" else self.sparsity
        rows, values = _hashed_columns(self.seed, _SPARSE_STREAM, start,
                                       start + arrays[0].shape[0], self.n_components, nnz)
        return [
            sparse_matmul(_sparse_columns(rows, values, self.n_components, r, A, _dtype_of(A)), A)
            for A, r in zip(arrays, row_scales)
        ]


def _gaussian_rows(seed, m, arrays, row_scales, start):
    """Gaussian ``S[:, start:start + n] @ diag(r) @ B``: one keyed block of ``S`` serves every ``B``.

    The random numbers, not the products, dominate the cost on a CPU.
    """
    xp, dev = namespace_and_device(arrays[0])
    n = arrays[0].shape[0]
    per_key = max(1, _GAUSSIAN_ELEMENTS_PER_KEY // m)
    outs, done = [None] * len(arrays), 0
    for key, lo, hi in _keyed_blocks(start, start + n, per_key):
        G = random_normal(_keyed_rng(seed, _GAUSSIAN_STREAM, key), (m, per_key), xp=xp,
                          device=dev, dtype=arrays[0].dtype)[:, lo:hi]
        rows = slice(done, done + hi - lo)
        done += hi - lo
        for i, (B, row_scale) in enumerate(zip(arrays, row_scales)):
            Gi = G if row_scale is None else G * row_scale[rows]
            part = Gi @ B[rows, ...]
            outs[i] = part if outs[i] is None else outs[i] + part
    return [out / math.sqrt(m) for out in outs]


def _xp_float(A, xp):
    """The floating dtype of ``A`` in ``xp`` (float64 for sparse or integer input)."""
    dtype = getattr(A, "dtype", None)
    if issparse(A) or dtype is None or not xp.isdtype(dtype, "real floating"):
        return xp.float64
    return dtype


def _dtype_of(A):
    dtype = getattr(A, "dtype", np.float64)
    try:
        return np.dtype(str(dtype)) if np.dtype(str(dtype)).kind == "f" else np.float64
    except TypeError:
        return np.float64


class CountSketch(_BaseSketch):
    """CountSketch: each row of ``A`` is added, with a random sign, to one random row.

    ``S`` has one nonzero (+1 or -1) per column. Applying it costs
    ``O(nnz(A))``, the cheapest subspace embedding, but it needs about
    ``d**2`` rows for a guarantee and, as Song et al. (2023) prove, it cannot
    give the l_inf guarantee of dense sketches: it is kept as a baseline (a
    negative control) and as a fast pre-stage for the dense sketches.

    Parameters
    ----------
    n_samples : int
        Number of rows ``n`` of the matrices it will be applied to.
    n_components : int
        Number of rows ``m`` of the sketch.
    random_state : int, RandomState instance or None, default=None
        Seed of the random hashing and signs.

    See Also
    --------
    SparseSignSketch : several nonzeros per column, a better embedding.
    SRHT : dense, fast, with the l_inf guarantee.

    References
    ----------
    Clarkson, K. L. and Woodruff, D. P. "Low-rank approximation and regression
    in input sparsity time." J. ACM 63(6), 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.linalg import CountSketch
    >>> A = np.random.RandomState(0).standard_normal((1000, 3))
    >>> S = CountSketch(1000, 300, random_state=0)
    >>> S.apply(A).shape
    (300, 3)
    """

    def row_keyed(self):
        return RowKeyedSketch("countsketch", self.n_components, self.seed)

    def _apply_many(self, arrays, row_scales):
        return self.row_keyed().apply_rows(arrays, row_scales, 0)


class SparseSignSketch(_BaseSketch):
    """Sparse sign embedding: ``sparsity`` random signs per column of ``S``.

    Each column of ``S`` holds ``sparsity`` entries ``+-1/sqrt(sparsity)`` in
    distinct rows (one in each of ``sparsity`` blocks, as in block OSNAP).
    Applying it costs ``O(sparsity * nnz(A))``. With ``sparsity = 8`` (the
    default of the PARLA library) it behaves like a Gaussian sketch in practice.

    Parameters
    ----------
    n_samples : int
        Number of rows ``n`` of the matrices it will be applied to.
    n_components : int
        Number of rows ``m`` of the sketch.
    sparsity : int, default=8
        Nonzeros per column (capped at ``n_components``).
    random_state : int, RandomState instance or None, default=None
        Seed of the random positions and signs.

    See Also
    --------
    CountSketch : one nonzero per column.

    References
    ----------
    Nelson, J. and Nguyen, H. L. "OSNAP: Faster numerical linear algebra
    algorithms via sparser subspace embeddings." FOCS 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.linalg import SparseSignSketch
    >>> S = SparseSignSketch(1000, 100, sparsity=4, random_state=0)
    >>> int((S.to_dense() != 0).sum(axis=0).max())
    4
    """

    def __init__(self, n_samples, n_components, *, sparsity=8, random_state=None):
        super().__init__(n_samples, n_components, random_state=random_state)
        self.sparsity = _check_int(sparsity, "sparsity", 1)

    def row_keyed(self):
        return RowKeyedSketch("sparse_sign", self.n_components, self.seed,
                              sparsity=self.sparsity)

    def _apply_many(self, arrays, row_scales):
        return self.row_keyed().apply_rows(arrays, row_scales, 0)


class _DenseSketch(_BaseSketch):
    """Dense sketches, optionally after a CountSketch pre-stage into ``n_buckets`` rows."""

    def __init__(self, n_samples, n_components, *, n_buckets=None, random_state=None):
        super().__init__(n_samples, n_components, random_state=random_state)
        if n_buckets == "auto":
            n_buckets = BUCKETS_PER_ROW * self.n_components
            if self.n_samples < PRESTAGE_MIN_RATIO * n_buckets:
                n_buckets = None
        elif n_buckets is not None:
            n_buckets = _check_int(n_buckets, "n_buckets", self.n_components)
            if n_buckets >= self.n_samples:
                n_buckets = None
        self.n_buckets = n_buckets

    def _apply_many(self, arrays, row_scales):
        if self.n_buckets is not None:
            staged = [
                sparse_matmul(_countsketch_matrix(
                    self.n_buckets, self.n_samples, self.seed, _PRESTAGE_STREAM, r, A,
                    _dtype_of(A)), A)
                for A, r in zip(arrays, row_scales)
            ]
            return self._dense_apply_many(staged, [None] * len(staged), prestaged=True)
        dense = [A.toarray() if issparse(A) else A for A in arrays]
        return self._dense_apply_many(dense, row_scales, prestaged=False)

    def _dense_apply_many(self, arrays, row_scales, prestaged):
        return [self._dense_apply(B, r, prestaged) for B, r in zip(arrays, row_scales)]


class SRHT(_DenseSketch):
    """Subsampled randomized trigonometric transform ``S = sqrt(n/m) P H D``.

    ``D`` is a random sign diagonal, ``H`` the orthonormal DCT-II (the real
    trigonometric transform used by Blendenpik, in place of the
    Walsh-Hadamard matrix: no padding to a power of two, ``scipy.fft`` and
    ``cupyx.scipy.fft`` provide it) and ``P`` keeps ``m`` of the ``n`` rows,
    chosen uniformly without replacement. It is the dense sketch of Song et
    al. (2023), applied in ``O(n d log n)``.

    Optional pre-stage (a deviation from the paper, off by default): with
    ``n_buckets`` set, the rows are first hashed by a CountSketch into
    ``n_buckets`` rows (``"auto"``: ``32 m`` when ``n >= 64 m``) and the
    transform runs on those, several times faster for very tall ``A``. The
    composed map is still dense and typical errors are unchanged, but two
    high-leverage rows hashed into one bucket lose a direction, as with a
    sparse sketch: on a design whose ``d`` rows carry all the leverage this
    happens with probability about ``d**2 / (2 n_buckets)``. So the default,
    ``n_buckets=None``, is the paper's pure transform.

    Parameters
    ----------
    n_samples : int
        Number of rows ``n`` of the matrices it will be applied to.
    n_components : int
        Number of rows ``m`` of the sketch.
    n_buckets : "auto", int or None, default=None
        Rows of the optional CountSketch pre-stage; ``None`` disables it.
    random_state : int, RandomState instance or None, default=None
        Seed of the signs, the sampled rows and the pre-stage.

    See Also
    --------
    GaussianSketch : i.i.d. Gaussian entries.

    References
    ----------
    Song, Z., Ye, M., Yin, J. and Zhang, L. "A Nearly-Optimal Bound for Fast
    Regression with l_inf Guarantee." ICML 2023.

    Avron, H., Maymounkov, P. and Toledo, S. "Blendenpik: Supercharging
    LAPACK's least-squares solver." SIAM J. Sci. Comput. 32(3), 2010.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.linalg import SRHT
    >>> S = SRHT(64, 64, random_state=0).to_dense()  # m = n: an orthogonal map
    >>> bool(np.allclose(S @ S.T, np.eye(64)))
    True
    """

    def __init__(self, n_samples, n_components, *, n_buckets=None, random_state=None):
        super().__init__(n_samples, n_components, n_buckets=n_buckets, random_state=random_state)
        if self.n_buckets is None and self.n_components > self.n_samples:
            raise ValueError(
                f"n_components={self.n_components} must be <= n_samples={self.n_samples}: the "
                "SRHT keeps n_components of the n_samples transformed rows."
            )

    def _dense_apply(self, B, row_scale, prestaged):
        xp, _ = namespace_and_device(B)
        n_rows = B.shape[0]
        rng = self._rng(2)
        if prestaged:  # the CountSketch signs already randomize the rows
            scale = None
        else:
            signs = 2.0 * rng.integers(0, 2, size=n_rows) - 1.0
            scale = xp.asarray(signs, device=device(B), dtype=B.dtype)
            if row_scale is not None:
                scale = scale * row_scale
        rows = rng.choice(n_rows, size=self.n_components, replace=False)
        # Transform along the rows of B.T. For C-ordered B this is as fast as axis 0 of B
        # (timings: benchmarks/results/2026-12-05_moved_from_docstrings.md); making B.T
        # contiguous first costs more than it saves.
        Bt = B.T * scale if scale is not None else xp.asarray(B.T, copy=True)
        Ht = dct(Bt, axis=-1, overwrite_x=True)
        rows = xp.asarray(rows, device=device(B))
        # rows of Ht.T, not columns of Ht: NumPy's take along the strided axis is far slower
        return xp.take(Ht.T, rows, axis=0) * math.sqrt(n_rows / self.n_components)


class GaussianSketch(_DenseSketch):
    """Gaussian sketch: ``S`` has i.i.d. ``N(0, 1/m)`` entries.

    The classical dense sketch; applying it costs ``O(m n d)`` (one matrix
    product, generated in blocks to bound memory), so on a CPU it is for
    moderate ``n``, or for a GPU. The same optional CountSketch pre-stage as
    :class:`SRHT` (``n_buckets``) makes it affordable for very tall ``A``.

    Parameters
    ----------
    n_samples : int
        Number of rows ``n`` of the matrices it will be applied to.
    n_components : int
        Number of rows ``m`` of the sketch.
    n_buckets : "auto", int or None, default=None
        Rows of the optional CountSketch pre-stage; ``None`` disables it.
    random_state : int, RandomState instance or None, default=None
        Seed of the Gaussian entries.

    See Also
    --------
    SRHT : a dense sketch applied in ``O(n d log n)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.linalg import GaussianSketch
    >>> S = GaussianSketch(2000, 500, random_state=0).to_dense()
    >>> round(float(S.var() * 500), 1)
    1.0
    """

    def row_keyed(self):
        if self.n_buckets is not None:
            return None
        return RowKeyedSketch("gaussian", self.n_components, self.seed)

    def _dense_apply_many(self, arrays, row_scales, prestaged):
        return _gaussian_rows(self.seed, self.n_components, arrays, row_scales, 0)


_SKETCHES = {
    "srht": SRHT,
    "gaussian": GaussianSketch,
    "countsketch": CountSketch,
    "sparse_sign": SparseSignSketch,
}


@validate_params(
    {
        "kind": [StrOptions(set(_SKETCHES))],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_sketch(kind, n_samples, n_components, *, random_state=None, **params):
    """Build a sketching operator by name.

    Parameters
    ----------
    kind : {"srht", "gaussian", "countsketch", "sparse_sign"}
        Which sketch.
    n_samples : int
        Number of rows ``n`` of the matrices it will be applied to.
    n_components : int
        Number of rows ``m`` of the sketch.
    random_state : int, RandomState instance or None, default=None
        Seed.
    **params : dict
        Extra parameters of the operator (``n_buckets`` for the dense
        sketches, ``sparsity`` for ``"sparse_sign"``).

    Returns
    -------
    S : sketching operator
        An object with ``apply(A, row_scale=None)`` and ``S @ A``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.linalg import make_sketch
    >>> S = make_sketch("sparse_sign", 500, 50, random_state=0)
    >>> (S @ np.ones((500, 2))).shape
    (50, 2)
    """
    return _SKETCHES[kind](n_samples, n_components, random_state=random_state, **params)


def grouped_sparse_sign_matrix(group, column, indptr, n_columns, sketch_size, sparsity,
                               random_state, *, dtype, xp=None):
    """One sparse-sign sketch per group of rows, all in one sparse matrix.

    The rows of a tall matrix come in groups: row ``t`` belongs to group
    ``group[t]`` (sorted, group ``g`` owning rows ``indptr[g]:indptr[g + 1]``)
    and is row ``column[t]`` of a matrix ``F``, so group ``g``'s matrix is
    ``A_g = F[column[indptr[g]:indptr[g + 1]]]``. The result ``T`` satisfies
    ``T @ F = [S_0 A_0; S_1 A_1; ...]``, each ``S_g`` a ``sketch_size``-row
    sparse-sign sketch: every row of ``A_g`` is hashed to ``sparsity`` of its
    rows (drawn independently, so two may coincide) with random signs
    ``+-1/sqrt(sparsity)``, a sparse subspace embedding. A group of at most
    ``sketch_size`` rows is copied instead (``S_g A_g`` holds ``A_g`` and
    zero rows), so a preconditioner built from it is exact.

    It differs from :class:`SparseSignSketch`, one sketch of one matrix with
    its nonzeros in distinct blocks, in the per-group structure and the
    copied small groups; its random numbers come from ``random_state``
    directly (positions first, then signs), through the backend's generators.

    Parameters
    ----------
    group : int array of shape (n_rows,)
        The group of each row, sorted.
    column : int array of shape (n_rows,)
        The row of ``F`` that each row is (a column of ``T``).
    indptr : int array of shape (n_groups + 1,)
        Where each group's rows start, as in CSR.
    n_columns : int
        Number of rows of ``F`` (columns of ``T``).
    sketch_size : int
        Rows of each group's sketch.
    sparsity : int
        Nonzeros per row of a sketched group.
    random_state : int, RandomState instance or None
        Source of the positions and signs.
    dtype : dtype
        Floating dtype of ``T``.
    xp : namespace or None, default=None
        The array-API namespace of ``group``, ``column`` and ``indptr``
        (as :func:`sklr.utils._array_api.namespace_and_device` returns it); found
        from ``column`` when None.

    Returns
    -------
    T : sparse matrix of shape (n_groups * sketch_size, n_columns)
        CSR, in the backend's sparse format for ``xp``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.linalg._sketches import grouped_sparse_sign_matrix
    >>> group, column = np.array([0, 0, 1, 1, 1]), np.array([0, 2, 0, 1, 2])
    >>> indptr = np.array([0, 2, 5])
    >>> T = grouped_sparse_sign_matrix(group, column, indptr, 3, 2, 2, 0, dtype=np.float64)
    >>> T.shape  # two rows per group; group 0 (2 rows) is copied
    (4, 3)
    >>> T.toarray()[:2]
    array([[1., 0., 0.],
           [0., 0., 1.]])
    """
    if xp is None:
        xp, _ = namespace_and_device(column)
    dev = device(column)
    n_rows, n_groups = column.shape[0], indptr.shape[0] - 1
    s, z = sketch_size, sparsity
    start = xp.take(indptr, group)
    position = xp.arange(n_rows, dtype=xp.int64, device=dev) - start
    small = xp.take(indptr[1:] - indptr[:-1], group) <= s
    buckets = random_integers(random_state, 0, s, (n_rows, z), xp=xp, device=dev)
    signs = random_signs(random_state, (n_rows, z), xp=xp, device=dev, dtype=dtype)
    first = xp.where(small, position, buckets[:, 0])
    buckets = xp.concat([first[:, None], buckets[:, 1:]], axis=1)
    value_big = signs * (1.0 / math.sqrt(z))
    value_small = xp.concat(
        [xp.ones((n_rows, 1), dtype=dtype, device=dev),
         xp.zeros((n_rows, z - 1), dtype=dtype, device=dev)], axis=1)
    values = xp.where(small[:, None], value_small, value_big)
    rows = xp.reshape(group[:, None] * s + buckets, (-1,))
    cols = xp.reshape(xp.broadcast_to(column[:, None], (n_rows, z)), (-1,))
    values = xp.reshape(values, (-1,))
    order = xp.argsort(rows, stable=True)
    rows, cols, values = xp.take(rows, order), xp.take(cols, order), xp.take(values, order)
    ones = xp.ones(rows.shape, dtype=dtype, device=dev)
    counts = xp.astype(xp.round(segment_sum(ones, rows, n_groups * s, xp=xp)), xp.int64)
    indptr_T = xp.cumulative_sum(counts, include_initial=True)
    return sparse_matrix(values, cols, indptr_T, (n_groups * s, n_columns), format="csr",
                         like=values)
