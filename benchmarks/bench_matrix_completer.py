"""MatrixCompleter against the time of a sampled product, and against peers on MovieLens.

Part 1 (synthetic, the paper's setting): an incoherent rank-k matrix with
``n_observed`` uniformly sampled entries. For each solver: seconds per sweep
(one V update, one U update and the RMSE check; the fixed costs of a fit
without sweeps are subtracted), as a ratio to the time of one sampled
product ``P_Omega(U V^T)`` (the cost of merely checking a candidate), the
sweeps to converge to ``tol=1e-10`` and the relative error on 200,000 random
entries after convergence.

Part 3 (inner solves): conjugate-gradient steps that the diagonal and the
sketch preconditioners need on one batch of ill-conditioned per-row problems.

Part 2 (ml-latest-small from ``sklr.datasets.fetch_movielens("latest-small")``, which
downloads it once from GroupLens; when that fails, the same ratings.csv from
``../shared/data/ml-latest-small`` if it is there; fixed 80/20 split): test RMSE and fit
time of MatrixCompleter, the global+user+item bias baseline, a reference
SoftImpute (Mazumder, Hastie and Tibshirani 2010, written here because
fancyimpute does not run with scikit-learn 1.9), scikit-learn's
IterativeImputer, and scikit-surprise's SVD when it is installed.

Usage::

    python benchmarks/bench_matrix_completer.py            # both parts, full size
    python benchmarks/bench_matrix_completer.py --quick    # small sizes, seconds
    python benchmarks/bench_matrix_completer.py --part movielens
"""

import argparse
import os
import pathlib
import platform
import statistics
import time
import warnings

os.environ.setdefault("SCIPY_ARRAY_API", "1")

import numpy as np  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.utils.extmath import randomized_svd  # noqa: E402

from sklr.completion import MatrixCompleter, complete_matrix, ratings_matrix  # noqa: E402
from sklr.datasets import fetch_movielens  # noqa: E402

# The ratings.csv of ml-latest-small outside the repository, read only when the download fails.
LOCAL_RATINGS = (pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"
                 / "ml-latest-small" / "ratings.csv")


def _median_time(fn, repeat=3):
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# ----------------------------------------------------------------- part 1
def _synthetic(n, k, n_observed, seed=0):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n, k))
    B = rng.standard_normal((n, k))
    flat = rng.choice(n * n, n_observed, replace=False)
    rows, cols = np.divmod(flat, n)
    values = np.einsum("ij,ij->i", A[rows], B[cols])
    return A, B, rows.astype(np.int64), cols.astype(np.int64), values


def _fit(rows, cols, values, n, k, solver, max_iter, tol):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return complete_matrix(rows, cols, values, (n, n), k, solver=solver, max_iter=max_iter,
                               tol=tol, random_state=0)


def bench_synthetic(n, k, n_observed, solvers):
    A, B, rows, cols, values = _synthetic(n, k, n_observed)
    U = np.random.default_rng(1).standard_normal((n, k))
    product = _median_time(lambda: np.einsum("ij,ij->i", U[rows], B[cols]))
    rng = np.random.default_rng(2)
    test_rows, test_cols = rng.integers(0, n, 200_000), rng.integers(0, n, 200_000)
    truth = np.einsum("ij,ij->i", A[test_rows], B[test_cols])
    print(f"\n### Synthetic: {n} x {n}, rank {k}, {n_observed:,} observed entries "
          f"({n_observed / (n * n):.1%})\n")
    print(f"One sampled product P_Omega(U V^T) (numpy gather + einsum): {product:.3f} s\n")
    print("| solver | s / sweep | sweep / product | sweeps to converge | total fit (s) "
          "| rel. error (unobserved) |")
    print("|---|---|---|---|---|---|")
    for solver in solvers:
        # Fixed costs (sorting the entries, the spectral start, the final exact refit) are
        # those of a one-sweep fit less its sweep: complete_matrix needs max_iter >= 1, so
        # the cost per sweep is (total - one-sweep fit) / (sweeps - 1).
        one_sweep = _median_time(lambda: _fit(rows, cols, values, n, k, solver, 1, 0.0),
                                 repeat=2)
        start = time.perf_counter()
        result = _fit(rows, cols, values, n, k, solver, 200, 1e-10)
        total = time.perf_counter() - start
        per_sweep = (total - one_sweep) / max(result.n_iter - 1, 1)
        predicted = np.einsum("ij,ij->i", result.row_factors[test_rows],
                              result.col_factors[test_cols])
        error = np.linalg.norm(predicted - truth) / np.linalg.norm(truth)
        print(f"| {solver} | {per_sweep:.3f} | {per_sweep / product:.1f}x | {result.n_iter} "
              f"| {total:.2f} | {error:.2e} |", flush=True)


