"""Plumbing of the benchmarks (speed itself is never asserted in a test; `make gpu-check`: test_gpu_check)."""

import json
import sys

import numpy as np

from benchmarks.common import count_compilations, interleaved
from benchmarks.sweep_timing import sweep_wall_times
from benchmarks.gradient import agreement_report
from jaxrnn.core.logspace import LogNum


def test_count_compilations_counts_one_program_per_shape(tmp_path):
    (tmp_path / "tinyjit.py").write_text(
        "import jax, jax.numpy as jnp\n"
        "@jax.jit\n"
        "def double(x):\n"
        "    return 2 * x\n"
        "for n in (3, 3, 4, 3):\n"
        "    double(jnp.arange(n, dtype=jnp.float32)).block_until_ready()\n")
    import os
    out = count_compilations("tinyjit", [], env=dict(os.environ, PYTHONPATH=str(tmp_path)), timeout=300)
    assert out.get("exit_code") == 0, out
    assert out["by_function"]["jit(double)"] == 2  # shapes (3,) and (4,): one compilation each
    assert out["programs_lowered"] >= 2 and out["backend_compiles"] >= 2 and out["persistent_cache_hits"] == 0


def test_agreement_report_counts_zeros_and_infs_where_the_truth_is_finite():
    truth = LogNum(np.array([[1.0, 1.0, -1.0, 1.0, 0.0]]), np.array([[0.0, -200.0, 1.0, -1000.0, -np.inf]]))
    value = np.array([[1.0, 0.0, -np.e * (1 + 1e-6), np.inf, 0.0]], np.float32)
    r = agreement_report(truth, value)
    assert r["points"] == 4  # the exact zero (sign 0) is not a point
    assert r["zero_or_inf_where_true_value_finite"] == 2
    assert r["zero_or_inf_where_true_value_is_normal_float32"] == 0  # e^-200 and e^-1000 are outside float32
    assert r["true_value_outside_float32_range"] == 2
    assert r["max_rel_err"] < 1e-5


def test_interleaved_runs_each_method_once_per_round():
    calls = []
    outputs, first, wall, cpu = interleaved({"a": lambda: calls.append("a") or 1, "b": lambda: calls.append("b")}, 3)
    assert calls == ["a", "b"] + ["a", "b"] * 3 and outputs["a"] == 1
    assert len(wall["a"]) == len(cpu["b"]) == 3 and set(first) == {"a", "b"}


def test_sweep_timing_runs_cold_then_warm_into_a_temporary_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # nothing may be written here (nor into the checkout's results/)
    out = sweep_wall_times(quick=True, only="skip_connections", timeout=900)
    assert out["config"] == "quick" and out["budget_s"] == 600.0
    for label in ("cold", "warm"):
        run = out[label]
        assert run["exit_code"] == 0, run.get("error")
        assert set(run["experiments"]) == {"skip_connections"} and run["experiments"]["skip_connections"] > 0
        assert run["wall_s"] >= run["experiments"]["skip_connections"]
    assert list(tmp_path.iterdir()) == []
