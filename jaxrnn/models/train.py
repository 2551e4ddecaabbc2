"""Training many small tanh RNNs at once: one jitted, vmapped optax loop over configs and seeds.

A *config* row holds traced hyper-parameters: ``method`` (0 none, 1 clip by value, 2 clip by
global norm), ``tau`` (threshold), ``lr`` (Adam's learning rate), ``radius`` (spectral radius of
the initial recurrent matrix, a scaled random orthogonal matrix) and ``seed``. Every model is
``h_{t+1} = tanh(W h_t + U x_{t+1} + b)``, read out from h_T.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from jaxrnn.models import tasks
from jaxrnn.core.cells import VectorParams, vector_cell
from jaxrnn.core.jacobians import qr_cgs2
from jaxrnn.core.sweep import ROW_PARTS, map_blocks, part_rows
from jaxrnn.core.unroll import unroll

METHODS = ("none", "value", "norm")


def check_method(name: str) -> int:
    if name not in METHODS:
        raise ValueError(f"unknown clipping method {name!r}; choose from {', '.join(METHODS)}")
    return METHODS.index(name)


def check_threshold(tau) -> float:
    tau = float(tau)
    if not (tau > 0 and np.isfinite(tau)):
        raise ValueError(f"clipping threshold must be finite and > 0, got {tau!r}")
    return tau


class RNNParams(NamedTuple):
    cell: VectorParams
    V: jax.Array  # (outputs, n)
    c: jax.Array  # (outputs,)


def init_rnn(key, n: int, n_in: int, n_out: int, radius) -> RNNParams:
    """Recurrent W = radius x random orthogonal; U ~ N(0, 1/n_in); readout ~ N(0, 1/n)."""
    k1, k2, k3 = jax.random.split(key, 3)
    W = radius * qr_cgs2(jax.random.normal(k1, (n, n)))[0]
    U = jax.random.normal(k2, (n, n_in)) / jnp.sqrt(n_in)
    V = jax.random.normal(k3, (n_out, n)) / jnp.sqrt(n)
    return RNNParams(VectorParams(W, U, jnp.zeros(n)), V, jnp.zeros(n_out))


def predict(params: RNNParams, inputs) -> jax.Array:
    """inputs (L, k) -> outputs (o,) from the last state."""
    n = params.cell.W.shape[0]
    hs = unroll(functools.partial(vector_cell, act="tanh"), params.cell, jnp.zeros(n), inputs)
    return params.V @ hs[-1] + params.c


def loss_and_correct(task: str, params: RNNParams, batch: tasks.Batch):
    """Mean loss over the batch and the per-sequence 'correct' flags (the paper's criteria)."""
    out = jax.vmap(lambda x: predict(params, x))(batch.inputs)
    if task == "addition":
        sq = (out[:, 0] - batch.target) ** 2
        return jnp.mean(sq), sq < 0.04
    ce = optax.softmax_cross_entropy_with_integer_labels(out, batch.target)
    return jnp.mean(ce), jnp.argmax(out, axis=-1) == batch.target


def clip_selected(method, tau) -> optax.GradientTransformation:
    """The config's clipping, chosen by a traced ``method`` among optax's own transformations."""
    value, norm = optax.clip(tau), optax.clip_by_global_norm(tau)

    def select(updates, params=None):
        del params
        by_value = value.update(updates, value.init(updates))[0]
        by_norm = norm.update(updates, norm.init(updates))[0]
        return jax.tree.map(lambda g, v, m: jnp.select([method == 1, method == 2], [v, m], g),
                            updates, by_value, by_norm)

    return optax.stateless(select)


def optimizer(method, tau, lr) -> optax.GradientTransformation:
    """clip -> Adam, skipping any update whose raw gradient is not finite (``optax.apply_if_finite``)."""
    return optax.apply_if_finite(optax.chain(clip_selected(method, tau), optax.adam(lr)), max_consecutive_errors=10)


class TrainState(NamedTuple):
    params: RNNParams
    opt_state: object
    key: jax.Array


def init_state(row, task: str, n: int) -> TrainState:
    k_init, k_data = jax.random.split(jax.random.key(row["seed"]))
    params = init_rnn(k_init, n, tasks.n_inputs(task), tasks.n_outputs(task), row["radius"])
    return TrainState(params, optimizer(row["method"], row["tau"], row["lr"]).init(params), k_data)


def train_steps(row, state: TrainState, *, task: str, length: int, batch: int, steps: int):
    """``steps`` Adam steps for one config; returns (state, per-step (loss, raw gradient global norm))."""
    opt = optimizer(row["method"], row["tau"], row["lr"])

    def step(s: TrainState, _):
        key, sub = jax.random.split(s.key)
        data = tasks.make_batch(task, sub, length, batch)
        (loss, _), grads = jax.value_and_grad(lambda p: loss_and_correct(task, p, data), has_aux=True)(s.params)
        updates, opt_state = opt.update(grads, s.opt_state, s.params)
        return TrainState(optax.apply_updates(s.params, updates), opt_state, key), (loss, optax.tree.norm(grads))

    return lax.scan(step, state, None, length=steps)


def error_rate(params: RNNParams, task: str, length: int, n_eval: int, key) -> jax.Array:
    """Fraction of ``n_eval`` fresh sequences the model gets wrong."""
    return jnp.mean(~loss_and_correct(task, params, tasks.make_batch(task, key, length, n_eval))[1])


class TrainResult(NamedTuple):
    error_rate: np.ndarray  # (N,)
    loss: np.ndarray  # (N, steps // log_every) mean loss per window
    grad_norm_max: np.ndarray  # (N, steps // log_every) largest raw gradient norm per window
    grad_norm_median: np.ndarray


@functools.cache
def _compiled(task: str, n: int, length: int, batch: int, chunk: int, n_eval: int):
    def init(rows):
        return jax.vmap(lambda r: init_state(r, task, n))(rows)

    def run(rows, states):
        return jax.vmap(lambda r, s: train_steps(r, s, task=task, length=length, batch=batch, steps=chunk))(rows,
                                                                                                           states)

    def evaluate(states, key):
        return jax.vmap(lambda s: error_rate(s.params, task, length, n_eval, key))(states)

    return jax.jit(init), jax.jit(run), jax.jit(evaluate)


def train_grid(rows: dict, *, task: str, n: int, length: int, batch: int, steps: int, chunk: int = 250,
               log_every: int = 10, n_eval: int = 1000, eval_key, progress: bool | None = None,
               parts: int = ROW_PARTS, devices=None) -> TrainResult:
    """Train every config row (vmapped, one compiled chunk of ``chunk`` steps reused), then evaluate.

    rows: {"method", "tau", "lr", "radius", "seed"}, each (N,). The rows are trained in at most ``parts``
    blocks of ``part_rows(N, parts)`` rows, spread over the devices (``jaxrnn.core.sweep.map_blocks``):
    the block size, never the device count, fixes every number. tqdm shows progress over blocks.
    """
    tasks.check_length(length)
    if steps % chunk or chunk % log_every:
        raise ValueError(f"steps ({steps}) must be a multiple of chunk ({chunk}), and chunk of log_every ({log_every})")
    init, run, evaluate = _compiled(task, n, length, batch, chunk, n_eval)

    def block_fn(block, device):  # dispatched asynchronously: nothing here waits for the device
        block = jax.device_put(block, device)
        states = init(block)
        losses, norms = [], []
        for _ in range(steps // chunk):
            states, (loss, norm) = run(block, states)
            losses.append(loss)
            norms.append(norm)
        return evaluate(states, jax.device_put(eval_key, device)), tuple(losses), tuple(norms)

    rows = {k: np.asarray(v) for k, v in rows.items()}
    size = len(next(iter(rows.values())))
    err, losses, norms = map_blocks(block_fn, rows, part_rows(size, parts), devices=devices, progress=progress,
                                    desc=f"train {task}")
    loss = np.concatenate(losses, axis=1)
    norm = np.concatenate(norms, axis=1)
    win = lambda a: a.reshape(a.shape[0], -1, log_every)  # noqa: E731
    return TrainResult(err, win(loss).mean(-1), win(norm).max(-1), np.median(win(norm), axis=-1))
