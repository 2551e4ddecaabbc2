"""Decoders over any autoregressive model, and exact search as ground truth (Problem 3).

A model is two pure functions and its parameters: ``logits_fn(params, state) -> (V,)`` next-token
logits (V ids, EOS among them) and ``transition_fn(params, state, token) -> state``. Decoders are
fixed-shape and jittable (``max_len`` steps, sequences padded with EOS after it); the two functions
are static arguments (module-level functions, so that one compilation serves every call).

Conventions follow the ecosystem's option names: ``num_beams``, ``length_penalty`` (GNMT:
``score / ((5 + len) / 6) ** length_penalty``), ``top_k``, ``top_p``, ``min_p``, ``temperature``,
``max_len``, ``eos_id``. ``len`` counts the EOS token.

Robustness rules, applied everywhere:

- Every public entry validates its options in one place (:func:`check_options`): ranges, integer
  types, ``eos_id`` in ``0..V-1``, ``vocab`` equal to the logits' last dimension.
- Sampling options are *traced values* (:class:`SamplerOptions`): one compilation per shape serves
  every temperature, top-k, top-p and min-p; ``jax.vmap`` over options sweeps them in one call.
- NaN logits are impossible tokens (-inf); a row with no possible token has log-probabilities all
  -inf (never NaN) and the decoders then emit EOS with score -inf. Rankings never see a NaN.
- Top-p is decided on the exact sums of the float32 exponentials ``e_i = exp(l_i - max)``
  (double-float prefix sums and an error-free product), so a token whose preceding mass equals p
  is never kept, whatever the rounding of a float32 cumsum would say.
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
TINY = float(np.finfo(np.float32).tiny)  # smallest normal float32: temperatures below it act as 0
BEAM_RULES = ("pool", "top_k")


class Decoded(NamedTuple):
    """tokens (..., max_len) padded with EOS; length (incl. EOS, = max_len if unfinished); score = sum of
    the model's token log-probs (incl. EOS); finished: EOS was emitted within max_len; logq = the
    sequence's log-probability under the sampling distribution that drew it (0 for greedy)."""

    tokens: jax.Array
    length: jax.Array
    score: jax.Array
    finished: jax.Array
    logq: jax.Array


class SamplerOptions(NamedTuple):
    """Traced sampling options (scalars, or arrays with leading axes to ``vmap`` over).

    temperature: float32 >= 0 (0, or below float32's smallest normal: greedy);
    top_k: int32 in 1..V (V: off); top_p: float32 in (0, 1] (1: off); min_p: float32 in [0, 1] (0: off).
    Build it with :func:`sampler_options`, which validates.
    """

    temperature: jax.Array
    top_k: jax.Array
    top_p: jax.Array
    min_p: jax.Array


# ---------------------------------------------------------------------------
# Validation: one place for every public entry
# ---------------------------------------------------------------------------

def _concrete(name, value) -> np.ndarray:
    if isinstance(value, jax.core.Tracer):
        raise TypeError(f"{name} must be a concrete value here (validated before tracing); inside your own jit, "
                        f"build SamplerOptions with sampler_options() outside it and call sample_with")
    return np.asarray(value)


def _is_int(a: np.ndarray) -> bool:
    return a.dtype.kind in "iu" and a.dtype != np.bool_


