"""The prior variants of :func:`kronecker_sbl`'s EM, one strategy object each.

``_KroneckerPrior`` (``method="svd"`` and ``"am"``) keeps per-factor
hyperparameters ``gamma_1, ..., gamma_I`` and never forms the dictionary;
``_DensePrior`` (``method="classic"``) keeps an unstructured ``gamma`` and
the explicit dictionary. Each offers what the EM driver needs:

- ``posterior(s2, Y)``: the E-step on the active (unpruned) entries;
- ``active_gamma`` and ``fitted(mu)``: the active prior variances (flat) and
  ``A mu`` with the active columns, for the noise update;
- ``update(Lambda)``: the M-step from ``Lambda = diag(Sigma) + mean |mu|^2``,
  then pruning; returns the relative change of ``gamma``;
- ``n_active``, ``active_index()``: the size of the active set and its flat
  indices on the full grid;
- ``result(scale)``: the final ``gamma`` and ``gammas`` (None for the dense
  prior), in the units of ``y`` times ``scale``.
"""

import math

from ..linalg._kronecker import _kron as kron
from ..linalg._kronecker import _kron_matvec as kron_matvec
from ..linalg._kronecker import _kron_vector
from ..linalg._kronecker import _mode_product as mode_product
from ._sbl_posterior import _dense_posterior, _kron_index, _kron_posterior, _scatter


def make_prior(method, factors, gamma_start, prune, inner_max_iter, inner_tol, dtype, xp,
               device):
    """The prior of ``method``, every variance at ``gamma_start`` (split evenly between factors)."""
    if method == "classic":
        return _DensePrior(factors, gamma_start, prune, dtype, xp, device)
    if method == "svd":
        def m_step(Lam, gammas):  # a fresh rank-1 fit: no start needed
            return _m_step_svd(Lam, xp)
    else:
        def m_step(Lam, gammas):
            return _m_step_am(Lam, gammas, inner_max_iter, inner_tol, xp)
    return _KroneckerPrior(factors, gamma_start, prune, m_step, dtype, xp, device)


class _KroneckerPrior:
    """``gamma = gamma_1 (x) ... (x) gamma_I``; pruning drops indices of each factor."""

    def __init__(self, factors, gamma_start, prune, m_step, dtype, xp, device):
        self.factors, self.prune, self.m_step, self.xp = factors, prune, m_step, xp
        self.sizes = [int(A.shape[1]) for A in factors]
        factor_start = gamma_start ** (1.0 / len(self.sizes))
        self.gammas = [xp.full(n, factor_start, dtype=dtype, device=device) for n in self.sizes]
        self.active = [xp.arange(n, device=device) for n in self.sizes]

    def posterior(self, s2, Y):
        xp = self.xp
        self._parts = [xp.take(A, idx, axis=1) for A, idx in zip(self.factors, self.active)]
        self._active_gammas = [xp.take(g, idx) for g, idx in zip(self.gammas, self.active)]
        return _kron_posterior(self._parts, self._active_gammas, s2, Y, xp)

    @property
    def active_gamma(self):
        return _kron_vector(self._active_gammas, self.xp)

    def fitted(self, mu):
        return kron_matvec(self._parts, mu, xp=self.xp)

    def update(self, Lam):
        old = list(self.gammas)
        shape = tuple(int(idx.shape[0]) for idx in self.active)
        self._prune(self.m_step(self.xp.reshape(Lam, shape), self._active_gammas))
        return _kron_change(self.gammas, old, self.xp)

    def _prune(self, new):
        """Keep index ``j`` of factor ``i`` where ``new_i[j] >= prune * max(new_i)``."""
        xp = self.xp
        keep = [xp.nonzero(g >= self.prune * xp.max(g))[0] for g in new]
        self.active = [xp.take(idx, k) for idx, k in zip(self.active, keep)]
        self.gammas = [_scatter(xp.take(g, k), idx, n, xp)
                       for g, k, idx, n in zip(new, keep, self.active, self.sizes)]

    @property
    def n_active(self):
        return math.prod(int(i.shape[0]) for i in self.active)

    def active_index(self):
        return _kron_index(self.active, self.sizes, self.xp)

    def result(self, scale):
        gamma = _kron_vector(self.gammas, self.xp) * scale * scale
        return gamma, self.gammas[:-1] + [self.gammas[-1] * scale * scale]


