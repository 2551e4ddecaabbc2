"""Test-wide settings: a silently broadcast sweep axis must fail, warnings are errors (pyproject)."""

import os

from jaxrnn.io.runtime import configure_runtime

configure_runtime()  # before any computation: XLA flags, compilation cache

import jax  # noqa: E402
import pytest  # noqa: E402

jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def key():
    return jax.random.key(0)


def subprocess_env(**extra) -> dict:
    """Environment for a child python that imports the repo's packages."""
    env = dict(os.environ, **extra)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env
