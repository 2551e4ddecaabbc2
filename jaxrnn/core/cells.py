"""Unbatched one-step RNN cells: ``cell(params, h, x) -> h``.

Time comes from ``lax.scan`` (see ``unroll``); batch and sweep axes come from
``vmap``. Every function here works on a single sequence element.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

ACTIVATIONS = ("sigmoid", "tanh")

# Largest value of act'(a) and where it is attained: sigmoid' <= 1/4, tanh' <= 1,
# both only at a = 0. The gradient bound of Problem 1(c) is |w| * MAX_DERIVATIVE per step.
MAX_DERIVATIVE = {"sigmoid": 0.25, "tanh": 1.0}


def check_activation(name: str) -> str:
    if name not in ACTIVATIONS:
        raise ValueError(f"unknown activation {name!r}; choose from {', '.join(ACTIVATIONS)}")
    return name


class ScalarParams(NamedTuple):
    """Scalar RNN ``h_{t+1} = act(u . x_{t+1} + w h_t + b)``; w, b: (); u: () or (K,) like x_t.

    A K-vector u lets one compiled sweep pick its input sequence per config without a gather:
    ``u = u0 * one_hot(k, K)`` with inputs x_t in R^K reads the k-th sequence.
    """

    w: jax.Array
    u: jax.Array
    b: jax.Array


def activation(name: str, a: jax.Array) -> jax.Array:
    """``act(a)`` with JAX's own primitives (and so JAX's own derivative rules)."""
    if name == "sigmoid":
        return jax.nn.sigmoid(a)
    if name == "tanh":
        return jnp.tanh(a)
    raise ValueError(f"unknown activation {name!r}")


def activation_and_derivative_parts(name: str, a: jax.Array) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(act(a), log_part, lin_part)`` with ``act'(a) = exp(log_part) * lin_part``.

    sigmoid: with e = exp(-|a|) and r = 1/(1+e): sigma(a) = r for a >= 0 and e r otherwise,
             sigma'(a) = e r^2, so log_part = -|a| and lin_part = r^2 in [1/4, 1].
    tanh:    with e = exp(-2|a|) and r = 1/(1+e): tanh'(a) = 4 e r^2, so
             log_part = log 4 - 2|a| and lin_part = r^2; the value is ``jnp.tanh(a)``
             (``sign(a) (1-e) r`` would lose all relative precision as a -> 0).

    Nothing cancels (unlike JAX's rule ``s (1 - s)``), nothing underflows (the small
    part lives in ``log_part``), and no log is taken: products of T derivatives are
    ``exp(sum log_part) * prod lin_part``, exact where the value is 1e-3000.
    """
    mag = jnp.abs(a)
    if name == "sigmoid":
        e = jnp.exp(-mag)
        r = 1.0 / (1.0 + e)
        return jnp.where(a >= 0, r, e * r), -mag, r * r
    if name == "tanh":
        e = jnp.exp(-2.0 * mag)
        r = 1.0 / (1.0 + e)
        return jnp.tanh(a), math.log(4.0) - 2.0 * mag, r * r
    raise ValueError(f"unknown activation {name!r}")


def log_derivative(name: str, a: jax.Array) -> jax.Array:
    """``log act'(a)``, exact in saturation (from ``activation_and_derivative_parts``)."""
    _, log_part, lin_part = activation_and_derivative_parts(name, a)
    return log_part + jnp.log(lin_part)


def scalar_preactivation(params: ScalarParams, h: jax.Array, x: jax.Array) -> jax.Array:
    """``a = u . x + w h + b``; h: (), x: () or (K,) -> ()."""
    return jnp.sum(params.u * x) + params.w * h + params.b


def scalar_cell(params: ScalarParams, h: jax.Array, x: jax.Array, *, act: str = "sigmoid") -> jax.Array:
    """One step of the scalar RNN: ``act(u . x + w h + b)``; h: (), x: () or (K,) -> ()."""
    return activation(act, scalar_preactivation(params, h, x))


class SkipParams(NamedTuple):
    """Skip-connection RNN ``h_{t+1} = act(u . x_{t+1} + w h_t + m h_{t-1} + b)``; w, m, b: (); u like x_t."""

    w: jax.Array
    m: jax.Array
    u: jax.Array
    b: jax.Array


def skip_preactivation(params: SkipParams, carry, x) -> jax.Array:
    """``a = u . x + w h_t + m h_{t-1} + b`` for carry ``(h_t, h_{t-1})``."""
    h, h_prev = carry
    return jnp.sum(params.u * x) + params.w * h + params.m * h_prev + params.b


def skip_cell(params: SkipParams, carry, x, *, act: str = "sigmoid"):
    """One step of the skip RNN on the carry ``(h_t, h_{t-1}) -> (h_{t+1}, h_t)``; scalars."""
    return activation(act, skip_preactivation(params, carry, x)), carry[0]


class VectorParams(NamedTuple):
    """Vector RNN ``h_{t+1} = act(W h_t + U x_{t+1} + b)``: W (n, n), U (n, k), b (n,)."""

    W: jax.Array
    U: jax.Array
    b: jax.Array


def vector_cell(params: VectorParams, h, x, *, act: str = "tanh"):
    """One step of the vector RNN: h (n,), x (k,) -> (n,)."""
    return activation(act, params.W @ h + params.U @ x + params.b)


class GRUParams(NamedTuple):
    """GRU: gates z, r and candidate from W (3, n, k), U (3, n, n), b (3, n) (order: z, r, candidate)."""

    W: jax.Array
    U: jax.Array
    b: jax.Array


def gru_cell(params: GRUParams, h, x):
    """One GRU step (Cho et al. 2014): h (n,), x (k,) -> (n,).

    z = sigma(W_z x + U_z h + b_z), r = sigma(W_r x + U_r h + b_r),
    c = tanh(W_c x + U_c (r * h) + b_c), h' = (1 - z) * h + z * c.
    """
    z = jax.nn.sigmoid(params.W[0] @ x + params.U[0] @ h + params.b[0])
    r = jax.nn.sigmoid(params.W[1] @ x + params.U[1] @ h + params.b[1])
    c = jnp.tanh(params.W[2] @ x + params.U[2] @ (r * h) + params.b[2])
    return (1.0 - z) * h + z * c


class LSTMParams(NamedTuple):
    """LSTM: input, forget, output gates and candidate from W (4, n, k), U (4, n, n), b (4, n)."""

    W: jax.Array
    U: jax.Array
    b: jax.Array


def lstm_cell(params: LSTMParams, state, x):
    """One LSTM step on the state ``s = concat(h, c)`` (2n,), x (k,) -> (2n,).

    i, f, o = sigma(W x + U h + b) per gate, g = tanh(W_g x + U_g h + b_g),
    c' = f * c + i * g, h' = o * tanh(c'). The state is one vector so that its
    Jacobian ds_T/ds_0 is one (2n, 2n) matrix.
    """
    n = state.shape[0] // 2
    h, c = state[:n], state[n:]
    pre = jnp.einsum("gnk,k->gn", params.W, x) + jnp.einsum("gnm,m->gn", params.U, h) + params.b
    i, f, o = jax.nn.sigmoid(pre[0]), jax.nn.sigmoid(pre[1]), jax.nn.sigmoid(pre[2])
    c = f * c + i * jnp.tanh(pre[3])
    return jnp.concatenate([o * jnp.tanh(c), c])
