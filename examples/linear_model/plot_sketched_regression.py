"""
===========================================================
Sketched least squares: speed and l_inf accuracy
===========================================================

:class:`~sklr.SketchedRegressor` fits a linear model on a random sketch
``S X`` of a tall design ``X`` (``m`` rows instead of ``n``). This example
compares it with :class:`~sklearn.linear_model.LinearRegression`, the exact
solver, on a 200,000 x 50 problem:

- ``solver="sketch"`` (sketch-and-solve) with the dense SRHT and Gaussian
  sketches and the sparse CountSketch,
- ``solver="precondition"`` (sketch-and-precondition), which returns the exact
  solution.

It then shows how the largest coefficient error, ``||w' - w*||_inf``, shrinks
with the number of sketch rows ``n_components``, for a dense (SRHT) and a
sparse (CountSketch) sketch, on a design where a few rows carry almost all the
leverage. See the :ref:`User Guide <sketched_regression>` for the background.
"""

# %%
# A tall least-squares problem
# ----------------------------
# :func:`~sklr.datasets.make_least_squares` draws ``y = X w + noise`` with a
# Gaussian design. The exact solution ``w*`` comes from
# :class:`~sklearn.linear_model.LinearRegression` (LAPACK), and every fit is
# scored by two numbers:
#
# - the residual ratio ``||X w' + b' - y|| / ||X w* + b* - y||`` (1 is optimal),
# - the l_inf error ``max_j |w'_j - w*_j|`` of the coefficients.
from time import perf_counter

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LinearRegression

from sklr import SketchedRegressor
from sklr.datasets import make_least_squares

X, y, true_coef = make_least_squares(200_000, 50, noise=1.0, random_state=0)


def timed_fit(estimator):
    start = perf_counter()
    estimator.fit(X, y)
    return estimator, perf_counter() - start


def residual(estimator):
    return np.linalg.norm(X @ estimator.coef_ + estimator.intercept_ - y)


# A tiny fit first, so that one-time imports are not timed below.
SketchedRegressor(random_state=0).fit(X[:2000], y[:2000])

exact, exact_time = timed_fit(LinearRegression())
best_residual = residual(exact)

# %%
# Sketch-and-solve and sketch-and-precondition
# --------------------------------------------
# All sketches use the default ``n_components="auto"``, here
# ``max(20 * 50, 1000) = 1000`` rows. Applying a Gaussian sketch costs
# ``O(m n d)``, too slow for 200,000 rows on a CPU, so it runs behind the
# optional CountSketch pre-stage (``n_buckets="auto"``: ``32 m`` buckets).
candidates = {
    "srht": SketchedRegressor(sketch="srht", random_state=0),
    "gaussian\n(pre-stage)": SketchedRegressor(
        sketch="gaussian", n_buckets="auto", random_state=0
    ),
    "countsketch": SketchedRegressor(sketch="countsketch", random_state=0),
    "precondition\n(srht)": SketchedRegressor(solver="precondition", random_state=0),
}
names, times, ratios, linf_errors = ["LinearRegression"], [exact_time], [1.0], [0.0]
for name, estimator in candidates.items():
    estimator, elapsed = timed_fit(estimator)
    names.append(name)
    times.append(elapsed)
    ratios.append(residual(estimator) / best_residual)
    linf_errors.append(np.max(np.abs(estimator.coef_ - exact.coef_)))

print(f"{'':22s} {'fit time (s)':>12s} {'/ exact':>8s} {'residual ratio':>15s} "
      f"{'l_inf error':>12s}")
for name, t, ratio, err in zip(names, times, ratios, linf_errors):
    print(f"{name.replace(chr(10), ' '):22s} {t:12.3f} {t / exact_time:8.2f} {ratio:15.6f} "
          f"{err:12.2e}")
exact_vs_truth = np.max(np.abs(exact.coef_ - true_coef))
m = candidates["srht"].n_components_
print(f"rule of thumb for the residual ratio of sketch-and-solve, sqrt(1 + d / m) with "
      f"m = {m}: {np.sqrt(1 + X.shape[1] / m):.4f}")
print(f"l_inf distance of the exact fit to the true coefficients: {exact_vs_truth:.2e}")

