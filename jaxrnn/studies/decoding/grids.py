"""The decoding study's compiled grids: beams, exact modes, samples, and the C10 replay (one compilation each)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxrnn.models import decoding as dec
from jaxrnn.models import lm


@functools.partial(jax.jit, static_argnames=("logits_fn", "transition_fn", "state0_fn", "num_beams", "max_len"))
def beam_grid(params, eos_id, alphas, rules, widths, *, logits_fn, transition_fn, state0_fn, num_beams, max_len):
    """Beams for every (config, model), and the best open prefix's raw score where a search ended: alphas,
    rules, widths (C,) traced; buffer ``num_beams``."""
    state0 = jax.vmap(state0_fn)(params)

    def one(p, s0, a, r, w):
        return dec.beam_search_with(logits_fn, transition_fn, p, s0, eos_id, a, r, w, num_beams=num_beams,
                                    max_len=max_len, with_open=True)

    return jax.vmap(jax.vmap(one, (0, 0, None, None, None)), (None, None, 0, 0, 0))(params, state0, alphas, rules,
                                                                                    widths)


@functools.partial(jax.jit, static_argnames=("max_len", "vocab", "max_nodes"))
def exact_grid(params, lower, eos_id, *, max_len, vocab, max_nodes):
    """The exact mode (length penalty 0) of every GRU by branch and bound above ``lower`` (M,)."""
    def one(p, lb):
        return dec.exact_search_with(lm.lm_logits, lm.lm_transition, p, lm.lm_state0(p), eos_id, 0.0, lb,
                                     max_len=max_len, vocab=vocab, max_nodes=max_nodes)

    return jax.vmap(one)(params, lower)


@functools.partial(jax.jit, static_argnames=("max_len",))
def sample_grid(params, opts, keys, eos_id, *, max_len):
    """Samples (settings, models, n) with common random numbers (the same keys for every setting), and the
    C10 references on the same keys: greedy (models,) and pure categorical sampling (models, n)."""
    def one(o, p, k):
        return dec.sample_with(k, lm.lm_logits, lm.lm_transition, p, lm.lm_state0(p), o, max_len=max_len,
                               eos_id=eos_id)

    grid = jax.vmap(jax.vmap(jax.vmap(one, (None, None, 0)), (None, 0, 0)), (0, None, None))(opts, params, keys)

    def plain(p, k):
        # pure sampling from the max-shifted logits, the values every sampler draws from; this program
        # batches the model differently from the sampler grid, so its logits (and a rare Gumbel-max
        # near-tie) can still differ in the last bits: the verdict reads replay_agreement instead
        return dec._decode(lambda kq, lg: jax.random.categorical(kq, dec.shifted_logits(lg)), lm.lm_logits,
                           lm.lm_transition, p, lm.lm_state0(p), k, max_len, eos_id)

    greedy = jax.vmap(lambda p: dec._decode(lambda _, lg: jnp.argmax(lg), lm.lm_logits, lm.lm_transition, p,
                                            lm.lm_state0(p), jax.random.key(0), max_len, eos_id))(params)
    pure = jax.vmap(jax.vmap(plain, (None, 0)))(params, keys)
    return grid, greedy, pure


def greedy_reference(_, logits):
    """Greedy's token: the first maximum."""
    return jnp.argmax(dec.shifted_logits(logits))


def pure_reference(key, logits):
    """Pure sampling's token: a categorical draw from the unmasked logits."""
    return jax.random.categorical(key, dec.shifted_logits(logits))


@functools.partial(jax.jit, static_argnames=("reference",))
def replay_agreement(params, opts, keys, tokens, eos_id, *, reference):
    """(same, tied, steps), each (models, n): whether, at every step of each sample's own trajectory, the
    sampler with options ``opts`` draws the same token as ``reference(key, logits)`` from the same logits
    with the same key; how many of its steps had a tied maximum logit; how many steps it took.

    The per-step keys are split as ``decoding._decode`` splits them. Both draws see one array of logits
    in one program, so the check is the identity itself, free of the last-bit differences two separately
    batched programs can give the model's logits (which can flip a Gumbel-max near-tie)."""
    def one(p, key, toks):
        def step(carry, tok):
            state, done, key = carry
            key, sub = jax.random.split(key)
            logits = lm.lm_logits(p, state)
            same = (dec._sampled_token(sub, logits, opts)[0] == reference(sub, logits)) | done
            tied = ~done & (jnp.sum(logits == jnp.max(logits)) > 1)
            return (lm.lm_transition(p, state, tok), done | (tok == eos_id), key), (same, tied, ~done)

        same, tied, live = lax.scan(step, (lm.lm_state0(p), jnp.bool_(False), key), toks)[1]
        return jnp.all(same), jnp.sum(tied), jnp.sum(live)

    return jax.vmap(jax.vmap(one, (None, 0, 0)), (0, 0, 0))(params, keys, tokens)


@jax.jit
def forced_grid(params, opts, tokens, length):
    """Whether each held-out source sample lies inside each setting's support: (settings, models, n_true).

    The model's logits along a sequence do not depend on the setting: they are computed once per (model,
    sequence), then every setting's mask is applied to them (twin: ``decoding.forced_scores``' log q > -inf).
    """
    def logits_along(p, t):
        def step(h, tok):
            return lm.lm_transition(p, h, tok), lm.lm_logits(p, h)

        return lax.scan(step, lm.lm_state0(p), t)[1]  # (L, V): the logits each token was drawn from

    lg = jax.vmap(jax.vmap(logits_along, (None, 0)), (0, 0))(params, tokens)  # (models, n, L, V)
    on = jnp.arange(tokens.shape[-1])[None, None, :] < length[..., None]  # (models, n, L)

    def inside(o):
        y = jax.vmap(jax.vmap(jax.vmap(dec._process, (0, None)), (0, None)), (0, None))(lg, o)
        hit = jnp.take_along_axis(y, tokens[..., None], -1)[..., 0] > -jnp.inf
        return jnp.all(hit | ~on, axis=-1)

    return jax.vmap(inside)(opts)
