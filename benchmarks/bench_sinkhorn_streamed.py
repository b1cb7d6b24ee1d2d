"""SinkhornNewtonOT on point clouds, streamed (cost and plan never stored) against in memory.

Issue 20.1: 2-D clouds (n points uniform in the unit square against n points
shifted by 0.3, the issue's case), squared Euclidean cost over its maximum,
reg = 1e-3, tol = 1e-9. Each case runs in a fresh process, so that its peak
resident memory is its own. Reports wall time, the solver's L1 marginal
error, the Newton and Sinkhorn counts, the tile pairs evaluated (in passes
over the whole plan) and the peak RSS.

    OPENBLAS_NUM_THREADS=1 SCIPY_ARRAY_API=1 python benchmarks/bench_sinkhorn_streamed.py \\
        --sizes 2000 5000 10000 --in-memory-up-to 10000
"""

import argparse
import json
import resource
import subprocess
import sys
import time
import warnings

import numpy as np


def clouds(n, seed=0):
    rng = np.random.RandomState(seed)
    return rng.rand(n, 2), rng.rand(n, 2) + [0.3, 0.0]


def one_case(n, streaming, reg, tol):
    from sklr.transport import SinkhornNewtonOT

    X, Y = clouds(n)
    ot = SinkhornNewtonOT(reg=reg, X_target=Y, tol=tol, streaming=streaming)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter()
        ot.fit(X)
        seconds = time.perf_counter() - start
    if ot.coupling_ is not None:
        P = ot.coupling_
        error = float(np.abs(P.sum(1) - 1 / n).sum() + np.abs(P.sum(0) - 1 / n).sum())
    else:
        error = ot.log_["final_err"]
    log = ot.log_
    passes = (log["tiles_computed"] / log["tiles"]) if "tiles" in log else None
    return dict(n=n, streaming=streaming, seconds=seconds, error=error,
                newton=log["n_newton"], sinkhorn=log["n_sinkhorn"] + log["n_sinkhorn_extra"],
                passes=passes, transport_cost=ot.transport_cost_,
                peak_gb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 5000, 10000])
    parser.add_argument("--in-memory-up-to", type=int, default=10000)
    parser.add_argument("--reg", type=float, default=1e-3)
    parser.add_argument("--tol", type=float, default=1e-9)
    parser.add_argument("--case", nargs=2, metavar=("N", "STREAMING"))
    args = parser.parse_args()
    if args.case:
        n, streaming = int(args.case[0]), args.case[1] == "1"
        print(json.dumps(one_case(n, streaming, args.reg, args.tol)))
        return
    print("| n | solver | wall (s) | L1 marginal error | Newton | Sinkhorn | passes | "
          "transport cost | peak RSS (GB) |")
    print("|---|---|--:|--:|--:|--:|--:|--:|--:|")
    for n in args.sizes:
        for streaming in (False, True):
            if not streaming and n > args.in_memory_up_to:
                continue
            out = subprocess.run(
                [sys.executable, __file__, "--case", str(n), "1" if streaming else "0",
                 "--reg", str(args.reg), "--tol", str(args.tol)],
                capture_output=True, text=True, check=True)
            row = json.loads(out.stdout.strip().splitlines()[-1])
            passes = "" if row["passes"] is None else f"{row['passes']:.0f}"
            print(f"| {n} | {'streamed' if streaming else 'in memory'} | {row['seconds']:.1f} | "
                  f"{row['error']:.1e} | {row['newton']} | {row['sinkhorn']} | {passes} | "
                  f"{row['transport_cost']:.10f} | {row['peak_gb']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
