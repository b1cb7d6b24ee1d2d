"""
==============================================================
Coresets for least absolute deviations: which rows to sample
==============================================================

:class:`~sklr.sampling.SensitivitySampler` keeps a few weighted rows of a
tall regression problem so that the l_p loss of every model on the sample
estimates its loss on all the rows. A model fitted on the sample, with the
weights, is then nearly optimal on the full data.

This example fits least absolute deviations (``p = 1``) on samples of 50 to
800 of 20,000 rows drawn by the five scoring methods, and measures the
full-data objective of each fit against the full-data optimum. The design is
*coherent* (a few rows carry almost all the leverage) and the noise
heavy-tailed, the case where uniform sampling fails. See the
:ref:`User Guide <sensitivity_sampling>` for the background.
"""

# %%
# A coherent design with heavy-tailed noise
# -----------------------------------------
# :func:`~sklr.datasets.make_least_squares` with ``design="coherent"`` puts
# ``d = 10`` rows of ``30 sqrt(n)`` times the identity above 19,990 Gaussian
# rows: each of the 10 carries a leverage score of about 0.999 and is the
# only row that pins down its coefficient precisely. Student-t noise with 1.5
# degrees of freedom (finite mean, infinite variance) adds outliers.
#
# The full-data optimum comes from :class:`~sklr.linear_model.LpRegressor`
# with ``p=1`` and a tight tolerance (iteratively reweighted least squares).
# The linear program of :class:`~sklearn.linear_model.QuantileRegressor`
# with ``alpha=0`` solves the same problem exactly; ``python -m sklr`` and
# the benchmark page compare the two.
import warnings
from time import perf_counter

import matplotlib.pyplot as plt
import numpy as np

from sklr.datasets import make_least_squares
from sklr.linear_model import LpRegressor
from sklr.sampling import SensitivitySampler

n, d = 20_000, 10
X, y, _ = make_least_squares(n, d, design="coherent", noise=0.0, random_state=0)
rng = np.random.RandomState(0)
y = y + rng.standard_t(1.5, size=n)


def lad_objective(model):
    """The l_1 loss of ``model`` on all the rows."""
    return np.sum(np.abs(y - X @ model.coef_ - model.intercept_))


start = perf_counter()
full = LpRegressor(p=1, tol=1e-10, max_iter=300).fit(X, y)
best = lad_objective(full)
print(f"full-data LAD optimum {best:.1f} ({full.n_iter_} iterations, "
      f"{perf_counter() - start:.2f} s)")

# %%
# Coresets of 50 to 800 rows
# --------------------------
# For each method and expected sample size ``n_samples``, the sampler draws a
# weighted sample of ``[X, y]`` (five seeds), :class:`~sklr.linear_model.LpRegressor`
# fits it with the weights ``sample_weight_``, and the fit is scored by
# the ratio of its full-data objective to the optimum (1 is optimal). The
# sampler preserves the subspace spanned by the 10 features, ``y`` and the
# intercept, 12 dimensions.
methods = ["uniform", "leverage", "root_leverage", "lewis", "sensitivity"]
sizes = [50, 100, 200, 400, 800]
seeds = range(5)
ratios = {method: [] for method in methods}
heavy_rows_kept = {method: [] for method in methods}
total_score = {}
for method in methods:
    for n_samples in sizes:
        per_seed, kept = [], []
        for seed in seeds:
            sampler = SensitivitySampler(
                p=1, method=method, n_samples=n_samples, random_state=seed
            )
            X_s, y_s = sampler.fit_resample(X, y)
            with warnings.catch_warnings():
                # A fit on a small sample may stop at max_iter; its
                # objective is what is measured here.
                warnings.simplefilter("ignore")
                model = LpRegressor(p=1).fit(X_s, y_s, sample_weight=sampler.sample_weight_)
            per_seed.append(lad_objective(model) / best)
            kept.append(np.sum(sampler.probabilities_[:d]))
        ratios[method].append(np.median(per_seed))
        heavy_rows_kept[method].append(np.median(kept))
    total_score[method] = sampler.total_sensitivity_

print("median objective ratio (coreset fit / optimum) over 5 seeds")
print(f"{'n_samples':>13s}" + "".join(f"{m:>8d}" for m in sizes))
for method in methods:
    print(f"{method:>13s}" + "".join(f"{r:8.4f}" for r in ratios[method]))

