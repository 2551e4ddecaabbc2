"""Benchmark of the gradient-decay sweep: the closed form against its floor and the baselines a user would write.

Grid: n_w x n_b (w, b) configs of the sigmoid RNN, h0 = 1/2, x ~ N(0, 1), t_max steps, n_read
log-spaced lengths read off (65,536 x 512 x 16 by default). Every method runs in every round,
interleaved, so load on a shared machine hits them alike; each reports wall and CPU time,
min / median / max over rounds, and its ratio to the forward simulation of the same round.

Methods (all float32, all read the same lengths):
  forward_simulation       the states alone (the floor of any gradient sweep), same driver
  closed_form              the suite's kernel (``grad_log_magnitude`` through ``curve_sweep``)
  closed_form_logsum       the previous kernel (compensated log sum), for reference
  jax_reverse_per_length   ``jit(vmap(grad))`` through one unroll per length (each length unrolls
                           only its own steps; the 16 unrolls in one compiled program)
  jax_reverse_one_pass     ``jax.jacrev`` of the read-off states: one forward, one backward per length
  jax_forward_mode         ``jax.jvp`` of the read-off states: one forward pass carries the tangent
  torch_autograd_per_length  PyTorch batched autograd: one graph for all configs, ``autograd.grad``
                           per length (optional: skipped with a note when torch is absent)
  torch_forward_mode       PyTorch dual numbers (``torch.func.jvp``), one pass

Agreement of every method with the float64 closed form (the suite's truth) on the same points:
relative error where the method returns a finite nonzero number, and the count of points where
it returns 0 or inf (or NaN) while the true value is finite, split by whether the true value is
a normal float32 at all.
"""

from __future__ import annotations

import functools
import warnings

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from benchmarks.common import interleaved, machine_load, spread
from jaxrnn.core import gradients
from jaxrnn.core.cells import ScalarParams, scalar_cell
from jaxrnn.core.logspace import LogNum, relative_error, representable
from jaxrnn.core.scalar_sweeps import check_lengths, xs_table
from jaxrnn.core.sweep import grid, map_configs, stable_partial
from jaxrnn.studies.gradient_decay.compute import ROW_FNS, curve_sweep


def _params(row) -> ScalarParams:
    return ScalarParams(row["w"], row["u"], row["b"])


def _cell(params, h, x):
    return scalar_cell(params, h, x[0], act="sigmoid")


def reverse_per_length_row(row, xs, *, lengths: tuple):
    """``jax.grad`` of h_L w.r.t. h0 through a scan over xs[:L], for each static L: (R,)."""
    params = _params(row)

    def h_at(h0, n):
        return lax.scan(lambda h, x: (_cell(params, h, x), None), h0, xs[:n])[0]

    return jnp.stack([jax.grad(h_at)(row["h0"], n) for n in lengths])


def reverse_one_pass_row(row, xs, read_idx):
    """``jax.jacrev`` of the states at read_idx (one unroll, one backward pass per length): (R,)."""
    params = _params(row)

    def states(h0):
        return lax.scan(lambda h, x: (_cell(params, h, x),) * 2, h0, xs)[1][read_idx]

    return jax.jacrev(states)(row["h0"])


def forward_mode_row(row, xs, read_idx):
    """``jax.jvp`` of the states at read_idx (one forward pass with the tangent): (R,)."""
    params = _params(row)

    def states(h0):
        return gradients.simulate(params, h0, xs[:, 0], act="sigmoid", read_idx=read_idx)

    return jax.jvp(states, (row["h0"],), (jnp.ones_like(row["h0"]),))[1]


