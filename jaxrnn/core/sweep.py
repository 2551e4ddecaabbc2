"""Grids and rows over every device and process: fixed blocks, one single-device program per block.

``map_configs(fn, configs, shared)`` evaluates an unbatched ``fn(config, *shared)`` for every row of
``configs`` (a pytree of (N, ...) arrays); ``map_blocks(block_fn, rows, block_rows)`` is the engine
under it (and under the vmapped training loops of ``jaxrnn.models``).

How a number is made, whatever the machine:

- the rows are cut into blocks of ``block_rows`` rows (the last one padded by repeating its last
  row), and ``block_rows`` depends only on the problem (its size, the caller's chunk size), never on
  the number of devices or processes;
- every block is computed by ONE device running the single-device program ``jit(vmap(fn))`` of
  one block: the same HLO, compiled by the same (unpartitioned) XLA pipeline, on every device;
- blocks are dealt to processes round-robin (block i to process i mod P) and, inside a process,
  to its local devices as they become free (one block in flight per device: asynchronous dispatch,
  no threads); the results are fetched to the host, gathered across processes once, and stitched in
  row order.

So the values never depend on which device or process computed a row, or on how many there were.

Why not one SPMD program over a mesh (``NamedSharding`` / ``shard_map``, as before): XLA compiles a
program with ``num_partitions > 1`` through its SPMD pipeline (call inlining and CSE before the
simplifier), which reaches a different but equivalent HLO. In the spectral study's GRU Jacobians one
(64, 8, 8) batched matmul came out transposed, ``(B^T A^T)^T`` instead of ``A B``, and XLA:CPU's
matmul sums the two orientations in different orders: the last bits of 14 of 28 GRU values moved
(issue 10). A single-device program per block has no partitioned twin to disagree with. The price:
each device compiles its own copy (compiled while the others compute; cached on disk per device).
"""

from __future__ import annotations

import contextlib
import functools
import math
import time
from collections import Counter, deque
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
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


LANES = 64  # grid blocks come in multiples of this many rows (covers any SIMD width)
ROW_PARTS = 8  # training rows: cut into this many blocks (divides evenly over 1, 2, 4, 8 devices)


_default_devices: list | None = None
_every_device = False
blocks_per_device: Counter = Counter()  # blocks computed by each device (str) since import: tests, bench


@contextlib.contextmanager
def using_devices(devices=None, *, every_device: bool = False):
    """Within the block, ``map_blocks`` (and so every grid and training loop) uses only ``devices``
    (of this process; None: all) unless a call names its own, e.g. one device to compare with all.
    ``every_device``: give every device a block whenever there are enough blocks, even where
    compiling the program for one more device costs more time than it saves (tests, benchmarks)."""
    global _default_devices, _every_device
    previous = _default_devices, _every_device
    _default_devices, _every_device = (None if devices is None else list(devices)), bool(every_device)
    try:
        yield
    finally:
        _default_devices, _every_device = previous


def _local_devices(devices) -> list:
    if devices is not None:
        return list(devices)
    return list(_default_devices) if _default_devices is not None else jax.local_devices()


@functools.cache
def stable_partial(fn: Callable, **kwargs) -> functools.partial:
    """``functools.partial(fn, **kwargs)``, the same object for the same (hashable) arguments.

    ``map_configs`` compiles once per function object (and device), so row functions with static
    options (an activation, a length, a model's functions) should be built through here.
    """
    return functools.partial(fn, **kwargs)


def stack_trees(trees):
    """Stack a list of same-structure pytrees along a new leading axis (rows for vmap / map_configs)."""
    return jax.tree.map(lambda *leaves: jnp.stack(leaves), *trees)


def block_rows(n: int, chunk_size: int, lanes: int = LANES) -> int:
    """Rows per block: ``min(chunk_size, n)`` rounded up to a multiple of ``lanes``.

    With ``lanes`` = LANES every row of a block takes the same vectorised code path; the value
    depends on the grid and the chunk size only (never on the devices), so neither does any number.
    """
    if n < 1 or chunk_size < 1 or lanes < 1:
        raise ValueError(f"need n, chunk_size, lanes >= 1, got {n}, {chunk_size}, {lanes}")
    return lanes * math.ceil(min(int(chunk_size), n) / lanes)


