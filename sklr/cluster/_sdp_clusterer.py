"""SDPClusterer: clustering of heterogeneous Gaussian mixtures by the iterated likelihood-adjusted SDP."""

import math
import time
import warnings
from dataclasses import dataclass
from numbers import Integral, Real

from joblib import Parallel, delayed
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    ClusterMixin,
    TransformerMixin,
)
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..linalg._gaussian import gaussian_neg_log_density
from ..utils._array_api import check_same_namespace, namespace_and_device
from ..utils._array_api import device as array_device
from ..utils._validation import (
    Interval,
    StrOptions,
    _fit_context,
    check_array_arg,
    validate_data,
    validate_params,
)
from ._gaussian import _covariances, _pooled_spherical, partition_cost
from ._lift import draw_subsample, lift, standardised, subsample_size
from ._model_selection import classification_bic
from ._sdp import _check_spread, _iterate, _normalised, _Plan, _search_starts

__all__ = ["SDPClusterer", "misclustering_error"]


@validate_params({"labels_true": ["array-like"], "labels_pred": ["array-like"]},
                 prefer_skip_nested_validation=True)
def misclustering_error(labels_true, labels_pred):
    """Fraction of points mis-clustered under the best one-to-one matching of the clusters.

    The matching (Hungarian algorithm on the contingency table) maximizes
    the number of points whose predicted cluster is matched to their true
    one; the error is the fraction of the others. It is the loss of the
    iLA-SDP paper; unlike the adjusted Rand index it reads as a rate.

    Parameters
    ----------
    labels_true : array-like of shape (n_samples,)
        Ground-truth labels (non-negative integers).
    labels_pred : array-like of shape (n_samples,)
        Predicted labels (non-negative integers; the numbers of clusters
        may differ).

    Returns
    -------
    error : float
        In ``[0, 1)``; 0 when the partitions agree up to relabelling.

    Examples
    --------
    >>> from sklr.cluster import misclustering_error
    >>> misclustering_error([0, 0, 1, 1, 2], [1, 1, 0, 0, 0])
    0.2
    """
    import numpy as np
    from scipy.optimize import linear_sum_assignment

    from ..utils._array_api import to_numpy

    def labels(value, name):
        value = check_array_arg(value if hasattr(value, "shape") else np.asarray(value), name,
                                ndim=1, dtype=None)
        value = np.asarray(to_numpy(value))
        if value.dtype.kind not in "iu" or value.min() < 0:
            raise ValueError(f"{name} must hold non-negative integers, got dtype {value.dtype}"
                             + (f" with minimum {value.min()}." if value.dtype.kind in "iu"
                                else "."))
        return value

    truth, found = labels(labels_true, "labels_true"), labels(labels_pred, "labels_pred")
    if truth.shape != found.shape:
        raise ValueError(f"labels_true and labels_pred must have the same length, got "
                         f"{truth.shape[0]} and {found.shape[0]}.")
    counts = np.zeros((int(truth.max()) + 1, int(found.max()) + 1))
    np.add.at(counts, (truth, found), 1)
    rows, cols = linear_sum_assignment(-counts)
    return float(1.0 - counts[rows, cols].sum() / truth.size)


def _to_type(covs, covariance_type, xp):
    """Full ``(K, p, p)`` covariances in GaussianMixture's layout for ``covariance_type``."""
    if covariance_type == "full":
        return covs
    if covariance_type == "tied":
        return covs[0, ...]
    diagonals = xp.linalg.diagonal(covs)
    if covariance_type == "diag":
        return diagonals
    return xp.mean(diagonals, axis=1)


def _to_full(covariances, covariance_type, n_features, xp, n_clusters):
    if covariance_type == "full":
        return covariances
    if covariance_type == "tied":
        return xp.stack([covariances] * n_clusters)
    eye = xp.eye(n_features, dtype=covariances.dtype, device=array_device(covariances))
    if covariance_type == "diag":
        return eye[None, :, :] * covariances[:, None, :]
    return eye[None, :, :] * covariances[:, None, None]


@dataclass
class _Run:
    """A finished run (:func:`_run_finish`): partition, rounds, SDP value, cost, Gaussians, choices.

    ``score`` is the classification BIC of the partition under the selected
    covariance model (runs are compared by it; for one model it orders them
    as the cost does).
    """

    labels: object
    n_iter: int
    objective: float
    cost: float
    means: object
    covariances: object
    covariance_type: str
    score: float
    start_costs: dict
    selected_start: object
    covariance_scores: dict
    subsample_indices: object = None


@dataclass(frozen=True)
class _RunStart:
    """What :func:`_run_start` returns: the run's seed, random state, subsample and its
    screened starts (a ``_Plan``), or its finished search (a ``_Search``)."""

    seed: int
    rng: object
    indices: object
    found: object
    seconds: float

    def iterates_as(self, other):
        """Whether this run's iteration would repeat ``other``'s (same points, same starts)."""
        return (self.indices is None and other.indices is None
                and isinstance(self.found, _Plan) and isinstance(other.found, _Plan)
                and self.found.iterates_as(other.found))


