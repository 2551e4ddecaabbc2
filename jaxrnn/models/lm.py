"""A GRU language model trained with teacher forcing, free running or scheduled sampling
(Bengio et al. 2015), vmapped over regimes, seeds and data sources in one jit.

Ids: tokens 0..V-1, EOS = V, BOS = V + 1 (input only). The decoder's state is the GRU state h after
the last consumed token; ``lm_logits`` / ``lm_transition`` plug into ``jaxrnn.models.decoding``.

Regimes. At update i the next input is the true previous token with probability eps_i and the
model's own sample (drawn from its softmax, no gradient through the draw) otherwise; inputs marked
``forced`` (the given part of a conditional task) are always the true token. eps_i = 1 is teacher
forcing, eps_i = 0 free running, a decaying eps_i scheduled sampling.
"""

from __future__ import annotations

import functools
import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from jaxrnn.core.cells import GRUParams, gru_cell
from jaxrnn.core.sweep import ROW_PARTS, map_blocks, part_rows, stable_partial, stack_trees
from jaxrnn.models import divergence
from jaxrnn.models import sources as S
from jaxrnn.models.decoding import Decoded, _decode

SCHEDULES = ("constant", "linear", "exponential", "inverse_sigmoid")


class LMParams(NamedTuple):
    emb: jax.Array  # (V + 2, d)
    gru: GRUParams  # W (3, n, d), U (3, n, n), b (3, n)
    out: jax.Array  # (V + 1, n)
    out_b: jax.Array  # (V + 1,)


def _normal(key, shape):
    """``jax.random.normal(key, shape)``, drawn flat and reshaped: the same values, but XLA on CPU compiles
    a multi-dimensional threefry draw (under vmap too) in seconds and a flat one in a fraction of that."""
    return jax.random.normal(key, (math.prod(shape),)).reshape(shape)


def init_lm(key, vocab: int, n: int, d: int = 16) -> LMParams:
    ks = jax.random.split(key, 4)
    W = _normal(ks[0], (3, n, d)) / math.sqrt(d)
    U = _normal(ks[1], (3, n, n)) / math.sqrt(n)
    return LMParams(_normal(ks[2], (vocab + 2, d)), GRUParams(W, U, jnp.zeros((3, n))),
                    _normal(ks[3], (vocab + 1, n)) / math.sqrt(n), jnp.zeros(vocab + 1))


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
    """One-line errors naming the option (Bengio et al. 2015's ranges; a floor eps_min in [0, 1))."""
    if kind not in SCHEDULES:
        raise ValueError(f"unknown schedule {kind!r}; choose from {', '.join(SCHEDULES)}")
    if kind == "constant" and not 0 <= k <= 1:
        raise ValueError(f"constant schedule: eps must lie in [0, 1], got k={k}")
    if not 0 <= eps_min < 1:
        raise ValueError(f"{kind} schedule: need eps_min in [0, 1), got eps_min={eps_min}")
    if kind == "linear" and (c < 0 or not 0 < k <= 1):
        raise ValueError(f"linear schedule: need c >= 0 and 0 < k <= 1, got k={k}, c={c}")
    if kind == "exponential" and not 0 < k < 1:
        raise ValueError(f"exponential schedule: need 0 < k < 1, got k={k}")
    if kind == "inverse_sigmoid" and not k >= 1:
        raise ValueError(f"inverse_sigmoid schedule: need k >= 1, got k={k}")


def schedule_eps(kind_id, k, c, eps_min, i):
    """eps_i for a traced schedule id (Bengio et al. 2015, Sec. 2.4), each decay floored at eps_min:

    constant: k; linear: max(eps_min, k - c i); exponential: max(eps_min, k^i);
    inverse sigmoid: max(eps_min, k / (k + exp(i / k))).
    The paper floors only the linear decay; a floor on all three keeps the final model a
    scheduled-sampling model (without it eps_i -> 0 and the end of training is free running)."""
    i = jnp.asarray(i, jnp.float32)
    linear = k - c * i
    expo = k ** i
    inv = k / (k + jnp.exp(jnp.minimum(i / jnp.maximum(k, 1.0), 80.0)))
    decayed = jnp.maximum(eps_min, jnp.select([kind_id == 1, kind_id == 2], [linear, expo], inv))
    return jnp.clip(jnp.where(kind_id == 0, k, decayed), 0.0, 1.0)


def schedule_name(kind: str, k: float, c: float, eps_min: float) -> str:
    if kind == "constant":
        return {1.0: "teacher forcing", 0.0: "free running"}.get(float(k), f"constant({k:g})")
    arg = f"{k:g}, c={c:g}" if kind == "linear" else f"{k:g}"
    return f"{kind}({arg}; floor {eps_min:g})"


