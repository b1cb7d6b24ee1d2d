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
often). Each JSON row is ``[error, covariance_type_, selected_start_, seconds, cost_, steps]``,
``steps`` the Burer-Monteiro solver steps of the fit (counted around ``solve_bm``): steps and
costs, unlike times, compare across runs on a busy machine.

``--data fresh`` runs 36 other data sets instead, for checking a change the benchmark's sets
suggested on data it was not tuned on: the same four foreign mixtures at seeds 107-112,
``make_heterogeneous_mixture(600, 5, 4)`` at seeds 204-209 and ``(1000, p, 5)`` at p = 2, 10 and
seeds 6-8 (``--random-states 0 1`` was used in ``results/2026-12-07_sdp_no_restart.md``).

``--n-init 2`` fits with ``SDPClusterer(n_init=2)`` (the estimator's own restarts, the run of
lowest classification BIC kept): what more runs buy on these data sets and what they cost.

``--data others`` runs 50 data sets of other generators than ours (``other_generator`` of
``bench_sdp_real_data.py``: scikit-learn's k-means-assumptions demo data, ``make_classification``
and a Student-t mixture, seeds 0-9 each); ``--scale 10`` draws them with ten times the points.

``--data shared`` runs the ``shared`` foreign mixture (one covariance for all clusters) at seeds
110-121. ``--models full diag spherical`` restricts the models ``covariance_type="auto"``
compares (the default compares all four), for measuring what one model adds. ``--peers`` also fits
``GaussianMixture(K, covariance_type="full", n_init=10)`` and ``KMeans(K, n_init=10)`` at each
seed, appends their errors and the GaussianMixture's fit time to the JSON rows, counts the fits
more than 0.01 behind the better of the two (issue 21.1) and ahead of both, and prints the fit
time ratios::

    SCIPY_ARRAY_API=1 python benchmarks/sdp_errors.py --data shared --random-states 0 --peers
"""

import argparse
import json
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_sdp_real_data import (  # noqa: E402
    OTHERS,
    REAL,
    foreign_mixture,
    other_generator,
    real_data,
)

import sklr.cluster._model_selection as _model_selection  # noqa: E402
import sklr.cluster._sdp as _sdp  # noqa: E402
from sklr.cluster import SDPClusterer, misclustering_error  # noqa: E402
from sklr.datasets import make_heterogeneous_mixture  # noqa: E402

KINDS = ("stretched", "rotated", "unequal", "tight_wide")


def _generated(foreign_seeds, heterogeneous_seeds, prefix):
    """The four foreign mixtures and ``make_heterogeneous_mixture(600, 5, 4)`` at these seeds."""
    for kind in KINDS:
        for seed in foreign_seeds:
            yield f"{kind}{seed}", lambda kind=kind, seed=seed: foreign_mixture(kind, seed)
    for seed in heterogeneous_seeds:
        def heterogeneous(seed=seed):
            X, y = make_heterogeneous_mixture(600, 5, 4, separation=3.0, random_state=seed)[:2]
            return X, y, 4
        yield f"{prefix}{seed}", heterogeneous


def cases():
    for name in REAL:
        yield name, lambda name=name: real_data(name)
    yield from _generated(range(100, 107), range(200, 204), "heterogeneous")


def shared_cases():
    """The ``shared`` foreign mixture (one covariance for every cluster) at seeds 110-121."""
    for seed in range(110, 122):
        yield f"shared{seed}", lambda seed=seed: foreign_mixture("shared", seed)


def other_cases(scale=1):
    """50 data sets of other generators than ours: ``other_generator`` kinds at seeds 0-9."""
    for kind in OTHERS:
        for seed in range(10):
            yield f"{kind}{seed}", lambda kind=kind, seed=seed: other_generator(kind, seed, scale)


def _peer_errors(X, y, K, seed):
    """Errors of GaussianMixture(full, n_init=10) and KMeans(n_init=10) at ``seed``, and the
    GaussianMixture's fit time."""
    from sklearn.cluster import KMeans
    from sklearn.mixture import GaussianMixture

    start = time.perf_counter()
    gmm = GaussianMixture(K, covariance_type="full", n_init=10, random_state=seed).fit(X)
    seconds = time.perf_counter() - start
    kmeans = KMeans(K, n_init=10, random_state=seed).fit(X)
    return (round(float(misclustering_error(y, gmm.predict(X))), 4),
            round(float(misclustering_error(y, kmeans.labels_)), 4), round(seconds, 3))