def _search_options(params, rng):
    """The keywords of ``_search_starts`` and ``_iterate`` from the estimator's parameters."""
    return dict(method=params["method"], solver=params["solver"],
                covariance_type=params["covariance_type"],
                cluster_weights=params["cluster_weights"], max_iter=params["max_iter"],
                init=params["init"], rank=params["rank"], tol=params["tol"], rng=rng,
                verbose=params["verbose"])


def _run_start(X, n_clusters, params, seed):
    """A run's first part: its subsample and its screened starts (:class:`_RunStart`)."""
    xp, dev = namespace_and_device(X)
    start = time.perf_counter()
    rng = check_random_state(seed)
    size = subsample_size(params.get("subsample"), X.shape[0]) if n_clusters > 1 else None
    # Sketch and lift: the search on a subsample of the standardised data, so that the
    # lift's classification steps, like the search, give the same labels in any units.
    indices = None if size is None else draw_subsample(X.shape[0], size, rng, xp, dev)
    searched, unit = _normalised(
        X if indices is None else xp.take(standardised(X, xp), indices, axis=0))
    found = _search_starts(searched, unit, n_clusters, **_search_options(params, rng))
    return _RunStart(seed, rng, indices, found, time.perf_counter() - start)


def _run_finish(X, n_clusters, params, begun):
    """A run's second part: the iteration from its :class:`_RunStart`, the lift, the Gaussians."""
    xp, _ = namespace_and_device(X)
    start = time.perf_counter() - begun.seconds
    seed, indices, search = begun.seed, begun.indices, begun.found
    # The normalised points again (one pass over X, as in _run_start; carrying them would
    # send an X-sized array back from every worker).
    everything = None if indices is None else standardised(X, xp)
    if isinstance(search, _Plan):
        searched, unit = _normalised(
            X if indices is None else xp.take(everything, indices, axis=0))
        search = _iterate(searched, unit, search, n_clusters,
                          **_search_options(params, begun.rng))
    labels, model = search.labels, search.covariance_type
    covariance_scores = search.covariance_scores
    weighted = _weighted(params)

    def fitted(labels, model):
        """The partition's Gaussians on all of ``X``, its cost and classification BIC."""
        means, covs = _fitted_gaussians(X, labels, n_clusters, params["method"], model, xp)
        cost = partition_cost(X, labels, covs, xp, weighted=weighted)
        return (classification_bic(cost, X.shape[0], n_clusters, X.shape[1], model, weighted),
                cost, means, covs, labels)

    if indices is None:
        score, cost, means, covs, _ = fitted(labels, model)
    else:
        # The lift decides the covariance model again, on all points: a subsample of a few
        # hundred points penalises the full model's parameters more than all points do
        # (make_heterogeneous_mixture(2400, 3, 3, separation=3.0, random_state=0), 250
        # points: spherical chosen, 0.062 error against GaussianMixture's 0.052; by all
        # points' BIC full, 0.055).
        candidates = tuple(covariance_scores) if len(covariance_scores) > 1 else (model,)
        lifted = {candidate: fitted(lift(everything, indices, labels, n_clusters,
                                         method=params["method"], covariance_type=candidate,
                                         weighted=weighted), candidate)
                  for candidate in candidates}
        model = min(candidates, key=lambda candidate: lifted[candidate][0])
        score, cost, means, covs, labels = lifted[model]
        if covariance_scores:  # on all points, like the partition (empty for the K-means SDP)
            covariance_scores = {candidate: lifted[candidate][0] for candidate in candidates}
        if params["verbose"]:
            print(f"[SDPClusterer] searched {indices.shape[0]} of {X.shape[0]} points, lifted "
                  f"to all ({time.perf_counter() - start:.2f} s)")
    if params["verbose"]:
        print(f"[SDPClusterer] run with seed {seed}: {search.n_iter} rounds, {model} "
              f"covariances, partition cost {cost:.6g} ({time.perf_counter() - start:.2f} s)")
    objective = math.nan if n_clusters == 1 else search.objective
    return _Run(labels, search.n_iter, objective, cost, means, covs, model, score,
                search.start_costs, search.selected_start, covariance_scores, indices)


def _weighted(params):
    return params["method"] == "ila-sdp" and params["cluster_weights"] == "estimated"


def _fitted_gaussians(X, labels, n_clusters, method, covariance_type, xp):
    if method == "kmeans-sdp":
        return _pooled_spherical(X, labels, n_clusters, xp)
    return _covariances(X, labels, n_clusters, covariance_type, xp)


