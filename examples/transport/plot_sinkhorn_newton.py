"""
==============================================================
Sinkhorn then sparse Newton: convergence and domain adaptation
==============================================================

:func:`~sklr.transport.sinkhorn_newton` solves entropic optimal transport
with Sinkhorn iterations followed by Newton steps whose Hessian is
sparsified to the largest entries of the plan (Tang et al., ICLR 2024).

The first part runs it and POT's :func:`ot.sinkhorn` to the same L1
marginal error on the paper's random assignment problem and draws the error
of both against the iterations and against the time; the second compares
:class:`~sklr.transport.SinkhornNewtonOT` with POT's
:class:`ot.da.SinkhornTransport` for domain adaptation in a
:class:`~sklearn.pipeline.Pipeline`. POT is in the ``doc`` extra
(``pip install ".[doc]"``). See the :ref:`User Guide <optimal_transport>`.
"""

# %%
# The problem and the target accuracy
# -----------------------------------
# Cost ``C_ij ~ U[0, 1]``, 500 x 500, uniform marginals, ``reg = 1e-3``
# (the paper's ``eta = 1 / reg`` is 1200). Both solvers are scored by the
# same measure, the L1 marginal error ``||P 1 - a||_1 + ||P^T 1 - b||_1``
# of the plan they return, and both are run until it is at most
# ``tol = 1e-9``.
import warnings
from time import perf_counter

import matplotlib.pyplot as plt
import numpy as np
import ot

from sklr.transport import sinkhorn_newton

n, reg, tol = 500, 1e-3, 1e-9
C = np.random.RandomState(0).uniform(size=(n, n))
a = b = np.full(n, 1.0 / n)


def marginal_error(P):
    return np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum()


def timed(solve):
    start = perf_counter()
    out = solve()
    return out, perf_counter() - start


# A first small call, so that one-time imports are not timed below.
sinkhorn_newton(a, b, C, reg, max_iter=1, warn=False)
(P_sklr, log), sklr_seconds = timed(lambda: sinkhorn_newton(a, b, C, reg, tol=tol, log=True))

# %%
# What the log holds
# ------------------
# ``log["err"]`` records the marginal error after every iteration of the
# Sinkhorn stage (``log["n_sinkhorn"]`` of them, the first at iteration 1;
# with the default ``n_sinkhorn="auto"`` the first ones are the warm-up's, at
# ``log["warmup_reg"]``, ten times ``reg``), then after each Newton step
# (``log["n_newton"]``). A Newton step that the
# line search damps is followed by Sinkhorn iterations that are counted in
# ``log["n_sinkhorn_extra"]`` but not recorded one by one; they are added
# to the iteration count of the Newton step they follow.
n_sinkhorn, n_newton = log["n_sinkhorn"], log["n_newton"]
assert len(log["err"]) == n_sinkhorn + n_newton
sklr_iterations = list(range(1, n_sinkhorn + 1)) + [n_sinkhorn + k for k in range(1, n_newton + 1)]
if log["n_sinkhorn_extra"]:
    sklr_iterations[-1] += log["n_sinkhorn_extra"]
print(f"sklr sinkhorn_newton: {n_sinkhorn} Sinkhorn iterations + {n_newton} Newton steps "
      f"(+ {log['n_sinkhorn_extra']} Sinkhorn iterations after damped steps), "
      f"L1 marginal error {log['final_err']:.1e}, {sklr_seconds:.3f} s")

# %%
# POT's Sinkhorn to the same error
# --------------------------------
# :func:`ot.sinkhorn` stops on its own measure (the L2 norm of the column
# marginal violation, checked every 10 iterations), not on the L1 error of
# both marginals. To stop it on the same measure, it is run 10 iterations at
# a time from the previous scalings (``warmstart``), the L1 error of its plan
# recorded, until the error is at most ``tol``: this gives its curve and the
# number of iterations it needs. The timed run is then one call of exactly
# that many iterations. The kernel method (``method="sinkhorn"``) is POT's
# fastest; where its kernel ``exp(-C / reg)`` underflows into numerical
# errors, the script falls back on the log-domain ``method="sinkhorn_log"``.
def pot_curve(method, chunk=10, max_iter=20_000):
    iterations, errors, warmstart = [], [], None
    while not iterations or (errors[-1] > tol and iterations[-1] < max_iter):
        with warnings.catch_warnings():
            # The kernel method warns (UserWarning) on numerical errors; the
            # log-domain one overflows harmlessly in exp(log_u) for its log.
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("error", UserWarning)
            P, pot_log = ot.sinkhorn(a, b, C, reg, method=method, numItermax=chunk,
                                     stopThr=0.0, warn=False, log=True, warmstart=warmstart)
        if method == "sinkhorn":
            warmstart = (np.log(pot_log["u"]), np.log(pot_log["v"]))
        else:
            warmstart = (pot_log["log_u"], pot_log["log_v"])
        iterations.append(chunk * len(iterations) + chunk)
        errors.append(marginal_error(P))
    return iterations, errors


