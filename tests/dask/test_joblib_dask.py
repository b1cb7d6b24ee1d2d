"""Restarts and searches spread over a Dask cluster through joblib (issue 22.4).

``SDPClusterer`` runs its ``n_init`` restarts with :class:`joblib.Parallel` and scikit-learn's
``GridSearchCV`` its fits, so ``joblib.parallel_backend("dask")`` sends them to the cluster's
workers; the results must be those of the sequential runs.
"""

import joblib
import numpy as np
import pytest
from numpy.testing import assert_array_equal
from sklearn.model_selection import GridSearchCV

from sklr.cluster import SDPClusterer
from sklr.datasets import make_heterogeneous_mixture
from sklr.linear_model import SketchedRegressor

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _transitions(client):
    """How many task transitions the cluster's scheduler has made so far."""
    return client.run_on_scheduler(lambda dask_scheduler: dask_scheduler.transition_counter)


def test_sdp_clusterer_restarts_on_the_cluster_equal_the_sequential_ones(dask_client):
    X, _, *_ = make_heterogeneous_mixture(150, 3, 3, separation=4.0, random_state=0)
    sequential = SDPClusterer(3, n_init=2, random_state=0).fit(X)
    before = _transitions(dask_client)
    with joblib.parallel_backend("dask"):
        spread = SDPClusterer(3, n_init=2, n_jobs=2, random_state=0).fit(X)
    assert _transitions(dask_client) > before  # the restarts ran as tasks of the cluster
    assert_array_equal(spread.labels_, sequential.labels_)
    assert spread.cost_ == pytest.approx(sequential.cost_, rel=1e-12)


def test_grid_search_on_the_cluster_equals_the_sequential_one(dask_client):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((400, 5))
    y = X @ rng.standard_normal(5) + 0.1 * rng.standard_normal(400)
    grid = {"alpha": [0.0, 1.0], "n_components": [100, 200]}
    sequential = GridSearchCV(SketchedRegressor(random_state=0), grid, cv=3).fit(X, y)
    before = _transitions(dask_client)
    with joblib.parallel_backend("dask"):
        spread = GridSearchCV(SketchedRegressor(random_state=0), grid, cv=3, n_jobs=2).fit(X, y)
    assert _transitions(dask_client) > before
    assert spread.best_params_ == sequential.best_params_
    np.testing.assert_allclose(spread.cv_results_["mean_test_score"],
                               sequential.cv_results_["mean_test_score"], rtol=1e-12)
