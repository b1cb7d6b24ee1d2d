"""The backend layer: every helper under each available namespace, and the private-API canary."""

import importlib
import pathlib
import re

import numpy as np
import pytest
import scipy.linalg
import scipy.sparse
import scipy.special
import sklearn
from numpy.testing import assert_allclose, assert_array_equal

import sklr
from sklr.utils._array_api import (
    add_to_diagonal,
    dct,
    device,
    exp_inplace,
    issparse,
    kth_largest,
    logsumexp,
    lstsq,
    namespace_and_device,
    qr_r,
    random_integers,
    random_normal,
    random_signs,
    random_uniform,
    segment_sum,
    solve_triangular,
    sparse_gram,
    sparse_matmul,
    sparse_matrix,
    to_numpy,
)
from sklr.utils._sklearn_compat import (
    PRIVATE_NAMES,
    SKLEARN_VERSION,
    _check_same_namespace,
    check_same_namespace,
)


@pytest.mark.parametrize("module", sorted(PRIVATE_NAMES))
def test_private_sklearn_names_exist(module):
    # Every private scikit-learn name sklr imports, from the release that first
    # has it on. A scikit-learn release that moves one must fail here first, loudly.
    mod = importlib.import_module(module)
    missing = [
        name for name, since in PRIVATE_NAMES[module].items()
        if SKLEARN_VERSION >= since and not hasattr(mod, name)
    ]
    assert not missing, f"scikit-learn {sklearn.__version__} moved {missing} out of {module}"


def test_only_the_compat_module_imports_private_sklearn_names():
    root = pathlib.Path(sklr.__file__).parent
    private = re.compile(r"from sklearn[\w.]*\._\w+ import|from sklearn[\w.]* import[^\n]*\b_\w+")
    offenders = [
        str(path.relative_to(root)) for path in sorted(root.rglob("*.py"))
        if path.name != "_sklearn_compat.py" and private.search(path.read_text())
    ]
    assert not offenders


class _Fitted:
    def __init__(self, coef):
        self.coef_ = coef


@pytest.mark.parametrize("check", [_check_same_namespace, check_same_namespace])
def test_check_same_namespace(check):
    # The 1.8 fallback and whatever the installed release provides agree.
    strict = pytest.importorskip("array_api_strict")
    fitted_strict, fitted_numpy = _Fitted(strict.asarray([1.0])), _Fitted(np.ones(1))
    with sklearn.config_context(array_api_dispatch=True):
        check(strict.asarray([[1.0]]), fitted_strict, attribute="coef_", method="predict")
        check([[1.0]], fitted_numpy, attribute="coef_", method="predict")
        check(scipy.sparse.eye(1), fitted_numpy, attribute="coef_", method="predict")
        with pytest.raises(ValueError, match="must use the same namespace.*differ"):
            check(np.ones((1, 1)), fitted_strict, attribute="coef_", method="predict")
        with pytest.raises(ValueError, match="_Fitted.predict.*not compatible"):
            check([[1.0]], fitted_strict, attribute="coef_", method="predict")
    check(np.ones((1, 1)), fitted_strict, attribute="coef_", method="predict")


def _asarray(x, xp, dtype=None):
    return xp.asarray(np.asarray(x), dtype=dtype)


def test_get_namespace_follows_dispatch():
    strict = pytest.importorskip("array_api_strict")
    x = strict.asarray([1.0, 2.0])
    xp_off, dev_off = namespace_and_device(x)
    assert xp_off.__name__.endswith("numpy") and dev_off == "cpu"
    with sklearn.config_context(array_api_dispatch=True):
        xp_on, dev_on = namespace_and_device(x)
    assert xp_on.__name__ == "array_api_strict"
    assert dev_on == x.device


def test_device_and_to_numpy(xp):
    x = _asarray([1.0, 2.0, 3.0], xp)
    assert device(x) == namespace_and_device(x)[1]
    out = to_numpy(x)
    assert isinstance(out, np.ndarray)
    assert_array_equal(out, [1.0, 2.0, 3.0])
    assert device(scipy.sparse.eye(3)) == "cpu"


