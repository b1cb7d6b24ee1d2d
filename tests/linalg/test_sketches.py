"""Sketching operators: embedding quality, reproducibility, backends, structure, errors."""

import numpy as np
import pytest
import scipy.sparse
from numpy.testing import assert_allclose, assert_array_equal

from sklr.linalg import (
    SRHT,
    CountSketch,
    GaussianSketch,
    SparseSignSketch,
    make_sketch,
    theoretical_sketch_size,
)
from sklr.utils._array_api import namespace_and_device, to_numpy

KINDS = ["srht", "gaussian", "countsketch", "sparse_sign"]


def _orthonormal(n, d, seed=0):
    Q, _ = np.linalg.qr(np.random.RandomState(seed).standard_normal((n, d)))
    return Q


@pytest.mark.parametrize("kind", KINDS)
def test_subspace_embedding_distortion(kind):
    # ||S U x|| = ||x|| within eps for every x: the singular values of S U lie
    # in [1 - eps, 1 + eps]. For Gaussian-like sketches eps ~ sqrt(d / m).
    n, d = 4000, 10
    U = _orthonormal(n, d)
    for m, eps in [(200, 0.65), (2000, 0.25)]:
        sv = np.linalg.svd(make_sketch(kind, n, m, random_state=0).apply(U), compute_uv=False)
        assert 1 - eps < sv.min() and sv.max() < 1 + eps, (m, sv.min(), sv.max())


@pytest.mark.parametrize("kind", KINDS)
def test_norms_preserved_for_vectors(kind):
    rng = np.random.RandomState(1)
    A = rng.standard_normal((3000, 8))
    X = rng.standard_normal((8, 50))
    SA = make_sketch(kind, 3000, 600, random_state=0).apply(A)
    ratio = np.linalg.norm(SA @ X, axis=0) / np.linalg.norm(A @ X, axis=0)
    assert np.all(np.abs(ratio - 1) < 0.3)
    assert abs(np.mean(ratio ** 2) - 1) < 0.1


