"""
==========================================================
Completing a ratings matrix: test RMSE against the rank
==========================================================

:class:`~sklr.completion.MatrixCompleter` fills the missing entries of a
matrix with a low-rank model fitted to the observed ones by alternating
minimization. This example completes the MovieLens ratings matrix
(ml-latest-small: 610 users, 9,724 movies, 100,836 half-star ratings),
holds out 20% of the ratings, and measures the test RMSE for ranks 1 to 20
and three ridge penalties, against the usual recommender baseline (global
mean plus user and item offsets) and, when it is installed, Surprise's
``SVD``. It then lets
:class:`~sklearn.model_selection.GridSearchCV` choose the rank and the
penalty by cross-validation over users. See the
:ref:`User Guide <matrix_completion>` for the background.

:func:`~sklr.datasets.fetch_movielens` downloads the ratings from GroupLens
on the first run and caches them (sklr does not ship them: their licence,
for research use and not commercial use, does not fit sklr's). Without a network, as when this documentation is
built, the example says so and runs on a *synthetic* MovieLens-like problem
from :func:`~sklr.datasets.make_ratings` instead: the printed output below
states which data this page shows.
"""

# %%
# The ratings
# -----------
# The ratings are ``(user, movie, rating)`` triplets. The synthetic
# stand-in draws them as ``3.5 + user offset + item offset + rank-5
# interaction + noise``, rounded to half stars in ``[0.5, 5]``, with
# Zipf-like item popularity and log-normal user activity, so that, as in
# MovieLens, most items have few ratings. A random 20% of the ratings is
# held out; :func:`~sklr.completion.ratings_matrix` builds the sparse
# training matrix, whose *stored* entries are the observed ratings.
from time import perf_counter

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV

from sklr.completion import MatrixCompleter, ratings_matrix
from sklr.datasets import fetch_movielens, make_ratings

try:
    movielens = fetch_movielens("latest-small", n_retries=0)
    users, items, ratings = movielens.data[:, 0], movielens.data[:, 1], movielens.target
    shape, title = movielens.shape, "MovieLens ml-latest-small"
    print(f"MovieLens ml-latest-small: {ratings.size} ratings of {shape[1]} movies by "
          f"{shape[0]} users")
except OSError as exc:
    print(f"MovieLens could not be fetched ({exc}).\n"
          "This run uses a SYNTHETIC MovieLens-like problem (make_ratings, true rank 5) "
          "instead.")
    shape, title = (600, 2000), "synthetic MovieLens-like ratings"
    users, items, ratings = make_ratings(*shape, 60_000, rank=5, random_state=0)
test = np.random.RandomState(0).uniform(size=ratings.size) < 0.2
X_train = ratings_matrix(users[~test], items[~test], ratings[~test], shape=shape)
print(f"{X_train.nnz} training ratings, {test.sum()} test ratings, "
      f"{X_train.nnz / (shape[0] * shape[1]):.1%} of the matrix observed")


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
for alpha in alphas:
    best = int(np.argmin(curves[alpha]))
    print(f"alpha={alpha:g}: lowest test RMSE {curves[alpha][best]:.4f} at rank {ranks[best]}")

# %%
# A peer: Surprise's SVD
# ----------------------
# When `Surprise <https://surpriselib.com>`_ is installed, its ``SVD`` (the
# biased matrix factorization by stochastic gradient descent, with its default
# settings) is fitted to the same training ratings and scored on the same test
# ratings, next to the bias baseline above. The numbers are this run's.
try:
    import pandas as pd
    from surprise import SVD, Dataset, Reader

    start = perf_counter()
    frame = pd.DataFrame({"user": users[~test], "item": items[~test], "rating": ratings[~test]})
    trainset = Dataset.load_from_df(frame, Reader(rating_scale=(0.5, 5.0))).build_full_trainset()
    svd = SVD(random_state=0).fit(trainset)
    estimates = np.array([svd.predict(u, i).est for u, i in zip(users[test], items[test])])
    surprise_rmse = np.sqrt(np.mean((estimates - ratings[test]) ** 2))
    print(f"Surprise SVD (defaults): test RMSE {surprise_rmse:.4f} "
          f"({perf_counter() - start:.2f} s)")
except ImportError:
    surprise_rmse = None
    print("Surprise is not installed: its SVD is not compared")

# %%
# Test RMSE against the rank
# --------------------------
# Without enough penalty, extra rank fits noise and the test error rises
# again; a moderate penalty keeps the curve nearly flat beyond its minimum
# (on the synthetic problem the minimum is at its true rank, 5). Too strong
# a penalty shrinks the factors towards zero, so that the rank hardly
# matters, and shrinks the offsets too.
fig, ax = plt.subplots(figsize=(7, 4.5))
for alpha in alphas:
    ax.plot(ranks, curves[alpha], marker="o", label=f"MatrixCompleter, alpha={alpha:g}")
ax.axhline(baseline_rmse, color="black", linestyle="--", label="bias baseline")
if surprise_rmse is not None:
    ax.axhline(surprise_rmse, color="gray", linestyle=":", label="Surprise SVD")
ax.set_xscale("log")
ax.set_xticks(ranks, [str(k) for k in ranks])
ax.set_xlabel("rank (n_components)")
ax.set_ylabel("test RMSE (half stars, 0.5 to 5)")
ax.set_title(f"{title}, 20% held out")
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