def bengio_schedules(steps: int, floor: float, decay_end: float) -> list[tuple[str, float, float, float]]:
    """Bengio et al.'s three decays, each reaching the floor eps_min = ``floor`` at update
    i_end = ``decay_end * steps`` (and staying there): (kind, k, c, eps_min) for ``schedule_eps``.

    linear: k = 1, c = (1 - floor) / i_end; exponential: k = floor^(1 / i_end);
    inverse sigmoid: the k >= 1 with k / (k + exp(i_end / k)) = floor (bisection; the left side
    decreases in i_end / k, so the solution is unique)."""
    if not 0 < floor < 1 or not 0 < decay_end <= 1 or steps < 1:
        raise ValueError(f"need 0 < floor < 1, 0 < decay_end <= 1, steps >= 1; got {floor}, {decay_end}, {steps}")
    i_end = decay_end * steps

    def at_end(k):  # eps of the inverse sigmoid at i_end, minus the floor: increasing in k
        return k / (k + math.exp(min(i_end / k, 700.0))) - floor

    lo, hi = 1.0, max(2.0, i_end)
    if at_end(lo) >= 0:  # even k = 1 stays above the floor at i_end: take the steepest allowed decay
        k_inv = 1.0
    else:
        while at_end(hi) < 0:
            hi *= 2
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            lo, hi = (mid, hi) if at_end(mid) < 0 else (lo, mid)
        k_inv = 0.5 * (lo + hi)
    return [("linear", 1.0, (1.0 - floor) / i_end, floor), ("exponential", floor ** (1.0 / i_end), 0.0, floor),
            ("inverse_sigmoid", k_inv, 0.0, floor)]


# ---------------------------------------------------------------------------
# Training
# ---------------------------------------------------------------------------

def flat_draw(sampler, key, shape, **kwargs):
    """``sampler(key, shape)`` drawn as one flat vector and reshaped: the same distribution, but XLA
    compiles a vmapped multi-dimensional threefry draw several times more slowly than a flat one."""
    return sampler(key, (math.prod(shape),), **kwargs).reshape(shape)


class Data(NamedTuple):
    """A training batch: tokens (B, L), length (B,), loss_mask (B, L), forced (B, L).

    ``forced[b, t]``: the input after position t (i.e. at step t + 1) is always the true tokens[b, t]."""

    tokens: jax.Array
    length: jax.Array
    loss_mask: jax.Array
    forced: jax.Array


def sequence_nll(p: LMParams, tokens, loss_mask, forced, eps, coins, gumbel):
    """Summed -log p_model(y_t | inputs_<=t) over the scored positions of one sequence, and the inputs.

    tokens, loss_mask, forced, coins: (L,); gumbel: (L, V + 1) standard Gumbel noise.
    Input at step 0: BOS; at step t + 1: tokens[t] if ``forced[t]`` or coins[t] < eps, else the
    model's own sample argmax(logits_t + gumbel[t]) ~ softmax(logits_t) (no gradient through it).
    Returns (scalar NLL, fed (L,): the input consumed at each step)."""
    bos = p.emb.shape[0] - 1

    def step(carry, xs):
        h, fed = carry
        y, scored, force, coin, g = xs
        h = lm_transition(p, h, fed)
        logits = lm_logits(p, h)
        nll = -jax.nn.log_softmax(logits)[y] * scored
        own = jnp.argmax(lax.stop_gradient(logits) + g).astype(tokens.dtype)
        return (h, jnp.where(force | (coin < eps), y, own)), (nll, fed)

    init = (jnp.zeros(p.out.shape[1], p.out.dtype), jnp.asarray(bos, tokens.dtype))
    _, (nll, fed) = lax.scan(step, init, (tokens, loss_mask.astype(jnp.float32), forced, coins, gumbel))
    return nll.sum(), fed


def regime_noise(key, shape, n_out: int):
    """The randomness of a regime for a batch of token shape (B, L): coins (B, L) ~ U[0, 1) and
    Gumbel noise (B, L, n_out) for the model's own draws."""
    k_coin, k_gumbel = jax.random.split(key)
    return flat_draw(jax.random.uniform, k_coin, shape), flat_draw(jax.random.gumbel, k_gumbel, shape + (n_out,))


def batch_nll(p: LMParams, data: Data, eps, key):
    """Per scored token NLL of a batch under the regime eps (coins and model draws from ``key``)."""
    coins, gumbel = regime_noise(key, data.tokens.shape, p.out.shape[0])
    nll, _ = jax.vmap(sequence_nll, in_axes=(None, 0, 0, 0, None, 0, 0))(
        p, data.tokens, data.loss_mask, data.forced, eps, coins, gumbel)
    return nll.sum() / jnp.maximum(data.loss_mask.sum(), 1)


