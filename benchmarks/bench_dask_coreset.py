"""Benchmark SensitivitySampler's coreset of a Dask array: time, client memory, cost ratio.

``X`` (``n_samples x n_features`` float64, heavy-tailed: Student t with 1.5
degrees of freedom, one feature nonzero on 1% of the rows) and
``y = X w + 1 + t_2 noise`` are generated block by block on the workers of a
``LocalCluster`` (``dask.array.random`` with a seed) and kept there
(persisted: the Lewis iteration passes over them about twenty times); they
never exist on the client. SensitivitySampler computes the l_p Lewis weights
by passes over the blocks and each block draws its rows of the coreset; only
the coreset (``n_samples="auto"``: about ``20 (n_features + 2)`` rows) comes
to the client, where LpRegressor is fitted on it.

Peer: the exact l_p regression on all the rows, as without sklr's Dask path:
the array gathered to the client and fitted by LpRegressor (``p = 1``, ``2``;
``--no-peer`` skips it and reports no ratio). Quality: the l_p cost
``sum_i |y_i - x_i^T w - b|^p`` of each model on all the rows (computed
blockwise) and the coreset's ratio to the optimum. Memory: the client
process's peak resident set (``resource.getrusage``), a running maximum, read
after each step; the coresets run first.

Usage::

    python benchmarks/bench_dask_coreset.py                # 2e6 x 20, p = 1 and 2
    python benchmarks/bench_dask_coreset.py --quick        # 2e5 x 20
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

from sklr.linear_model import LpRegressor
from sklr.sampling import SensitivitySampler

try:
    import dask
    import dask.array as da
    from distributed import Client, LocalCluster, wait
except ImportError:  # pragma: no cover - the benchmark needs the dask extra
    sys.exit('This benchmark needs Dask: pip install "sklr[dask]".')


def _peak_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def make_data(n_samples, n_features, chunk_rows, seed):
    """Heavy-tailed X and y, generated block by block on the workers and kept there."""
    rng = da.random.default_rng(seed)
    chunks = (chunk_rows, n_features)
    X = rng.standard_t(1.5, (n_samples, n_features), chunks=chunks)
    rare = (rng.uniform(size=n_samples, chunks=chunk_rows) < 0.01).astype(float)
    X = da.concatenate([X[:, :1] * rare[:, None], X[:, 1:]], axis=1).rechunk(chunks)
    coef = np.linspace(-2.0, 2.0, n_features)
    y = X @ coef + 1.0 + rng.standard_t(2.0, n_samples, chunks=chunk_rows)
    X, y = X.persist(), y.persist()
    wait([X, y])
    return X, y


def lp_cost(X, y, model, p):
    return float((abs(y - X @ model.coef_ - model.intercept_) ** p).sum().compute())


def run(args, p, X, y):
    t = time.perf_counter()
    sampler = SensitivitySampler(p=p, random_state=0)
    X_s, y_s = sampler.fit_resample(X, y)
    build = time.perf_counter() - t
    peak = _peak_mb()
    t = time.perf_counter()
    model = LpRegressor(p=p).fit(X_s, y_s, sample_weight=sampler.sample_weight_)
    fit = time.perf_counter() - t
    return {"p": p, "build": build, "fit": fit, "rows": X_s.shape[0], "n_iter": sampler.n_iter_,
            "cost": lp_cost(X, y, model, p), "peak": peak}


def run_peer(X, y, p):
    t = time.perf_counter()
    X_np, y_np = X.compute(), y.compute()
    model = LpRegressor(p=p, max_iter=200).fit(X_np, y_np)
    seconds = time.perf_counter() - t
    del X_np, y_np
    return {"time": seconds, "cost": lp_cost(X, y, model, p), "peak": _peak_mb()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-samples", type=float, default=2e6)
    parser.add_argument("--n-features", type=int, default=20)
    parser.add_argument("--chunk-rows", type=int, default=100_000)
    parser.add_argument("--p", type=float, nargs="+", default=[1.0, 2.0])
    parser.add_argument("--n-workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-peer", action="store_true", help="skip the in-memory optimum")
    parser.add_argument("--quick", action="store_true", help="2e5 rows")
    args = parser.parse_args(argv)
    args.n_samples = 200_000 if args.quick else int(args.n_samples)

    with LocalCluster(n_workers=args.n_workers, threads_per_worker=1, processes=True,
                      dashboard_address=":0", silence_logs=logging.ERROR) as cluster, \
            Client(cluster):
        t = time.perf_counter()
        X, y = make_data(args.n_samples, args.n_features, args.chunk_rows, args.seed)
        generate = time.perf_counter() - t
        start = _peak_mb()
        rows = [run(args, p, X, y) for p in args.p]
        peers = {} if args.no_peer else {p: run_peer(X, y, p) for p in args.p}

    gb = args.n_samples * args.n_features * 8 / 1e9
    print(f"# SensitivitySampler coreset of a Dask array: {args.n_samples:.3g} x "
          f"{args.n_features} float64 ({gb:.2f} GB), blocks of {args.chunk_rows} rows\n")
    print(f"Command: `python {shlex.join(sys.argv)}`  ")
    print(f"Machine: {platform.node()}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} at the end; LocalCluster of {args.n_workers} one-thread "
          f"worker processes; Python {platform.python_version()}, NumPy {np.__version__}, "
          f"Dask {dask.__version__}  ")
    print(f"Data generated and persisted on the workers in {generate:.1f} s; client peak "
          f"resident memory before the coresets: {start:.0f} MB\n")
    print("| p | coreset rows | Lewis iterations | coreset build (s) | LpRegressor on coreset (s) "
          "| client peak after (MB) | coreset cost | optimum cost | ratio | in-memory fit (s) "
          "| client peak after (MB) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        peer = peers.get(r["p"])
        opt = f"{peer['cost']:.6e}" if peer else "-"
        ratio = f"{r['cost'] / peer['cost']:.4f}" if peer else "-"
        peer_time = f"{peer['time']:.1f}" if peer else "-"
        peer_peak = f"{peer['peak']:.0f}" if peer else "-"
        print(f"| {r['p']:g} | {r['rows']} | {r['n_iter']} | {r['build']:.1f} | {r['fit']:.2f} "
              f"| {r['peak']:.0f} | {r['cost']:.6e} | {opt} | {ratio} | {peer_time} "
              f"| {peer_peak} |")


if __name__ == "__main__":
    main()
