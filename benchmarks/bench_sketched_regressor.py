"""Benchmark SketchedRegressor against exact dense least-squares solvers.

Every method solves the same problem, ``min_w ||X w - y||`` without an
intercept, on the same data in the same process. Timed runs alternate between
the methods (one round over all of them per repeat) and the table reports the
median time. The reference optimum ``x*`` is the solution of LAPACK ``gelsd``
(``scipy.linalg.lstsq``), with residual ``r* = ||X x* - y||``.

Peers: ``scipy.linalg.lstsq`` with the ``gelsd`` and ``gelsy`` drivers,
``sklearn.linear_model.LinearRegression`` and a Cholesky solve of the normal
equations. A second table sweeps the condition number to show where the
normal equations lose their accuracy.

Usage::

    python benchmarks/bench_sketched_regressor.py --quick
    python benchmarks/bench_sketched_regressor.py --repeat 3 --out results.md

See ``benchmarks/results/2026-11-23_sketched_regressor_b.md`` for the meaning of each column
and ``benchmarks/README.md`` for the targets and the current standing.
"""

import os

os.environ.setdefault("SCIPY_ARRAY_API", "1")  # before scipy is first imported

import argparse  # noqa: E402
import datetime  # noqa: E402
import gc  # noqa: E402
import importlib  # noqa: E402
import platform  # noqa: E402
import resource  # noqa: E402
import shlex  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402

import numpy as np  # noqa: E402
import scipy  # noqa: E402
import scipy.linalg  # noqa: E402
import sklearn  # noqa: E402

import sklr  # noqa: E402
from sklr.datasets import make_least_squares  # noqa: E402
from sklr.linalg import default_sketch_size, make_sketch  # noqa: E402

DESIGNS = ("gaussian", "ill_conditioned", "coherent")
FULL_SHAPES = ((1_000_000, 100), (200_000, 1_000))
QUICK_SHAPES = ((100_000, 50),)
SWEEP_CONDS = (1e0, 1e2, 1e4, 1e6, 1e8, 1e10, 1e12)
SWEEP_METHODS = (
    "gelsy",
    "LinearRegression",
    "normal equations (Cholesky)",
    "sklr precondition (srht)",
    "sklr precondition (sparse_sign)",
)

# Targets from the issue.
SKETCH_SPEEDUP_TARGET = 3.0
SKETCH_RESIDUAL_TARGET = 1.05
PRECONDITION_SPEEDUP_TARGET = 2.0
PRECONDITION_GAP_TARGET = 1e-10

# The Gaussian sketch draws m * rows normals and multiplies an (m x rows) by a
# (rows x d) block; above this many flops it would dominate the run on a CPU,
# so it is skipped with a note (at --quick size it is kept: 1e10 flops).
GAUSSIAN_MAX_FLOPS = 2e10

EPS = float(np.finfo(np.float64).eps)


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- methods


@dataclass
class Method:
    """One solver: ``fit(X, y, seed) -> (coef, note, extra)``; ``extra`` is a dict."""

    name: str
    fit: object
    solver: str = ""  # "sketch" or "precondition" for sklr rows (their target)
    requires: tuple = ()


def _lapack(driver):
    def fit(X, y, seed):
        coef, _, rank, singular_values = scipy.linalg.lstsq(X, y, lapack_driver=driver)
        extra = {} if singular_values is None else {"singular_values": singular_values}
        return coef, f"rank {rank}" if rank < X.shape[1] else "", extra

    return fit


def _linear_regression(X, y, seed):
    from sklearn.linear_model import LinearRegression

    reg = LinearRegression(fit_intercept=False).fit(X, y)
    note = f"rank {reg.rank_} (tol=1e-6 cut)" if reg.rank_ < X.shape[1] else ""
    return reg.coef_, note, {}


def _normal_equations(X, y, seed):
    factor = scipy.linalg.cho_factor(X.T @ X)
    return scipy.linalg.cho_solve(factor, X.T @ y), "", {}


