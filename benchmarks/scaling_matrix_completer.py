"""Scaling of complete_matrix with the number of observed entries, at recommender shapes.

For each ``nnz`` the matrix is ``nnz / 100`` x ``nnz / 200`` (10^7 entries: the 10^5 x 5·10^4 case of issue
20.3), rank ``k`` = 10, noiseless, entries drawn uniformly without repeats. ``complete_matrix`` (exact
solver, no ridge) runs a fixed number of sweeps (``tol=0``, so every size does the same work per entry),
each size in a fresh process so that its peak resident memory (``ru_maxrss``, the data's set-up
included) is its own. Printed per size: the time of the fit (wall and CPU), the peak memory, the data's
size in memory (rows, cols as int64 and values as float64) and the relative error of the completion
on 2000 entries that were not observed; the last line is the least-squares slope of log time on log nnz.

    OPENBLAS_NUM_THREADS=1 python benchmarks/scaling_matrix_completer.py --sizes 100000 1000000 10000000
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import warnings

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # before SciPy is first imported

import numpy as np


def one(nnz, k, sweeps):
    """Fit one size in this process; returns a dict of measurements."""
    from sklr.completion import complete_matrix

    m, n = nnz // 100, nnz // 200
    rng = np.random.RandomState(0)
    U, V = rng.standard_normal((m, k)), rng.standard_normal((n, k))
    flat = rng.permutation(np.unique(rng.randint(0, m * n, int(nnz * 1.05), dtype=np.int64)))
    flat = flat[:nnz]
    rows, cols = flat // n, flat % n
    del flat
    values = np.concatenate([np.einsum("ij,ij->i", U[rows[i:i + 100_000]], V[cols[i:i + 100_000]])
                             for i in range(0, nnz, 100_000)])
    wall, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # fewer than k n log n entries; max_iter reached (tol=0)
        fit = complete_matrix(rows, cols, values, (m, n), k, max_iter=sweeps, tol=0.0,
                              random_state=0)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    i, j = rng.randint(0, m, 2000), rng.randint(0, n, 2000)
    truth = np.einsum("ij,ij->i", U[i], V[j])
    completed = np.einsum("ij,ij->i", fit.row_factors[i], fit.col_factors[j])
    return {"nnz": nnz, "shape": [m, n], "wall": wall, "cpu": cpu, "sweeps": fit.n_iter,
            "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "data_mb": 24 * nnz / 2**20,
            "error": float(np.linalg.norm(completed - truth) / np.linalg.norm(truth))}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 10_000_000])
    parser.add_argument("--rank", type=int, default=10)
    parser.add_argument("--sweeps", type=int, default=12)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one, args.rank, args.sweeps)))
        return
    print("| nnz | seconds | CPU seconds | shape | sweeps | peak RSS (MB) | data (MB) | "
          "relative error (unobserved) |")
    print("|---|---|---|---|---|---|---|---|")
    sizes, times = [], []
    for nnz in args.sizes:
        out = subprocess.run([sys.executable, __file__, "--one", str(nnz), "--rank",
                              str(args.rank), "--sweeps", str(args.sweeps)],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        sizes.append(nnz)
        times.append(r["wall"])
        print(f"| {nnz} | {r['wall']:.2f} | {r['cpu']:.2f} | {r['shape'][0]} x {r['shape'][1]} | "
              f"{r['sweeps']} | {r['peak_mb']:.0f} | {r['data_mb']:.0f} | {r['error']:.1e} |",
              flush=True)
    if len(sizes) > 1:
        slope = np.polyfit(np.log(sizes), np.log(times), 1)[0]
        print(f"\nexponent (log time on log nnz): {slope:.2f}; load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
