"""MatrixCompleter on a Dask DataFrame (Spark ALS's layout) against the in-memory fit, side by side.

Run ``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_dask_completion.py [--rows 100000]
[--cols 20000] [--ratings 2000000] [--rank 10] [--partitions 8]``. The ratings of a rank-``k``
matrix plus noise are generated partition by partition on the workers of a ``LocalCluster`` (two
worker processes, one thread each), so they never pass through the client; the fit runs there.
Then the same entries are generated in memory and fitted by ``MatrixCompleter`` on a sparse
matrix. Printed: wall time of each, their ratio, the largest difference between the two
completions on the observed entries, and the client's peak resident memory after the Dask fit
(before the in-memory one).
"""

import argparse
import resource
import time

import numpy as np


def partition(seed, n, shape, rank, noise, lo, hi):
    """One partition of ratings: ``n`` draws among rows ``lo:hi`` (distinct entries)."""
    import pandas as pd

    rng = np.random.default_rng([seed, 1])
    U = np.random.default_rng([0, 2]).standard_normal((shape[0], rank))
    V = np.random.default_rng([0, 3]).standard_normal((shape[1], rank))
    flat = np.unique(rng.integers(lo * shape[1], hi * shape[1], size=n))
    rows, cols = np.divmod(flat, shape[1])
    values = np.einsum("ij,ij->i", U[rows], V[cols]) + noise * rng.standard_normal(rows.shape)
    return pd.DataFrame({"row": rows, "col": cols, "value": values})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--cols", type=int, default=20_000)
    parser.add_argument("--ratings", type=int, default=2_000_000)
    parser.add_argument("--rank", type=int, default=10)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--max-iter", type=int, default=10)
    args = parser.parse_args()

    import dask
    import dask.dataframe as dd
    import pandas as pd
    from distributed import Client, LocalCluster

    from sklr.completion import MatrixCompleter, ratings_matrix

    shape, rank, P = (args.rows, args.cols), args.rank, args.partitions
    per_part = args.ratings // P
    # Each partition draws in its own block of rows: the entries are distinct overall.
    def part(p):
        return partition(p, per_part, shape, rank, 0.1, shape[0] * p // P,
                         shape[0] * (p + 1) // P)

    meta = pd.DataFrame({"row": np.array([], np.int64), "col": np.array([], np.int64),
                         "value": np.array([], np.float64)})
    params = {"n_components": rank, "solver": "exact", "max_iter": args.max_iter, "tol": 1e-12,
              "random_state": 0}
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True) as cluster, \
            Client(cluster):
        frame = dd.from_delayed([dask.delayed(part)(p) for p in range(P)], meta=meta)
        start = time.perf_counter()
        blocked = MatrixCompleter(**params).fit(frame)
        t_dask = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    entries = pd.concat([part(p) for p in range(P)])
    rows, cols, values = (entries[c].to_numpy() for c in ("row", "col", "value"))
    start = time.perf_counter()
    X = ratings_matrix(rows, cols, values, shape=blocked.row_factors_.shape[:1]
                       + blocked.components_.shape[1:])
    in_memory = MatrixCompleter(**params).fit(X)
    t_memory = time.perf_counter() - start
    fitted = np.einsum("ij,ji->i", blocked.row_factors_[rows], blocked.components_[:, cols])
    reference = np.einsum("ij,ji->i", in_memory.row_factors_[rows],
                          in_memory.components_[:, cols])
    print(f"| {shape[0]} x {shape[1]} | {len(values)} | {rank} | {blocked.n_iter_} | "
          f"{t_dask:.1f} | {t_memory:.1f} | {t_dask / t_memory:.2f} | "
          f"{np.max(np.abs(fitted - reference)):.1e} | {blocked.rmse_:.4f} | {peak_mb:.0f} |")


if __name__ == "__main__":
    print("| shape | ratings | rank | sweeps | Dask (s) | in memory (s) | ratio | max diff | "
          "RMSE | client peak (MB) |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    main()
