import os
import sys

# scipy reads SCIPY_ARRAY_API once, when it is first imported: set it before.
if "scipy" in sys.modules and os.environ.get("SCIPY_ARRAY_API") != "1":
    raise RuntimeError(
        "SCIPY_ARRAY_API=1 must be exported before scipy is imported "
        "(run the tests as the README says)."
    )
os.environ["SCIPY_ARRAY_API"] = "1"

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings as hypothesis_settings  # noqa: E402

# The property tests (hypothesis) draw the same examples on every run, so that a
# green suite stays green on another machine; HYPOTHESIS_PROFILE=explore draws new
# ones each run, to hunt for counterexamples.
hypothesis_settings.register_profile("sklr", derandomize=True)
hypothesis_settings.register_profile("explore", derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "sklr"))


def _cuda_available():
    try:
        import cupy

        return cupy.cuda.runtime.getDeviceCount() > 0
    except Exception:  # ImportError, or CUDARuntimeError when no driver is usable
        return False


CUDA_AVAILABLE = _cuda_available()


def _namespaces():
    out = [pytest.param("numpy", id="numpy")]
    out.append(pytest.param("array_api_strict", id="array_api_strict"))
    out.append(
        pytest.param(
            "cupy", id="cupy",
            marks=pytest.mark.skipif(not CUDA_AVAILABLE, reason="no usable CUDA device"),
        )
    )
    return out


@pytest.fixture(params=_namespaces())
def xp(request):
    """Yield each available array namespace (numpy, array_api_strict, cupy on a GPU).

    The namespace is scikit-learn's compatible wrapper, as ``namespace_and_device``
    returns it; array API dispatch is on for the duration of the test.
    """
    import sklearn

    name = request.param
    if name == "array_api_strict":
        strict = pytest.importorskip("array_api_strict")
        module = strict
    elif name == "cupy":
        import cupy

        module = cupy
    else:
        module = np
    with sklearn.config_context(array_api_dispatch=True):
        from sklr.utils._array_api import namespace_and_device

        sample = module.asarray([0.0])
        yield namespace_and_device(sample)[0]


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run slow tests")


def pytest_collection_modifyitems(config, items):
    skip_slow = pytest.mark.skip(reason="slow: run with --runslow")
    skip_gpu = pytest.mark.skip(reason="no usable CUDA device")
    skip_backend = pytest.mark.skip(reason="backend not targeted by sklr")
    for item in items:
        if "slow" in item.keywords and not config.getoption("--runslow"):
            item.add_marker(skip_slow)
        if "torch" in item.nodeid or "dpnp" in item.nodeid:
            item.add_marker(skip_backend)
        elif "cupy" in item.nodeid and not CUDA_AVAILABLE:
            item.add_marker(skip_gpu)
