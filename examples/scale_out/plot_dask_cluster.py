"""
==========================
Fitting on a Dask cluster
==========================

Two ways to use a `Dask <https://www.dask.org>`_ cluster with sklr:

- :class:`~sklr.SketchedRegressor` fits a Dask array split into blocks of
  rows *where the blocks lie*: each worker sketches its blocks, and only the
  small sketch (or, for ``solver="precondition"``, vectors of length
  ``n_features``) comes back to the client. The model equals the in-memory
  fit.
- :class:`~sklr.SensitivitySampler` draws a weighted sample of the rows
  (a coreset) from such an array on the workers; a model that is expensive
  on all the rows, such as :class:`~sklr.LpRegressor`, is then fitted on the
  small in-memory sample.
- Estimators whose work is independent fits (the ``n_init`` restarts of
  :class:`~sklr.cluster.SDPClusterer`, the candidates and folds of
  :class:`~sklearn.model_selection.GridSearchCV`) run them as tasks of the
  cluster inside ``joblib.parallel_backend("dask")``.

It needs the ``dask`` extra (``pip install "sklr[dask]"``). See the
:ref:`User Guide <scale_out>` for which estimator takes which path.
"""

# %%
# A local cluster
# ---------------
# Two workers with one thread each. ``processes=False`` keeps them in this
# process (threads), which starts in a fraction of a second and needs no
# ``if __name__ == "__main__":`` guard in a script; with ``processes=True``,
# or a :class:`distributed.Client` connected to the scheduler of a real
# cluster, the code below is the same.
from time import perf_counter

import dask.array as da
import joblib
import matplotlib.pyplot as plt
import numpy as np
from distributed import Client, LocalCluster
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV

from sklr import LpRegressor, SensitivitySampler, SketchedRegressor
from sklr.cluster import SDPClusterer
from sklr.datasets import make_heterogeneous_mixture

cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                       dashboard_address=None)
client = Client(cluster)
print(f"{len(client.scheduler_info()['workers'])} workers")

# %%
# A Dask array chunked by rows
# ----------------------------
# 200,000 x 20, in eight blocks of 25,000 rows, each block with all the
# columns. The blocks are drawn on the workers and stay there (``persist``),
# as blocks read from files would (for example with
# :func:`dask.array.from_zarr`); ``y`` is a Dask array with the same blocks of
# rows. A copy in memory (``compute``) is made here only to compare the fits.
rng = da.random.default_rng(0)
true_coef = np.linspace(-2.0, 2.0, 20)
X_dask = rng.standard_normal((200_000, 20), chunks=(25_000, -1))
y_dask = X_dask @ true_coef + 1.0 + rng.standard_normal(200_000, chunks=25_000)
X_dask, y_dask = client.persist([X_dask, y_dask])
X, y = X_dask.compute(), y_dask.compute()
print(X_dask)


def timed_fit(estimator, X, y):
    start = perf_counter()
    estimator.fit(X, y)
    return estimator, perf_counter() - start


# %%
# Sketch-and-solve on the cluster equals the fit in memory
# --------------------------------------------------------
# The sparse-sign sketch draws the column of ``S`` that meets row ``i`` from
# ``random_state`` and ``i`` alone, so ``S X`` is the sum of the blocks'
# sketches: the two fits agree to rounding. (The default SRHT sketch mixes
# all the rows and is refused for Dask input.)
params = dict(sketch="sparse_sign", random_state=0)
in_memory, t_memory = timed_fit(SketchedRegressor(**params), X, y)
on_cluster, t_cluster = timed_fit(SketchedRegressor(**params), X_dask, y_dask)
print(f"sketch:       in memory {t_memory:.2f} s, on the cluster {t_cluster:.2f} s, "
      f"max |coef difference| = {np.max(np.abs(on_cluster.coef_ - in_memory.coef_)):.1e}")

# %%
# ``solver="precondition"`` runs its conjugate-gradient iterations as two
# passes over the blocks each (``X v`` and ``X^T r``); the residuals stay on
# the workers. It returns the exact least-squares solution.
exact = LinearRegression().fit(X, y)
precond, t_precond = timed_fit(
    SketchedRegressor(solver="precondition", **params), X_dask, y_dask)
print(f"precondition: on the cluster {t_precond:.2f} s, {precond.n_iter_} iterations, "
      f"max |coef - LinearRegression| = {np.max(np.abs(precond.coef_ - exact.coef_)):.1e}")

# %%
# ``predict`` on a Dask array is lazy too: a Dask array with ``X``'s blocks.
y_pred = on_cluster.predict(X_dask)
print(y_pred)

# %%
# Without a cluster: ``partial_fit``
# ----------------------------------
# The same sums can be built one in-memory chunk at a time, in any order when
# each chunk says where its rows start. Memory is that of the sketch,
# ``n_components x n_features``, whatever the number of rows.
chunked = SketchedRegressor(**params)
for start in reversed(range(0, len(y), 25_000)):
    rows = slice(start, start + 25_000)
    chunked.partial_fit(X[rows], y[rows], row_offset=start)
