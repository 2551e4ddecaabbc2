"""Decoders over any autoregressive model, and exact search as ground truth (Problem 3).

A model is two pure functions and its parameters: ``logits_fn(params, state) -> (V,)`` next-token
logits (V ids, EOS among them) and ``transition_fn(params, state, token) -> state``. Decoders are
fixed-shape and jittable (``max_len`` steps, sequences padded with EOS after it); pass the two
functions as static arguments. PRNG keys are explicit and live in the scan carry.

Conventions follow the ecosystem's option names: ``num_beams``, ``length_penalty`` (GNMT:
``score / ((5 + len) / 6) ** length_penalty``), ``top_k``, ``top_p``, ``min_p``, ``temperature``,
``max_len``, ``eos_id``. ``len`` counts the EOS token.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxrnn.core.sweep import map_configs, stable_partial

NEG_INF = -jnp.inf


class Decoded(NamedTuple):
    """tokens (..., max_len) padded with EOS; length (incl. EOS, = max_len if unfinished); score = sum of
    the model's token log-probs (incl. EOS); finished: EOS was emitted within max_len."""

    tokens: jax.Array
    length: jax.Array
    score: jax.Array
    finished: jax.Array


def check_options(vocab: int, *, top_k=None, top_p=None, min_p=None, temperature=1.0, num_beams=None,
                  max_len=None) -> None:
    """One-line errors naming the offending option (raised before anything is traced)."""
    if top_k is not None and not (isinstance(top_k, (int, np.integer)) and 1 <= top_k <= vocab):
        raise ValueError(f"top_k must be an integer in 1..{vocab} (the vocabulary incl. EOS), got {top_k!r}")
    if top_p is not None and not 0 < top_p <= 1:
        raise ValueError(f"top_p must lie in (0, 1], got {top_p!r}")
    if min_p is not None and not 0 <= min_p <= 1:
        raise ValueError(f"min_p must lie in [0, 1], got {min_p!r}")
    if temperature is None or not temperature >= 0 or not math.isfinite(temperature):
        raise ValueError(f"temperature must be a finite number >= 0, got {temperature!r}")
    if num_beams is not None and not (isinstance(num_beams, (int, np.integer)) and num_beams >= 1):
        raise ValueError(f"num_beams must be an integer >= 1, got {num_beams!r}")
    if max_len is not None and not (isinstance(max_len, (int, np.integer)) and max_len >= 1):
        raise ValueError(f"max_len must be an integer >= 1, got {max_len!r}")


def process_logits(logits, *, temperature=1.0, top_k=None, top_p=None, min_p=None):
    """The sampling distribution's logits (V,): temperature, then top-k, top-p and min-p masks (-inf).

    temperature 0 keeps only the argmax (greedy); a tiny temperature divides ``logits - max`` so
    near-equal large logits cannot overflow. Ties: top-k keeps every token tied with the k-th
    largest; top-p keeps the smallest prefix of the sorted distribution whose mass reaches top_p,
    plus every token tied with the last one kept; the most probable token is always kept.
    """
    logits = logits - jnp.max(logits)
    if temperature == 0:
        return jnp.where(jnp.arange(logits.shape[0]) == jnp.argmax(logits), 0.0, NEG_INF)
    logits = logits / temperature
    if top_k is not None:
        kth = lax.top_k(logits, top_k)[0][-1]
        logits = jnp.where(logits >= kth, logits, NEG_INF)
    if top_p is not None and top_p < 1:
        probs = jax.nn.softmax(logits)
        sorted_p = jnp.sort(probs)[::-1]
        before = jnp.cumsum(sorted_p) - sorted_p  # mass strictly before each sorted token
        cutoff = jnp.min(jnp.where(before < top_p, sorted_p, jnp.inf))  # smallest prob still kept
        logits = jnp.where(probs >= cutoff, logits, NEG_INF)
    if min_p is not None:
        probs = jax.nn.softmax(logits)
        logits = jnp.where(probs >= min_p * jnp.max(probs), logits, NEG_INF)
    return logits


def _decode(choose, logits_fn, transition_fn, params, state0, key, max_len, eos_id) -> Decoded:
    """Shared loop of greedy and sampling: ``choose(key, logits) -> token`` each step."""

    def step(carry, _):
        state, done, length, score, key = carry
        key, sub = jax.random.split(key)
        logits = logits_fn(params, state)
        tok = jnp.where(done, eos_id, choose(sub, logits))
        logp = jax.nn.log_softmax(logits)[tok]
        score = score + jnp.where(done, 0.0, logp)
        length = length + jnp.where(done, 0, 1)
        state = transition_fn(params, state, tok)
        return (state, done | (tok == eos_id), length, score, key), tok

    init = (state0, jnp.bool_(False), jnp.int32(0), jnp.float32(0.0), key)
    (_, done, length, score, _), tokens = lax.scan(step, init, None, length=max_len)
    return Decoded(tokens, length, score, done)


