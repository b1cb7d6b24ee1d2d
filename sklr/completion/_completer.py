"""MatrixCompleter: low-rank completion by robust alternating minimization (Gu et al., ICLR 2024)."""

import math
import warnings
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ..utils._array_api import (
    check_same_namespace,
    issparse,
    namespace_and_device,
    random_uniform,
    to_numpy,
)
from ..utils._validation import Interval, _fit_context, validate_data
from ._altmin import _FIT_CONSTRAINTS, complete_matrix, fold_in, predict_entries
from ._altmin_blocked import complete_matrix_blocked, is_dask_frame
from ._observed import observed_entries

__all__ = ["MatrixCompleter"]


class MatrixCompleter(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Fill the missing entries of a low-rank matrix by robust alternating minimization.

    Models ``X ~ offsets + U V^T`` with ``V^T`` (``components_``) of rank
    ``n_components``, fitted on the observed entries only. Each sweep updates
    the column factors ``V`` given ``U``, then ``U`` given ``V``; every
    update is a batch of small least-squares problems (one per column or
    row, over its observed entries). Gu, Song, Yin and Zhang (2024) show that
    these updates may be solved only approximately, by a sketch-preconditioned
    iterative solver in time nearly linear in the number of observed entries
    times ``k``, and the iteration still converges to the exact low-rank
    matrix from few entries; ``solver`` chooses how they are solved.

    .. warning::
       **How missing entries are marked.** In a *dense* ``X``, an entry
       equal to ``missing_values`` (NaN by default) is missing. In a
       *sparse* ``X`` (SciPy sparse matrix), the **stored** entries are the
       observed ones and every entry that is not stored is missing: a stored
       zero is an observed rating of 0, and an absent entry is *not* a zero.
       Build such matrices with :func:`ratings_matrix`.

    Read more in the :ref:`User Guide <matrix_completion>`.

    Parameters
    ----------
    n_components : int or "auto", default="auto"
        Rank ``k`` of the low-rank part, ``1 <= k < min(n_samples,
        n_features)``, or ``"auto"``: the rank is chosen on held-out entries
        (10% of the observed entries, drawn from ``random_state`` (the same
        entries on every fit when it is None), hidden
        while ranks 1, 2, ... up to 20 are fitted to the rest; the lowest
        rank within 1% of the best held-out RMSE wins) and the model of that
        rank is refitted to all entries. ``n_components_`` holds the rank
        used. ``"auto"`` costs a few fits more than a given rank; the rank
        it picks can be passed as ``n_components`` for later fits.
    solver : {"auto", "exact", "cg", "sketch"}, default="auto"
        How each factor update is solved:

        - ``"auto"``: ``"exact"`` when there are at least ``n_components``
          observed entries per row and column (``nnz >= k (n_samples +
          n_features)``), else ``"cg"``. Chosen by measurement
          (``benchmarks/README.md``): the batched LU of ``"exact"`` costs
          ``(n_samples + n_features) k^3`` against ``nnz k^2`` for its
          normal equations, so it dominates on sparse ratings, where
          ``"cg"`` fits faster to the same test RMSE (MovieLens, rank 10
          and 20); with 100 entries per row ``"exact"`` is the faster one
          (timings: ``benchmarks/README.md``).
        - ``"exact"``: normal equations of every row (column) at once, built
          in one sparse product (``O(nnz k^2)``), solved by batched LU.
        - ``"cg"``: at most ``inner_max_iter`` warm-started conjugate
          gradient steps with a diagonal preconditioner, ``O(nnz k)`` each:
          an approximate update.
        - ``"sketch"``: the paper's solver: conjugate gradient preconditioned
          by the factor of a sparse sketch of each row's problem (built in
          ``O(nnz k)``), so the steps needed do not depend on that problem's
          conditioning.
    alpha : float, default=0.0
        Ridge penalty ``alpha (||U||^2 + ||V||^2)``; with ``center="biases"``
        it also shrinks the row and column offsets. 0 is the paper's setting
        (exact recovery); real ratings need ``alpha > 0``.
    center : {None, "global", "biases"}, default=None
        What is removed before the low-rank fit: nothing (the paper), the
        mean of the observed entries, or the mean plus shrunk row and column
        offsets (``mean + b_i + c_j``, the usual recommender baseline).
    max_iter : int, default=100
        Maximum number of sweeps.
    tol : float, default=1e-4
        Stop when a sweep changes the RMSE on the observed entries by less
        than ``tol`` times its previous value (or when it reaches rounding
        level).
    inner_tol : float, default=1e-2
        Relative residual reduction asked of each update by ``"cg"`` and
        ``"sketch"``.
    inner_max_iter : int, default=3
        Maximum conjugate gradient steps per update for ``"cg"`` and
        ``"sketch"``.
    sketch_size : int, default=None
        Rows of each problem's sketch for ``solver="sketch"`` (``4 *
        n_components`` when None).
    keep_observed : bool, default=True
        Whether :meth:`transform` returns the observed entries as given (only
        the missing ones are filled) or the model's values everywhere.
    score_holdout : float, default=0.2
        Fraction of each matrix's observed entries that :meth:`score` hides
        and predicts.
    missing_values : float, default=np.nan
        The placeholder of missing entries in dense input.
    random_state : int, RandomState instance or None, default=None
        Seed of the initialisation, of the sketches and of the entries
        :meth:`score` holds out.
    verbose : int, default=0
        Print the observed-entry RMSE after each sweep.

    Attributes
    ----------
    components_ : array of shape (rank, n_features)
        ``V^T``: the column factors, ``rank = n_components_`` (orthonormal rows
        when ``alpha == 0``).
    row_factors_ : array of shape (n_samples, rank)
        ``U``: the factors of the training rows, refitted exactly against
        ``components_`` (what :meth:`transform` would compute for them).
    mean_ : float
        Global offset (0.0 when ``center=None``).
    row_bias_ : array of shape (n_samples,)
        Offsets of the training rows (zeros unless ``center="biases"``).
    col_bias_ : array of shape (n_features,)
        Offsets of the columns (zeros unless ``center="biases"``).
    n_components_ : int
        Rank of the fitted model: ``n_components``, the rank chosen for
        ``"auto"``, or, with ``alpha == 0``, a lower rank that already
        fits the observed entries exactly (a warning says so).
    validation_rmse_ : dict or None
        For ``n_components="auto"``: tried rank -> RMSE on the held-out
        entries; None otherwise.
    solver_ : str
        The solver used (``solver`` with ``"auto"`` resolved).
    n_iter_ : int
        Number of sweeps run.
    rmse_ : float
        RMSE on the observed training entries after the last sweep.
    rmse_path_ : list of float
        That RMSE after each sweep.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn.impute.IterativeImputer : Imputes each column by regression on the others.
    sklearn.impute.KNNImputer : Imputes from nearest neighbours.
    sklr.completion.complete_matrix : The function behind this estimator.
    sklr.completion.ratings_matrix : Sparse input from rating triplets.

    Notes
    -----
    Cost per sweep with ``nnz`` observed entries, ``n`` rows and columns and
    rank ``k``: ``O(nnz k^2 + n k^3)`` for ``"exact"``; ``O(nnz k)`` per CG
    step for ``"cg"`` and ``"sketch"``, plus ``O(nnz k + n k^2 s)`` to
    build the sketch preconditioners (``s = sketch_size``).

    Rows without an observed entry get zero factors: they are completed by
    the offsets alone (zeros with ``center=None``, the mean plus column
    offsets with ``"biases"``), and a warning says so. Empty columns are
    completed the same way.

    With ``alpha == 0`` the data may not determine the rank asked for; the
    estimator then says so (``UserWarning``) rather than return a silent
    wrong answer: when some row or column has fewer than ``n_components``
    observed entries, or there are fewer than ``k n log n`` of them, it
    warns, and keeps the plain fit only while it stays within the range of
    the observed values; a fit that runs away on the missing entries
    (under-sampled or not) is refitted with a small ridge that keeps the
    completion bounded, with a warning; when a lower rank fits the observed entries exactly, that rank
    is returned (``n_components_``), since the extra components could take
    any value on the missing entries. The fit is scale-free: ``X * s``
    gives the completion times ``s`` (with ``alpha * s`` for the same
    ridge).

    New rows (:meth:`transform`, :meth:`score`) are *folded in*: their
    factors solve the least squares of their observed entries against the
    fitted ``components_`` (and their offsets are computed like the training
    rows').

    Deviations from the paper:

    - The paper splits the observed entries into fresh samples for every
      update (for its proof); all entries are used in every update here, as
      in practical alternating minimization.
    - The initial factor's rows are scaled down to the norm
      ``2 sqrt(k / n_samples)`` instead of zeroed (the paper's clipping for
      incoherence); the initial SVD is randomised.
    - The sketch is a block sparse-sign embedding drawn once per fit, and the
      preconditioner is the Cholesky factor of the sketched normal matrix
      (the R of a QR of the sketch, up to signs). Problems with at most
      ``sketch_size`` entries are not sketched (their preconditioner is
      exact).
    - ``alpha``, ``center`` and the stopping rule on the observed RMSE are
      practical additions for real data; with ``alpha > 0`` the factors are
      not orthonormalised between updates.
    - After the last sweep of ``"cg"`` or ``"sketch"`` the row factors are
      refitted exactly, so that the training rows agree with their fold-in.

    References
    ----------
    .. [1] Gu, Y., Song, Z., Yin, J. and Zhang, L. "Low Rank Matrix
       Completion via Robust Alternating Minimization in Nearly Linear
       Time." ICLR 2024.
    .. [2] Jain, P., Netrapalli, P. and Sanghavi, S. "Low-rank matrix
       completion using alternating minimization." STOC 2013.

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.completion import MatrixCompleter
    >>> rng = np.random.RandomState(0)
    >>> M = rng.standard_normal((200, 3)) @ rng.standard_normal((3, 100))
    >>> X = np.where(rng.uniform(size=M.shape) < 0.4, M, np.nan)
    >>> completer = MatrixCompleter(n_components=3, tol=1e-10, random_state=0)
    >>> filled = completer.fit_transform(X)
    >>> bool(np.linalg.norm(filled - M) < 1e-6 * np.linalg.norm(M))
    True
    >>> completer.components_.shape
    (3, 100)
    """

    _parameter_constraints: dict = {
        **_FIT_CONSTRAINTS,
        "keep_observed": ["boolean"],
        "score_holdout": [Interval(Real, 0, 1, closed="neither")],
        "missing_values": [Real],
    }

    def __init__(
        self,
        n_components="auto",
        *,
        solver="auto",
        alpha=0.0,
        center=None,
        max_iter=100,
        tol=1e-4,
        inner_tol=1e-2,
        inner_max_iter=3,
        sketch_size=None,
        keep_observed=True,
        score_holdout=0.2,
        missing_values=np.nan,
        random_state=None,
        verbose=0,
    ):
        self.n_components = n_components
        self.solver = solver
        self.alpha = alpha
        self.center = center
        self.max_iter = max_iter
        self.tol = tol
        self.inner_tol = inner_tol
        self.inner_max_iter = inner_max_iter
        self.sketch_size = sketch_size
        self.keep_observed = keep_observed
        self.score_holdout = score_holdout
        self.missing_values = missing_values
        self.random_state = random_state
        self.verbose = verbose

    # ------------------------------------------------------------------ input
    def _observed(self, X, *, reset):
        """Validate ``X``; return it, its observed entries' coordinates and values, and its mask.

        The mask (True where observed) is None for sparse ``X``.
        """
        xp, _ = namespace_and_device(X)
        X = validate_data(
            self, X, reset=reset, accept_sparse=["csr", "csc", "coo"],
            dtype=[xp.float64, xp.float32], ensure_all_finite="allow-nan",
            ensure_min_samples=1, ensure_min_features=1,
        )
        return (X, *observed_entries(X, self.missing_values))

    def _warn_empty_rows(self, rows, n_rows, what):
        xp, _ = namespace_and_device(rows)
        n_empty = n_rows - int(xp.unique_values(rows).shape[0]) if rows.shape[0] else n_rows
        if n_empty:
            warnings.warn(
                f"{n_empty} row(s) of X have no observed entry {what}; they are completed by "
                f"the offsets alone (center={self.center!r}).",
                UserWarning,
                stacklevel=4,  # past fit/transform and scikit-learn's wrapper of them
            )

    def _warn_empty_columns(self, cols, n_cols):
        # Without centering an unobserved column is completed with zeros: a
        # silent wrong answer. With offsets it gets the mean (plus row offsets),
        # the usual cold-start answer for an unrated item, so no warning.
        if self.center is not None:
            return
        xp, _ = namespace_and_device(cols)
        n_empty = n_cols - int(xp.unique_values(cols).shape[0])
        if n_empty:
            warnings.warn(
                f"{n_empty} column(s) of X have no observed entry in fit; nothing determines "
                "them, so they are completed by 0. Use center='global' or 'biases' to fill "
                "them with the offsets, drop them, or observe some of their entries.",
                UserWarning,
                stacklevel=4,  # past fit and scikit-learn's wrapper of it
            )

    # ------------------------------------------------------------------ fit
    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the low-rank model to the observed entries of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features) or Dask DataFrame
            Dense with ``missing_values`` (NaN) marking the missing entries,
            or sparse with the stored entries as the observed ones. Or a
            Dask DataFrame whose three columns are the observed entries'
            row index, column index and value (one row per entry): the
            fit then runs on the Dask cluster in blocks of rows and columns
            (Spark ALS's layout), the entries never gathered; it needs an
            int ``n_components`` and ``solver="exact"`` or ``"auto"``, and
            equals the in-memory fit to rounding. The matrix's shape is one
            past the largest indices. See :ref:`scale_out`.
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        if is_dask_frame(X):
            return self._fit_dask_frame(X)
        X, rows, cols, values, _ = self._observed(X, reset=True)
        n_rows, n_cols = X.shape
        if values.shape[0] == 0:
            raise ValueError("X has no observed entry: there is nothing to complete from.")
        for name, size in (("n_samples", n_rows), ("n_features", n_cols)):
            if size < 2:
                raise ValueError(
                    f"Matrix completion needs at least 2 rows and 2 columns; got {name}={size}."
                )
        if self.n_components != "auto" and self.n_components >= min(n_rows, n_cols):
            raise ValueError(
                f"n_components={self.n_components} must be < min(n_samples, n_features)="
                f"{min(n_rows, n_cols)} for X of shape {X.shape}: a rank that high fits any "
                "observed entries and leaves the missing ones undetermined. Use "
                "n_components='auto' to have it chosen."
            )
        self._warn_empty_rows(rows, n_rows, "in fit")
        self._warn_empty_columns(cols, n_cols)
        result = complete_matrix(
            rows, cols, values, (n_rows, n_cols), self.n_components, solver=self.solver,
            alpha=self.alpha, center=self.center, max_iter=self.max_iter, tol=self.tol,
            inner_tol=self.inner_tol, inner_max_iter=self.inner_max_iter,
            sketch_size=self.sketch_size, random_state=self.random_state, verbose=self.verbose,
        )
        return self._set_fitted(result)

    def _fit_dask_frame(self, X):
        """``fit`` on a Dask DataFrame of (row, column, value): the entries stay on the cluster."""
        if self.n_components == "auto":
            raise ValueError(
                "n_components='auto' is not available on a Dask DataFrame (it fits every "
                "rank on a held-out split); pass an int n_components, e.g. the rank 'auto' "
                "picks on a sample of the entries in memory.")
        if self.solver not in ("exact", "auto"):
            raise ValueError(
                f"solver={self.solver!r} is not available on a Dask DataFrame: each block of "
                "rows (columns) solves its normal equations exactly; use solver='exact' or "
                "'auto'.")
        result, shape, (row_counts, col_counts) = complete_matrix_blocked(
            X, self.n_components, alpha=self.alpha, center=self.center,
            max_iter=self.max_iter, tol=self.tol, random_state=self.random_state,
            verbose=self.verbose, stacklevel=6)  # past fit and its wrapper, to the caller
        self.n_features_in_ = shape[1]
        if hasattr(self, "feature_names_in_"):
            del self.feature_names_in_
        self._warn_empty_rows(np.flatnonzero(row_counts > 0), shape[0], "in fit")
        self._warn_empty_columns(np.flatnonzero(col_counts > 0), shape[1])
        return self._set_fitted(result)

    def _set_fitted(self, result):
        self.n_components_ = result.n_components
        self.validation_rmse_ = result.validation_rmse
        self.solver_ = result.solver
        self._row_ridge = result.row_ridge
        xp, _ = namespace_and_device(result.col_factors)
        self.components_ = xp.matrix_transpose(result.col_factors)
        self.row_factors_ = result.row_factors
        self.mean_ = result.mean
        self.row_bias_ = result.row_bias
        self.col_bias_ = result.col_bias
        self.n_iter_ = result.n_iter
        self.rmse_path_ = result.rmse_path
        self.rmse_ = result.rmse_path[-1] if result.rmse_path else math.nan
        return self

    # ------------------------------------------------------------------ use
    def _fold_in(self, rows, cols, values, n_rows):
        xp, _ = namespace_and_device(self.components_)
        return fold_in(
            rows, cols, values, n_rows, xp.matrix_transpose(self.components_), self.mean_,
            self.col_bias_, self.alpha, self.center == "biases", ridge=self._row_ridge,
        )

    def transform(self, X):
        """Complete ``X``: fold its rows into the fitted model and fill the missing entries.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to complete, marked as in :meth:`fit`. They need not be the
            training rows.

        Returns
        -------
        X_completed : array of shape (n_samples, n_features)
            Dense. Observed entries are kept as given when
            ``keep_observed=True``. For sparse ``X`` the result is a NumPy
            array; use :meth:`predict_entries` for a few entries of a large
            matrix.
        """
        check_is_fitted(self)
        if not issparse(X):
            check_same_namespace(X, self, attribute="components_", method="transform")
        X, rows, cols, values, observed = self._observed(X, reset=False)
        n_rows = X.shape[0]
        self._warn_empty_rows(rows, n_rows, "in transform")
        U, row_bias = self._fold_in(rows, cols, values, n_rows)
        xp, _ = namespace_and_device(U)
        completed = U @ self.components_ + (self.mean_ + row_bias[:, None] + self.col_bias_)
        if self.keep_observed:
            if observed is None:  # sparse X: a NumPy result
                completed[to_numpy(rows), to_numpy(cols)] = to_numpy(values)
            else:
                completed = xp.where(observed, X, completed)
        return completed

    def predict_entries(self, rows, cols):
        """Predict entries of the training matrix without forming it.

        Parameters
        ----------
        rows, cols : array-like of int of shape (n_entries,)
            Row indices into the training rows and column indices.

        Returns
        -------
        values : array of shape (n_entries,)
            The model's values ``mean + b_i + c_j + U_i . V_j``.

        Examples
        --------
        >>> import numpy as np
        >>> from sklr.completion import MatrixCompleter, ratings_matrix
        >>> rng = np.random.RandomState(0)
        >>> M = rng.uniform(1, 2, (30, 1)) @ rng.uniform(1, 2, (1, 20))
        >>> rows, cols = np.nonzero(rng.uniform(size=M.shape) < 0.5)
        >>> X = ratings_matrix(rows, cols, M[rows, cols], shape=M.shape)
        >>> completer = MatrixCompleter(n_components=1, tol=1e-12, random_state=0).fit(X)
        >>> bool(np.allclose(completer.predict_entries([0, 5], [3, 7]), M[[0, 5], [3, 7]]))
        True
        """
        check_is_fitted(self)
        xp, device = namespace_and_device(self.row_factors_)
        n_rows, n_cols = self.row_factors_.shape[0], self.components_.shape[1]
        rows_np, cols_np = np.asarray(to_numpy(rows)), np.asarray(to_numpy(cols))
        for name, ids, bound in (("rows", rows_np, n_rows), ("cols", cols_np, n_cols)):
            if ids.ndim != 1 or not np.issubdtype(ids.dtype, np.integer):
                raise TypeError(f"{name} must be a 1-D array of integers.")
            if ids.size and (ids.min() < 0 or ids.max() >= bound):
                raise ValueError(f"{name} must lie in [0, {bound}).")
        if rows_np.shape != cols_np.shape:
            raise ValueError("rows and cols must have the same length.")
        rows_x = xp.asarray(rows_np.astype(np.int64), device=device)
        cols_x = xp.asarray(cols_np.astype(np.int64), device=device)
        return predict_entries(
            rows_x, cols_x, self.row_factors_, xp.matrix_transpose(self.components_),
            self.mean_, self.row_bias_, self.col_bias_,
        )

    def score(self, X, y=None):
        """Minus the RMSE on held-out observed entries of ``X`` (higher is better).

        A fraction ``score_holdout`` of the observed entries (drawn from
        ``random_state``, so the same ``X`` always loses the same entries) is
        hidden; the rows are folded in from the rest and the hidden entries
        predicted. This lets :class:`~sklearn.model_selection.GridSearchCV`
        tune ``n_components`` and ``alpha`` with rows as samples: it measures
        the completion of new rows. To tune for the missing entries of the
        rows the model is fitted on, split the observed entries instead (see
        the User Guide, "Choosing the rank and the penalty").

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows with observed entries, marked as in :meth:`fit`.
        y : None
            Ignored.

        Returns
        -------
        score : float
            ``-RMSE`` on the held-out entries.
        """
        check_is_fitted(self)
        X, rows, cols, values, _ = self._observed(X, reset=False)
        xp, device = namespace_and_device(values)
        hide = random_uniform(check_random_state(self.random_state), (values.shape[0],), xp=xp, device=device,
                              dtype=values.dtype) < self.score_holdout
        hidden = xp.nonzero(hide)[0]
        if hidden.shape[0] == 0:
            raise ValueError(
                f"No observed entry was held out (score_holdout={self.score_holdout}, "
                f"{values.shape[0]} observed entries): score needs more observed entries."
            )
        kept = xp.nonzero(~hide)[0]
        U, row_bias = self._fold_in(
            xp.take(rows, kept), xp.take(cols, kept), xp.take(values, kept), X.shape[0]
        )
        predicted = predict_entries(
            xp.take(rows, hidden), xp.take(cols, hidden), U,
            xp.matrix_transpose(self.components_), self.mean_, row_bias, self.col_bias_,
        )
        error = predicted - xp.take(values, hidden)
        return -math.sqrt(float(xp.mean(error * error)))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        tags.input_tags.allow_nan = True
        tags.input_tags.sparse = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
