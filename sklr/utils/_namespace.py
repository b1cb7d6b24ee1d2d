"""Array namespace, device and transfers; the one dispatch on the array library.

The backend's ground: :func:`namespace_and_device` finds the namespace and device of
the inputs (through scikit-learn, so that ``array_api_dispatch`` is honoured),
:func:`to_numpy` / :func:`from_numpy` move arrays to the host and back, and
:func:`dispatch` is the only place in sklr that branches on the array library
(NumPy, CuPy, anything else). CuPy is imported lazily and only here.

Why scikit-learn's helpers and not ``array_api_compat`` directly
-----------------------------------------------------------------
Namespace resolution is delegated to scikit-learn's private but maintained
``sklearn.utils._array_api.get_namespace_and_device``. It honours
``sklearn.set_config(array_api_dispatch=True)`` (with dispatch off every input
is NumPy, exactly as in scikit-learn), ignores sparse matrices and non-array
inputs so that ``validate_data`` can raise scikit-learn's own error messages,
and returns scikit-learn's vendored ``array_api_compat`` namespaces, which are
the ones ``move_to`` and ``check_same_namespace`` expect. Calling the installed
``array_api_compat.array_namespace`` instead fails four of scikit-learn's
common checks and ignores the dispatch switch. These private helpers come
through :mod:`sklr.utils._sklearn_compat`. Array *type* predicates come from
the installed ``array_api_compat``: they are safe whichever copy answers.
"""

import numpy as np
from array_api_compat import is_cupy_array, is_numpy_array

from ._sklearn_compat import (
    _convert_to_numpy,
    check_same_namespace,
    get_namespace_and_device,
    move_to,
)
from ._sklearn_compat import sklearn_device as _sk_device

__all__ = [
    "array_library",
    "check_same_namespace",
    "convergence_check_interval",
    "cuda_device_names",
    "device",
    "dispatch",
    "from_numpy",
    "namespace_and_device",
    "move_to",
    "to_numpy",
    "via_host",
]


def namespace_and_device(*arrays):
    """Return ``(xp, device)`` of the inputs.

    Named apart from scikit-learn's ``get_namespace``, which returns
    ``(xp, is_array_api_compliant)``: code that knows one meets no surprise
    from the other.

    Honours ``sklearn.get_config()["array_api_dispatch"]``: with dispatch off,
    ``xp`` is NumPy (scikit-learn's compatible wrapper) and ``device`` is
    ``"cpu"``. ``None``, sparse matrices and non-array inputs are ignored.

    Parameters
    ----------
    *arrays : array-like
        Arrays whose common namespace and device are wanted.

    Returns
    -------
    xp : module
        The array API compatible namespace.
    device : object
        The arrays' common device.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._array_api import namespace_and_device
    >>> xp, device = namespace_and_device(np.ones(3))
    >>> xp.__name__.endswith("numpy"), device
    (True, 'cpu')
    """
    xp, _, device_ = get_namespace_and_device(*arrays)
    return xp, ("cpu" if device_ is None else device_)


def array_library(x):
    """Which implementation serves ``x``: ``"numpy"``, ``"cupy"`` or ``"other"``.

    Parameters
    ----------
    x : object
        An array (or a scalar, which counts as NumPy).

    Returns
    -------
    library : {"numpy", "cupy", "other"}
        ``"other"`` is any other array API namespace (``array_api_strict`` in
        the tests): the backend serves it through a host round trip.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._namespace import array_library
    >>> array_library(np.ones(2))
    'numpy'
    """
    if type(x) is np.ndarray:  # the common case first: the checks below cost microseconds
        return "numpy"
    if is_numpy_array(x) or np.isscalar(x):
        return "numpy"
    if is_cupy_array(x):
        return "cupy"
    return "other"


def dispatch(x, *, numpy, cupy, other):
    """Call the implementation for the array library of ``x``: the one branch of sklr.

    Parameters
    ----------
    x : array
        The array whose library decides.
    numpy, cupy, other : callable
        Implementations taking no argument (closures over the operands). The
        ``numpy`` one receives NumPy arrays, the ``cupy`` one CuPy arrays, the
        ``other`` one any other namespace's (usually :func:`via_host`).

    Returns
    -------
    result
        What the chosen implementation returns.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._namespace import dispatch
    >>> dispatch(np.ones(2), numpy=lambda: "host", cupy=lambda: "gpu", other=lambda: "round trip")
    'host'
    """
    return {"numpy": numpy, "cupy": cupy, "other": other}[array_library(x)]()


