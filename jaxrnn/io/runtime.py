"""Process-wide settings every entry point applies before JAX starts its backend: one place.

``configure_runtime()`` (called by the runner, ``make sweep``, ``make bench`` and the tests):

1. **Every core a device** (CPU): unless the user already chose (``--xla_force_host_platform_device_count``
   in ``XLA_FLAGS``), XLA is told to expose one host device per usable core, so that
   ``jaxrnn.core.sweep`` can keep every core busy. ``JAXRNN_DEVICES=N`` overrides the count.
   Nothing else changes on an accelerator: its own devices are used.
2. **More than one process** (``jax.distributed``): with ``JAXRNN_COORDINATOR=host:port``,
   ``JAXRNN_NUM_PROCESSES`` and ``JAXRNN_PROCESS_ID`` set (or ``JAXRNN_DISTRIBUTED=auto`` on a cluster
   JAX recognises: SLURM, Open MPI, Kubernetes, Cloud TPU), every process joins one JAX runtime; the
   grids and training rows are then split over all processes' devices, gathered once, and only
   process 0 writes (``is_writer``).
3. The persistent compilation cache.

None of these changes a number: ``jaxrnn.core.sweep`` computes every row the same way whatever the
device and process counts.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

_DEVICE_FLAG = "--xla_force_host_platform_device_count"
_configured = False


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, not the machine's total)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def expose_cpu_cores(count: int | None = None) -> int | None:
    """Ask XLA for ``count`` (default: ``JAXRNN_DEVICES`` or the usable cores) host devices.

    Only through ``XLA_FLAGS``, read when JAX creates its CPU backend: call before the first
    computation. A device count the user already put in ``XLA_FLAGS`` wins. Returns the count that
    will apply (None when it could not be set because the backend already exists).
    """
    flags = os.environ.get("XLA_FLAGS", "")
    chosen = re.search(re.escape(_DEVICE_FLAG) + r"=(\d+)", flags)
    if chosen:
        return int(chosen.group(1))
    if _backend_started():
        return None
    count = count or int(os.environ.get("JAXRNN_DEVICES", 0)) or usable_cores()
    os.environ["XLA_FLAGS"] = f"{flags} {_DEVICE_FLAG}={count}".strip()
    return count


def _backend_started() -> bool:
    """Whether JAX has already created a backend (then XLA_FLAGS and distributed setup come too late)."""
    import sys

    if "jax" not in sys.modules:
        return False
    from jax._src import xla_bridge

    return xla_bridge.backends_are_initialized()


def initialize_distributed() -> bool:
    """Join a multi-process JAX runtime when the environment asks for one; True if this is one.

    ``JAXRNN_COORDINATOR=host:port``, ``JAXRNN_NUM_PROCESSES=P``, ``JAXRNN_PROCESS_ID=i`` (0 <= i < P):
    an explicit cluster (e.g. localhost for a test). ``JAXRNN_DISTRIBUTED=auto``: let
    ``jax.distributed.initialize()`` read the cluster's own environment (SLURM, Open MPI, ...).
    """
    import jax

    address = os.environ.get("JAXRNN_COORDINATOR")
    if address:
        jax.distributed.initialize(coordinator_address=address,
                                   num_processes=int(os.environ["JAXRNN_NUM_PROCESSES"]),
                                   process_id=int(os.environ["JAXRNN_PROCESS_ID"]),
                                   initialization_timeout=int(os.environ.get("JAXRNN_DISTRIBUTED_TIMEOUT", 300)))
        return True
    if os.environ.get("JAXRNN_DISTRIBUTED", "").lower() == "auto":
        jax.distributed.initialize()
        return True
    return False


def is_writer() -> bool:
    """Only process 0 writes results, figures and reports (every process computes)."""
    import jax

    return jax.process_index() == 0


def configure_runtime() -> None:
    """Settings applied once, before the first computation: devices, processes, compilation cache."""
    global _configured
    if _configured:
        return
    if not _accelerator_only():
        expose_cpu_cores()
    initialize_distributed()
    enable_compilation_cache()
    _configured = True


def _accelerator_only() -> bool:
    """``JAX_PLATFORMS`` names no CPU: the host-device flag would only create idle CPU devices."""
    platforms = [p.strip() for p in os.environ.get("JAX_PLATFORMS", "").split(",") if p.strip()]
    return bool(platforms) and "cpu" not in platforms


def enable_compilation_cache() -> None:
    """Persistent XLA compilation cache (``JAXRNN_CACHE_DIR``, default ``~/.cache/jaxrnn/xla``)."""
    import jax

    path = os.environ.get("JAXRNN_CACHE_DIR", str(Path.home() / ".cache" / "jaxrnn" / "xla"))
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