def check_options(vocab: int, *, eos_id=None, top_k=None, top_p=None, min_p=None, temperature=None,
                  num_beams=None, max_len=None, length_penalty=None, beam_rule=None) -> None:
    """One-line ``ValueError`` naming the offending option (raised before anything is traced).

    Options may be scalars or arrays (a sweep); every element is checked.
    """
    if not (isinstance(vocab, (int, np.integer)) and vocab >= 2):
        raise ValueError(f"vocab must be an integer >= 2 (tokens incl. EOS), got {vocab!r}")
    if eos_id is not None:
        a = _concrete("eos_id", eos_id)
        if a.ndim or not _is_int(a) or not 0 <= int(a) < vocab:
            raise ValueError(f"eos_id must be an integer in 0..{vocab - 1} (the vocabulary incl. EOS), got {eos_id!r}")
    if top_k is not None:
        a = _concrete("top_k", top_k)
        if not _is_int(a) or a.size == 0 or a.min() < 1 or a.max() > vocab:
            raise ValueError(f"top_k must be an integer in 1..{vocab} (the vocabulary incl. EOS), got {top_k!r}")
    if top_p is not None:
        a = _concrete("top_p", top_p)
        if a.size == 0 or not np.all((a > 0) & (a <= 1)):
            raise ValueError(f"top_p must lie in (0, 1], got {top_p!r}")
    if min_p is not None:
        a = _concrete("min_p", min_p)
        if a.size == 0 or not np.all((a >= 0) & (a <= 1)):
            raise ValueError(f"min_p must lie in [0, 1], got {min_p!r}")
    if temperature is not None:
        a = _concrete("temperature", temperature)
        if a.size == 0 or a.dtype.kind not in "iuf" or not np.all(np.isfinite(a) & (a >= 0)):
            raise ValueError(f"temperature must be a finite number >= 0, got {temperature!r}")
    if num_beams is not None and not (isinstance(num_beams, (int, np.integer)) and num_beams >= 1):
        raise ValueError(f"num_beams must be an integer >= 1, got {num_beams!r}")
    if max_len is not None and not (isinstance(max_len, (int, np.integer)) and max_len >= 1):
        raise ValueError(f"max_len must be an integer >= 1, got {max_len!r}")
    if length_penalty is not None:
        a = _concrete("length_penalty", length_penalty)
        if a.size == 0 or not np.all(np.isfinite(a) & (a >= 0)):
            raise ValueError(f"length_penalty must be a finite number >= 0, got {length_penalty!r}")
    if beam_rule is not None and beam_rule not in BEAM_RULES:
        raise ValueError(f"beam_rule must be one of {', '.join(BEAM_RULES)}, got {beam_rule!r}")


def vocab_size(logits_fn, params, state0) -> int:
    """V, the number of token ids (EOS included), from the logits' shape (nothing is computed)."""
    shape = jax.eval_shape(logits_fn, params, state0).shape
    if len(shape) != 1:
        raise ValueError(f"logits_fn must return one (V,) vector per state, got shape {shape}")
    return int(shape[0])


def _model_vocab(logits_fn, params, state0, vocab=None) -> int:
    v = vocab_size(logits_fn, params, state0)
    if vocab is not None and vocab != v:
        raise ValueError(f"vocab must equal the logits' size {v} (EOS included), got {vocab!r}")
    return v


def sampler_options(vocab: int, *, temperature=1.0, top_k=None, top_p=None, min_p=None) -> SamplerOptions:
    """Validated, traced options; None means off. Arrays (same shape, or broadcastable) sweep settings."""
    check_options(vocab, temperature=temperature, top_k=top_k, top_p=top_p, min_p=min_p)
    t = np.asarray(temperature, np.float32)
    k = np.asarray(vocab if top_k is None else top_k, np.int32)
    # A positive top_p below float32's range still keeps the top token (always kept): clamp, do not flush to 0.
    p = np.maximum(np.asarray(1.0 if top_p is None else top_p, np.float64), TINY).astype(np.float32)
    m = np.asarray(0.0 if min_p is None else min_p, np.float32)
    t, k, p, m = np.broadcast_arrays(t, k, p, m)
    return SamplerOptions(jnp.asarray(t), jnp.asarray(k), jnp.asarray(p), jnp.asarray(m))


# ---------------------------------------------------------------------------
# Safe log-softmax and the exact sampling masks
# ---------------------------------------------------------------------------

def _clean(logits):
    """NaN -> -inf (an impossible token, never ranked first)."""
    logits = jnp.asarray(logits, jnp.float32)
    return jnp.where(jnp.isnan(logits), NEG_INF, logits)


def _shifted(logits):
    """``l - max(l)`` without NaN: a row of -inf stays -inf; +inf entries share the mass (become 0)."""
    m = jnp.max(logits, axis=-1, keepdims=True)
    return jnp.where(m == NEG_INF, NEG_INF, jnp.where(logits == m, 0.0, logits - m))


