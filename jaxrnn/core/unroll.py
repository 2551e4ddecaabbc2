"""The ``lax.scan`` drivers: time for any unbatched cell ``cell(params, h, x) -> h``."""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp
from jax import lax

Cell = Callable[..., jax.Array]


def unroll(cell: Cell, params, h0, xs: jax.Array):
    """All states ``h_1..h_T`` of ``h_{t+1} = cell(params, h_t, x_{t+1})``.

    xs: (T, ...) inputs x_1..x_T; returns states stacked on a leading (T,) axis.
    """

    def step(h, x):
        h = cell(params, h, x)
        return h, h

    _, hs = lax.scan(step, h0, xs)
    return hs


def final_state(cell: Cell, params, h0, xs: jax.Array, length: jax.Array):
    """The carry after ``length`` steps of xs (T, ...); steps past ``length`` are the identity (any pytree carry).

    The masked form lets one compiled program serve every length 0..T (for vmap over lengths).
    """

    def step(h, tx):
        t, x = tx
        h_next = cell(params, h, x)
        return jax.tree.map(lambda new, old: jnp.where(t < length, new, old), h_next, h), None

    steps = jnp.arange(xs.shape[0])
    h, _ = lax.scan(step, h0, (steps, xs))
    return h


def scan_read_off(step: Callable, carry, xs: jax.Array, read_idx: jax.Array, emit: Callable, *,
                  renorm: Callable | None = None, block: int = 64):
    """Run ``carry = step(carry, x_t)`` over xs (T, ...) and return ``emit(carry)`` after steps ``read_idx``.

    read_idx: (R,) increasing step indices (0-based; index t means "after x_0..x_t").
    Only the R read-offs are stored, not all T states: a sweep that needs 16 lengths
    out of 1000 writes 16 values per config, not 1000. Returns (final carry, stacked emits (R, ...)).
    renorm: if given, ``carry = renorm(carry)`` after every ``block`` steps of a segment and at its end
    (segments end at the read-offs): for carries that must be brought back into range now and then,
    e.g. a running product kept as mantissa and exponent.
    """
    xs = jnp.asarray(xs)
    if xs.shape[0] == 0:  # no steps (e.g. T = 1 after a first step taken outside): every segment is empty,
        xs = jnp.zeros((1,) + xs.shape[1:], xs.dtype)  # but xs[t] must still trace; this row is never read
    ends = jnp.asarray(read_idx) + 1
    starts = jnp.concatenate([jnp.zeros((1,), ends.dtype), ends[:-1]])

    def run(start, end, c):
        return lax.fori_loop(start, end, lambda t, c_: step(c_, xs[t]), c)

    def segment(c, bounds):
        start, end = bounds
        if renorm is None:
            c = run(start, end, c)
        else:
            def one_block(i, c_):
                lo = start + i * block
                return renorm(run(lo, jnp.minimum(lo + block, end), c_))

            c = lax.fori_loop(0, (end - start + block - 1) // block, one_block, c)
        return c, emit(c)

    return lax.scan(segment, carry, (starts, ends))
