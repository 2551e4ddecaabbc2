"""Grids, chunking and sharding never change a number."""

import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn.core.scalar_sweeps import xs_table
from jaxrnn.studies.gradient_decay.compute import ROW_FNS
from jaxrnn.core.sweep import grid, map_configs
from tests.conftest import subprocess_env


def _rows(key):
    g = grid(w=np.linspace(-12, 12, 23), b=np.linspace(-3, 3, 5))
    n = len(g["w"])
    return {"w": g["w"].astype(np.float32), "b": g["b"].astype(np.float32), "u": np.ones(n, np.float32),
            "h0": np.full(n, 0.5, np.float32), "input": (np.arange(n) % 2).astype(np.int32)}, \
        xs_table(("noise", "zero"), 64, key=key, dtype=np.float32)


def test_grid_is_row_major_cartesian_product():
    g = grid(a=np.array([1, 2]), b=np.array([10, 20, 30]))
    assert g["a"].tolist() == [1, 1, 1, 2, 2, 2] and g["b"].tolist() == [10, 20, 30] * 2
    with pytest.raises(ValueError, match="'b'"):
        grid(a=np.array([1]), b=np.array([]))


def test_chunking_gives_identical_results(key):
    rows, xs = _rows(key)
    read = np.array([0, 9, 63], np.int32)
    fn = ROW_FNS["log_grad_row"]["sigmoid"]
    whole = map_configs(fn, rows, (xs, read), chunk_size=10_000)
    for chunk in (1, 7, 32):
        parts = map_configs(fn, rows, (xs, read), chunk_size=chunk)
        for a, b in zip(whole, parts):
            np.testing.assert_array_equal(a, b)
    assert whole[1].shape == (115, 3)


def test_vmapped_rows_equal_single_runs(key):
    rows, xs = _rows(key)
    read = np.arange(64, dtype=np.int32)
    sign, log_abs = map_configs(ROW_FNS["log_grad_row"]["tanh"], rows, (xs, read))
    single = jax.jit(ROW_FNS["log_grad_row"]["tanh"])
    for i in (0, 17, 114):
        s, la = single({k: v[i] for k, v in rows.items()}, jnp.asarray(xs), jnp.asarray(read))
        np.testing.assert_allclose(log_abs[i], np.asarray(la), rtol=1e-6)
        np.testing.assert_array_equal(sign[i], np.asarray(s))


def test_bad_grids_are_rejected():
    with pytest.raises(ValueError, match="empty grid"):
        map_configs(ROW_FNS["simulate_row"]["sigmoid"], {"w": np.zeros(0)}, ())
    with pytest.raises(ValueError, match="leading size"):
        map_configs(ROW_FNS["simulate_row"]["sigmoid"], {"w": np.zeros(2), "b": np.zeros(3)}, ())


def test_sharding_over_four_devices_is_identical():
    """Four forced host devices vs one: same numbers, bit for bit."""
    script = textwrap.dedent("""
        import jax, numpy as np
        from tests.core.test_sweep import _rows
        from jaxrnn.studies.gradient_decay.compute import ROW_FNS
        from jaxrnn.core.sweep import map_configs
        assert jax.local_device_count() == 4, jax.local_devices()
        rows, xs = _rows(jax.random.key(0))
        read = np.array([0, 31, 63], np.int32)
        fn = ROW_FNS["log_grad_row"]["sigmoid"]
        four = map_configs(fn, rows, (xs, read), chunk_size=16)
        one = map_configs(fn, rows, (xs, read), chunk_size=16, devices=jax.local_devices()[:1])
        for a, b in zip(four, one):
            np.testing.assert_array_equal(a, b)
        print("identical on", jax.local_device_count(), "devices")
    """)
    env = subprocess_env(XLA_FLAGS="--xla_force_host_platform_device_count=4", JAX_PLATFORMS="cpu")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "identical on 4 devices" in out.stdout
