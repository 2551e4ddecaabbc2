"""Greedy decoding and ancestral sampling with temperature, top-k, top-p and min-p masks."""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxrnn.models.decoding.core import (NEG_INF, TINY, TOP_P_TOL, Decoded, SamplerOptions, _clean, _concrete, _shifted,
                                         _two_prod, _two_sum, check_options, log_softmax, sampler_options,
                                         split_top_p, vocab_size)


def _top_p_cutoff(es, top_p, top_p_lo=0.0):
    """The smallest mass top-p keeps, from the masses ``es`` (V,) sorted descending (see top_p_keep);
    p = top_p + top_p_lo (a float32 pair)."""
    def add(acc, x):  # running sum as hi + lo, hi + x split exactly by TwoSum
        s, err = _two_sum(acc[0], x)
        return (s, acc[1] + err), acc

    zero = jnp.zeros((), es.dtype)
    total, (before_hi, before_lo) = lax.scan(add, (zero, zero), es)  # exclusive prefix sums
    ph, pl = _two_prod(total[0], top_p)
    pl = pl + (total[1] * top_p + total[0] * top_p_lo)  # the products below 2^-24 of p * total
    # before < p * total (up to TOP_P_TOL of the total) <=> (before_hi - ph) + (before_lo - pl) < -tol,
    # the first difference exact when close
    kept_sorted = ((before_hi - ph) + (before_lo - pl)) < -TOP_P_TOL * total[0]
    n_kept = jnp.maximum(jnp.sum(kept_sorted), 1)  # the top token is always kept
    return es[n_kept - 1]


def top_p_keep(e, top_p, top_p_lo=None):
    """Which tokens top-p keeps, from the unnormalised masses ``e`` (V,) >= 0 (``e = exp(l - max)``).

    Sorted by mass (descending), token i is kept iff the exact mass before it is below p * sum(e) by
    more than TOP_P_TOL (2^-40) of sum(e): a prefix whose mass equals the user's p reaches it. The kept
    set is that prefix plus every token tied with its last member. Decided with running sums kept as
    hi + lo (TwoSum: hi + x = s + err exactly), p as a float32 pair (``split_top_p``: the user's p,
    whatever its type) and an error-free product, whose errors stay far below the tolerance. The top
    token is always kept.
    """
    if top_p_lo is None:
        hi, lo = split_top_p(_concrete("top_p", top_p))
    else:
        hi, lo = top_p, top_p_lo
    return e >= _top_p_cutoff(jnp.sort(e)[::-1], jnp.float32(hi), jnp.float32(lo))


def _process(logits, opts: SamplerOptions):
    """The sampling distribution's logits (V,) (traced options; no validation: see process_logits).

    One sort serves top-k and top-p: the logits sorted descending carry their masses ``e = exp(y)``
    along (the same float32 values the masks compare), so top-p is exact on exactly those numbers.
    """
    x = _shifted(_clean(logits))  # max 0 where any token is possible
    vocab = x.shape[-1]
    possible = jnp.any(x > NEG_INF)
    is_max = x == 0.0
    first_max = jnp.arange(vocab) == jnp.argmax(x)
    greedy = opts.temperature < TINY
    y = jnp.where(greedy, jnp.where(first_max, 0.0, NEG_INF),
                  jnp.where(is_max, 0.0, x / jnp.where(greedy, 1.0, opts.temperature)))
    e = jnp.exp(y)
    neg_sorted, es = lax.sort((-y, e), num_keys=1)  # by logit, descending; the masses along
    # top-k: keep every token >= the k-th largest (ties with it kept)
    kth = -neg_sorted[jnp.clip(opts.top_k, 1, vocab) - 1]
    in_k = y >= kth
    # top-p on the exact masses of the top-k survivors (a prefix of the sorted order), then min-p:
    # e_max = exp(0) = 1 exactly, so p_i >= min_p p_max <=> e_i >= min_p
    cutoff = _top_p_cutoff(jnp.where(-neg_sorted >= kth, es, 0.0), opts.top_p, opts.top_p_lo)
    keep = in_k & ((e >= cutoff) | (opts.top_p >= 1.0)) & (e >= opts.min_p)
    return jnp.where(possible & keep, y, NEG_INF)


def process_logits(logits, *, temperature=1.0, top_k=None, top_p=None, min_p=None):
    """The sampling distribution's logits (V,): temperature, then top-k, top-p and min-p masks (-inf).

    The result is shifted so that its maximum is 0. temperature 0 (or below float32's smallest normal)
    keeps only the first argmax (greedy); a tiny temperature divides ``logits - max`` so large near-equal
    logits cannot overflow. Ties: top-k keeps every token tied with the k-th largest; top-p keeps the
    smallest prefix of the sorted distribution whose mass reaches top_p, plus every token tied with the
    last one kept (so top-1 on a tied maximum samples uniformly among the tied ids, as toolkits that
    mask ``logits < kth`` do, where greedy takes the lowest id). The most probable token is always kept.
    """
    logits = jnp.asarray(logits)
    if logits.ndim != 1:
        raise ValueError(f"process_logits takes one (V,) row (vmap it for batches), got shape {logits.shape}")
    return _process_jit(logits, sampler_options(int(logits.shape[0]), temperature=temperature, top_k=top_k,
                                                top_p=top_p, min_p=min_p))