def _warn_small_clusters(labels, n_clusters, n_features, method, xp):
    """Warn when a Gaussian cluster holds fewer than ``n_features + 1`` points.

    Too few points to estimate its covariance: what the fit gives it is mostly
    the shrinkage and the floor. The classification likelihood rewards such
    spurious clusters (with estimated weights, emptying one of two overlapping
    clusters lowers its weights term). On the 134 data sets of
    ``benchmarks/sdp_errors.py`` (``--data benchmark``, ``fresh``, ``shared``
    and ``others``, ``random_state=0``) 5 fits ended with one, and all 5 were
    wrong (mis-clustering error 0.16 to 0.47; no true cluster there had fewer
    than 10 points). Not raised when there are too few points for every
    cluster to have ``n_features + 1`` of them, nor for the K-means SDP.
    """
    from ..utils._array_api import to_numpy

    n = labels.shape[0]
    if method != "ila-sdp" or n < n_clusters * (n_features + 1):
        return
    clusters = xp.arange(n_clusters, device=array_device(labels))
    sizes = to_numpy(xp.sum(xp.astype(labels[:, None] == clusters[None, :], xp.int64),
                            axis=0)).tolist()
    small = [k for k in range(n_clusters) if sizes[k] < n_features + 1]
    if small:
        warnings.warn(
            f"Cluster(s) {small} hold fewer than n_features + 1 = {n_features + 1} points "
            f"({', '.join(str(sizes[k]) for k in small)}), the fewest from which a covariance "
            f"can be estimated. The classification likelihood can prefer such a partition where "
            f"clusters overlap or have heavy tails (estimated weights gain by emptying a "
            f"cluster); compare cluster_weights='equal', another n_clusters, or "
            f"sklearn.mixture.GaussianMixture.",
            ConvergenceWarning, stacklevel=4)