def part_rows(n: int, parts: int = ROW_PARTS) -> int:
    """Rows per block when ``n`` rows (e.g. models to train) are cut into at most ``parts`` blocks."""
    if n < 1 or parts < 1:
        raise ValueError(f"need n, parts >= 1, got {n}, {parts}")
    return math.ceil(n / min(parts, n))


def _pad_rows(tree, n_rows: int):
    """Pad every leaf's leading axis to ``n_rows`` by repeating its last row (keeps values valid)."""

    def pad(a):
        extra = n_rows - a.shape[0]
        return a if extra == 0 else np.concatenate([a, np.repeat(a[-1:], extra, axis=0)], axis=0)

    return jax.tree.map(pad, tree)


def _leading_size(tree) -> int:
    sizes = {leaf.shape[0] for leaf in jax.tree.leaves(tree)}
    if len(sizes) != 1:
        raise ValueError(f"configs must share one leading size, got {sorted(sizes)}")
    (n,) = sizes
    if n == 0:
        raise ValueError("empty grid: no configs to evaluate")
    return n


def map_blocks(block_fn: Callable, rows, rows_per_block: int, *, devices=None, progress: bool | None = None,
               desc: str | None = None, host_fn: Callable | None = None):
    """``block_fn(block, device)`` for consecutive blocks of ``rows_per_block`` rows; a pytree of (N, ...) arrays.

    rows: pytree of host arrays with a common leading size N.
    block_fn: takes one block (numpy pytree, leading size ``rows_per_block``) and the device to run it
      on; returns a pytree of arrays with that leading size, preferably still on the device (not yet
      fetched) so that the next device can be given work while it computes.
    devices: this process's devices to use (default: all local devices, or those of ``using_devices``).
      Under ``jax.distributed`` block i belongs to process ``i mod process_count()`` and the results are
      gathered once, so every process returns the whole grid (with fewer blocks than processes, every
      process computes every block: no communication).
    host_fn: applied (numpy, host side) to each block's outputs as they arrive (e.g. matrices ->
      norms), so the whole grid's worth of large per-row results is never held.
    progress: tqdm bar over blocks (None: only for several blocks on a terminal).
    """
    rows = jax.tree.map(np.asarray, rows)
    n = _leading_size(rows)
    n_blocks = math.ceil(n / rows_per_block)
    rows = _pad_rows(rows, n_blocks * rows_per_block)
    n_proc, proc = jax.process_count(), jax.process_index()
    spread = n_proc > 1 and n_blocks >= n_proc  # fewer blocks than processes: each process computes all
    mine = list(range(proc, n_blocks, n_proc)) if spread else list(range(n_blocks))
    devices = _local_devices(devices)
    devices = devices[:max(1, min(len(devices), len(mine)))]  # a device without a block compiles nothing

    def finish(out):
        out = jax.tree.map(np.asarray, out)
        return out if host_fn is None else jax.tree.map(np.asarray, host_fn(out))

    disable = (True if len(mine) <= 1 else None) if progress is None else not progress
    bar = tqdm(total=len(mine), desc=desc, disable=disable, leave=False)
    done: dict[int, object] = {}
    unopened, free, in_flight = deque(devices), deque(), deque()  # in flight: (block, device, outputs, t)
    cost = {"open": None, "block": None}  # seconds: program onto a device (first call), one block's run

    def collect():  # wait for the oldest block in flight; its device becomes free
        j, dev, out, dispatched = in_flight.popleft()
        done[j] = finish(out)
        if cost["block"] is None:
            cost["block"] = time.perf_counter() - dispatched
        bar.update()
        free.append(dev)

    for k, i in enumerate(mine):
        if not free and unopened and (cost["open"] is None or _every_device or _worth_opening(
                len(mine) - k, len(devices) - len(unopened), cost, in_flight, collect)):
            dev = unopened.popleft()
        else:
            if not free:  # every open device busy: wait for the oldest block, then reuse its device
                collect()
            dev = free.popleft()
        block = jax.tree.map(lambda a: a[i * rows_per_block:(i + 1) * rows_per_block], rows)
        start = time.perf_counter()
        out = block_fn(block, dev)
        dispatched = time.perf_counter()
        blocks_per_device[str(dev)] += 1
        if cost["open"] is None:
            cost["open"] = dispatched - start
        in_flight.append((i, dev, out, dispatched))
    while in_flight:
        collect()
    bar.close()
    if spread:
        done = _gather_blocks(done, mine, n_blocks, n_proc)
    return jax.tree.map(lambda *parts: np.concatenate(parts, axis=0)[:n], *[done[i] for i in range(n_blocks)])