def _sklr(sketch, solver, **params):
    def fit(X, y, seed):
        from sklearn.exceptions import ConvergenceWarning

        reg = sklr.SketchedRegressor(
            sketch=sketch, solver=solver, fit_intercept=False, random_state=seed, **params
        )
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            reg.fit(X, y)
        note = f"m={reg.n_components_}"
        if solver == "precondition":
            note += f", {reg.n_iter_ - 1} iter"
        if any(issubclass(w.category, ConvergenceWarning) for w in caught):
            note += ", NOT CONVERGED"
        elif caught:
            note += f", warning: {str(caught[0].message)[:60]}"
        return reg.coef_, note, {}

    return fit


def all_methods():
    methods = [
        Method("gelsd", _lapack("gelsd")),
        Method("gelsy", _lapack("gelsy")),
        Method("LinearRegression", _linear_regression, requires=("sklearn.linear_model",)),
        Method("normal equations (Cholesky)", _normal_equations),
    ]
    # The CountSketch pre-stage of the dense sketches is opt-in (n_buckets="auto").
    variants = [("srht", {}), ("srht", {"n_buckets": "auto"}), ("gaussian", {}),
                ("countsketch", {}), ("sparse_sign", {})]
    for solver in ("sketch", "precondition"):
        for sketch, params in variants:
            if solver == "precondition" and sketch in ("gaussian", "countsketch"):
                continue
            label = ", ".join([sketch] + [f"{k}={v}" for k, v in params.items()])
            methods.append(Method(f"sklr {solver} ({label})", _sklr(sketch, solver, **params),
                                  solver))
    # The precondition target is a 1e-10 relative residual gap; the gap is about
    # half the squared relative gradient, so tol=1e-5 reaches it (tol=1e-10, the default,
    # also makes the coefficients exact to about 1e-10).
    methods.append(Method("sklr precondition (srht, tol=1e-05)",
                          _sklr("srht", "precondition", tol=1e-5), "precondition"))
    return methods


def missing_requirement(method):
    """The import error of a missing optional peer, or None when it is available."""
    for module in method.requires:
        try:
            importlib.import_module(module)
        except ImportError as exc:
            return f"not installed ({exc})"
    return None


def skip_reason(method, n, d):
    """Why a method is left out at this size, or None."""
    if method.name != "sklr sketch (gaussian)":
        return None
    m = default_sketch_size(n, d)
    n_buckets = sklr.SketchedRegressor().n_buckets  # the estimator's default
    rows = make_sketch("gaussian", n, m, n_buckets=n_buckets).n_buckets or n
    flops = 2.0 * m * rows * d
    if flops > GAUSSIAN_MAX_FLOPS:
        return (f"skipped: dense Gaussian sketch, 2*m*rows*d = {flops:.1e} flops "
                f"and m*rows = {m * rows:.1e} normal draws per apply")
    return None


# --------------------------------------------------------------------------- runs


@dataclass
class Row:
    method: Method
    status: str = ""  # empty when it ran; otherwise why not
    times: list = field(default_factory=list)
    coefs: list = field(default_factory=list)
    note: str = ""
    extra: dict = field(default_factory=dict)
    metrics: dict = field(default_factory=dict)


def time_fit(method, X, y, seed):
    gc.collect()
    start = time.perf_counter()
    coef, note, extra = method.fit(X, y, seed)
    elapsed = time.perf_counter() - start
    return elapsed, np.asarray(coef, dtype=np.float64).reshape(-1), note, extra


def run_round_robin(methods, X, y, repeat, label):
    """Time every method ``repeat`` times, alternating between them."""
    n, d = X.shape
    rows = [Row(m) for m in methods]
    for row in rows:
        row.status = missing_requirement(row.method) or skip_reason(row.method, n, d) or ""
    for r in range(repeat):
        for row in rows:
            if row.status:
                continue
            try:
                elapsed, coef, note, extra = time_fit(row.method, X, y, seed=r)
            except Exception as exc:  # a failing peer is a result, not a crash
                row.status = f"failed: {type(exc).__name__}: {str(exc).splitlines()[0][:80]}"
                log(f"{label} repeat {r + 1}/{repeat}: {row.method.name} {row.status}")
                continue
            row.times.append(elapsed)
            row.coefs.append(coef)
            if "NOT CONVERGED" not in row.note:  # keep the note of a failed repeat
                row.note = note
            row.extra = extra
            log(f"{label} repeat {r + 1}/{repeat}: {row.method.name:34s} {elapsed:8.3f} s")
    return rows


