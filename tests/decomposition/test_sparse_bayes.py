"""SparseBayesKronecker: recovery, transform/inverse_transform, score, backends, bad input."""

import numpy as np
import pytest
import sklearn
from numpy.testing import assert_allclose
from sklearn.model_selection import GridSearchCV

from sklr.datasets import make_kronecker_sparse
from sklr.decomposition import SparseBayesKronecker, kronecker_sbl


def test_recovers_the_paper_problem_and_maps_back():
    A, y, x, s2 = make_kronecker_sparse(random_state=0)
    Y = y[None, :]
    sbk = SparseBayesKronecker(A).fit(Y)
    assert sbk.n_components_ == 3375 and sbk.coef_.shape == (1, 3375)
    assert np.sum((sbk.coef_[0] - x) ** 2) / np.sum(x**2) < 1e-3
    assert_allclose(sbk.transform(Y), sbk.coef_, rtol=1e-10, atol=1e-12)
    assert sbk.noise_variance_ == pytest.approx(s2, rel=0.15)
    # The learned model explains the data up to the noise.
    residual = Y - sbk.inverse_transform(sbk.transform(Y))
    assert np.mean(residual**2) == pytest.approx(s2, rel=0.3)
    assert [len(g) for g in sbk.gammas_] == [15, 15, 15]
    assert [int(np.count_nonzero(g)) for g in sbk.gammas_] == [3, 3, 3]
    assert_allclose(sbk.gamma_, np.kron(sbk.gammas_[0], np.kron(*sbk.gammas_[1:])))
    assert np.all(sbk.posterior_variance_[sbk.gamma_ == 0] == 0)
    names = sbk.get_feature_names_out()
    assert names.shape == (3375,) and names[0] == "sparsebayeskronecker0"


def test_same_result_as_the_function_and_methods():
    A, y, x, s2 = make_kronecker_sparse(((6, 10), (7, 10)), 2, random_state=1)
    for method in ("svd", "am", "classic"):
        sbk = SparseBayesKronecker(A, method=method, noise_variance=s2).fit(y[None, :])
        ref = kronecker_sbl(A, y, method=method, noise_variance=s2)
        assert sbk.n_iter_ == ref.n_iter
        assert_allclose(sbk.coef_[0], ref.coef)
        assert (sbk.gammas_ is None) == (method == "classic")


def test_new_rows_use_the_learned_support():
    """Fit on some rows, transform others: the codes stay on the learned support."""
    A, Y, X, s2 = make_kronecker_sparse(((6, 12), (8, 12)), 2, snr_db=25.0, n_samples=8,
                                        random_state=4)
    sbk = SparseBayesKronecker(A).fit(Y[:5])
    codes = sbk.transform(Y[5:])
    assert np.all(codes[:, sbk.gamma_ == 0] == 0)
    assert np.sum((codes - X[5:]) ** 2) / np.sum(X[5:] ** 2) < 1e-2


def test_score_prefers_the_right_model():
    A, Y, X, s2 = make_kronecker_sparse(((6, 10), (8, 10)), 2, n_samples=30, random_state=2)
    learned = SparseBayesKronecker(A).fit(Y)
    wrong_noise = SparseBayesKronecker(A, noise_variance=100 * s2).fit(Y)
    assert learned.score(Y) > wrong_noise.score(Y)
    search = GridSearchCV(SparseBayesKronecker(A),
                          {"noise_variance": [None, 100 * s2, s2 / 100]}, cv=3).fit(Y)
    assert search.best_params_["noise_variance"] is None


def test_identity_dictionary_by_default():
    rng = np.random.RandomState(0)
    clean = np.zeros((40, 12))
    clean[:, [2, 7]] = 3.0 * rng.standard_normal((40, 2))
    Y = clean + 0.1 * rng.standard_normal((40, 12))
    sbk = SparseBayesKronecker().fit(Y)
    assert sbk.dictionaries_[0].shape == (12, 12)
    assert set(np.flatnonzero(sbk.gamma_ > 1e-2 * sbk.gamma_.max())) == {2, 7}
    assert np.mean((sbk.transform(Y) - clean) ** 2) < 0.01


def test_array_api_matches_numpy():
    xp = pytest.importorskip("array_api_strict")
    A, y, x, s2 = make_kronecker_sparse(((5, 8), (6, 8)), 2, n_samples=3, random_state=0)
    ref = SparseBayesKronecker(A).fit(y)
    with sklearn.config_context(array_api_dispatch=True):
        Y = xp.asarray(y)
        got = SparseBayesKronecker(A).fit(Y)
        codes = got.transform(Y)
        assert type(codes) is type(Y)
        back = got.inverse_transform(codes)
        score = got.score(Y)
    assert_allclose(np.asarray(codes), ref.transform(y), rtol=1e-8, atol=1e-10)
    assert_allclose(np.asarray(back), ref.inverse_transform(ref.transform(y)), rtol=1e-8,
                    atol=1e-10)
    assert score == pytest.approx(ref.score(y), rel=1e-10)


def test_float32():
    A, y, x, s2 = make_kronecker_sparse(((6, 10), (7, 10)), 2, n_samples=2, random_state=3)
    sbk = SparseBayesKronecker(A).fit(y.astype(np.float32))
    assert sbk.transform(y.astype(np.float32)).dtype == np.float32
    ref = SparseBayesKronecker(A).fit(y)
    assert_allclose(sbk.coef_, ref.coef_, rtol=1e-2, atol=1e-3)


def test_bad_input():
    A, y, x, s2 = make_kronecker_sparse(((3, 4), (2, 4)), 1, random_state=0)
    with pytest.raises(ValueError, match="multiply to 3 x 2 = 6, but the measurement vectors "
                                         "have 5"):
        SparseBayesKronecker(A).fit(np.ones((2, 5)))
    with pytest.raises(TypeError, match="call sklr.decomposition.kronecker_sbl"):
        SparseBayesKronecker([a + 1j for a in A]).fit(y[None, :])
    with pytest.raises(ValueError, match="at least one factor"):
        SparseBayesKronecker([]).fit(y[None, :])
    with pytest.raises(ValueError, match="NaN"):
        SparseBayesKronecker(A).fit(np.full((2, 6), np.nan))
    with pytest.raises(ValueError, match="noise_variance"):
        SparseBayesKronecker(A, noise_variance=-1.0).fit(y[None, :])
    sbk = SparseBayesKronecker(A).fit(y[None, :])
    with pytest.raises(ValueError, match="X has 5 features"):
        sbk.transform(np.ones((1, 5)))
    with pytest.raises(ValueError, match=r"X must have shape \(n_samples, 16\)"):
        sbk.inverse_transform(np.ones((1, 6)))
