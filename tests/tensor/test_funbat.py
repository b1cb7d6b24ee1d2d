"""FunBaT solver: the paper's synthetic set, Tucker bookkeeping identities, backends."""

import dataclasses
import inspect
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.exceptions import ConvergenceWarning

from sklr.linalg import kron, mode_product
from sklr.linalg._kronecker import _kron_eye, unfold
from sklr.tensor import FunBaTResult, _funbat_moments, funbat, funbat_predict
from sklr.tensor._funbat import _quadratic_per_sample, _second_moment_sum
from sklr.tensor._funbat_factors import _kron_eye_batch

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "funbat-synthetic"


def _synthetic():
    path = DATA / "simulation_r1.npz"
    if not path.exists():
        pytest.skip(f"the FunBaT synthetic set is not at {path}")
    return np.load(path, allow_pickle=False)


@pytest.mark.parametrize("core", ["diagonal", "full"])
def test_paper_synthetic_set_test_rmse(core):
    """FunBaT-CP, R=1, Matérn-3/2, l=0.1, s2=0.5 (the authors' setting); notebook: 0.004.

    Measured: 4.7e-5 with the default weak noise prior, 0.0037 with the paper's Gamma(1, 1).
    """
    d = _synthetic()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        res = funbat(d["train_X"], d["train_y"], [1, 1], core=core, kernel="matern32",
                     lengthscales=0.1, variances=0.5, max_iter=100, random_state=0)
    mean, std = funbat_predict(res, d["test_X"], return_std=True)
    rmse = np.sqrt(np.mean((mean - d["test_y"]) ** 2))
    assert rmse <= 0.01, rmse
    assert rmse < 1e-3  # the noise-free data are fitted far below the target
    # The posterior sd covers the errors.
    assert np.mean(np.abs(mean - d["test_y"]) <= 3 * std) > 0.9


def test_unfolding_identity_every_mode():
    """f = <W, u1 o u2 o u3> = u_k^T W_(k) kron(u_j, j != k) for every k (A5.1 of the notes)."""
    rng = np.random.RandomState(0)
    ranks = (3, 4, 2)
    W = rng.standard_normal(ranks)
    us = [rng.standard_normal(r) for r in ranks]
    f = W.ravel() @ kron([u[:, None] for u in us])[:, 0]
    chained = W
    for k in range(3):
        chained = mode_product(chained, us[k][None, :], k)
    assert_allclose(chained.ravel(), [f], rtol=1e-12)
    for k in range(3):
        others = kron([us[j][:, None] for j in range(3) if j != k])[:, 0]
        assert_allclose(us[k] @ unfold(W, k) @ others, f, rtol=1e-12)
        assert_allclose(unfold(W, k), np.moveaxis(W, k, 0).reshape(ranks[k], -1))