# ----------------------------------------------------------------- part 3
def bench_inner_steps(quick):
    """CG steps to solve one batch of per-row problems to 1e-10, against their conditioning."""
    from sklr.completion._altmin import _Side, _Updater
    from sklr.utils._array_api import namespace_and_device

    print("\n### Inner solves: CG steps to reach a relative residual of 1e-10, one batch of "
          "per-row problems (300 rows, 200 entries each), design columns scaled to condition "
          "number cond\n")
    print("| k | cond | cg (diagonal preconditioner) | sketch (sketch_size = 4k) |")
    print("|---|---|---|---|")
    for k, cond in [(8, 1e3), (20, 1e3), (20, 1e4)] + ([] if quick else [(40, 1e4)]):
        rng = np.random.RandomState(0)
        rows, cols = np.nonzero(rng.uniform(size=(300, 400)) < 0.5)
        values = rng.standard_normal(rows.size)
        rotation, _ = np.linalg.qr(rng.standard_normal((k, k)))
        V = rng.standard_normal((400, k)) @ np.diag(np.logspace(0, -np.log10(cond), k)) @ rotation
        xp, device = namespace_and_device(values)
        side = _Side(rows, cols, values, 300, 400, xp, device)
        steps = []
        for solver in ("cg", "sketch"):
            updater = _Updater(side, solver, 0.0, 1e-10, 2000, 4 * k, 2, np.random.RandomState(0))
            updater(V, np.zeros((300, k)), side.values)
            steps.append(updater.inner_iterations)
        print(f"| {k} | {cond:.0e} | {steps[0]} | {steps[1]} |", flush=True)


# ----------------------------------------------------------------- part 2
def _load_movielens():
    """Users, items and ratings of ml-latest-small (in file order) and the test mask, or None."""
    try:
        movielens = fetch_movielens("latest-small", n_retries=1)
        users, items, ratings = movielens.data[:, 0], movielens.data[:, 1], movielens.target
    except OSError as exc:
        if not LOCAL_RATINGS.exists():
            print(f"\nMovieLens part skipped: {exc}; no local copy at {LOCAL_RATINGS}.")
            return None
        print(f"\nfetch_movielens failed ({exc}); reading the same ratings from {LOCAL_RATINGS}.")
        data = np.loadtxt(LOCAL_RATINGS, delimiter=",", skiprows=1)
        users = np.unique(data[:, 0], return_inverse=True)[1]
        items = np.unique(data[:, 1], return_inverse=True)[1]
        ratings = data[:, 2]
    test = np.random.RandomState(0).uniform(size=len(ratings)) < 0.2
    return users, items, ratings, test


def _rmse(predicted, truth):
    return float(np.sqrt(np.mean((np.clip(predicted, 0.5, 5.0) - truth) ** 2)))


def _biases(users, items, ratings, n_users, n_items, shrink=10.0, rounds=10):
    mean = ratings.mean()
    b_user, b_item = np.zeros(n_users), np.zeros(n_items)
    for _ in range(rounds):
        resid = ratings - mean - b_user[users]
        b_item = np.bincount(items, resid, n_items) / (np.bincount(items, minlength=n_items)
                                                      + shrink)
        resid = ratings - mean - b_item[items]
        b_user = np.bincount(users, resid, n_users) / (np.bincount(users, minlength=n_users)
                                                      + shrink)
    return mean, b_user, b_item


def soft_impute(X, mask, shrinkage=None, max_rank=100, max_iter=100, tol=1e-3, seed=0):
    """Reference SoftImpute: Z <- SVT_lambda(P_Omega(X) + P_Omega^c(Z)), rank capped.

    Defaults follow fancyimpute 0.7: zero fill, lambda = sigma_max / 50,
    convergence on the relative change of Z, randomized SVD at ``max_rank``.
    """
    observed = np.where(mask, X, 0.0)
    if shrinkage is None:
        shrinkage = randomized_svd(observed, 1, random_state=seed)[1][0] / 50.0
    Z = observed.copy()
    for _ in range(max_iter):
        U, s, Vt = randomized_svd(Z, max_rank, n_iter=1, random_state=seed)
        s = np.maximum(s - shrinkage, 0.0)
        rank = int(np.count_nonzero(s))
        Z_new = (U[:, :rank] * s[:rank]) @ Vt[:rank]
        change = np.linalg.norm(Z_new - Z) / max(np.linalg.norm(Z), 1e-300)
        Z = np.where(mask, observed, Z_new)
        if change < tol:
            break
    return Z_new


