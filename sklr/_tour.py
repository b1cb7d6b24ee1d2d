"""The tour behind ``python -m sklr``: every available estimator on a small built-in problem.

Each entry fits an sklr estimator and its usual peer on the same data and
reports one quality metric and the fit time of both. An estimator's issue adds
its entry to ``TOUR``.
"""

import argparse
import functools
import sys
import time
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


def _timed(fit):
    start = time.perf_counter()
    out = fit()
    return out, time.perf_counter() - start


def _tour_sketched_regressor(quick):
    from sklearn.linear_model import LinearRegression

    from .datasets import make_least_squares
    from .linear_model import SketchedRegressor

    n, d = (20_000, 20) if quick else (400_000, 50)
    X, y, _ = make_least_squares(n, d, random_state=0)
    peer, peer_s = _timed(lambda: LinearRegression().fit(X, y))
    r_opt = np.linalg.norm(peer.predict(X) - y)
    rows = []
    for solver in ("sketch", "precondition"):
        est, sec = _timed(lambda: SketchedRegressor(solver=solver, random_state=0).fit(X, y))
        rows.append(TourRow(
            f"SketchedRegressor(solver={solver!r})", f"least squares {n}x{d}",
            "residual / optimum", float(np.linalg.norm(est.predict(X) - y) / r_opt), sec,
            "LinearRegression", 1.0, peer_s,
        ))
    return rows


@functools.lru_cache(maxsize=2)
def _lad_problem(quick):
    """A least-absolute-deviations problem and its exact solution by the usual peer."""
    from sklearn.linear_model import QuantileRegressor

    from .datasets import make_least_squares

    n, d = (5_000, 10) if quick else (20_000, 20)
    X, _, coef = make_least_squares(n, d, design="coherent", random_state=0)
    y = X @ coef + np.random.RandomState(0).standard_t(1.5, size=n)
    peer, peer_s = _timed(lambda: QuantileRegressor(alpha=0).fit(X, y))
    return X, y, float(np.abs(peer.predict(X) - y).sum()), peer_s


def _tour_sensitivity_sampler(quick):
    from sklearn.linear_model import QuantileRegressor

    from .linear_model import LpRegressor
    from .sampling import SensitivitySampler

    X, y, f_opt, peer_s = _lad_problem(quick)
    rows = []
    for name, estimator in (("QuantileRegressor", QuantileRegressor(alpha=0)),
                            ("LpRegressor", LpRegressor(p=1.0))):
        sampler = SensitivitySampler(p=1.0, estimator=estimator, random_state=0)
        est, sec = _timed(lambda: sampler.fit(X, y))
        rows.append(TourRow(
            f"SensitivitySampler(estimator={name})",
            f"LAD coreset, coherent {X.shape[0]}x{X.shape[1]}, t(1.5) noise",
            "l1 loss / optimum", float(np.abs(est.predict(X) - y).sum() / f_opt), sec,
            "QuantileRegressor (all rows)", 1.0, peer_s,
        ))
    return rows


def _tour_lp_regressor(quick):
    from .linear_model import LpRegressor

    X, y, f_opt, peer_s = _lad_problem(quick)
    est, sec = _timed(lambda: LpRegressor(p=1.0).fit(X, y))
    return [TourRow(
        "LpRegressor(p=1)", f"LAD, coherent {X.shape[0]}x{X.shape[1]}, t(1.5) noise",
        "l1 loss / optimum", float(np.abs(est.predict(X) - y).sum() / f_opt), sec,
        "QuantileRegressor", 1.0, peer_s,
    )]


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
    return [TourRow(
        "MatrixCompleter", f"rank {rank} {n_rows}x{n_cols}, 25% observed, 1% noise",
        "rel. error on missing", error(filled), sec,
        "IterativeImputer", error(peer_filled), peer_s,
    )]


def _log_sinkhorn(M, reg, n_iter):
    """Plain log-domain Sinkhorn with uniform marginals (the peer when POT is absent)."""
    from scipy.special import logsumexp

    n, m = M.shape
    f, g = np.zeros(n), np.zeros(m)
    for _ in range(n_iter):
        f = reg * (-np.log(n) - logsumexp((g[None, :] - M) / reg, axis=1))
        g = reg * (-np.log(m) - logsumexp((f[:, None] - M) / reg, axis=0))
    return np.exp((f[:, None] + g[None, :] - M) / reg)