print(f"partial_fit:  max |coef difference| = "
      f"{np.max(np.abs(chunked.coef_ - in_memory.coef_)):.1e}")

# %%
fig, ax = plt.subplots(figsize=(5, 4), layout="constrained")
ax.plot(exact.coef_, in_memory.coef_, "o", mfc="none", ms=9, label="sketch, in memory")
ax.plot(exact.coef_, on_cluster.coef_, "x", label="sketch, on the cluster")
ax.plot(exact.coef_, precond.coef_, ".", label="precondition, on the cluster")
ax.axline((0, 0), slope=1, color="0.7", lw=1, zorder=0)
ax.set(xlabel="LinearRegression coefficient", ylabel="SketchedRegressor coefficient",
       title="200,000 x 20, eight blocks of rows")
ax.legend()
plt.show()

# %%
# A coreset drawn on the cluster
# ------------------------------
# Least absolute deviations (``p = 1``) on a weighted sample of about 2,000
# of the 200,000 rows: :class:`~sklr.SensitivitySampler` computes the rows'
# Lewis weights by passes over the blocks, each block draws its rows where it
# lies, and only the sample comes back, to fit
# :class:`~sklr.LpRegressor` in memory. The sample is the one drawn from the
# array in memory (the same rows), and the coefficients fitted on it are
# close to the true ones (the noise is symmetric, so its median is 0).
sampler = SensitivitySampler(p=1.0, n_samples=2000, estimator=LpRegressor(p=1.0),
                             random_state=0)
start = perf_counter()
sampler.fit(X_dask, y_dask)
t_coreset = perf_counter() - start
in_memory_sample = SensitivitySampler(p=1.0, n_samples=2000, random_state=0).fit(X, y)
print(f"coreset:      {len(sampler.sample_weight_)} rows in {t_coreset:.2f} s, same rows as "
      f"in memory: {np.array_equal(sampler.sample_indices_, in_memory_sample.sample_indices_)}, "
      f"max |coef - true coef| = {np.max(np.abs(sampler.estimator_.coef_ - true_coef)):.3f}")

# %%
# Matrix completion from a Dask DataFrame of ratings
# --------------------------------------------------
# :class:`~sklr.completion.MatrixCompleter` fits a Dask DataFrame of
# ``(row, column, value)`` entries (one row per observed rating) in Spark
# ALS's layout: the entries are kept on the workers in blocks of rows and
# blocks of columns, each sweep sends one factor to the blocks, and each
# block solves its rows' (columns') small least-squares problems. The client
# holds only the two factors. The fit equals the in-memory one to rounding.
import dask.dataframe as dd
import pandas as pd

from sklr.completion import MatrixCompleter, ratings_matrix

rng = np.random.RandomState(0)
truth = rng.standard_normal((300, 4)) @ rng.standard_normal((4, 200))
users, items = np.nonzero(rng.uniform(size=truth.shape) < 0.2)
ratings = pd.DataFrame({"user": users, "item": items, "rating": truth[users, items]})
ratings_dask = dd.from_pandas(ratings, npartitions=4)

completer = MatrixCompleter(n_components=4, random_state=0).fit(ratings_dask)
completed = completer.row_factors_ @ completer.components_
in_memory = MatrixCompleter(n_components=4, random_state=0).fit(
    ratings_matrix(users, items, truth[users, items], shape=truth.shape))
print(f"MatrixCompleter: relative error on all entries "
      f"{np.linalg.norm(completed - truth) / np.linalg.norm(truth):.1e}, "
      f"largest difference from the in-memory fit "
      f"{np.max(np.abs(completed - in_memory.row_factors_ @ in_memory.components_)):.1e}")

# %%
# Restarts and searches as tasks: ``joblib.parallel_backend("dask")``
# -------------------------------------------------------------------
# :class:`~sklr.cluster.SDPClusterer` runs its ``n_init`` restarts with
# joblib. Inside the ``"dask"`` backend each restart is a task on a worker
# (the data are sent to it: they must fit in a worker's memory); the client
# keeps the best partition. The labels are those of the sequential runs.
X_mix, _, *_ = make_heterogeneous_mixture(150, 3, 3, separation=4.0, random_state=0)
sequential = SDPClusterer(3, n_init=2, random_state=0).fit(X_mix)
with joblib.parallel_backend("dask"):
    spread = SDPClusterer(3, n_init=2, n_jobs=2, random_state=0).fit(X_mix)
print("SDPClusterer: same labels as the sequential runs:",
      bool(np.array_equal(spread.labels_, sequential.labels_)))

# %%
# The same holds for scikit-learn's :class:`~sklearn.model_selection.GridSearchCV`
# over any sklr estimator: each (candidate, fold) fit is a task.
grid = {"alpha": [0.0, 1.0], "n_components": [200, 400]}
X_small, y_small = X[:2000], y[:2000]
with joblib.parallel_backend("dask"):
    search = GridSearchCV(SketchedRegressor(random_state=0), grid, cv=3, n_jobs=2)
    search.fit(X_small, y_small)
print("GridSearchCV: best parameters", search.best_params_)

# %%
# Close the client and the cluster when done.
client.close()
cluster.close()
