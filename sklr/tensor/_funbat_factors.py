"""The factors of FunBaT's posterior ``q(W) q(tau) prod_k q(U^k)``, each with its update.

A sweep of :func:`sklr.tensor.funbat` hands each factor its likelihood
messages (natural parameters, computed in :mod:`sklr.tensor._funbat_moments`);
the factor damps them and combines them with its prior:

* :class:`_ModeState`, ``q(U^k)``: the ``r_k`` latent functions of mode ``k``
  have independent Matérn GP priors, run as one linear state-space model over
  the sorted distinct coordinates of the mode (:mod:`sklr.tensor._state_space`);
  the entries' messages are summed per coordinate and combined with the prior
  by a Kalman filter and RTS smoother.
* :class:`_CoreState`, ``q(W)``: Gaussian, prior ``N(0, I)`` on the free core
  entries (all of them, or the superdiagonal of the CP core).
* :class:`_NoiseState`, ``q(tau)``: Gamma, from the expected squared residual.
"""

import math
from dataclasses import dataclass
from typing import Any

from ..linalg._gaussian import spd_inverse
from ..utils._array_api import namespace_and_device, random_uniform, segment_sum
from ._kalman_scan import (  # noqa: F401 (_kron_eye_batch: tests import it from here)
    _contiguous,
    _kron_eye_batch,
    _KronTransitions,
    _Layout,
    _Observation,
    layout_kalman_filter,
    layout_rts_smoother,
    wide_block_size,
)
from ._state_space import _matern_state_space, _matern_transition_one

__all__ = ["_CoreState", "_ModeState", "_NoiseState"]


def _damp(new, old, damping):
    """``damping * old + (1 - damping) * new`` (``new`` when there is no old message)."""
    return new if old is None else damping * old + (1.0 - damping) * new


