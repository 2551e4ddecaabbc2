"""Training many small tanh RNNs at once: one jitted, vmapped optax loop over configs and seeds.

Every model is ``h_t = tanh(W h_{t-1} + U x_t + b)`` from ``h_0 = 0``, read out from the state after
the batch's last real input: ``y = V h_L + c`` (steps past a sequence's length are the identity,
``core.unroll.final_state``).

A *row* (one training run) holds traced options only, so one compiled program serves a whole sweep:

- ``method``: 0 no clipping, 1 clip by value (``optax.clip``: g_i <- max(-tau, min(tau, g_i))),
  2 clip by global norm (``optax.clip_by_global_norm``: g <- g min(1, tau / ||g||));
- ``tau``: the threshold (ignored by method 0);
- ``opt``: 0 plain SGD (``optax.sgd``: theta <- theta - lr g), 1 Adam (``optax.adam``);
- ``lr``: the learning rate; ``radius``: spectral radius of the initial recurrent matrix
  (W = radius x a random orthogonal matrix); ``seed``: initial parameters and training batches.

The gradient is clipped, then handed to the optimizer; an update whose raw gradient has a NaN or
inf entry is skipped (``optax.apply_if_finite``), for every method alike.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from jaxrnn.core.cells import VectorParams, vector_cell
from jaxrnn.core.jacobians import qr_cgs2
from jaxrnn.core.sweep import map_blocks
from jaxrnn.core.unroll import final_state
from jaxrnn.models import divergence, tasks

METHODS = ("none", "value", "norm")
OPTIMIZERS = ("sgd", "adam")
ROW_FIELDS = ("method", "tau", "opt", "lr", "radius", "seed")


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
    cell: VectorParams  # W (n, n), U (n, k), b (n,)
    V: jax.Array  # (outputs, n)
    c: jax.Array  # (outputs,)


def init_rnn(key, n: int, n_in: int, n_out: int, radius) -> RNNParams:
    """W = radius x random orthogonal (n, n); U ~ N(0, 1/n_in); V ~ N(0, 1/n); b = c = 0."""
    k1, k2, k3 = jax.random.split(key, 3)
    W = radius * qr_cgs2(jax.random.normal(k1, (n, n)))[0]
    U = jax.random.normal(k2, (n, n_in)) / jnp.sqrt(n_in)
    V = jax.random.normal(k3, (n_out, n)) / jnp.sqrt(n)
    return RNNParams(VectorParams(W, U, jnp.zeros(n)), V, jnp.zeros(n_out))


def predict(params: RNNParams, inputs, length) -> jax.Array:
    """inputs (T, k), length () int -> outputs (o,) read from h_length."""
    n = params.cell.W.shape[0]
    h = final_state(functools.partial(vector_cell, act="tanh"), params.cell, jnp.zeros(n), inputs, length)
    return params.V @ h + params.c


def loss_and_wrong(task: str, params: RNNParams, batch: tasks.Batch):
    """(mean loss over the batch, per-sequence 'wrong' flags (B,)): Pascanu's criteria.

    Regression: loss = mean squared error, wrong when the squared error > 0.04;
    temporal order: loss = mean cross-entropy (nats), wrong when the arg-max class is.
    """
    out = jax.vmap(lambda x, l: predict(params, x, l))(batch.inputs, batch.length)
    if tasks.is_regression(task):
        sq = (out[:, 0] - batch.target) ** 2
        return jnp.mean(sq), sq > tasks.SQUARED_ERROR_TOLERANCE
    ce = optax.softmax_cross_entropy_with_integer_labels(out, batch.target)
    return jnp.mean(ce), jnp.argmax(out, axis=-1) != batch.target


def clip_selected(method, tau) -> optax.GradientTransformation:
    """The row's clipping, chosen by a traced ``method`` among optax's own transformations."""
    value, norm = optax.clip(tau), optax.clip_by_global_norm(tau)

    def select(updates, params=None):
        del params
        by_value = value.update(updates, value.init(updates))[0]
        by_norm = norm.update(updates, norm.init(updates))[0]
        return jax.tree.map(lambda g, v, m: jnp.select([method == 1, method == 2], [v, m], g),
                            updates, by_value, by_norm)

    return optax.stateless(select)


def select_optimizer(opt, lr) -> optax.GradientTransformation:
    """optax.sgd(lr) when the traced ``opt`` is 0, optax.adam(lr) when it is 1 (both states are kept)."""
    sgd, adam = optax.sgd(lr), optax.adam(lr)

    def init(params):
        return sgd.init(params), adam.init(params)

    def update(updates, state, params=None):
        u_sgd, s_sgd = sgd.update(updates, state[0], params)
        u_adam, s_adam = adam.update(updates, state[1], params)
        return jax.tree.map(lambda a, b: jnp.where(opt == 1, b, a), u_sgd, u_adam), (s_sgd, s_adam)

    return optax.GradientTransformation(init, update)


MAX_SKIPS = 2 ** 30  # apply_if_finite gives up after this many non-finite gradients in a row: never, in practice


def optimizer(row, max_skips: int = MAX_SKIPS) -> optax.GradientTransformation:
    """clip -> SGD or Adam, skipping any update whose raw gradient is not finite (up to ``max_skips`` in a row)."""
    inner = optax.chain(clip_selected(row["method"], row["tau"]), select_optimizer(row["opt"], row["lr"]))
    return optax.apply_if_finite(inner, max_consecutive_errors=max_skips)


class TrainRecord(NamedTuple):
    """What one run leaves (leading axes added by vmap).

    loss (steps,): training-batch loss at every step; grad_norm (steps,): raw gradient global norm
    at every step (before clipping); eval_loss, eval_error (checks,): loss and error rate of the
    parameters after each block of ``steps // checks`` steps on a fresh evaluation set (the same
    set for every run: paired); grads: the raw gradient (a pytree with a leading (checks,) axis) of
    each block's last step.
    """

    loss: jax.Array
    grad_norm: jax.Array
    eval_loss: jax.Array
    eval_error: jax.Array
    grads: RNNParams


class RunState(NamedTuple):
    """The carry of one run between evaluations: parameters, optimizer state, the last raw gradient,
    the data key."""

    params: RNNParams
    opt_state: object
    grad: RNNParams
    key: jax.Array


def init_run(row, *, task: str, n: int) -> RunState:
    """The run's initial state: parameters from the row's seed and radius (unbatched; vmap over rows)."""
    k_init, k_data = jax.random.split(jax.random.key(row["seed"]))
    params = init_rnn(k_init, n, tasks.n_inputs(task), tasks.n_outputs(task), row["radius"])
    return RunState(params, optimizer(row).init(params), jax.tree.map(jnp.zeros_like, params), k_data)


def train_block(row, state: RunState, eval_key, *, task: str, length_min: int, length_max: int, batch: int,
                block: int, n_eval: int):
    """``block`` updates of one run, then an evaluation on the fresh set drawn from ``eval_key``.

    Returns (state, (loss (block,), raw gradient norm (block,), eval loss (), eval error ())). The
    seed's data key advances in the state, so the batches do not depend on how training is cut
    into blocks.
    """
    opt = optimizer(row)

    def step(s: RunState, _):
        key, sub = jax.random.split(s.key)
        data = tasks.make_batch(task, sub, length_min, length_max, batch)
        (loss, _), g = jax.value_and_grad(lambda q: loss_and_wrong(task, q, data), has_aux=True)(s.params)
        u, o = opt.update(g, s.opt_state, s.params)
        return RunState(optax.apply_updates(s.params, u), o, g, key), (loss, optax.tree.norm(g))

    state, (loss, norm) = lax.scan(step, state, None, length=block)
    ev = tasks.make_batch(task, eval_key, length_min, length_max, n_eval, per_sequence=True)
    ev_loss, wrong = loss_and_wrong(task, state.params, ev)
    return state, (loss, norm, ev_loss, jnp.mean(wrong))


def check_rows(rows: dict) -> dict:
    """Rows as typed numpy arrays of one common length (method/opt/seed int32, the rest float32)."""
    missing = [f for f in ROW_FIELDS if f not in rows]
    if missing:
        raise ValueError(f"training rows lack {missing}")
    out = {f: np.asarray(rows[f], np.int32 if f in ("method", "opt", "seed") else np.float32) for f in ROW_FIELDS}
    if len({v.shape for v in out.values()}) != 1 or out["seed"].ndim != 1:
        raise ValueError("training rows must be 1-D arrays of one common length")
    return out


@functools.cache
def _compiled(task: str, n: int, length_min: int, length_max: int, batch: int, block: int, n_eval: int):
    """(init, block) programs vmapped over rows; built once per static shape."""
    init = jax.jit(jax.vmap(functools.partial(init_run, task=task, n=n)))
    run = jax.jit(jax.vmap(functools.partial(train_block, task=task, length_min=length_min, length_max=length_max,
                                             batch=batch, block=block, n_eval=n_eval),
                           in_axes=(0, 0, None)))
    return init, run


@functools.cache
def _untrained(task: str, n: int, length_min: int, length_max: int, n_eval: int):
    """rows -> each row's untrained loss on the first evaluation set (the divergence rule's reference)."""
    def one(row, key):
        ev = tasks.make_batch(task, key, length_min, length_max, n_eval, per_sequence=True)
        return loss_and_wrong(task, init_run(row, task=task, n=n).params, ev)[0]

    return jax.jit(jax.vmap(one, in_axes=(0, None)))


def train_grid(rows: dict, *, task: str, n: int, length_min: int, length_max: int, batch: int, steps: int,
               checks: int, n_eval: int, eval_key, chunk_rows: int = 64, progress: bool | None = None,
               devices=None, measured=None) -> TrainRecord:
    """Train every row for ``steps`` steps, evaluating after each of ``checks`` equal blocks of steps.

    Rows are padded (repeating the last) to a multiple of ``chunk_rows`` and trained ``chunk_rows`` at a
    time (vmapped), the row blocks dealt over the devices by ``jaxrnn.core.sweep.map_blocks``: the block
    size, never the device count, fixes every number. Every block reuses the same two compiled programs.
    Evaluation set c is drawn from ``fold_in(eval_key, c)``: the same for every row. Returns numpy
    arrays with a leading (N,) axis.

    Every row is checked by the one divergence rule (``models.divergence``: untrained loss = the initial
    parameters' loss on the first evaluation set, final loss = the mean training loss over the last block);
    ``measured`` (N,) bool sets aside rows whose instability is what the caller measures.
    """
    tasks.check_task(task)
    tasks.check_lengths(length_min, length_max)
    if steps % checks:
        raise ValueError(f"steps ({steps}) must be a multiple of checks ({checks})")
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be >= 1, got {chunk_rows}")
    rows = check_rows(rows)
    init, run = _compiled(task, n, length_min, length_max, batch, steps // checks, n_eval)

    def block_fn(block, device):  # dispatched asynchronously: nothing here waits for the device
        block = jax.device_put(block, device)
        state = init(block)
        recs, grads = [], []
        for c in range(checks):
            state, rec = run(block, state, jax.device_put(jax.random.fold_in(eval_key, c), device))
            recs.append(rec)
            grads.append(state.grad)
        loss, norm = (jnp.concatenate([r[j] for r in recs], axis=1) for j in range(2))
        ev_loss, ev_err = (jnp.stack([r[j] for r in recs], axis=1) for j in (2, 3))
        return TrainRecord(loss, norm, ev_loss, ev_err, jax.tree.map(lambda *a: jnp.stack(a, axis=1), *grads))

    record = map_blocks(block_fn, rows, chunk_rows, devices=devices, progress=progress, desc=f"train {task}")
    untrained = np.asarray(_untrained(task, n, length_min, length_max, n_eval)(rows, jax.random.fold_in(eval_key, 0)))
    divergence.report(f"train_grid({task})", record.loss, untrained, measured=measured, final_window=steps // checks)
    return record
