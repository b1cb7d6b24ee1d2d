"""Benchmark SketchedRegressor.fit on a Dask array larger than the client should hold.

``X`` (``n_samples x n_features`` float64, 8 GB at the default 2e7 x 50) and
``y = X w + noise`` are generated block by block on the workers of a
``LocalCluster`` (``dask.array.random`` with a seed) and never exist on the
client. SketchedRegressor sketches each block where it is generated and sums
the sketches on the cluster; ``solver="precondition"`` then runs its
iterations as two blockwise passes each (regenerating the blocks: nothing is
kept in memory).

Peer: ``dask.array.linalg.lstsq`` (a blockwise tall-skinny QR, exact), on the
same array in the same process. Quality: the residual ``||X w - y||`` of each
fit, computed blockwise, and sklr's ratio to the peer's (the optimum).
Memory: the client process's peak resident set (``resource.getrusage``),
read after each method; it is a running maximum, so sklr is run first.

Usage::

    python benchmarks/bench_dask_sketched.py                  # 2e7 x 50, sketch
    python benchmarks/bench_dask_sketched.py --quick          # 2e6 x 50
    python benchmarks/bench_dask_sketched.py --solver precondition --n-samples 2000000
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # before scipy is first imported

import argparse
import logging
import platform
import resource
import shlex
import sys
import time

import numpy as np

from sklr.linear_model import SketchedRegressor

try:
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster
except ImportError:  # pragma: no cover - the benchmark needs the dask extra
    sys.exit('This benchmark needs Dask: pip install "sklr[dask]".')


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def make_data(n_samples, n_features, chunk_rows, seed):
    """X, y generated block by block on the workers; the true coefficients."""
    rng = da.random.default_rng(seed)
    X = rng.standard_normal((n_samples, n_features), chunks=(chunk_rows, n_features))
    coef = np.linspace(-2.0, 2.0, n_features)
    y = X @ coef + 1.0 + 0.5 * rng.standard_normal(n_samples, chunks=chunk_rows)
    return X, y


def residual_norm(X, y, coef, intercept):
    return float(da.linalg.norm(X @ coef + intercept - y).compute())


def run(args):
    X, y = make_data(args.n_samples, args.n_features, args.chunk_rows, args.seed)
    rows = []
    start = _peak_mb()
    t = time.perf_counter()
    reg = SketchedRegressor(solver=args.solver, sketch=args.sketch, random_state=0).fit(X, y)
    sklr_time = time.perf_counter() - t
    sklr_peak = _peak_mb()
    sklr_res = residual_norm(X, y, reg.coef_, reg.intercept_)
    settings = f"{args.solver}, {args.sketch}, m={reg.n_components_}, {reg.n_iter_} iter"
    rows.append(("sklr SketchedRegressor", settings, sklr_time, sklr_res, sklr_peak))
    if not args.no_peer:
        t = time.perf_counter()
        A = da.concatenate([X, da.ones((args.n_samples, 1), chunks=(args.chunk_rows, 1))],
                           axis=1).rechunk({1: -1})
        sol = da.linalg.lstsq(A, y)[0].compute()
        peer_time = time.perf_counter() - t
        peer_res = residual_norm(X, y, sol[:-1], sol[-1])
        rows.append(("dask.array.linalg.lstsq", "blockwise TSQR, exact", peer_time, peer_res,
                     _peak_mb()))
    return rows, start


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=float, default=2e7)
    parser.add_argument("--n-features", type=int, default=50)
    parser.add_argument("--chunk-rows", type=int, default=250_000)
    parser.add_argument("--solver", default="sketch", choices=["sketch", "precondition"])
    parser.add_argument("--sketch", default="sparse_sign",
                        choices=["sparse_sign", "countsketch", "gaussian"])
    parser.add_argument("--n-workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-peer", action="store_true", help="skip dask.array.linalg.lstsq")
    parser.add_argument("--quick", action="store_true", help="2e6 rows")
    args = parser.parse_args(argv)
    args.n_samples = 2_000_000 if args.quick else int(args.n_samples)

    with LocalCluster(n_workers=args.n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=logging.ERROR) as cluster, \
            Client(cluster):
        rows, start = run(args)

    gb = args.n_samples * args.n_features * 8 / 1e9
    print(f"# SketchedRegressor on a Dask array: {args.n_samples:.3g} x {args.n_features} "
          f"float64 ({gb:.1f} GB), blocks of {args.chunk_rows} rows\n")
    print(f"Command: `python {shlex.join(sys.argv)}`  ")
    print(f"Machine: {platform.node()}, {os.cpu_count()} CPUs; LocalCluster of {args.n_workers} "
          f"one-thread worker processes; Python {platform.python_version()}, "
          f"NumPy {np.__version__}, Dask {dask.__version__}  ")
    print(f"Client peak resident memory before the fits: {start:.0f} MB\n")
    print("| method | settings | time (s) | residual | residual / optimum | client peak (MB) |")
    print("|---|---|---|---|---|---|")
    best = min(r[3] for r in rows)
    for name, settings, seconds, res, peak in rows:
        print(f"| {name} | {settings} | {seconds:.1f} | {res:.6e} | {res / best:.5f} | "
              f"{peak:.0f} |")


if __name__ == "__main__":
    main()
