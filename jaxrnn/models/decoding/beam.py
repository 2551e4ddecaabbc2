"""Beam search of width k under two rules for finished hypotheses (the pool rule and the toolkits'
top-k rule)."""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxrnn.models.decoding.core import NEG_INF, check_options, log_softmax, vocab_size


def length_penalty_factor(length, alpha):
    """GNMT: ((5 + len) / 6) ** alpha (alpha = 0: none); len counts EOS."""
    return ((5.0 + length) / 6.0) ** alpha


class Beams(NamedTuple):
    """Finished hypotheses, best first: tokens (k, max_len), length (k,), score (k,) penalised,
    raw_score (k,) = sum of log-probs; -inf scores where fewer than k hypotheses finished."""

    tokens: jax.Array
    length: jax.Array
    score: jax.Array
    raw_score: jax.Array


def beam_search(logits_fn, transition_fn, params, state0, *, num_beams: int, max_len: int, eos_id: int,
                length_penalty: float = 0.0, beam_rule: str = "pool") -> Beams:
    """Beam search of width k over the k x V extensions of the alive beams.

    Alive beams: the best k non-EOS extensions (both rules). Finished hypotheses go to a pool of the k
    best (penalised scores); which EOS extensions enter it is the ``beam_rule``:

    - ``"pool"`` (this suite's original rule): every alive beam's EOS extension is offered to the pool,
      so k = 1 is not greedy decoding (a finished short hypothesis can win at the end);
    - ``"top_k"`` (the common toolkits', e.g. fairseq and Hugging Face): an EOS extension is kept only
      if it ranks in the top k of all k x V candidates; k = 1 is then greedy decoding.

    Stops early once no alive beam can beat the k-th finished one (exact for both rules: log-probs only
    add negative terms, so an alive beam's best final penalised score is ``raw / lp(L)`` at L = t+2 or
    L = max_len, lp being monotone in L). k > V is allowed (extra beams stay at -inf). One compilation
    per (k, shape): length_penalty and the rule are traced.
    """
    vocab = vocab_size(logits_fn, params, state0)
    check_options(vocab, num_beams=num_beams, max_len=max_len, eos_id=eos_id, length_penalty=length_penalty,
                  beam_rule=beam_rule)
    return _beam_search(logits_fn, transition_fn, params, state0, jnp.int32(eos_id), jnp.float32(length_penalty),
                        jnp.bool_(beam_rule == "top_k"), num_beams=num_beams, max_len=max_len)


def beam_search_with(logits_fn, transition_fn, params, state0, eos_id, length_penalty, rule_top_k, width=None, *,
                     num_beams: int, max_len: int, with_open: bool = False):
    """Beam search with traced eos_id, length_penalty, rule flag (``True``: "top_k") and width; no validation.

    ``num_beams`` (static) is the buffer; ``width`` (traced, 1..num_beams, default num_beams) the beam
    width actually searched: beams and pool entries ranked at or beyond it are dropped (-inf), so one
    compilation serves every width up to the buffer, with the same result as a buffer of that width
    (ties are broken by index in both, and the dropped entries come last).
    ``with_open`` (static): also return the best raw score of the beams still open when the search ended
    (-inf if none), an upper bound on any completion of them: ``(Beams, open_raw)``.
    """
    k, L = num_beams, max_len
    width = jnp.int32(k) if width is None else jnp.clip(jnp.asarray(width, jnp.int32), 1, k)
    ranked = jnp.arange(k) < width
    states = jax.tree.map(lambda s: jnp.broadcast_to(s, (k,) + jnp.shape(s)), state0)
    alive_score = jnp.full((k,), NEG_INF).at[0].set(0.0)
    alive_tok = jnp.full((k, L), eos_id, jnp.int32)
    fin = Beams(jnp.full((k, L), eos_id, jnp.int32), jnp.zeros(k, jnp.int32), jnp.full((k,), NEG_INF),
                jnp.full((k,), NEG_INF))

    def step(carry, t):
        states, alive_tok, alive_score, fin, done = carry
        logp = jax.vmap(lambda s: log_softmax(logits_fn(params, s)))(states)  # (k, V), never NaN
        vocab = logp.shape[1]
        cand = alive_score[:, None] + logp  # -inf for dead beams and impossible tokens
        is_eos = jnp.arange(vocab)[None, :] == eos_id
        # which EOS extensions are offered to the pool
        top_all = lax.top_k(cand.reshape(-1), k)[1]
        in_top = jnp.zeros(k * vocab, bool).at[jnp.where(ranked, top_all, k * vocab)].set(True, mode="drop")
        in_top = in_top.reshape(k, vocab)
        offered = jnp.where(rule_top_k, in_top[:, eos_id], True)
        eos_raw = jnp.where(offered, cand[:, eos_id], NEG_INF)
        eos_tok = alive_tok.at[:, t].set(eos_id)
        eos_pen = eos_raw / length_penalty_factor(t + 1.0, length_penalty)
        pool_score = jnp.concatenate([fin.score, eos_pen])
        best = lax.top_k(pool_score, k)[1]  # ties: the earlier (already finished) hypothesis first
        new_fin = Beams(jnp.concatenate([fin.tokens, eos_tok])[best],
                        jnp.concatenate([fin.length, jnp.full((k,), t + 1, jnp.int32)])[best],
                        jnp.where(ranked, pool_score[best], NEG_INF),
                        jnp.where(ranked, jnp.concatenate([fin.raw_score, eos_raw])[best], NEG_INF))
        # alive: the best k non-EOS extensions
        flat = jnp.where(is_eos, NEG_INF, cand).reshape(-1)
        top_score, top_idx = lax.top_k(flat, k)
        top_score = jnp.where(ranked, top_score, NEG_INF)
        beam, tok = top_idx // vocab, top_idx % vocab
        new_tok = alive_tok[beam].at[:, t].set(tok)
        new_states = jax.vmap(lambda s, v: transition_fn(params, s, v))(jax.tree.map(lambda s: s[beam], states), tok)
        # early stop: the best any alive beam could still reach vs the k-th finished score
        reach = jnp.maximum(top_score / length_penalty_factor(t + 2.0, length_penalty),
                            top_score / length_penalty_factor(jnp.float32(L), length_penalty))
        stop = (t + 1 >= L) | (jnp.max(reach) <= new_fin.score[width - 1])  # the pool's worst (sorted)
        keep = lambda new, old: jax.tree.map(lambda a, b: jnp.where(done, b, a), new, old)  # noqa: E731
        carry = (keep(new_states, states), keep(new_tok, alive_tok), keep(top_score, alive_score),
                 keep(new_fin, fin), done | stop)
        return carry, None

    (_, _, alive_score, fin, _), _ = lax.scan(step, (states, alive_tok, alive_score, fin, jnp.bool_(False)),
                                              jnp.arange(L))
    return (fin, jnp.max(alive_score)) if with_open else fin


_beam_search = jax.jit(beam_search_with, static_argnames=("logits_fn", "transition_fn", "num_beams", "max_len",
                                                       "with_open"))
