"""
=====================================================
Functional Tucker decomposition of air-quality data
=====================================================

:class:`~sklr.tensor.FunctionalTucker` decomposes data indexed by real
numbers into a small core and one set of latent functions per index. Here
the daily PM2.5 concentration at 12 Beijing stations is indexed by the
day's mean temperature, mean pressure and date, as in the FunBaT paper:
16,965 station-days over 428 x 501 x 1461 distinct index values, a tensor
that would be 99.995% empty on the grid. The model predicts held-out days
and gives the learned mode functions with their uncertainty. The data ship
with sklr (:func:`~sklr.datasets.load_beijing_air`, a daily aggregation of
the UCI Beijing Multi-Site Air-Quality data, licensed CC BY 4.0). See the
:ref:`User Guide <functional_tucker>` for the background.
"""

# %%
# The data
# --------
# Each index is min-max scaled to [0, 10] and the target z-scored, as in
# the paper.
import warnings
from time import perf_counter

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklr.datasets import load_beijing_air
from sklr.tensor import FunctionalTucker, state_space_predict

air = load_beijing_air(target="pm25")
raw = air.data.copy()
raw[:, 2] = 1970 + raw[:, 2] / 365.25  # days since 1970 to years
y = (air.target - air.target.mean()) / air.target.std(ddof=1)
names = ["temperature (deg C)", "pressure (hPa)", "date (year)"]
low, high = raw.min(axis=0), raw.max(axis=0)
X = 10 * (raw - low) / (high - low)
print(f"{X.shape[0]} observations, distinct values per mode: "
      f"{[len(np.unique(X[:, k])) for k in range(X.shape[1])]}")

# %%
# Fit and predict held-out entries
# --------------------------------
# 80% of the entries train the model; the other 20% are predicted, most of
# them at index values that the model has seen in some other combination,
# some at values it has never seen (handled by the state-space bridge).
perm = np.random.RandomState(0).permutation(len(y))
train, test = perm[: int(0.8 * len(y))], perm[int(0.8 * len(y)):]
model = FunctionalTucker(rank=2, kernel="matern12", lengthscale=0.1, damping=0.5, max_iter=10,
                         random_state=0)
start = perf_counter()
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # a few sweeps suffice here
    model.fit(X[train], y[train])
unseen = [int(np.isin(X[test, k], X[train, k], invert=True).sum()) for k in range(X.shape[1])]
print(f"{len(test)} test entries; per mode, how many fall at an index value absent from "
      f"training: {unseen}")
pred, std = model.predict(X[test], return_std=True)
fit_time = perf_counter() - start  # fit and predict, like the peers below
rmse = np.sqrt(np.mean((pred - y[test]) ** 2))
baseline = np.sqrt(np.mean((y[train].mean() - y[test]) ** 2))
print(f"test RMSE {rmse:.3f} (predicting the mean: {baseline:.3f}); "
      f"learned noise sd {model.noise_precision_ ** -0.5:.3f}")

# %%
# The learned mode functions
# --------------------------
# :func:`~sklr.tensor.state_space_predict` reads the posterior of a mode's
# functions at any index from its smoothed states (``mode_states_``): here on
# a fine grid, with a band of two posterior standard deviations. Tucker
# factors are identified up to an invertible map per mode, so their shapes,
# not their signs or scales, carry the meaning. The paper's lengthscale, 0.1
# on the [0, 10] scale, is about 15 days on the date axis: the date functions
# follow pollution episodes of days to weeks, not only the seasons.
fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
for ax, k in zip(axes, range(X.shape[1])):
    state = model.mode_states_[k]
    grid = np.linspace(0, 10, 400)
    means, covs = state_space_predict(
        grid, state["grid"], state["means"], state["covs"], state["cross_covs"],
        state["kernel"], state["lengthscale"], state["variance"], n_components=state["rank"])
    coords = low[k] + grid / 10 * (high[k] - low[k])
    for j in range(state["rank"]):
        sd = np.sqrt(covs[:, j, j])
        line, = ax.plot(coords, means[:, j], label=f"function {j + 1}")
        ax.fill_between(coords, means[:, j] - 2 * sd, means[:, j] + 2 * sd,
                        color=line.get_color(), alpha=0.25)
    ax.set_xlabel(names[k])
    ax.set_title(f"mode {k + 1}: posterior mean and ±2 sd")
