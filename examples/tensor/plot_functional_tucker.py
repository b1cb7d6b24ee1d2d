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
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)  # a few sweeps suffice here
    model.fit(X[train], y[train])
unseen = [int(np.isin(X[test, k], X[train, k], invert=True).sum()) for k in range(X.shape[1])]
print(f"{len(test)} test entries; per mode, how many fall at an index value absent from "
      f"training: {unseen}")
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