def batch_inputs(p: LMParams, data: Data, eps, key):
    """The inputs (B, L) that ``batch_nll`` feeds with the same arguments (for checks and figures)."""
    coins, gumbel = regime_noise(key, data.tokens.shape, p.out.shape[0])
    return jax.vmap(sequence_nll, in_axes=(None, 0, 0, 0, None, 0, 0))(
        p, data.tokens, data.loss_mask, data.forced, eps, coins, gumbel)[1]


def source_data(row, key, *, batch: int, max_len: int, vocab: int) -> Data:
    """Fresh sequences from the row's source (pure sampling); every id up to EOS scored, none forced.
    Sequences that do not finish within max_len are kept (their first max_len ids are scored)."""
    seqs = jax.vmap(lambda kk: _decode(lambda kq, lg: jax.random.categorical(kq, lg), S.source_logits,
                                       S.source_transition, row["source"], S.source_state0(), kk, max_len, vocab))(
        jax.random.split(key, batch))
    steps = jnp.arange(max_len)[None, :]
    return Data(seqs.tokens, seqs.length, steps < seqs.length[:, None], jnp.zeros((batch, max_len), bool))


def decode_with_noise(logits_fn, transition_fn, params, state0, gumbel, eos_id) -> Decoded:
    """Ancestral sampling with pre-drawn standard Gumbel noise ``gumbel`` (max_len, V + 1):
    token_t = argmax(logits_t + gumbel[t]), a draw from softmax(logits_t) (the Gumbel-max trick);
    after EOS the sequence is padded with EOS. Same output as ``decoding.sample`` at temperature 1,
    with the randomness drawn in one flat call (cheap to compile and run under vmap)."""

    def step(carry, g):
        state, done, length, score = carry
        logits = logits_fn(params, state)
        tok = jnp.where(done, eos_id, jnp.argmax(logits + g))
        score = score + jnp.where(done, 0.0, jax.nn.log_softmax(logits)[tok])
        length = length + jnp.where(done, 0, 1)
        return (transition_fn(params, state, tok), done | (tok == eos_id), length, score), tok

    dtype = jax.eval_shape(logits_fn, params, state0).dtype  # the score accumulates in the logits' dtype
    init = (state0, jnp.bool_(False), jnp.int32(0), jnp.zeros((), dtype))
    (_, done, length, score), tokens = lax.scan(step, init, gumbel)
    return Decoded(tokens, length, score, done, score)  # pure sampling: q is the model itself


def sample_many(logits_fn, transition_fn, params, state0, key, *, n: int, max_len: int, eos_id: int) -> Decoded:
    """n independent samples (``decode_with_noise``), fields with a leading axis n."""
    n_out = jax.eval_shape(logits_fn, params, state0).shape[-1]
    gumbel = flat_draw(jax.random.gumbel, key, (n, max_len, n_out))
    return jax.vmap(lambda g: decode_with_noise(logits_fn, transition_fn, params, state0, g, eos_id))(gumbel)


def source_batch(row, key, *, batch: int, max_len: int, vocab: int) -> Data:
    """Like ``source_data`` (fresh sequences of the row's source, every id up to EOS scored, unfinished
    ones kept and scored on their max_len ids), drawn with ``sample_many``."""
    seqs = sample_many(S.source_logits, S.source_transition, row["source"], S.source_state0(), key, n=batch,
                       max_len=max_len, eos_id=vocab)
    steps = jnp.arange(max_len)[None, :]
    return Data(seqs.tokens, seqs.length, steps < seqs.length[:, None], jnp.zeros((batch, max_len), bool))


class TrainOut(NamedTuple):
    params: LMParams
    loss: jax.Array  # (steps // log_every,) per-token NLL under the regime's own inputs, window means
    curve: object  # eval_fn(params, row) after every log_every updates (leading axis steps // log_every)


