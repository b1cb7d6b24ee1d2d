"""
==============================================================
Sinkhorn then sparse Newton: convergence and domain adaptation
==============================================================

:func:`~sklr.transport.sinkhorn_newton` solves entropic optimal transport
with a few Sinkhorn iterations followed by Newton steps whose Hessian is
sparsified to the largest entries of the plan (Tang et al., ICLR 2024). At
small regularization, where Sinkhorn needs thousands of iterations, the
Newton stage reaches machine accuracy in a handful.

The first part compares the marginal error per iteration with plain
(log-domain) Sinkhorn on the paper's random assignment problem; the second
uses :class:`~sklr.transport.SinkhornNewtonOT` inside a
:class:`~sklearn.pipeline.Pipeline` for domain adaptation. See the
:ref:`User Guide <optimal_transport>`.
"""

# %%
# Marginal error per iteration
# ----------------------------
# Cost ``C_ij ~ U[0, 1]``, 300 x 300, uniform marginals, ``reg = 1e-3``
# (the paper uses ``eta = 1 / reg = 1200``). Plain Sinkhorn is written out
# in the log domain, as POT's ``method="sinkhorn_log"`` does.
from time import perf_counter

import matplotlib.pyplot as plt
import numpy as np
from scipy.special import logsumexp

from sklr.transport import sinkhorn_newton

n, reg = 300, 1e-3
C = np.random.RandomState(0).uniform(size=(n, n))


def marginal_error(P):
    return np.abs(P.sum(1) - 1 / n).sum() + np.abs(P.sum(0) - 1 / n).sum()


start = perf_counter()
P, log = sinkhorn_newton([], [], C, reg, tol=1e-13, log=True)
sns_seconds = perf_counter() - start
print(f"Sinkhorn-Newton-Sparse: {log['n_sinkhorn']} Sinkhorn + {log['n_newton']} Newton "
      f"iterations, error {log['final_err']:.1e}, {sns_seconds:.2f} s")

f, g = np.zeros(n), np.zeros(n)
checked, sinkhorn_errors = [], []
start = perf_counter()
for iteration in range(1, 1001):
    f = reg * (-np.log(n) - logsumexp((g[None, :] - C) / reg, axis=1))
    g = reg * (-np.log(n) - logsumexp((f[:, None] - C) / reg, axis=0))
    if iteration % 10 == 0:
        checked.append(iteration)
        sinkhorn_errors.append(marginal_error(np.exp((f[:, None] + g[None, :] - C) / reg)))
print(f"log-domain Sinkhorn: error {sinkhorn_errors[-1]:.1e} after 1000 iterations, "
      f"{perf_counter() - start:.2f} s")

# The log records the error every 5 Sinkhorn iterations, then after each Newton step.
n_newton = log["n_newton"]
sns_iterations = ([5 * (i + 1) for i in range(len(log["err"]) - n_newton)]
                  + [log["n_sinkhorn"] + i + 1 for i in range(n_newton)])
fig, ax = plt.subplots(figsize=(7, 4))
ax.semilogy(checked, sinkhorn_errors, label="log-domain Sinkhorn")
ax.semilogy(sns_iterations, log["err"], marker="o", label="Sinkhorn + sparse Newton")
ax.axvline(log["n_sinkhorn"], color="gray", linestyle=":", label="switch to Newton")
ax.set_xscale("log")
ax.set_xlabel("iteration")
ax.set_ylabel("L1 marginal error")
ax.set_title(f"random assignment, n = {n}, reg = {reg:g}")
ax.legend()
fig.tight_layout()

# %%
# Domain adaptation in a Pipeline
# -------------------------------
# Labelled source data (two classes) and unlabelled target data that went
# through a rotation and a shift. A classifier trained on the source fails
# on the target. :class:`~sklr.transport.SinkhornNewtonOT` maps the source
# samples into the target domain (the entropic map: each point goes to a
# weighted mean of the target samples) before the classifier is trained,
# so that the classifier then applies to target data as they are.
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from sklr.transport import SinkhornNewtonOT

rng = np.random.RandomState(0)
centres = np.array([[-1.5, 0.0], [1.5, 0.0]])
ys = np.repeat([0, 1], 150)
Xs = rng.standard_normal((300, 2)) * 0.7 + centres[ys]
yt = np.repeat([0, 1], 150)
rotation = np.array([[np.cos(0.6), -np.sin(0.6)], [np.sin(0.6), np.cos(0.6)]])
Xt = (rng.standard_normal((300, 2)) * 0.7 + centres[yt]) @ rotation.T + [3.0, 3.0]

pipe = make_pipeline(SinkhornNewtonOT(reg=1e-2), LogisticRegression())
pipe.fit(Xs, ys, sinkhornnewtonot__X_target=Xt)
naive = LogisticRegression().fit(Xs, ys)
print(f"accuracy on the target: {np.mean(naive.predict(Xt) == yt):.2f} without adaptation, "
      f"{np.mean(pipe[-1].predict(Xt) == yt):.2f} with SinkhornNewtonOT "
      f"({pipe[0].n_iter_} iterations)")

mapped = pipe[0].transform(Xs)
fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharex=True, sharey=True)
for ax, points, title in ((axes[0], Xs, "source"), (axes[1], mapped, "source mapped")):
    ax.scatter(Xt[:, 0], Xt[:, 1], c=yt, cmap="coolwarm", marker="x", alpha=0.4,
               label="target (true labels)")
    ax.scatter(points[:, 0], points[:, 1], c=ys, cmap="coolwarm", s=12, label=title)
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()
plt.show()
