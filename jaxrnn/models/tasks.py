"""Pascanu et al. (2013)'s long-range tasks, as batch generators from an explicit PRNG key.

addition:       x_t = (value ~ U(0, 1), marker in {0, 1}); exactly two markers, the first at a position
                in [0, 0.1 L), the second in [0.1 L, 0.5 L); target = the mean of the two marked values
                (predicting the mean has MSE 1/24 ~ 0.042); a sequence counts as correct when its
                squared error is < 0.04.
temporal order: one-hot symbols {A, B, c, d, e, f}; A or B at one position in [0.1 L, 0.2 L) and one
                in [0.5 L, 0.6 L), distractors c..f elsewhere; target = which of AA, AB, BA, BB (4 classes).
"""

from __future__ import annotations

import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

TASKS = ("addition", "temporal_order")


class Batch(NamedTuple):
    """inputs (B, L, k); target (B,) float for addition, int class for temporal order."""

    inputs: jax.Array
    target: jax.Array


def check_length(length: int) -> int:
    if not isinstance(length, int) or length < 2:
        raise ValueError(f"sequence length L must be an integer >= 2, got {length!r}")
    return length


def marker_ranges(task: str, length: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """[lo, hi) of the two marked positions (each range holds at least one position)."""
    if task == "addition":
        a = (0, max(1, math.ceil(0.1 * length)))
        b = (a[1], max(a[1] + 1, math.ceil(0.5 * length)))
    elif task == "temporal_order":
        a = (int(0.1 * length), max(int(0.1 * length) + 1, int(0.2 * length)))
        b = (max(a[1], int(0.5 * length)), max(max(a[1], int(0.5 * length)) + 1, int(0.6 * length)))
    else:
        raise ValueError(f"unknown task {task!r}; choose from {', '.join(TASKS)}")
    return a, b


def _positions(key, length, task, batch):
    (a0, a1), (b0, b1) = marker_ranges(task, length)
    k1, k2 = jax.random.split(key)
    return jax.random.randint(k1, (batch,), a0, a1), jax.random.randint(k2, (batch,), b0, b1)


def addition_batch(key, length: int, batch: int) -> Batch:
    check_length(length)
    k_val, k_pos = jax.random.split(key)
    values = jax.random.uniform(k_val, (batch, length))
    p1, p2 = _positions(k_pos, length, "addition", batch)
    t = jnp.arange(length)[None, :]
    markers = ((t == p1[:, None]) | (t == p2[:, None])).astype(jnp.float32)
    target = 0.5 * (jnp.take_along_axis(values, p1[:, None], 1) + jnp.take_along_axis(values, p2[:, None], 1))[:, 0]
    return Batch(jnp.stack([values, markers], axis=-1), target)


def temporal_order_batch(key, length: int, batch: int) -> Batch:
    check_length(length)
    k_sym, k_pos, k_dis = jax.random.split(key, 3)
    p1, p2 = _positions(k_pos, length, "temporal_order", batch)
    which = jax.random.randint(k_sym, (batch, 2), 0, 2)  # 0 = A, 1 = B
    symbols = jax.random.randint(k_dis, (batch, length), 2, 6)  # distractors c..f
    t = jnp.arange(length)[None, :]
    symbols = jnp.where(t == p1[:, None], which[:, :1], symbols)
    symbols = jnp.where(t == p2[:, None], which[:, 1:], symbols)
    return Batch(jax.nn.one_hot(symbols, 6), which[:, 0] * 2 + which[:, 1])


def make_batch(task: str, key, length: int, batch: int) -> Batch:
    if task == "addition":
        return addition_batch(key, length, batch)
    if task == "temporal_order":
        return temporal_order_batch(key, length, batch)
    raise ValueError(f"unknown task {task!r}; choose from {', '.join(TASKS)}")


def n_inputs(task: str) -> int:
    return 2 if task == "addition" else 6


def n_outputs(task: str) -> int:
    return 1 if task == "addition" else 4
