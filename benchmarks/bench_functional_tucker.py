"""FunctionalTucker on BeijingAir PM2.5 against discretised Tucker, a GP and a per-mode baseline.

Run ``python benchmarks/bench_functional_tucker.py [--quick]``. Prints Markdown tables:

1. test RMSE and MAE (mean +- std over seeded 80/20 splits of the 16,965 station-days, z-scored
   PM2.5, modes temperature x pressure x day, each min-max scaled to [0, 10] as in the FunBaT
   paper) and the median fit time, for FunctionalTucker (ranks 2, 3, 5), tensorly's masked
   ``tucker`` on equal-width binned grids (bench extra; rows skipped when tensorly is missing),
   scikit-learn's ``GaussianProcessRegressor`` on a subsample it can afford, and an additive
   per-mode bin-mean baseline;
2. FunctionalTucker's fit time against the number of training entries (N, 2N, 4N, 8N) at a fixed
   number of sweeps.

The data ship with sklr: ``sklr.datasets.load_beijing_air()`` (CC BY 4.0, see its ``DESCR``).
"""

import argparse
import time
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.gaussian_process import GaussianProcessRegressor
from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

from sklr.datasets import load_beijing_air
from sklr.tensor import FunctionalTucker


def load():
    """Temperature, pressure and day min-max scaled to [0, 10]; z-scored PM2.5 (as FunBaT)."""
    X, y = load_beijing_air(target="pm25", return_X_y=True)
    X = 10 * (X - X.min(axis=0)) / (X.max(axis=0) - X.min(axis=0))
    return X, (y - y.mean()) / y.std(ddof=1)


def metrics(pred, y):
    return np.sqrt(np.mean((pred - y) ** 2)), np.mean(np.abs(pred - y))


def bins(X, shape):
    return np.stack([np.minimum((X[:, k] / 10 * n).astype(int), n - 1)
                     for k, n in enumerate(shape)], axis=1)


def per_mode_mean(Xtr, ytr, Xte, n_bins=(50, 50, 150)):
    """Additive baseline: overall mean plus, per mode, the mean residual in each index bin."""
    btr, bte = bins(Xtr, n_bins), bins(Xte, n_bins)
    pred, fit = np.zeros(len(Xte)), np.zeros(len(Xtr))
    for k, n in enumerate(n_bins):
        resid = ytr - fit
        sums = np.bincount(btr[:, k], resid, n)
        counts = np.bincount(btr[:, k], minlength=n)
        effect = sums / np.maximum(counts, 1)
        fit += effect[btr[:, k]]
        pred += effect[bte[:, k]]
    return pred


def tensorly_tucker(Xtr, ytr, Xte, shape, rank):
    import tensorly as tl
    from tensorly.decomposition import tucker

    btr, bte = bins(Xtr, shape), bins(Xte, shape)
    flat = np.ravel_multi_index(btr.T, shape)
    total = np.bincount(flat, ytr, np.prod(shape))
    count = np.bincount(flat, minlength=np.prod(shape))
    tensor = (total / np.maximum(count, 1)).reshape(shape)
    mask = (count > 0).reshape(shape).astype(float)
    core, factors = tucker(tl.tensor(tensor), rank=[rank] * 3, mask=tl.tensor(mask),
                           n_iter_max=100, init="random", random_state=0)
    full = tl.tucker_to_tensor((core, factors))
    return full[tuple(bte.T)]


def gp(Xtr, ytr, Xte, n_sub, seed):
    sub = np.random.RandomState(seed).choice(len(Xtr), n_sub, replace=False)
    kernel = (ConstantKernel() * Matern(length_scale=[1.0, 1.0, 1.0], nu=0.5)
              + WhiteKernel(0.1))
    model = GaussianProcessRegressor(kernel, normalize_y=True, random_state=0)
    return model.fit(Xtr[sub], ytr[sub]).predict(Xte)


def funbat(Xtr, ytr, Xte, rank, max_iter):
    model = FunctionalTucker(rank=rank, kernel="matern12", lengthscale=0.1, variance=1.0,
                             damping=0.5, max_iter=max_iter, random_state=0)
    return model.fit(Xtr, ytr).predict(Xte)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one split, fewer methods")
    args = parser.parse_args()
    X, y = load()
    n_splits = 1 if args.quick else 5
    max_iter = 10 if args.quick else 15
    ranks = (3,) if args.quick else (2, 3, 5)
    grids = [(25, 25, 75)] if args.quick else [(25, 25, 75), (50, 50, 150)]
    n_gp = 300 if args.quick else 500
    try:
        import tensorly  # noqa: F401
        have_tensorly = True
    except ImportError:
        have_tensorly = False
        print("tensorly is not installed (pip install '.[bench]'): its rows are skipped.\n")

    methods = {f"FunctionalTucker rank {r} (matern12, l=0.1, {max_iter} sweeps)":
               (lambda a, b, c, s, r=r: funbat(a, b, c, r, max_iter)) for r in ranks}
    if have_tensorly:
        for g in grids:
            methods[f"tensorly tucker rank 3, masked grid {'x'.join(map(str, g))}"] = (
                lambda a, b, c, s, g=g: tensorly_tucker(a, b, c, g, 3))
    methods[f"GaussianProcessRegressor (Matern-1/2 ARD + noise, {n_gp} subsample)"] = (
        lambda a, b, c, s: gp(a, b, c, n_gp, s))
    methods["per-mode bin means (additive, 50x50x150 bins)"] = (
        lambda a, b, c, s: per_mode_mean(a, b, c))

    rng = np.random.RandomState(0)
    splits = [rng.permutation(len(y)) for _ in range(n_splits)]
    n_train = int(round(0.8 * len(y)))
    results = {name: [] for name in methods}
    for seed, perm in enumerate(splits):
        tr, te = perm[:n_train], perm[n_train:]
        for name, fn in methods.items():  # same data for every method, in turn
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                pred = fn(X[tr], y[tr], X[te], seed)
            results[name].append((*metrics(pred, y[te]), time.perf_counter() - start))

    print(f"BeijingAir PM2.5 (z-scored), {n_splits} split(s) of {n_train} train / "
          f"{len(y) - n_train} test entries\n")
    print("| method | test RMSE | test MAE | fit+predict time (median, s) |")
    print("|---|---|---|---|")
    for name, rows in results.items():
        r = np.array(rows)
        print(f"| {name} | {r[:, 0].mean():.4f} ± {r[:, 0].std():.4f} | "
              f"{r[:, 1].mean():.4f} ± {r[:, 1].std():.4f} | {np.median(r[:, 2]):.2f} |")

    print("\nFunctionalTucker rank 3 fit time against the number of training entries "
          "(fixed 5 sweeps, median of 3)\n")
    print("| N | distinct indices (sum over modes) | fit time (s) | time / time(N) |")
    print("|---|---|---|---|")
    tr = splits[0][:n_train]
    base = None
    for frac in (8, 4, 2, 1)[::-1]:
        idx = tr[: n_train * frac // 8]
        times = []
        for _ in range(3):
            model = FunctionalTucker(rank=3, kernel="matern12", lengthscale=0.1, damping=0.5,
                                     max_iter=5, tol=0.0, random_state=0)
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                model.fit(X[idx], y[idx])
            times.append(time.perf_counter() - start)
        t = float(np.median(times))
        base = t if base is None else base
        distinct = sum(len(np.unique(X[idx, k])) for k in range(3))
        print(f"| {len(idx)} | {distinct} | {t:.2f} | {t / base:.2f} |")


if __name__ == "__main__":
    main()