def residual_norm(X, y, coef):
    return float(np.linalg.norm(X @ coef - y))


def score(rows, X, y):
    """Fill each row's metrics against gelsd's solution; returns (r*, cond(X)).

    cond(X) comes from the singular values gelsd computes anyway.
    """
    ref = next(row for row in rows if row.method.name == "gelsd")
    x_star = ref.coefs[0]
    r_star = residual_norm(X, y, x_star)
    x_norm = float(np.linalg.norm(x_star))
    for row in rows:
        if row.status:
            continue
        worst = {"ratio": -np.inf, "gap": -np.inf, "coef_rel": -np.inf, "coef_inf": -np.inf}
        for coef in row.coefs:  # worst case over the repeats (their seeds differ)
            res = residual_norm(X, y, coef)
            err = coef - x_star
            worst["ratio"] = max(worst["ratio"], res / r_star)
            worst["gap"] = max(worst["gap"], (res - r_star) / r_star)
            worst["coef_rel"] = max(worst["coef_rel"], float(np.linalg.norm(err)) / x_norm)
            worst["coef_inf"] = max(worst["coef_inf"], float(np.max(np.abs(err))))
        worst["time"] = float(np.median(row.times))
        row.metrics = worst
    for row in rows:
        if not row.status:
            row.metrics["speedup"] = ref.metrics["time"] / row.metrics["time"]
    singular_values = ref.extra["singular_values"]
    return r_star, float(singular_values[0] / singular_values[-1])


def target_verdict(row):
    """Whether an sklr row meets the issue's target for its solver."""
    mt = row.metrics
    if row.method.solver == "sketch":
        fails = []
        if mt["speedup"] < SKETCH_SPEEDUP_TARGET:
            fails.append(f"speed-up < {SKETCH_SPEEDUP_TARGET:g}x")
        if mt["ratio"] > SKETCH_RESIDUAL_TARGET:
            fails.append(f"residual > {SKETCH_RESIDUAL_TARGET:g}x")
    elif row.method.solver == "precondition":
        fails = []
        if mt["speedup"] < PRECONDITION_SPEEDUP_TARGET:
            fails.append(f"speed-up < {PRECONDITION_SPEEDUP_TARGET:g}x")
        if mt["gap"] > PRECONDITION_GAP_TARGET:
            fails.append(f"gap > {PRECONDITION_GAP_TARGET:g}")
    else:
        return ""
    return "met" if not fails else "MISSED: " + ", ".join(fails)


# --------------------------------------------------------------------------- output


def fmt_sci(value):
    return f"{value:.1e}" if value != 0 else "0"


def section_table(rows):
    lines = [
        "| method | median time (s) | speed-up vs gelsd | residual ratio | rel. residual gap "
        "| rel. coef error | l_inf coef error | target | notes |",
        "|---|--:|--:|--:|--:|--:|--:|---|---|",
    ]
    for row in rows:
        if row.status:
            lines.append(f"| {row.method.name} | - | - | - | - | - | - | - | {row.status} |")
            continue
        mt = row.metrics
        if row.method.name == "gelsd":
            errors = "0 (ref) | 0 (ref) | 0 (ref)"
        else:
            errors = f"{mt['gap']:+.1e} | {fmt_sci(mt['coef_rel'])} | {fmt_sci(mt['coef_inf'])}"
        lines.append(
            f"| {row.method.name} | {mt['time']:.3f} | {mt['speedup']:.2f}x "
            f"| {mt['ratio']:.6f} | {errors} | {target_verdict(row)} | {row.note} |"
        )
    return "\n".join(lines)


