"""Benchmark: KroSBL (``kronecker_sbl``, behind SparseBayesKronecker) against scikit-learn.

The synthetic setting of He and Joseph (2024): ``A_1`` of ``M_1 x 15``,
``A_2`` 12 x 15, ``A_3`` 15 x 15 with i.i.d. normal entries, ``x = x_1 (x)
x_2 (x) x_3`` with 3 non-zeros per factor (27 in all), white noise at a given
SNR. Every method learns the noise variance. Peers run on the explicit
``180 M_1 x 3375`` dictionary: ``ARDRegression(fit_intercept=False)`` and
``OrthogonalMatchingPursuit`` told the true number of non-zeros (27).

Reported per method: median NMSE ``||x_hat - x||^2 / ||x||^2``, mean
support recovery rate ``|S_hat & S| / |S_hat | S|`` with ``S_hat = {|x_j| >
1e-3 max |x|}`` (the paper's), median time per problem, and the time ratio
to ARDRegression (or to SVD-KroSBL where ARD did not run).

Usage::

    python benchmarks/bench_sparse_bayes_kronecker.py --quick   # ~1 min, no ARD sweep
    python benchmarks/bench_sparse_bayes_kronecker.py           # the paper's setting + sweeps
"""

import argparse
import os
import platform
import statistics
import time
import warnings

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
from sklearn.linear_model import ARDRegression, OrthogonalMatchingPursuit  # noqa: E402

from sklr.datasets import make_kronecker_sparse  # noqa: E402
from sklr.decomposition import kronecker_sbl  # noqa: E402
from sklr.linalg import kron  # noqa: E402


def _nmse(estimate, truth):
    return float(np.sum((estimate - truth) ** 2) / np.sum(truth**2))


def _recovery(estimate, truth):
    support = set(np.flatnonzero(truth))
    if not np.any(estimate):
        return 0.0
    found = set(np.flatnonzero(np.abs(estimate) > 1e-3 * np.abs(estimate).max()))
    return len(found & support) / len(found | support)


def _solve(method, A, y, n_nonzero):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method in ("svd", "am", "classic"):
            return kronecker_sbl(A, y, method=method).coef
        D = kron(A)
        if method == "ARDRegression":
            return ARDRegression(fit_intercept=False).fit(D, y).coef_
        return OrthogonalMatchingPursuit(n_nonzero_coefs=n_nonzero,
                                         fit_intercept=False).fit(D, y).coef_


LABELS = {"svd": "SVD-KroSBL", "am": "AM-KroSBL", "classic": "classic SBL",
          "ARDRegression": "sklearn ARDRegression", "OMP": "sklearn OMP (27 atoms)"}


def run(m1, snr_db, trials, seed=0):
    """``trials``: method -> number of trials (the first ones of the same seeded problems)."""
    results = {method: [] for method in trials}
    for t in range(max(trials.values())):
        A, y, x, _ = make_kronecker_sparse(((m1, 15), (12, 15), (15, 15)), 3, snr_db=snr_db,
                                           random_state=seed + t)
        for method, n in trials.items():  # methods alternate on each problem
            if t >= n:
                continue
            start = time.perf_counter()
            estimate = _solve(method, A, y, 27)
            elapsed = time.perf_counter() - start
            results[method].append((_nmse(estimate, x), _recovery(estimate, x), elapsed))
    return results


def table(title, results):
    print(f"\n#### {title}\n")
    print("| method | trials | median NMSE | mean support recovery | median time (s) | "
          "time / ARD |")
    print("|---|---|---|---|---|---|")
    times = {m: statistics.median(r[2] for r in rows) for m, rows in results.items() if rows}
    base = times.get("ARDRegression")
    for method, rows in results.items():
        nmse = statistics.median(r[0] for r in rows)
        recovery = statistics.mean(r[1] for r in rows)
        ratio = f"{times[method] / base:.2g}" if base else "-"
        print(f"| {LABELS[method]} | {len(rows)} | {nmse:.2e} | {recovery:.2f} | "
              f"{times[method]:.3f} | {ratio} |", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--ard-trials", type=int, default=3,
                        help="ARDRegression takes about a minute per problem")
    args = parser.parse_args()
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores; numpy {np.__version__}")
    trials = 4 if args.quick else args.trials
    ard = 1 if args.quick else args.ard_trials
    main_trials = {"svd": trials, "am": trials, "classic": min(trials, 3),
                   "ARDRegression": ard, "OMP": trials}
    table("The paper's setting: M_1 = 8 (1440 x 3375), 3 non-zeros per factor, 25 dB",
          run(8, 25.0, main_trials))
    if args.quick:
        return
    sweep = {"svd": trials, "am": trials, "OMP": trials}
    for snr in (5.0, 10.0, 15.0, 20.0, 30.0):
        table(f"SNR {snr:g} dB, M_1 = 8", run(8, snr, sweep))
    for m1 in (6, 10, 12, 14):
        table(f"M_1 = {m1} ({180 * m1} x 3375), 25 dB", run(m1, 25.0, sweep))


if __name__ == "__main__":
    main()
