"""Random numbers for every backend, reproducible from a ``random_state``.

Drawn on the host from ``check_random_state(random_state)`` and copied to the
target device, so NumPy and ``array_api_strict`` give bit-identical results;
large Gaussian draws on a CuPy device use a CuPy generator seeded from the
host one instead (reproducible, but not equal to NumPy's numbers).
"""

import math

import numpy as np
from sklearn.utils import check_random_state

from ._namespace import cupy_module, from_numpy, is_cupy_namespace

__all__ = [
    "random_integers",
    "random_normal",
    "random_signs",
    "random_uniform",
    "row_keyed_uniform",
]

# Above this many numbers, CuPy draws Gaussian matrices on the device from a
# seed taken from the host generator instead of copying them from the host.
_DEVICE_RNG_MIN_SIZE = 1 << 20


def _seed_for_device(random_state):
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


def random_normal(random_state, shape, *, xp, device=None, dtype=None):
    """Standard normal numbers of ``shape`` on ``device``.

    Drawn on the host from ``random_state`` (so NumPy and array_api_strict give
    bit-identical results) and copied over, except for large draws on a CuPy
    device, which use a CuPy generator seeded from ``random_state``: the same
    ``random_state`` then gives reproducible but different numbers than NumPy.

    Parameters
    ----------
    random_state : int, RandomState or Generator instance, or None
        Source of randomness (a NumPy ``Generator`` draws several times
        faster than a ``RandomState``).
    shape : tuple of int
        Shape of the result.
    xp : module
        Target namespace.
    device : object, default=None
        Target device.
    dtype : dtype, default=None
        Target floating dtype (float64 when None).

    Returns
    -------
    z : array
        Standard normal numbers.
    """
    dtype = xp.float64 if dtype is None else dtype
    if is_cupy_namespace(xp) and math.prod(shape) >= _DEVICE_RNG_MIN_SIZE:
        cp = cupy_module()
        seed = (
            int(random_state.integers(np.iinfo(np.int32).max))
            if isinstance(random_state, np.random.Generator)
            else _seed_for_device(random_state)
        )
        with cp.cuda.Device(_cupy_device_id(device)):
            z = cp.random.default_rng(seed).standard_normal(shape, dtype=_numpy_float(dtype))
        return xp.asarray(z)
    if isinstance(random_state, np.random.Generator):
        z = random_state.standard_normal(size=shape, dtype=_numpy_float(dtype))
    else:
        z = check_random_state(random_state).standard_normal(size=shape)
    return from_numpy(z, xp, device, dtype)


def random_uniform(random_state, shape, *, low=0.0, high=1.0, xp, device=None, dtype=None):
    """Uniform numbers on ``[low, high)`` drawn on the host and put on ``device``.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Source of randomness.
    shape : tuple of int
        Shape of the result.
    low, high : float, default=0.0, 1.0
        Bounds of the interval.
    xp : module
        Target namespace.
    device : object, default=None
        Target device.
    dtype : dtype, default=None
        Target floating dtype (float64 when None).

    Returns
    -------
    u : array
        Uniform numbers.
    """
    dtype = xp.float64 if dtype is None else dtype
    u = check_random_state(random_state).uniform(low, high, size=shape)
    return from_numpy(u, xp, device, dtype)


def row_keyed_uniform(key, start, n, *, xp, device=None, dtype=None):
    """Uniform numbers on ``[0, 1)`` for rows ``start .. start + n``, each keyed by its row.

    The number of row ``i`` is the ``i``-th output of a counter-based
    generator (Philox) keyed by ``key``, reached by setting its counter, not
    by drawing the rows before: any split of the rows into blocks, drawn in
    any order or on any machine, gives the same numbers as one draw of all
    the rows.

    Parameters
    ----------
    key : int
        Key of the generator, ``0 <= key < 2**64``.
    start : int
        Index of the first row.
    n : int
        Number of rows.
    xp : module
        Target namespace.
    device : object, default=None
        Target device.
    dtype : dtype, default=None
        Target floating dtype (float64 when None).

    Returns
    -------
    u : array of shape (n,)
        Uniform numbers.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._random import row_keyed_uniform
    >>> whole = row_keyed_uniform(7, 0, 10, xp=np)
    >>> bool(np.array_equal(whole[3:], row_keyed_uniform(7, 3, 7, xp=np)))
    True
    """
    dtype = xp.float64 if dtype is None else dtype
    # Philox gives four 64-bit outputs per counter value: start at the one that holds row `start`.
    generator = np.random.Philox(key=int(key), counter=int(start) // 4)
    skip = int(start) % 4
    raw = generator.random_raw(int(n) + skip)[skip:]
    u = (raw >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return from_numpy(u, xp, device, dtype)


def random_integers(random_state, low, high, shape, *, xp, device=None):
    """Integers in ``[low, high)`` (int64) drawn on the host and put on ``device``.

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Source of randomness.
    low, high : int
        Half-open range.
    shape : tuple of int
        Shape of the result.
    xp : module
        Target namespace.
    device : object, default=None
        Target device.

    Returns
    -------
    k : array of int64
        Random integers.
    """
    k = check_random_state(random_state).randint(low, high, size=shape, dtype=np.int64)
    return from_numpy(k, xp, device)


def random_signs(random_state, shape, *, xp, device=None, dtype=None):
    """Independent Rademacher signs (+1 or -1 with equal probability).

    Parameters
    ----------
    random_state : int, RandomState instance or None
        Source of randomness.
    shape : tuple of int
        Shape of the result.
    xp : module
        Target namespace.
    device : object, default=None
        Target device.
    dtype : dtype, default=None
        Target floating dtype (float64 when None).

    Returns
    -------
    s : array
        Random signs.
    """
    dtype = xp.float64 if dtype is None else dtype
    bits = check_random_state(random_state).randint(0, 2, size=shape, dtype=np.int8)
    return from_numpy((2.0 * bits - 1.0), xp, device, dtype)


def _cupy_device_id(device_):
    return getattr(device_, "id", device_ if isinstance(device_, int) else None)


def _numpy_float(dtype):
    return np.float32 if "float32" in str(dtype) else np.float64
