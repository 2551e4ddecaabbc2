"""Stochastic sources with exactly computable probabilities: probabilistic deterministic automata.

A source has S states; in state s it emits token v in 0..V-1 or EOS (id V) with probability
``exp(emit_logp[s, v])`` and moves to ``next_state[s, v]``. Some (state, token) pairs are
forbidden (probability exactly 0): a sequence using one is impossible, "nonsense".
Because the state is a function of the prefix, ``p(sequence)`` is a product along one path
(the forward filter has a single live state), so every probability here is exact.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class Source(NamedTuple):
    """emit_logp (S, V+1) (log probabilities, -inf = forbidden; last column EOS); next_state (S, V)."""

    emit_logp: jax.Array
    next_state: jax.Array

    @property
    def vocab(self) -> int:
        return self.next_state.shape[1]

    @property
    def eos_id(self) -> int:
        return self.next_state.shape[1]


def random_source(key, n_states: int, vocab: int, *, forbidden: float = 0.3, eos: float = 0.15,
                  concentration: float = 0.5, start_eos: bool = False) -> Source:
    """A random source: Dirichlet(concentration) emissions, a fraction ``forbidden`` of tokens banned
    per state (never all), EOS with probability uniform in (0, 2 eos) per state, random transitions.
    The start state emits EOS only with ``start_eos`` (then the empty sequence is possible and EOS
    competes from the first step); without it the empty sequence is impossible."""
    if n_states < 1 or vocab < 2:
        raise ValueError(f"source needs n_states >= 1 and vocab >= 2, got {n_states}, {vocab}")
    if not 0 <= forbidden < 1 or not 0 < eos < 1:
        raise ValueError(f"source needs 0 <= forbidden < 1 and 0 < eos < 1, got {forbidden}, {eos}")
    k1, k2, k3, k4, k5 = jax.random.split(key, 5)
    probs = jax.random.dirichlet(k1, jnp.full(vocab, concentration), (n_states,))
    banned = jax.random.uniform(k2, (n_states, vocab)) < forbidden
    keep_one = jax.nn.one_hot(jax.random.randint(k3, (n_states,), 0, vocab), vocab) > 0
    probs = jnp.where(banned & ~keep_one, 0.0, probs)
    p_eos = jax.random.uniform(k5, (n_states, 1), minval=0.0, maxval=min(2 * eos, 0.95))
    p_eos = p_eos if start_eos else p_eos.at[0].set(0.0)
    probs = probs / probs.sum(axis=1, keepdims=True) * (1 - p_eos)
    probs = jnp.concatenate([probs, p_eos], axis=1)
    with np.errstate(divide="ignore"):
        emit_logp = np.log(np.asarray(probs, np.float64))
    return Source(jnp.asarray(emit_logp, jnp.float32), jax.random.randint(k4, (n_states, vocab), 0, n_states))


@functools.partial(jax.jit, static_argnames=("n", "n_states", "vocab"))
def _random_tables(key, *, n, n_states, vocab, forbidden, eos, concentration, start_eos=False):
    size = n_states * vocab  # draws are flat, then reshaped: XLA on CPU compiles multi-dimensional ones slowly

    def one(k):
        k1, k2, k3, k4, k5 = jax.random.split(k, 5)
        gam = jax.random.gamma(k1, jnp.full(size, concentration)).reshape(n_states, vocab)  # Dirichlet rows
        banned = (jax.random.uniform(k2, (size,)) < forbidden).reshape(n_states, vocab)
        keep_one = jax.nn.one_hot(jax.random.randint(k3, (n_states,), 0, vocab), vocab) > 0
        gam = jnp.where(banned & ~keep_one, 0.0, gam)
        p_eos = jax.random.uniform(k5, (n_states,), minval=0.0, maxval=jnp.minimum(2 * eos, 0.95))
        p_eos = p_eos.at[0].multiply(jnp.where(start_eos, 1.0, 0.0))
        probs = gam / gam.sum(axis=1, keepdims=True) * (1 - p_eos[:, None])
        probs = jnp.concatenate([probs, p_eos[:, None]], axis=1)
        return probs, jax.random.randint(k4, (size,), 0, n_states).reshape(n_states, vocab)

    return jax.vmap(one)(jax.random.split(key, n))


def random_sources(key, n: int, n_states: int, vocab: int, *, forbidden: float = 0.3, eos: float = 0.15,
                   concentration: float = 0.5, start_eos: bool = False) -> list[Source]:
    """``n`` random sources from the distribution :func:`random_source` draws from, in one compiled call
    (not the same draws: the keys are split differently; Dirichlet rows as normalised Gamma draws).
    ``start_eos``: EOS is possible from the first step (see :func:`random_source`)."""
    if n < 1 or n_states < 1 or vocab < 2:
        raise ValueError(f"sources need n >= 1, n_states >= 1 and vocab >= 2, got {n}, {n_states}, {vocab}")
    if not 0 <= forbidden < 1 or not 0 < eos < 1 or not concentration > 0:
        raise ValueError(f"sources need 0 <= forbidden < 1, 0 < eos < 1, concentration > 0, got {forbidden}, {eos}, "
                         f"{concentration}")
    probs, nxt = _random_tables(key, n=n, n_states=n_states, vocab=vocab, forbidden=forbidden, eos=eos,
                                concentration=concentration, start_eos=bool(start_eos))
    with np.errstate(divide="ignore"):
        emit = np.log(np.asarray(probs, np.float64))
    return [Source(jnp.asarray(e, jnp.float32), jnp.asarray(t)) for e, t in zip(emit, np.asarray(nxt))]


def source_state0() -> jax.Array:
    return jnp.int32(0)


def source_logits(src: Source, state) -> jax.Array:
    """Next-token log probabilities (V+1,) in ``state``."""
    return src.emit_logp[state]


def source_transition(src: Source, state, token) -> jax.Array:
    """State after ``token`` (EOS, or anything after it, leaves the state unchanged)."""
    return jnp.where(token < src.vocab, src.next_state[state, jnp.minimum(token, src.vocab - 1)], state)


def sequence_log_prob(src: Source, tokens, length) -> jax.Array:
    """Exact ``log p(tokens[:length])`` of a complete sequence whose last kept token is EOS.

    tokens: (L,) ints; positions >= length are ignored. -inf if any token is forbidden.
    """
    def step(state, tl):
        tok, t = tl
        lp = jnp.where(t < length, source_logits(src, state)[tok], 0.0)
        return source_transition(src, state, tok), lp

    _, lps = jax.lax.scan(step, source_state0(), (tokens, jnp.arange(tokens.shape[0])))
    return jnp.sum(lps)


def conditional(src: Source, prefix, length) -> jax.Array:
    """p(. | prefix[:length]) (V+1,) by filtering the prefix through the automaton."""
    def step(state, tl):
        tok, t = tl
        return jnp.where(t < length, source_transition(src, state, tok), state), None

    state, _ = jax.lax.scan(step, source_state0(), (prefix, jnp.arange(prefix.shape[0])))
    return jnp.exp(source_logits(src, state))


def smoothed(src: Source, eps: float) -> Source:
    """A model of the source that leaks probability eps uniformly onto every token (nonsense too):
    ``p_model = (1 - eps) p_true + eps / (V + 1)``, same states. Exact, like the source."""
    p = (1 - eps) * jnp.exp(src.emit_logp) + eps / (src.vocab + 1)
    return Source(jnp.log(p), src.next_state)


def viterbi_best_sequence(src: Source, max_len: int) -> tuple[np.ndarray, float]:
    """The most probable complete sequence of at most max_len ids (EOS included), by dynamic
    programming over (length, state): the source is first-order Markov in its state.

    Returns (tokens ending with EOS, log-prob). Twin of exhaustive enumeration.
    """
    emit = np.asarray(src.emit_logp, np.float64)
    nxt = np.asarray(src.next_state)
    n_states, vocab = nxt.shape
    score = np.full(n_states, -np.inf)
    score[0] = 0.0
    back = []
    best = (-np.inf, None, None)  # (log-prob, length t, final state)
    for t in range(max_len):
        done = score + emit[:, vocab]
        s = int(np.argmax(done))
        if done[s] > best[0]:
            best = (float(done[s]), t, s)
        if t == max_len - 1:
            break
        cand = score[:, None] + emit[:, :vocab]  # (S, V)
        new = np.full(n_states, -np.inf)
        ptr = np.zeros((n_states, 2), int)
        for s0 in range(n_states):
            for v in range(vocab):
                if cand[s0, v] > new[nxt[s0, v]]:
                    new[nxt[s0, v]] = cand[s0, v]
                    ptr[nxt[s0, v]] = (s0, v)
        back.append(ptr)
        score = new
    logp, t, s = best
    if t is None:  # no complete sequence within max_len has positive probability
        return np.zeros(0, int), -np.inf
    tokens = [vocab]
    for ptr in reversed(back[:t]):
        s, v = ptr[s]
        tokens.append(int(v))
    return np.asarray(tokens[::-1]), logp


def windowed(src: Source, min_len: int, max_len: int) -> Source:
    """The source with its lengths confined to ``min_len..max_len`` tokens (EOS excluded).

    States become (s, t) with t = tokens emitted so far (capped at max_len): before min_len EOS is
    forbidden and the tokens renormalised, from min_len on the base source's EOS probability holds,
    at max_len only EOS is possible. Still deterministic in its state, so probabilities stay exact.
    State index: ``s * (max_len + 1) + t``; the start state is (0, 0) = 0.
    """
    if not 0 <= min_len <= max_len:
        raise ValueError(f"need 0 <= min_len <= max_len, got {min_len}, {max_len}")
    emit = np.asarray(src.emit_logp, np.float64)
    nxt = np.asarray(src.next_state)
    n_states, vocab = nxt.shape
    T = max_len + 1
    with np.errstate(divide="ignore"):
        tok = emit[:, :vocab]
        no_eos = tok - np.log1p(-np.exp(emit[:, vocab]))[:, None]
    out = np.full((n_states, T, vocab + 1), -np.inf)
    t = np.arange(T)
    out[:, :, :vocab] = np.where((t < min_len)[None, :, None], no_eos[:, None, :], tok[:, None, :])
    out[:, :, vocab] = np.where(t < min_len, -np.inf, emit[:, vocab][:, None])
    out[:, max_len, :vocab] = -np.inf
    out[:, max_len, vocab] = 0.0
    new_state = nxt[:, None, :] * T + np.minimum(t + 1, max_len)[None, :, None]
    return Source(jnp.asarray(out.reshape(n_states * T, vocab + 1), jnp.float32),
                  jnp.asarray(new_state.reshape(n_states * T, vocab), jnp.int32))


def viterbi(src: Source, max_len: int) -> tuple[np.ndarray, float]:
    """Vectorised twin of :func:`viterbi_best_sequence`: (tokens ending with EOS, log-prob)."""
    emit = np.asarray(src.emit_logp, np.float64)
    nxt = np.asarray(src.next_state)
    n_states, vocab = nxt.shape
    score = np.full(n_states, -np.inf)
    score[0] = 0.0
    back, best = [], (-np.inf, None, None)
    for t in range(max_len):
        done = score + emit[:, vocab]
        s = int(np.argmax(done))
        if done[s] > best[0]:
            best = (float(done[s]), t, s)
        if t == max_len - 1:
            break
        cand = (score[:, None] + emit[:, :vocab]).ravel()
        dest = nxt.ravel()
        order = np.lexsort((-cand, dest))  # per destination, best candidate first
        first = np.ones(len(order), bool)
        first[1:] = dest[order][1:] != dest[order][:-1]
        win = order[first]
        new = np.full(n_states, -np.inf)
        ptr = np.zeros((n_states, 2), int)
        new[dest[win]] = cand[win]
        ptr[dest[win]] = np.stack([win // vocab, win % vocab], 1)
        back.append(ptr)
        score = new
    logp, t, s = best
    if t is None:
        return np.zeros(0, int), -np.inf
    tokens = [vocab]
    for ptr in reversed(back[:t]):
        s, v = ptr[s]
        tokens.append(int(v))
    return np.asarray(tokens[::-1]), logp