@dataclass
class _ModeState:
    """Mode ``k``'s coordinates, GP prior in state-space form, posterior and message.

    Everything indexed by the grid is kept batch-last (the grid along the last
    axis) in the position-major order of the blocked filter and smoother
    (:class:`sklr.tensor._kalman_scan._Layout`, ``layout.size >= S`` columns,
    padding columns unused); :meth:`states` returns it batch-first in grid
    order.

    Attributes
    ----------
    grid : array of shape (S,)
        Sorted distinct training coordinates of the mode.
    layout : _Layout
        The order of the grid's steps in the arrays below.
    positions : int array of shape (n,)
        Column of each training entry's coordinate in the layout.
    rank, kernel, lengthscale, variance
        The mode's number of latent functions and their Matérn prior.
    transition : _KronTransitions
        The state's transitions and process noises ``kron(A, I_r)``,
        ``kron(Q, I_r)`` at each step, kept as one component's ``A`` and ``Q``
        (shape ``(p, p, layout.size)``).
    stationary_cov, observation
        ``P_inf`` (the state's prior covariance) and ``H = [I_r, 0]`` (state
        to functions, an :class:`sklr.tensor._kalman_scan._Observation`).
    mean, cov : arrays of shape (r, layout.size) and (r, r, layout.size)
        Moments of ``q(U^k)`` at the grid (batch-last, as all the arrays the
        filter and smoother see).
    message : tuple
        Damped ``(precision, shift)`` of the likelihood messages per grid value,
        ``(None, None)`` before the first update.
    smoothed : tuple of arrays or None
        Smoothed ``(means, covs, cross_covs)`` of the last update, the
        cross-covariance of each step with the one before at its column.
    workspace : tuple of arrays or None
        The filter's outputs, which the smoother overwrites with ``smoothed``;
        reused by every update (arrays of ``S d^2`` floats, allocated once).
    entry_mean, entry_second : arrays of shape (n, r) and (n, r^2)
        ``E[u]`` and ``vec(E[u u^T])`` at each training entry.
    """

    grid: Any
    layout: Any
    positions: Any
    rank: int
    kernel: str
    lengthscale: float
    variance: float
    transition: Any
    stationary_cov: Any
    observation: Any
    mean: Any
    cov: Any
    message: tuple = (None, None)
    smoothed: tuple = None
    workspace: tuple = None
    entry_mean: Any = None
    entry_second: Any = None

    @classmethod
    def start(cls, x, rank, kernel, lengthscale, variance, random_state):
        """The prior model on ``x``'s distinct values; mean uniform on [0, 1), zero covariance."""
        xp, device = namespace_and_device(x)
        dtype = x.dtype
        grid, inverse = _sorted_distinct(x, xp)
        deltas = xp.concat([xp.zeros(1, dtype=dtype, device=device), grid[1:] - grid[:-1]])
        _, stationary_cov, observation = _matern_state_space(
            kernel, lengthscale, variance, xp=xp, n_components=rank, dtype=dtype, device=device)
        S = int(grid.shape[0])
        layout = _Layout(S, wide_block_size(S))
        positions = xp.take(layout.row_of_step(xp, device), inverse)
        transition = _KronTransitions(
            *(layout.to_layout(M, xp) for M in _matern_transition_one(deltas, kernel,
                                                                      lengthscale, variance)),
            rank)
        mean = random_uniform(random_state, (S, rank), xp=xp, device=device, dtype=dtype)
        mode = cls(
            grid=grid, layout=layout, positions=positions, rank=rank, kernel=kernel,
            lengthscale=lengthscale, variance=variance, transition=transition,
            stationary_cov=stationary_cov, observation=_Observation(observation, xp),
            mean=layout.to_layout(mean, xp),
            cov=xp.zeros((rank, rank, layout.size), dtype=dtype, device=device),
        )
        mode._gather()
        return mode

    def update(self, entry_precisions, entry_shifts, tau, damping):
        """Absorb the entries' messages per unit ``tau``: precisions (n, r^2), shifts (n, r)."""
        xp, _ = namespace_and_device(entry_shifts)
        S, r = self.layout.size, self.rank
        # Summed per grid value in the layout's order, then batch-last.
        precision = _batch_last(segment_sum(entry_precisions, self.positions, S, xp=xp), xp)
        precision = tau * xp.reshape(precision, (r, r, S))
        shift = tau * _batch_last(segment_sum(entry_shifts, self.positions, S, xp=xp), xp)
        self.message = (_damp(precision, self.message[0], damping),
                        _damp(shift, self.message[1], damping))
        self._smooth()

    def states(self, spare=None):
        """The smoothed states as :class:`FunBaTResult` stores a mode (in grid order).

        Written over the workspace, which the mode no longer needs after the
        fit (at 10^6 steps new memory costs more than the conversion): the
        means over the predicted means, the covariances over ``spare`` (an
        array of the size of the covariances no longer needed, or new memory)
        and the cross-covariances over the covariances. Returns the dict and
        the array the next mode can use as its ``spare``.
        """
        xp, _ = namespace_and_device(self.grid)
        L = self.layout
        means, covs, cross_covs = self.smoothed
        pred_means, pred_covs = self.workspace[2], self.workspace[3]
        if spare is not None and spare.shape != covs.shape:
            spare = None
        means = L.to_steps(means, xp, out=pred_means)
        covs_steps = L.to_steps(covs, xp, out=spare)
        cross_covs = L.to_steps(cross_covs, xp, start=1, out=covs)
        self.smoothed = self.workspace = self.mean = self.cov = None
        return {"grid": self.grid, "means": means, "covs": covs_steps, "cross_covs": cross_covs,
                "kernel": self.kernel, "lengthscale": self.lengthscale,
                "variance": self.variance, "rank": self.rank}, pred_covs

    def _smooth(self):
        """Kalman filter and RTS smoother of the prior with the current message."""
        if self.workspace is None:
            xp, device = namespace_and_device(self.stationary_cov)
            d, size = int(self.stationary_cov.shape[0]), self.layout.size
            self.workspace = tuple(
                xp.empty(shape, dtype=self.stationary_cov.dtype, device=device)
                for shape in ((d, size), (d, d, size), (d, size), (d, d, size)))
            for w in self.workspace:
                # Zeros written in order (the padding columns stay zero): the first
                # touch of the pages, 3x cheaper here than in the filter's order.
                w[...] = 0.0
        layout_kalman_filter(self.layout, self.transition, self.observation, *self.message,
                             self.stationary_cov, None, self.workspace)
        self.smoothed = layout_rts_smoother(self.layout, self.transition, *self.workspace)
        r = self.rank
        self.mean, self.cov = self.smoothed[0][:r, :], self.smoothed[1][:r, :r, :]
        self._gather()

    def _gather(self):
        """The moments at each training entry, from those at the grid."""
        xp, _ = namespace_and_device(self.mean)
        S, r = int(self.mean.shape[-1]), self.rank
        second = self.cov + self.mean[:, None, :] * self.mean[None, :, :]
        # Batch-first copies first: a gather of rows of r (r^2) values each.
        self.entry_mean = xp.take(_batch_first(self.mean, xp), self.positions, axis=0)
        self.entry_second = xp.take(_batch_first(xp.reshape(second, (r * r, S)), xp),
                                    self.positions, axis=0)


def _batch_last(x, xp):
    """A C-ordered copy of (n, k) as (k, n)."""
    return _contiguous(xp.permute_dims(x, (1, 0)), xp)


def _batch_first(x, xp):
    """A C-ordered copy of (k, n) as (n, k)."""
    return _contiguous(xp.permute_dims(x, (1, 0)), xp)