def summary_table(summary):
    lines = [
        "| n x d | design | gelsd (s) | sketch srht (s) | speed-up | residual ratio | target "
        "| precondition srht (s) | speed-up | rel. residual gap | target |",
        "|---|---|--:|--:|--:|--:|---|--:|--:|--:|---|",
    ]
    for (n, d, design), rows in summary:
        by_name = {row.method.name: row for row in rows}
        gelsd = by_name["gelsd"].metrics["time"]
        cells = []
        for name, quality in (("sklr sketch (srht)", "ratio"),
                              ("sklr precondition (srht)", "gap")):
            row = by_name[name]
            if row.status:
                cells.append(f"- | - | - | {row.status}")
                continue
            mt = row.metrics
            value = f"{mt['ratio']:.4f}" if quality == "ratio" else f"{mt['gap']:+.1e}"
            cells.append(f"{mt['time']:.3f} | {mt['speedup']:.2f}x | {value} "
                         f"| {target_verdict(row)}")
        lines.append(f"| {n:,} x {d:,} | {design} | {gelsd:.3f} | {cells[0]} | {cells[1]} |")
    return "\n".join(lines)


def sweep_tables(sweep):
    header = "| requested cond | cond(X) | " + " | ".join(SWEEP_METHODS) + " |"
    rule = "|--:|--:|" + "--:|" * len(SWEEP_METHODS)
    tables = []
    for key, title in (("coef_rel", "Relative coefficient error ||w - x*|| / ||x*||"),
                       ("gap", "Relative residual gap (||Xw - y|| - r*) / r*")):
        lines = [f"**{title}** (x*, r* from gelsd)", "", header, rule]
        for cond, measured, rows in sweep:
            cells = []
            for name in SWEEP_METHODS:
                row = rows[name]
                if row.status:
                    parts = [part.strip() for part in row.status.split(":")]
                    cells.append(parts[0] + (f" ({parts[1]})" if len(parts) > 1 else ""))
                else:
                    value = row.metrics[key]
                    cell = f"{value:+.1e}" if key == "gap" else fmt_sci(value)
                    cells.append(cell + (" (nc)" if "NOT CONVERGED" in row.note else ""))
            lines.append(f"| {cond:.0e} | {measured:.1e} | " + " | ".join(cells) + " |")
        tables.append("\n".join(lines))
    return "\n\n".join(tables)


