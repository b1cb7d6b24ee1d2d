"""Synthetic problems for sklr's estimators, with their ground truth."""

import numpy as np
from sklearn.utils import check_random_state

__all__ = ["make_least_squares"]


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
