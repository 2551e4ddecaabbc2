"""Process-wide settings every entry point applies before JAX starts its backend."""

from __future__ import annotations

import os
from pathlib import Path


def configure_runtime() -> None:
    """Settings applied once, before the first computation: the persistent compilation cache."""
    enable_compilation_cache()


def enable_compilation_cache() -> None:
    """Persistent XLA compilation cache (``JAXRNN_CACHE_DIR``, default ``~/.cache/jaxrnn/xla``)."""
    import jax

    path = os.environ.get("JAXRNN_CACHE_DIR", str(Path.home() / ".cache" / "jaxrnn" / "xla"))
    jax.config.update("jax_compilation_cache_dir", path)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