def vocab_size(logits_fn, params, state0) -> int:
    """V, the number of token ids (EOS included), from the logits' shape (nothing is computed)."""
    return int(jax.eval_shape(logits_fn, params, state0).shape[-1])


@functools.partial(jax.jit, static_argnames=("logits_fn", "transition_fn", "max_len", "eos_id"))
def _greedy(logits_fn, transition_fn, params, state0, *, max_len, eos_id):
    return _decode(lambda _, lg: jnp.argmax(lg), logits_fn, transition_fn, params, state0,
                   jax.random.key(0), max_len, eos_id)


def greedy(logits_fn, transition_fn, params, state0, *, max_len: int, eos_id: int) -> Decoded:
    """Argmax at every step (the first maximum on ties)."""
    check_options(vocab_size(logits_fn, params, state0), max_len=max_len)
    return _greedy(logits_fn, transition_fn, params, state0, max_len=max_len, eos_id=eos_id)


@functools.partial(jax.jit, static_argnames=("logits_fn", "transition_fn", "max_len", "eos_id", "temperature",
                                             "top_k", "top_p", "min_p"))
def _sample(key, logits_fn, transition_fn, params, state0, *, max_len, eos_id, temperature, top_k, top_p, min_p):
    proc = functools.partial(process_logits, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p)
    return _decode(lambda k, lg: jax.random.categorical(k, proc(lg)), logits_fn, transition_fn, params, state0,
                   key, max_len, eos_id)


def sample(key, logits_fn, transition_fn, params, state0, *, max_len: int, eos_id: int, temperature: float = 1.0,
           top_k=None, top_p=None, min_p=None) -> Decoded:
    """Ancestral sampling from ``process_logits``; the score is the model's own (unprocessed) log-prob.

    Batch it with ``jax.vmap`` over keys (and over models' params).
    """
    check_options(vocab_size(logits_fn, params, state0), top_k=top_k, top_p=top_p, min_p=min_p,
                  temperature=temperature, max_len=max_len)
    return _sample(key, logits_fn, transition_fn, params, state0, max_len=max_len, eos_id=eos_id,
                   temperature=float(temperature), top_k=top_k, top_p=top_p, min_p=min_p)


def length_penalty_factor(length, alpha):
    """GNMT: ((5 + len) / 6) ** alpha (alpha = 0: none)."""
    return ((5.0 + length) / 6.0) ** alpha


class Beams(NamedTuple):
    """Finished hypotheses, best first: tokens (k, max_len), length (k,), score (k,) penalised,
    raw_score (k,) = sum of log-probs; -inf scores where fewer than k hypotheses finished."""

    tokens: jax.Array
    length: jax.Array
    score: jax.Array
    raw_score: jax.Array


def beam_search(logits_fn, transition_fn, params, state0, *, num_beams: int, max_len: int, eos_id: int,
                length_penalty: float = 0.0) -> Beams:
    """Beam search of width k: each step scores the k x V extensions of the alive beams, sends the EOS
    ones to a pool of the k best finished hypotheses (penalised scores) and keeps the best k others
    alive. Stops early once no alive beam can beat the k-th finished one: log-probs only add
    negative terms, so an alive beam's best final penalised score is ``raw / lp(L)`` at L = t+2 or
    L = max_len (lp is monotone in L). k > V is allowed (extra beams stay at -inf).
    """
    check_options(vocab_size(logits_fn, params, state0), num_beams=num_beams, max_len=max_len)
    if not math.isfinite(length_penalty):
        raise ValueError(f"length_penalty must be finite, got {length_penalty!r}")
    return _beam_search(logits_fn, transition_fn, params, state0, num_beams=num_beams, max_len=max_len,
                        eos_id=eos_id, length_penalty=length_penalty)


