"""Exact search as ground truth: depth-first branch and bound (Stahlberg & Byrne 2019) and exhaustive
enumeration."""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from jaxrnn.core.sweep import map_configs, stable_partial
from jaxrnn.models.decoding.beam import length_penalty_factor
from jaxrnn.models.decoding.core import NEG_INF, _model_vocab, check_options, log_softmax, vocab_size


class Exact(NamedTuple):
    """The best complete sequence of at most max_len ids (EOS included) by penalised score.

    tokens (max_len,), length, score (penalised), raw_score; found: a sequence beating ``lower_bound``
    was found; complete: the search finished within its node budget (only then is it exact);
    nodes: prefixes expanded."""

    tokens: jax.Array
    length: jax.Array
    score: jax.Array
    raw_score: jax.Array
    found: jax.Array
    complete: jax.Array
    nodes: jax.Array


def exact_search_with(logits_fn, transition_fn, params, state0, eos_id, length_penalty, lower_bound, *,
                      max_len: int, vocab: int, max_nodes: int) -> Exact:
    """Depth-first branch and bound (traced eos_id, length_penalty, lower_bound; no validation).

    A prefix of raw log-prob r can only lead to complete sequences of penalised score <= r / lp(max_len)
    (r <= 0 and lp >= 1 grows with the length; = r when alpha = 0): it is expanded only while that
    bound beats the best score so far (initially ``lower_bound``, e.g. a beam's score). Children are
    visited best first, so the greedy path is the first complete sequence tried. The stack holds
    (token, raw score, depth) and never needs more than (max_len - 1)(V - 1) + 1 slots; the states
    live once per depth along the current path (a popped child's parent is always the path's node
    one level up: depth first, its subtree is done before a sibling is popped).
    """
    L, V = max_len, vocab
    cap = max(1, (L - 1) * (V - 1) + 1)
    lp_max = length_penalty_factor(jnp.float32(L), length_penalty)

    def bound(raw):
        return raw / lp_max

    path_states = jax.tree.map(lambda s: jnp.broadcast_to(s, (L,) + jnp.shape(s)), state0)  # [d]: after d tokens
    init = dict(
        st_tok=jnp.full((cap,), -1, jnp.int32), st_raw=jnp.zeros(cap, jnp.float32),
        st_depth=jnp.zeros(cap, jnp.int32), sp=jnp.int32(1),  # slot 0: the root (token -1: no transition)
        path=jnp.full((L,), eos_id, jnp.int32), path_states=path_states,
        best_tok=jnp.full((L,), eos_id, jnp.int32), best_len=jnp.int32(0), best_score=jnp.float32(lower_bound),
        best_raw=jnp.float32(NEG_INF), found=jnp.bool_(False), nodes=jnp.int32(0))

    def cond(c):
        return (c["sp"] > 0) & (c["nodes"] < max_nodes)

    def body(c):
        i = c["sp"] - 1
        tok, raw, depth = c["st_tok"][i], c["st_raw"][i], c["st_depth"][i]
        up = jnp.maximum(depth - 1, 0)
        parent = jax.tree.map(lambda s: s[up], c["path_states"])
        state = lax.cond(tok >= 0, lambda: transition_fn(params, parent, jnp.maximum(tok, 0)), lambda: parent)
        path_states = jax.tree.map(lambda ps, s: ps.at[depth].set(s), c["path_states"], state)
        path = jnp.where(tok >= 0, c["path"].at[up].set(tok), c["path"])
        live = bound(raw) > c["best_score"]  # re-check: the incumbent may have improved since the push
        logp = log_softmax(logits_fn(params, state))
        # the EOS child: a complete sequence of depth + 1 ids
        done_raw = raw + logp[eos_id]
        done_score = done_raw / length_penalty_factor(depth + 1.0, length_penalty)
        better = live & (done_score > c["best_score"])
        pos = jnp.arange(L)
        best_tok = jnp.where(better, jnp.where(pos < depth, path, eos_id), c["best_tok"])
        best_score = jnp.where(better, done_score, c["best_score"])
        # the other children, pushed worst first so that the best is popped next
        child_raw = raw + logp
        ok = live & (jnp.arange(V) != eos_id) & (depth + 1 < L) & (bound(child_raw) > best_score)
        key = jnp.where(ok, child_raw, NEG_INF)
        order = jnp.argsort(-key, stable=True)  # valid children first, best first
        n_ok = jnp.sum(ok)
        rank = jnp.arange(V)
        slot = jnp.where(rank < n_ok, i + n_ok - 1 - rank, cap)  # best child on top; invalid: dropped
        return dict(
            st_tok=c["st_tok"].at[slot].set(order.astype(jnp.int32), mode="drop"),
            st_raw=c["st_raw"].at[slot].set(child_raw[order], mode="drop"),
            st_depth=c["st_depth"].at[slot].set(depth + 1, mode="drop"), sp=i + n_ok.astype(jnp.int32),
            path=path, path_states=path_states, best_tok=best_tok,
            best_len=jnp.where(better, depth + 1, c["best_len"]), best_score=best_score,
            best_raw=jnp.where(better, done_raw, c["best_raw"]), found=c["found"] | better, nodes=c["nodes"] + 1)

    c = lax.while_loop(cond, body, init)
    return Exact(c["best_tok"], c["best_len"], jnp.where(c["found"], c["best_score"], NEG_INF),
                 c["best_raw"], c["found"], c["sp"] == 0, c["nodes"])


