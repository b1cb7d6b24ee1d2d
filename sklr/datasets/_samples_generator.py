"""Synthetic problems for sklr's estimators, with their ground truth."""

import math
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state

from ..utils._validation import Interval, StrOptions, validate_params

_POSITIVE_INT = [Interval(Integral, 1, None, closed="left")]
_NON_NEGATIVE = [Interval(Real, 0, None, closed="left")]

__all__ = [
    "make_heterogeneous_mixture",
    "make_kronecker_sparse",
    "make_least_squares",
    "make_low_rank_completion",
    "make_ratings",
]


@validate_params(
    {
        "n_samples": _POSITIVE_INT, "n_features": _POSITIVE_INT,
        "design": [StrOptions({"gaussian", "ill_conditioned", "coherent"})],
        "cond": [Interval(Real, 1, None, closed="left")], "noise": _NON_NEGATIVE,
        "n_targets": _POSITIVE_INT, "dtype": "no_validation", "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_least_squares(
    n_samples=10000,
    n_features=20,
    *,
    design="gaussian",
    cond=1e8,
    noise=1.0,
    n_targets=1,
    dtype=np.float64,
    random_state=None,
):
    """A tall least-squares problem ``y = X w + noise`` with a chosen design.

    Parameters
    ----------
    n_samples : int, default=10000
        Number of rows ``n``.
    n_features : int, default=20
        Number of columns ``d`` (``d <= n``).
    design : {"gaussian", "ill_conditioned", "coherent"}, default="gaussian"
        - ``"gaussian"``: i.i.d. standard normal entries (condition number
          near 1, every row of leverage about ``d / n``).
        - ``"ill_conditioned"``: ``G diag(s) V^T`` with ``G`` Gaussian, ``V``
          a random rotation and ``s`` log-spaced from 1 to ``1 / cond``.
        - ``"coherent"``: Gaussian rows below ``d`` rows of
          ``30 sqrt(n) * identity``, which carry almost all the leverage
          (0.999 each): a sparse sketch that hashes two of them into one
          row loses a direction, the case where sparse sketches lose the
          l_inf guarantee (Price, Song and Woodruff, 2017).
    cond : float, default=1e8
        Condition number of the ``"ill_conditioned"`` design.
    noise : float, default=1.0
        Standard deviation of the Gaussian noise added to ``y``.
    n_targets : int, default=1
        Number of targets; ``y`` is 1-D when it is 1.
    dtype : dtype, default=np.float64
        Floating dtype of ``X`` and ``y``.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Design matrix.
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
        Targets.
    coef : ndarray of shape (n_features,) or (n_features, n_targets)
        The true coefficients (noise-free model).

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.datasets import make_least_squares
    >>> X, y, coef = make_least_squares(1000, 5, design="ill_conditioned", cond=1e6,
    ...                                 random_state=0)
    >>> X.shape, y.shape, coef.shape
    ((1000, 5), (1000,), (5,))
    >>> bool(1e5 < np.linalg.cond(X) < 1e7)
    True
    """
    if not 1 <= n_features <= n_samples:
        raise ValueError(
            f"Need 1 <= n_features <= n_samples, got n_features={n_features}, "
            f"n_samples={n_samples}."
        )
    if design not in ("gaussian", "ill_conditioned", "coherent"):
        raise ValueError(
            f"design must be 'gaussian', 'ill_conditioned' or 'coherent', got {design!r}."
        )
    rng = check_random_state(random_state)
    X = rng.standard_normal((n_samples, n_features))
    if design == "ill_conditioned":
        if cond < 1:
            raise ValueError(f"cond must be >= 1, got {cond}.")
        V, _ = np.linalg.qr(rng.standard_normal((n_features, n_features)))
        scales = np.logspace(0, -np.log10(cond), n_features)
        X = X @ (scales[:, None] * V.T)
    elif design == "coherent":
        X[:n_features] = 30 * np.sqrt(n_samples) * np.eye(n_features)
    coef = rng.standard_normal((n_features, n_targets))
    y = X @ coef + noise * rng.standard_normal((n_samples, n_targets))
    if n_targets == 1:
        y, coef = y[:, 0], coef[:, 0]
    return X.astype(dtype, copy=False), y.astype(dtype, copy=False), coef


@validate_params(
    {
        "n_rows": _POSITIVE_INT, "n_cols": _POSITIVE_INT, "rank": _POSITIVE_INT,
        "n_observed": [Interval(Integral, 1, None, closed="left"), None],
        "noise": _NON_NEGATIVE, "dtype": "no_validation", "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_low_rank_completion(
    n_rows=500,
    n_cols=500,
    rank=5,
    *,
    n_observed=None,
    noise=0.0,
    dtype=np.float64,
    random_state=None,
):
    """A random incoherent rank-``rank`` matrix and a uniformly sampled subset of its entries.

    ``M = A B^T`` with i.i.d. standard normal factors ``A`` (``n_rows x
    rank``) and ``B`` (``n_cols x rank``): incoherent with high probability,
    the setting of exact-recovery theory (Jain et al., 2013; Gu et al., 2024).

    Parameters
    ----------
    n_rows, n_cols : int, default=500
        Shape of the matrix.
    rank : int, default=5
        Its rank ``k``.
    n_observed : int, default=None
        Number of observed entries, drawn uniformly without replacement; by
        default ``5 k n log n`` with ``n = max(n_rows, n_cols)``, capped at
        60% of the entries.
    noise : float, default=0.0
        Standard deviation of Gaussian noise added to the observed entries.
    dtype : dtype, default=np.float64
        Floating dtype of the outputs.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_rows, n_cols)
        The observed entries (noisy when ``noise > 0``), NaN elsewhere.
    M : ndarray of shape (n_rows, n_cols)
        The full noiseless low-rank matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.datasets import make_low_rank_completion
    >>> X, M = make_low_rank_completion(100, 80, rank=3, n_observed=2000, random_state=0)
    >>> int(np.sum(~np.isnan(X))), int(np.linalg.matrix_rank(M))
    (2000, 3)
    """
    if not 1 <= rank <= min(n_rows, n_cols):
        raise ValueError(f"Need 1 <= rank <= min(n_rows, n_cols), got rank={rank}.")
    size = n_rows * n_cols
    if n_observed is None:
        n = max(n_rows, n_cols)
        n_observed = min(int(5 * rank * n * np.log(n)), int(0.6 * size))
    if not 1 <= n_observed <= size:
        raise ValueError(f"n_observed must lie in [1, {size}], got {n_observed}.")
    rng = check_random_state(random_state)
    M = rng.standard_normal((n_rows, rank)) @ rng.standard_normal((rank, n_cols))
    flat = rng.choice(size, n_observed, replace=False)
    X = np.full(size, np.nan)
    X[flat] = M.ravel()[flat] + noise * rng.standard_normal(n_observed)
    return X.reshape(n_rows, n_cols).astype(dtype), M.astype(dtype)


@validate_params(
    {
        "n_users": _POSITIVE_INT, "n_items": _POSITIVE_INT, "n_ratings": _POSITIVE_INT,
        "rank": _POSITIVE_INT, "noise": _NON_NEGATIVE, "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_ratings(
    n_users=600,
    n_items=2000,
    n_ratings=60_000,
    *,
    rank=5,
    noise=0.8,
    random_state=None,
):
    """Synthetic MovieLens-like ratings: half stars from 0.5 to 5, skewed popularity.

    Each rating is ``3.5 + user bias + item bias + <user factor, item
    factor> + noise``, rounded to the nearest half star and clipped to
    ``[0.5, 5]``. Item popularity follows a Zipf-like law and user activity
    a log-normal one (every user rates at least 5 items), so that, as in
    MovieLens, a few items are rated very often and most rarely.

    Parameters
    ----------
    n_users, n_items : int, default=600, 2000
        Shape of the rating matrix.
    n_ratings : int, default=60000
        Number of distinct (user, item) ratings (fewer only where a user
        would rate more than half the items).
    rank : int, default=5
        Rank of the user-item interaction.
    noise : float, default=0.8
        Standard deviation of the noise before rounding.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    users, items : ndarray of int64 of shape (n_ratings,)
        Who rated what.
    ratings : ndarray of shape (n_ratings,)
        The ratings.

    Examples
    --------
    >>> from sklr.datasets import make_ratings
    >>> users, items, ratings = make_ratings(100, 300, 3000, random_state=0)
    >>> bool(ratings.min() >= 0.5 and ratings.max() <= 5.0), len(set(zip(users, items)))
    (True, 3000)
    """
    if not 5 * n_users <= n_ratings <= n_users * n_items // 2:
        raise ValueError(
            f"n_ratings must lie in [5 n_users, n_users n_items / 2] = "
            f"[{5 * n_users}, {n_users * n_items // 2}], got {n_ratings}."
        )
    rng = check_random_state(random_state)
    activity = rng.lognormal(0.0, 1.0, n_users)
    per_user = 5 + np.floor((n_ratings - 5 * n_users) * activity / activity.sum()).astype(int)
    per_user[: n_ratings - per_user.sum()] += 1
    per_user = np.minimum(per_user, n_items // 2)
    popularity = 1.0 / np.arange(1, n_items + 1) ** 0.8
    popularity = popularity[rng.permutation(n_items)]
    users, items = [], []
    for user, count in enumerate(per_user):
        keys = rng.exponential(size=n_items) / popularity  # weighted sample without replacement
        users.append(np.full(count, user))
        items.append(np.argpartition(keys, count)[:count])
    users, items = np.concatenate(users), np.concatenate(items)
    scale = 1.0 / np.sqrt(rank)
    P = rng.standard_normal((n_users, rank)) * scale
    Q = rng.standard_normal((n_items, rank)) * scale
    raw = (3.5 + 0.4 * rng.standard_normal(n_users)[users] + 0.5 * rng.standard_normal(n_items)[items]
           + np.sum(P[users] * Q[items], axis=1) + noise * rng.standard_normal(users.size))
    ratings = np.clip(np.round(raw * 2) / 2, 0.5, 5.0)
    return users.astype(np.int64), items.astype(np.int64), ratings


@validate_params(
    {
        "factor_shapes": ["array-like"], "n_nonzero": _POSITIVE_INT,
        "snr_db": [Real],
        "n_samples": [Interval(Integral, 1, None, closed="left"), None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_kronecker_sparse(
    factor_shapes=((8, 15), (12, 15), (15, 15)),
    n_nonzero=3,
    *,
    snr_db=25.0,
    n_samples=None,
    random_state=None,
):
    """A sparse recovery problem with a Kronecker dictionary and Kronecker support (KroSBL's).

    Each factor ``A_i`` has i.i.d. standard normal entries; ``x = x_1 (x)
    ... (x) x_I`` with ``n_nonzero`` standard normal entries at random
    places in each ``x_i``; ``y = (A_1 (x) ... (x) A_I) x + e`` with white
    Gaussian noise at ``snr_db`` (signal power per measurement over noise
    variance). The default is the synthetic setting of He and Joseph (2024):
    ``N = 3375`` unknowns, ``M = 1440`` measurements, 27 non-zeros.

    Parameters
    ----------
    factor_shapes : sequence of (M_i, N_i), default=((8, 15), (12, 15), (15, 15))
        Shapes of the factors.
    n_nonzero : int, default=3
        Non-zeros per factor (``n_nonzero ** I`` in ``x``).
    snr_db : float, default=25.0
        Signal-to-noise ratio in decibels (``inf``: no noise).
    n_samples : int, default=None
        None: one problem (``y`` and ``x`` 1-D). An int: that many
        measurement vectors with the same support and independent values
        (``y`` and ``x`` with one row each).
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    dictionaries : list of ndarray of shape (M_i, N_i)
        The factors.
    y : ndarray of shape (prod M_i,) or (n_samples, prod M_i)
        Measurements.
    x : ndarray of shape (prod N_i,) or (n_samples, prod N_i)
        The sparse ground truth.
    noise_variance : float
        The noise variance used.

    Examples
    --------
    >>> from sklr.datasets import make_kronecker_sparse
    >>> A, y, x, s2 = make_kronecker_sparse(random_state=0)
    >>> [a.shape for a in A], y.shape, int((x != 0).sum())
    ([(8, 15), (12, 15), (15, 15)], (1440,), 27)
    """
    if math.isnan(snr_db) or snr_db == -math.inf:
        raise ValueError(f"snr_db must be a number or inf, got {snr_db!r}.")
    rng = check_random_state(random_state)
    try:
        shapes = [tuple(int(v) for v in s) for s in factor_shapes]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"factor_shapes must be a list of (M_i, N_i) pairs of positive integers, "
                         f"got {factor_shapes!r}.") from exc
    if not shapes or any(len(s) != 2 or min(s) < 1 for s in shapes):
        raise ValueError(f"factor_shapes must be a non-empty list of (M_i, N_i) pairs of positive "
                         f"integers, got {factor_shapes!r}.")
    if not 1 <= n_nonzero <= min(n for _, n in shapes):
        raise ValueError(f"n_nonzero must lie in [1, min N_i], got {n_nonzero!r}.")
    dictionaries = [rng.standard_normal(s) for s in shapes]
    supports = [np.sort(rng.choice(n, n_nonzero, replace=False)) for _, n in shapes]
    rows = 1 if n_samples is None else int(n_samples)
    x = np.zeros((rows, math.prod(n for _, n in shapes)))
    for r in range(rows):
        x_r = np.ones(1)
        for (_, n), support in zip(shapes, supports):
            x_i = np.zeros(n)
            x_i[support] = rng.standard_normal(n_nonzero)
            x_r = np.kron(x_r, x_i)
        x[r] = x_r
    A = dictionaries[0]
    for factor in dictionaries[1:]:
        A = np.kron(A, factor)
    clean = x @ A.T
    noise_variance = 0.0 if np.isinf(snr_db) else float(np.mean(clean**2) / 10 ** (snr_db / 10))
    y = clean + math.sqrt(noise_variance) * rng.standard_normal(clean.shape)
    if n_samples is None:
        return dictionaries, y[0], x[0], noise_variance
    return dictionaries, y, x, noise_variance


@validate_params(
    {
        "n_samples": _POSITIVE_INT, "n_features": _POSITIVE_INT, "n_clusters": _POSITIVE_INT,
        "separation": _NON_NEGATIVE, "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_heterogeneous_mixture(
    n_samples=1000,
    n_features=10,
    n_clusters=5,
    *,
    separation=3.0,
    random_state=None,
):
    """A Gaussian mixture whose clusters differ in size, scale and shape (SDPClusterer's setting).

    Cluster ``k`` has ``Sigma_k = s_k Q_k diag(e_k) Q_k^T`` with a random
    rotation ``Q_k``, an overall scale ``s_k`` log-uniform in ``[0.3, 3]``
    and eigenvalues ``e_k`` log-uniform in ``[0.2, 1]``; its mean lies at
    distance ``separation * sqrt(s_k)`` from the origin in a random
    direction. Sizes are drawn from a multinomial with unequal weights (half
    a Dirichlet(3) draw, half uniform). K-means (one spherical metric)
    misplaces the borders between large and small clusters; EM from a poor
    start can merge them.

    Parameters
    ----------
    n_samples : int, default=1000
        Number of points.
    n_features : int, default=10
        Dimension ``p``.
    n_clusters : int, default=5
        Number of clusters ``K``.
    separation : float, default=3.0
        Distance of the means from the origin, in units of each cluster's
        scale (smaller: harder).
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The points, in random order.
    y : ndarray of shape (n_samples,)
        The true cluster of each point.
    means : ndarray of shape (n_clusters, n_features)
        The clusters' means.
    covariances : ndarray of shape (n_clusters, n_features, n_features)
        The clusters' covariances.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.datasets import make_heterogeneous_mixture
    >>> X, y, means, covs = make_heterogeneous_mixture(500, 3, 4, random_state=0)
    >>> X.shape, np.bincount(y).sum(), covs.shape
    ((500, 3), np.int64(500), (4, 3, 3))
    """
    rng = check_random_state(random_state)
    if n_clusters < 1 or n_samples < n_clusters or n_features < 1:
        raise ValueError(
            f"Need 1 <= n_clusters <= n_samples and n_features >= 1, got n_samples={n_samples}, "
            f"n_features={n_features}, n_clusters={n_clusters}."
        )
    if not separation >= 0:
        raise ValueError(f"separation must be >= 0, got {separation!r}.")
    weights = 0.5 * rng.dirichlet(np.full(n_clusters, 3.0)) + 0.5 / n_clusters
    sizes = rng.multinomial(n_samples, weights)
    means = np.empty((n_clusters, n_features))
    covariances = np.empty((n_clusters, n_features, n_features))
    X, y = [], []
    for k in range(n_clusters):
        Q, _ = np.linalg.qr(rng.standard_normal((n_features, n_features)))
        scale = math.exp(rng.uniform(math.log(0.3), math.log(3.0)))
        eigenvalues = scale * np.exp(rng.uniform(math.log(0.2), 0.0, n_features))
        root = Q * np.sqrt(eigenvalues)
        direction = rng.standard_normal(n_features)
        means[k] = direction * (separation * math.sqrt(scale) / np.linalg.norm(direction))
        covariances[k] = root @ root.T
        X.append(means[k] + rng.standard_normal((sizes[k], n_features)) @ root.T)
        y.append(np.full(sizes[k], k))
    X, y = np.vstack(X), np.concatenate(y)
    order = rng.permutation(n_samples)
    return X[order], y[order], means, covariances