def shifted_logits(logits):
    """``l - max(l)`` with NaN -> -inf: the logits every sampler draws from before its masks.

    The same distribution as ``l``; Gumbel-max draws on ``l`` and on ``l - max(l)`` can still differ
    where two perturbed logits are within rounding of each other, so a token-for-token reference for
    pure sampling draws from these values (``jax.random.categorical(key, shifted_logits(l))``)."""
    return _shifted(_clean(logits))


def log_softmax(logits):
    """Log-probabilities (..., V); all -inf (never NaN) where no token is possible."""
    s = _shifted(_clean(logits))
    lse = jnp.log(jnp.sum(jnp.exp(s), axis=-1, keepdims=True))  # >= log 1 where a token is possible
    return jnp.where(jnp.isneginf(s), NEG_INF, s - jnp.where(jnp.isfinite(lse), lse, 0.0))


def _two_sum(a, b):
    """Knuth's error-free sum: a + b = s + e exactly."""
    s = a + b
    bb = s - a
    return s, (a - (s - bb)) + (b - bb)


def _split(a):
    c = 4097.0 * a  # Dekker: 2^12 + 1 for float32's 24-bit significand
    hi = c - (c - a)
    return hi, a - hi


def _two_prod(a, b):
    """Dekker's error-free product (no FMA needed): a * b = p + e exactly (no overflow for |a|, |b| < 2^100)."""
    p = a * b
    ah, al = _split(a)
    bh, bl = _split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


def _top_p_cutoff(es, top_p):
    """The smallest mass top-p keeps, from the masses ``es`` (V,) sorted descending (see top_p_keep)."""
    def add(acc, x):  # running sum as hi + lo, hi + x split exactly by TwoSum
        s, err = _two_sum(acc[0], x)
        return (s, acc[1] + err), acc

    zero = jnp.zeros((), es.dtype)
    total, (before_hi, before_lo) = lax.scan(add, (zero, zero), es)  # exclusive prefix sums
    ph, pl = _two_prod(total[0], top_p)
    pl = pl + total[1] * top_p
    # before < p * total  <=>  (before_hi - ph) + (before_lo - pl) < 0, the first difference exact when close
    kept_sorted = ((before_hi - ph) + (before_lo - pl)) < 0
    n_kept = jnp.maximum(jnp.sum(kept_sorted), 1)  # the top token is always kept
    return es[n_kept - 1]


def top_p_keep(e, top_p):
    """Which tokens top-p keeps, from the unnormalised masses ``e`` (V,) >= 0 (``e = exp(l - max)``).

    Sorted by mass (descending), token i is kept iff the exact mass before it is < p * sum(e); the
    kept set is that prefix plus every token tied with its last member. Decided with running sums
    kept as hi + lo (TwoSum: hi + x = s + err exactly) and an error-free product p * total, so exact
    unless the two sides differ by less than ~V^2 2^-48 of the total. The top token is always kept.
    """
    return e >= _top_p_cutoff(jnp.sort(e)[::-1], top_p)


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
    cutoff = _top_p_cutoff(jnp.where(-neg_sorted >= kth, es, 0.0), opts.top_p)
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


# ---------------------------------------------------------------------------
# Beam search
# ---------------------------------------------------------------------------

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
                     num_beams: int, max_len: int) -> Beams:
    """Beam search with traced eos_id, length_penalty, rule flag (``True``: "top_k") and width; no validation.

    ``num_beams`` (static) is the buffer; ``width`` (traced, 1..num_beams, default num_beams) the beam
    width actually searched: beams and pool entries ranked at or beyond it are dropped (-inf), so one
    compilation serves every width up to the buffer, with the same result as a buffer of that width
    (ties are broken by index in both, and the dropped entries come last).
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

    (_, _, _, fin, _), _ = lax.scan(step, (states, alive_tok, alive_score, fin, jnp.bool_(False)), jnp.arange(L))
    return fin


_beam_search = jax.jit(beam_search_with, static_argnames=("logits_fn", "transition_fn", "num_beams", "max_len"))


# ---------------------------------------------------------------------------
# Exact search: depth-first branch and bound (Stahlberg & Byrne 2019), and enumeration
# ---------------------------------------------------------------------------

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
