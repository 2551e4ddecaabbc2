"""A GRU language model over a source's tokens, trained with teacher forcing, free running or
scheduled sampling (Bengio et al. 2015), vmapped over regimes, seeds and sources.

Ids: tokens 0..V-1, EOS = V, BOS = V + 1 (input only). The decoder's state is the GRU state h after
the last consumed token; ``lm_logits`` / ``lm_transition`` plug into ``jaxrnn.decoding``.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from jaxrnn import sources as S
from jaxrnn.cells import GRUParams, gru_cell
from jaxrnn.decoding import _decode

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

def sequence_nll(p: LMParams, tokens, length, eps, key):
    """Summed -log p_model(y_t | inputs) over the first ``length`` ids of one sequence (L,), with the
    input at step t being the true y_{t-1} with probability eps, else the model's own sample from its
    distribution at step t-1 (no gradient through the sample). Returns (nll, number of ids)."""
    bos = p.emb.shape[0] - 1

    def step(carry, yt):
        h, prev_true, prev_model, key = carry
        y, t = yt
        key, k_coin, k_samp = jax.random.split(key, 3)
        fed = jnp.where(t == 0, bos, jnp.where(jax.random.uniform(k_coin) < eps, prev_true, prev_model))
        h = lm_transition(p, h, fed)
        logits = lm_logits(p, h)
        nll = -jax.nn.log_softmax(logits)[y] * (t < length)
        own = lax.stop_gradient(jax.random.categorical(k_samp, logits))
        return (h, y, own, key), nll

    h0 = jnp.zeros(p.out.shape[1])
    _, nll = lax.scan(step, (h0, jnp.int32(0), jnp.int32(0), key), (tokens, jnp.arange(tokens.shape[0])))
    return nll.sum(), length.astype(jnp.float32)


class TrainOut(NamedTuple):
    params: LMParams
    loss: jax.Array  # (steps // log_every,) per-token NLL (under the regime's own inputs)


def train_lm(row, *, vocab: int, n: int, steps: int, batch: int, max_len: int, lr: float, log_every: int):
    """Train one LM for one config row: {"source": Source, "kind", "k", "c", "eps_min", "seed"}.

    Every update draws a fresh batch of complete sequences from the source (pure sampling)."""
    src = row["source"]
    k_init, k_data = jax.random.split(jax.random.key(row["seed"]))
    params = init_lm(k_init, vocab, n)
    opt = optax.adam(lr)

    def update(carry, i):
        params, opt_state, key = carry
        key, k_seq, k_flip = jax.random.split(key, 3)
        seqs = jax.vmap(lambda kk: _decode(lambda kq, lg: jax.random.categorical(kq, lg), S.source_logits,
                                           S.source_transition, src, S.source_state0(), kk, max_len, vocab))(
            jax.random.split(k_seq, batch))
        eps = schedule_eps(row["kind"], row["k"], row["c"], row["eps_min"], i)

        def loss_fn(pp):
            nll, count = jax.vmap(lambda t, l, kk: sequence_nll(pp, t, l, eps, kk))(
                seqs.tokens, seqs.length, jax.random.split(k_flip, batch))
            return nll.sum() / count.sum()

        loss, g = jax.value_and_grad(loss_fn)(params)
        u, opt_state = opt.update(g, opt_state, params)
        return (optax.apply_updates(params, u), opt_state, key), loss

    (params, _, _), losses = lax.scan(update, (params, opt.init(params), k_data), jnp.arange(steps))
    return TrainOut(params, losses.reshape(-1, log_every).mean(-1))


@functools.cache
def _compiled(vocab, n, steps, batch, max_len, lr, log_every):
    fn = functools.partial(train_lm, vocab=vocab, n=n, steps=steps, batch=batch, max_len=max_len, lr=lr,
                           log_every=log_every)
    return jax.jit(jax.vmap(fn))


def train_many(rows: dict, *, vocab: int, n: int, steps: int, batch: int, max_len: int, lr: float,
               log_every: int = 10) -> TrainOut:
    """One jitted, vmapped training run over every row (regimes x seeds x sources)."""
    if steps % log_every:
        raise ValueError(f"steps ({steps}) must be a multiple of log_every ({log_every})")
    return _compiled(vocab, n, steps, batch, max_len, float(lr), log_every)(rows)


def schedule_rows(schedules, seeds: int, source: S.Source | None = None, sources=None) -> dict:
    """Rows for every (schedule, seed) [x source]: schedules = [(kind, k, c, eps_min), ...]."""
    for kind, k, c, eps_min in schedules:
        check_schedule(kind, k, c, eps_min)
    srcs = sources if sources is not None else [source]
    rows = [(SCHEDULES.index(kind), k, c, e, s, i) for i, src in enumerate(srcs)
            for (kind, k, c, e) in schedules for s in range(seeds)]
    stacked = jax.tree.map(lambda *a: jnp.stack(a), *[srcs[r[5]] for r in rows])
    return {"source": stacked, "kind": np.asarray([r[0] for r in rows], np.int32),
            "k": np.asarray([r[1] for r in rows], np.float32), "c": np.asarray([r[2] for r in rows], np.float32),
            "eps_min": np.asarray([r[3] for r in rows], np.float32),
            "seed": np.asarray([r[4] for r in rows], np.int32)}
