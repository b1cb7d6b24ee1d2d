"""sklr imports and fits without Dask installed (Dask is the optional extra ``sklr[dask]``)."""

import subprocess
import sys


def test_sklr_works_without_dask():
    code = (
        "import sys; sys.modules['dask'] = sys.modules['distributed'] = None\n"
        "import numpy as np, sklr\n"
        "from sklr import SketchedRegressor\n"
        "X = np.random.RandomState(0).standard_normal((500, 3))\n"
        "reg = SketchedRegressor(sketch='sparse_sign', random_state=0).partial_fit(X, X @ [1., 2, 3])\n"
        "assert np.allclose(reg.coef_, [1, 2, 3])\n"
        "assert not any(m == 'dask' or m.startswith('dask.') for m in sys.modules if sys.modules[m])\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, env={"SCIPY_ARRAY_API": "1"})