try:
    pot_method = "sinkhorn"
    pot_iterations, pot_errors = pot_curve(pot_method)
except UserWarning:
    pot_method = "sinkhorn_log"
    pot_iterations, pot_errors = pot_curve(pot_method)
n_pot = pot_iterations[-1]
P_pot, pot_seconds = timed(lambda: ot.sinkhorn(a, b, C, reg, method=pot_method, numItermax=n_pot,
                                               stopThr=0.0, warn=False))
print(f"POT ot.sinkhorn(method={pot_method!r}): {n_pot} iterations, "
      f"L1 marginal error {marginal_error(P_pot):.1e}, {pot_seconds:.3f} s")
print(f"time ratio POT / sklr: {pot_seconds / sklr_seconds:.1f}; "
      f"L1 distance between the two plans: {np.abs(P_pot - P_sklr).sum():.1e}")
kernel = np.exp(-C / reg)
n_subnormal = np.sum((kernel > 0) & (kernel < np.finfo(float).tiny))
print(f"POT's kernel exp(-C / reg): {np.sum(kernel == 0)} entries underflow to 0, "
      f"{n_subnormal} are subnormal numbers")

# %%
# The error against the iterations and against the time
# -------------------------------------------------------
# An iteration is not the same work in the two solvers: a Sinkhorn iteration
# is two products with the ``n x n`` kernel, a Newton step a factorization
# and several passes over the plan. The right panel therefore measures time:
# sklr is re-run stopped after 0, 1, 2, ... Newton steps (``max_iter``), POT
# after a growing number of iterations, and each run is timed whole.
sklr_points = []
for k in range(n_newton + 1):
    (_, k_log), seconds = timed(
        lambda k=k: sinkhorn_newton(a, b, C, reg, tol=tol, max_iter=k, log=True, warn=False))
    sklr_points.append((seconds, k_log["final_err"]))
pot_points = []
for n_iter in np.unique(np.geomspace(10, n_pot, 8).astype(int)):
    P, seconds = timed(lambda n_iter=n_iter: ot.sinkhorn(
        a, b, C, reg, method=pot_method, numItermax=n_iter, stopThr=0.0, warn=False))
    pot_points.append((seconds, marginal_error(P)))

fig, (ax_it, ax_time) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
ax_it.semilogy(pot_iterations, pot_errors, label=f"POT ot.sinkhorn ({pot_method})")
ax_it.semilogy(sklr_iterations[:n_sinkhorn], log["err"][:n_sinkhorn],
               label="sklr: Sinkhorn stage")
ax_it.semilogy(sklr_iterations[n_sinkhorn - 1:], log["err"][n_sinkhorn - 1:], "o-",
               label="sklr: Newton steps")
ax_it.set_xscale("log")
ax_it.set_xlabel("iteration (Sinkhorn iteration or Newton step)")
ax_it.set_ylabel("L1 marginal error")
ax_time.semilogy(*zip(*pot_points), "s-", label=f"POT ot.sinkhorn ({pot_method})")
ax_time.semilogy(*zip(*sklr_points), "o-", label="sklr sinkhorn_newton")
ax_time.set_xlabel("time of a run stopped there (s)")
for ax in (ax_it, ax_time):
    ax.axhline(tol, color="gray", linestyle=":", label=f"tol = {tol:g}")
    ax.legend(fontsize=8)
fig.suptitle(f"random assignment, n = {n}, reg = {reg:g}")
plt.show()

# %%
# Both solvers compute the same plan (the distance between the two is
# printed above). In the Sinkhorn stage the two curves follow each other
# (from different starting scalings): sklr's Sinkhorn iterations are
# Sinkhorn's.
# The difference is what happens after: each Newton step divides the error
# by a large factor, where Sinkhorn's linear rate keeps shrinking as ``reg``
# falls. The times printed above are from the machine that built this page;
# the benchmark page (``benchmarks/README.md``) has timings at other sizes
# and regularizations, with repeated runs.

