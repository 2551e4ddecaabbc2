"""Shared pieces of the decoders: result and option types, validation, safe log-softmax and the
error-free float32 arithmetic the top-p mask is decided with."""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

NEG_INF = -jnp.inf
TINY = float(np.finfo(np.float32).tiny)  # smallest normal float32: temperatures below it act as 0
BEAM_RULES = ("pool", "top_k")
# top-p: a prefix whose mass is within this share of the total below p * total counts as reaching p, so a
# decimal p (0.8 has no binary form: float64's 0.8 is 4e-17 above it) is read as the number typed, and
# the double-float arithmetic's own error (~V 2^-48 of the total) never decides a boundary
TOP_P_TOL = 2.0 ** -40


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
    top_k: int32 in 1..V (V: off); top_p: float32 in (0, 1] (1: off); min_p: float32 in [0, 1] (0: off);
    top_p_lo: float32, the rest of the user's p (``top_p + top_p_lo`` holds p to about 48 bits, so a
    decimal p such as 0.8 is not rounded to float32's 0.800000012 before the top-p comparison).
    Build it with :func:`sampler_options`, which validates.
    """

    temperature: jax.Array
    top_k: jax.Array
    top_p: jax.Array
    min_p: jax.Array
    top_p_lo: jax.Array


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
        a = exact_top_p(_concrete("top_p", top_p))
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
    p, p_lo = split_top_p(1.0 if top_p is None else top_p)
    m = np.asarray(0.0 if min_p is None else min_p, np.float32)
    t, k, p, m, p_lo = np.broadcast_arrays(t, k, p, m, p_lo)
    return SamplerOptions(jnp.asarray(t), jnp.asarray(k), jnp.asarray(p), jnp.asarray(m), jnp.asarray(p_lo))


def exact_top_p(top_p) -> np.ndarray:
    """The user's p as float64, whatever its type: a float32 (or float16) value, NumPy's or JAX's, is read
    as the shortest decimal that prints as it (``np.float32(0.8)`` -> 0.8, not 0.800000012), which is
    the number its user typed; Python floats and float64 arrays are taken as they are."""
    a = np.asarray(top_p)
    if a.dtype in (np.float32, np.float16):
        flat = [float(np.format_float_positional(v, unique=True)) for v in a.ravel()]
        return np.asarray(flat, np.float64).reshape(a.shape)
    return a.astype(np.float64)


def split_top_p(top_p) -> tuple[np.ndarray, np.ndarray]:
    """(hi, lo) float32 with ``hi + lo`` = the user's p to about 48 bits (hi = p rounded to float32,
    lo = the rest rounded to float32). A positive p below float32's range still keeps the top token
    (always kept): it is clamped to the smallest normal float32, never flushed to 0."""
    p = np.maximum(exact_top_p(top_p), TINY)
    hi = p.astype(np.float32)
    return hi, (p - hi.astype(np.float64)).astype(np.float32)



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