fig, ax = plt.subplots(figsize=(6.5, 4.5), layout="constrained")
markers = dict(zip(methods, "osv^D"))
# For p <= 2 the sensitivity bounds equal the Lewis weights (see below): a
# dashed line lets both curves show.
styles = {method: "--" if method == "sensitivity" else "-" for method in methods}
for method in methods:
    excess = np.asarray(ratios[method]) - 1.0
    ax.loglog(sizes, excess, styles[method], marker=markers[method], label=method,
              markerfacecolor="none" if method == "sensitivity" else None)
ax.set_xticks(sizes, labels=[str(m) for m in sizes])
ax.xaxis.set_minor_locator(plt.NullLocator())
ax.set_xlabel("expected sample size (n_samples)")
ax.set_ylabel("objective ratio - 1 (median of 5 seeds)")
ax.set_title(f"LAD on coresets, coherent design {n:,} x {d}, Student-t noise")
ax.legend()
plt.show()

# %%
# The table and the figure give each method's objective ratio at each
# sample size (a median over 5 seeds; small differences between methods are
# within the spread over seeds); the lines below sum them up. For
# ``p <= 2`` the sensitivity bounds are the Lewis weights themselves (see
# below), so the two give the same sample. Uniform sampling is the method
# with no regard for the design; the l_2 leverage scores are a baseline with
# no guarantee for ``p = 1``.
for method in methods:
    reached = [m for m, r in zip(sizes, ratios[method]) if r <= 1.01]
    print(f"{method:>13s}: first within 1% of the optimum "
          + (f"at n_samples = {reached[0]}" if reached else "at none of the sizes")
          + f", {100 * (ratios[method][-1] - 1):.2f}% above it at {sizes[-1]}")

# %%
# Why uniform (and small root-leverage) samples fail
# --------------------------------------------------
# Each method draws row ``i`` with probability ``q_i = min(1, c s_i)`` for its
# scores ``s_i``, with ``c`` set so that the probabilities add up to
# ``n_samples``. What matters on this design is whether the 10 high-leverage
# rows are in the sample: a model fitted without one of them estimates that
# coefficient from the Gaussian rows only, and the error is multiplied by
# ``30 sqrt(n)`` on the missing row. The plot shows the expected number of
# them in the sample, ``sum of q_i`` over those rows.
print("expected high-leverage rows in the sample (of 10), median over 5 seeds")
print(f"{'n_samples':>13s}" + "".join(f"{m:>8d}" for m in sizes) + "   total score")
for method in methods:
    print(f"{method:>13s}" + "".join(f"{k:8.2f}" for k in heavy_rows_kept[method])
          + f"{total_score[method]:14.1f}")

fig, ax = plt.subplots(figsize=(6.5, 4), layout="constrained")
for method in methods:
    ax.semilogx(sizes, heavy_rows_kept[method], styles[method], marker=markers[method],
                label=method, markerfacecolor="none" if method == "sensitivity" else None)
ax.set_xticks(sizes, labels=[str(m) for m in sizes])
ax.xaxis.set_minor_locator(plt.NullLocator())
ax.set_xlabel("expected sample size (n_samples)")
ax.set_ylabel(f"expected high-leverage rows kept (of {d})")
ax.set_title("Which methods keep the rows that matter")
ax.legend()
plt.show()

# %%
# Uniform sampling keeps each row with probability ``n_samples / n``, so
# it expects ``10 n_samples / n`` of the 10 rows that matter: fewer than one
# at every size here. Lewis weights, sensitivity bounds and leverage scores
# add up to the dimension of the subspace, 12 (the last column), and each of
# the 10 heavy rows has a score near 1, so it is kept with probability close
# to 1 from the smallest sample on. Root leverage scores, ``tau_i^(1/2)``,
# are larger on the Gaussian rows (about 0.01 where ``tau_i`` is about
# ``1e-4``) and add up to the total in the last column, so the high-leverage
# rows are kept with probability 1 only once ``n_samples`` exceeds that
# total; below it, the table shows how many of them a sample expects, and
# the first figure what that costs. The Lewis weights add up to the rank of
# the data whatever the design, which is why they are the default; for
# ``p = 1`` they need ``O(eps^-2 d log d)`` rows for a ``1 +- eps`` guarantee
# (Cohen and Peng, 2015).
#
# For ``p <= 2`` every Lewis weight is at most ``tau_i^(p/2)`` (and at most
# 1), so the sensitivity upper bounds ``min(1, w_i, tau_i^(p/2))`` of
# ``method="sensitivity"`` are the Lewis weights themselves; the two methods
# differ only for ``2 < p < 4``.
