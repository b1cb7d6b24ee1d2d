"""``sklr.show_versions()``: what a bug report needs about the machine and its libraries."""

import importlib.metadata
import platform
import sys

# Runtime dependencies first, then the optional backends and the peers the tests use.
_DEPENDENCIES = (
    "scikit-learn",
    "numpy",
    "scipy",
    "joblib",
    "threadpoolctl",
    "array-api-compat",
    "array-api-strict",
    "cupy",
    "cupy-cuda12x",
    "cupy-cuda13x",
    "dask",
    "pandas",
    "pot",
    "matplotlib",
)


def _system_info():
    return {
        "python": sys.version.replace("\n", " "),
        "executable": sys.executable,
        "machine": platform.platform(),
    }


def _dependency_info():
    from . import __version__

    info = {"sklr": __version__}
    for name in _DEPENDENCIES:
        try:
            info[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            info[name] = None
    return info


def _blas_info():
    from threadpoolctl import threadpool_info

    return [
        {key: pool.get(key) for key in ("internal_api", "version", "architecture", "num_threads", "filepath")}
        for pool in threadpool_info()
    ]


def _environment_info():
    import os

    keys = ("SCIPY_ARRAY_API", "OPENBLAS_CORETYPE", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")
    return {key: os.environ.get(key) for key in keys}


def _gpu_info():
    from .utils._array_api import cuda_device_names

    names, reason = cuda_device_names()
    return {"cuda devices": ", ".join(names) if names else f"none ({reason or 'no device'})"}


def show_versions():
    """Print the versions of sklr, its dependencies, BLAS and GPU, for bug reports.

    Prints the Python and platform, the installed versions of sklr's runtime
    dependencies and optional backends (``None`` when not installed), the
    environment variables that change numerical results (``SCIPY_ARRAY_API``,
    ``OPENBLAS_CORETYPE``, thread counts), the BLAS libraries loaded by NumPy
    and SciPy (through threadpoolctl) and the CUDA devices CuPy sees.

    Examples
    --------
    >>> import sklr
    >>> sklr.show_versions()  # doctest: +ELLIPSIS
    <BLANKLINE>
    System:
    ...
    Python dependencies:
    ...
    """
    sections = [
        ("System", _system_info()),
        ("Python dependencies", _dependency_info()),
        ("Environment", _environment_info()),
        ("GPU", _gpu_info()),
    ]
    for title, info in sections:
        print(f"\n{title}:")
        width = max(len(key) for key in info)
        for key, value in info.items():
            print(f"{key:>{width}}: {value}")
    print("\nBLAS and OpenMP libraries:")
    for pool in _blas_info():
        print("  " + ", ".join(f"{key}={value}" for key, value in pool.items()))
