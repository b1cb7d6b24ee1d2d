"""A bad-input matrix for sklr's public functions (issue 17.9).

Each public function is called once with valid arguments (the reference), then
once per *mutation* of one argument. A mutation either must be rejected with a
``ValueError`` or ``TypeError`` whose message names the argument, or (for the
harmless ones: a list instead of an array, integer values) must give the
reference result. Nothing else may escape: no ``AttributeError``,
``IndexError``, ``ZeroDivisionError``, ``numpy.linalg.LinAlgError`` (a
``ValueError`` subclass, so it is excluded by name), ``FloatingPointError``,
and no result with NaN or inf in it.

Usage, in a family's tests::

    from tests._bad_inputs import check_bad_inputs

    def test_sinkhorn_newton_bad_inputs():
        check_bad_inputs(
            sinkhorn_newton,
            dict(a=a, b=b, M=M, reg=0.1),
            arrays=["a", "b", "M"], weights=["a", "b"], positive=["reg"],
        )

``check_bad_inputs`` runs every case and reports all the failing ones at once.
"""

import dataclasses
import math
import warnings
from numbers import Integral, Real

import numpy as np
from numpy.testing import assert_allclose

__all__ = ["ARRAY_MUTATIONS", "SCALAR_MUTATIONS", "check_bad_inputs", "result_arrays"]


