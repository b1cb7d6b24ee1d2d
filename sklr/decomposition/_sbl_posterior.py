"""The SBL E-step: the posterior ``N(mu, Sigma)`` of ``x`` for one ``(gamma, s2)``.

Two forms of the same formulas: through the eigenstructure of the small
Kronecker factors (``gamma = gamma_1 (x) ... (x) gamma_I``, the dictionary
never formed) and with an explicit dictionary (any ``gamma``). Also the
index helpers that put the active (unpruned) entries back on the full grid.
"""

import math

from ..linalg._gaussian import cholesky_and_inverse_factor
from ..linalg._kronecker import _kron_matvec as kron_matvec
from ..linalg._kronecker import _kron_vector
from ..utils._array_api import segment_sum


def _conj_t(A, xp):
    At = xp.matrix_transpose(A)
    return xp.conj(At) if xp.isdtype(A.dtype, "complex floating") else At


def _abs2(z, xp):
    return xp.real(z * xp.conj(z)) if xp.isdtype(z.dtype, "complex floating") else z * z


class _Posterior:
    """The E-step for one ``(gamma, s2)``: ``mu``, ``diag(Sigma)``, the SBL cost."""

    def __init__(self, mu, diag_sigma, log_det, quad, xp):
        self.mu, self.diag_sigma, self.log_det, self.quad = mu, diag_sigma, log_det, quad
        self.cost = log_det + float(xp.mean(quad))  # per measurement vector


def _kron_posterior(factors, gammas, s2, Y, xp):
    """The E-step through eigendecompositions of the small ``A_i Gamma_i A_i^H``.

    ``C = (x)_i U_i diag(s2 + (x)_i p_i) (x)_i U_i^H``, so with
    ``d = 1 / (s2 + (x) p_i)`` and ``G_i = Gamma_i A_i^H U_i``:
    ``mu = ((x) G_i) (d o ((x) U_i^H) y)`` and
    ``diag(Sigma) = gamma - ((x) |G_i|^2) d``. ``factors`` and ``gammas`` are
    the active (unpruned) parts; ``Y`` has one measurement vector per row.
    """
    Us, ps, Gs = [], [], []
    for A, g in zip(factors, gammas):
        AG = A * xp.astype(g, A.dtype)[None, :]
        S = AG @ _conj_t(A, xp)
        S = (S + _conj_t(S, xp)) / 2.0
        p, U = xp.linalg.eigh(S)
        Us.append(U)
        ps.append(xp.maximum(p, 0.0))
        Gs.append(_conj_t(AG, xp) @ U)
    denom = s2 + _kron_vector(ps, xp)
    d = 1.0 / denom
    Z = kron_matvec(Us, Y, adjoint=True, xp=xp)
    mu = kron_matvec(Gs, xp.astype(d, Z.dtype) * Z, xp=xp)
    diag_sigma = _kron_vector(gammas, xp) - kron_matvec([_abs2(G, xp) for G in Gs], d, xp=xp)
    log_det = float(xp.sum(xp.log(denom)))
    quad = xp.sum(d * _abs2(Z, xp), axis=-1)
    return _Posterior(mu, xp.maximum(diag_sigma, 0.0), log_det, quad, xp)


def _dense_posterior(A, gamma, s2, Y, xp):
    """The E-step with an explicit dictionary ``A`` (its active columns) and any ``gamma``.

    Solved in the smaller of the two spaces: ``N x N`` (scaled precision)
    when there are fewer active columns than rows, else ``C = s2 I + A Gamma
    A^H`` (``M x M``).
    """
    M, N = A.shape
    eye_dtype = A.dtype
    AH = _conj_t(A, xp)
    if N <= M:
        # Scaled: Sigma = Gamma^(1/2) B^{-1} Gamma^(1/2) with B = I + Gamma^(1/2) A^H A
        # Gamma^(1/2) / s2 >= I, well conditioned however small some gamma_j are.
        root = xp.astype(xp.sqrt(gamma), eye_dtype)
        AR = A * root[None, :]
        B = _conj_t(AR, xp) @ AR / s2 + xp.eye(N, dtype=eye_dtype)
        L, L_inv = cholesky_and_inverse_factor(B, xp)
        B_inv = _conj_t(L_inv, xp) @ L_inv
        AHy = (Y @ xp.conj(AR) if xp.isdtype(A.dtype, "complex floating") else Y @ AR) / s2
        mu = (AHy @ xp.matrix_transpose(B_inv)) * root[None, :]
        diag_sigma = gamma * xp.real(xp.linalg.diagonal(B_inv))
        # |C| = s2^M |B| and y^H C^{-1} y = (|y|^2 - y^H A mu) / s2.
        log_det = M * math.log(s2) + 2.0 * float(xp.sum(xp.log(xp.real(xp.linalg.diagonal(L)))))
        fitted = mu @ xp.matrix_transpose(A)
        quad = xp.sum(xp.real(xp.conj(Y) * (Y - fitted)), axis=-1) / s2
    else:
        AG = A * xp.astype(gamma, eye_dtype)[None, :]
        C = AG @ AH + xp.eye(M, dtype=eye_dtype) * s2
        L, L_inv = cholesky_and_inverse_factor(C, xp)
        W = L_inv @ A  # C^{-1} = L_inv^H L_inv
        Yw = Y @ xp.matrix_transpose(L_inv)  # rows: L_inv y
        mu = (Yw @ xp.conj(W) if xp.isdtype(A.dtype, "complex floating") else Yw @ W)
        mu = mu * xp.astype(gamma, mu.dtype)[None, :]
        diag_sigma = gamma - gamma**2 * xp.sum(_abs2(W, xp), axis=0)
        log_det = 2.0 * float(xp.sum(xp.log(xp.real(xp.linalg.diagonal(L)))))
        quad = xp.sum(_abs2(Yw, xp), axis=-1)
    return _Posterior(mu, xp.maximum(diag_sigma, 0.0), log_det, quad, xp)


def _scatter(values, index, size, xp):
    """A length-``size`` vector with ``values`` at the (distinct) ``index`` and 0 elsewhere."""
    return segment_sum(values, index, size, xp=xp)


def _kron_index(active, sizes, xp):
    """Flat indices (C order) of the Kronecker product of the per-factor index sets."""
    flat = active[0]
    for idx, n in zip(active[1:], sizes[1:]):
        flat = xp.reshape(flat[:, None] * n + idx[None, :], (-1,))
    return flat
