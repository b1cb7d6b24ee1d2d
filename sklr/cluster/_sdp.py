"""Likelihood-adjusted SDP clustering (iLA-SDP; Zhuang, Chen and Yang, ICML 2023): the driver.

The iteration alternates an SDP relaxation (``_sdp_solvers``) with a
refit of the clusters' Gaussians (``_gaussian``), from the starts of
``_starts``; see ``_sdp_solvers`` for the SDP's form.
"""

import math
import warnings
from dataclasses import dataclass
from numbers import Integral, Real
from typing import NamedTuple

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from ..linalg._gaussian import cholesky_log_det
from ..utils._array_api import device as array_device
from ..utils._array_api import namespace_and_device, random_normal
from ..utils._validation import Interval, StrOptions, check_array_arg, validate_params
from ._gaussian import _classification_em, _fitted_cost, partition_cost
from ._model_selection import COVARIANCE_MODELS, classification_bic
from ._sdp_solvers import SDPResult, solve_admm, solve_bm
from ._starts import (
    _greedy_start,
    _kmeans_labels,
    _kmeans_runs,
    _kmeans_start,
    _mixture_start,
)

__all__ = ["LaSDPResult", "SDPResult", "la_sdp", "partition_cost", "solve_admm", "solve_bm"]


class LaSDPResult(NamedTuple):
    """What :func:`la_sdp` returns: a named tuple ``(labels, n_iter, objective)``.

    Attributes
    ----------
    labels : int array of shape (n_samples,)
        The clusters, numbered in the order of their first points.
    n_iter : int
        Rounds run, all iterations from all starts together.
    objective : float
        The value of the SDP that produced the kept partition (see :func:`la_sdp`).
    """

    labels: object
    n_iter: int
    objective: float


@dataclass(frozen=True)
class _Candidate:
    """A partition, its partition cost and the value of the SDP that produced it."""

    labels: object
    cost: float
    objective: float


@dataclass(frozen=True)
class _StartRun:
    """What :func:`_from_start` returns: the kept candidate, the rounds run, and
    whether the iteration that found it settled."""

    kept: _Candidate
    n_iter: int
    converged: bool


@dataclass(frozen=True)
class _Rounds:
    """What :func:`_ila_rounds` returns (see there)."""

    best: _Candidate
    kept: _Candidate
    n_iter: int
    converged: bool
    multiplier: object = None  # the last Burer-Monteiro solve's (None for ADMM)
    factors: object = None  # the last Burer-Monteiro solve's factors (None for ADMM)


@dataclass(frozen=True)
class _Search:
    """What :func:`_la_sdp` returns: :class:`LaSDPResult`'s fields and how the partition was chosen.

    ``cost``, ``start_costs`` and ``covariance_scores`` are in the units of
    the caller's ``X``. ``start_costs`` maps each distinct starting
    partition (``"k-means++"``, ``"gaussian-mixture"``, ``"greedy"``,
    ``"kmeans-sdp"`` or ``"init"``) of the selected covariance model to the
    partition cost of the best partition reached from it; ``selected_start``
    names the one kept (None for the K-means SDP and one cluster).
    ``covariance_scores`` maps each covariance model fitted to its
    :func:`~sklr.cluster._model_selection.classification_bic` (empty for the
    K-means SDP).
    """

    labels: object
    n_iter: int
    objective: float
    cost: float
    covariance_type: str
    start_costs: dict
    selected_start: object
    covariance_scores: dict


def _la_blocks(X, covs, xp):
    """LA-SDP block data from the cluster covariances: ``((X, M), hs)`` with ``W_k = X M_k``.

    ``M_k = L_k^{-T}`` for the Cholesky factor ``L_k`` of ``Sigma_k``, so the
    rows of ``W_k`` are the points whitened by cluster ``k``'s covariance.
    """
    Ms, hs = [], []
    p = X.shape[1]
    eye = xp.eye(p, dtype=X.dtype, device=array_device(X))
    for k in range(covs.shape[0]):
        L = xp.linalg.cholesky(covs[k, ...])
        M = xp.matrix_transpose(xp.linalg.solve(L, eye))  # L^{-T}
        W = X @ M
        log_det = float(cholesky_log_det(L, xp))
        Ms.append(M)
        hs.append(0.5 * (xp.sum(W * W, axis=1) + log_det))
    return (X, xp.stack(Ms)), hs


def _round(embedding, n_clusters, random_state, xp):
    """Spectral rounding: top singular vectors of the embedding, then K-means (on the host)."""
    U, S, _ = xp.linalg.svd(embedding, full_matrices=False)
    top = U[:, :n_clusters] * S[None, :n_clusters]
    return _kmeans_labels(top, n_clusters, 10, random_state, xp)


