"""Speed of the gradient-decay sweep against the forward simulation and autodiff baselines."""

from __future__ import annotations

import jax
import numpy as np

from benchmarks.common import best_time
from jaxrnn.core.scalar_sweeps import check_lengths, xs_table
from jaxrnn.core.sweep import grid, map_configs
from jaxrnn.studies.gradient_decay.compute import ROW_FNS


def gradient_decay(n_w: int = 256, n_b: int = 256, t_max: int = 512, n_read: int = 16, chunk_size: int = 8192,
                   repeats: int = 9, *, key) -> dict:
    """The gradient-decay sweep vs reverse-mode ``jax.grad`` per length vs the forward simulation alone.

    Grid: n_w x n_b (w, b) configs, sigmoid, h0 = 1/2, x ~ N(0, 1), t_max steps, n_read
    lengths read off (log-spaced). All three use ``map_configs`` with the same chunks. Runs take
    0.02-2 s, so each is the best of ``repeats`` (a shared 2-core machine is noisy at that scale).
    """
    g = grid(w=np.linspace(-12, 12, n_w), b=np.linspace(-6, 6, n_b))
    n = len(g["w"])
    rows = {"w": g["w"].astype(np.float32), "b": g["b"].astype(np.float32), "u": np.ones(n, np.float32),
            "h0": np.full(n, 0.5, np.float32), "input": np.zeros(n, np.int32)}
    xs = xs_table(("noise",), t_max, key=key, dtype=np.float32)
    read = (check_lengths(t_max, n_read) - 1).astype(np.int32)
    runs = {
        "closed_form_log_space": lambda: map_configs(ROW_FNS["log_grad_row"]["sigmoid"], rows, (xs, read),
                                                     chunk_size=chunk_size, progress=False),
        "reverse_mode_per_length": lambda: map_configs(ROW_FNS["reverse_row"]["sigmoid"], rows, (xs, read + 1),
                                                       chunk_size=chunk_size, progress=False),
        "forward_simulation": lambda: map_configs(ROW_FNS["simulate_row"]["sigmoid"], rows, (xs, read),
                                                  chunk_size=chunk_size, progress=False),
    }
    out = {"configs": n, "steps": t_max, "lengths_read": len(read), "chunk_size": chunk_size, "timings": {}}
    for name, fn in runs.items():
        first, best = best_time(fn, repeats)
        out["timings"][name] = {"first_call_s": round(first, 4), "best_s": round(best, 4),
                                "config_steps_per_s": n * t_max / best}
    t = {k: v["best_s"] for k, v in out["timings"].items()}
    out["ratios"] = {
        "sweep_over_forward_simulation": t["closed_form_log_space"] / t["forward_simulation"],
        "reverse_mode_over_sweep": t["reverse_mode_per_length"] / t["closed_form_log_space"],
    }
    out["targets"] = {"sweep_over_forward_simulation_max": 4.0, "reverse_mode_over_sweep_min": 10.0}
    out["targets_met"] = {
        "sweep_over_forward_simulation": out["ratios"]["sweep_over_forward_simulation"] <= 4.0,
        "reverse_mode_over_sweep": out["ratios"]["reverse_mode_over_sweep"] >= 10.0,
    }
    out["device"] = {"platform": jax.devices()[0].platform, "device_kind": jax.devices()[0].device_kind,
                     "device_count": jax.device_count()}
    return out
