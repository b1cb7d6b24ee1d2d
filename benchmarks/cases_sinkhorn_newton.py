"""sinkhorn_newton alone on a list of cases: time, L1 marginal error and iteration counts.

For before/after comparisons of solver changes (run it with ``PYTHONPATH`` at each checkout).
Each case is ``problem:n:reg`` with the problems of ``bench_sinkhorn_newton.py``
(``assignment``, ``clouds2d``, ``clouds10d``, uniform weights) or two it was not tuned on,
``gauss3d`` (anisotropic 3-D Gaussian clouds, one rotated and shifted, Dirichlet weights) and
``uniform3d`` (a unit cube against a 1.5x larger one); tol = 1e-9, default settings otherwise::

    OPENBLAS_NUM_THREADS=1 python benchmarks/cases_sinkhorn_newton.py assignment:500:1e-3 \
        clouds2d:2000:1e-4 clouds10d:1000:1e-3

A fourth field forces the Newton steps' linear solver (``clouds2d:1000:1e-4:cg``; "auto" otherwise).
Prints per case: seconds, L1 marginal error, Newton steps (N), Sinkhorn iterations before the
Newton steps + after damped ones (S), Newton steps solved directly (d) and CG steps in all (CG).
"""

import os
import sys
import time
import warnings

os.environ.setdefault("SCIPY_ARRAY_API", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import numpy as np  # noqa: E402
from bench_sinkhorn_newton import _problem  # noqa: E402

from sklr.transport import sinkhorn_newton  # noqa: E402


def _other(name, n):
    """Problems the solver was not tuned on: cost (over its maximum) and weights."""
    rng = np.random.RandomState(5)
    if name == "gauss3d":  # anisotropic Gaussian against a rotated, shifted one; random weights
        X = rng.standard_normal((n, 3)) * [1.0, 2.0, 0.5]
        Y = rng.standard_normal((n, 3)) @ rng.standard_normal((3, 3)) + 1.0
        a, b = rng.dirichlet(np.ones(n)), rng.dirichlet(np.ones(n))
    else:  # "uniform3d": the unit cube against a 1.5x larger one; uniform weights
        X, Y = rng.rand(n, 3), 1.5 * rng.rand(n, 3)
        a, b = np.full(n, 1.0 / n), np.full(n, 1.0 / n)
    M = np.maximum((X * X).sum(1)[:, None] + (Y * Y).sum(1)[None, :] - 2 * X @ Y.T, 0.0)
    return M / M.max(), a, b


def main(cases):
    for case in cases:
        name, n, reg, *solver = case.split(":")
        n, reg = int(n), float(reg)
        solver = solver[0] if solver else "auto"
        if name in ("gauss3d", "uniform3d"):
            M, a, b = _other(name, n)
        else:
            M, a, b = _problem(name, n), np.full(n, 1.0 / n), np.full(n, 1.0 / n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            P, log = sinkhorn_newton(a, b, M, reg, tol=1e-9, linear_solver=solver, log=True)
            seconds = time.perf_counter() - start
        error = float(np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum())
        label = f"{name}:{n}:{reg:g}" + ("" if solver == "auto" else f":{solver}")
        print(f"{label} | {seconds:6.2f}s {error:.0e} N{log['n_newton']} "
              f"S{log['n_sinkhorn']}+{log['n_sinkhorn_extra']} d{log['n_direct']} "
              f"CG{sum(log['n_cg'])}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
