"""The tour behind ``python -m sklr``: every available estimator on a small built-in problem.

Each entry fits an sklr estimator and its usual peer on the same data and
reports one quality metric and the fit time of both. An entry is a generator
that yields its rows as they are measured; :func:`run_tour` prints each row
as soon as it arrives, and an entry that raises prints its error in its row
and the tour goes on. An estimator's issue adds its entry to ``TOUR``.
"""

import argparse
import math
import sys
import time
import traceback
import warnings
from dataclasses import dataclass

import numpy as np


@dataclass
class TourRow:
    estimator: str
    task: str
    metric: str
    value: float
    seconds: float
    peer: str
    peer_value: float
    peer_seconds: float
    # True when the peer's fit is the one of an earlier row (same data, same
    # estimator), timed once: printed with a mark and a footnote.
    peer_shared: bool = False
    error: str = ""


def _timed(fit):
    start = time.perf_counter()
    out = fit()
    return out, time.perf_counter() - start


def _estimator(name):
    """Name a tour entry after the estimator it shows (for its row if it fails)."""
    def mark(entry):
        entry.estimator = name
        return entry
    return mark


@_estimator("SketchedRegressor")
def _tour_sketched_regressor(quick):
    from sklearn.linear_model import LinearRegression

    from .datasets import make_least_squares
    from .linear_model import SketchedRegressor

    n, d = (20_000, 20) if quick else (400_000, 50)
    X, y, _ = make_least_squares(n, d, random_state=0)
    for solver in ("sketch", "precondition"):
        # The peer is fitted (and timed) again for each row, next to the row's own fit.
        peer, peer_s = _timed(lambda: LinearRegression().fit(X, y))
        r_opt = np.linalg.norm(peer.predict(X) - y)
        est, sec = _timed(lambda: SketchedRegressor(solver=solver, random_state=0).fit(X, y))
        yield TourRow(
            f"SketchedRegressor({solver!r})", f"least squares {n}x{d}",
            "residual/optimum", float(np.linalg.norm(est.predict(X) - y) / r_opt), sec,
            "LinearRegression", 1.0, peer_s,
        )


# The LAD rows compare with one exact fit of the peer (same data, same
# estimator): it is timed once per tour, and the later rows say so.
_LAD_PROBLEMS = {}


def _lad_problem(quick):
    """A least-absolute-deviations problem and its exact solution by the usual peer.

    Returns ``X, y``, the peer's l1 loss, its fit time and whether that fit
    was timed for an earlier row.
    """
    from sklearn.linear_model import QuantileRegressor

    from .datasets import make_least_squares

    if quick in _LAD_PROBLEMS:
        return (*_LAD_PROBLEMS[quick], True)
    n, d = (5_000, 10) if quick else (20_000, 20)
    X, _, coef = make_least_squares(n, d, design="coherent", random_state=0)
    y = X @ coef + np.random.RandomState(0).standard_t(1.5, size=n)
    peer, peer_s = _timed(lambda: QuantileRegressor(alpha=0).fit(X, y))
    _LAD_PROBLEMS[quick] = (X, y, float(np.abs(peer.predict(X) - y).sum()), peer_s)
    return (*_LAD_PROBLEMS[quick], False)


def _lad_task(X):
    return f"LAD {X.shape[0]}x{X.shape[1]}, coherent, t(1.5)"


@_estimator("LpRegressor")
def _tour_lp_regressor(quick):
    from .linear_model import LpRegressor

    X, y, f_opt, peer_s, shared = _lad_problem(quick)
    est, sec = _timed(lambda: LpRegressor(p=1.0).fit(X, y))
    yield TourRow(
        "LpRegressor(p=1)", _lad_task(X), "l1 loss/optimum",
        float(np.abs(est.predict(X) - y).sum() / f_opt), sec,
        "QuantileRegressor", 1.0, peer_s, peer_shared=shared,
    )


@_estimator("SensitivitySampler")
def _tour_sensitivity_sampler(quick):
    from sklearn.linear_model import QuantileRegressor

    from .linear_model import LpRegressor
    from .sampling import SensitivitySampler

    X, y, f_opt, peer_s, shared = _lad_problem(quick)
    for name, estimator in (("QuantileRegressor", QuantileRegressor(alpha=0)),
                            ("LpRegressor", LpRegressor(p=1.0))):
        sampler = SensitivitySampler(p=1.0, estimator=estimator, random_state=0)
        est, sec = _timed(lambda: sampler.fit(X, y))
        yield TourRow(
            f"SensitivitySampler({name})", _lad_task(X), "l1 loss/optimum",
            float(np.abs(est.predict(X) - y).sum() / f_opt), sec,
            "QuantileRegressor", 1.0, peer_s, peer_shared=shared,
        )
        shared = True


