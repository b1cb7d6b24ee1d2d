"""SinkhornNewtonOT: entropic transport between two samples, as a scikit-learn transformer."""

import math
import warnings
from numbers import Integral, Real

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_array
from sklearn.utils.validation import check_is_fitted

from ..utils._array_api import (
    check_same_namespace,
    logsumexp,
    move_to,
    namespace_and_device,
    to_numpy,
)
from ..utils._validation import Interval, StrOptions, _fit_context, validate_data
from ._sinkhorn_newton import sinkhorn_newton
from ._streamed import _StreamedCost, sinkhorn_newton_streamed

# streaming="auto" streams the cost and the plan above this many entries (2 GB per
# n x m float64 array; the in-memory solver holds three to four of them).
_STREAM_ABOVE = 1 << 28

# transform / inverse_transform map the points in blocks of rows whose logits
# have about this many entries.
_MAP_BLOCK_ENTRIES = 1 << 22

__all__ = ["SinkhornNewtonOT"]


def _pairwise_cost(X, Y, metric, xp):
    """``c(x_i, y_j)`` for the squared Euclidean or Euclidean metric, with the array API."""
    sq = (xp.sum(X * X, axis=1)[:, None] + xp.sum(Y * Y, axis=1)[None, :]
          - 2.0 * (X @ xp.matrix_transpose(Y)))
    sq = xp.maximum(sq, 0.0)
    return sq if metric == "sqeuclidean" else xp.sqrt(sq)


