"""
=====================================================
Functional Tucker decomposition of air-quality data
=====================================================

:class:`~sklr.tensor.FunctionalTucker` decomposes data indexed by real
numbers into a small core and one set of latent functions per index. Here
the daily PM2.5 concentration at 12 Beijing stations is indexed by the
day's mean temperature, mean pressure and date, as in the FunBaT paper:
16,965 station-days over 428 x 501 x 1461 distinct index values, a tensor
that would be 99.98% empty on the grid. The model predicts held-out days
and gives the learned mode functions with their uncertainty. When the data
file is not found (it lives in the project's ``shared/data`` folder), the
example falls back to a synthetic two-mode problem. See the
:ref:`User Guide <functional_tucker>` for the background.
"""

# %%
# The data
# --------
# Each index is min-max scaled to [0, 10] and the target z-scored, as in
# the paper.
import csv
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sklr.tensor import FunctionalTucker, state_space_predict


def find_air_data():
    """The CSV next to the repository (sphinx-gallery runs examples from their folder)."""
    starts = [Path.cwd()]
    if "__file__" in globals():
        starts.insert(0, Path(__file__).resolve().parent)
    for start in starts:
        for folder in [start, *start.parents]:
            path = folder / "shared" / "data" / "beijing-air" / "beijing_air_daily.csv"
            if path.exists():
                return path
    return None


path = find_air_data()
if path is not None:
    with open(path) as fh:
        rows = list(csv.DictReader(fh))
    raw = np.array([[float(r["temp"]), float(r["pres"]),
                     np.datetime64(r["date"], "D").astype(np.int64)] for r in rows])
    y = np.array([float(r["pm25"]) for r in rows])
    y = (y - y.mean()) / y.std(ddof=1)
    raw[:, 2] = 1970 + raw[:, 2] / 365.25  # days since 1970 to years
    names = ["temperature (deg C)", "pressure (hPa)", "date (year)"]
    params = dict(rank=2, kernel="matern12", lengthscale=0.1, damping=0.5, max_iter=10)
else:  # synthetic fallback: a rank-2 product of two smooth functions
    rng = np.random.RandomState(0)
    raw = rng.uniform(0, 1, (2000, 2))
    y = (np.sin(3 * raw[:, 0]) * np.cos(2 * raw[:, 1])
         + np.cos(5 * raw[:, 0]) * np.sin(4 * raw[:, 1]) + 0.05 * rng.standard_normal(2000))
    names = ["index 1", "index 2"]
    params = dict(rank=2, kernel="matern32", lengthscale=1.0, max_iter=50)
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
model = FunctionalTucker(random_state=0, **params)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # a few sweeps suffice here
    model.fit(X[train], y[train])
pred, std = model.predict(X[test], return_std=True)
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
# not their signs or scales, carry the meaning.
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
for ax, k in zip(axes, [0, X.shape[1] - 1]):
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
fig.tight_layout()
plt.show()