@_estimator("MatrixCompleter")
def _tour_matrix_completer(quick):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    from .completion import MatrixCompleter
    from .datasets import make_low_rank_completion

    n_rows, n_cols, rank = (200, 100, 3) if quick else (2000, 400, 8)
    X, M = make_low_rank_completion(n_rows, n_cols, rank, n_observed=n_rows * n_cols // 4,
                                    noise=0.01, random_state=0)
    missing = np.isnan(X)

    def error(filled):
        return float(np.linalg.norm((filled - M)[missing]) / np.linalg.norm(M[missing]))

    peer = IterativeImputer(n_nearest_features=10 if quick else 50, random_state=0)
    with warnings.catch_warnings():  # its tolerance is rarely reached in 10 rounds
        warnings.simplefilter("ignore", ConvergenceWarning)
        peer_filled, peer_s = _timed(lambda: peer.fit_transform(X))
    completer = MatrixCompleter(n_components=rank, random_state=0)
    filled, sec = _timed(lambda: completer.fit_transform(X))
    yield TourRow(
        "MatrixCompleter", f"rank {rank} {n_rows}x{n_cols}, 25% seen",
        "rel. err, missing", error(filled), sec,
        "IterativeImputer", error(peer_filled), peer_s,
    )


def _pot_sinkhorn_to_tol(M, reg, tol, error, max_iter):
    """POT's ``ot.sinkhorn`` run until ``error(plan) <= tol``; the plan, time and iterations.

    POT stops on its own measure (the L2 norm of one marginal's violation,
    checked every 10 iterations). To stop it on ``error`` instead, it is run
    10 iterations at a time from its previous scalings until ``error`` is
    reached (untimed), then timed in one call of exactly that many
    iterations. The kernel method is POT's fastest; the log-domain one takes
    over when the kernel underflows into numerical errors.
    """
    import ot

    for method in ("sinkhorn", "sinkhorn_log"):
        n_iter, warmstart = 0, None
        try:
            while n_iter < max_iter:
                with warnings.catch_warnings():
                    # POT's kernel method warns (UserWarning) on numerical errors;
                    # overflow in the log's exp(log_u) is harmless.
                    warnings.simplefilter("ignore", RuntimeWarning)
                    warnings.simplefilter("error", UserWarning)
                    P, log = ot.sinkhorn([], [], M, reg, method=method, numItermax=10,
                                         stopThr=0.0, warn=False, log=True,
                                         warmstart=warmstart)
                n_iter += 10
                if not np.all(np.isfinite(P)):
                    raise FloatingPointError("non-finite plan")
                if error(P) <= tol:
                    break
                warmstart = ((np.log(log["u"]), np.log(log["v"])) if method == "sinkhorn"
                             else (log["log_u"], log["log_v"]))
        except (UserWarning, FloatingPointError):
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            P, seconds = _timed(lambda: ot.sinkhorn([], [], M, reg, method=method,
                                                     numItermax=n_iter, stopThr=0.0, warn=False))
        return P, seconds, method, n_iter
    raise FloatingPointError("POT's sinkhorn and sinkhorn_log both failed")


@_estimator("SinkhornNewtonOT")
def _tour_sinkhorn_newton(quick):
    from .transport import sinkhorn_newton

    n, reg, tol = (200, 1e-3, 1e-9) if quick else (1000, 1e-3, 1e-9)
    rng = np.random.RandomState(0)
    X, Y = rng.uniform(size=(n, 2)), rng.uniform(size=(n, 2))
    M = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    M /= M.max()

    def error(P):
        return float(np.abs(P.sum(1) - 1 / n).sum() + np.abs(P.sum(0) - 1 / n).sum())

    plan, sec = _timed(lambda: sinkhorn_newton([], [], M, reg, tol=tol))
    row = TourRow(
        "SinkhornNewtonOT(sinkhorn_newton)", f"entropic OT {n}x{n} reg={reg:g}",
        f"L1 err (tol {tol:g})", error(plan), sec, "", math.nan, math.nan,
    )
    try:
        import ot  # noqa: F401
    except ImportError:
        row.peer = "POT not installed (pip install pot)"
        yield row
        return
    budget = 20_000
    peer_plan, row.peer_seconds, method, n_iter = _pot_sinkhorn_to_tol(M, reg, tol, error,
                                                                        budget)
    row.peer_value = error(peer_plan)
    row.peer = (f"POT {method}, {n_iter} its"
                + (" to tol" if row.peer_value <= tol else " (cap: tol not reached)"))
    yield row


