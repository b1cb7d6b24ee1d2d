"""SparseBayesKronecker: sparse Bayesian coding with a Kronecker dictionary, as a transformer."""

import math
from numbers import Integral, Real

from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
)
from sklearn.utils.validation import check_is_fitted

from ..linalg._kronecker import _kron_matvec as kron_matvec
from ..utils._array_api import check_same_namespace, namespace_and_device
from ..utils._validation import Interval, StrOptions, _fit_context, validate_data
from ._kronecker_sbl import check_dictionaries, kronecker_posterior, kronecker_sbl

__all__ = ["SparseBayesKronecker"]


class SparseBayesKronecker(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Sparse Bayesian learning with a Kronecker-structured dictionary (KroSBL).

    Each row ``y`` of the data is modelled as ``y = (A_1 (x) ... (x) A_I) x
    + e`` with sparse codes ``x ~ N(0, diag(gamma_1 (x) ... (x) gamma_I))``
    and white noise ``e``; :meth:`fit` learns the Kronecker-structured prior
    (hence the support, shared by all rows) and the noise variance by EM
    (:func:`kronecker_sbl`), and :meth:`transform` returns the posterior-mean
    codes, like :class:`~sklearn.decomposition.SparseCoder` with a learned
    Bayesian prior. Time and memory scale with the factors ``A_i``, not with
    their ``prod M_i x prod N_i`` product, which is never formed (except by
    ``method="classic"``).

    Read more in the :ref:`User Guide <sparse_bayes_kronecker>`.

    Parameters
    ----------
    dictionaries : list of array-like of shape (M_i, N_i), default=None
        The Kronecker factors ``A_1, ..., A_I`` (real; for complex data use
        :func:`kronecker_sbl`). Rows of the data are vectorized in C order
        with ``A_1`` the slowest index: ``y = numpy.kron(A_1, A_2) @ x``.
        None: the identity of size ``n_features`` (sparse Bayesian
        denoising of the rows themselves; also what scikit-learn's estimator
        checks exercise).
    method : {"svd", "am", "classic"}, default="svd"
        M-step: SVD-KroSBL (rank-1 Kronecker fit by singular vectors; the
        faster and more accurate in the paper), AM-KroSBL (alternating
        minimisation; non-increasing SBL cost without pruning), or classic
        unstructured SBL (the paper's baseline; forms the full dictionary).
    noise_variance : float, default=None
        Known noise variance; None learns it (EM, from a tenth of the data's
        variance).
    max_iter : int, default=150
        Maximum EM iterations.
    tol : float, default=1e-4
        Stop when the prior variances change by less than this, relatively.
    prune : float, default=None
        Relative pruning threshold of the per-factor hyperparameters (None:
        the paper's, 1e-3 for "svd" and "classic", 1e-2 for "am").
    inner_max_iter : int, default=100
        Maximum alternating sweeps per M-step ("am").
    inner_tol : float, default=1e-5
        Relative tolerance of the alternating sweeps ("am").
    verbose : int, default=0
        Print the SBL cost per EM iteration.

    Attributes
    ----------
    dictionaries_ : list of arrays of shape (M_i, N_i)
        The factors used (the identity when ``dictionaries=None``), in the
        namespace and dtype of the training data.
    gammas_ : list of arrays of shape (N_i,) or None
        Learned per-factor prior variances (0 where pruned); None for
        ``method="classic"``.
    gamma_ : array of shape (`n_components_`,)
        Their Kronecker product (the prior variances of the codes).
    noise_variance_ : float
        Learned (or given) noise variance.
    coef_ : array of shape (n_samples, `n_components_`)
        Posterior-mean codes of the training rows.
    posterior_variance_ : array of shape (`n_components_`,)
        Posterior variances of the codes (the same for every row).
    n_components_ : int
        ``prod N_i``, the length of a code.
    n_iter_ : int
        EM iterations run.
    cost_path_ : list of float
        SBL cost per row at each EM iteration.
    n_features_in_ : int
        ``prod M_i``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``Y`` has string column names.

    See Also
    --------
    sklr.decomposition.kronecker_sbl : The solver.
    sklearn.linear_model.ARDRegression : Unstructured sparse Bayesian regression.
    sklearn.decomposition.SparseCoder : Sparse coding on a fixed dictionary.

    Notes
    -----
    The E-step costs ``O(sum_i M_i^3 + N sum_i M_i)`` for ``N = prod N_i``:
    eigendecompositions of the ``M_i x M_i`` matrices ``A_i Gamma_i A_i^T``
    and mode products. The rows share the prior: with several rows the
    M-step pools ``diag(Sigma) + mean |mu|^2`` over them (one row is the
    paper's setting). Deviations from the paper: none in the updates; see
    :func:`kronecker_sbl` for the form of the E-step.

    References
    ----------
    .. [1] He, Y. and Joseph, G. "Bayesian Algorithms for Kronecker-structured
       Sparse Vector Recovery With Application to IRS-MIMO Channel
       Estimation." IEEE Transactions on Signal Processing, 2024
       (arXiv:2307.14719).

    Examples
    --------
    >>> import numpy as np
    >>> from sklr.datasets import make_kronecker_sparse
    >>> from sklr.decomposition import SparseBayesKronecker
    >>> A, y, x, s2 = make_kronecker_sparse(random_state=0)
    >>> sbk = SparseBayesKronecker(A).fit(y[None, :])
    >>> code = sbk.transform(y[None, :])[0]
    >>> bool(np.sum((code - x) ** 2) / np.sum(x ** 2) < 1e-3)
    True
    >>> sbk.inverse_transform(code[None, :]).shape
    (1, 1440)
    """

    _parameter_constraints: dict = {
        "dictionaries": [list, tuple, None],
        "method": [StrOptions({"svd", "am", "classic"})],
        "noise_variance": [Interval(Real, 0, None, closed="neither"), None],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "prune": [Interval(Real, 0, 1, closed="left"), None],
        "inner_max_iter": [Interval(Integral, 1, None, closed="left")],
        "inner_tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
    }

    def __init__(self, dictionaries=None, *, method="svd", noise_variance=None, max_iter=150,
                 tol=1e-4, prune=None, inner_max_iter=100, inner_tol=1e-5, verbose=0):
        self.dictionaries = dictionaries
        self.method = method
        self.noise_variance = noise_variance
        self.max_iter = max_iter
        self.tol = tol
        self.prune = prune
        self.inner_max_iter = inner_max_iter
        self.inner_tol = inner_tol
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, Y, y=None):
        """Learn the Kronecker-structured prior and the noise variance from the rows of ``Y``.

        Parameters
        ----------
        Y : array-like of shape (n_samples, prod M_i)
            Measurement vectors, one per row (they share the support).
        y : None
            Ignored.

        Returns
        -------
        self : object
            Fitted estimator.
        """
        xp, device = namespace_and_device(Y)
        Y = validate_data(self, Y, dtype=[xp.float64, xp.float32])
        if self.dictionaries is None:
            factors = [xp.eye(Y.shape[1], dtype=Y.dtype, device=device)]
        else:
            factors = check_dictionaries(self.dictionaries, Y.shape[1], xp, device, Y.dtype)
            if xp.isdtype(factors[0].dtype, "complex floating"):
                raise TypeError(
                    "SparseBayesKronecker works with real dictionaries and data; for complex "
                    "ones (channel estimation) call sklr.decomposition.kronecker_sbl directly."
                )
        result = kronecker_sbl(
            factors, Y, method=self.method, noise_variance=self.noise_variance,
            max_iter=self.max_iter, tol=self.tol, prune=self.prune,
            inner_max_iter=self.inner_max_iter, inner_tol=self.inner_tol, verbose=self.verbose,
        )
        self.dictionaries_ = factors
        self.gammas_ = result.gammas
        self.gamma_ = result.gamma
        self.noise_variance_ = result.noise_variance
        self.coef_ = result.coef
        self.posterior_variance_ = result.posterior_variance
        self.n_components_ = math.prod(int(A.shape[1]) for A in factors)
        self.n_iter_ = result.n_iter
        self.cost_path_ = result.cost_path
        return self

    @property
    def _n_features_out(self):
        return self.n_components_

    def _check(self, Y, method):
        check_is_fitted(self)
        check_same_namespace(Y, self, attribute="gamma_", method=method)
        xp, _ = namespace_and_device(Y)
        return validate_data(self, Y, dtype=[xp.float64, xp.float32], reset=False)

    def _posterior(self, Y):
        xp, _ = namespace_and_device(Y)
        factors = [xp.astype(A, Y.dtype) for A in self.dictionaries_]
        if self.gammas_ is not None:
            gamma = [xp.astype(g, Y.dtype) for g in self.gammas_]
        else:
            gamma = xp.astype(self.gamma_, Y.dtype)
        return kronecker_posterior(factors, gamma, self.noise_variance_, Y)

    def transform(self, Y):
        """Posterior-mean codes of the rows of ``Y`` under the learned prior.

        Parameters
        ----------
        Y : array-like of shape (n_samples, prod M_i)
            Measurement vectors.

        Returns
        -------
        codes : array of shape (n_samples, prod N_i)
            ``E[x | y]`` for each row (0 at pruned entries).
        """
        Y = self._check(Y, "transform")
        return self._posterior(Y)[0]

    def inverse_transform(self, X):
        """Map codes back to measurements through the Kronecker dictionary, row by row.

        ``y = (A_1 (x) ... (x) A_I) x`` for each row ``x``.

        Parameters
        ----------
        X : array-like of shape (n_samples, prod N_i)
            Codes.

        Returns
        -------
        Y : array of shape (n_samples, prod M_i)
            Noise-free measurements of the codes.
        """
        check_is_fitted(self)
        check_same_namespace(X, self, attribute="gamma_", method="inverse_transform")
        xp, device = namespace_and_device(X)
        X = xp.asarray(X, device=device)
        if X.ndim != 2 or X.shape[1] != self.n_components_:
            raise ValueError(
                f"X must have shape (n_samples, {self.n_components_}) (codes of length "
                f"prod N_i), got {tuple(X.shape)}."
            )
        dtype = X.dtype if xp.isdtype(X.dtype, "real floating") else xp.float64
        X = xp.astype(X, dtype)
        return kron_matvec([xp.astype(A, dtype) for A in self.dictionaries_], X)

    def score(self, Y, y=None):
        """Mean log marginal likelihood of the rows of ``Y`` under the learned model.

        ``log N(y; 0, s2 I + A Gamma A^T)`` averaged over rows: higher is
        better, so :class:`~sklearn.model_selection.GridSearchCV` can select
        ``method``, ``prune`` or a noise level.

        Parameters
        ----------
        Y : array-like of shape (n_samples, prod M_i)
            Measurement vectors.
        y : None
            Ignored.

        Returns
        -------
        score : float
            Mean log-likelihood per row.
        """
        Y = self._check(Y, "score")
        xp, _ = namespace_and_device(Y)
        return float(xp.mean(self._posterior(Y)[2]))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.array_api_support = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags
