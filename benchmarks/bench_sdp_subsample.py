"""SDPClusterer's sketch and lift (``subsample``) against the full search and GaussianMixture, at scale.

Run ``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_sdp_subsample.py [--quick] [--seeds S]
[--sizes 10000 100000] [--dims 10 50]``. On heterogeneous Gaussian mixtures
(:func:`sklr.datasets.make_heterogeneous_mixture`, K = 5, separation 3) it fits, side by side in
one run:

* ``SDPClusterer(subsample="auto")`` (the default: the search on 2000 points, lifted to all);
* ``SDPClusterer(subsample=None)`` (the full search; only up to n = 10^4, it is quadratic in n);
* ``GaussianMixture(covariance_type="full", n_init=10)`` and ``KMeans(n_init=10)``.

and prints one Markdown row per (n, p, method): mis-clustering error against the true labels
(Hungarian matching), wall and CPU seconds (means over the seeds), and the time ratio
peer / SDPClusterer(auto). ``--quick`` runs n = 10^4, p = 10 and one seed.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

from sklr.cluster import SDPClusterer
from sklr.cluster import misclustering_error as error
from sklr.datasets import make_heterogeneous_mixture


def methods(K, n, seed):
    out = {"SDPClusterer (subsample='auto')": SDPClusterer(K, random_state=seed)}
    if n <= 10_000:
        out["SDPClusterer (subsample=None)"] = SDPClusterer(K, subsample=None, random_state=seed)
    out["GaussianMixture (full, n_init=10)"] = GaussianMixture(K, n_init=10, random_state=seed)
    out["KMeans (n_init=10)"] = KMeans(K, n_init=10, random_state=seed)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--dims", type=int, nargs="+", default=[10, 50])
    args = parser.parse_args()
    sizes, dims, seeds = args.sizes, args.dims, args.seeds
    if args.quick:
        sizes, dims, seeds = [10_000], [10], 1
    K = 5
    print("| n | p | method | error | wall (s) | CPU (s) | wall / SDP(auto) |")
    print("|---|---|---|---|---|---|---|")
    for n in sizes:
        for p in dims:
            rows = {}
            for seed in range(seeds):
                X, y, _, _ = make_heterogeneous_mixture(n, p, K, separation=3.0, random_state=seed)
                for name, est in methods(K, n, seed).items():
                    wall, cpu = time.perf_counter(), time.process_time()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        labels = est.fit_predict(X)
                    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                    rows.setdefault(name, []).append((error(y, labels), wall, cpu))
            base = np.mean([r[1] for r in rows["SDPClusterer (subsample='auto')"]])
            for name, results in rows.items():
                err, wall, cpu = np.mean(results, axis=0)
                print(f"| {n} | {p} | {name} | {err:.4f} | {wall:.1f} | {cpu:.1f} | "
                      f"{wall / base:.2f} |", flush=True)


if __name__ == "__main__":
    main()