def _tour_sinkhorn_newton(quick):
    from .transport import sinkhorn_newton

    n, reg, budget = (200, 1e-3, 300) if quick else (1000, 1e-3, 3000)
    rng = np.random.RandomState(0)
    X, Y = rng.uniform(size=(n, 2)), rng.uniform(size=(n, 2))
    M = ((X[:, None, :] - Y[None, :, :]) ** 2).sum(-1)
    M /= M.max()

    def error(P):
        return float(np.abs(P.sum(1) - 1 / n).sum() + np.abs(P.sum(0) - 1 / n).sum())

    try:
        import ot

        peer_name = f"POT sinkhorn_log ({budget} its)"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            peer, peer_s = _timed(lambda: ot.sinkhorn([], [], M, reg, method="sinkhorn_log",
                                                      numItermax=budget, stopThr=1e-9))
    except ImportError:
        peer_name = f"log-domain Sinkhorn ({budget} its)"
        peer, peer_s = _timed(lambda: _log_sinkhorn(M, reg, budget))
    plan, sec = _timed(lambda: sinkhorn_newton([], [], M, reg))
    return [TourRow(
        "SinkhornNewtonOT(sinkhorn_newton)", f"entropic OT {n}x{n} points, reg={reg:g}",
        "L1 marginal error", error(plan), sec, peer_name, error(peer), peer_s,
    )]


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
    return [TourRow(
        "SparseBayesKronecker", f"Kronecker sparse recovery {D.shape[0]}x{D.shape[1]}, 25 dB",
        "NMSE", nmse(est.coef_[0]), sec, "ARDRegression", nmse(peer.coef_), peer_s,
    )]


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
    return [TourRow(
        "FunctionalTucker", f"rank-2 function of 2 continuous indices, n={n}", "test RMSE",
        rmse(est), sec, "GaussianProcessRegressor", rmse(peer), peer_s,
    )]


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
    return [TourRow(
        "SDPClusterer", f"heterogeneous Gaussian mixture, n={n}, p={p}, K={K}",
        "mis-clustering error", error(est.labels_), sec, "GaussianMixture(full)",
        error(peer.predict(X)), peer_s,
    )]


TOUR = [_tour_sketched_regressor, _tour_lp_regressor, _tour_sensitivity_sampler,
        _tour_matrix_completer, _tour_sinkhorn_newton, _tour_sparse_bayes_kronecker,
        _tour_functional_tucker, _tour_sdp_clusterer]


def run_tour(quick=False, file=None):
    """Run every tour entry and print one Markdown table.

    Parameters
    ----------
    quick : bool, default=False
        Use tiny problems (a smoke test, seconds).
    file : file-like, default=None
        Where to print (standard output when None).

    Returns
    -------
    rows : list of TourRow
        The measured rows.
    """
    file = sys.stdout if file is None else file
    rows = [row for entry in TOUR for row in entry(quick)]
    print("| estimator | task | metric | sklr | sklr time (s) | peer | peer | peer time (s) "
          "| speed-up |", file=file)
    print("|---|---|---|---|---|---|---|---|---|", file=file)
    for r in rows:
        print(f"| {r.estimator} | {r.task} | {r.metric} | {r.value:.4g} | {r.seconds:.3f} "
              f"| {r.peer} | {r.peer_value:.4g} | {r.peer_seconds:.3f} "
              f"| {r.peer_seconds / r.seconds:.1f}x |", file=file)
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m sklr",
        description="A tour of sklr: each estimator on a small problem, next to its peer.",
    )
    parser.add_argument("--quick", action="store_true", help="tiny problems (seconds)")
    args = parser.parse_args(argv)
    import sklr

    print(f"sklr {sklr.__version__}: each estimator next to the tool people would otherwise use.")
    print("speed-up = peer time / sklr time; the metric is the estimator's quality measure.\n")
    run_tour(quick=args.quick)
    return 0
