"""Jacobian products of vector RNNs in log space: ||dh_T/dh_0|| and the finite-time Lyapunov spectrum.

``J_T = A_T ... A_1`` with step Jacobians ``A_t = d s_t / d s_{t-1}`` (n, n). Carried as
``J_t = Q_t R_t ... R_1`` by QR re-orthonormalisation (``A_t Q_{t-1} = Q_t R_t``): the logs of
|diag R_t| summed give the finite-time Lyapunov exponents, and the triangular product
``P_t = R_t ... R_1``, rescaled to unit Frobenius norm with its log-scale carried (Kahan), gives
``||J_T||_2 = scale_T * ||P_T||_2`` since Q_T is orthogonal. Nothing under- or overflows.

No LAPACK custom call runs inside the compiled loops: jaxlib's batched CPU QR/SVD kernels
(``ParallelBatchMap`` on XLA's intra-op pool) were seen to deadlock under vmap on 2 cores, so the
QR here is classical Gram-Schmidt applied twice (CGS2, as stable as Householder: "twice is
enough"), and the spectral norm of P_T is taken on the host (``log_spectral_norm``).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn.core.cells import VectorParams, activation_and_derivative_parts
from jaxrnn.core.logspace import kahan_add
from jaxrnn.core.unroll import scan_read_off


def qr_cgs2(a: jax.Array) -> tuple[jax.Array, jax.Array]:
    """QR of a square matrix (n, n) by classical Gram-Schmidt with one re-orthogonalisation pass.

    Pure XLA ops (matrix-vector products), vmappable. A column that is exactly dependent on the
    previous ones gets r_jj = 0 (log -> -inf: a zero Lyapunov direction) and a zero q column.
    """
    n = a.shape[1]

    def column(j, qr):
        q, r = qr
        mask = (jnp.arange(n) < j).astype(a.dtype)
        v = a[:, j]
        c1 = (q.T @ v) * mask
        v = v - q @ c1
        c2 = (q.T @ v) * mask
        v = v - q @ c2
        nv = jnp.sqrt(jnp.sum(v * v))
        q = q.at[:, j].set(v / jnp.where(nv > 0, nv, 1.0))
        r = r.at[:, j].set(c1 + c2).at[j, j].set(nv)
        return q, r

    zero = jnp.zeros_like(a)
    return jax.lax.fori_loop(0, n, column, (zero, zero))


def log_spectral_norm(log_scale: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Host side: ``log ||J||_2 = log_scale + log sigma_max(P)`` for stacks of P (..., n, n)."""
    return np.asarray(log_scale, np.float64) + np.log(np.linalg.norm(np.asarray(p, np.float64), ord=2, axis=(-2, -1)))


def vector_step_jacobian(params: VectorParams, h, x, *, act: str):
    """Closed form: ``h' = act(W h + U x + b)`` and ``dh'/dh = diag(act'(a)) W`` (n, n)."""
    h_new, log_part, lin_part = activation_and_derivative_parts(act, params.W @ h + params.U @ x + params.b)
    return h_new, (jnp.exp(log_part) * lin_part)[:, None] * params.W


def autodiff_step_jacobian(cell, params, h, x):
    """Any cell's step and its Jacobian by ``jax.jacfwd`` (the twin, and GRU/LSTM's only route)."""
    return cell(params, h, x), jax.jacfwd(lambda s: cell(params, s, x))(h)


def log_norm_and_lyapunov(step_jacobian, h0, xs, read_idx):
    """(log-scale (R,), P (R, n, n), Lyapunov sums (R, n)) after each step in ``read_idx``.

    ``log ||dh_T/dh_0||_2 = log_spectral_norm(log_scale, P)`` (host side).
    step_jacobian(h, x) -> (h', A) ; h0 (n,), xs (T, k). Lyapunov exponents = sums / T.
    """
    n = h0.shape[0]
    eye = jnp.eye(n, dtype=h0.dtype)

    def step(carry, x):
        h, q, p, total, comp, lyap = carry
        h, a = step_jacobian(h, x)
        q, r = qr_cgs2(a @ q)
        lyap = lyap + jnp.log(jnp.abs(jnp.diagonal(r)))
        p = r @ p
        s = jnp.sqrt(jnp.sum(p * p))
        total, comp = kahan_add(total, comp, jnp.log(s))
        return h, q, p / s, total, comp, lyap

    def emit(c):
        _, _, p, total, comp, lyap = c
        return total - comp, p, lyap

    zero = jnp.zeros((), h0.dtype)
    init = (h0, eye, eye, zero, zero, jnp.zeros(n, h0.dtype))
    _, out = scan_read_off(step, init, xs, read_idx, emit)
    return out


def vector_log_norm(params: VectorParams, h0, xs, read_idx, *, act: str):
    """Closed-form route for the vector RNN."""
    return log_norm_and_lyapunov(functools.partial(vector_step_jacobian, params, act=act), h0, xs, read_idx)


def cell_log_norm(cell, params, h0, xs, read_idx):
    """Autodiff route for any cell (GRU, LSTM, or the vector RNN as a twin)."""
    return log_norm_and_lyapunov(functools.partial(autodiff_step_jacobian, cell, params), h0, xs, read_idx)
