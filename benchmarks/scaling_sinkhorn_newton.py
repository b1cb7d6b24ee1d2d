"""Scaling of sinkhorn_newton with n: time against size, the fitted exponent, and where the time goes.

2-D clouds (the issue-20 case): n points uniform in the unit square against n
points shifted by 0.3, squared Euclidean cost over its maximum, uniform
marginals, reg = 1e-3, tol = 1e-9. For every n and every linear-solver setting
the script prints the time, the L1 marginal error, the Newton and Sinkhorn
counts, the largest CG step count, the direct solves, and the share of the
time spent in the Sinkhorn sweeps, the sparsified-Hessian builds and the
sparse products of CG (from cProfile, so the shares are approximate). The
last line per setting is the least-squares slope of log time on log n.

    python benchmarks/scaling_sinkhorn_newton.py --sizes 1000 2000 4000 6000 \
        --solvers auto cg:1e-6:5000

``--repeat R`` runs each size R times and reports the run of median time.
"""

import argparse
import cProfile
import os
import platform
import pstats
import time
import warnings

import numpy as np

from sklr.transport import sinkhorn_newton


def clouds(n, seed=0):
    rng = np.random.RandomState(seed)
    x, y = rng.rand(n, 2), rng.rand(n, 2) + [0.3, 0.0]
    M = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    return M / M.max()


def _share(stats, names):
    """Seconds in the named functions: cumulative for Python ones, own time for built-ins."""
    total = 0.0
    for (_, _, function), (_, _, own, cumulative, _) in stats.stats.items():
        for name in names:
            if function == name:
                total += cumulative
            elif name in function and function.startswith("<built-in"):
                total += own
    return total


def run(n, spec, reg, tol):
    solver, *cg = spec.split(":")
    M = clouds(n)
    kwargs = dict(tol=tol, linear_solver=solver, log=True)
    if cg:  # otherwise sinkhorn_newton's defaults
        kwargs["cg_tol"] = float(cg[0])
    if len(cg) > 1:
        kwargs["cg_max_iter"] = int(cg[1])
    profile = cProfile.Profile()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        profile.enable()
        P, log = sinkhorn_newton([], [], M, reg, **kwargs)
        profile.disable()
        seconds = time.perf_counter() - start
    stats = pstats.Stats(profile)
    sweeps = _share(stats, {"_scaling_sweeps"})
    hessian = _share(stats, {"_sparse_hessian"})
    matvec = _share(stats, {"csr_matvec", "csc_matvec"})
    error = float(np.abs(P.sum(1) - 1 / n).sum() + np.abs(P.sum(0) - 1 / n).sum())
    return seconds, dict(error=error, newton=log["n_newton"], sinkhorn=log["n_sinkhorn"],
                         cg=max(log["n_cg"] or [0]), direct=log["n_direct"],
                         sweeps=sweeps / seconds, hessian=hessian / seconds,
                         matvec=matvec / seconds)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="*", type=int, default=[1000, 2000, 4000])
    parser.add_argument("--solvers", nargs="*", default=["auto"],
                        help="linear_solver[:cg_tol[:cg_max_iter]], e.g. auto cg:1e-6:5000")
    parser.add_argument("--reg", type=float, default=1e-3)
    parser.add_argument("--tol", type=float, default=1e-9)
    parser.add_argument("--repeat", type=int, default=1,
                        help="runs per size; the row is the median-time run (lower median)")
    args = parser.parse_args()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores; numpy {np.__version__}")
    print("| solver | n | time (s) | L1 error | Newton | Sinkhorn | max CG | direct "
          "| sweeps | Hessian | CG products |")
    print("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
    for spec in args.solvers:
        times = []
        for n in args.sizes:
            runs = [run(n, spec, args.reg, args.tol) for _ in range(args.repeat)]
            seconds, info = sorted(runs, key=lambda item: item[0])[(args.repeat - 1) // 2]
            times.append(seconds)
            print(f"| {spec} | {n} | {seconds:.2f} | {info['error']:.1e} | {info['newton']} "
                  f"| {info['sinkhorn']} | {info['cg']} | {info['direct']} "
                  f"| {info['sweeps']:.0%} | {info['hessian']:.0%} | {info['matvec']:.0%} |",
                  flush=True)
        if len(times) > 1:
            slope = np.polyfit(np.log(args.sizes), np.log(times), 1)[0]
            print(f"| {spec} | exponent | {slope:.2f} (2 = linear in the n^2 entries) "
                  "| | | | | | | | |")


if __name__ == "__main__":
    main()