def _sorted_distinct(x, xp):
    """The sorted distinct values of ``x`` and the index of each entry among them.

    One ``argsort`` of ``x`` and one of the permutation, instead of
    ``unique_values``, ``sort`` and a ``searchsorted`` of every entry (random
    accesses into the grid: 0.3-0.5 s per mode at 10^6 entries).
    """
    order = xp.argsort(x)
    xs = xp.take(x, order)
    new = xp.concat([xp.ones(1, dtype=xp.bool, device=x.device), xs[1:] != xs[:-1]])
    ids = xp.cumulative_sum(xp.astype(new, xp.int64)) - 1
    return xs[new], xp.take(ids, xp.argsort(order))


def _core_embedding(ranks, core, xp, dtype, device):
    """(prod r_k, n_free) matrix mapping the free core entries to ``vec(W)``; None if all are."""
    if core == "full":
        return None
    M = math.prod(ranks)
    strides = [math.prod(ranks[k + 1:]) for k in range(len(ranks))]
    rows = [j * sum(strides) for j in range(ranks[0])]
    E = [[1.0 if i == row else 0.0 for row in rows] for i in range(M)]
    return xp.asarray(E, dtype=dtype, device=device)


@dataclass
class _CoreState:
    """``q(W)``: the free core entries' mean and covariance, and their damped message.

    Attributes
    ----------
    ranks : list of int
        Shape of the core.
    embedding : array of shape (prod r_k, n_free) or None
        Maps the free entries to ``vec(W)`` (None: every entry is free).
    mean, cov : arrays of shape (n_free,) and (n_free, n_free)
        Moments of the free entries.
    message : tuple
        Damped ``(precision, shift)`` of the data, ``(None, None)`` before
        the first update.
    """

    ranks: list
    embedding: Any
    mean: Any
    cov: Any
    message: tuple = (None, None)

    @classmethod
    def start(cls, ranks, core, random_state, like):
        """Mean uniform on [0, 1), zero covariance, on ``like``'s namespace, device, dtype."""
        xp, device = namespace_and_device(like)
        dtype = like.dtype
        embedding = _core_embedding(ranks, core, xp, dtype, device)
        n_free = math.prod(ranks) if embedding is None else int(embedding.shape[1])
        return cls(ranks=ranks, embedding=embedding,
                   mean=random_uniform(random_state, (n_free,), xp=xp, device=device,
                                       dtype=dtype),
                   cov=xp.zeros((n_free, n_free), dtype=dtype, device=device))

    def moments(self):
        """Mean, covariance and second moment ``E[w w^T]`` of ``w = vec(W)``."""
        mean, cov = self.mean, self.cov
        if self.embedding is not None:
            xp, _ = namespace_and_device(mean)
            E = self.embedding
            mean, cov = E @ mean, E @ cov @ xp.matrix_transpose(E)
        return mean, cov, mean[:, None] * mean[None, :] + cov

    def update(self, gram, moment, tau, damping):
        """Absorb the data's message ``tau (gram, moment)`` on ``vec(W)`` into the prior."""
        xp, device = namespace_and_device(moment)
        E = self.embedding
        if E is not None:
            gram, moment = xp.matrix_transpose(E) @ gram @ E, xp.matrix_transpose(E) @ moment
        self.message = (_damp(tau * gram, self.message[0], damping),
                        _damp(tau * moment, self.message[1], damping))
        precision, shift = self.message
        n_free = int(self.mean.shape[0])
        self.cov = spd_inverse(precision + xp.eye(n_free, dtype=precision.dtype, device=device),
                               xp)
        self.mean = self.cov @ shift


@dataclass
class _NoiseState:
    """``q(tau) = Gamma(alpha_1 + n / 2, alpha_2 + b)``, ``b`` the damped half squared residual.

    Attributes
    ----------
    alpha_1, alpha_2 : float
        Shape and rate of the prior.
    precision : float
        ``E[tau]``.
    message : float or None
        ``b``, None before the first update.
    """

    alpha_1: float
    alpha_2: float
    precision: float
    message: float = None

    @classmethod
    def start(cls, y, alpha_1, alpha_2):
        """``E[tau]`` starts at ``1 / mean(y^2)`` (1 when ``y`` is zero)."""
        xp, _ = namespace_and_device(y)
        var_y = float(xp.mean(y * y))
        return cls(alpha_1=alpha_1, alpha_2=alpha_2,
                   precision=1.0 / var_y if var_y > 0 else 1.0)

    def update(self, y, f, core_second, gram, damping):
        """From ``E[(y - f)^2]`` summed: ``f`` the mean predictions, ``E[w w^T]``, ``gram``."""
        xp, _ = namespace_and_device(y)
        sq = (float(xp.sum(y * y)) - 2.0 * float(xp.sum(y * f))
              + float(xp.sum(core_second * gram)))
        self.message = _damp(0.5 * max(sq, 0.0), self.message, damping)
        self.precision = (self.alpha_1 + 0.5 * int(y.shape[0])) / (self.alpha_2 + self.message)
