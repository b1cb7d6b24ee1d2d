"""The clustering family's squared Mahalanobis distances: by factors, by diagonals, by one factor.

Times, for each size ``(n, p, K)``, the point-to-Gaussian squared distances that every
classification-EM step of SDPClusterer computes, as ``_squared_distances`` does for each
covariance model, against the general route (batched Cholesky factors of the ``K`` covariances,
then ``mahalanobis_squared``) on the same covariances: diagonal covariances through
``mahalanobis_squared_diagonal``, one shared covariance (the tied model) through its one
factor. Best of ``--repeats`` rounds of ``--number`` calls, and the largest relative
difference from the general route::

    python benchmarks/bench_gaussian_distances.py
"""

import argparse
import timeit

import numpy as np

from sklr.cluster._gaussian import _squared_distances
from sklr.linalg._gaussian import inverse_factors, mahalanobis_squared

SIZES = ((150, 4, 3), (178, 10, 3), (569, 10, 2), (1797, 10, 2), (1797, 10, 5), (1797, 10, 10),
         (2000, 50, 5))


def _general(X, means, covs):
    _, L_inv, log_det = inverse_factors(covs, np)
    return mahalanobis_squared(X, means, L_inv, np), log_det


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--number", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.RandomState(0)
    print("| n | p | K | model | general (us) | structured (us) | ratio | max rel. difference |")
    print("|---|---|---|---|--:|--:|--:|--:|")
    for n, p, K in SIZES:
        X, means = rng.standard_normal((n, p)), rng.standard_normal((K, p))
        A = rng.standard_normal((p, p))
        cases = {"diag": rng.uniform(0.1, 2.0, (K, p))[:, None, :] * np.eye(p)[None, :, :],
                 "tied": np.stack([A @ A.T + np.eye(p)] * K)}
        for model, covs in cases.items():
            def general(covs=covs):
                return _general(X, means, covs)

            def structured(covs=covs, model=model):
                return _squared_distances(X, means, covs, model, np)

            times = [min(timeit.repeat(f, number=args.number, repeat=args.repeats)) / args.number
                     for f in (general, structured)]
            reference = general()[0]
            difference = np.abs(structured()[0] - reference).max() / np.abs(reference).max()
            print(f"| {n} | {p} | {K} | {model} | {times[0] * 1e6:.0f} | {times[1] * 1e6:.0f} | "
                  f"{times[1] / times[0]:.2f} | {difference:.1e} |", flush=True)


if __name__ == "__main__":
    main()