@pytest.mark.parametrize("chunk", [None, 3, 7])
def test_message_statistics_equal_brute_force(chunk, monkeypatch):
    """Also in chunks of entries: several with a shorter last one (3), exactly one (7)."""
    if chunk is not None:
        monkeypatch.setattr(_funbat_moments, "_CHUNK", chunk)
    rng = np.random.RandomState(1)
    ranks, n = [2, 3, 2], 7
    M = int(np.prod(ranks))
    Lw = rng.standard_normal((M, M))
    M2 = Lw @ Lw.T
    seconds_mats = []
    for r in ranks:
        B = rng.standard_normal((n, r, r))
        seconds_mats.append(B @ np.swapaxes(B, 1, 2))
    vecs = [S.reshape(n, -1) for S in seconds_mats]
    G = _second_moment_sum(vecs, [0, 1, 2], np, n, np.float64, "cpu")
    G_ref = sum(kron([S[i] for S in seconds_mats]) for i in range(n))
    assert_allclose(G, G_ref, rtol=1e-12)
    W4 = M2.reshape(*ranks, *ranks)
    for k in range(3):
        out = _quadratic_per_sample(M2, vecs, ranks, k, np, n, np.float64, "cpu")
        M2k = np.moveaxis(np.moveaxis(W4, 3 + k, 3), k, 0)
        M2k = M2k.reshape(ranks[k], -1, ranks[k], M // ranks[k])
        for i in range(n):
            Gn = kron([seconds_mats[j][i] for j in range(3) if j != k])
            ref = np.einsum("iajb,ab->ij", M2k, Gn)
            assert_allclose(out[i].reshape(ranks[k], ranks[k]), ref, rtol=1e-11)
    full = _quadratic_per_sample(M2, vecs, ranks, None, np, n, np.float64, "cpu")
    ref = [np.sum(M2 * kron([S[i] for S in seconds_mats])) for i in range(n)]
    assert_allclose(full, ref, rtol=1e-11)


@pytest.mark.parametrize("p, r", [(1, 1), (2, 1), (2, 3), (1, 4)])
def test_kron_eye_batch_equals_the_kronecker_product(p, r):
    M = np.random.RandomState(p + r).standard_normal((5, p, p)).astype(np.float32)
    out = _kron_eye_batch(M, r)
    assert out.dtype == np.float32
    assert_allclose(out, _kron_eye(M, r, np), rtol=0, atol=0)
    assert_allclose(out[3], np.kron(M[3], np.eye(r)), rtol=0, atol=0)


def _tucker_problem(n=300, seed=0):
    """A 2-mode function of Tucker (and CP) rank 2."""
    rng = np.random.RandomState(seed)
    X = rng.uniform(0, 1, (n, 2))
    y = np.sin(3 * X[:, 0]) * np.cos(2 * X[:, 1]) + np.cos(5 * X[:, 0]) * np.sin(4 * X[:, 1])
    return X, y


def test_rank2_function_needs_rank2_and_is_predicted_at_unseen_indices():
    X, y = _tucker_problem(600)
    errors = {}
    for r, core in [(1, "full"), (2, "full"), (2, "diagonal")]:
        res = funbat(X[:400], y[:400], [r, r], core=core, lengthscales=0.3, max_iter=300,
                     random_state=0)
        # Test points have index values never seen in training, in every mode.
        pred, std = funbat_predict(res, X[400:], return_std=True)
        errors[r, core] = np.sqrt(np.mean((pred - y[400:]) ** 2))
        # The predictive sd (latent sd and learned noise) covers the errors, even for the
        # misspecified rank 1, whose misfit is learned as noise.
        total = np.sqrt(std**2 + 1 / res.noise_precision)
        assert np.mean(np.abs(pred - y[400:]) <= 3 * total) > 0.9
    # Measured: 0.23, 0.0010, 0.0006.
    assert errors[1, "full"] > 0.2, errors
    assert errors[2, "full"] < 0.005 and errors[2, "diagonal"] < 0.005, errors
    assert res.core.shape == (2, 2) and res.core_cov.shape == (4, 4)
    assert res.core[0, 1] == 0 and res.core[1, 0] == 0  # CP: superdiagonal core


def test_backends_agree(xp):
    X, y = _tucker_problem(60)
    kw = dict(lengthscales=0.5, max_iter=5, random_state=0, warn=False)
    X = np.column_stack([X, X[:, 0] * X[:, 1]])
    ref = funbat(X, y, [2, 1, 2], **kw)
    ref_pred, ref_std = funbat_predict(ref, X[:10], return_std=True)
    res = funbat(xp.asarray(X), xp.asarray(y), [2, 1, 2], **kw)
    pred, std = funbat_predict(res, xp.asarray(X[:10]), return_std=True)
    atol = 1000 * np.finfo(np.float64).eps
    assert_allclose(np.asarray(res.core), ref.core, rtol=0, atol=atol)
    assert_allclose(np.asarray(pred), ref_pred, rtol=0, atol=atol)
    assert_allclose(np.asarray(std), ref_std, rtol=0, atol=atol)


def test_deterministic_and_warns_at_max_iter():
    X, y = _tucker_problem(80)
    with pytest.warns(ConvergenceWarning, match="funbat stopped after max_iter=2 sweeps"):
        a = funbat(X, y, [2, 2], max_iter=2, random_state=3)
    b = funbat(X, y, [2, 2], max_iter=2, random_state=3, warn=False)
    c = funbat(X, y, [2, 2], max_iter=2, random_state=4, warn=False)
    assert a.n_iter == 2 and not a.converged
    assert_allclose(a.core, b.core, rtol=0, atol=0)
    assert not np.allclose(a.core, c.core)


def _two_term(n, seed):
    rng = np.random.RandomState(seed)
    X = rng.uniform(0, 1, (n, 2))
    y = np.sin(3 * X[:, 0]) * np.cos(2 * X[:, 1]) + np.cos(5 * X[:, 0]) * np.sin(4 * X[:, 1])
    return X, y


@pytest.mark.parametrize("scale", [1e-4, 1e3])
def test_fit_is_equivariant_to_the_units_of_y(scale):
    # The unit priors made y x 1e3 and y x 1e-4 a zero fit (relative error 1.0).
    from sklr.tensor import funbat_predict

    X, y = _two_term(200, 0)
    ref = funbat(X, y, [2, 2], lengthscales=0.3, random_state=0, warn=False)
    res = funbat(X, scale * y, [2, 2], lengthscales=0.3, random_state=0, warn=False)
    assert res.n_iter == ref.n_iter
    mean_ref, std_ref = funbat_predict(ref, X, return_std=True)
    mean, std = funbat_predict(res, X, return_std=True)
    assert_allclose(mean, scale * mean_ref, rtol=1e-6, atol=1e-8 * scale)
    assert_allclose(std, scale * std_ref, rtol=1e-6, atol=1e-8 * scale)
    assert res.noise_precision == pytest.approx(ref.noise_precision / scale**2, rel=1e-6)


def test_int_seed_is_one_generator_for_all_draws():
    # An int seed used to be re-seeded at every draw, so every mode (and the
    # core) started from the same numbers; now it seeds one generator, as a
    # RandomState does.
    X, y = _two_term(60, 1)
    a = funbat(X, y, [2, 2], max_iter=3, random_state=0, warn=False)
    b = funbat(X, y, [2, 2], max_iter=3, random_state=np.random.RandomState(0), warn=False)
    assert_allclose(a.core, b.core)
    assert_allclose(a.modes[0]["means"], b.modes[0]["means"])


def test_restarts_keep_the_best_fit():
    from sklr.tensor import funbat_predict

    X, y = _two_term(300, 0)
    # Three single fits drawing from one generator are the three restarts of n_init=3.
    rng = np.random.RandomState(0)
    single = [funbat(X, y, [2, 2], lengthscales=0.3, random_state=rng, warn=False)
              for _ in range(3)]
    best = funbat(X, y, [2, 2], lengthscales=0.3, random_state=np.random.RandomState(0),
                  n_init=3, warn=False)
    precisions = [r.noise_precision for r in single]
    assert best.noise_precision == max(precisions)
    assert_allclose(best.core, single[int(np.argmax(precisions))].core)
    # On this problem one start of three ends rank-deficient (relative error ~0.5);
    # the kept fit is accurate.
    rms = np.sqrt(np.mean(y**2))
    errors = [np.sqrt(np.mean((funbat_predict(r, X)[0] - y) ** 2)) / rms for r in single]
    best_error = np.sqrt(np.mean((funbat_predict(best, X)[0] - y) ** 2)) / rms
    assert max(errors) > 0.1 and best_error < 1e-2
    with pytest.raises(ValueError, match="n_init"):
        funbat(X, y, [2, 2], n_init=0)


def test_result_is_a_dataclass_of_its_documented_fields():
    X, y = _two_term(60, 0)
    result = funbat(X, y, [2, 2], max_iter=2, random_state=0, warn=False)
    assert dataclasses.is_dataclass(result)
    documented = re.findall(r"^(\w+) : ", inspect.getdoc(FunBaTResult), re.MULTILINE)
    assert documented == ["core", "core_cov", "modes", "noise_precision", "n_iter", "converged"]
    fields = result.as_dict()
    assert list(fields) == documented
    for name, value in fields.items():
        assert value is getattr(result, name), name  # not copied
    assert repr(result).startswith("FunBaTResult(ranks=(2, 2), n_iter=2, converged=")
