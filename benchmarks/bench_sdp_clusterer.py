"""SDPClusterer (iLA-SDP and the K-means SDP) against KMeans, GaussianMixture and SpectralClustering.

Run ``python benchmarks/bench_sdp_clusterer.py [--quick] [--seeds S]``. Prints one Markdown table
per data set: mis-clustering error (Hungarian matching), adjusted Rand index and fit time (mean over
seeds; the seed drives both the data and the methods), and the time ratio of each peer to
SDPClusterer.

Data sets:

* heterogeneous Gaussian mixtures from :func:`sklr.datasets.make_heterogeneous_mixture` with
  K = 5, separation 3, n in {1000, 10^4} and p in {10, 50} (clusters of different sizes, scales
  and rotated shapes);
* scikit-learn's bundled ``load_digits`` (n = 1797, p = 64, K = 10) and ``load_wine`` (n = 178,
  p = 13, K = 3), standardized.

Methods: ``SDPClusterer`` (iLA-SDP, full covariances, solver 'bm'), ``SDPClusterer`` with
``method='kmeans-sdp'``, ``KMeans(n_init=10)``, ``GaussianMixture(covariance_type='full')`` with
its default single start and with ``n_init=10``, and ``SpectralClustering`` with a k-nearest
neighbour affinity (the default RBF affinity builds a dense n x n matrix; at n = 10^4 it does not
fit the time budget). ``--quick`` keeps n = 1000 and the two real data sets.
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.cluster import KMeans, SpectralClustering
from sklearn.datasets import load_digits, load_wine
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import adjusted_rand_score
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler

from sklr.cluster import SDPClusterer
from sklr.cluster import misclustering_error as error
from sklr.datasets import make_heterogeneous_mixture


def methods(K, seed):
    return {
        "SDPClusterer (iLA-SDP)": SDPClusterer(K, random_state=seed),
        "SDPClusterer (K-means SDP)": SDPClusterer(K, method="kmeans-sdp", random_state=seed),
        "KMeans (n_init=10)": KMeans(K, n_init=10, random_state=seed),
        "GaussianMixture (full)": GaussianMixture(K, random_state=seed),
        "GaussianMixture (full, n_init=10)": GaussianMixture(K, n_init=10, random_state=seed),
        "SpectralClustering (kNN)": SpectralClustering(K, affinity="nearest_neighbors",
                                                       random_state=seed),
    }


def run(name, make, K, seeds):
    rows = {}
    for seed in seeds:
        X, y = make(seed)
        for method, model in methods(K, seed).items():
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                labels = model.fit_predict(X)
            elapsed = time.perf_counter() - start
            rows.setdefault(method, []).append((error(y, labels),
                                                adjusted_rand_score(y, labels), elapsed))
    ours = np.mean([r[2] for r in rows["SDPClusterer (iLA-SDP)"]])
    print(f"\n### {name} ({len(seeds)} seed{'s' if len(seeds) > 1 else ''})\n")
    print("| method | error | ARI | time (s) | time / iLA-SDP |")
    print("|---|---|---|---|---|")
    for method, values in rows.items():
        err, ari, secs = (np.mean([v[i] for v in values]) for i in range(3))
        worst = max(v[0] for v in values)
        print(f"| {method} | {err:.4f} (worst {worst:.4f}) | {ari:.3f} | {secs:.2f} | "
              f"{secs / ours:.2f} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="n = 1000 and the real data only")
    parser.add_argument("--seeds", type=int, default=3, help="seeds per synthetic set (n=1000)")
    args = parser.parse_args()
    sizes = [1000] if args.quick else [1000, 10000]
    for n in sizes:
        for p in (10, 50):
            seeds = list(range(args.seeds if n <= 1000 else max(1, args.seeds - 1)))
            run(f"heterogeneous mixture, n = {n}, p = {p}, K = 5",
                lambda seed, n=n, p=p: make_heterogeneous_mixture(
                    n, p, 5, separation=3.0, random_state=seed)[:2], 5, seeds)
    for name, loader, K in (("load_digits (n = 1797, p = 64, K = 10)", load_digits, 10),
                            ("load_wine (n = 178, p = 13, K = 3)", load_wine, 3)):
        data = loader()
        X = StandardScaler().fit_transform(data.data)
        run(name, lambda seed, X=X, y=data.target: (X, y), K, [0])


if __name__ == "__main__":
    main()