@pytest.mark.parametrize("draw", ["normal", "uniform", "integers", "signs"])
def test_random_draws_reproducible_and_on_device(xp, draw):
    dev = namespace_and_device(xp.asarray([0.0]))[1]
    funcs = {
        "normal": lambda rs: random_normal(rs, (200, 3), xp=xp, device=dev),
        "uniform": lambda rs: random_uniform(rs, (200, 3), low=-1.0, high=2.0, xp=xp, device=dev),
        "integers": lambda rs: random_integers(rs, 0, 7, (200, 3), xp=xp, device=dev),
        "signs": lambda rs: random_signs(rs, (200, 3), xp=xp, device=dev),
    }
    a, b = funcs[draw](0), funcs[draw](0)
    assert namespace_and_device(a)[0] is xp
    assert_array_equal(to_numpy(a), to_numpy(b))
    values = to_numpy(a)
    assert not np.array_equal(values, to_numpy(funcs[draw](1)))
    if draw == "normal":
        assert abs(values.mean()) < 0.2 and 0.8 < values.std() < 1.2
    elif draw == "uniform":
        assert values.min() >= -1.0 and values.max() < 2.0
    elif draw == "integers":
        assert set(np.unique(values)) <= set(range(7)) and len(np.unique(values)) == 7
    else:
        assert set(np.unique(values)) == {-1.0, 1.0}


def test_random_normal_dtype(xp):
    z = random_normal(0, (5,), xp=xp, device=namespace_and_device(xp.asarray([0.0]))[1], dtype=xp.float32)
    assert z.dtype == xp.float32


@pytest.mark.parametrize("lower", [True, False])
@pytest.mark.parametrize("trans", [True, False])
def test_solve_triangular(xp, lower, trans):
    rng = np.random.RandomState(0)
    T = np.triu(rng.standard_normal((6, 6))) + 6 * np.eye(6)
    T = T.T if lower else T
    B = rng.standard_normal((6, 2))
    x = solve_triangular(_asarray(T, xp), _asarray(B, xp), lower=lower, trans=trans)
    assert namespace_and_device(x)[0] is xp
    assert_allclose(to_numpy(x), np.linalg.solve(T.T if trans else T, B), rtol=1e-12)


def test_lstsq_min_norm_and_rcond(xp):
    rng = np.random.RandomState(0)
    A = rng.standard_normal((4, 6))  # underdetermined: minimum-norm solution
    b = rng.standard_normal(4)
    x = lstsq(_asarray(A, xp), _asarray(b, xp))
    assert namespace_and_device(x)[0] is xp
    assert_allclose(to_numpy(x), np.linalg.pinv(A) @ b, rtol=1e-10)
    # a direction with a singular value below rcond is dropped
    A2 = np.diag([1.0, 1e-10])
    x2 = lstsq(_asarray(A2, xp), _asarray([1.0, 1.0], xp), rcond=1e-8)
    assert_allclose(to_numpy(x2), [1.0, 0.0])


def test_dct_matches_scipy_and_is_orthonormal(xp):
    rng = np.random.RandomState(0)
    X = rng.standard_normal((33, 4))
    y = dct(_asarray(X, xp), axis=0)
    assert namespace_and_device(y)[0] is xp
    expected = scipy.fft.dct(X, axis=0, norm="ortho")
    assert_allclose(to_numpy(y), expected, rtol=1e-12, atol=1e-12)
    assert_allclose(np.linalg.norm(to_numpy(y), axis=0), np.linalg.norm(X, axis=0))


def test_logsumexp_matches_scipy(xp):
    a = np.array([[0.0, -np.inf, 1000.0], [-np.inf, -np.inf, -np.inf], [1.0, 2.0, 3.0]])
    for axis in (None, 0, 1):
        out = logsumexp(_asarray(a, xp), axis=axis)
        assert namespace_and_device(out)[0] is xp
        assert_allclose(to_numpy(out), scipy.special.logsumexp(a, axis=axis))


def test_segment_sum_repeated_ids(xp):
    ids = np.array([0, 2, 0, 2, 2, 4])
    vals = np.arange(12.0).reshape(6, 2)
    out = segment_sum(_asarray(vals, xp), _asarray(ids, xp), 5)
    assert namespace_and_device(out)[0] is xp
    expected = np.zeros((5, 2))
    np.add.at(expected, ids, vals)
    assert_allclose(to_numpy(out), expected)
    out1 = segment_sum(_asarray(vals[:, 0], xp), _asarray(ids, xp), 5)
    assert_allclose(to_numpy(out1), expected[:, 0])