_exact_search = jax.jit(exact_search_with, static_argnames=("logits_fn", "transition_fn", "max_len", "vocab",
                                                            "max_nodes"))


def exact_search(logits_fn, transition_fn, params, state0, *, max_len: int, eos_id: int,
                 length_penalty: float = 0.0, lower_bound: float = -np.inf, max_nodes: int = 1 << 20) -> Exact:
    """The most probable complete sequence by depth-first branch and bound (no enumeration).

    ``lower_bound``: only sequences scoring strictly above it are sought (S&B's beam bound); if none
    exists, ``found`` is False. ``complete`` is False if ``max_nodes`` expansions did not finish it.
    """
    vocab = vocab_size(logits_fn, params, state0)
    check_options(vocab, max_len=max_len, eos_id=eos_id, length_penalty=length_penalty)
    if not (isinstance(max_nodes, (int, np.integer)) and max_nodes >= 1):
        raise ValueError(f"max_nodes must be an integer >= 1, got {max_nodes!r}")
    if math.isnan(lower_bound) or lower_bound == math.inf:
        raise ValueError(f"lower_bound must be a number < inf, got {lower_bound!r}")
    return _exact_search(logits_fn, transition_fn, params, state0, jnp.int32(eos_id), jnp.float32(length_penalty),
                         jnp.float32(lower_bound), max_len=max_len, vocab=vocab, max_nodes=int(max_nodes))


def _score_row(row, params, state0, *, logits_fn, transition_fn, max_len, eos_id, vocab):
    """Raw log-prob of one enumerated sequence: ``row['n']`` tokens spelled by the base-(vocab - 1)
    digits of ``row['index']`` (the EOS id skipped), then EOS, then EOS padding."""
    n, idx = row["n"], row["index"]
    pos = jnp.arange(max_len)
    digits = (idx // (vocab - 1) ** pos) % (vocab - 1)
    tokens = jnp.where(pos < n, jnp.where(digits >= eos_id, digits + 1, digits), eos_id).astype(jnp.int32)

    def step(state, tp):
        tok, p = tp
        lp = jnp.where(p <= n, log_softmax(logits_fn(params, state))[tok], 0.0)
        return transition_fn(params, state, tok), lp

    _, lps = lax.scan(step, state0, (tokens, pos))
    return tokens, jnp.sum(lps)


MAX_ENUMERATED = 1 << 24


def enumerate_sequences(logits_fn, transition_fn, params, state0, *, max_len: int, eos_id: int, vocab: int,
                        chunk_size: int = 1 << 15):
    """Every complete sequence of at most max_len ids (n tokens then EOS, n < max_len), scored exactly.

    Returns (tokens (N, max_len), length n + 1 (N,), raw log-prob (N,)), N = sum_n (vocab - 1)^n;
    impossible sequences score -inf (never NaN).
    """
    _model_vocab(logits_fn, params, state0, vocab)
    check_options(vocab, max_len=max_len, eos_id=eos_id)
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
    (tokens, length, penalised score, raw log-prob); the first in enumeration order on ties; length 0
    and -inf scores when every sequence is impossible."""
    check_options(vocab, length_penalty=length_penalty)
    tokens, length, raw = enumerate_sequences(logits_fn, transition_fn, params, state0, max_len=max_len,
                                              eos_id=eos_id, vocab=vocab)
    pen = raw / np.asarray(length_penalty_factor(length.astype(np.float64), length_penalty))
    if not np.any(np.isfinite(pen)):
        return np.full(max_len, eos_id, np.int32), 0, -np.inf, -np.inf
    i = int(np.argmax(np.where(np.isfinite(pen), pen, -np.inf)))
    return tokens[i], int(length[i]), float(pen[i]), float(raw[i])