# %%
# Domain adaptation in a Pipeline, next to ot.da.SinkhornTransport
# ----------------------------------------------------------------
# Labelled source data (two classes) and unlabelled target data that went
# through a rotation and a shift. A classifier trained on the source fails
# on the target. :class:`~sklr.transport.SinkhornNewtonOT` maps the source
# samples into the target domain (the entropic map: each point goes to a
# weighted mean of the target samples) before the classifier is trained,
# so that the classifier then applies to target data as they are. POT's
# :class:`ot.da.SinkhornTransport` does the same with its Sinkhorn: both get
# the squared Euclidean cost divided by its maximum (``norm="max"``) and
# ``reg = 1e-2``. POT keeps its defaults otherwise (the log-domain Sinkhorn,
# the only method it offers with its default ``out_of_sample_map=
# "continuous"``, the entropic map that sklr uses too), with a tolerance a
# tenth of sklr's on its own error measure; the L1 marginal errors of both
# couplings are printed.
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
ns = Xs.shape[0]


def coupling_error(P):
    return np.abs(P.sum(1) - 1 / ns).sum() + np.abs(P.sum(0) - 1 / Xt.shape[0]).sum()


pipe = make_pipeline(SinkhornNewtonOT(reg=1e-2, X_target=Xt, tol=tol), LogisticRegression())
_, sklr_da_seconds = timed(lambda: pipe.fit(Xs, ys))
pot_da = ot.da.SinkhornTransport(reg_e=1e-2, norm="max", tol=tol / 10, max_iter=10_000,
                                 log=True)
_, pot_da_seconds = timed(lambda: pot_da.fit(Xs=Xs, Xt=Xt))
pot_clf = LogisticRegression().fit(pot_da.transform(Xs=Xs), ys)
naive = LogisticRegression().fit(Xs, ys)

mapped = pipe[0].transform(Xs)
mapped_pot = pot_da.transform(Xs=Xs)
print(f"accuracy on the target without adaptation: {np.mean(naive.predict(Xt) == yt):.3f}")
print(f"{'':30s} {'accuracy':>8s} {'L1 marginal error':>18s} {'fit (s)':>8s}")
print(f"{'sklr SinkhornNewtonOT':30s} {np.mean(pipe[-1].predict(Xt) == yt):8.3f} "
      f"{coupling_error(pipe[0].coupling_):18.1e} {sklr_da_seconds:8.3f}")
print(f"{'POT ot.da.SinkhornTransport':30s} {np.mean(pot_clf.predict(Xt) == yt):8.3f} "
      f"{coupling_error(pot_da.coupling_):18.1e} {pot_da_seconds:8.3f}")
print(f"largest distance between the two mapped sources: "
      f"{np.max(np.linalg.norm(mapped - mapped_pot, axis=1)):.1e}")
da_log = pipe[0].log_
print(f"SinkhornNewtonOT: {da_log['n_sinkhorn']} Sinkhorn iterations, "
      f"{da_log['n_newton']} Newton steps; POT: {pot_da.log_['niter'] + 1} iterations")

fig, axes = plt.subplots(1, 2, figsize=(9, 4), sharex=True, sharey=True)
for ax, points, title in ((axes[0], Xs, "source"),
                          (axes[1], mapped, "source mapped by SinkhornNewtonOT")):
    ax.scatter(Xt[:, 0], Xt[:, 1], c=yt, cmap="coolwarm", marker="x", alpha=0.4,
               label="target (true labels)")
    ax.scatter(points[:, 0], points[:, 1], c=ys, cmap="coolwarm", s=12, label="source")
    ax.set_title(title)
    ax.legend(loc="lower right", fontsize=8)
fig.tight_layout()
plt.show()

# %%
# At this ``reg`` the plan is dense and Sinkhorn converges fast: when its
# measured rate predicts the tolerance within a few hundred more
# iterations, :func:`~sklr.transport.sinkhorn_newton` finishes with
# Sinkhorn and takes no Newton step (the counts are printed above). Both
# transformers solve the same problem, and the mapped points agree to the
# printed distance. The Newton stage pays off at small ``reg``, as in the
# first part.
