"""
==========================================================
Completing a ratings matrix: test RMSE against the rank
==========================================================

:class:`~sklr.completion.MatrixCompleter` fills the missing entries of a
matrix with a low-rank model fitted to the observed ones by alternating
minimization. This example completes a MovieLens-like ratings matrix
(600 users, 2,000 items, 60,000 half-star ratings, with a few very popular
items and many rare ones), holds out 20% of the ratings, and measures the
test RMSE for ranks 1 to 20 and three ridge penalties, against the usual
recommender baseline (global mean plus user and item offsets). It then lets
:class:`~sklearn.model_selection.GridSearchCV` choose the rank and the
penalty by cross-validation over users. See the
:ref:`User Guide <matrix_completion>` for the background.
"""

# %%
# MovieLens-like ratings
# ----------------------
# :func:`~sklr.datasets.make_ratings` draws ratings as ``3.5 + user offset +
# item offset + rank-5 interaction + noise``, rounded to half stars in
# ``[0.5, 5]``. Item popularity is Zipf-like and user activity log-normal,
# so, as in MovieLens, most items have few ratings. A random 20% of the
# ratings is held out; :func:`~sklr.completion.ratings_matrix` builds the
# sparse training matrix, whose *stored* entries are the observed ratings.
from time import perf_counter

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV

from sklr.completion import MatrixCompleter, ratings_matrix
from sklr.datasets import make_ratings

users, items, ratings = make_ratings(600, 2000, 60_000, rank=5, random_state=0)
test = np.random.RandomState(0).uniform(size=ratings.size) < 0.2
X_train = ratings_matrix(users[~test], items[~test], ratings[~test], shape=(600, 2000))
print(f"{X_train.nnz} training ratings, {test.sum()} test ratings, "
      f"{X_train.nnz / (600 * 2000):.1%} of the matrix observed")


def test_rmse(completer):
    predicted = completer.predict_entries(users[test], items[test])
    return np.sqrt(np.mean((np.clip(predicted, 0.5, 5.0) - ratings[test]) ** 2))


# %%
# The baseline and the low-rank models
# ------------------------------------
# With ``center="biases"`` the completer first fits the global mean and
# shrunk user and item offsets, then a rank-``k`` model of what is left:
# the offsets alone (``mean_ + row_bias_ + col_bias_``) are the usual
# recommender baseline. ``alpha`` is both the ridge penalty on the factors
# and the shrinkage of the offsets. With a small penalty the larger ranks
# overfit and do not settle within ``max_iter`` sweeps (a
# ``ConvergenceWarning``, silenced here).
import warnings

from sklearn.exceptions import ConvergenceWarning

ranks = [1, 2, 3, 5, 8, 12, 20]
alphas = [1.0, 10.0, 30.0]
curves = {}
for alpha in alphas:
    curves[alpha] = []
    for k in ranks:
        start = perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            completer = MatrixCompleter(n_components=k, center="biases", alpha=alpha,
                                        random_state=0).fit(X_train)
        curves[alpha].append(test_rmse(completer))
        print(f"alpha={alpha:>4g} k={k:>2}: test RMSE {curves[alpha][-1]:.4f} "
              f"({completer.n_iter_} sweeps, {perf_counter() - start:.2f} s)")
        if alpha == 10.0 and k == 1:
            offsets = (completer.mean_ + completer.row_bias_[users[test]]
                       + completer.col_bias_[items[test]])
            baseline_rmse = np.sqrt(np.mean((np.clip(offsets, 0.5, 5.0) - ratings[test]) ** 2))
print(f"bias baseline (offsets of alpha=10): test RMSE {baseline_rmse:.4f}")

# %%
# Test RMSE against the rank
# --------------------------
# Without enough penalty, extra rank fits noise and the test error rises
# again; with a moderate one the curve has its minimum at the true rank (5)
# and stays flat beyond it. Too strong a penalty shrinks the factors to zero
# (every rank gives the same error) and over-shrinks the offsets too, so the
# model falls below the baseline computed with ``alpha=10``.
fig, ax = plt.subplots(figsize=(7, 4.5))
for alpha in alphas:
    ax.plot(ranks, curves[alpha], marker="o", label=f"MatrixCompleter, alpha={alpha:g}")
ax.axhline(baseline_rmse, color="black", linestyle="--", label="bias baseline")
ax.set_xscale("log")
ax.set_xticks(ranks, [str(k) for k in ranks])
ax.set_xlabel("rank (n_components)")
ax.set_ylabel("test RMSE (half stars, 0.5 to 5)")
ax.set_title("MovieLens-like ratings, 20% held out")
ax.legend()
fig.tight_layout()

# %%
# Choosing the rank and the penalty by cross-validation
# -----------------------------------------------------
# :meth:`~sklr.completion.MatrixCompleter.score` hides a fraction of each
# user's observed ratings, folds the user in from the rest and returns minus
# the RMSE on the hidden ones, so ``GridSearchCV`` can split by users. The
# search only sees the training ratings.
search = GridSearchCV(
    MatrixCompleter(center="biases", random_state=0),
    {"n_components": [2, 5, 12], "alpha": [1.0, 10.0, 30.0]},
    cv=3,
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", ConvergenceWarning)
    search.fit(X_train)
print("GridSearchCV picks", search.best_params_,
      f"(cross-validated RMSE {-search.best_score_:.4f});",
      f"test RMSE {test_rmse(search.best_estimator_):.4f}")