def _block_mass(result, xp):
    """``(Z_k 1)_i`` for every point and block, shape ``(n, K)``."""
    if result.factors is not None:
        return xp.stack([U @ xp.sum(U, axis=0) for U in result.factors], axis=1)
    return xp.stack([xp.sum(Z, axis=1) for Z in result.blocks], axis=1)


def _match_blocks(labels, result, xp):
    """Name the rounded clusters after the SDP blocks they hold most mass of (Hungarian).

    Keeps label ``k`` tied to block ``k`` (and so to covariance ``k``) from
    one round of the iteration to the next.
    """
    from scipy.optimize import linear_sum_assignment

    from ..utils._array_api import to_numpy

    mass = to_numpy(_block_mass(result, xp))
    host = to_numpy(labels)
    K = mass.shape[1]
    gain = [[float(mass[host == c, k].sum()) for k in range(K)] for c in range(K)]
    rows, cols = linear_sum_assignment(gain, maximize=True)
    mapping = dict(zip(rows.tolist(), cols.tolist()))
    out = [mapping[int(c)] for c in host.tolist()]
    return xp.asarray(out, dtype=xp.int64, device=array_device(labels))


def _indicator_factors(labels, n_clusters, rank, rng, xp):
    """Burer-Monteiro factors of a partition: ``1_G / sqrt(n_k)``, other columns small and positive."""
    n = labels.shape[0]
    dev = array_device(labels)
    first = xp.asarray([1.0] + [0.0] * (rank - 1), dtype=xp.float64, device=dev)
    factors = []
    for k in range(n_clusters):
        members = xp.astype(labels == k, xp.float64)
        size = max(float(xp.sum(members)), 1.0)
        noise = xp.abs(random_normal(rng, (n, rank), xp=xp, device=dev, dtype=xp.float64))
        factors.append(1e-3 * noise / math.sqrt(n)
                       + (members / math.sqrt(size))[:, None] * first[None, :])
    return factors


# The iLA-SDP iteration runs from this many starts, the cheapest after classification EM
# (see _screen_starts).
_SDP_STARTS = 1
# The rounds' solves stop once the blocks' argmax labelling has held this many steps (see
# solve_bm's settle): only their rounding is used. A warm solve (from the previous SDP's
# solution and multiplier) waits _SETTLE_WARM steps, the first, cold one _SETTLE. Warm at 50
# instead of 100: 22 % fewer steps on the 36 data sets of benchmarks/sdp_errors.py at six
# seeds (breast_cancer 19 %), the same partitions but digits at four seeds (a few points
# away, costs higher by 0.4 to 5.5 of ~9,000, errors lower), and on 36 other data sets 4 of
# 72 fits a few points away, three at a higher cost, all within 1.2e-4 relative. At 50 for
# the cold solves too, digits' costs rose by up to 53 at four seeds
# (benchmarks/results/2026-12-07_sdp_no_restart.md).
_SETTLE = 100
_SETTLE_WARM = 50
# The rounds stop after this many rounds in a row that did not lower the partition cost.
# Two before 0.1.0: on the 36 data sets of benchmarks/sdp_errors.py at six seeds one gave
# the same partitions in 3 % fewer solver steps (the second round never found a lower cost).
_STALL_ROUNDS = 1


def _snap(X, xp):
    """Standardised data rounded to a grid of ``2^-26`` (``2^-12`` in float32).

    ``X * s + shift`` standardises to ``X``'s standardised values only up to
    rounding (about ``1e-15``), and on ambiguous data the search can turn on
    such differences: seed 12 of ``make_heterogeneous_mixture(60, 2, 3,
    separation=2.5)`` ended at cost 24.45 instead of 23.72 in units ``1e4``
    with shift 3. On the grid (near ``sqrt(eps)``, far below any statistical
    effect) both round to the same numbers unless a value lies within
    rounding of a grid midpoint, so the whole search, and the partition, are
    the same in any units. Scaling by a power of two is exact either way.
    Not in the paper.
    """
    eps = float(xp.finfo(X.dtype).eps)
    quantum = 2.0 ** math.floor(math.log2(math.sqrt(eps)))
    return xp.round(X / quantum) * quantum