def train_lm(row, *, data_fn: Callable, eval_fn: Callable | None, vocab: int, n: int, steps: int, log_every: int,
             d: int = 16) -> TrainOut:
    """Train one LM for one row {"kind", "k", "c", "eps_min", "seed", "lr", ...data fields} with Adam.

    Update i draws a batch ``data_fn(row, key)`` and regime randomness from the seed's key chain, so
    rows that share a seed share the initialisation and every training batch (paired regimes).
    Only the regime's own forward/backward pass runs per update; ``eval_fn`` (held-out metrics)
    runs once every ``log_every`` updates."""
    k_init, k_data = jax.random.split(jax.random.key(row["seed"]))
    params = init_lm(k_init, vocab, n, d)
    opt = optax.adam(row["lr"])

    def update(carry, i):
        params, opt_state, key = carry
        key, k_seq, k_flip = jax.random.split(key, 3)
        data = data_fn(row, k_seq)
        eps = schedule_eps(row["kind"], row["k"], row["c"], row["eps_min"], i)
        loss, g = jax.value_and_grad(batch_nll)(params, data, eps, k_flip)
        u, opt_state = opt.update(g, opt_state, params)
        return (optax.apply_updates(params, u), opt_state, key), loss

    def window(carry, j):
        carry, losses = lax.scan(update, carry, j * log_every + jnp.arange(log_every))
        return carry, (losses.mean(), None if eval_fn is None else eval_fn(carry[0], row))

    (params, _, _), (losses, curve) = lax.scan(window, (params, opt.init(params), k_data),
                                               jnp.arange(steps // log_every))
    return TrainOut(params, losses, curve)


# LLVM optimisation level 1 instead of XLA CPU's default: this training graph compiles about twice as
# fast and runs no slower (measured on the 2-core CPU, see the study's README); ignored by other backends.
CPU_COMPILER_OPTIONS = {"xla_backend_optimization_level": 1}


@functools.cache
def _compiled(data_fn, eval_fn, vocab, n, steps, log_every, d):
    fn = functools.partial(train_lm, data_fn=data_fn, eval_fn=eval_fn, vocab=vocab, n=n, steps=steps,
                           log_every=log_every, d=d)
    options = CPU_COMPILER_OPTIONS if jax.default_backend() == "cpu" else None
    return jax.jit(jax.vmap(fn), compiler_options=options)


def train_rows(rows: dict, *, data_fn, eval_fn=None, vocab: int, n: int, steps: int, log_every: int,
               d: int = 16, parts: int = ROW_PARTS, devices=None) -> TrainOut:
    """One jitted, vmapped training run per block of rows (regimes x seeds x tasks), blocks over the devices.

    The N rows are cut into at most ``parts`` blocks of ``part_rows(N, parts)`` rows
    (``jaxrnn.core.sweep.map_blocks``): the block size, never the device count, fixes every number.
    ``data_fn`` and ``eval_fn`` must be stable objects (``sweep.stable_partial``) so the compilation is
    reused. Host arrays."""
    if steps % log_every:
        raise ValueError(f"steps ({steps}) must be a multiple of log_every ({log_every})")
    fn = _compiled(data_fn, eval_fn, vocab, n, steps, log_every, d)
    size = len(rows["seed"])
    out = map_blocks(lambda block, device: fn(jax.device_put(block, device)), rows, part_rows(size, parts),
                     devices=devices, desc="train")
    divergence.report("lm.train_rows", out.loss, divergence.uniform_loss(vocab))  # the one rule (models.divergence)
    return out


def train_many(rows: dict, *, vocab: int, n: int, steps: int, batch: int, max_len: int, lr: float | None = None,
               log_every: int = 10, parts: int = ROW_PARTS, devices=None) -> TrainOut:
    """Training on fresh samples of each row's source (rows from ``schedule_rows(..., sources=...)``)."""
    if lr is not None:
        rows = dict(rows, lr=np.full(rows["seed"].shape, lr, np.float32))
    data_fn = stable_partial(source_data, batch=batch, max_len=max_len, vocab=vocab)
    return train_rows(rows, data_fn=data_fn, vocab=vocab, n=n, steps=steps, log_every=log_every, parts=parts,
                      devices=devices)


def schedule_rows(schedules, seeds, source: S.Source | None = None, sources=None, lr: float = 3e-3) -> dict:
    """Rows for every [source x] (schedule, seed): schedules = [(kind, k, c, eps_min), ...];
    ``seeds`` an int (0..seeds-1) or the list of seed values."""
    for kind, k, c, eps_min in schedules:
        check_schedule(kind, k, c, eps_min)
    seed_list = list(range(seeds)) if isinstance(seeds, int) else [int(s) for s in seeds]
    srcs = sources if sources is not None else [source]
    rows = [(SCHEDULES.index(kind), k, c, e, s, i) for i, _ in enumerate(srcs)
            for (kind, k, c, e) in schedules for s in seed_list]
    out = {"kind": np.asarray([r[0] for r in rows], np.int32), "k": np.asarray([r[1] for r in rows], np.float32),
           "c": np.asarray([r[2] for r in rows], np.float32), "eps_min": np.asarray([r[3] for r in rows], np.float32),
           "seed": np.asarray([r[4] for r in rows], np.int32), "lr": np.full(len(rows), lr, np.float32)}
    if srcs[0] is not None:
        out["source"] = stack_trees([srcs[r[5]] for r in rows])
    return out