# %%
# The column ``/ exact`` is each fit's time divided by that of
# :class:`~sklearn.linear_model.LinearRegression` on this run (below 1:
# faster). The sketch-and-solve residual ratios are to be read against the
# rule of thumb ``sqrt(1 + d / m)`` printed below the table, and their
# coefficient errors against the distance of the exact fit to the true
# coefficients: a sketch of ``m`` rows gives about the accuracy of an exact
# fit on ``m`` samples. The Gaussian sketch costs ``O(m n d)`` even behind
# the pre-stage, a cost that suits a GPU better than a CPU. The
# preconditioned solver returns the least-squares solution itself (its
# l_inf error is at the level of rounding); whether it beats LAPACK's direct
# solve depends on the machine and on the shape of ``X``, see the benchmark
# page (``benchmarks/README.md``) for repeated measurements.
fig, (ax_time, ax_err) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
colors = ["tab:gray", "tab:blue", "tab:cyan", "tab:orange", "tab:green"]
ax_time.bar(names, times, color=colors)
ax_time.set_ylabel("fit time (s)")
ax_time.set_title("Fit time, 200,000 x 50")
ax_err.bar(names[1:], linf_errors[1:], color=colors[1:])
ax_err.axhline(exact_vs_truth, color="k", linestyle="--", label="exact fit vs true coef")
ax_err.legend(loc="center right")
ax_err.set_yscale("log")
ax_err.set_ylabel(r"$\|w' - w^*\|_\infty$")
ax_err.set_title("Coefficient error vs the exact solution")
for ax in (ax_time, ax_err):
    ax.tick_params(axis="x", labelsize=8)
plt.show()

# %%
# The l_inf error and the number of sketch rows
# ---------------------------------------------
# The ``"coherent"`` design of :func:`~sklr.datasets.make_least_squares` puts
# ``d`` rows of a scaled identity above Gaussian rows: each of those ``d`` rows
# carries a leverage score close to 1, so each coefficient is decided by one
# row. A dense sketch mixes every row into every sketch row and keeps them all;
# a CountSketch sends each row to a single bucket, and two heavy rows that share
# a bucket lose a direction. The paper's l_inf guarantee for dense sketches
# gives an error decaying like ``1/sqrt(m)``; CountSketch has no such guarantee.
Xc, yc, _ = make_least_squares(20_000, 50, design="coherent", noise=1.0, random_state=1)
exact_coef = LinearRegression().fit(Xc, yc).coef_
sizes = [250, 500, 1000, 2000, 4000]
seeds = range(5)
linf = {"srht": [], "countsketch": []}
for sketch, errors in linf.items():
    for m in sizes:
        per_seed = [
            np.max(
                np.abs(
                    SketchedRegressor(sketch=sketch, n_components=m, random_state=seed)
                    .fit(Xc, yc)
                    .coef_
                    - exact_coef
                )
            )
            for seed in seeds
        ]
        errors.append(np.median(per_seed))

print(f"{'n_components':>12s} {'srht':>10s} {'countsketch':>12s} {'ratio':>7s}")
for m, e_srht, e_count in zip(sizes, linf["srht"], linf["countsketch"]):
    print(f"{m:12d} {e_srht:10.2e} {e_count:12.2e} {e_count / e_srht:7.1f}")
slope = np.polyfit(np.log(sizes), np.log(linf["srht"]), 1)[0]
print(f"SRHT: the median l_inf error falls like m^{slope:.2f} (the guarantee: m^-0.5)")

fig, ax = plt.subplots(figsize=(6, 4), layout="constrained")
ax.loglog(sizes, linf["srht"], "o-", label="SRHT (dense)")
ax.loglog(sizes, linf["countsketch"], "s-", label="CountSketch (sparse)")
reference = linf["srht"][0] * np.sqrt(sizes[0] / np.asarray(sizes))
ax.loglog(sizes, reference, "k--", label=r"$\propto 1/\sqrt{m}$")
ax.set_xticks(sizes, labels=[str(m) for m in sizes], minor=False)
ax.xaxis.set_minor_locator(plt.NullLocator())
ax.set_xlabel("n_components (m)")
ax.set_ylabel(r"median $\|w' - w^*\|_\infty$ over 5 seeds")
ax.set_title("Coherent design, 20,000 x 50")
ax.legend()
plt.show()

# %%
# The printed exponent of the SRHT curve is to be compared with the
# ``1/sqrt(m)`` of the guarantee, and the ``ratio`` column says how many times
# less accurate CountSketch is at each ``m`` on this design. What can go wrong
# with CountSketch: with ``m`` buckets, about ``d**2 / (2 m)`` pairs of the
# 50 heavy rows share a bucket (``d**2 = 2500``), and each such collision
# spoils two coefficients, so its error depends on whether ``m`` is well
# above ``d**2``. On the Gaussian design above, where no row stands out,
# collisions do no such harm; the dense sketch is the safe choice when the
# coefficients themselves matter.