@_estimator("SparseBayesKronecker")
def _tour_sparse_bayes_kronecker(quick):
    from sklearn.linear_model import ARDRegression

    from .datasets import make_kronecker_sparse
    from .decomposition import SparseBayesKronecker
    from .linalg import kron

    shapes = ((5, 8), (6, 8), (8, 8)) if quick else ((6, 12), (8, 12), (10, 12))
    A, y, x, _ = make_kronecker_sparse(shapes, 2, snr_db=25.0, random_state=0)
    D = kron(A)

    def nmse(estimate):
        return float(np.sum((estimate - x) ** 2) / np.sum(x**2))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer, peer_s = _timed(lambda: ARDRegression(fit_intercept=False).fit(D, y))
        est, sec = _timed(lambda: SparseBayesKronecker(A).fit(y[None, :]))
    yield TourRow(
        "SparseBayesKronecker", f"Kronecker sparse {D.shape[0]}x{D.shape[1]}, 25 dB",
        "NMSE", nmse(est.coef_[0]), sec, "ARDRegression", nmse(peer.coef_), peer_s,
    )


@_estimator("FunctionalTucker")
def _tour_functional_tucker(quick):
    from sklearn.gaussian_process import GaussianProcessRegressor
    from sklearn.gaussian_process.kernels import Matern, WhiteKernel

    from .tensor import FunctionalTucker

    n = 400 if quick else 1500
    rng = np.random.RandomState(0)
    X = rng.uniform(0, 1, (n, 2))
    y = (np.sin(3 * X[:, 0]) * np.cos(2 * X[:, 1]) + np.cos(5 * X[:, 0]) * np.sin(4 * X[:, 1])
         + 0.01 * rng.standard_normal(n))
    train, test = slice(0, n * 3 // 4), slice(n * 3 // 4, n)

    def rmse(model):
        return float(np.sqrt(np.mean((model.predict(X[test]) - y[test]) ** 2)))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer, peer_s = _timed(lambda: GaussianProcessRegressor(
            Matern(length_scale=[0.3, 0.3], nu=1.5) + WhiteKernel(1e-3), normalize_y=True,
            random_state=0).fit(X[train], y[train]))
        est, sec = _timed(lambda: FunctionalTucker(rank=2, lengthscale=0.3, random_state=0)
                          .fit(X[train], y[train]))
    yield TourRow(
        "FunctionalTucker", f"rank-2 f(x1, x2), n={n}", "test RMSE",
        rmse(est), sec, "GaussianProcessRegressor", rmse(peer), peer_s,
    )


@_estimator("SDPClusterer")
def _tour_sdp_clusterer(quick):
    from sklearn.mixture import GaussianMixture

    from .cluster import SDPClusterer, misclustering_error
    from .datasets import make_heterogeneous_mixture

    n, p, K, separation, seed = (400, 10, 4, 2.0, 3) if quick else (2000, 50, 5, 3.0, 0)
    X, y, _, _ = make_heterogeneous_mixture(n, p, K, separation=separation, random_state=seed)

    def error(labels):
        return misclustering_error(y, labels)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        peer, peer_s = _timed(lambda: GaussianMixture(K, random_state=0).fit(X))
        est, sec = _timed(lambda: SDPClusterer(K, random_state=0).fit(X))
    yield TourRow(
        "SDPClusterer", f"Gaussian mixture n={n} p={p} K={K}",
        "misclustering err", error(est.labels_), sec, "GaussianMixture",
        error(peer.predict(X)), peer_s,
    )


TOUR = [_tour_sketched_regressor, _tour_lp_regressor, _tour_sensitivity_sampler,
        _tour_matrix_completer, _tour_sinkhorn_newton, _tour_sparse_bayes_kronecker,
        _tour_functional_tucker, _tour_sdp_clusterer]

# (header, width, alignment) of the plain-text table; a longer cell widens its
# row only. The peer's name comes last, so that it needs no padding.
_COLUMNS = (
    ("estimator", 37, "<"), ("problem", 33, "<"), ("metric", 18, "<"),
    ("sklr", 9, ">"), ("peer", 9, ">"), ("sklr (s)", 8, ">"), ("peer (s)", 9, ">"),
    ("speed-up", 8, ">"), ("peer estimator", 0, "<"),
)
_SHARED_MARK = "*"


def _cells(row):
    """The row's cells as text, in the order of ``_COLUMNS``."""
    def number(x, fmt):
        return "-" if math.isnan(x) else format(x, fmt)

    if row.error:
        return [row.estimator, f"FAILED: {row.error}"]
    peer_time = number(row.peer_seconds, ".3f") + (_SHARED_MARK if row.peer_shared else "")
    ratio = row.peer_seconds / max(row.seconds, 1e-12)
    speed_up = ("-" if math.isnan(ratio) else f"{ratio:.0f}x" if ratio >= 10
                else f"{ratio:.1f}x" if ratio >= 1 else f"{ratio:.2g}x")
    return [row.estimator, row.task, row.metric, number(row.value, ".3g"),
            number(row.peer_value, ".3g"), number(row.seconds, ".3f"), peer_time, speed_up,
            row.peer]


def _format(cells, markdown):
    if markdown:
        return "| " + " | ".join(cell.replace("|", "/") for cell in cells) + " |"
    line = ""
    for i, (cell, (_, width, align)) in enumerate(zip(cells, _COLUMNS)):
        # Two spaces before a left-aligned column, one before a right-aligned one.
        line += ("" if i == 0 else "  " if align == "<" else " ") + f"{cell:{align}{width}}"
    return line.rstrip()


def _header(markdown):
    names = [name for name, _, _ in _COLUMNS]
    if markdown:
        return [_format(names, True), "|" + "---|" * len(names)]
    line = _format(names, False)
    return [line, "-" * (len(line) + 10)]


def run_tour(quick=False, file=None, markdown=False):
    """Run every tour entry, printing each row of the table as soon as it is measured.

    Parameters
    ----------
    quick : bool, default=False
        Use tiny problems (a smoke test, seconds).
    file : file-like, default=None
        Where to print (standard output when None).
    markdown : bool, default=False
        Print a Markdown table instead of aligned plain text.

    Returns
    -------
    rows : list of TourRow
        The measured rows, and one row with ``error`` set for each entry
        that raised (the tour goes on after it).
    """
    file = sys.stdout if file is None else file
    _LAD_PROBLEMS.clear()  # every tour times its own peer fits
    for line in _header(markdown):
        print(line, file=file, flush=True)
    rows = []
    for entry in TOUR:
        try:
            for row in entry(quick):
                rows.append(row)
                print(_format(_cells(row), markdown), file=file, flush=True)
        except Exception as exc:  # one failing entry is a row of the table, not the end
            last = traceback.extract_tb(exc.__traceback__)[-1]
            message = (f"{type(exc).__name__}: {exc}".splitlines() or [""])[0]
            row = TourRow(getattr(entry, "estimator", entry.__name__), "", "", math.nan,
                          math.nan, "", math.nan, math.nan,
                          error=f"{message} ({last.filename.rsplit('/', 1)[-1]}:{last.lineno})")
            rows.append(row)
            print(_format(_cells(row), markdown), file=file, flush=True)
    if any(row.peer_shared for row in rows):
        print(f"\n{_SHARED_MARK} the peer's fit of the row above (same data, same estimator), "
              "timed once.", file=file, flush=True)
    return rows


_EPILOG = """\
speed-up = peer time / sklr time; the metric is the row's quality measure, for
sklr and for the peer. Each row is printed as soon as it is measured. An entry
that fails prints its error in its row and the tour goes on; the exit status is
then 1 (0 when every entry ran). Single runs on this machine: for repeated,
dated measurements see benchmarks/README.md.
"""


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m sklr",
        description="A tour of sklr: each estimator on a small problem, next to its peer "
                    "(minutes; under a minute with --quick).",
        epilog=_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true",
                        help="tiny problems: a smoke test that runs in seconds to a minute "
                             "(its timings say little about speed at scale)")
    parser.add_argument("--markdown", action="store_true",
                        help="print a Markdown table instead of aligned plain text")
    args = parser.parse_args(argv)
    import sklr

    print(f"sklr {sklr.__version__}: each estimator next to the tool people would otherwise use.")
    print("speed-up = peer time / sklr time; the metric is the row's quality measure.\n",
          flush=True)
    rows = run_tour(quick=args.quick, markdown=args.markdown)
    failed = [row.estimator for row in rows if row.error]
    if failed:
        print(f"\n{len(failed)} tour entr{'y' if len(failed) == 1 else 'ies'} failed: "
              f"{', '.join(failed)} (exit status 1).", flush=True)
        return 1
    return 0
