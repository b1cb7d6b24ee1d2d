"""Benchmark SensitivitySampler coresets against least absolute deviations on all rows.

Problem: ``min_{w, b} sum_i |y_i - x_i^T w - b|`` (LAD, the l_1 loss) with
heavy-tailed noise (Student t, 1.5 degrees of freedom) on two designs:
``gaussian`` (every row alike) and ``coherent`` (``d`` rows carry nearly all
the leverage; ``sklr.datasets.make_least_squares``).

Peer: ``QuantileRegressor(alpha=0, solver="highs")`` on all rows, the exact
LP and what a scikit-learn user runs today; its objective ``f*`` is the
optimum. Also shown: sklr's ``LpRegressor(p=1)`` (IRLS) on all rows.

For each method (uniform, leverage, root_leverage, lewis, sensitivity) and
coreset size ``m`` the script draws the coreset (scores + sample), fits
``QuantileRegressor(alpha=0)`` on it with the sample weights, and reports
the full-data objective of that fit over ``f*`` (median and worst over the
repeats, one seed each) and the time (scores + sampling + fit) over the
peer's time. Timed runs alternate between methods within each repeat.

Usage::

    python benchmarks/bench_sensitivity_sampler.py --quick
    python benchmarks/bench_sensitivity_sampler.py --out results.md     # n = 100000, d = 20

See ``benchmarks/results/2026-11-23_sensitivity_sampler*.md`` for the results and
``benchmarks/README.md`` for the targets and the current standing.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # before scipy is first imported

import argparse  # noqa: E402
import datetime  # noqa: E402
import platform  # noqa: E402
import shlex  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import sklearn  # noqa: E402
from sklearn.linear_model import QuantileRegressor  # noqa: E402

import sklr  # noqa: E402
from sklr.datasets import make_least_squares  # noqa: E402
from sklr.linear_model import LpRegressor  # noqa: E402
from sklr.sampling import SensitivitySampler  # noqa: E402

METHODS = ("uniform", "leverage", "root_leverage", "lewis", "sensitivity")
DESIGNS = ("gaussian", "coherent")
# The target: a Lewis coreset of 20 d rows within 1.1x of the optimum,
# in at most 5 % of the full solve's time.
TARGET_RATIO, TARGET_TIME = 1.1, 0.05


def _problem(n, d, design, seed=0):
    X, _, coef = make_least_squares(n, d, design=design, random_state=seed)
    y = X @ coef + 1.0 + np.random.RandomState(seed + 1).standard_t(1.5, size=n)
    return X, y


def _l1(X, y, model):
    return float(np.abs(y - model.predict(X)).sum())


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def run_design(n, d, design, sizes, repeat, out, methods=METHODS, peer=True):
    X, y = _problem(n, d, design)
    print(f"\n### {design} design, n = {n}, d = {d}, Student-t(1.5) noise\n", file=out)
    if peer:
        ref, peer_s = _timed(lambda: QuantileRegressor(alpha=0.0, solver="highs").fit(X, y))
        f_opt = _l1(X, y, ref)
        irls, irls_s = _timed(lambda: LpRegressor(p=1.0).fit(X, y))
        print(f"Peer `QuantileRegressor(alpha=0, solver='highs')` on all rows: {peer_s:.2f} s, "
              f"objective f* = {f_opt:.6g}. sklr `LpRegressor(p=1)` on all rows: {irls_s:.2f} s "
              f"({peer_s / irls_s:.0f}x faster), objective / f* = "
              f"{_l1(X, y, irls) / f_opt:.6f}.\n", file=out)
    else:  # the LP on all rows would take hours: the reference is IRLS to a tight tolerance
        ref, peer_s = _timed(lambda: LpRegressor(p=1.0, tol=1e-10, max_iter=300).fit(X, y))
        f_opt = _l1(X, y, ref)
        print(f"No peer run (`--no-peer`): the reference is sklr `LpRegressor(p=1, tol=1e-10)` "
              f"on all rows, {peer_s:.2f} s, objective f* = {f_opt:.6g}; the time column is "
              "relative to it.\n", file=out)
    print("| method | coreset rows m | rows drawn (median) | objective / f* (median) "
          "| objective / f* (worst) | time (s, median) | time / peer time |", file=out)
    print("|---|---|---|---|---|---|---|", file=out)
    results = {}
    for m in sizes:
        runs = {method: [] for method in methods}
        for seed in range(repeat):
            for method in methods:  # alternate the methods within each repeat
                def fit():
                    sampler = SensitivitySampler(
                        p=1.0, method=method, n_samples=m, random_state=seed,
                        estimator=QuantileRegressor(alpha=0.0, solver="highs"),
                    )
                    return sampler.fit(X, y)
                sampler, seconds = _timed(fit)
                runs[method].append(
                    (len(sampler.sample_indices_), _l1(X, y, sampler) / f_opt, seconds))
        for method in methods:
            drawn, ratio, seconds = (np.array(col) for col in zip(*runs[method]))
            results[method, m] = (np.median(ratio), ratio.max(), np.median(seconds) / peer_s)
            print(f"| {method} | {m} | {np.median(drawn):.0f} | {np.median(ratio):.4f} "
                  f"| {ratio.max():.4f} | {np.median(seconds):.3f} "
                  f"| {np.median(seconds) / peer_s:.4f} |", file=out)
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="n = 20000, d = 10 (about a minute)")
    parser.add_argument("--n", type=int, default=None, help="rows (default 100000)")
    parser.add_argument("--d", type=int, default=None, help="features (default 20)")
    parser.add_argument("--repeat", type=int, default=3, help="seeds per method and size")
    parser.add_argument("--designs", nargs="+", default=list(DESIGNS), choices=DESIGNS)
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--sizes", nargs="+", type=int, default=None,
                        help="coreset sizes (default 5d 10d 20d 40d 80d)")
    parser.add_argument("--no-peer", action="store_true",
                        help="skip QuantileRegressor (hours at n = 10**6); compare with IRLS")
    parser.add_argument("--out", default=None, help="also write the report to this file")
    args = parser.parse_args(argv)
    n = args.n or (20_000 if args.quick else 100_000)
    d = args.d or (10 if args.quick else 20)
    sizes = args.sizes or [5 * d, 10 * d, 20 * d, 40 * d, 80 * d]
    if 20 * d not in sizes:
        sizes.append(20 * d)  # the size the verdict is about

    class Tee:
        def __init__(self, *files):
            self.files = files

        def write(self, text):
            for f in self.files:
                f.write(text)
                f.flush()

    files = [sys.stdout] + ([open(args.out, "w")] if args.out else [])
    out = Tee(*files)
    print(f"## SensitivitySampler vs QuantileRegressor, {datetime.date.today()}\n", file=out)
    print(f"Command: `python benchmarks/{os.path.basename(__file__)} "
          f"{shlex.join(sys.argv[1:] if argv is None else argv)}`  ", file=out)
    print(f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, numpy {np.__version__}, scipy {scipy.__version__}, "
          f"scikit-learn {sklearn.__version__}, sklr {sklr.__version__}.  ", file=out)
    print(f"Repeats: {args.repeat} seeds per cell. Sizes m = 5d ... 80d; the coreset includes "
          "the intercept and y, so the preserved subspace has k = d + 2 columns.", file=out)
    verdicts = []
    for design in args.designs:
        results = run_design(n, d, design, sizes, args.repeat, out, args.methods,
                             peer=not args.no_peer)
        if ("lewis", 20 * d) not in results:
            continue
        ratio, worst, time_ratio = results["lewis", 20 * d]
        ok = worst <= TARGET_RATIO and time_ratio <= TARGET_TIME
        verdicts.append(
            f"- {design}: Lewis coreset of 20 d = {20 * d} rows: objective within "
            f"{worst:.3f}x of f* (worst of {args.repeat}), time {100 * time_ratio:.2f} % of the "
            f"full solve{' (IRLS, not the peer)' if args.no_peer else ''}: target "
            f"(<= {TARGET_RATIO}x, <= {100 * TARGET_TIME:.0f} %) {'met' if ok else 'MISSED'}.")
    print("\n### Verdict\n", file=out)
    for line in verdicts:
        print(line, file=out)
    for f in files[1:]:
        f.close()


if __name__ == "__main__":
    main()