@functools.partial(jax.jit, static_argnames=("logits_fn", "transition_fn", "num_beams", "max_len", "eos_id"))
def _beam_search(logits_fn, transition_fn, params, state0, *, num_beams, max_len, eos_id, length_penalty):
    k, L = num_beams, max_len
    states = jax.tree.map(lambda s: jnp.broadcast_to(s, (k,) + jnp.shape(s)), state0)
    alive_score = jnp.full((k,), NEG_INF).at[0].set(0.0)
    alive_tok = jnp.full((k, L), eos_id, jnp.int32)
    fin = Beams(jnp.full((k, L), eos_id, jnp.int32), jnp.zeros(k, jnp.int32), jnp.full((k,), NEG_INF),
                jnp.full((k,), NEG_INF))

    def step(carry, t):
        states, alive_tok, alive_score, fin, done = carry
        logp = jax.vmap(lambda s: jax.nn.log_softmax(logits_fn(params, s)))(states)  # (k, V)
        vocab = logp.shape[1]
        cand = alive_score[:, None] + logp
        # finished: every beam's EOS extension, merged into the pool
        eos_raw = cand[:, eos_id]
        eos_tok = alive_tok.at[:, t].set(eos_id)
        eos_pen = eos_raw / length_penalty_factor(t + 1.0, length_penalty)
        pool_score = jnp.concatenate([fin.score, eos_pen])
        best = lax.top_k(pool_score, k)[1]
        new_fin = Beams(jnp.concatenate([fin.tokens, eos_tok])[best],
                        jnp.concatenate([fin.length, jnp.full((k,), t + 1, jnp.int32)])[best],
                        pool_score[best], jnp.concatenate([fin.raw_score, eos_raw])[best])
        # alive: the best k non-EOS extensions
        flat = jnp.where(jnp.arange(vocab)[None, :] == eos_id, NEG_INF, cand).reshape(-1)
        top_score, top_idx = lax.top_k(flat, k)
        beam, tok = top_idx // vocab, top_idx % vocab
        new_tok = alive_tok[beam].at[:, t].set(tok)
        new_states = jax.vmap(lambda s, v: transition_fn(params, s, v))(jax.tree.map(lambda s: s[beam], states), tok)
        # early stop: the best any alive beam could still reach vs the k-th finished score
        reach = jnp.maximum(top_score / length_penalty_factor(t + 2.0, length_penalty),
                            top_score / length_penalty_factor(float(L), length_penalty))
        stop = (t + 1 >= L) | (jnp.max(reach) <= jnp.min(new_fin.score))
        keep = lambda new, old: jax.tree.map(lambda a, b: jnp.where(done, b, a), new, old)  # noqa: E731
        carry = (keep(new_states, states), keep(new_tok, alive_tok), keep(top_score, alive_score),
                 keep(new_fin, fin), done | stop)
        return carry, None

    (_, _, _, fin, _), _ = lax.scan(step, (states, alive_tok, alive_score, fin, jnp.bool_(False)), jnp.arange(L))
    return fin


# ---------------------------------------------------------------------------
# Exact search: the ground truth
# ---------------------------------------------------------------------------

def _score_row(row, params, state0, *, logits_fn, transition_fn, max_len, eos_id, vocab):
    """Raw log-prob of one enumerated sequence: ``row['n']`` tokens spelled by the base-(vocab - 1)
    digits of ``row['index']`` (the EOS id skipped), then EOS, then EOS padding."""
    n, idx = row["n"], row["index"]
    pos = jnp.arange(max_len)
    digits = (idx // (vocab - 1) ** pos) % (vocab - 1)
    tokens = jnp.where(pos < n, jnp.where(digits >= eos_id, digits + 1, digits), eos_id).astype(jnp.int32)

    def step(state, tp):
        tok, p = tp
        lp = jnp.where(p <= n, jax.nn.log_softmax(logits_fn(params, state))[tok], 0.0)
        return transition_fn(params, state, tok), lp

    _, lps = lax.scan(step, state0, (tokens, pos))
    return tokens, jnp.sum(lps)


MAX_ENUMERATED = 1 << 24


def enumerate_sequences(logits_fn, transition_fn, params, state0, *, max_len: int, eos_id: int, vocab: int,
                        chunk_size: int = 1 << 15):
    """Every complete sequence of at most max_len ids (n tokens then EOS, n < max_len), scored exactly.

    Returns (tokens (N, max_len), length n + 1 (N,), raw log-prob (N,)), N = sum_n (vocab - 1)^n.
    """
    check_options(vocab, max_len=max_len)
    total = sum((vocab - 1) ** n for n in range(max_len))
    if total > MAX_ENUMERATED:
        raise ValueError(f"max_len {max_len}: {total:,} sequences exceed the enumeration limit 2^24")
    ns = np.concatenate([np.full((vocab - 1) ** n, n) for n in range(max_len)]).astype(np.int32)
    idx = np.concatenate([np.arange((vocab - 1) ** n) for n in range(max_len)]).astype(np.int32)
    fn = stable_partial(_score_row, logits_fn=logits_fn, transition_fn=transition_fn, max_len=max_len, eos_id=eos_id,
                        vocab=vocab)
    tokens, score = map_configs(fn, {"n": ns, "index": idx}, (params, state0), chunk_size=chunk_size)
    return tokens, ns + 1, score


def exact_best_sequence(logits_fn, transition_fn, params, state0, *, max_len: int, eos_id: int, vocab: int,
                        length_penalty: float = 0.0) -> tuple[np.ndarray, int, float, float]:
    """The most probable complete sequence (by penalised score) by exhaustive enumeration:
    (tokens, length, penalised score, raw log-prob)."""
    tokens, length, raw = enumerate_sequences(logits_fn, transition_fn, params, state0, max_len=max_len,
                                              eos_id=eos_id, vocab=vocab)
    pen = raw / np.asarray(length_penalty_factor(length.astype(np.float64), length_penalty))
    i = int(np.argmax(pen))
    return tokens[i], int(length[i]), float(pen[i]), float(raw[i])
