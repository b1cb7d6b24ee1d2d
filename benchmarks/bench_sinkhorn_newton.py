"""sinkhorn_newton (SNS) against POT's Sinkhorn variants and RegOT's Newton solvers.

Cases (uniform marginals, costs scaled to [0, 1]):

- ``assignment``: the paper's random assignment problem, C_ij ~ U[0, 1];
- ``clouds2d`` / ``clouds10d``: two uniform point clouds in 2-D / 10-D,
  squared Euclidean cost divided by its maximum.

Each solver is asked for an L1 marginal error ``||P 1 - a||_1 + ||P^T 1 -
b||_1`` of ``tol`` (1e-9). POT measures its own error differently (the L2
norm of the column marginal, every 10 iterations) and RegOT on the gradient
norm, so every plan is re-scored here with the same L1 error. POT's methods
are capped at an iteration budget (they would run for minutes or hours at
small reg); a capped run is reported as such with the error it reached.
Times are medians of ``--repeat`` runs (one run for capped POT solvers),
solvers alternating within a repeat.

Usage::

    python benchmarks/bench_sinkhorn_newton.py --quick      # n = 500, ~2 min
    python benchmarks/bench_sinkhorn_newton.py              # the issue's cases, ~30 min
"""

import argparse
import os
import platform
import statistics
import time
import warnings

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402

from sklr.transport import sinkhorn_newton  # noqa: E402


def _problem(case, n, seed=0):
    rng = np.random.RandomState(seed)
    if case == "assignment":
        return rng.uniform(size=(n, n))
    d = 2 if case == "clouds2d" else 10
    X, Y = rng.uniform(size=(n, d)), rng.uniform(size=(n, d))
    M = (X * X).sum(1)[:, None] + (Y * Y).sum(1)[None, :] - 2 * X @ Y.T
    M = np.maximum(M, 0.0)
    return M / M.max()


def _error(P, n):
    if P is None or not np.all(np.isfinite(P)):
        return float("nan")
    return float(np.abs(P.sum(1) - 1 / n).sum() + np.abs(P.sum(0) - 1 / n).sum())


def _solvers(budgets, tol):
    out = {}

    def sns(M, reg):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            P, log = sinkhorn_newton([], [], M, reg, tol=tol, log=True)
        # Sinkhorn iterations (first stage and after damped Newton steps) + Newton steps.
        return P, f"{log['n_sinkhorn'] + log['n_sinkhorn_extra']}+{log['n_newton']}"

    out["sklr sinkhorn_newton"] = sns
    try:
        import ot

        for method, budget in budgets.items():
            def pot(M, reg, method=method, budget=budget):
                if method == "sinkhorn_log" and M.shape[0] > 1000:
                    budget = budget // 5  # 0.2 s an iteration at n = 2000: keep the run short
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    # stopThr is POT's own (L2, column marginal) error: ask for tol / 10.
                    P, log = ot.sinkhorn([], [], M, reg, method=method, numItermax=budget,
                                         stopThr=tol / 10, log=True)
                its = log.get("niter", log.get("n_iter", "?"))
                return P, f"{its}" + (" (cap)" if its != "?" and int(its) >= budget - 1 else "")

            out[f"POT {method}"] = pot
    except ImportError:
        print("POT is not installed (pip install '.[bench]'): its rows are skipped.")
    try:
        import regot

        def ssns(M, reg):
            n = M.shape[0]
            a = np.full(n, 1 / n)
            r = regot.sinkhorn_ssns(np.asfortranarray(M), a, a, reg, tol=tol / 10, max_iter=1000)
            return r.plan, str(r.niter)

        def sparse_newton(M, reg):
            n = M.shape[0]
            a = np.full(n, 1 / n)
            r = regot.sinkhorn_sparse_newton(np.asfortranarray(M), a, a, reg, tol=tol / 10,
                                             max_iter=1000)
            return r.plan, str(r.niter)

        out["regot sinkhorn_ssns"] = ssns
        out["regot sinkhorn_sparse_newton"] = sparse_newton
    except ImportError:
        print("regot is not installed (pip install '.[bench]'): its rows are skipped.")
    return out


def run(cases, regs, repeat, budgets, tol, max_seconds, only=None):
    solvers = _solvers(budgets, tol)
    if only:
        solvers = {name: solve for name, solve in solvers.items()
                   if name.startswith("sklr") or name in only}
    for case, n in cases:
        for reg in regs:
            M = _problem(case, n)
            print(f"\n### {case}, n = {n}, reg = {reg:g}, tol = {tol:g}\n")
            print("| solver | iterations | time (s) | L1 marginal error | time / sklr |")
            print("|---|---|---|---|---|")
            times = {name: [] for name in solvers}
            results = {}
            for r in range(repeat):
                for name, solve in solvers.items():
                    if r > 0 and (name.startswith("POT") or times[name][0] > max_seconds):
                        continue  # slow or capped: one run is enough
                    start = time.perf_counter()
                    try:
                        P, its = solve(M, reg)
                    except Exception as exc:  # a peer failing is a result, not a crash
                        P, its = None, f"failed: {type(exc).__name__}"
                    times[name].append(time.perf_counter() - start)
                    results[name] = (P, its)
            base = statistics.median(times["sklr sinkhorn_newton"])
            for name in solvers:
                P, its = results[name]
                t = statistics.median(times[name])
                print(f"| {name} | {its} | {t:.3f} | {_error(P, n):.2e} | {t / base:.1f}x |",
                      flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--tol", type=float, default=1e-9)
    parser.add_argument("--cases", nargs="*", default=None,
                        help="e.g. assignment:500 clouds2d:2000 (default: the issue's cases)")
    parser.add_argument("--regs", nargs="*", type=float, default=[1e-2, 1e-3, 1e-4])
    parser.add_argument("--solvers", nargs="*", default=None,
                        help="only these solvers, by their row names, e.g. 'POT sinkhorn' "
                             "'regot sinkhorn_ssns' (sklr always runs)")
    parser.add_argument("--budgets", nargs="*", default=None,
                        help="POT iteration caps, e.g. sinkhorn=100000 (a capped run's time is a "
                             "lower bound on its time to tol)")
    args = parser.parse_args()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores; numpy {np.__version__}")
    if args.quick:
        cases = [("assignment", 500), ("clouds2d", 500)]
        budgets = {"sinkhorn": 2000, "sinkhorn_log": 300, "sinkhorn_stabilized": 300}
    else:
        cases = [("assignment", 500), ("assignment", 2000), ("clouds2d", 2000),
                 ("clouds10d", 1000)]
        budgets = {"sinkhorn": 10000, "sinkhorn_log": 1000, "sinkhorn_stabilized": 1000}
    for item in args.budgets or []:
        method, cap = item.split("=")
        budgets[method] = int(cap)
    if args.cases:
        cases = [(name, int(size)) for name, size in (c.split(":") for c in args.cases)]
    run(cases, args.regs, args.repeat, budgets, args.tol, max_seconds=20.0, only=args.solvers)


if __name__ == "__main__":
    main()