def sklr_revision():
    """``git describe`` of the checkout that holds sklr, ``-dirty`` when sklr/ has changes."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(sklr.__file__)))
    try:
        head = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--", "sklr"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown revision"
    return head + ("-dirty" if dirty else "")


def machine_description():
    cpu = platform.processor() or "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        mem = f"{mem:.0f} GiB RAM"
    except (ValueError, OSError):
        mem = "RAM unknown"
    blas = "BLAS unknown"
    try:
        from threadpoolctl import threadpool_info

        blas = ", ".join(
            f"{info.get('internal_api')} {info.get('version')} ({info.get('num_threads')} threads)"
            for info in threadpool_info() if info.get("user_api") == "blas"
        ) or blas
    except ImportError:
        pass
    return "\n".join([
        f"- machine: {cpu}, {cores} cores usable (os.cpu_count() = {os.cpu_count()}), {mem}",
        f"- {platform.platform()}; Python {platform.python_version()}",
        f"- numpy {np.__version__}, scipy {scipy.__version__}, scikit-learn "
        f"{sklearn.__version__}, sklr {sklr.__version__} ({sklr_revision()}); {blas}",
        f"- SCIPY_ARRAY_API={os.environ.get('SCIPY_ARRAY_API')}",
    ])


# --------------------------------------------------------------------------- main


def parse_shape(text):
    try:
        n, d = (int(float(part)) for part in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"shape must look like 100000x50, got {text!r}")
    if not 1 <= d <= n:
        raise argparse.ArgumentTypeError(f"need 1 <= d <= n, got {text!r}")
    return n, d


def parse_args(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true",
                        help="one small shape, 100000x50 (a smoke test, about a minute)")
    parser.add_argument("--repeat", type=int, default=3,
                        help="timed runs per method, alternating; the median is reported")
    parser.add_argument("--shapes", nargs="+", type=parse_shape, metavar="NxD",
                        help="shapes such as 1000000x100 (default: 1000000x100 200000x1000, "
                             "or 100000x50 with --quick)")
    parser.add_argument("--designs", nargs="+", choices=DESIGNS, default=list(DESIGNS))
    parser.add_argument("--cond", type=float, default=1e8,
                        help="condition number of the ill_conditioned design (default 1e8)")
    parser.add_argument("--no-sweep", action="store_true",
                        help="skip the condition-number sweep of the normal equations")
    parser.add_argument("--out", help="also write the Markdown report to this file")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be >= 1")
    if args.shapes is None:
        args.shapes = list(QUICK_SHAPES if args.quick else FULL_SHAPES)
    return args


def warm_up(methods):
    """One untimed fit of each method on a small problem (imports, FFT plans, thread pools)."""
    X, y, _ = make_least_squares(20_000, 10, random_state=0)
    for method in methods:
        if missing_requirement(method) is None:
            method.fit(X, y, 0)


def benchmark_shape(n, d, designs, cond, repeat, methods):
    results = []
    for design in designs:
        label = f"{n}x{d} {design}"
        log(f"{label}: generating data")
        X, y, _ = make_least_squares(n, d, design=design, cond=cond, random_state=0)
        rows = run_round_robin(methods, X, y, repeat, label)
        r_star, kappa = score(rows, X, y)
        results.append(((n, d, design), rows, kappa, r_star))
        del X, y
        gc.collect()
    return results


def condition_sweep(n, d, methods):
    by_name = {m.name: m for m in methods}
    chosen = [by_name["gelsd"]] + [by_name[name] for name in SWEEP_METHODS]
    sweep = []
    for cond in SWEEP_CONDS:
        label = f"sweep {n}x{d} cond={cond:.0e}"
        log(f"{label}: generating data")
        X, y, _ = make_least_squares(n, d, design="ill_conditioned", cond=cond, random_state=0)
        rows = run_round_robin(chosen, X, y, 1, label)
        _, measured = score(rows, X, y)
        sweep.append((cond, measured, {row.method.name: row for row in rows}))
        del X, y
        gc.collect()
    return sweep


def main(argv=None):
    args = parse_args(argv)
    command = "SCIPY_ARRAY_API=1 python " + shlex.join(
        [os.path.relpath(sys.argv[0])] + (sys.argv[1:] if argv is None else list(argv))
    )
    started = time.perf_counter()
    methods = all_methods()
    log("warming up")
    warm_up(methods)

    results = []
    for n, d in args.shapes:
        results.extend(benchmark_shape(n, d, args.designs, args.cond, args.repeat, methods))

    sweep = None
    if not args.no_sweep:
        n, d = min(args.shapes, key=lambda shape: shape[0] * shape[1])
        sweep = condition_sweep(n, d, methods)

    out = [
        "# SketchedRegressor benchmark",
        "",
        f"Command: `{command}`",
        "",
        f"Date (UTC): {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M}",
        "",
        machine_description(),
        "",
        "All methods solve min ||Xw - y|| without intercept (make_least_squares, noise=1, "
        f"random_state=0). Median of {args.repeat} alternating timed runs; accuracy columns "
        "are the worst over the runs (sklr uses random_state = run index). "
        "x*, r* = ||Xx* - y|| come from gelsd.",
        "",
        "## Targets (default sketch='srht')",
        "",
        summary_table([(key, rows) for key, rows, _, _ in results]),
    ]
    for (n, d, design), rows, kappa, r_star in results:
        extra = f", cond={args.cond:g} requested" if design == "ill_conditioned" else ""
        out += [
            "",
            f"## n = {n:,}, d = {d:,}, design = {design}{extra}",
            "",
            f"cond(X) = {kappa:.2e}, r* = {r_star:.6e}, eps * cond(X) = {EPS * kappa:.1e}",
            "",
            section_table(rows),
        ]
    if sweep is not None:
        n, d = min(args.shapes, key=lambda shape: shape[0] * shape[1])
        out += [
            "",
            f"## Condition-number sweep (n = {n:,}, d = {d:,}, ill_conditioned design, one run)",
            "",
            "gelsy is a second backward-stable solver: its distance to gelsd shows the "
            "rounding-error floor at each cond(X). (nc): sklr raised a ConvergenceWarning.",
            "",
            sweep_tables(sweep),
        ]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    out += ["", f"Total wall time {time.perf_counter() - started:.0f} s; "
                f"peak resident memory {peak:.2f} GiB."]
    report = "\n".join(out) + "\n"
    print(report)
    if args.out:
        with open(args.out, "w") as f:
            f.write(report)
        log(f"wrote {args.out}")


if __name__ == "__main__":
    main()
