"""Pascanu et al. (2013)'s long-range tasks, as batch generators from an explicit PRNG key.

The generators follow the paper's code (``pascanur/trainingRNNs``: ``addition.py``,
``multiplication.py``, ``tempOrder.py`` and the length sampling of ``RNN.py``). With ``l`` the
length of a batch and ``int`` rounding down:

- length: ``l ~ U{length_min, ..., length_max}``, one per batch (``RNN.py`` draws one length per
  batch; with ``length_min == length_max`` every batch has that length). The addition and
  multiplication generators add Pascanu's jitter ``l <- l + U{0, ..., int(0.1 l) - 1}``.
- addition / multiplication: x_t = (marker in {0, 1}, value ~ U(0, 1)); exactly two markers, the
  first at ``p0 ~ U{0 .. int(0.1 l) - 1}``, the second at ``p1 = int(0.1 l) + U{0 .. int(0.4 l) - 1}``;
  target = (v_p0 + v_p1) / 2 (addition) or v_p0 v_p1 (multiplication). A sequence is wrong when
  its squared error exceeds 0.04. The best constant prediction (the target's mean) has mean squared
  error Var(target): 1/24 for addition ((1/12 + 1/12) / 4), 1/9 - 1/16 = 7/144 for multiplication.
- temporal order: one-hot symbols {A, B, c, d, e, f} (channels 0..5); A or B (v0) at
  ``p0 = int(0.1 l) + U{0 .. int(0.1 l) - 1}`` and (v1) at ``p1 = int(0.5 l) + U{0 .. int(0.1 l) - 1}``,
  distractors c..f elsewhere; target class ``v0 + 2 v1`` (AA, BA, AB, BB). A sequence is wrong
  when the arg-max class is. The best constant prediction (uniform) has cross-entropy ln 4.

Every batch is laid out on ``alloc_length(task, length_max)`` time steps; ``Batch.length`` (B,)
says how many are real (the model reads the first ``length`` inputs; the rest is padding that
the masked scan ignores). Where ``int(...)`` would give an empty range (l < 10) the range holds
one position.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

TASKS = ("addition", "multiplication", "temporal_order")

#: loss of the best constant predictor (MSE for addition / multiplication, nats for temporal order)
CONSTANT_LOSS = {"addition": 1.0 / 24.0, "multiplication": 7.0 / 144.0, "temporal_order": math.log(4.0)}

#: a regression sequence is wrong when its squared error exceeds this (Pascanu's criterion)
SQUARED_ERROR_TOLERANCE = 0.04


class Batch(NamedTuple):
    """inputs (B, T, k); target (B,) float (regression) or int class; length (B,) int real steps <= T."""

    inputs: jax.Array
    target: jax.Array
    length: jax.Array


def check_task(task: str) -> str:
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose from {', '.join(TASKS)}")
    return task


def check_lengths(length_min: int, length_max: int) -> tuple[int, int]:
    for v in (length_min, length_max):
        if not isinstance(v, int) or isinstance(v, bool) or v < 2:
            raise ValueError(f"sequence length L must be an integer >= 2, got {v!r}")
    if length_min > length_max:
        raise ValueError(f"need length_min <= length_max, got {length_min} > {length_max}")
    return length_min, length_max


def is_regression(task: str) -> bool:
    return check_task(task) in ("addition", "multiplication")


def jitter_max(task: str, length: int) -> int:
    """Largest extra length Pascanu's generator adds to a batch of nominal length ``length``."""
    return max(1, int(0.1 * length)) - 1 if is_regression(task) else 0


def alloc_length(task: str, length_max: int) -> int:
    """Time steps every batch of the task is laid out on."""
    return length_max + jitter_max(task, length_max)


def n_inputs(task: str) -> int:
    return 2 if is_regression(task) else 6


def n_outputs(task: str) -> int:
    return 1 if is_regression(task) else 4


def _below(key, shape, hi):
    """Uniform integers in {0, ..., hi - 1} for a traced integer ``hi >= 1`` (broadcast to ``shape``)."""
    u = jax.random.uniform(key, shape)
    return jnp.minimum(jnp.floor(u * hi).astype(jnp.int32), hi - 1)


def _tenth(l):
    """max(1, int(0.1 l)) for integer arrays (exact integer arithmetic)."""
    return jnp.maximum(1, l // 10)


def positions(task: str, key, lengths) -> tuple[jax.Array, jax.Array]:
    """The two marked positions (p0, p1), each (B,), for batch lengths ``lengths`` (B,) int."""
    k0, k1 = jax.random.split(key)
    shape = lengths.shape
    a = _tenth(lengths)
    if is_regression(task):
        return _below(k0, shape, a), a + _below(k1, shape, jnp.maximum(1, (4 * lengths) // 10))
    return a + _below(k0, shape, a), lengths // 2 + _below(k1, shape, a)


def marker_ranges(task: str, length: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """[lo, hi) of the two marked positions for a batch of (jittered) length ``length``, as plain ints."""
    a = max(1, length // 10)
    if is_regression(task):
        return (0, a), (a, a + max(1, (4 * length) // 10))
    return (a, 2 * a), (length // 2, length // 2 + a)


def make_batch(task: str, key, length_min: int, length_max: int, batch: int, *, per_sequence: bool = False) -> Batch:
    """A batch of ``batch`` sequences (see the module docstring).

    per_sequence: draw a length for every sequence instead of one per batch (used for evaluation
    sets, so that one set covers the whole length range).
    """
    check_task(task)
    check_lengths(length_min, length_max)
    T = alloc_length(task, length_max)
    k_len, k_jit, k_pos, k_val, k_dis = jax.random.split(key, 5)
    lshape = (batch,) if per_sequence else ()
    lengths = length_min + _below(k_len, lshape, length_max - length_min + 1)
    if is_regression(task):
        lengths = lengths + _below(k_jit, lshape, _tenth(lengths))
    lengths = jnp.broadcast_to(lengths, (batch,)).astype(jnp.int32)
    p0, p1 = positions(task, k_pos, lengths)
    t = jnp.arange(T)[None, :]
    if is_regression(task):
        values = jax.random.uniform(k_val, (batch, T))
        marks = ((t == p0[:, None]) | (t == p1[:, None])).astype(values.dtype)
        v0 = jnp.take_along_axis(values, p0[:, None], 1)[:, 0]
        v1 = jnp.take_along_axis(values, p1[:, None], 1)[:, 0]
        target = 0.5 * (v0 + v1) if task == "addition" else v0 * v1
        return Batch(jnp.stack([marks, values], axis=-1), target, lengths)
    which = jax.random.randint(k_val, (batch, 2), 0, 2)  # 0 = A, 1 = B
    symbols = jax.random.randint(k_dis, (batch, T), 2, 6)  # distractors c..f
    symbols = jnp.where(t == p0[:, None], which[:, :1], symbols)
    symbols = jnp.where(t == p1[:, None], which[:, 1:], symbols)
    return Batch(jax.nn.one_hot(symbols, 6), which[:, 0] + 2 * which[:, 1], lengths)