@pytest.mark.parametrize("kind", KINDS)
def test_reproducible_and_consistent_across_applies(kind):
    A = np.random.RandomState(0).standard_normal((500, 4))
    S = make_sketch(kind, 500, 60, random_state=3)
    assert_array_equal(S.apply(A), S.apply(A))
    assert_array_equal(S.apply(A), make_sketch(kind, 500, 60, random_state=3).apply(A))
    assert not np.allclose(S.apply(A), make_sketch(kind, 500, 60, random_state=4).apply(A))
    # applying to columns one at a time is the same matrix S
    assert_allclose(S.apply(A[:, 1]), S.apply(A)[:, 1], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_row_scale_equals_scaling_rows_first(kind):
    rng = np.random.RandomState(0)
    A = rng.standard_normal((400, 3))
    w = rng.uniform(0, 2, 400)
    S = make_sketch(kind, 400, 50, random_state=0)
    assert_allclose(S.apply(A, row_scale=w), S.apply(A * w[:, None]), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_backends_agree(xp, kind):
    A = np.random.RandomState(0).standard_normal((300, 5))
    S = make_sketch(kind, 300, 40, random_state=0)
    out = S.apply(xp.asarray(A))
    assert namespace_and_device(out)[0] is xp
    assert_allclose(to_numpy(out), S.apply(A), atol=1000 * np.finfo(np.float64).eps)
    out32 = S.apply(xp.asarray(A, dtype=xp.float32))
    assert out32.dtype == xp.float32


@pytest.mark.parametrize("kind", KINDS)
def test_sparse_input_matches_dense(kind):
    A = scipy.sparse.random(500, 6, density=0.2, random_state=0, format="csr")
    S = make_sketch(kind, 500, 50, random_state=0)
    assert_allclose(S.apply(A), S.apply(A.toarray()), rtol=1e-10, atol=1e-12)


def test_srht_with_m_equal_n_is_orthogonal():
    S = SRHT(50, 50, random_state=0).to_dense()
    assert_allclose(S @ S.T, np.eye(50), atol=1e-12)


def test_gaussian_entries_have_variance_one_over_m():
    S = GaussianSketch(3000, 200, random_state=0).to_dense()
    assert abs(S.mean()) < 0.01 / np.sqrt(200) * 10
    assert abs(S.var() * 200 - 1) < 0.02


def test_countsketch_structure():
    S = CountSketch(300, 20, random_state=0).to_dense()
    assert_array_equal((S != 0).sum(axis=0), np.ones(300))
    assert set(np.unique(S[S != 0])) == {-1.0, 1.0}


def test_sparse_sign_structure():
    S = SparseSignSketch(300, 40, sparsity=4, random_state=0).to_dense()
    assert_array_equal((S != 0).sum(axis=0), np.full(300, 4))  # distinct rows per column
    assert_allclose(np.abs(S[S != 0]), 0.5)
    assert_allclose(np.linalg.norm(S, axis=0), 1.0)


@pytest.mark.parametrize("kind", ["srht", "gaussian"])
def test_prestage_keeps_embedding(kind):
    n, d, m = 20000, 10, 200
    U = _orthonormal(n, d)
    S = make_sketch(kind, n, m, n_buckets="auto", random_state=0)
    assert S.n_buckets == 32 * m
    sv = np.linalg.svd(S.apply(U), compute_uv=False)
    assert 0.6 < sv.min() and sv.max() < 1.4
    assert make_sketch(kind, 1000, m, n_buckets="auto").n_buckets is None  # n too small
    assert make_sketch(kind, n, m).n_buckets is None  # off by default


def test_theoretical_sketch_size_exceeds_n_at_practical_sizes():
    assert theoretical_sketch_size(10**6, 100) == 625054
    assert theoretical_sketch_size(10**5, 100) > 10**5
    assert abs(theoretical_sketch_size(10**6, 100, eps=0.5) - 4 * 625054) <= 4
    with pytest.raises(ValueError, match="delta"):
        theoretical_sketch_size(100, 2, delta=1.5)


def test_errors():
    with pytest.raises(ValueError, match="'kind' parameter of make_sketch must be"):
        make_sketch("hadamard", 10, 5)
    with pytest.raises(TypeError, match="n_components must be an int"):
        SRHT(10, 2.5)
    with pytest.raises(ValueError, match="n_components must be >= 1"):
        CountSketch(10, 0)
    with pytest.raises(ValueError, match="A has 7 rows but the sketch was built for n_samples=10"):
        SRHT(10, 5).apply(np.ones((7, 2)))
    with pytest.raises(ValueError, match="row_scale must have shape"):
        SRHT(10, 5).apply(np.ones((10, 2)), row_scale=np.ones(3))
    with pytest.raises(ValueError, match="n_buckets must be >= 5"):
        SRHT(100, 5, n_buckets=2)


def _groups(counts, n_columns, seed=0):
    """Sorted group ids, each row's column (distinct within a group) and the CSR indptr."""
    rng = np.random.RandomState(seed)
    group = np.repeat(np.arange(len(counts)), counts)
    column = np.concatenate([np.sort(rng.choice(n_columns, c, replace=False)) for c in counts])
    return group, column, np.r_[0, np.cumsum(counts)]


def test_grouped_sparse_sign_structure():
    from sklr.linalg._sketches import grouped_sparse_sign_matrix

    counts, s, z, n_columns = [3, 40, 0, 25], 8, 2, 60
    group, column, indptr = _groups(counts, n_columns)
    T = grouped_sparse_sign_matrix(group, column, indptr, n_columns, s, z, 0,
                                   dtype=np.float64).toarray()
    assert T.shape == (len(counts) * s, n_columns)
    F = np.random.RandomState(1).standard_normal((n_columns, 4))
    for g, c in enumerate(counts):
        block, A_g = T[g * s:(g + 1) * s], F[column[indptr[g]:indptr[g + 1]]]
        own = np.zeros(n_columns, dtype=bool)
        own[column[indptr[g]:indptr[g + 1]]] = True
        assert_array_equal(block[:, ~own], 0.0)  # each group sketches only its own rows
        if c <= s:  # copied: its rows, in order, then zero rows
            assert_array_equal(block @ F, np.r_[A_g, np.zeros((s - c, 4))])
        else:  # `sparsity` hashes of +-1/sqrt(z) per row; two on one bucket add or cancel
            S_g = block[:, own] * np.sqrt(z)
            assert set(np.unique(np.abs(S_g[S_g != 0]))) <= {1.0, 2.0}
            assert set(np.abs(S_g).sum(axis=0).tolist()) <= {float(z), float(z - 2)}
            assert (np.abs(S_g).sum(axis=0) == z).mean() > 0.5


def test_grouped_sparse_sign_is_reproducible_and_backend_free(xp):
    from sklr.linalg._sketches import grouped_sparse_sign_matrix
    from sklr.utils._array_api import sparse_matmul

    group, column, indptr = _groups([5, 30, 12], 50, seed=2)
    F = np.random.RandomState(3).standard_normal((50, 3))
    ref = grouped_sparse_sign_matrix(group, column, indptr, 50, 6, 3,
                                     np.random.RandomState(0), dtype=np.float64)
    again = grouped_sparse_sign_matrix(group, column, indptr, 50, 6, 3,
                                       np.random.RandomState(0), dtype=np.float64)
    assert_array_equal(again.toarray(), ref.toarray())
    T = grouped_sparse_sign_matrix(
        xp.asarray(group), xp.asarray(column), xp.asarray(indptr), 50, 6, 3,
        np.random.RandomState(0), dtype=xp.float32, xp=xp,
    )
    out = sparse_matmul(T, xp.asarray(F, dtype=xp.float32))
    assert namespace_and_device(out)[0] is xp and out.dtype == xp.float32
    assert_allclose(to_numpy(out), ref @ F, rtol=1e-6, atol=1e-6)