class SinkhornNewtonOT(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Entropic optimal transport from source to target samples, by Sinkhorn then sparse Newton.

    Fits the entropic optimal transport plan between the source samples
    ``X`` given to :meth:`fit` and the target samples ``X_target`` (a
    parameter: the target domain) for the cost ``metric``, with the
    Sinkhorn-Newton-Sparse solver of Tang et al. (2024)
    (:func:`sinkhorn_newton`): a few
    stabilized Sinkhorn iterations, then Newton steps with a sparsified
    Hessian, which reach machine accuracy in tens of iterations at small
    ``reg``, where Sinkhorn needs tens of thousands.
    :meth:`transform` maps points into the target domain, as POT's
    ``ot.da.SinkhornTransport`` does, for domain adaptation.

    Read more in the :ref:`User Guide <optimal_transport>`.

    Parameters
    ----------
    reg : float, default=1e-2
        Entropic regularization, relative to the normalized cost (see
        ``norm``). Smaller is closer to unregularized transport (a sparser,
        sharper plan); SNS is built for ``1e-2`` down to ``1e-4``, and
        below ``1e-3`` it is warm-started by epsilon scaling, which reaches
        ``tol`` down to ``1e-6`` (see :func:`sinkhorn_newton`).
    X_target : array-like of shape (n_target, n_features), default=None
        The target samples: where :meth:`transform` maps to. Required by
        :meth:`fit` (None raises a ``ValueError``); a parameter, not fit
        data, so that cross-validation never splits it (see Notes).
    target_weight : array-like of shape (n_target,), default=None
        Non-negative weights of the target samples (uniform when None);
        normalized to sum to 1.
    metric : {"sqeuclidean", "euclidean"}, default="sqeuclidean"
        Ground cost between samples.
    norm : {"max", "median"} or None, default="max"
        Divide the cost matrix by its maximum (or median) before solving, so
        that ``reg`` does not depend on the data's scale. None keeps it.
    n_sinkhorn : int or "auto", default="auto"
        Sinkhorn iterations before the Newton stage (``"auto"``: about the
        time of three Newton steps, at most 100 after a warm-up at ten times
        ``reg``; see :func:`sinkhorn_newton`).
    density : float, default=None
        Least fraction of plan entries kept in the sparsified Hessian
        (``16 / min(n_source, n_target)`` when None).
    tol : float, default=1e-9
        L1 marginal error at which the solver stops.
    max_iter : int, default=100
        Maximum Newton iterations.
    verbose : int, default=0
        Print the marginal error after each Newton iteration.
    streaming : bool or "auto", default="auto"
        Whether to solve without storing the ``n_source x n_target`` cost and
        plan: they are computed tile by tile from the samples whenever
        needed, and tile pairs whose entries provably weigh less than a
        thousandth of ``tol`` are skipped (see Notes). Memory is then
        ``O(n_source + n_target)`` plus the sparsified Hessian, so that
        clouds of ``10^5`` points fit where the plan would take 80 GB.
        ``"auto"``: streaming when the plan has more than ``2^28`` entries
        (2 GB). ``norm="median"`` cannot be streamed (it needs every cost).
    n_jobs : int, default=None
        Threads for the streamed passes over the plan (NumPy input; the
        in-memory solver's products use BLAS's threads). None means 1, -1
        all cores (:func:`joblib.effective_n_jobs`).

    Attributes
    ----------
    coupling_ : array of shape (n_source, n_target) or None
        The transport plan (sums to 1; marginals: the normalized weights).
        None when streamed: the potentials define it.
    cost_ : array of shape (n_source, n_target) or None
        The (normalized) cost matrix, as in POT. None when streamed.
    cost_scale_ : float
        What the cost was divided by (1.0 when ``norm=None``).
    transport_cost_ : float
        ``<coupling_, cost_>``: the entropic transport cost (normalized units).
    source_potential_, target_potential_ : arrays of shape (n_source,) and (n_target,)
        Dual potentials ``f, g``: ``coupling_ = exp((f_i + g_j - cost_ij) / reg)``.
    X_target_ : array of shape (n_target, n_features)
        The target samples (used by :meth:`transform`).
    X_source_ : array of shape (n_source, n_features)
        The source samples (used by :meth:`inverse_transform`).
    n_iter_ : int
        Sinkhorn plus Newton iterations.
    converged_ : bool
        Whether the marginal error reached ``tol``.
    log_ : dict
        The solver's diagnostics (see :func:`sinkhorn_newton`); when
        streamed, also ``tiles_computed`` (tile pairs evaluated over all
        passes) and ``tiles`` (tile pairs in the plan).
    streamed_ : bool
        Whether the fit was streamed (see ``streaming``).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklr.transport.sinkhorn_newton : The solver.

    Notes
    -----
    :meth:`transform` is the *entropic map* (Pooladian and Niles-Weed;
    POT's ``out_of_sample_map="continuous"``): a point ``x`` goes to
    ``sum_j w_j(x) y_j`` with ``w_j(x)`` proportional to
    ``exp((g_j - c(x, y_j)) / reg)``. For a training source point that is
    exactly the barycentric projection of its row of ``coupling_``; new
    points use the same formula, so the map is defined everywhere and
    smooth. :meth:`inverse_transform` maps target-domain points back with
    the source potential.

    Streaming (``streaming=True``, not in the paper). Both samples are
    ordered along a k-d split; a tile pairs 512 consecutive source points
    with 2048 consecutive target points, and the distance between the tiles'
    bounding boxes bounds every plan entry of the pair from above. A pair
    whose entries together weigh less than ``1e-3 * tol / n_pairs`` (by that
    bound) is skipped, so the skipped mass is at most a thousandth of
    ``tol``; at small ``reg`` most pairs are (the plan concentrates near the
    transport map). Sinkhorn iterations are one pass per half-iteration
    (row or column sums; sums the skipped pairs could distort are recomputed
    exactly), and each Newton step is solved by preconditioned conjugate
    gradient on the sparsified Hessian gathered during the line search's
    pass; the direct solve of the in-memory solver, a dense
    ``min(n, m)^2`` matrix, is not used. The streamed solve starts with 20
    Sinkhorn iterations at ten times ``reg`` (a warm start), then 20 at
    ``reg`` (the paper's N1), and takes 20 more after a damped Newton step.

    ``fit`` needs the target samples: without ``X_target`` it raises a
    ``ValueError`` (defaulting the target to anything would transport onto
    data the user never gave). Weights are normalized to sum to 1; negative
    weights are rejected.

    ``X_target`` and ``target_weight`` are constructor parameters, like
    :class:`~sklearn.preprocessing.SplineTransformer`'s ``knots``, rather
    than :meth:`fit` metadata: the target domain is part of what the model
    is, and the source samples are what it is fitted on. Metadata given to
    ``fit`` through :class:`~sklearn.model_selection.GridSearchCV`,
    :func:`~sklearn.model_selection.cross_validate` or metadata routing is
    split with the folds whenever its length equals the number of samples
    (scikit-learn's ``_check_method_params``), so a target passed there
    would be cut per fold when it happens to have as many rows as ``X``
    and passed whole otherwise. As a parameter it is cloned whole into
    every fold; ``sample_weight`` stays a fit argument, aligned with ``X``
    and split with it (request it with ``set_fit_request`` under metadata
    routing). ``X_target`` must have the columns of ``X``, in the same
    order; when both have column names they must be equal, and a target
    without names (or with names when ``X`` has none) is accepted without
    a feature-name warning.

    In a :class:`~sklearn.pipeline.Pipeline` the transformer maps the
    *source* samples into the target domain before the next step, e.g. a
    classifier trained on the labelled source data then applies to target
    data: ``make_pipeline(SinkhornNewtonOT(X_target=Xt), clf).fit(Xs, ys)``
    and ``pipe[-1].predict(Xt)`` (target data are already in the target
    domain). A step before the transport sees only ``X``: the target must
    already be in the representation the transport step receives.

    References
    ----------
    .. [1] Tang, X. et al. "Accelerating Sinkhorn Algorithm with Sparse
       Newton Iterations." ICLR 2024.
    .. [2] Pooladian, A.-A. and Niles-Weed, J. "Entropic estimation of
       optimal transport maps." arXiv:2109.12004, 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.transport import SinkhornNewtonOT
    >>> rng = np.random.RandomState(0)
    >>> Xs = rng.standard_normal((100, 2))
    >>> Xt = rng.standard_normal((80, 2)) + [5.0, 0.0]
    >>> ot = SinkhornNewtonOT(reg=1e-3, X_target=Xt).fit(Xs)
    >>> ot.converged_, ot.coupling_.shape
    (True, (100, 80))
    >>> mapped = ot.transform(Xs)  # the mapped sample has the target's mean
    >>> bool(np.allclose(mapped.mean(axis=0), Xt.mean(axis=0), atol=1e-8))
    True
    """

    _parameter_constraints: dict = {
        "reg": [Interval(Real, 0, None, closed="neither")],
        "X_target": ["array-like", None],
        "target_weight": ["array-like", None],
        "metric": [StrOptions({"sqeuclidean", "euclidean"})],
        "norm": [StrOptions({"max", "median"}), None],
        "n_sinkhorn": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "density": [Interval(Real, 0, 1, closed="right"), None],
        "tol": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 0, None, closed="left")],
        "verbose": ["verbose"],
        "streaming": ["boolean", StrOptions({"auto"})],
        "n_jobs": [Integral, None],
    }

    def __init__(self, reg=1e-2, *, X_target=None, target_weight=None, metric="sqeuclidean",
                 norm="max", n_sinkhorn="auto", density=None, tol=1e-9, max_iter=100, verbose=0,
                 streaming="auto", n_jobs=None):
        self.reg = reg
        self.X_target = X_target
        self.target_weight = target_weight
        self.metric = metric
        self.norm = norm
        self.n_sinkhorn = n_sinkhorn
        self.density = density
        self.tol = tol
        self.max_iter = max_iter
        self.verbose = verbose
        self.streaming = streaming
        self.n_jobs = n_jobs

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Fit the entropic transport plan from ``X`` to the parameter ``X_target``.

        Parameters
        ----------
        X : array-like of shape (n_source, n_features)
            Source samples.
        y : None
            Ignored (in a Pipeline, the labels go to the next step).
        sample_weight : array-like of shape (n_source,), default=None
            Non-negative weights of the source samples (uniform when None);
            normalized to sum to 1.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        xp, device = namespace_and_device(X)
        X = validate_data(self, X, dtype=[xp.float64, xp.float32])
        X_target = self._validated_target(xp, device, X.dtype)
        sample_weight, target_weight = move_to(
            sample_weight, self.target_weight, xp=xp, device=device
        )
        a = self._weights(sample_weight, X, "sample_weight")
        b = self._weights(target_weight, X_target, "target_weight")
        streaming = self.streaming
        if streaming == "auto":
            streaming = X.shape[0] * X_target.shape[0] > _STREAM_ABOVE and self.norm != "median"
        self.streamed_ = bool(streaming)
        if streaming:
            if self.norm == "median":
                raise ValueError(
                    "norm='median' needs every cost, which streaming=True never stores: use "
                    "norm='max' or norm=None, or streaming=False."
                )
            return self._fit_streamed(X, X_target, a, b, xp, device)
        cost = _pairwise_cost(X, X_target, self.metric, xp)
        scale = 1.0
        if self.norm == "max":
            scale = float(xp.max(cost))
        elif self.norm == "median":
            scale = float(xp.sort(xp.reshape(cost, (-1,)))[math.prod(cost.shape) // 2])
        if not scale > 0:
            scale = 1.0  # all points coincide: nothing to normalize
        cost = cost / scale
        plan, log = sinkhorn_newton(
            a, b, cost, float(self.reg), n_sinkhorn=self.n_sinkhorn, density=self.density,
            tol=self.tol, max_iter=self.max_iter, log=True, verbose=self.verbose,
        )
        self.coupling_, self.cost_, self.cost_scale_ = plan, cost, scale
        self.transport_cost_ = float(xp.sum(plan * cost))
        self.source_potential_, self.target_potential_ = log["f"], log["g"]
        self.X_source_, self.X_target_ = X, X_target
        self.n_iter_ = log["n_sinkhorn"] + log["n_sinkhorn_extra"] + log["n_newton"]
        self.converged_ = log["converged"]
        self.log_ = log
        return self

    def _fit_streamed(self, X, X_target, a, b, xp, device):
        """``fit`` without the cost or the plan in memory (``streaming=True``)."""
        n, m = X.shape[0], X_target.shape[0]
        a = xp.full(n, 1.0 / n, dtype=X.dtype, device=device) if a is None else a
        b = xp.full(m, 1.0 / m, dtype=X.dtype, device=device) if b is None else b
        # Zero-weight points carry no mass: solve on the support.
        rows = np.flatnonzero(to_numpy(a) > 0)
        cols = np.flatnonzero(to_numpy(b) > 0)
        rows_x, cols_x = xp.asarray(rows, device=device), xp.asarray(cols, device=device)
        cost = _StreamedCost(xp.take(X, rows_x, axis=0), xp.take(X_target, cols_x, axis=0),
                             self.metric, xp)
        cost.n_threads = effective_n_jobs(self.n_jobs)
        scale = cost.max_cost() if self.norm == "max" else 1.0
        if not scale > 0:
            scale = 1.0
        cost.scale = scale
        tol = max(float(self.tol), 100.0 * float(xp.finfo(X.dtype).eps))
        row_order = xp.asarray(cost.row_order, device=device)
        col_order = xp.asarray(cost.col_order, device=device)
        a_s = xp.take(xp.take(a, rows_x), row_order)
        b_s = xp.take(xp.take(b, cols_x), col_order)
        f_s, g_s, log = sinkhorn_newton_streamed(
            cost, a_s, b_s, float(self.reg), tol=tol, max_iter=self.max_iter,
            density=self.density, n_sinkhorn=self.n_sinkhorn, verbose=self.verbose,
        )
        reg = float(self.reg)
        transport = (float(xp.vecdot(log["r"], f_s) + xp.vecdot(log["c"], g_s))
                     - reg * log["plogp"])
        # Back to the caller's order; zero-weight points get the potential -inf.
        f = np.full(n, -np.inf)
        f[rows[cost.row_order]] = to_numpy(f_s)
        g = np.full(m, -np.inf)
        g[cols[cost.col_order]] = to_numpy(g_s)
        self.coupling_, self.cost_, self.cost_scale_ = None, None, scale
        self.transport_cost_ = transport
        self.source_potential_ = xp.asarray(f, dtype=X.dtype, device=device)
        self.target_potential_ = xp.asarray(g, dtype=X.dtype, device=device)
        self.X_source_, self.X_target_ = X, X_target
        self.n_iter_ = log["n_sinkhorn"] + log["n_sinkhorn_extra"] + log["n_newton"]
        self.converged_ = log["converged"]
        self.log_ = {key: value for key, value in log.items() if key not in ("r", "c")}
        self.log_["f"], self.log_["g"] = self.source_potential_, self.target_potential_
        if not self.converged_:
            warnings.warn(
                f"SinkhornNewtonOT (streamed) stopped after {log['n_newton']} Newton iterations "
                f"with a marginal error of {log['final_err']:.3g} > tol={tol}; increase max_iter "
                f"or reg.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return self

    def _validated_target(self, xp, device, dtype):
        """``X_target`` as a finite 2-D array of ``X``'s namespace, device, dtype and columns.

        Checked against ``X``'s fit here rather than with ``validate_data(reset=False)``, whose
        messages and feature-name warnings speak of ``X``: a target without column names next
        to a DataFrame ``X`` is the same domain's data, not a mistake to warn about.
        """
        if self.X_target is None:
            raise ValueError(
                "SinkhornNewtonOT needs the target samples: SinkhornNewtonOT(X_target=...).fit(X) "
                "(in a Pipeline: the step SinkhornNewtonOT(X_target=...), or "
                "pipe.set_params(sinkhornnewtonot__X_target=...))."
            )
        names = getattr(self.X_target, "columns", None)
        if names is not None and hasattr(self, "feature_names_in_"):
            names = list(names)
            if all(isinstance(name, str) for name in names) \
                    and names != list(self.feature_names_in_):
                raise ValueError(
                    f"X_target's column names {names} differ from those of X "
                    f"{list(self.feature_names_in_)}: the target must have X's columns, in "
                    f"X's order."
                )
        X_target = move_to(self.X_target, xp=xp, device=device)
        try:
            X_target = check_array(X_target, dtype=dtype, input_name="X_target")
        except (TypeError, ValueError) as exc:
            if "X_target" in str(exc):
                raise
            raise type(exc)(f"X_target: {exc}") from exc
        if X_target.shape[1] != self.n_features_in_:
            raise ValueError(
                f"X_target has {X_target.shape[1]} features, but X has {self.n_features_in_} "
                f"features: the target samples must live in the source samples' space."
            )
        return X_target

    @staticmethod
    def _weights(weight, X, name):
        """``weight`` checked (shape, finite, non-negative, not all zero) and normalized."""
        if weight is None:
            return None  # uniform
        xp, device = namespace_and_device(X)
        try:
            weight = xp.asarray(weight, dtype=X.dtype, device=device)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be an array of real weights: {exc}") from exc
        if weight.shape != (X.shape[0],):
            raise ValueError(
                f"{name} must have shape ({X.shape[0]},), one weight per sample, "
                f"got {tuple(weight.shape)}."
            )
        if not bool(xp.all(xp.isfinite(weight))) or bool(xp.any(weight < 0)):
            raise ValueError(f"{name} must be finite and non-negative.")
        total = float(xp.sum(weight))
        if not total > 0:
            raise ValueError(f"{name} must not be all zero: there is no mass to transport.")
        return weight / total

    def _map(self, X, Y, potential, metric_scale):
        """The entropic map of the rows of ``X``, in blocks of rows (no ``n x m`` array)."""
        xp, _ = namespace_and_device(X)
        rows = max(1, _MAP_BLOCK_ENTRIES // max(Y.shape[0], 1))
        parts = []
        for start in range(0, X.shape[0], rows):
            block = X[start:min(start + rows, X.shape[0]), ...]
            logits = (potential[None, :]
                      - _pairwise_cost(block, Y, self.metric, xp) / metric_scale)
            logits = logits / self.reg
            weights = xp.exp(logits - logsumexp(logits, axis=1, xp=xp)[:, None])
            parts.append(weights @ Y)
        return parts[0] if len(parts) == 1 else xp.concat(parts)

    def transform(self, X):
        """Map source-domain points into the target domain (the entropic map).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Source-domain points, training or new.

        Returns
        -------
        X_mapped : array of shape (n_samples, n_features)
            Their images: barycentres of the target samples.
        """
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="X_target_", method="transform")
        xp, _ = namespace_and_device(X)
        X = validate_data(self, X, dtype=[xp.float64, xp.float32], reset=False)
        return self._map(X, self.X_target_, self.target_potential_, self.cost_scale_)

    def inverse_transform(self, X):
        """Map target-domain points back into the source domain.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Target-domain points.

        Returns
        -------
        X_mapped : array of shape (n_samples, n_features)
            Barycentres of the source samples, weighted by
            ``exp((f_i - c(x_i, x)) / reg)``.
        """
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="X_source_", method="inverse_transform")
        xp, _ = namespace_and_device(X)
        X = validate_data(self, X, dtype=[xp.float64, xp.float32], reset=False)
        return self._map(X, self.X_source_, self.source_potential_, self.cost_scale_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