_process_jit = jax.jit(_process)


# ---------------------------------------------------------------------------
# Greedy and sampling
# ---------------------------------------------------------------------------

def _decode(choose, logits_fn, transition_fn, params, state0, key, max_len, eos_id) -> Decoded:
    """Shared loop: ``choose(key, logits) -> (token, log q(token))`` each step (or a bare token,
    then log q is 0). A state with no possible token emits EOS with score -inf."""

    def step(carry, _):
        state, done, length, score, logq, key = carry
        key, sub = jax.random.split(key)
        logits = logits_fn(params, state)
        logp = log_softmax(logits)
        picked = choose(sub, logits)
        tok, lq = picked if isinstance(picked, tuple) else (picked, jnp.float32(0.0))
        tok = jnp.where(jnp.any(logp > NEG_INF), tok, eos_id)
        tok = jnp.where(done, eos_id, tok).astype(jnp.int32)
        score = score + jnp.where(done, 0.0, logp[tok])
        logq = logq + jnp.where(done, 0.0, lq)
        length = length + jnp.where(done, 0, 1)
        state = transition_fn(params, state, tok)
        return (state, done | (tok == eos_id), length, score, logq, key), tok

    init = (state0, jnp.bool_(False), jnp.int32(0), jnp.float32(0.0), jnp.float32(0.0), key)
    (_, done, length, score, logq, _), tokens = lax.scan(step, init, None, length=max_len)
    return Decoded(tokens, length, score, done, logq)


def _argmax(_, logits):
    return jnp.argmax(_clean(logits))


@functools.partial(jax.jit, static_argnames=("logits_fn", "transition_fn", "max_len"))
def _greedy(logits_fn, transition_fn, params, state0, eos_id, *, max_len):
    return _decode(_argmax, logits_fn, transition_fn, params, state0, jax.random.key(0), max_len, eos_id)


def greedy(logits_fn, transition_fn, params, state0, *, max_len: int, eos_id: int) -> Decoded:
    """Argmax at every step (the first maximum on ties)."""
    check_options(vocab_size(logits_fn, params, state0), max_len=max_len, eos_id=eos_id)
    return _greedy(logits_fn, transition_fn, params, state0, jnp.int32(eos_id), max_len=max_len)


def _sampled_token(key, logits, opts: SamplerOptions):
    y = _process(logits, opts)
    tok = jax.random.categorical(key, y)
    return tok, log_softmax(y)[tok]


def sample_with(key, logits_fn, transition_fn, params, state0, opts: SamplerOptions, *, max_len: int,
                eos_id) -> Decoded:
    """Ancestral sampling with traced options (no validation: build ``opts`` with :func:`sampler_options`).

    Jittable and vmappable over keys, params and options alike; ``score`` is the model's own
    (unprocessed) log-prob, ``logq`` the log-prob under the processed distribution.
    """
    return _decode(lambda k, lg: _sampled_token(k, lg, opts), logits_fn, transition_fn, params, state0, key,
                   max_len, eos_id)


_sample = jax.jit(sample_with, static_argnames=("logits_fn", "transition_fn", "max_len"))


def sample(key, logits_fn, transition_fn, params, state0, *, max_len: int, eos_id: int, temperature=1.0,
           top_k=None, top_p=None, min_p=None) -> Decoded:
    """Ancestral sampling from ``process_logits``. Batch it with ``jax.vmap`` over keys (and params);
    one compilation serves every option value."""
    vocab = vocab_size(logits_fn, params, state0)
    check_options(vocab, max_len=max_len, eos_id=eos_id)
    opts = sampler_options(vocab, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p)
    if opts.temperature.ndim:
        raise ValueError("sample takes scalar options; vmap sample_with over SamplerOptions to sweep them")
    return _sample(key, logits_fn, transition_fn, params, state0, opts, max_len=max_len, eos_id=jnp.int32(eos_id))


def forced_scores(logits_fn, transition_fn, params, state0, tokens, length, opts: SamplerOptions):
    """Teacher-forced (model log p, sampler log q) of one sequence ``tokens[:length]`` (traced options).

    log q = -inf iff some token was masked by the sampler: the sequence lies outside its support.
    """
    def step(carry, tt):
        state, lp, lq = carry
        tok, t = tt
        logits = logits_fn(params, state)
        on = t < length
        lp = lp + jnp.where(on, log_softmax(logits)[tok], 0.0)
        lq = lq + jnp.where(on, log_softmax(_process(logits, opts))[tok], 0.0)
        return (transition_fn(params, state, tok), lp, lq), None

    (_, lp, lq), _ = lax.scan(step, (state0, jnp.float32(0.0), jnp.float32(0.0)),
                              (tokens, jnp.arange(tokens.shape[0])))
    return lp, lq