@pytest.mark.parametrize("fmt", ["csc", "csr"])
def test_sparse_matrix_and_product(xp, fmt):
    rng = np.random.RandomState(0)
    dense = scipy.sparse.random(7, 9, density=0.3, random_state=0, format=fmt)
    like = _asarray([0.0], xp)
    S = sparse_matrix(dense.data, dense.indices, dense.indptr, dense.shape, format=fmt, like=like)
    assert issparse(S)
    A = rng.standard_normal((9, 3))
    out = sparse_matmul(S, _asarray(A, xp))
    assert namespace_and_device(out)[0] is xp
    assert_allclose(to_numpy(out), dense.toarray() @ A)
    # sparse right operand: dense NumPy result
    out_sp = sparse_matmul(S, scipy.sparse.csr_array(A))
    assert isinstance(out_sp, np.ndarray)
    assert_allclose(out_sp, dense.toarray() @ A)


def test_issparse():
    assert issparse(scipy.sparse.csr_matrix(np.eye(2)))
    assert issparse(scipy.sparse.csc_array(np.eye(2)))
    assert not issparse(np.eye(2))


def test_cupy_is_imported_only_in_backend_module():
    import pathlib
    import re

    root = pathlib.Path(__file__).resolve().parents[2] / "sklr"
    pattern = re.compile(r"^\s*(import cupy|from cupy|import cupyx|from cupyx)", re.M)
    offenders = [
        str(p.relative_to(root)) for p in root.rglob("*.py")
        if p.relative_to(root).as_posix() != "utils/_namespace.py" and pattern.search(p.read_text())
    ]
    assert offenders == []


def test_qr_r(xp):
    A = np.random.RandomState(0).standard_normal((20, 4))
    R = qr_r(_asarray(A, xp))
    assert namespace_and_device(R)[0] is xp
    R = to_numpy(R)
    assert R.shape == (4, 4)
    assert_allclose(np.tril(R, -1), 0)
    assert_allclose(R.T @ R, A.T @ A, rtol=1e-12)


def test_kth_largest(xp):
    values = np.random.RandomState(0).standard_normal((30, 20))
    expected = np.sort(values.ravel())[::-1]
    for k in (1, 7, 600):
        assert kth_largest(xp.asarray(values), k) == expected[k - 1]
    with pytest.raises(ValueError, match="k must lie in"):
        kth_largest(xp.asarray(values), 0)


def test_subtract_outer_writes_into_out(xp):
    from sklr.utils._array_api import subtract_outer

    rng = np.random.RandomState(5)
    f, M = rng.standard_normal(4), rng.standard_normal((4, 3))
    out = _asarray(np.zeros((4, 3)), xp)
    result = subtract_outer(_asarray(f, xp), _asarray(M, xp), out=out)
    assert result is out and namespace_and_device(result)[0] is xp
    assert_allclose(to_numpy(out), f[:, None] - M, rtol=0, atol=0)
    fresh = subtract_outer(_asarray(f, xp), _asarray(M, xp))
    assert fresh is not out
    assert_allclose(to_numpy(fresh), f[:, None] - M, rtol=0, atol=0)