def bench_movielens(quick):
    loaded = _load_movielens()
    if loaded is None:
        return
    users, items, ratings, test = loaded
    train = ~test
    n_users, n_items = users.max() + 1, items.max() + 1
    rows = []

    def record(name, seconds, rmse, note=""):
        rows.append((name, seconds, rmse, note))
        print(f"| {name} | {seconds:.2f} | {rmse:.4f} | {note} |", flush=True)

    print(f"\n### ml-latest-small: {n_users} users x {n_items} movies, "
          f"{train.sum():,} train / {test.sum():,} test ratings (fixed 80/20 split, seed 0)\n")
    print("| method | fit time (s) | test RMSE | note |")
    print("|---|---|---|---|")
    start = time.perf_counter()
    mean, b_user, b_item = _biases(users[train], items[train], ratings[train], n_users, n_items)
    record("bias baseline (global + user + item, shrinkage 10)", time.perf_counter() - start,
           _rmse(mean + b_user[users[test]] + b_item[items[test]], ratings[test]))

    X = ratings_matrix(users[train], items[train], ratings[train], shape=(n_users, n_items))
    configs = [(5, 10.0, "exact"), (10, 10.0, "exact"), (10, 10.0, "cg"), (10, 10.0, "sketch"),
               (20, 10.0, "exact"), (20, 10.0, "cg"), (20, 10.0, "auto")]
    for k, alpha, solver in configs[:2] if quick else configs:
        completer = MatrixCompleter(n_components=k, alpha=alpha, center="biases", solver=solver,
                                    random_state=0)
        note = f"solver_={completer.fit(X).solver_!r}, " if solver == "auto" else ""
        seconds = _median_time(lambda: completer.fit(X), repeat=3)
        record(f"MatrixCompleter(n_components={k}, alpha={alpha:g}, solver={solver!r})",
               seconds, _rmse(completer.predict_entries(users[test], items[test]),
                              ratings[test]), f"{note}{completer.n_iter_} sweeps")

    # Peers work on the dense matrix (610 x 9,724 = 5.9 M cells).
    dense = np.zeros((n_users, n_items))
    mask = np.zeros((n_users, n_items), dtype=bool)
    dense[users[train], items[train]] = ratings[train]
    mask[users[train], items[train]] = True
    offsets = mean + b_user[:, None] + b_item[None, :]
    for label, target, add in (("raw ratings", dense, 0.0),
                               ("bias residuals", dense - offsets, offsets)):
        start = time.perf_counter()
        Z = soft_impute(target, mask, max_iter=20 if quick else 100) + add
        record(f"SoftImpute (reference, on {label})", time.perf_counter() - start,
               _rmse(Z[users[test], items[test]], ratings[test]), "lambda = sigma_max / 50")

    if not quick:
        from sklearn.experimental import enable_iterative_imputer  # noqa: F401
        from sklearn.impute import IterativeImputer

        # Movies as samples, users as features: 610 regressions per round instead of 9,724.
        incomplete = np.where(mask, dense - offsets, np.nan).T
        imputer = IterativeImputer(n_nearest_features=50, max_iter=5, random_state=0)
        start = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            filled = imputer.fit_transform(incomplete).T
        seconds = time.perf_counter() - start
        # Users with no training rating were dropped by the imputer (keep_empty_features=False).
        record("IterativeImputer(n_nearest_features=50, max_iter=5), bias residuals", seconds,
               _rmse(filled[users[test], items[test]] + offsets[users[test], items[test]],
                     ratings[test]), "movies as samples")

    try:
        from surprise import SVD, Dataset, Reader
    except ImportError:
        print("| scikit-surprise SVD | - | - | not installed |")
        return
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".csv", delete=False) as handle:
        for u, i, r in zip(users[train], items[train], ratings[train]):
            handle.write(f"{u},{i},{r}\n")
    reader = Reader(line_format="user item rating", sep=",", rating_scale=(0.5, 5.0))
    trainset = Dataset.load_from_file(handle.name, reader).build_full_trainset()
    os.unlink(handle.name)
    algo = SVD(random_state=0)
    seconds = _median_time(lambda: algo.fit(trainset), repeat=3)
    predicted = np.array([algo.predict(str(u), str(i)).est
                          for u, i in zip(users[test], items[test])])
    record("scikit-surprise SVD (defaults: 100 factors, 20 epochs)", seconds,
           _rmse(predicted, ratings[test]))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes")
    parser.add_argument("--part", choices=["synthetic", "inner", "movielens", "all"],
                        default="all")
    parser.add_argument("--solvers", default="exact,cg,sketch")
    args = parser.parse_args()
    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
          f"numpy {np.__version__}")
    if args.part in ("synthetic", "all"):
        n, k, n_observed = (2000, 10, 200_000) if args.quick else (10_000, 20, 2_000_000)
        bench_synthetic(n, k, n_observed, args.solvers.split(","))
    if args.part in ("inner", "all"):
        bench_inner_steps(args.quick)
    if args.part in ("movielens", "all"):
        bench_movielens(args.quick)


if __name__ == "__main__":
    main()