CHEAP_OPEN_S = 0.25  # a program this quick to bring onto a device (a cache hit) is opened everywhere


def _ready(out) -> bool:
    return all(leaf.is_ready() for leaf in jax.tree.leaves(out) if isinstance(leaf, jax.Array))


def _worth_opening(remaining: int, n_open: int, cost: dict, in_flight: deque, collect: Callable) -> bool:
    """Whether giving the ``remaining`` blocks one more device saves more time than bringing the program
    onto it costs (about what the first device paid: a compilation, or a load from the disk cache).

    With ``n_open`` devices at r seconds a block, one more saves about ``remaining * r / (n (n + 1))``.
    While the first block runs, r is only bounded below by its elapsed time: poll until that bound
    makes the case or the block finishes (then ``collect`` frees its device). Only the schedule
    depends on timing; the numbers never do.
    """
    if cost["open"] <= CHEAP_OPEN_S:
        return True

    def saving(block_s: float) -> float:
        return remaining * block_s / (n_open * (n_open + 1))

    while cost["block"] is None and in_flight:
        dispatched, out = in_flight[0][3], in_flight[0][2]
        if _ready(out):
            collect()  # measures the block, frees its device
            break
        if saving(time.perf_counter() - dispatched) > cost["open"]:
            return True
        time.sleep(0.005)
    return cost["block"] is not None and saving(cost["block"]) > cost["open"]


def _gather_blocks(done: dict, mine: list, n_blocks: int, n_proc: int) -> dict:
    """Every process's blocks on every process (one all-gather): block i comes from process i mod P."""
    from jax.experimental import multihost_utils

    per_proc = math.ceil(n_blocks / n_proc)  # every process holds 1..per_proc blocks: pad with zeros
    local = jax.tree.map(lambda *parts: np.stack(parts + (np.zeros_like(parts[0]),) * (per_proc - len(parts))),
                         *[done[i] for i in mine])
    gathered = multihost_utils.process_allgather(local)  # leaves (P, per_proc, block, ...)
    return {i: jax.tree.map(lambda a: np.asarray(a[i % n_proc, i // n_proc]), gathered) for i in range(n_blocks)}


@functools.cache
def _batched(fn: Callable, n_shared: int):
    in_axes = (0,) + (None,) * n_shared
    return jax.jit(jax.vmap(fn, in_axes=in_axes))


def map_configs(fn: Callable, configs, shared=(), *, chunk_size: int = 16384, lanes: int = LANES, devices=None,
                progress: bool | None = None, desc: str | None = None, host_fn: Callable | None = None):
    """``fn(config_row, *shared)`` for every row of ``configs``; returns a pytree of (N, ...) numpy arrays.

    fn: unbatched and jit-compatible; ``jit(vmap(fn))`` is built once per fn (compiled once per device).
    configs: pytree of arrays with a common leading size N (host or device).
    shared: arguments broadcast to every row (copied once to every device used).
    chunk_size: rows per compiled call (rounded up to a multiple of ``lanes``, see ``block_rows``);
      bounds memory for grids larger than it. Each call runs on one device; devices work in parallel.
    devices, progress, desc, host_fn: as in ``map_blocks``.
    """
    configs = jax.tree.map(np.asarray, configs)
    per_block = block_rows(_leading_size(configs), chunk_size, lanes)
    batched = _batched(fn, len(shared))
    on_device: dict = {}

    def block_fn(block, device):
        if device not in on_device:
            on_device[device] = jax.device_put(tuple(shared), device)
        return batched(jax.device_put(block, device), *on_device[device])

    return map_blocks(block_fn, configs, per_block, devices=devices, progress=progress, desc=desc, host_fn=host_fn)

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