class SDPClusterer(ClassNamePrefixFeaturesOutMixin, ClusterMixin, TransformerMixin,
                   BaseEstimator):
    """Clustering of heterogeneous Gaussian mixtures by the iterated likelihood-adjusted SDP (iLA-SDP).

    Treats the labels as parameters of a Gaussian mixture with one mean and
    one covariance per cluster and maximizes the profile likelihood over
    partitions through its semidefinite relaxation (Zhuang, Chen and Yang,
    2023). Each round estimates the clusters' covariances from the current
    labels, solves the likelihood-adjusted SDP (LA-SDP) over one membership
    matrix ``Z_k`` per cluster,

        min  sum_k <C_k, Z_k>
        s.t. Z_k PSD, Z_k >= 0, tr(Z_k) = 1, sum_k Z_k 1 = 1,

    with ``C_k`` the Mahalanobis distances in cluster ``k``'s metric (plus
    its log-determinant), rounds the solution to labels, and stops when the
    labels no longer change. Unlike K-means (one shared spherical metric) it
    separates clusters of different shapes and sizes; unlike EM it is not
    started from centroids and is less prone to their bad local optima.
    ``method="kmeans-sdp"`` is the Peng-Wei K-means SDP, the paper's baseline.

    Read more in the :ref:`User Guide <sdp_clusterer>`.

    Parameters
    ----------
    n_clusters : int, default=8
        Number of clusters ``K``.
    method : {"ila-sdp", "kmeans-sdp"}, default="ila-sdp"
        The iterated likelihood-adjusted SDP, or the K-means SDP (a shared
        spherical covariance; one SDP, no iteration).
    solver : {"bm", "admm"}, default="bm"
        ``"bm"``: non-negative Burer-Monteiro factors ``Z_k = U_k U_k^T``
        (``U_k >= 0``, rank 2 per cluster, ``2 K`` for the K-means SDP)
        with an augmented Lagrangian and accelerated projected gradient
        (:func:`~sklr.cluster.solve_bm`); ``O(n p K)`` memory and work per
        step, never an ``n x n`` matrix. ``"admm"``: the convex SDP on the
        full ``n x n`` matrices (:func:`~sklr.cluster.solve_admm`),
        ``O(K n^3)`` per iteration, for small ``n`` and as a reference.
        ``"bm"`` gives the same labels far faster, and the gap widens with
        ``n`` (timings: ``benchmarks/README.md``).
    covariance_type : {"full", "tied", "diag", "spherical", "auto"}, default="auto"
        Form of the clusters' covariances, as in
        :class:`~sklearn.mixture.GaussianMixture` (``"tied"``: one covariance
        shared by all clusters); ignored by ``"kmeans-sdp"``, which shares
        one spherical covariance. Each is shrunk towards
        ``(tr S_k / p) I`` by the weight ``p / (n_k + p)`` (the tied one, of
        the pooled scatter, by ``p / (n + p)``), so clusters with
        fewer points than features stay well conditioned. ``"auto"`` screens
        the starts of each of the four models (see ``init``) and runs the
        iteration for the model whose best screened partition has the
        lowest classification BIC, ``2 cost + n_parameters log n`` (the
        partition cost is the negative classification log-likelihood); the
        choice is ``covariance_type_`` and the scores
        ``covariance_scores_``. The default (it was ``"full"`` before 0.1.0:
        on iris, wine and two of three axis-stretched mixtures the
        full-covariance likelihood prefers a wrong partition, see Notes).
    cluster_weights : {"estimated", "equal"}, default="estimated"
        ``"equal"``: the paper's LA-SDP, whose likelihood gives every
        cluster the same prior weight; ``labels_`` is the iteration's
        partition and :meth:`predict` the cluster of highest likelihood.
        ``"estimated"``: the likelihood of a mixture with weights ``n_k /
        n``. After the equal-weight iteration, a weighted iteration runs from
        its partition; the partition of lowest weighted cost met, the start
        included, is kept; in it each round adds
        ``-log(n_k / n)`` (from the previous partition) to cluster ``k``'s
        cost in the SDP. Then each point goes
        to the cluster of highest posterior probability under the fitted
        mixture (one classification step), so that ``labels_`` equals
        ``predict(X)``. Without weights a large cluster next to a small one
        is split in two (see Notes). Ignored by ``"kmeans-sdp"``.
    init : {"k-means++", "kmeans-sdp"}, default="k-means++"
        Starting partition of the iteration: K-means (the best of 30
        k-means++ runs by partition cost; sklr's own Lloyd iterations, all
        runs at once), with ``covariance_type="auto"`` together with the
        partition of one :class:`~sklearn.mixture.GaussianMixture` EM fit
        of each covariance form, or the rounded K-means SDP; in both cases the
        iteration also runs from a greedy start (clusters grown one at a
        time from the points the others fit worst, by classification EM),
        which finds a small tight cluster that every K-means partition
        splits. Each start is first refined by classification EM (every
        point to its cheapest cluster, until none moves) and the iteration
        runs from the refined start of lowest partition cost. Of all the
        partitions evaluated, the starts included, the one of lowest cost
        is kept (``start_costs_``, ``selected_start_``).
        For ``method="kmeans-sdp"`` the K-means
        labels warm-start the solver, and are kept when their within-cluster
        sum of squares is lower than the rounded SDP's.
    max_iter : int, default=20
        Maximum rounds (covariances, SDP, rounding) of each iteration: the
        equal-weight one and, with ``cluster_weights="estimated"``, the
        weighted one. Slow drifts (a large cluster next to a small one) can
        take more than 10.
    tol : float, default=1e-4
        Tolerance of the SDP solver (step length and constraint violation
        for ``"bm"``; relative residuals for ``"admm"``).
    n_init : int, default=1
        Number of runs from different seeds; the run of lowest classification
        BIC is kept: among runs of one covariance model, the partition of
        lowest negative profile log-likelihood (with the weights' term under
        ``cluster_weights="estimated"``). One run can end in a worse local
        optimum (standardised iris at ``random_state=5``: 0.32 error instead
        of 0.033). On the 36 data sets of ``benchmarks/sdp_errors.py`` at six
        seeds ``n_init=2`` brought both fits that one run left more than
        0.01 behind the better of GaussianMixture and KMeans by search (iris
        at seed 5, digits at seed 0) level with them, for up to twice the
        work (see the user guide's "Restarts"); ``n_jobs=2`` runs them in
        two processes. A run whose screened starts are those of an earlier
        run (the same partitions under the same covariance model, on the
        same points) is not iterated again: its iteration would differ
        only by the random rounding, which now and then ends at a slightly
        cheaper partition (1 of 216 benchmark fits, 5.5e-5 relative, the
        same error). Then only its starts cost time.
    subsample : int, "auto" or None, default="auto"
        Sketch and lift (Zhuang, Chen and Yang, 2022, for the K-means SDP):
        with more than ``subsample`` points, the whole search (starts,
        rounds, covariance models) runs on ``subsample`` points drawn
        uniformly without replacement, and its partition is lifted to all
        points: each point goes to the cluster of lowest cost under the
        subsample clusters' Gaussians, then classification EM on all
        points (move each point to its cheapest cluster, re-estimate,
        until none moves) refines it. The cost is then linear in
        ``n_samples`` beyond the subsample's fixed cost. ``"auto"`` means
        2000; ``None`` never subsamples. The lift and its refinement are
        not in the iLA-SDP paper (see Notes). ``subsample_indices_`` holds
        the points drawn.
    n_jobs : int, default=None
        Runs in parallel with joblib (``None`` means 1, ``-1`` all cores).
        Inside ``joblib.parallel_backend("dask")`` the runs are tasks of the
        Dask cluster of the current ``distributed.Client``; the labels are
        those of the sequential runs.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial K-means, the greedy start's drawn seeds, the
        solver's start and the rounding. The iteration runs on ``X`` centred
        and divided by its root mean variance: the labels do not depend on
        the units or the origin.
    verbose : int, default=0
        1 prints each run and round; 2 also the solver's progress.

    Attributes
    ----------
    subsample_indices_ : ndarray of shape (n_subsample,) or None
        The points the search ran on (sorted), or None when it ran on all
        of them (see ``subsample``).
    labels_ : ndarray of shape (n_samples,)
        Cluster of each training point (see ``cluster_weights``).
    weights_ : array of shape (n_clusters,)
        Prior weight of each cluster in :meth:`predict`: the fraction of the
        points in each cluster of the iteration's partition with
        ``cluster_weights="estimated"``, ``1 / n_clusters`` otherwise (equal
        among the clusters that hold points when some hold none: an empty
        cluster has weight 0 and takes no point).
    means_ : array of shape (n_clusters, n_features)
        Cluster means, of the iteration's partition (before the final
        classification step of ``cluster_weights="estimated"``).
    covariances_ : array
        Cluster covariances, in the layout of
        :class:`~sklearn.mixture.GaussianMixture`: ``(n_clusters,
        n_features, n_features)`` for ``"full"``, ``(n_features,
        n_features)`` for ``"tied"``, ``(n_clusters, n_features)`` for
        ``"diag"``, ``(n_clusters,)`` for ``"spherical"``.
    n_iter_ : int
        Rounds run in the kept run, all its iterations from all its starts
        together (up to ``3 * max_iter`` per start with
        ``cluster_weights="estimated"``; 1 for ``"kmeans-sdp"``).
    objective_ : float
        Optimal value of the SDP that produced the kept partition (a lower
        bound on its partition cost with the covariances the SDP was built
        from); when no round improved on an iteration's starting partition,
        the value of its first SDP. NaN for ``n_clusters=1``, where no SDP
        is solved.
    cost_ : float
        Negative profile log-likelihood of the iteration's partition with
        the fitted covariances (up to the ``n p log(2 pi) / 2`` constant).
    covariance_type_ : str
        The covariance model of the fitted Gaussians: ``covariance_type``,
        or the one selected by ``"auto"`` (``"spherical"`` for
        ``"kmeans-sdp"`` with ``"auto"``).
    covariance_scores_ : dict
        Classification BIC (``2 cost + n_parameters log n_samples``, lower
        is better) of each covariance model searched (the four under
        ``"auto"``, else the one given): for the selected model, of the kept
        partition; for the others, of their best start after classification
        EM (the iteration does not run for them). With ``subsample``, of
        each model's lifted partition on all points. Empty for
        ``"kmeans-sdp"``.
    start_costs_ : dict
        For the selected covariance model, the partition cost (as
        ``cost_``) of each distinct starting partition, ``"k-means++"``,
        ``"gaussian-mixture"``, ``"greedy"``, ``"kmeans-sdp"``, ``"init"``:
        for the start the iteration ran from, of the best partition it
        reached; for the others, after classification EM. A start that
        repeats an earlier one's partition is not run. Empty for ``"kmeans-sdp"`` and
        ``n_clusters=1``. With ``subsample``, the costs of the search's
        partitions of the standardised subsample: comparable with each
        other, not with ``cost_`` (all points, ``X``'s units).
    selected_start_ : str or None
        The start whose partition was kept (the lowest cost of
        ``start_costs_``); None where ``start_costs_`` is empty.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn.cluster.KMeans : Shared spherical clusters, Lloyd's iterations.
    sklearn.mixture.GaussianMixture : EM for the same model, from centroids.
    la_sdp : The iteration as a function.

    Notes
    -----
    Rounding, as in the paper: the top ``K`` left singular vectors of the
    solution's factors ``[U_1, ..., U_K]`` (scaled by their singular values),
    then K-means on these ``K``-dimensional rows; the clusters are matched to
    the SDP blocks whose mass they hold (so label ``k`` keeps covariance
    ``k`` across rounds). The K-means step runs on the host.

    Deviations from the paper: the covariance shrinkage above (the paper
    uses the plain sample covariances, singular when ``n_k <= p``); the
    Burer-Monteiro solver instead of SDPNAL+, with an automatic scaling,
    backtracking step sizes and momentum (see :func:`~sklr.cluster.solve_bm`);
    each round warm-starts the solver from the previous round's solution
    (at n = 10,000 and p = 10: 23 s instead of 64 s from the partition's
    indicator factors, same partition), with the rounded clusters matched
    to the SDP blocks (before the matching, the warm starts mixed up the
    clusters' covariances and a fit took 72 s instead of 5 s at p = 50);
    the starts (the best of 30 K-means runs by partition cost, a greedy
    start and, under ``"auto"``, EM's partition; each covariance model's
    best one also under the other models) are refined by
    classification EM and the iteration runs from the cheapest only
    (before 0.1.0 it ran from each: on issue 21's real data sets and foreign
    mixtures the screened search keeps the same errors in a fraction of
    the time, ``benchmarks/results/2026-12-06_sdp_screened.md``); it stops
    after a round without a lower
    cost and keeps the best partition met (by the cost with weights under
    ``cluster_weights="estimated"``), the starts included, so that no run
    ends in a worse partition than one it evaluated.

    ``subsample`` (sketch and lift) is a further deviation, for large
    ``n``: the search's cost grows faster than ``n`` (the SDP has ``n^2``
    entries; its Burer-Monteiro factor ``n x r``, with the step count
    rising with ``n``), so beyond ``subsample`` points it runs on a uniform
    subsample. Zhuang, Chen and Yang (2022) analyse the sketch and lift for
    the K-means SDP (each point to its nearest subsample centroid, kept
    here for ``"kmeans-sdp"``, then refined by Lloyd steps on all points so
    that ``labels_`` agrees with :meth:`predict`); for the likelihood-adjusted SDP the lift
    uses the clusters' Gaussians and is refined by classification EM on all
    points, which no paper analyses. On
    :func:`~sklr.datasets.make_heterogeneous_mixture` (K = 5, separation 3,
    p = 50, seeds 0 and 1) the lifted partitions err 0.0005 and 0.0003 at
    n = 10^4 (the full search: the same), and 0.0004 and 0.0001 at n = 10^5,
    where the full search does not finish in useful time; on a p = 3 mixture
    with n = 4000 a search on 300 points errs 0.0335, as the full search.
    Measurements: ``benchmarks/results/2026-12-06_sdp_subsample.md``.

    The EM start and ``covariance_type="auto"`` are further deviations, for
    data the mixtures of the paper do not resemble. On iris (standardised)
    the partition the iteration returned from its K-means and greedy
    starts cost more than the true labels (a search failure: 0.293
    mis-clustering error, GaussianMixture 0.033); from EM's partition it
    keeps one of lower cost (0.033). It runs only under ``"auto"``: on
    one heterogeneous mixture of the tests its lower-cost partition errs
    0.017 where GaussianMixture errs 0.013. On wine (standardised, PCA to 10
    components) the full-covariance likelihood prefers a partition with
    0.04 to 0.06 error over the true one, and the diagonal model, which the
    BIC selects, errs 0.017. With the tied model in the comparison (added in
    0.1.0) the BIC prefers it on iris to the full model (0.020 error at five
    of six seeds and 0.027 at the sixth, against 0.033; GaussianMixture
    0.033), and on mixtures of one
    rotated shape it finds clusters the full model's likelihood misplaces;
    searching a fourth model costs about a fifth more time
    (``benchmarks/results/2026-12-07_sdp_tied.md``). The criterion judges
    the likelihood, not the truth: on breast_cancer it selects the diagonal
    model whose best partition errs 0.37 where K-means errs 0.09; the tied
    model with ``cluster_weights="equal"`` errs 0.058 there, but its
    likelihood is far lower (BIC 7461 against the diagonal model's 6317),
    so no selection by likelihood reaches it. Measurements:
    ``benchmarks/results/2026-12-05_sdp_real_data.md``.

    ``cluster_weights="estimated"`` (the default) is a further deviation,
    chosen by measurement. The paper's likelihood has no cluster weights,
    which favours clusters of equal size: on 900 and 100 points from two
    unit Gaussians 3 to 4 apart (p = 2, 6 cases), ``"equal"`` splits the
    large cluster and mis-clusters 18 to 39 % of the points,
    ``"estimated"`` 0.9 to 6.3 % (the Bayes error is 0.9 to 3.1 %,
    GaussianMixture's 1.1 to 8.3 %); over 8 seeds, 2.3 % on 270 + 30
    points 3.5 apart (GaussianMixture 4.3 %, Bayes 2.0 %). On
    :func:`~sklr.datasets.make_heterogeneous_mixture` (K = 5, separation 3,
    n = 1000, mean over 6 seeds) it is level or slightly better: 0.1038
    against 0.1077 at p = 2 (GaussianMixture 0.277), 0.0057 against
    0.0058 at p = 10, 0.0047 against 0.0048 at p = 50, in 1.0 to 2.1
    times the time (measured at 0.1.0). Before 0.1.0 a second weighted
    iteration ran from the starting partition when the equal-weight one had
    moved more than 10 % of the points; from the screened starts (see ``init``) it never
    left the start (0 of 108 fits on issue 21's benchmark data sets) and
    was dropped. Its failure mode: where two clusters overlap (or have heavy
    tails) the weighted likelihood can gain more by emptying one than it
    loses in fit, and the fit ends with a cluster of a few points (on
    scikit-learn's sheared blobs at ``random_state=5``: sizes 998 / 501 / 1,
    0.333 error; ``"equal"`` 0.208, GaussianMixture 0.216). A
    ``ConvergenceWarning`` says so when a cluster ends with fewer than
    ``n_features + 1`` points: on the 134 data sets of
    ``benchmarks/sdp_errors.py`` 5 fits did, all 5 wrong
    (``benchmarks/results/2026-12-08_sdp_other_generators.md``).

    :meth:`transform` returns the fitted Gaussians' negative
    log-likelihoods without the weights; :meth:`predict` subtracts
    ``log weights_`` from them.

    References
    ----------
    .. [1] Zhuang, Y., Chen, X. and Yang, Y. "Likelihood Adjusted
       Semidefinite Programs for Clustering Heterogeneous Data." ICML 2023
       (arXiv:2209.15097).
    .. [2] Zhuang, Y., Chen, X., Yang, Y. and Zhang, R. Y. "Statistically
       Optimal K-means Clustering via Nonnegative Low-rank Semidefinite
       Programming." ICLR 2024 (arXiv:2305.18436).

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.cluster import SDPClusterer
    >>> rng = np.random.RandomState(0)
    >>> X = np.vstack([rng.normal(0, 0.3, (60, 2)),
    ...                rng.normal(0, 1, (60, 2)) * [4, 0.5] + [0, 3]])
    >>> model = SDPClusterer(n_clusters=2, random_state=0).fit(X)
    >>> np.bincount(model.labels_).tolist()
    [60, 60]
    >>> model.predict([[0.0, 0.0], [6.0, 3.0]]).tolist() == model.labels_[[0, 60]].tolist()
    True
    >>> model.transform(X).shape
    (120, 2)
    >>> model.get_feature_names_out().tolist()
    ['sdpclusterer0', 'sdpclusterer1']
    """

    _parameter_constraints: dict = {
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
        "method": [StrOptions({"ila-sdp", "kmeans-sdp"})],
        "solver": [StrOptions({"bm", "admm"})],
        "covariance_type": [StrOptions({"full", "tied", "diag", "spherical", "auto"})],
        "cluster_weights": [StrOptions({"estimated", "equal"})],
        "init": [StrOptions({"k-means++", "kmeans-sdp"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "subsample": [Interval(Integral, 2, None, closed="left"), StrOptions({"auto"}), None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def __init__(self, n_clusters=8, *, method="ila-sdp", solver="bm", covariance_type="auto",
                 cluster_weights="estimated", init="k-means++", max_iter=20, tol=1e-4, n_init=1,
                 subsample="auto", n_jobs=None, random_state=None, verbose=0):
        self.n_clusters = n_clusters
        self.method = method
        self.solver = solver
        self.covariance_type = covariance_type
        self.init = init
        self.cluster_weights = cluster_weights
        self.max_iter = max_iter
        self.tol = tol
        self.n_init = n_init
        self.subsample = subsample
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Cluster ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training points.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        xp, _ = namespace_and_device(X)
        X = validate_data(self, X, dtype=[xp.float64, xp.float32])
        n, p = X.shape
        if n < 2:
            raise ValueError(f"SDPClusterer needs at least 2 samples, got n_samples = {n}.")
        if self.n_clusters > n:
            raise ValueError(f"n_clusters={self.n_clusters} must be <= n_samples={n}.")
        if (isinstance(self.subsample, Integral) and self.subsample < self.n_clusters
                and self.subsample < n):
            raise ValueError(f"subsample={self.subsample} must be >= n_clusters="
                             f"{self.n_clusters} (the search runs on subsample points).")
        dtype = X.dtype
        X64 = xp.astype(X, xp.float64)
        _check_spread(X64, xp)
        K = self.n_clusters
        params = dict(method=self.method, solver=self.solver,
                      covariance_type=self.covariance_type, init=self.init,
                      cluster_weights=self.cluster_weights,
                      max_iter=self.max_iter, tol=self.tol, verbose=self.verbose,
                      rank=None, subsample=self.subsample)
        seeds = check_random_state(self.random_state).randint(
            0, 2**31 - 1, size=self.n_init if K > 1 else 1).tolist()
        begun = Parallel(n_jobs=self.n_jobs)(
            delayed(_run_start)(X64, K, params, seed) for seed in seeds)
        # A run whose iteration would repeat an earlier run's (the same points, covariance
        # model and cheapest screened starts: it differs only by the random rounding, which
        # rarely ends cheaper: 1 of the 216 fits of benchmarks/sdp_errors.py at n_init=2,
        # by 5.5e-5 relative) is not iterated again: a restart then costs its starts only.
        distinct = []
        for i, run in enumerate(begun):
            repeated = next((j for j in distinct if run.iterates_as(begun[j])), None)
            if repeated is None:
                distinct.append(i)
            elif self.verbose:
                print(f"[SDPClusterer] run with seed {run.seed}: the same starts as the run "
                      f"with seed {begun[repeated].seed}; not iterated again")
        runs = Parallel(n_jobs=self.n_jobs)(
            delayed(_run_finish)(X64, K, params, begun[i]) for i in distinct)
        best = min(runs, key=lambda run: run.score)
        labels, means, covs = best.labels, best.means, best.covariances
        self.covariance_type_ = best.covariance_type
        self.covariance_scores_ = best.covariance_scores
        self.start_costs_ = best.start_costs
        self.selected_start_ = best.selected_start
        n_partition = int(xp.unique_values(labels).shape[0])
        self.subsample_indices_ = best.subsample_indices
        self.n_iter_ = best.n_iter
        self.objective_ = best.objective
        self.cost_ = best.cost
        self.means_ = xp.astype(means, dtype)
        self.covariances_ = xp.astype(_to_type(covs, self.covariance_type_, xp), dtype)
        clusters = xp.arange(K, device=array_device(X))
        if _weighted(params):
            sizes = xp.sum(xp.astype(labels[:, None] == clusters[None, :], xp.float64), axis=0)
            self.weights_ = xp.astype(sizes / n, dtype)
            labels = xp.argmin(self._assignment_costs(X, xp), axis=1)
        else:
            # Equal weights among the clusters that hold points; an empty cluster (fewer
            # distinct groups than n_clusters) gets 0 and so takes no point in predict.
            held = xp.astype(xp.any(labels[:, None] == clusters[None, :], axis=0), xp.float64)
            self.weights_ = xp.astype(held / xp.sum(held), dtype)
        n_found = int(xp.unique_values(labels).shape[0])
        if n_partition < K:
            warnings.warn(
                f"Only {n_partition} of n_clusters={K} clusters hold points: the data have "
                f"fewer distinct groups (or repeated points). The empty clusters get the overall "
                f"mean, a spherical covariance (the shared one under 'tied') and weight 0 (they "
                f"take no point).",
                ConvergenceWarning, stacklevel=2)
        elif n_found < K:
            warnings.warn(
                f"Only {n_found} of n_clusters={K} clusters hold points after the final "
                f"classification step: the posterior under the fitted mixture moved every point "
                f"of a small cluster to others (means_ and covariances_ keep its statistics). "
                f"cluster_weights='equal' keeps the iteration's partition.",
                ConvergenceWarning, stacklevel=2)
        else:
            _warn_small_clusters(labels, K, X.shape[1], params["method"], xp)
        self.labels_ = labels
        return self

    @property
    def _n_features_out(self):
        """One output per cluster (:meth:`transform`): ``get_feature_names_out`` names them."""
        return self.means_.shape[0]

    def _neg_log_likelihood(self, X, xp):
        n_clusters, n_features = self.means_.shape
        covs = _to_full(xp.astype(self.covariances_, xp.float64), self.covariance_type_,
                        n_features, xp, n_clusters)
        means = xp.astype(self.means_, xp.float64)
        X64 = xp.astype(X, xp.float64)
        columns = []
        for k in range(means.shape[0]):
            L = xp.linalg.cholesky(covs[k, ...])
            columns.append(gaussian_neg_log_density(X64, means[k, :], L, xp))
        return xp.astype(xp.stack(columns, axis=1), X.dtype)

    def _assignment_costs(self, X, xp):
        """Negative log-likelihoods minus the log weights (``+inf`` for empty clusters)."""
        costs = xp.astype(self._neg_log_likelihood(X, xp), xp.float64)
        weights = xp.astype(self.weights_, xp.float64)
        # Empty clusters (weight 0) get +inf: they take no point.
        positive = weights > 0
        log_weights = xp.where(positive, xp.log(xp.where(positive, weights, xp.ones_like(weights))),
                               xp.full_like(weights, -math.inf))
        return costs - log_weights[None, :]

    def _validated(self, X, method):
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="means_", method=method)
        xp, _ = namespace_and_device(X)
        return validate_data(self, X, dtype=[xp.float64, xp.float32], reset=False), xp

    def transform(self, X):
        """Negative log-likelihood of each point under each fitted Gaussian.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points.

        Returns
        -------
        nll : array of shape (n_samples, n_clusters)
            ``-log N(x; mean_k, Sigma_k)``, the analogue of
            :meth:`KMeans.transform <sklearn.cluster.KMeans.transform>`'s
            distances (lowest for the assigned cluster).
        """
        X, xp = self._validated(X, "transform")
        return self._neg_log_likelihood(X, xp)

    def predict(self, X):
        """Assign each point to the fitted cluster of highest posterior (or likelihood).

        The cluster maximizing ``weights_[k] N(x; means_[k], Sigma_k)``; with
        ``cluster_weights="equal"`` (equal weights) the one of highest
        likelihood, as in the SDP's objective.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points.

        Returns
        -------
        labels : array of shape (n_samples,)
            Cluster index of each point.
        """
        X, xp = self._validated(X, "predict")
        return xp.argmin(self._assignment_costs(X, xp), axis=1)

    def score(self, X, y=None):
        """Mean log-likelihood of the points under the cluster :meth:`predict` assigns them to.

        The log of ``weights_[k] N(x; means_[k], Sigma_k)`` for the assigned
        ``k`` (with ``cluster_weights="equal"`` the weights are ``1 / K``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Points.
        y : Ignored
            Not used, present for API consistency by convention.

        Returns
        -------
        score : float
            The mean classification log-likelihood (higher is better).
        """
        X, xp = self._validated(X, "score")
        return -float(xp.mean(xp.min(self._assignment_costs(X, xp), axis=1)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