def fresh_cases():
    """36 data sets outside the benchmark's: other seeds of its generators (see the docstring)."""
    yield from _generated(range(107, 113), range(204, 210), "het")
    for p in (2, 10):
        for seed in range(6, 9):
            def large(p=p, seed=seed):
                X, y = make_heterogeneous_mixture(1000, p, 5, separation=3.0,
                                                  random_state=seed)[:2]
                return X, y, 5
            yield f"het1000p{p}s{seed}", large


class _StepCounter:
    """Counts the Burer-Monteiro steps of the iLA-SDP rounds (wraps ``_sdp.solve_bm``)."""

    def __init__(self):
        self.steps, self._solve = 0, _sdp.solve_bm

        def counted(*args, **kwargs):
            result = self._solve(*args, **kwargs)
            self.steps += result.n_iter
            return result

        _sdp.solve_bm = counted


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--random-states", type=int, nargs="+", default=[0])
    parser.add_argument("--data", choices=["benchmark", "fresh", "shared", "others"],
                        default="benchmark")
    parser.add_argument("--n-init", type=int, default=1, help="SDPClusterer's n_init")
    parser.add_argument("--models", nargs="+", choices=list(_model_selection.COVARIANCE_MODELS),
                        help="the covariance models covariance_type='auto' compares")
    parser.add_argument("--scale", type=int, default=1,
                        help="with --data others: this many times the points")
    parser.add_argument("--peers", action="store_true",
                        help="also fit GaussianMixture and KMeans and count the fits behind")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    if args.models:
        models = tuple(m for m in _model_selection.COVARIANCE_MODELS if m in args.models)
        _model_selection.COVARIANCE_MODELS = _sdp.COVARIANCE_MODELS = models
    counter = _StepCounter()
    out, total, errors, behind = {}, 0.0, [], []
    data = {"benchmark": cases, "fresh": fresh_cases, "shared": shared_cases,
            "others": lambda: other_cases(args.scale)}[args.data]
    for name, make in data():
        X, y, K = make()
        rows = []
        for seed in args.random_states:
            counter.steps = 0
            start = time.perf_counter()
            model = SDPClusterer(n_clusters=K, n_init=args.n_init,
                                 random_state=seed).fit(X)
            elapsed = time.perf_counter() - start
            total += elapsed
            rows.append((round(float(misclustering_error(y, model.labels_)), 4),
                         model.covariance_type_, model.selected_start_, round(elapsed, 3),
                         float(model.cost_), counter.steps))
            if args.peers:
                peers = _peer_errors(X, y, K, seed)
                rows[-1] += peers
                if rows[-1][0] > min(peers[:2]) + 0.01:
                    behind.append(f"{name}@{seed}")
        out[name] = rows
        mean = sum(row[0] for row in rows) / len(rows)
        errors.append(mean)
        if len(rows) == 1:
            print(name, *rows[0], flush=True)
        else:
            print(name, f"mean {mean:.4f}", " ".join(f"{row[0]:.4f}" for row in rows),
                  f"{sum(row[3] for row in rows):.2f} s", flush=True)
    steps = sum(row[5] for rows in out.values() for row in rows)
    print(f"total {total:.2f} s, mean error {sum(errors) / len(errors):.4f}, {steps} solver steps")
    if args.peers:
        rows = [row for rows in out.values() for row in rows]
        ahead = [row for row in rows if row[0] < min(row[6:8]) - 0.01]
        ratios = sorted(row[3] / row[8] for row in rows)
        print(f"behind the better peer by more than 0.01: {len(behind)}", *behind)
        print(f"ahead of both by more than 0.01: {len(ahead)}; fit time / GaussianMixture's: "
              f"median {ratios[len(ratios) // 2]:.1f}, range {ratios[0]:.1f}-{ratios[-1]:.1f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
