"""sinkhorn_newton alone on a list of cases: time, L1 marginal error and iteration counts.

For before/after comparisons of solver changes (run it with ``PYTHONPATH`` at each checkout).
Each case is ``problem:n:reg`` with the problems of ``bench_sinkhorn_newton.py``
(``assignment``, ``clouds2d``, ``clouds10d``); tol = 1e-9, default settings otherwise::

    OPENBLAS_NUM_THREADS=1 python benchmarks/cases_sinkhorn_newton.py assignment:500:1e-3 \
        clouds2d:2000:1e-4 clouds10d:1000:1e-3

Prints per case: seconds, L1 marginal error, Newton steps (N), Sinkhorn iterations before the
Newton steps + after damped ones (S), and Newton steps solved directly (d).
"""

import os
import sys
import time
import warnings

os.environ.setdefault("SCIPY_ARRAY_API", "1")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_sinkhorn_newton import _error, _problem  # noqa: E402

from sklr.transport import sinkhorn_newton  # noqa: E402


def main(cases):
    for case in cases:
        name, n, reg = case.split(":")
        n, reg = int(n), float(reg)
        M = _problem(name, n)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            start = time.perf_counter()
            P, log = sinkhorn_newton([], [], M, reg, tol=1e-9, log=True)
            seconds = time.perf_counter() - start
        print(f"{name}:{n}:{reg:g} | {seconds:6.2f}s {_error(P, n):.0e} N{log['n_newton']} "
              f"S{log['n_sinkhorn']}+{log['n_sinkhorn_extra']} d{log['n_direct']}", flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