def torch_methods(rows, xs, read, device: str | None = None) -> tuple[dict, str]:
    """PyTorch baselines, or ({}, reason) when torch is not installed.

    device: torch device; default the GPU when JAX runs on one and torch sees CUDA (the same chip), else
    the CPU with torch's default threads. Every method returns a host array, so it has finished.
    """
    try:
        import torch
    except ImportError:
        return {}, "torch not installed (pip install -e '.[bench]' adds it): PyTorch baselines skipped"
    if device is None:
        device = "cuda" if jax.devices()[0].platform == "gpu" and torch.cuda.is_available() else "cpu"
    w, u, b, h0 = (torch.from_numpy(np.asarray(rows[k])).to(device) for k in ("w", "u", "b", "h0"))
    x = torch.from_numpy(np.asarray(xs[:, 0])).to(device)
    x_host = [float(v) for v in np.asarray(xs[:, 0])]  # python scalars: no device indexing per step
    read_set = {int(i) for i in read}

    def unroll(h):
        outs = []
        for t, x_t in enumerate(x_host):
            h = torch.sigmoid(u * x_t + w * h + b)
            if t in read_set:
                outs.append(h)
        return outs

    def autograd_per_length():
        h = h0.clone().requires_grad_(True)
        outs = unroll(h)
        return torch.stack([torch.autograd.grad(o.sum(), h, retain_graph=True)[0] for o in outs], 1).cpu().numpy()

    def forward_mode():
        with warnings.catch_warnings():  # torch's forward AD loads decompositions through torch.jit.script
            warnings.simplefilter("ignore", DeprecationWarning)
            _, tangent = torch.func.jvp(lambda h: torch.stack(unroll(h), 1), (h0,), (torch.ones_like(h0),))
        return tangent.cpu().numpy()

    del x
    threads = f", {torch.get_num_threads()} threads" if device == "cpu" else ""
    info = f"torch {torch.__version__} on {device}{threads}"
    return {"torch_autograd_per_length": autograd_per_length, "torch_forward_mode": forward_mode}, info


def agreement_report(truth: LogNum, value: np.ndarray) -> dict:
    """How one method's float32 values match the float64 closed form at the same points."""
    value = np.asarray(value, np.float64)
    finite_truth = (np.asarray(truth.sign) != 0) & np.isfinite(truth.log_abs)
    fits = representable(truth, np.float32)
    bad = finite_truth & ((value == 0) | ~np.isfinite(value))
    ok = finite_truth & ~bad
    err = relative_error(truth, value)[ok]
    return {
        "points": int(finite_truth.sum()),
        "zero_or_inf_where_true_value_finite": int(bad.sum()),
        "zero_or_inf_where_true_value_is_normal_float32": int((bad & fits).sum()),
        "true_value_outside_float32_range": int((finite_truth & ~fits).sum()),
        "median_rel_err": float(np.median(err)) if err.size else None,
        "p99_rel_err": float(np.quantile(err, 0.99)) if err.size else None,
        "max_rel_err": float(err.max()) if err.size else None,
    }


def _closed_form_agreement(truth: LogNum, curve: LogNum) -> dict:
    log32 = np.asarray(curve.log_abs, np.float64)
    finite_truth = (np.asarray(truth.sign) != 0) & np.isfinite(truth.log_abs)
    bad = finite_truth & ~np.isfinite(log32)
    d = np.abs(log32 - truth.log_abs)[finite_truth & ~bad]
    return {"points": int(finite_truth.sum()), "zero_or_inf_where_true_value_finite": int(bad.sum()),
            "sign_mismatches": int((np.asarray(curve.sign) != truth.sign).sum()),
            "max_abs_log_err": float(d.max()), "median_abs_log_err": float(np.median(d)),
            "median_rel_err": float(np.median(np.expm1(d))), "max_rel_err": float(np.expm1(d.max()))}