def convergence_check_interval(x):
    """How many iterations an iterative solver should run between convergence tests.

    Testing convergence reads a number back to the host: free on the CPU, a
    synchronisation of the device on a GPU. Solvers on CuPy arrays therefore
    test every 5 iterations, elsewhere every iteration.

    Parameters
    ----------
    x : array
        An operand of the solver.

    Returns
    -------
    every : int
        Iterations between two tests.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._namespace import convergence_check_interval
    >>> convergence_check_interval(np.ones(2))
    1
    """
    return 5 if array_library(x) == "cupy" else 1


def via_host(func, *arrays, like, dtype=None, xp=None):
    """``func`` on host copies of ``arrays``, its result put back next to ``like``.

    The fallback for namespaces other than NumPy and CuPy: correct everywhere,
    fast only where the result is small.

    Parameters
    ----------
    func : callable
        Takes NumPy arrays (``None`` stays ``None``) and returns one NumPy array.
    *arrays : array or None
        The operands.
    like : array
        Its namespace and device receive the result.
    dtype : dtype, default=None
        Cast the result to this dtype (of ``like``'s namespace).
    xp : module, default=None
        The namespace of ``like``, where the caller knows it (found when None).

    Returns
    -------
    out : array
        The result in the namespace and on the device of ``like``.
    """
    xp, dev = namespace_and_device(like) if xp is None else (xp, device(like))
    return from_numpy(func(*host(*arrays)), xp, dev, dtype)


def device(x):
    """Return the device ``x`` lives on (``"cpu"`` for NumPy and sparse input).

    Parameters
    ----------
    x : array
        Any array (NumPy, CuPy, array_api_strict, ...).

    Returns
    -------
    device : object
        The array's device.
    """
    from ._sparse import issparse

    if issparse(x) or is_numpy_array(x):
        return "cpu"
    return _sk_device(x)


def to_numpy(x):
    """Copy ``x`` to a host NumPy array (no copy when it already is one).

    Parameters
    ----------
    x : array
        Any array.

    Returns
    -------
    x_np : ndarray
        The values of ``x`` as a NumPy array.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.utils._array_api import to_numpy
    >>> to_numpy(np.arange(3))
    array([0, 1, 2])
    """
    return dispatch(
        x,
        numpy=lambda: np.asarray(x),
        cupy=lambda: x.get(),
        other=lambda: _convert_to_numpy(x, xp=namespace_and_device(x)[0]),
    )


def from_numpy(x_np, xp, device_, dtype=None):
    """Put a host array into namespace ``xp`` on ``device_`` (optionally cast).

    Parameters
    ----------
    x_np : ndarray
        Host values.
    xp : module
        Target namespace.
    device_ : object
        Target device.
    dtype : dtype, default=None
        Target dtype (kept when None).

    Returns
    -------
    x : array
        The values in ``xp`` on ``device_``.
    """
    x = xp.asarray(x_np, device=device_)
    if dtype is not None and x.dtype != dtype:
        x = xp.astype(x, dtype)
    return x


def host(*arrays):
    """Host NumPy copies of ``arrays`` (``None`` stays ``None``), as a list."""
    return [None if a is None else to_numpy(a) for a in arrays]


def cupy_module():
    """The CuPy module, imported on first use (CuPy is an optional dependency)."""
    import cupy

    return cupy


def dask_module():
    """The ``dask`` module (``delayed``, ``persist``, ``compute``), imported on first use.

    Dask is an optional dependency; only the paths that receive a Dask
    collection ask for it.
    """
    import dask

    return dask


def cupyx_module():
    """``cupyx`` with its SciPy-like submodules (fft, linalg, sparse) imported."""
    import cupyx
    import cupyx.scipy.fft
    import cupyx.scipy.linalg
    import cupyx.scipy.sparse

    return cupyx


def is_cupy_namespace(xp):
    """Whether the namespace ``xp`` is CuPy (for creating arrays, where no array exists yet)."""
    return xp.__name__.endswith("cupy")


def cuda_device_names():
    """Names of the CUDA devices CuPy can use, or a reason why there are none.

    Returns
    -------
    names : list of str
        One name per device (empty when CuPy is missing or no driver is usable).
    reason : str or None
        Why the list is empty (the exception's type), None when CuPy answered.

    Examples
    --------
    >>> from sklr.utils._array_api import cuda_device_names
    >>> names, reason = cuda_device_names()
    >>> isinstance(names, list)
    True
    """
    try:
        cupy = cupy_module()
        count = cupy.cuda.runtime.getDeviceCount()
    except Exception as exc:  # ImportError, or a CUDA error when no driver is usable
        return [], type(exc).__name__
    names = []
    for index in range(count):
        name = cupy.cuda.runtime.getDeviceProperties(index)["name"]
        names.append(name.decode() if isinstance(name, bytes) else name)
    return names, None
