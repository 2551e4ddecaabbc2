"""A GRU language model over a source's tokens, trained with teacher forcing, free running or
scheduled sampling (Bengio et al. 2015), vmapped over regimes, seeds and sources.

Ids: tokens 0..V-1, EOS = V, BOS = V + 1 (input only). The decoder's state is the GRU state h after
the last consumed token; ``lm_logits`` / ``lm_transition`` plug into ``jaxrnn.decoding``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from jaxrnn.models import sources as S
from jaxrnn.core.cells import GRUParams, gru_cell
from jaxrnn.models.decoding import _decode
from jaxrnn.core.sweep import ROW_PARTS, map_configs, part_rows, stable_partial, stack_trees

SCHEDULES = ("constant", "linear", "exponential", "inverse_sigmoid")


class LMParams(NamedTuple):
    emb: jax.Array  # (V + 2, d)
    gru: GRUParams  # W (3, n, d), U (3, n, n), b (3, n)
    out: jax.Array  # (V + 1, n)
    out_b: jax.Array  # (V + 1,)


def init_lm(key, vocab: int, n: int, d: int = 16) -> LMParams:
    ks = jax.random.split(key, 4)
    W = jax.random.normal(ks[0], (3, n, d)) / math.sqrt(d)
    U = jax.random.normal(ks[1], (3, n, n)) / math.sqrt(n)
    return LMParams(jax.random.normal(ks[2], (vocab + 2, d)), GRUParams(W, U, jnp.zeros((3, n))),
                    jax.random.normal(ks[3], (vocab + 1, n)) / math.sqrt(n), jnp.zeros(vocab + 1))


def lm_logits(p: LMParams, h):
    return p.out @ h + p.out_b


def lm_transition(p: LMParams, h, token):
    return gru_cell(p.gru, h, p.emb[token])


def lm_state0(p: LMParams):
    """The state after reading BOS."""
    return lm_transition(p, jnp.zeros(p.out.shape[1]), p.emb.shape[0] - 1)


# ---------------------------------------------------------------------------
# Sampling schedules: eps_i = probability of feeding the TRUE token at update i
# ---------------------------------------------------------------------------

def check_schedule(kind: str, k: float, c: float = 0.0, eps_min: float = 0.0) -> None:
    """One-line errors naming the option (Bengio et al. 2015's ranges)."""
    if kind not in SCHEDULES:
        raise ValueError(f"unknown schedule {kind!r}; choose from {', '.join(SCHEDULES)}")
    if kind == "constant" and not 0 <= k <= 1:
        raise ValueError(f"constant schedule: eps must lie in [0, 1], got k={k}")
    if kind == "linear" and (c < 0 or not 0 <= eps_min <= 1):
        raise ValueError(f"linear schedule: need c >= 0 and eps_min in [0, 1], got c={c}, eps_min={eps_min}")
    if kind == "exponential" and not 0 < k < 1:
        raise ValueError(f"exponential schedule: need 0 < k < 1, got k={k}")
    if kind == "inverse_sigmoid" and not k >= 1:
        raise ValueError(f"inverse_sigmoid schedule: need k >= 1, got k={k}")


def schedule_eps(kind_id, k, c, eps_min, i):
    """eps_i for a traced schedule id: constant k; linear max(eps_min, k - c i); exponential k^i;
    inverse sigmoid k / (k + exp(i / k))."""
    i = jnp.asarray(i, jnp.float32)
    linear = jnp.maximum(eps_min, k - c * i)
    expo = k ** i
    inv = k / (k + jnp.exp(jnp.minimum(i / jnp.maximum(k, 1.0), 80.0)))
    return jnp.clip(jnp.select([kind_id == 1, kind_id == 2, kind_id == 3], [linear, expo, inv], k), 0.0, 1.0)


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------

def feed_token(key, eps, true_token, model_token, forced):
    """The next input: the true token with probability eps (always where ``forced``), else the model's."""
    return jnp.where(forced | (jax.random.uniform(key) < eps), true_token, model_token)


def sequence_nll(p: LMParams, tokens, length, eps, key, loss_mask=None, forced=None):
    """Summed -log p_model(y_t | inputs) over one sequence (L,), and the number of scored ids.

    The input at step t is BOS at t = 0; else the true y_{t-1} with probability eps (or always, where
    ``forced[t-1]``: e.g. the given part of a seq2seq example), else the model's own sample from its
    distribution at step t-1 (no gradient through the sample, as in Bengio et al. 2015). Scored
    positions: ``loss_mask`` (default t < length)."""
    bos = p.emb.shape[0] - 1
    steps = jnp.arange(tokens.shape[0])
    loss_mask = steps < length if loss_mask is None else loss_mask
    forced = jnp.zeros(tokens.shape[0], bool) if forced is None else forced

    def step(carry, yt):
        h, prev_true, prev_model, prev_forced, key = carry
        y, t, scored, force = yt
        key, k_coin, k_samp = jax.random.split(key, 3)
        fed = jnp.where(t == 0, bos, feed_token(k_coin, eps, prev_true, prev_model, prev_forced))
        h = lm_transition(p, h, fed)
        logits = lm_logits(p, h)
        nll = -jax.nn.log_softmax(logits)[y] * scored
        own = lax.stop_gradient(jax.random.categorical(k_samp, logits))
        return (h, y, own, force, key), nll

    h0 = jnp.zeros(p.out.shape[1])
    init = (h0, jnp.int32(0), jnp.int32(0), jnp.bool_(True), key)
    _, nll = lax.scan(step, init, (tokens, steps, loss_mask, forced))
    return nll.sum(), jnp.sum(loss_mask).astype(jnp.float32)


class Data(NamedTuple):
    """A training batch: tokens (B, L), length (B,), loss_mask (B, L), forced (B, L) (next input always true)."""

    tokens: jax.Array
    length: jax.Array
    loss_mask: jax.Array
    forced: jax.Array


def source_data(row, key, *, batch: int, max_len: int, vocab: int) -> Data:
    """Fresh complete sequences from the row's source (pure sampling); every id scored, none forced."""
    seqs = jax.vmap(lambda kk: _decode(lambda kq, lg: jax.random.categorical(kq, lg), S.source_logits,
                                       S.source_transition, row["source"], S.source_state0(), kk, max_len, vocab))(
        jax.random.split(key, batch))
    steps = jnp.arange(max_len)[None, :]
    return Data(seqs.tokens, seqs.length, steps < seqs.length[:, None], jnp.zeros((batch, max_len), bool))


def reverse_data(row, key, *, batch: int, digits: int) -> Data:
    """Reverse a digit string: ``d_1..d_m SEP d_m..d_1 EOS`` (ids: digits 0-9, SEP = 10, EOS = 11).
    The given part (digits and SEP) is always fed true and not scored; the output part is scored."""
    del row
    d = jax.random.randint(key, (batch, digits), 0, 10)
    tokens = jnp.concatenate([d, jnp.full((batch, 1), 10), d[:, ::-1], jnp.full((batch, 1), 11)], axis=1)
    steps = jnp.arange(tokens.shape[1])[None, :]
    scored = jnp.broadcast_to(steps > digits, tokens.shape)
    forced = jnp.broadcast_to(steps < digits, tokens.shape)  # inputs after d_1..d_m, SEP: always true
    return Data(tokens, jnp.full((batch,), tokens.shape[1]), scored, forced)


class TrainOut(NamedTuple):
    params: LMParams
    loss: jax.Array  # (steps // log_every,) per-token NLL under the regime's own inputs
    tf_loss: jax.Array  # (steps // log_every,) per-token NLL with teacher forcing (the comparable one)


def train_lm(row, *, data_fn, vocab: int, n: int, steps: int, lr: float, log_every: int):
    """Train one LM for one config row {"kind", "k", "c", "eps_min", "seed", ...data fields}."""
    k_init, k_data = jax.random.split(jax.random.key(row["seed"]))
    params = init_lm(k_init, vocab, n)
    opt = optax.adam(lr)

    def batch_nll(pp, data, eps, key):
        nll, count = jax.vmap(lambda t, l, m, f, kk: sequence_nll(pp, t, l, eps, kk, m, f))(
            data.tokens, data.length, data.loss_mask, data.forced, jax.random.split(key, data.tokens.shape[0]))
        return nll.sum() / count.sum()

    def update(carry, i):
        params, opt_state, key = carry
        key, k_seq, k_flip = jax.random.split(key, 3)
        data = data_fn(row, k_seq)
        eps = schedule_eps(row["kind"], row["k"], row["c"], row["eps_min"], i)
        loss, g = jax.value_and_grad(batch_nll)(params, data, eps, k_flip)
        tf_loss = batch_nll(params, data, 1.0, k_flip)
        u, opt_state = opt.update(g, opt_state, params)
        return (optax.apply_updates(params, u), opt_state, key), (loss, tf_loss)

    (params, _, _), (losses, tf_losses) = lax.scan(update, (params, opt.init(params), k_data), jnp.arange(steps))
    return TrainOut(params, losses.reshape(-1, log_every).mean(-1), tf_losses.reshape(-1, log_every).mean(-1))


def train_many(rows: dict, *, vocab: int, n: int, steps: int, batch: int, max_len: int = 0, lr: float,
               log_every: int = 10, task: str = "source", digits: int = 0, parts: int = ROW_PARTS,
               devices=None) -> TrainOut:
    """One jitted, vmapped training run per block of rows (regimes x seeds x sources), blocks over the devices.

    task "source": fresh samples of each row's source; task "reverse": the digit-reversal task.
    The N rows are cut into at most ``parts`` blocks of ``part_rows(N, parts)`` rows (``map_configs``
    with ``lanes=1``): the block size, never the device count, fixes every number. Host arrays."""
    if steps % log_every:
        raise ValueError(f"steps ({steps}) must be a multiple of log_every ({log_every})")
    data_fn = (stable_partial(source_data, batch=batch, max_len=max_len, vocab=vocab) if task == "source"
               else stable_partial(reverse_data, batch=batch, digits=digits))
    fn = stable_partial(train_lm, data_fn=data_fn, vocab=vocab, n=n, steps=steps, lr=float(lr), log_every=log_every)
    size = len(rows["seed"])
    return map_configs(fn, rows, (), chunk_size=part_rows(size, parts), lanes=1, devices=devices, desc=f"train {task}")


def schedule_rows(schedules, seeds: int, source: S.Source | None = None, sources=None) -> dict:
    """Rows for every (schedule, seed) [x source]: schedules = [(kind, k, c, eps_min), ...]."""
    for kind, k, c, eps_min in schedules:
        check_schedule(kind, k, c, eps_min)
    srcs = sources if sources is not None else [source]
    rows = [(SCHEDULES.index(kind), k, c, e, s, i) for i, src in enumerate(srcs)
            for (kind, k, c, e) in schedules for s in range(seeds)]
    out = {"kind": np.asarray([r[0] for r in rows], np.int32), "k": np.asarray([r[1] for r in rows], np.float32),
           "c": np.asarray([r[2] for r in rows], np.float32), "eps_min": np.asarray([r[3] for r in rows], np.float32),
           "seed": np.asarray([r[4] for r in rows], np.int32)}
    if srcs[0] is not None:
        out["source"] = stack_trees([srcs[r[5]] for r in rows])
    return out