axes[0].legend()
axes[2].set_xticks(range(2013, 2018))
fig.tight_layout()
plt.show()

# %%
# Against a grid Tucker decomposition and a per-mode baseline
# ------------------------------------------------------------
# A classical Tucker decomposition needs a grid. Binning each index into
# equal-width bins, averaging the training targets per cell and running
# tensorly's masked ``tucker`` (rank 2, like the model above) on the observed
# cells gives a discrete peer on the same split; a test entry is predicted by
# its cell. The simplest baseline adds, per mode, the mean residual of each
# bin to the overall mean. The accuracy of both depends much on the grid, so
# each picks its grid from a few candidates on a validation split of the
# training entries (a fifth of them), then refits on all of them. Times
# include that selection and the prediction; the table holds whatever this
# run measured. The 12 stations share each date, so a grid with one bin per
# day sees most test days in training, which favours the discrete methods on
# this split; what they do not give is a smooth function of each index or an
# uncertainty, which the model above does.
grids = [(n, n, n_days) for n in (10, 25) for n_days in (75, 365, 1461)]


def bins(X, shape):
    return np.stack([np.minimum((X[:, k] / 10 * n).astype(int), n - 1)
                     for k, n in enumerate(shape)], axis=1)


def per_mode_means(X_train, y_train, X_test, shape):
    b_train, b_test = bins(X_train, shape), bins(X_test, shape)
    fitted, pred = np.full(len(y_train), y_train.mean()), np.full(len(X_test), y_train.mean())
    for k, n in enumerate(shape):
        sums = np.bincount(b_train[:, k], y_train - fitted, n)
        effect = sums / np.maximum(np.bincount(b_train[:, k], minlength=n), 1)
        fitted += effect[b_train[:, k]]
        pred += effect[b_test[:, k]]
    return pred


def grid_tucker(X_train, y_train, X_test, shape, rank=2):
    flat = np.ravel_multi_index(bins(X_train, shape).T, shape)
    count = np.bincount(flat, minlength=np.prod(shape))
    cells = (np.bincount(flat, y_train, np.prod(shape)) / np.maximum(count, 1)).reshape(shape)
    core, factors = tucker(tl.tensor(cells), rank=[rank] * len(shape),
                           mask=tl.tensor((count > 0).reshape(shape).astype(float)),
                           n_iter_max=100, init="random", random_state=0)
    return tl.tucker_to_tensor((core, factors))[tuple(bins(X_test, shape).T)]


def on_selected_grid(method):
    """Pick the grid on a validation split of the training entries, refit, predict the test."""
    fit, val = train[: int(0.8 * len(train))], train[int(0.8 * len(train)):]
    errors = [np.mean((method(X[fit], y[fit], X[val], shape) - y[val]) ** 2) for shape in grids]
    shape = grids[int(np.argmin(errors))]
    return method(X[train], y[train], X[test], shape), shape


results = {"FunctionalTucker, rank 2": (rmse, fit_time, "none (continuous)")}
peers = {"per-mode bin means": per_mode_means}
try:
    import tensorly as tl
    from tensorly.decomposition import tucker

    peers["tensorly tucker, rank 2, masked grid"] = grid_tucker
except ImportError:
    print("tensorly is not installed: its row is skipped")
for name, method in peers.items():
    start = perf_counter()
    peer_pred, shape = on_selected_grid(method)
    results[name] = (np.sqrt(np.mean((peer_pred - y[test]) ** 2)), perf_counter() - start,
                     " x ".join(map(str, shape)))
print(f"{'method':<38} {'test RMSE':>9} {'time (s)':>9}  grid")
for name, (score, seconds, grid) in results.items():
    print(f"{name:<38} {score:>9.3f} {seconds:>9.3f}  {grid}")

fig, ax = plt.subplots(figsize=(7, 3))
ax.barh(list(results), [score for score, _, _ in results.values()])
ax.axvline(baseline, color="black", linestyle="--", label="predicting the mean")
ax.set_xlabel("test RMSE (z-scored PM2.5)")
ax.invert_yaxis()
ax.legend()
fig.tight_layout()
plt.show()