def _with_one(arr, value):
    out = np.array(arr, dtype=float, copy=True)
    out.flat[out.size // 2] = value
    return out


def _empty(arr):
    shape = list(np.shape(arr))
    shape[0] = 0
    return np.zeros(shape)


def _wrong_ndim(arr):
    arr = np.asarray(arr)
    return arr[..., None] if arr.ndim >= 2 else arr.reshape(1, -1)[:, :, None] if arr.ndim == 1 else arr.reshape(1)


def _too_short(arr):
    arr = np.asarray(arr)
    return arr[: max(arr.shape[0] - 1, 0)] if arr.ndim else arr


# name -> (mutate(valid_value), expectation): "raise" or "same" (same result as the reference).
ARRAY_MUTATIONS = {
    "list": (lambda v: np.asarray(v).tolist(), "same"),
    "nan": (lambda v: _with_one(v, np.nan), "raise"),
    "inf": (lambda v: _with_one(v, np.inf), "raise"),
    "empty": (_empty, "raise"),
    "wrong_ndim": (_wrong_ndim, "raise"),
    "too_short": (_too_short, "raise"),
    "strings": (lambda v: np.full(np.shape(v), "a"), "raise"),
    "none": (lambda v: None, "raise"),
}

# Applied to array arguments that are weights (or marginals / probabilities).
WEIGHT_MUTATIONS = {
    "negative": (lambda v: _with_one(v, -1.0), "raise"),
    "all_zero": (lambda v: np.zeros(np.shape(v)), "raise"),
}

# Applied to scalar arguments that must be finite and > 0.
SCALAR_MUTATIONS = {
    "nan": (lambda v: math.nan, "raise"),
    "inf": (lambda v: math.inf, "raise"),
    "negative": (lambda v: -1.0 if isinstance(v, float) else -1, "raise"),
    "zero": (lambda v: 0.0 if isinstance(v, float) else 0, "raise"),
    "string": (lambda v: "foo", "raise"),
}

_ESCAPES = (
    AttributeError, IndexError, KeyError, ZeroDivisionError, FloatingPointError,
    OverflowError, np.linalg.LinAlgError, AssertionError,
)


def result_arrays(result):
    """Flatten a result (array, scalar, tuple, namedtuple, dataclass) into a list of arrays."""
    if result is None:
        return []
    if dataclasses.is_dataclass(result) and not isinstance(result, type):
        return [a for f in dataclasses.fields(result) for a in result_arrays(getattr(result, f.name))]
    if isinstance(result, dict):
        return [a for k in sorted(result) for a in result_arrays(result[k])]
    if isinstance(result, (tuple, list)):
        return [a for r in result for a in result_arrays(r)]
    if isinstance(result, (bool, str)):
        return []
    if isinstance(result, (Real, Integral, np.ndarray, np.generic)):
        arr = np.asarray(result)
        return [arr] if arr.dtype.kind in "biufc" else []
    if hasattr(result, "__array_namespace__"):  # another array API namespace
        return [np.asarray(result)]
    if hasattr(result, "toarray"):  # scipy.sparse
        return [result.toarray()]
    return []


def _float_arrays(result):
    return [a for a in result_arrays(result) if a.dtype.kind in "fc"]


def _call(func, kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning etc.: not what this matrix checks
        return func(**kwargs)


def check_bad_inputs(
    func, valid_kwargs, *, arrays=(), weights=(), positive=(), extra_cases=(),
    expect=None, rtol=1e-7, atol=1e-10, skip=(),
):
    """Run the bad-input matrix on ``func`` and fail listing every case that misbehaves.

    Parameters
    ----------
    func : callable
        The public function.
    valid_kwargs : dict
        Arguments that make a valid call (deterministic: fix ``random_state``).
    arrays : sequence of str
        Array arguments, each mutated with :data:`ARRAY_MUTATIONS`.
    weights : sequence of str
        Array arguments that are non-negative weights; also get :data:`WEIGHT_MUTATIONS`.
    positive : sequence of str
        Scalar arguments that must be finite and > 0: :data:`SCALAR_MUTATIONS`.
    extra_cases : sequence of (label, dict, expectation)
        More cases: the dict updates ``valid_kwargs``; expectation is ``"raise"``
        (with the name given as ``label.split(':')[0]``), ``"same"`` or ``"ok"``
        (any finite result).
    expect : dict, optional
        ``{(arg, mutation): expectation}`` overriding the default expectation
        (e.g. ``{("values", "nan"): "ok"}`` where NaN is meaningful).
    skip : sequence of (arg, mutation)
        Cases that do not apply (e.g. wrong_ndim of an argument that accepts any ndim).
    """
    expect = dict(expect or {})
    skip = set(skip)
    reference = _call(func, dict(valid_kwargs))
    ref_arrays = result_arrays(reference)
    for a in _float_arrays(reference):
        assert np.all(np.isfinite(a)), f"{func.__name__}: the valid call gives non-finite output"

    cases = []
    for name in arrays:
        table = dict(ARRAY_MUTATIONS)
        if name in weights:
            table.update(WEIGHT_MUTATIONS)
        for mut, (fn, exp) in table.items():
            if (name, mut) in skip:
                continue
            kw = dict(valid_kwargs)
            kw[name] = fn(valid_kwargs[name])
            cases.append((f"{name}:{mut}", name, kw, expect.get((name, mut), exp)))
    for name in positive:
        for mut, (fn, exp) in SCALAR_MUTATIONS.items():
            if (name, mut) in skip:
                continue
            kw = dict(valid_kwargs)
            kw[name] = fn(valid_kwargs[name])
            cases.append((f"{name}:{mut}", name, kw, expect.get((name, mut), exp)))
    for label, update, exp in extra_cases:
        kw = dict(valid_kwargs)
        kw.update(update)
        cases.append((label, label.split(":")[0], kw, exp))

    failures = []
    for label, name, kw, exp in cases:
        try:
            out = _call(func, kw)
        except _ESCAPES as exc:
            failures.append(f"{label}: raw {type(exc).__name__}: {exc}")
            continue
        except (ValueError, TypeError) as exc:
            if exp != "raise":
                failures.append(f"{label}: expected a result, got {type(exc).__name__}: {exc}")
            elif name not in str(exc):
                failures.append(f"{label}: {type(exc).__name__} does not name {name!r}: {exc}")
            continue
        except Exception as exc:  # noqa: BLE001 -- anything else is a failure too
            failures.append(f"{label}: unexpected {type(exc).__name__}: {exc}")
            continue
        if exp == "raise":
            failures.append(f"{label}: accepted silently (no ValueError/TypeError)")
            continue
        bad = [a for a in _float_arrays(out) if not np.all(np.isfinite(a))]
        if bad:
            failures.append(f"{label}: non-finite output")
            continue
        if exp == "same":
            got = result_arrays(out)
            if len(got) != len(ref_arrays):
                failures.append(f"{label}: result structure differs from the reference")
                continue
            for g, r in zip(got, ref_arrays):
                try:
                    assert_allclose(np.asarray(g, dtype=float), np.asarray(r, dtype=float),
                                    rtol=rtol, atol=atol)
                except AssertionError as exc:
                    failures.append(f"{label}: result differs from the reference: {exc}")
                    break
    assert not failures, f"{func.__name__}: {len(failures)} bad-input case(s):\n" + "\n".join(failures)
