"""Test-wide settings: a silently broadcast sweep axis must fail, warnings are errors (pyproject)."""

import os

import jax
import pytest

jax.config.update("jax_numpy_rank_promotion", "raise")

from jaxrnn.cli import enable_compilation_cache  # noqa: E402

enable_compilation_cache()


@pytest.fixture
def key():
    return jax.random.key(0)


def subprocess_env(**extra) -> dict:
    """Environment for a child python that imports the repo's packages."""
    env = dict(os.environ, **extra)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env