class _DensePrior:
    """Unstructured ``gamma`` with the explicit dictionary; the M-step is ``gamma = Lambda``."""

    def __init__(self, factors, gamma_start, prune, dtype, xp, device):
        self.prune, self.xp = prune, xp
        self.dictionary = kron(factors, xp=xp)
        self.size = math.prod(int(A.shape[1]) for A in factors)
        self.gamma = xp.full(self.size, gamma_start, dtype=dtype, device=device)
        self.active = xp.arange(self.size, device=device)

    def posterior(self, s2, Y):
        xp = self.xp
        self._part = xp.take(self.dictionary, self.active, axis=1)
        self.active_gamma = xp.take(self.gamma, self.active)
        return _dense_posterior(self._part, self.active_gamma, s2, Y, xp)

    def fitted(self, mu):
        return mu @ self.xp.matrix_transpose(self._part)

    def update(self, Lam):
        xp = self.xp
        old = self.gamma
        self._prune(Lam)
        return float(xp.linalg.vector_norm(self.gamma - old)) / float(xp.linalg.vector_norm(old))

    def _prune(self, new):
        """Keep entry ``j`` where ``new[j] >= prune * max(new)``."""
        xp = self.xp
        keep = xp.nonzero(new >= self.prune * xp.max(new))[0]
        self.active = xp.take(self.active, keep)
        self.gamma = _scatter(xp.take(new, keep), self.active, self.size, xp)

    @property
    def n_active(self):
        return int(self.active.shape[0])

    def active_index(self):
        return self.active

    def result(self, scale):
        return self.gamma * scale * scale, None


def _m_step_am(Lam, gammas, inner_max_iter, inner_tol, xp):
    """Cyclic exact block minimisation of ``sum_j log gamma_j + Lambda_j / gamma_j``.

    ``gamma_i[j] = mean over the other indices of Lambda / prod_{l != i}
    gamma_l``, factor after factor, then the first ``I - 1`` factors are
    scaled to unit norm (the scale is not identified); until the Kronecker
    product moves by less than ``inner_tol`` relative to its norm.
    """
    gammas = list(gammas)
    n_modes = len(gammas)
    if n_modes == 1:
        return [xp.reshape(Lam, (-1,))]
    floor = xp.finfo(Lam.dtype).smallest_normal
    for _ in range(inner_max_iter):
        old = list(gammas)
        for i in range(n_modes):
            W = Lam
            for l in range(n_modes):
                if l != i:
                    W = mode_product(W, (1.0 / xp.maximum(gammas[l], floor))[None, :], l, xp=xp)
            gammas[i] = xp.reshape(W, (-1,)) / (math.prod(Lam.shape) / Lam.shape[i])
        for i in range(n_modes - 1):
            norm = float(xp.linalg.vector_norm(gammas[i]))
            gammas[i] = gammas[i] / norm
            gammas[-1] = gammas[-1] * norm
        if _kron_change(gammas, old, xp) <= inner_tol:
            break
    return gammas


def _m_step_svd(Lam, xp):
    """Sequential rank-1 Kronecker fit of ``Lambda`` by leading singular pairs.

    Reshape ``Lambda`` to ``N_1 x (N / N_1)``; ``gamma_1 = |u|``; carry
    ``s v`` on to the next factor the same way; the last gets the remainder.
    """
    sizes = Lam.shape
    rest = xp.reshape(Lam, (-1,))
    gammas = []
    for n_i in sizes[:-1]:
        U, S, Vh = xp.linalg.svd(xp.reshape(rest, (n_i, -1)), full_matrices=False)
        gammas.append(xp.abs(U[:, 0]))
        rest = S[0] * Vh[0, :]
    gammas.append(xp.abs(rest))
    return gammas


def _kron_change(new, old, xp):
    """``||(x) new - (x) old|| / ||(x) old||``, on the full grid (a formula through the
    factors' inner products would cancel catastrophically below ~1e-8)."""
    new, old = _kron_vector(new, xp), _kron_vector(old, xp)
    return float(xp.linalg.vector_norm(new - old)) / float(xp.linalg.vector_norm(old))
