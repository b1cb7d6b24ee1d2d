"""get_feature_names_out and set_output(transform="pandas") on every sklr transformer."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn import config_context
from sklearn.base import clone
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklr._testing import all_estimators
from sklr.cluster import SDPClusterer
from sklr.completion import MatrixCompleter
from sklr.datasets import make_kronecker_sparse, make_low_rank_completion
from sklr.decomposition import SparseBayesKronecker
from sklr.tensor import FunctionalTucker
from sklr.transport import SinkhornNewtonOT

pd = pytest.importorskip("pandas")


def _frame(values, columns):
    return pd.DataFrame(values, columns=columns, index=np.arange(len(values)) + 1000)


def _two_blobs():
    rng = np.random.RandomState(0)
    X = np.vstack([rng.normal(0, 0.3, (40, 2)), rng.normal(0, 1, (40, 2)) * [4, 0.5] + [0, 3]])
    return _frame(X, ["a", "b"]), None


def _cluster_case():
    X, y = _two_blobs()
    return SDPClusterer(n_clusters=2, random_state=0), X, y, ["sdpclusterer0", "sdpclusterer1"]


def _tucker_case():
    rng = np.random.RandomState(0)
    X = rng.uniform(0, 1, (150, 2))
    y = np.sin(3 * X[:, 0]) * np.cos(2 * X[:, 1])
    est = FunctionalTucker(rank=(2, 1), lengthscale=0.5, random_state=0)
    return est, _frame(X, ["temp", "time"]), y, ["temp_u0", "temp_u1", "time_u0"]


def _completer_case():
    X, _ = make_low_rank_completion(40, 6, rank=1, n_observed=180, random_state=0)
    columns = [f"item{j}" for j in range(6)]
    return MatrixCompleter(n_components=1, random_state=0), _frame(X, columns), None, columns


def _sparse_bayes_case():
    A, Y, _, _ = make_kronecker_sparse(((4, 5), (3, 4)), 1, n_samples=6, random_state=0)
    columns = [f"m{j}" for j in range(Y.shape[1])]
    names = [f"sparsebayeskronecker{j}" for j in range(20)]
    return SparseBayesKronecker(A), _frame(Y, columns), None, names


def _transport_case():
    X, _ = _two_blobs()
    target = _frame(np.random.RandomState(1).standard_normal((30, 2)) + 3.0, ["a", "b"])
    return SinkhornNewtonOT(X_target=target), X, None, ["a", "b"]


CASES = {
    "SDPClusterer": _cluster_case,
    "FunctionalTucker": _tucker_case,
    "MatrixCompleter": _completer_case,
    "SparseBayesKronecker": _sparse_bayes_case,
    "SinkhornNewtonOT": _transport_case,
}


def test_every_transformer_has_a_case():
    transformers = {name for name, cls in all_estimators() if hasattr(cls, "transform")}
    assert transformers == set(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_feature_names_out(name):
    est, X, y, names = CASES[name]()
    fitted = clone(est).fit(X, y)
    out = fitted.get_feature_names_out()
    assert out.dtype == object and out.tolist() == names
    assert fitted.get_feature_names_out(list(X.columns)).tolist() == names
    assert fitted.transform(X).shape[1] == len(names)
    with pytest.raises(ValueError, match="input_features is not equal to feature_names_in_"):
        fitted.get_feature_names_out([f"bad{j}" for j in range(X.shape[1])])


@pytest.mark.parametrize("name", sorted(CASES))
def test_pipeline_set_output_pandas(name):
    """A Pipeline with set_output(transform="pandas") returns a DataFrame with those names."""
    est, X, y, names = CASES[name]()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no feature-name (or other) warning between steps
        pipe = make_pipeline(StandardScaler(), clone(est)).set_output(transform="pandas")
        out = pipe.fit(X, y).transform(X)
        plain = make_pipeline(StandardScaler(), clone(est)).fit(X, y).transform(X)
        with config_context(transform_output="pandas"):
            fit_transformed = make_pipeline(StandardScaler(), clone(est)).fit_transform(X, y)
    assert isinstance(out, pd.DataFrame) and isinstance(fit_transformed, pd.DataFrame)
    assert list(out.columns) == names == pipe.get_feature_names_out().tolist()
    assert_array_equal(out.index, X.index)
    assert_allclose(out.to_numpy(), plain)
    assert_allclose(fit_transformed.to_numpy(), plain)
