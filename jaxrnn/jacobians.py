"""Jacobian products of vector RNNs in log space: ||dh_T/dh_0|| and the finite-time Lyapunov spectrum.

``J_T = A_T ... A_1`` with step Jacobians ``A_t = d s_t / d s_{t-1}`` (n, n). Carried as
``J_t = Q_t R_t ... R_1`` by QR re-orthonormalisation (``A_t Q_{t-1} = Q_t R_t``): the logs of
|diag R_t| summed give the finite-time Lyapunov exponents, and the triangular product
``P_t = R_t ... R_1``, rescaled to unit Frobenius norm with its log-scale carried (Kahan), gives
``||J_T||_2 = scale_T * ||P_T||_2`` since Q_T is orthogonal. Nothing under- or overflows.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from jaxrnn.cells import VectorParams, activation_and_derivative_parts
from jaxrnn.logspace import kahan_add
from jaxrnn.unroll import scan_read_off


def vector_step_jacobian(params: VectorParams, h, x, *, act: str):
    """Closed form: ``h' = act(W h + U x + b)`` and ``dh'/dh = diag(act'(a)) W`` (n, n)."""
    h_new, log_part, lin_part = activation_and_derivative_parts(act, params.W @ h + params.U @ x + params.b)
    return h_new, (jnp.exp(log_part) * lin_part)[:, None] * params.W


def autodiff_step_jacobian(cell, params, h, x):
    """Any cell's step and its Jacobian by ``jax.jacfwd`` (the twin, and GRU/LSTM's only route)."""
    return cell(params, h, x), jax.jacfwd(lambda s: cell(params, s, x))(h)


def log_norm_and_lyapunov(step_jacobian, h0, xs, read_idx):
    """(log ||dh_T/dh_0||_2, Lyapunov sums (n,)) after each step in ``read_idx``: (R,), (R, n).

    step_jacobian(h, x) -> (h', A) ; h0 (n,), xs (T, k). Lyapunov exponents = sums / T.
    """
    n = h0.shape[0]
    eye = jnp.eye(n, dtype=h0.dtype)

    def step(carry, x):
        h, q, p, total, comp, lyap = carry
        h, a = step_jacobian(h, x)
        q, r = jnp.linalg.qr(a @ q)
        lyap = lyap + jnp.log(jnp.abs(jnp.diagonal(r)))
        p = r @ p
        s = jnp.sqrt(jnp.sum(p * p))
        total, comp = kahan_add(total, comp, jnp.log(s))
        return h, q, p / s, total, comp, lyap

    def emit(c):
        _, _, p, total, comp, lyap = c
        return (total - comp) + jnp.log(jnp.linalg.norm(p, ord=2)), lyap

    zero = jnp.zeros((), h0.dtype)
    init = (h0, eye, eye, zero, zero, jnp.zeros(n, h0.dtype))
    _, (log_norm, lyap) = scan_read_off(step, init, xs, read_idx, emit)
    return log_norm, lyap


def vector_log_norm(params: VectorParams, h0, xs, read_idx, *, act: str):
    """Closed-form route for the vector RNN."""
    return log_norm_and_lyapunov(functools.partial(vector_step_jacobian, params, act=act), h0, xs, read_idx)


def cell_log_norm(cell, params, h0, xs, read_idx):
    """Autodiff route for any cell (GRU, LSTM, or the vector RNN as a twin)."""
    return log_norm_and_lyapunov(functools.partial(autodiff_step_jacobian, cell, params), h0, xs, read_idx)