def gradient_decay(n_w: int = 256, n_b: int = 256, t_max: int = 512, n_read: int = 16, chunk_size: int | None = None,
                   rounds: int = 7, torch: bool = True, slow_baselines: bool = True, *, key) -> dict:
    """Timings (interleaved rounds), ratios to the forward simulation, and agreement of every method.

    chunk_size: rows per compiled call (default 8192 on a CPU, the whole grid on an accelerator).
    """
    g = grid(w=np.linspace(-12, 12, n_w), b=np.linspace(-6, 6, n_b))
    n = len(g["w"])
    if chunk_size is None:
        chunk_size = 8192 if jax.devices()[0].platform == "cpu" else n
    rows = {"w": g["w"].astype(np.float32), "b": g["b"].astype(np.float32), "u": np.ones(n, np.float32),
            "h0": np.full(n, 0.5, np.float32), "input": np.zeros(n, np.int32)}
    xs = xs_table(("noise",), t_max, key=key, dtype=np.float32)
    read = (check_lengths(t_max, n_read) - 1).astype(np.int32)
    lengths = tuple(int(i) + 1 for i in read)
    mc = functools.partial(map_configs, chunk_size=chunk_size, progress=False)
    methods = {
        "forward_simulation": lambda: mc(ROW_FNS["simulate_row"]["sigmoid"], rows, (xs, read)),
        "closed_form": lambda: curve_sweep(rows, xs, read, "sigmoid", chunk_size),
        "closed_form_logsum": lambda: mc(ROW_FNS["log_grad_logsum_row"]["sigmoid"], rows, (xs, read)),
        "forward_simulation_tanh": lambda: mc(ROW_FNS["simulate_row"]["tanh"], rows, (xs, read)),
        "closed_form_tanh": lambda: curve_sweep(rows, xs, read, "tanh", chunk_size),
        "jax_forward_mode": lambda: mc(forward_mode_row, rows, (xs, read)),
    }
    if slow_baselines:
        methods["jax_reverse_per_length"] = lambda: mc(stable_partial(reverse_per_length_row, lengths=lengths),
                                                       rows, (xs,))
        methods["jax_reverse_one_pass"] = lambda: mc(reverse_one_pass_row, rows, (xs, read))
    notes = []
    if torch:
        tm, info = torch_methods(rows, xs, read)
        methods.update(tm)
        notes.append(info)
    load_before = machine_load()
    outputs, first, wall, cpu = interleaved(methods, rounds)
    load_after = machine_load()
    timings = {}
    for name in methods:
        floor = "forward_simulation_tanh" if name.endswith("_tanh") else "forward_simulation"
        timings[name] = {
            "first_call_s": round(first[name], 4), "wall_s": spread(wall[name]), "cpu_s": spread(cpu[name]),
            "over_forward_simulation_wall": spread(np.asarray(wall[name]) / np.asarray(wall[floor])),
            "over_forward_simulation_cpu": spread(np.asarray(cpu[name]) / np.asarray(cpu[floor])),
            "over_closed_form_wall": spread(np.asarray(wall[name]) / np.asarray(wall["closed_form"])),
            "config_steps_per_s": n * t_max / float(np.median(wall[name])),
        }
    with jax.enable_x64(True):
        rows64 = {k: (v.astype(np.float64) if v.dtype == np.float32 else v) for k, v in rows.items()}
        truth = curve_sweep(rows64, xs.astype(np.float64), read, "sigmoid", chunk_size)
    truth = LogNum(np.asarray(truth.sign), np.asarray(truth.log_abs, np.float64))
    agreement = {"closed_form": _closed_form_agreement(truth, outputs["closed_form"]),
                 "closed_form_logsum": _closed_form_agreement(truth, LogNum(*outputs["closed_form_logsum"]))}
    for name, out in outputs.items():
        if name not in agreement and not name.endswith("_tanh") and name != "forward_simulation":
            agreement[name] = agreement_report(truth, out)
    ratio = timings["closed_form"]["over_forward_simulation_wall"]["median"]
    return {
        "configs": n, "steps": t_max, "lengths_read": list(lengths), "chunk_size": chunk_size, "rounds": rounds,
        "timings": timings, "agreement_with_float64_closed_form": agreement,
        "closed_form_over_forward_simulation": {
            "wall": timings["closed_form"]["over_forward_simulation_wall"],
            "cpu": timings["closed_form"]["over_forward_simulation_cpu"],
            "tanh_wall": timings["closed_form_tanh"]["over_forward_simulation_wall"],
            "target_max": 2.0, "target_met": ratio <= 2.0},
        "contention": {"before": load_before, "after": load_after,
                       "note": "load average above cpu_count: the machine was shared while this ran; per-round "
                               "ratios (wall and CPU time) are what to compare then"},
        "notes": notes,
        "device": {"platform": jax.devices()[0].platform, "device_kind": jax.devices()[0].device_kind,
                   "device_count": jax.device_count()},
    }
