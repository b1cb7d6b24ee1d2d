"""Scaling of funbat with the number of observations when every coordinate is distinct.

Three continuous modes, ``x`` uniform in the unit cube (so each mode has N
distinct coordinates and its Kalman filter and smoother run over N steps), y
a smooth rank-2 function plus noise of sd 0.01. FunBaT with ranks (2, 2, 2),
Matérn-3/2, lengthscale 0.3, a fixed number of sweeps (``tol=0``, so every
size does the same work per observation) and one start. For every N the
script prints the time (wall clock, and the CPU time of the process, which a
loaded machine inflates much less), the time per sweep, the share of it in the modes'
filter and smoother (from cProfile, approximate) and the RMSE against the
noise-free function at 2000 held-out points, the peak resident memory of the
process so far (the sizes run in increasing order, so it is that of the
largest size yet) and the load average (1 minute) before and after; the last
line is the least-squares slope of log time on log N.

    python benchmarks/scaling_funbat.py --sizes 10000 100000 1000000 --sweeps 5
"""

import argparse
import cProfile
import os
import platform
import pstats
import resource
import subprocess
import time
import warnings

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # before SciPy is first imported

import numpy as np

from sklr.tensor import funbat, funbat_predict


def truth(X):
    x, y, z = X[:, 0], X[:, 1], X[:, 2]
    return np.sin(3 * x) * np.cos(2 * y) * (1 + z) + np.cos(4 * x) * y * np.sin(3 * z)


def problem(n, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(0.0, 1.0, (n, 3))
    return X, truth(X) + 0.01 * rng.standard_normal(n)


def _cumulative(stats, names):
    return sum(cumulative for (_, _, function), (_, _, _, cumulative, _) in stats.stats.items()
               if function in names)


def run(n, sweeps):
    X, y = problem(n)
    X_test = np.random.RandomState(1).uniform(0.0, 1.0, (2000, 3))
    profile = cProfile.Profile()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start, cpu_start = time.perf_counter(), time.process_time()
        profile.enable()
        result = funbat(X, y, [2, 2, 2], kernel="matern32", lengthscales=0.3,
                        max_iter=sweeps, tol=0.0, random_state=0)
        profile.disable()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    smoother = _cumulative(pstats.Stats(profile),
                           {"blocked_kalman_filter", "blocked_rts_smoother",
                            "layout_kalman_filter", "layout_rts_smoother"})
    rmse = float(np.sqrt(np.mean((funbat_predict(result, X_test)[0] - truth(X_test)) ** 2)))
    return seconds, cpu, smoother / seconds, rmse


def _peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


def _commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", nargs="*", type=int, default=[10000, 100000])
    parser.add_argument("--sweeps", type=int, default=5)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores {platform.machine()}, NumPy {np.__version__}, "
          f"commit {_commit()}")
    print(f"funbat ranks (2, 2, 2), matern32, l = 0.3, {args.sweeps} sweeps (tol = 0), "
          "3 modes with N distinct coordinates each\n")
    print("| N | time (s) | CPU time (s) | s / sweep | us / (observation sweep) "
          "| filter+smoother share | test RMSE | peak RSS (MB) | load before / after |")
    print("|---|---|---|---|---|---|---|---|---|")
    times = []
    for n in args.sizes:
        load = os.getloadavg()[0]
        seconds, cpu, share, rmse = run(n, args.sweeps)
        times.append(seconds)
        print(f"| {n} | {seconds:.2f} | {cpu:.2f} | {seconds / args.sweeps:.3f} | "
              f"{seconds / args.sweeps / n * 1e6:.2f} | {share:.0%} | {rmse:.4f} | "
              f"{_peak_rss_mb():.0f} | {load:.1f} / {os.getloadavg()[0]:.1f} |", flush=True)
    if len(times) > 1:
        slope = np.polyfit(np.log(args.sizes), np.log(times), 1)[0]
        print(f"\nfitted exponent (log time on log N): {slope:.2f}")
        for (n0, t0), (n1, t1) in zip(zip(args.sizes, times), zip(args.sizes[1:], times[1:])):
            print(f"time({n1}) / time({n0}) = {t1 / t0:.2f} for x{n1 / n0:g} observations")


if __name__ == "__main__":
    main()
