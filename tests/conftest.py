"""Test-wide settings: a silently broadcast sweep axis must fail, warnings are errors (pyproject)."""

import os

from jaxrnn.io.runtime import configure_runtime

configure_runtime()  # before any computation: XLA flags, compilation cache

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")
# No persistent-cache writes from the test process itself: jaxlib 0.10 was seen to segfault inside
# serialize_executable (compilation_cache.put_executable_and_time) late in a full run. The in-memory caches
# still serve this process; child processes that the tests start keep the persistent cache.
jax.config.update("jax_enable_compilation_cache", False)


@pytest.fixture(autouse=True, scope="module")
def _drop_compiled_programs():
    """Each test module ends by dropping JAX's compiled programs. A full run otherwise holds thousands of
    loaded executables in one process, and jaxlib 0.10 was seen to segfault compiling (or caching) a program
    late in such a run (spectral's quick fixture), though every part of the suite passed on its own."""
    yield
    jax.clear_caches()


@pytest.fixture
def key():
    return jax.random.key(0)


def subprocess_env(**extra) -> dict:
    """Environment for a child python that imports the repo's packages."""
    env = dict(os.environ, **extra)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env