@validate_params(
    {
        "X": ["array-like"],
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "method": [StrOptions({"ila-sdp", "kmeans-sdp"})],
        "solver": [StrOptions({"bm", "admm"})],
        "covariance_type": [StrOptions({"full", "tied", "diag", "spherical", "auto"})],
        "cluster_weights": [StrOptions({"estimated", "equal"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "init": [StrOptions({"k-means++", "kmeans-sdp"}), "array-like"],
        "rank": [Interval(Integral, 1, None, closed="left"), None],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def la_sdp(X, n_clusters, *, method="ila-sdp", solver="bm", covariance_type="auto",
           cluster_weights="estimated", max_iter=20, init="k-means++", rank=None, tol=1e-4,
           random_state=None, verbose=0):
    """Cluster ``X`` by the iterated likelihood-adjusted SDP, or by the K-means SDP.

    ``method="kmeans-sdp"``: one Peng-Wei SDP (Euclidean, shared spherical
    covariance), rounded. ``method="ila-sdp"``: from initial labels, iterate
    covariance estimation (shrunk towards a multiple of the identity by
    ``p / (n_k + p)``), the LA-SDP with those covariances, and rounding,
    until the partition stops changing, ``max_iter`` rounds, or a round
    that fails to lower the partition cost (the iteration is not monotone:
    the best partition met is kept).

    The iteration runs from each starting partition (see ``init``); of
    every partition it evaluates, the starts included, the one of lowest
    partition cost (weighted with ``cluster_weights="estimated"``) is
    returned, so the search never ends in a worse partition than one it
    saw. ``X`` is centred and divided by its root mean variance first: the
    labels and the rounds do not depend on the units or the origin.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        The points.
    n_clusters : int
        Number of clusters ``K`` (at most ``n_samples``).
    method : {"ila-sdp", "kmeans-sdp"}, default="ila-sdp"
        The iteration, or the K-means SDP alone.
    solver : {"bm", "admm"}, default="bm"
        :func:`solve_bm` or :func:`solve_admm`.
    covariance_type : {"full", "tied", "diag", "spherical", "auto"}, default="auto"
        Form of the cluster covariances (``"tied"``: one shared by all
        clusters); ``"auto"``: the starts of each of the four are refined by
        classification EM and the iteration runs
        for the model whose best refined start has the lowest
        classification BIC (``2 cost + n_parameters log n``). The
        iteration runs from the refined start of lowest partition cost
        (for any ``covariance_type``; see :class:`SDPClusterer`).
    cluster_weights : {"estimated", "equal"}, default="estimated"
        ``"equal"``: the paper's LA-SDP, whose likelihood has no cluster
        weights. ``"estimated"``: after the equal-weight iteration, a
        weighted one from its partition, in which each round adds
        ``-log(n_k / n)``, from the previous round's partition, to block
        ``k``'s cost, and partitions are
        compared by the weighted partition cost (the classification
        likelihood of a mixture with weights).
    max_iter : int, default=20
        Maximum rounds of each iteration.
    init : {"k-means++", "kmeans-sdp"} or int array-like of shape (n_samples,)
        Starting partition: the K-means partition of lowest partition cost
        among 30 k-means++ runs (with ``covariance_type="auto"`` together
        with the partition of one scikit-learn GaussianMixture EM fit of
        each covariance form), or the
        rounded K-means SDP, each together
        with a greedy start (clusters grown one at a time from the points
        the others fit worst, by classification EM; it finds a small tight
        cluster next to a large one, which every K-means partition splits);
        or given labels in ``[0, n_clusters)`` (that start only).
    rank : int or None, default=None
        Burer-Monteiro rank per block (None: 2 per LA-SDP block, ``2 K`` for
        the K-means SDP, as in the NLR paper).
    tol : float, default=1e-4
        The SDP solver's tolerance.
    random_state : int, RandomState instance or None, default=None
        Seeds K-means, the greedy start's drawn seeds, the solver's start and
        the rounding.
    verbose : int, default=0
        1 prints each round; 2 also the solver's progress.

    Returns
    -------
    result : LaSDPResult
        A named tuple ``(labels, n_iter, objective)``:

    labels : int array of shape (n_samples,)
        The clusters, numbered in the order of their first points.
    n_iter : int
        Rounds run, all iterations from all starts together (1 for the
        K-means SDP, 0 for ``n_clusters=1``).
    objective : float
        The optimal value of the SDP that produced the kept partition (a
        lower bound on the partition cost with the covariances it was
        built from); when the kept partition is a start, the value of the
        first SDP built from it. For ``n_clusters=1`` the only feasible
        point's value.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.cluster import la_sdp
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(0, 0.3, (30, 2)), rng.normal(0, 1, (30, 2)) * [4, 0.5] + [0, 3]])
    >>> labels, n_iter, objective = la_sdp(X, 2, random_state=0)
    >>> sorted(np.bincount(labels).tolist())
    [30, 30]
    """
    xp, _ = namespace_and_device(X)
    X, init = _check_la_sdp_input(X, n_clusters, init, xp)
    search = _la_sdp(X, n_clusters, method=method, solver=solver, covariance_type=covariance_type,
                     cluster_weights=cluster_weights, max_iter=max_iter, init=init, rank=rank,
                     tol=tol, rng=check_random_state(random_state), verbose=verbose)
    return LaSDPResult(search.labels, search.n_iter, search.objective)


def _la_sdp(X, n_clusters, **options):
    """:func:`la_sdp` on checked input (float64 ``X``, ``init`` a string or labels): a :class:`_Search`.

    ``options``: the keywords of :func:`_search_starts` and :func:`_iterate` (each takes
    all of them and uses its own). The starts, then the iteration.
    """
    X, unit = _normalised(X)
    found = _search_starts(X, unit, n_clusters, **options)
    if isinstance(found, _Search):
        return found
    return _iterate(X, unit, found, n_clusters, **options)


def _normalised(X):
    """``X`` centred, divided by its root mean square ``unit``, snapped (:func:`_snap`); ``unit``.

    Units and origin out: every threshold of the search (K-means' tolerance, the
    covariance floor, the solvers' scaling, the cost comparisons) then sees the same
    numbers. The partition costs in the caller's units are the costs here plus
    ``n p log(unit)``.
    """
    xp, _ = namespace_and_device(X)
    X = X - xp.mean(X, axis=0)
    unit = math.sqrt(float(xp.mean(X * X)))
    unit = unit if unit > 0 else 1.0
    return _snap(X / unit, xp), unit


@dataclass(frozen=True)
class _Plan:
    """What :func:`_search_starts` leaves to :func:`_iterate`: the selected covariance model,
    its screened starts (``[(cost, name, labels)]``, cheapest first) and every model's
    classification BIC at the screening."""

    chosen: str
    ranked: list
    scores: dict

    def iterates_as(self, other):
        """Whether the iteration would run from the same starts under the same model."""
        mine, theirs = self.ranked[:_SDP_STARTS], other.ranked[:_SDP_STARTS]
        return (self.chosen == other.chosen and len(mine) == len(theirs)
                and all(_same_partition(a[2], b[2]) for a, b in zip(mine, theirs)))


def _search_starts(X, unit, n_clusters, *, method, solver, covariance_type, cluster_weights,
                   max_iter, init, rank, tol, rng, verbose):
    """The starts of :func:`_la_sdp`, screened, on ``X`` normalised (:func:`_normalised`).

    A :class:`_Search` when nothing is left to iterate (the K-means SDP, one cluster),
    else the :class:`_Plan` for :func:`_iterate`.
    """
    xp, dev = namespace_and_device(X)
    n, p = X.shape
    shift = n * p * math.log(unit)  # partition costs in the caller's units: the costs here + shift
    weighted = method == "ila-sdp" and cluster_weights == "estimated"
    models = COVARIANCE_MODELS if covariance_type == "auto" else (covariance_type,)
    if method == "kmeans-sdp":
        chosen = "spherical" if covariance_type == "auto" else covariance_type
        labels, objective = _kmeans_sdp(X, n_clusters, solver, init, rank, tol, rng, verbose, xp)
        return _Search(labels, int(n_clusters > 1), objective * unit**2, math.nan, chosen, {},
                       None, {})
    if n_clusters == 1:  # the SDP's only feasible point is the one cluster's
        labels = xp.zeros(n, dtype=xp.int64, device=dev)
        fits = {}
        for model in models:
            cost = _fitted_cost(X, labels, 1, model, xp)[1] + shift
            fits[model] = (classification_bic(cost, n, 1, p, model, weighted), cost)
        chosen = min(models, key=lambda model: fits[model][0])
        return _Search(labels, 0, fits[chosen][1], fits[chosen][1], chosen, {}, None,
                       {model: fit[0] for model, fit in fits.items()})
    if isinstance(init, str) and init == "kmeans-sdp":
        primary = [("kmeans-sdp", _kmeans_sdp_start(X, n_clusters, solver, rank, tol, rng,
                                                    verbose, xp))]
    elif isinstance(init, str):
        runs = _kmeans_runs(X, n_clusters, rng, xp)
    else:
        primary = [("init", init)]
    all_starts = {}
    for model in models:
        if isinstance(init, str) and init == "k-means++":
            primary = [("k-means++", _kmeans_start(X, runs, n_clusters, model, xp))]
            if covariance_type == "auto":
                # Not by default: on make_heterogeneous_mixture(300, 2, 3, separation=3.5,
                # random_state=0) its lower-cost partition errs 0.017 against 0.013.
                primary.append(("gaussian-mixture", _mixture_start(X, n_clusters, model, rng,
                                                                   xp)))
        starts = list(primary)
        if isinstance(init, str):
            starts.append(("greedy", _greedy_start(X, n_clusters, model, weighted, rng, xp)))
        all_starts[model] = starts
    screened = {model: _screen_starts(X, all_starts[model], n_clusters, model, weighted, xp)
                for model in models}
    if len(models) > 1:
        # Each model's best refined start is a start for the other models too: a model
        # can fit best at a partition that only another model's starts led to (the
        # full model's greedy start, refined under the diagonal one; see _cross_starts).
        screened = _cross_starts(X, screened, n_clusters, weighted, xp)
    # Each model's best screened partition: its classification BIC picks the model the
    # SDP iteration runs for (the others keep their screened scores).
    scores = {model: classification_bic(screened[model][0][0] + shift, n, n_clusters, p, model,
                                        weighted) for model in models}
    chosen = min(models, key=lambda model: scores[model])
    if verbose:
        for model in models:
            print(f"[sdp] {model}: starts after classification EM: "
                  + ", ".join(f"{name} {cost + shift:.6g}" for cost, name, _ in screened[model]))
    return _Plan(chosen, screened[chosen], scores)


def _iterate(X, unit, plan, n_clusters, *, method, solver, covariance_type, cluster_weights,
             max_iter, init, rank, tol, rng, verbose):
    """:func:`_la_sdp`'s iteration from the :class:`_Plan`'s cheapest starts: a :class:`_Search`."""
    xp, _ = namespace_and_device(X)
    n, p = X.shape
    shift = n * p * math.log(unit)
    weighted = method == "ila-sdp" and cluster_weights == "estimated"
    options = dict(solver=solver, rank=rank or 2, tol=tol, max_iter=max_iter, rng=rng,
                   verbose=verbose)
    chosen, ranked, scores = plan.chosen, plan.ranked, dict(plan.scores)
    models = tuple(scores)
    fit = _best_of_starts(X, [(name, labels) for _, name, labels in ranked[:_SDP_STARTS]],
                          n_clusters, weighted, dict(options, covariance_type=chosen))
    n_iter = fit.n_iter
    start_costs = {}
    for cost, name, _ in ranked[_SDP_STARTS:]:  # cheapest first: a name's best partition
        start_costs.setdefault(name, cost)  # (a start can reach a model twice, see _cross_starts)
    start_costs.update(fit.start_costs)
    scores[chosen] = classification_bic(fit.run.kept.cost + shift, n, n_clusters, p, chosen,
                                        weighted)
    best = fit
    if verbose and len(models) > 1:
        print("[sdp] covariance models by classification BIC: "
              + ", ".join(f"{model} {score:.6g}" for model, score in scores.items())
              + f"; kept {chosen}")
    if not best.run.converged:
        warnings.warn(f"The partition still changed after max_iter={max_iter} rounds of "
                      f"iLA-SDP; increase max_iter.", ConvergenceWarning, stacklevel=4)
    return _Search(_in_order_of_appearance(best.run.kept.labels, xp), n_iter,
                   best.run.kept.objective + shift, best.run.kept.cost + shift, chosen,
                   {name: cost + shift for name, cost in start_costs.items()},
                   best.selected_start, scores)


def _screen_starts(X, starts, n_clusters, covariance_type, weighted, xp):
    """Each start (``(name, labels)``, None skipped) refined by classification EM, cheapest first.

    Returns ``[(cost, name, labels)]`` sorted by partition cost. A refinement
    that empties a cluster is dropped for the start itself.
    """
    ranked = []
    for name, start in starts:
        if start is None:
            continue
        refined = _classification_em(X, start, n_clusters, covariance_type, weighted, xp)
        if int(xp.unique_values(refined).shape[0]) < int(xp.unique_values(start).shape[0]):
            refined = start
        _, cost, weights_term = _fitted_cost(X, refined, n_clusters, covariance_type, xp)
        ranked.append((cost + weights_term if weighted else cost, name, refined))
    ranked.sort(key=lambda item: item[0])
    return ranked


def _cross_starts(X, screened, n_clusters, weighted, xp):
    """Every model's screened starts plus the other models' best partitions, refined under it.

    ``screened`` maps each covariance model to :func:`_screen_starts`'s ranked list; the
    best partition of each model that a model has not met yet is refined by its
    classification EM and ranked with its own (named after the start that led to it).
    Measured on a foreign axis-stretched mixture (``bench_sdp_real_data.py``'s
    ``stretched`` for seed 102, ``random_state=3``): only the full model's greedy start
    reached the true clusters, the diagonal model's greedy start did not, and the
    diagonal model fitted best: 0.40 error without, 0.011 with.
    """
    out = {}
    for model, ranked in screened.items():
        mine = [labels for _, _, labels in ranked]
        others = [(name, labels) for other, other_ranked in screened.items() if other != model
                  for _, name, labels in other_ranked[:1]
                  if not any(_same_partition(labels, seen) for seen in mine)]
        out[model] = sorted(ranked + _screen_starts(X, others, n_clusters, model, weighted, xp),
                            key=lambda item: item[0])
    return out


@dataclass(frozen=True)
class _StartsFit:
    """What :func:`_best_of_starts` returns: the kept run, its start's name, each start's cost."""

    run: _StartRun
    selected_start: str
    start_costs: dict
    n_iter: int


def _best_of_starts(X, starts, n_clusters, weighted, options):
    """The iterations from each distinct start (``(name, labels)``, None skipped); the lowest cost wins.

    A start that is the same partition as an earlier one is not run again.
    """
    best, name_kept, start_costs, n_iter, seen = None, None, {}, 0, []
    for name, start in starts:
        if start is None or any(_same_partition(start, other) for other in seen):
            continue
        seen.append(start)
        run = _from_start(X, start, n_clusters, weighted, options)
        n_iter += run.n_iter
        start_costs[name] = run.kept.cost
        # The same partition under other names (costs differing by rounding) keeps the
        # first start's names: float32 and float64 data then give the same labels.
        if best is None or (run.kept.cost < best.kept.cost - 1e-9 * abs(best.kept.cost)
                            and not _same_partition(run.kept.labels, best.kept.labels)):
            best, name_kept = run, name
    return _StartsFit(best, name_kept, start_costs, n_iter)


def _kmeans_sdp_solution(X, n_clusters, solver, warm, rank, tol, rng, verbose, xp):
    """The K-means SDP (warm-started from the ``warm`` labels with ``"bm"`` when given), rounded."""
    zeros = xp.zeros(X.shape[0], dtype=X.dtype, device=array_device(X))
    if solver == "admm":
        result = solve_admm([X], [zeros], [n_clusters], tol=tol, verbose=verbose)
    else:
        factors = None
        if warm is not None:
            factors = [xp.concat(_indicator_factors(warm, n_clusters, 2, rng, xp), axis=1)]
        result = solve_bm([X], [zeros], [n_clusters], rank=rank or 2 * n_clusters,
                          factors=factors, tol=tol, random_state=rng, verbose=verbose)
    labels = _round(result.embedding, n_clusters, rng, xp)
    if verbose:
        print(f"[sdp] K-means SDP: objective {result.objective:.6g}, {result.n_iter} "
              f"solver iterations")
    return labels, result.objective


def _kmeans_sdp_start(X, n_clusters, solver, rank, tol, rng, verbose, xp):
    """The rounded K-means SDP as a starting partition of iLA-SDP."""
    return _kmeans_sdp_solution(X, n_clusters, solver, None, rank, tol, rng, verbose, xp)[0]


def _kmeans_sdp(X, n_clusters, solver, init, rank, tol, rng, verbose, xp):
    """``method="kmeans-sdp"``: labels (in order of appearance) and the SDP's value."""
    if n_clusters == 1:
        return xp.zeros(X.shape[0], dtype=xp.int64, device=array_device(X)), 0.0
    warm = None
    if solver != "admm" and isinstance(init, str) and init == "k-means++":
        # Warm start from K-means (the SDP is convex: the start only sets the speed).
        warm = _kmeans_labels(X, n_clusters, 10, rng, xp)
    labels, objective = _kmeans_sdp_solution(X, n_clusters, solver, warm, rank, tol, rng,
                                             verbose, xp)
    # The K-means partition it started from, when its within-cluster sum of squares
    # (the K-means SDP's partition cost) is lower than the rounded solution's.
    if warm is not None and _inertia(X, warm, n_clusters, xp) < _inertia(
            X, labels, n_clusters, xp) * (1.0 - 1e-12):
        labels = warm
    return _in_order_of_appearance(labels, xp), objective


def _in_order_of_appearance(labels, xp):
    """The clusters renamed 0, 1, ... in the order of their first points (empty ones last).

    The partition's names then do not depend on which start or rounding found it (float32
    and float64 data give the same labels).
    """
    from ..utils._array_api import to_numpy

    host = np.asarray(to_numpy(labels))
    _, first = np.unique(host, return_index=True)
    order = np.unique(host)[np.argsort(first)]
    names = np.empty(int(host.max()) + 1, dtype=np.int64)
    names[order] = np.arange(order.size)
    return xp.asarray(names[host], dtype=xp.int64, device=array_device(labels))


# The spread of X (root mean square about its mean) the Gaussians can represent: their
# covariances (and the floor of 1e-6 times the data's variance) are squares of it and must stay
# normal float64 numbers. Measured: a 3-cluster mixture gave its labels up to 1e+-152 times its
# units, other labels without a warning at 1e-153 and one cluster beyond.
_SPREAD_RANGE = (1e-140, 1e140)


def _check_spread(X, xp):
    """Raise when the spread of the float64 ``X`` squares outside float64's normal range."""
    if X.shape[0] == 0:
        return
    centred = X - xp.mean(X, axis=0)
    peak = float(xp.max(xp.abs(centred)))
    if peak == 0.0 or not math.isfinite(peak):
        return  # identical rows (one group), or non-finite values (refused elsewhere)
    spread = peak * math.sqrt(float(xp.mean((centred / peak) ** 2)))
    low, high = _SPREAD_RANGE
    if not low <= spread <= high:
        raise ValueError(
            f"X's spread (root mean square about its mean) is {spread:.3g}, outside "
            f"[{low:g}, {high:g}]: the clusters' covariances, its squares, would fall outside "
            f"float64's range. Rescale X (for example with StandardScaler).")


def _check_la_sdp_input(X, n_clusters, init, xp):
    """``X`` as a finite float64 matrix of at least ``n_clusters`` rows; ``init`` as labels."""
    from ..utils._array_api import to_numpy

    X = check_array_arg(X, "X", ndim=2, dtype=[xp.float64, xp.float32])
    X = xp.astype(X, xp.float64)
    _check_spread(X, xp)
    n = X.shape[0]
    if n_clusters > n:
        raise ValueError(f"n_clusters={n_clusters} must be <= n_samples={n}.")
    if isinstance(init, str):
        return X, init
    labels = check_array_arg(init if hasattr(init, "shape") else np.asarray(init), "init",
                             ndim=1, dtype=None)
    labels = np.asarray(to_numpy(labels))
    if labels.shape[0] != n:
        raise ValueError(f"init must hold one label per sample ({n}), got {labels.shape[0]}.")
    if labels.dtype.kind not in "iu" or labels.min() < 0 or labels.max() >= n_clusters:
        raise ValueError(f"init must hold integer labels in [0, n_clusters={n_clusters}), got "
                         f"dtype {labels.dtype} in [{labels.min()}, {labels.max()}].")
    return X, xp.asarray(labels, dtype=xp.int64, device=array_device(X))


def _inertia(X, labels, n_clusters, xp):
    """Within-cluster sum of squares."""
    total = 0.0
    for k in range(n_clusters):
        members = X[labels == k]
        if members.shape[0]:
            total += float(xp.sum((members - xp.mean(members, axis=0)) ** 2))
    return total


def _same_partition(a, b):
    """Whether two labelings are the same partition up to the clusters' names."""
    from ..utils._array_api import to_numpy

    a, b = np.asarray(to_numpy(a), dtype=np.int64), np.asarray(to_numpy(b), dtype=np.int64)
    if a.size == 0:
        return b.size == 0
    # Distinct (a, b) label pairs as one code each: counted by bincount, not a sort of
    # pairs (np.unique along an axis cost a millisecond a call; the search makes dozens).
    width = int(b.max()) + 1
    pairs = np.count_nonzero(np.bincount(a * width + b))
    return pairs == np.count_nonzero(np.bincount(a)) == np.count_nonzero(np.bincount(b))


def _from_start(X, start, n_clusters, weighted, options):
    """The iterations from one start; the partition of lowest cost among all they evaluate.

    With estimated weights, the equal-weight iteration (the paper's) runs first, then the
    weighted one from its partition; the start is a candidate too. Before 0.1.0 a second
    weighted iteration ran from the start when the equal-weight one had moved more than a
    tenth of the points (against a K-means start that the equal-weight iteration split:
    0.38 instead of 0.017 error on 270 + 30 points). The starts are now refined by
    classification EM under the weighted likelihood and screened (see ``_la_sdp``), and a
    weighted iteration from the screened start never left it: on the 36 data sets of
    benchmarks/sdp_errors.py, 0 of 108 fits (``random_state`` 0-2); without it (and with
    one stalled round ending an iteration) the same partitions at six seeds, 8 % fewer
    solver steps, 13 % on breast_cancer.

    Returns a :class:`_StartRun`: the kept candidate (its cost weighted when
    ``weighted``), the rounds run, and whether the iteration that found it settled.
    """
    xp, _ = namespace_and_device(X)
    equal = _ila_rounds(X, start, n_clusters, weighted=False, select_weighted=weighted,
                        **options)
    best, n_iter = equal, equal.n_iter
    if weighted:
        candidate = equal.best.labels
        # The weighted SDP's linear terms are the equal-weight ones minus log(n_k / n) per
        # block: the same h + y on each point's own block. The equal-weight iteration's last
        # SDP was built from the candidate's covariances: its solution (multiplier and
        # factors) starts the weighted SDP. From the candidate's indicator factors instead,
        # the first weighted solve took as many steps as a cold one (breast_cancer: 620
        # steps against 190 warm; the same partitions on the 36 data sets of
        # benchmarks/sdp_errors.py at six seeds but for three digits fits).
        multiplier = equal.multiplier
        if multiplier is not None:
            blocks = xp.arange(n_clusters, device=array_device(X))
            sizes = xp.sum(xp.astype(candidate[:, None] == blocks[None, :], xp.float64),
                           axis=0)
            log_share = xp.log(xp.maximum(sizes, 1.0) / X.shape[0])
            multiplier = multiplier + xp.take(log_share, candidate)
        run = _ila_rounds(X, candidate, n_clusters, weighted=True, select_weighted=True,
                          multiplier=multiplier, factors=equal.factors, **options)
        n_iter += run.n_iter
        if run.kept.cost < best.kept.cost - 1e-12 * abs(best.kept.cost):
            best = run
    return _StartRun(kept=best.kept, n_iter=n_iter, converged=best.converged)


def _ila_rounds(X, labels, n_clusters, *, weighted, select_weighted, solver, covariance_type,
                rank, tol, max_iter, rng, verbose, multiplier=None, factors=None):
    """Rounds of iLA-SDP from ``labels`` (the first SDP from ``multiplier``, ``factors`` if given).

    Returns :class:`_Rounds`: ``best``, the partition of lowest cost under the
    iteration's own likelihood (``weighted``) met, the start included, with its
    cost and the value of the SDP that produced it (of the first SDP when that
    is the start); ``kept``, the same under the likelihood that selects the
    final partition (``select_weighted``); the rounds run and whether the
    partition settled.
    """
    xp, _ = namespace_and_device(X)
    n = X.shape[0]
    if factors is None:
        factors = _indicator_factors(labels, n_clusters, rank, rng, xp)

    def costs(labels):
        covs, cost, weights_term = _fitted_cost(X, labels, n_clusters, covariance_type, xp)
        return (covs, cost + weights_term if weighted else cost,
                cost + weights_term if select_weighted else cost)

    covs, best_cost, kept_cost = costs(labels)
    best = [labels, best_cost, math.nan]
    kept = [labels, kept_cost, math.nan]
    it, stalled, converged = 0, 0, False
    for it in range(1, max_iter + 1):
        Ws, hs = _la_blocks(X, covs, xp)
        if weighted:
            # Empty clusters count as one point, so that their cost stays finite.
            sizes = [max(int(xp.sum(xp.astype(labels == k, xp.int64))), 1)
                     for k in range(n_clusters)]
            hs = [h - math.log(sizes[k] / n) for k, h in enumerate(hs)]
        if solver == "admm":
            result = solve_admm(Ws, hs, [1.0] * n_clusters, tol=tol, verbose=verbose)
        else:
            result = solve_bm(Ws, hs, [1.0] * n_clusters, rank=rank, factors=factors,
                              multiplier=multiplier, tol=tol, random_state=rng,
                              settle=_SETTLE if multiplier is None else _SETTLE_WARM,
                              verbose=verbose)
        objective = result.objective
        if it == 1:  # the start's SDP
            best[2] = kept[2] = objective
        new = _match_blocks(_round(result.embedding, n_clusters, rng, xp), result, xp)
        changed = int(xp.sum(xp.astype(new != labels, xp.int64)))
        labels = new
        covs, cost, select = costs(labels)
        if cost < best[1] - 1e-12 * abs(best[1]):
            best, stalled = [labels, cost, objective], 0
        else:
            stalled += 1
        if select < kept[1] - 1e-12 * abs(kept[1]):
            kept = [labels, select, objective]
        if solver != "admm":
            # The next SDP differs only by the re-estimated covariances: start from this
            # solution, its factors and its multiplier: far fewer steps, the same partition
            # (timings: benchmarks/results/2026-12-05_moved_from_docstrings_cluster_completion.md
            # and 2026-12-06_sdp_warm_multiplier.md).
            factors, multiplier = list(result.factors), result.multiplier
        if verbose:
            print(f"[sdp] {'weighted ' if weighted else ''}round {it}: LA-SDP objective "
                  f"{objective:.6g} ({result.n_iter} solver iterations), partition cost "
                  f"{cost:.6g}, {changed} labels changed")
        if changed == 0 or stalled >= _STALL_ROUNDS:
            converged = True
            break
    return _Rounds(best=_Candidate(*best), kept=_Candidate(*kept), n_iter=it,
                   converged=converged, multiplier=multiplier,
                   factors=None if solver == "admm" else factors)
