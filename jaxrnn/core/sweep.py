"""Grids: flatten named axes, vmap over the configs, chunk, and shard over local devices.

``map_configs(fn, configs, shared)`` evaluates an unbatched ``fn(config, *shared)``
for every row of ``configs`` (a pytree of (N, ...) arrays). The rows are cut into
chunks of one fixed shape (one compilation for all of them), each chunk is
split over every local device along a ``grid`` mesh axis, and the results are
stitched back on the host. Chunking and sharding never change a number: every
row is computed by the same program on its own.
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec
from tqdm import tqdm


def grid(**axes) -> dict[str, np.ndarray]:
    """Cartesian product of named 1-D axes, flattened: ``{name: (N,) array}``, N = prod(sizes).

    The first axis varies slowest, so results reshape to ``tuple(len(v) for v in axes.values())``.
    """
    for name, values in axes.items():
        if np.ndim(values) != 1 or len(values) == 0:
            raise ValueError(f"grid axis {name!r} must be a non-empty 1-D array")
    mesh = np.meshgrid(*[np.asarray(v) for v in axes.values()], indexing="ij")
    return {name: m.reshape(-1) for name, m in zip(axes, mesh)}


LANES = 64  # rows per device come in multiples of this (covers any SIMD width)


@functools.cache
def stable_partial(fn: Callable, **kwargs) -> functools.partial:
    """``functools.partial(fn, **kwargs)``, the same object for the same (hashable) arguments.

    ``map_configs`` compiles once per function object, so row functions with static options
    (an activation, a length, a model's functions) should be built through here.
    """
    return functools.partial(fn, **kwargs)


def stack_trees(trees):
    """Stack a list of same-structure pytrees along a new leading axis (rows for vmap / map_configs)."""
    return jax.tree.map(lambda *leaves: jnp.stack(leaves), *trees)


@functools.cache
def _batched(fn: Callable, n_shared: int):
    in_axes = (0,) + (None,) * n_shared
    return jax.jit(jax.vmap(fn, in_axes=in_axes))


def _pad_rows(tree, n_rows: int):
    """Pad every leaf's leading axis to ``n_rows`` by repeating its last row (keeps values valid)."""

    def pad(a):
        extra = n_rows - a.shape[0]
        return a if extra == 0 else np.concatenate([a, np.repeat(a[-1:], extra, axis=0)], axis=0)

    return jax.tree.map(pad, tree)


def map_configs(fn: Callable, configs, shared=(), *, chunk_size: int = 16384, devices=None,
                progress: bool | None = None, desc: str | None = None, host_fn: Callable | None = None):
    """``fn(config_row, *shared)`` for every row of ``configs``; returns a pytree of (N, ...) numpy arrays.

    fn: unbatched and jit-compatible; ``jit(vmap(fn))`` is built once per fn.
    configs: pytree of arrays with a common leading size N (host or device).
    shared: arguments broadcast to every row (replicated on every device).
    chunk_size: rows per compiled call (rounded up to a multiple of ``LANES`` x device count);
      bounds memory for grids larger than it.
    devices: the devices to shard over (default: all local devices).
    progress: tqdm bar over chunks (None: only when there is more than one chunk and a terminal).
    host_fn: applied (numpy, host side) to each chunk's outputs as they arrive: reduces large
      per-row results (e.g. matrices to norms) without holding the whole grid's worth.
    """
    configs = jax.tree.map(np.asarray, configs)
    sizes = {leaf.shape[0] for leaf in jax.tree.leaves(configs)}
    if len(sizes) != 1:
        raise ValueError(f"configs must share one leading size, got {sorted(sizes)}")
    (n,) = sizes
    if n == 0:
        raise ValueError("empty grid: no configs to evaluate")
    devices = list(devices) if devices is not None else jax.local_devices()
    n_dev = len(devices)
    # Every chunk has one shape, a multiple of LANES rows per device: then every row takes
    # the same (vectorised) code path, and the numbers do not depend on chunking or sharding.
    per_device = math.ceil(min(int(chunk_size), n) / n_dev)
    chunk = n_dev * LANES * math.ceil(per_device / LANES)
    n_chunks = math.ceil(n / chunk)
    configs = _pad_rows(configs, n_chunks * chunk)

    mesh = Mesh(np.asarray(devices), ("grid",))
    rows = NamedSharding(mesh, PartitionSpec("grid"))
    replicated = NamedSharding(mesh, PartitionSpec())
    shared = jax.device_put(tuple(shared), replicated)
    batched = _batched(fn, len(shared))

    outputs = []
    # progress=None: a bar only for several chunks on a terminal (tqdm's disable=None checks the tty).
    disable = (True if n_chunks == 1 else None) if progress is None else not progress
    bar = tqdm(total=n_chunks, desc=desc, disable=disable, leave=False)
    for i in range(n_chunks):
        part = jax.tree.map(lambda a: a[i * chunk:(i + 1) * chunk], configs)
        # One chunk in flight at a time: device memory holds one chunk, and fetching each chunk
        # before dispatching the next costs little next to the chunk itself.
        out = jax.tree.map(np.asarray, batched(jax.device_put(part, rows), *shared))
        outputs.append(out if host_fn is None else host_fn(out))
        bar.update()
    bar.close()
    return jax.tree.map(lambda *parts: np.concatenate(parts, axis=0)[:n], *outputs)


def nan_rows(out) -> np.ndarray:
    """(N,) bool: rows of a ``map_configs`` output whose last leaf holds a NaN."""
    last = np.asarray(jax.tree.leaves(out)[-1])
    return np.isnan(last.reshape(last.shape[0], -1)).any(axis=1)


def map_configs_with_fallback(fn: Callable, fallback: Callable, configs, shared=(), *, redo: Callable = nan_rows,
                              **kwargs):
    """``map_configs(fn, ...)``, then ``fallback`` (same signature, same outputs) for the rows ``redo`` flags.

    For a fast kernel with a limited range that marks the rows it cannot do (default: NaN anywhere in
    its last output). Only the flagged rows (usually none) are recomputed; the rest are ``fn``'s.
    """
    out = map_configs(fn, configs, shared, **kwargs)
    rows = np.flatnonzero(redo(out))
    if rows.size == 0:
        return out
    sub = jax.tree.map(lambda a: np.asarray(a)[rows], configs)
    kwargs.pop("desc", None)
    again = map_configs(fallback, sub, shared, **kwargs)

    def splice(a, b):
        a = np.array(a)
        a[rows] = b
        return a

    return jax.tree.map(splice, out, again)
