"""SDPClusterer alone on issue 21's 36 data sets: error, chosen model and start, fit time.

For before/after comparisons of changes to the search (run it with ``PYTHONPATH`` at each
checkout, in turn, and compare the JSON files): the four real data sets of
``bench_sdp_real_data.py`` (prepared as there), its four foreign mixtures for seeds 100-106, and
``make_heterogeneous_mixture(600, 5, 4, separation=3.0, random_state=200..203)``. Per data set one
fit of ``SDPClusterer(n_clusters=K, random_state=0)``: the mis-clustering error (Hungarian
matching), ``covariance_type_``, ``selected_start_`` and the wall time; then the total time::

    SCIPY_ARRAY_API=1 python benchmarks/sdp_errors.py --json after.json

``--random-states 0 1 2 3 4`` fits each data set once per seed and prints the errors and their
mean (the starts are random: one seed shows which partitions a change reaches, several how
often).
"""

import argparse
import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_sdp_real_data import REAL, foreign_mixture, real_data  # noqa: E402

from sklr.cluster import SDPClusterer, misclustering_error  # noqa: E402
from sklr.datasets import make_heterogeneous_mixture  # noqa: E402

KINDS = ("stretched", "rotated", "unequal", "tight_wide")


def cases():
    for name in REAL:
        yield name, lambda name=name: real_data(name)
    for kind in KINDS:
        for seed in range(100, 107):
            yield f"{kind}{seed}", lambda kind=kind, seed=seed: foreign_mixture(kind, seed)
    for seed in range(200, 204):
        def heterogeneous(seed=seed):
            X, y = make_heterogeneous_mixture(600, 5, 4, separation=3.0, random_state=seed)[:2]
            return X, y, 4
        yield f"heterogeneous{seed}", heterogeneous


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--random-states", type=int, nargs="+", default=[0])
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    out, total, errors = {}, 0.0, []
    for name, make in cases():
        X, y, K = make()
        rows = []
        for seed in args.random_states:
            start = time.perf_counter()
            model = SDPClusterer(n_clusters=K, random_state=seed).fit(X)
            elapsed = time.perf_counter() - start
            total += elapsed
            rows.append((round(float(misclustering_error(y, model.labels_)), 4),
                         model.covariance_type_, model.selected_start_, round(elapsed, 3)))
        out[name] = rows
        mean = sum(row[0] for row in rows) / len(rows)
        errors.append(mean)
        if len(rows) == 1:
            print(name, *rows[0], flush=True)
        else:
            print(name, f"mean {mean:.4f}", " ".join(f"{row[0]:.4f}" for row in rows),
                  f"{sum(row[3] for row in rows):.2f} s", flush=True)
    print(f"total {total:.2f} s, mean error {sum(errors) / len(errors):.4f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