@pytest.mark.parametrize("one_pass", [False, True])
def test_scaled_products(xp, one_pass, monkeypatch):
    """K v, a / (K v) and K^T (a / K v), whole or by blocks of rows (3 of 7 rows, a last of 1)."""
    import sklr.utils._dense as dense
    from sklr.utils._array_api import scaled_products

    if one_pass:
        monkeypatch.setattr(dense, "_ONE_PASS_FROM", 0)
        monkeypatch.setattr(dense, "_ONE_PASS_BLOCK", 3 * 5 * 8)
    rng = np.random.RandomState(6)
    K, v, a = rng.uniform(0.1, 1.0, (7, 5)), rng.uniform(0.5, 2.0, 5), rng.dirichlet(np.ones(7))
    Kv, u, KTu = scaled_products(_asarray(K, xp), _asarray(v, xp), _asarray(a, xp))
    assert all(namespace_and_device(x)[0] is xp for x in (Kv, u, KTu))
    assert_allclose(to_numpy(Kv), K @ v, rtol=1e-14)
    assert_allclose(to_numpy(u), a / (K @ v), rtol=1e-14)
    assert_allclose(to_numpy(KTu), K.T @ (a / (K @ v)), rtol=1e-14)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_log2_histogram(xp, dtype):
    """Bins never decrease with the value, split octaves evenly, and add up counts and sums."""
    from sklr.utils._array_api import log2_histogram

    rng = np.random.RandomState(4)
    values = np.concatenate([np.exp(rng.uniform(-80, 5, 500)), [0.0, 1.0, 1.5, 2.0, 3.0]])
    values = values.astype(dtype)
    ids, counts, sums = log2_histogram(_asarray(values, xp), bins_per_octave=4)
    assert namespace_and_device(ids)[0] is xp
    ids = np.asarray(to_numpy(ids))
    order = np.argsort(values, kind="stable")
    assert np.all(np.diff(ids[order]) >= 0)
    assert counts.sum() == values.size
    assert_allclose(sums, np.bincount(ids, weights=values.astype(np.float64),
                                      minlength=counts.size), rtol=1e-6)
    one, one_half, two, three = (int(ids[np.flatnonzero(values == v)[0]])
                                 for v in (1.0, 1.5, 2.0, 3.0))
    assert two - one == 4 and one_half - one == 2 and three - two == 2
    with pytest.raises(ValueError, match="bins_per_octave must be a power of two"):
        log2_histogram(_asarray(values, xp), bins_per_octave=3)


@pytest.mark.parametrize("per_row", [2, 40])  # the sparse and the dense product paths
def test_sparse_gram(xp, per_row):
    rng = np.random.RandomState(3)
    m, n = 60, 50
    rows = np.repeat(np.arange(m), per_row)
    cols = rng.randint(0, n, size=m * per_row)  # repeats are added
    data = rng.standard_normal(m * per_row)
    A = scipy.sparse.coo_array((data, (rows, cols)), shape=(m, n)).toarray()
    G = sparse_gram(_asarray(data, xp), _asarray(rows, xp), _asarray(cols, xp), (m, n))
    assert namespace_and_device(G)[0] is xp
    assert_allclose(to_numpy(G), A.T @ A, rtol=1e-12, atol=1e-12)


def test_exp_inplace_and_add_to_diagonal(xp):
    x = _asarray([-1e4, -1.0, 0.0, 1e3], xp)
    out = to_numpy(exp_inplace(x, lower=-700.0, upper=300.0))
    assert_allclose(out, np.exp([-700.0, -1.0, 0.0, 300.0]))
    assert np.all(np.isfinite(out)) and out[0] > 0
    A = add_to_diagonal(_asarray(np.ones((3, 3)), xp), _asarray([1.0, 2.0, 3.0], xp))
    assert namespace_and_device(A)[0] is xp
    assert_allclose(to_numpy(A), np.ones((3, 3)) + np.diag([1.0, 2.0, 3.0]))


def test_dispatch_picks_by_array_library(xp):
    from sklr.utils._namespace import array_library, dispatch, via_host

    x = _asarray(np.arange(3.0), xp)
    library = array_library(x)
    assert library == {"numpy": "numpy", "cupy": "cupy"}.get(xp.__name__.split(".")[-1], "other")
    assert dispatch(x, numpy=lambda: "numpy", cupy=lambda: "cupy", other=lambda: "other") == library
    doubled = via_host(lambda v: 2 * v, x, like=x, dtype=x.dtype)
    assert namespace_and_device(doubled)[0] is xp
    assert_allclose(to_numpy(doubled), [0.0, 2.0, 4.0])


def test_inner_is_the_sum_of_products_on_every_backend(xp):
    from sklr.utils._array_api import inner

    rng = np.random.RandomState(6)
    for shape in [(7,), (3, 5), (2, 3, 4)]:
        a, b = rng.standard_normal(shape), rng.standard_normal(shape)
        value = inner(_asarray(a, xp), _asarray(b, xp))
        assert isinstance(value, float)
        assert value == pytest.approx(float(np.sum(a * b)), rel=1e-12)
