"""Gradient-decay sweeps of the scalar RNN (Problem 1 a-c) as per-config row functions.

A *row* is one configuration ``{"w", "u", "b", "h0", "input"}`` (scalars; ``input``
picks one of K input sequences, passed time-major as ``xs`` (T, K) and shared by every
row: the row's input weight is ``u * one_hot(input, K)``, so no row copies its sequence). Each ``*_row`` function
is unbatched; ``sweep.map_configs`` vmaps, chunks and shards it over a grid.
The activation is static, so each function exists once per activation
(``ROW_FNS[name][act]``), which keeps one compiled program per sweep shape.
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from jaxrnn.core import gradients
from jaxrnn.core.cells import ACTIVATIONS, MAX_DERIVATIVE, ScalarParams, activation, log_derivative
from jaxrnn.core.agreement import agreement, range_report
from jaxrnn.core.gradients import closed_form_rounding_scale
from jaxrnn.core.logspace import LogNum, from_value, relative_error, representable
from jaxrnn.io.results import Dataset
from jaxrnn.core.scalar_sweeps import LN10, check_lengths, grid_rows, plot_lengths, xs_table
from jaxrnn.core.sweep import grid, map_configs, map_configs_with_fallback
from jaxrnn.studies.gradient_decay.claims import claims
from jaxrnn.studies.gradient_decay import names as N

INPUTS = ("noise", "zero")  # the input sequences every (w, T) point is run with


def _params(row, n_inputs: int) -> ScalarParams:
    return ScalarParams(row["w"], row["u"] * jax.nn.one_hot(row["input"], n_inputs, dtype=row["w"].dtype), row["b"])


def log_grad_row(row, xs, read_idx, *, act):
    """Closed-form (sign, log|dh_T/dh_0|) at lengths ``read_idx + 1``: (R,), (R,) (NaN past its range)."""
    curve = gradients.grad_log_magnitude(_params(row, xs.shape[1]), row["h0"], xs, act=act, read_idx=read_idx)
    return curve.sign, curve.log_abs


def log_grad_logsum_row(row, xs, read_idx, *, act):
    """The same by the compensated log sum (no range limit, ~2x slower): the fallback of ``curve_sweep``."""
    curve = gradients.grad_log_magnitude_logsum(_params(row, xs.shape[1]), row["h0"], xs, act=act,
                                                read_idx=read_idx)
    return curve.sign, curve.log_abs


def autodiff_log_grad_row(row, xs, *, act):
    """Step-wise renormalised forward-mode autodiff: (sign, log|dh_T/dh_0|), each (T,)."""
    curve = gradients.grad_log_magnitude_autodiff(_params(row, xs.shape[1]), row["h0"], xs, act=act)
    return curve.sign, curve.log_abs


def forward_row(row, xs, *, act):
    """Plain forward mode ``jax.jvp``: dh_T/dh_0 for every T, (T,)."""
    return gradients.grad_forward(_params(row, xs.shape[1]), row["h0"], xs, act=act)


def reverse_row(row, xs, lengths, *, act):
    """Plain reverse mode ``jax.grad`` through a masked unroll, one pass per length: (R,)."""
    params = _params(row, xs.shape[1])
    return jax.vmap(lambda n: gradients.grad_reverse(params, row["h0"], xs, n, act=act))(lengths)


def rounding_row(row, xs, *, act):
    """Expected relative rounding error of autodiff's act' rule, for every T: (T,)."""
    return gradients.autodiff_rounding_scale(_params(row, xs.shape[1]), row["h0"], xs, act=act)


def simulate_row(row, xs, read_idx, *, act):
    """Forward simulation only (the floor): states at ``read_idx``, (R,)."""
    return gradients.simulate(_params(row, xs.shape[1]), row["h0"], xs, act=act, read_idx=read_idx)


# One function object per (row fn, activation): map_configs compiles each once.
ROW_FNS = {
    fn.__name__: {act: functools.partial(fn, act=act) for act in ACTIVATIONS}
    for fn in (log_grad_row, log_grad_logsum_row, autodiff_log_grad_row, forward_row, reverse_row, rounding_row, simulate_row)
}


def bound_log(w: np.ndarray, lengths: np.ndarray, act: str) -> np.ndarray:
    """Problem 1(c)'s bound ``log (gamma |w|)^T`` (gamma = max act'), for w (..., 1) and lengths (T,)."""
    with np.errstate(divide="ignore"):
        return lengths * np.log(MAX_DERIVATIVE[act] * np.abs(w))


def bound_violations(curve: LogNum, w: np.ndarray, lengths: np.ndarray, act: str, dtype) -> dict:
    """Count points where ``|dh_T/dh_0| > (gamma |w|)^T`` beyond rounding; also the tightest slack.

    Rounding allowance on the log scale: each side is a sum of T terms, each evaluated to
    ``eps`` times its size; the terms' sizes add up to at most
    ``T (2 |log|w|| + 2) + |log|J_T||`` (the log act' terms are all negative), times 4 eps.
    Works on any subset of lengths (read-offs), not only consecutive T.
    """
    bound = bound_log(w, lengths, act)
    log_abs = np.asarray(curve.log_abs, np.float64)
    nonzero = np.asarray(curve.sign) != 0
    with np.errstate(invalid="ignore", divide="ignore"):  # w = 0: log 0 = -inf, handled by `nonzero`
        slack = np.where(nonzero, bound - log_abs, np.inf)  # >= 0 where the bound holds
        tol = 4 * np.finfo(dtype).eps * (lengths * (2 * np.abs(np.log(np.abs(w))) + 2.0) + np.abs(log_abs))
    viol = nonzero & (slack < -tol)
    return {"points": int(nonzero.sum()), "violations": int(viol.sum()),
            "min_slack_log10": float(np.min(slack) / np.log(10))}


# ---------------------------------------------------------------------------
# The study: every sweep of the gradient_decay experiment, and its summary.
# ---------------------------------------------------------------------------

def curve_sweep(rows, xs, read_idx, act, chunk_size, desc=None) -> LogNum:
    """Closed-form curves of every row: the fast kernel, and the log-sum kernel for the rows it leaves NaN.

    ``grad_log_magnitude`` says NaN once some |a_t| leaves its range (~85 in float32); those rows
    (usually none) are recomputed by ``grad_log_magnitude_logsum``, which follows the same states.
    """
    sign, log_abs = map_configs_with_fallback(ROW_FNS["log_grad_row"][act], ROW_FNS["log_grad_logsum_row"][act],
                                              rows, (xs, read_idx), chunk_size=chunk_size, desc=desc)
    return LogNum(sign, log_abs)


def curve_study(cfg, xs_by_dtype, act, chunk_size):
    """(w, T) grid for one activation: closed form in f32 and f64 against forward/reverse autodiff.

    Returns (arrays, report): full f32 curves (input, h0, w, T) and the agreement numbers.
    """
    t_max, n_in = xs_by_dtype[np.float32].shape
    ws = np.linspace(cfg.w_min, cfg.w_max, cfg.n_w)
    shape = (n_in, len(cfg.h0_values), cfg.n_w)
    g = grid(input=np.arange(n_in), h0=np.asarray(cfg.h0_values), w=ws)
    lengths = np.arange(1, t_max + 1)
    checks = check_lengths(t_max, cfg.n_check)
    out, report = {}, {}
    for dtype in (np.float32, np.float64):
        with jax.enable_x64(dtype == np.float64):
            rows = grid_rows(g, dtype, u=cfg.u, b=cfg.b)
            xs = xs_by_dtype[dtype]
            fns = {k: v[act] for k, v in ROW_FNS.items()}
            tag = np.dtype(dtype).name
            closed = curve_sweep(rows, xs, np.arange(t_max), act, chunk_size, f"{act} closed {tag}")
            fwd = map_configs(fns["forward_row"], rows, (xs,), chunk_size=chunk_size)
            rev = map_configs(fns["reverse_row"], rows, (xs, checks.astype(np.int32)), chunk_size=chunk_size,
                              desc=f"{act} reverse {tag}")
            kappa = map_configs(fns["rounding_row"], rows, (xs,), chunk_size=chunk_size)
            if dtype == np.float64:
                auto = LogNum(*map_configs(fns["autodiff_log_grad_row"], rows, (xs,), chunk_size=chunk_size))
        out[tag] = dict(closed=closed, fwd=fwd, rev=rev, kappa=np.asarray(kappa, np.float64))
    truth = out["float64"]["closed"]
    at_checks = LogNum(truth.sign[:, checks - 1], truth.log_abs[:, checks - 1])
    for tag, dtype, target in (("float32", np.float32, 1e-5), ("float64", np.float64, 1e-10)):
        o = out[tag]
        rho = closed_form_rounding_scale(truth, dtype)
        scale = o["kappa"] + rho
        fwd_mask = gradients.autodiff_representable(truth, dtype, "forward")
        rev_mask = gradients.autodiff_representable(truth, dtype, "reverse")[:, checks - 1]
        finite = np.isfinite(truth.log_abs)
        closed_err = np.abs(np.asarray(o["closed"].log_abs, np.float64)[finite] - truth.log_abs[finite])
        report[tag] = {
            "closed_form_log_abs_err_max": float(closed_err.max()),
            "closed_form_log_abs_err_median": float(np.median(closed_err)),
            "closed_form_log_abs_err_p99": float(np.quantile(closed_err, 0.99)),
            "closed_form_sign_mismatches": int((np.asarray(o["closed"].sign) != truth.sign).sum()),
            "forward_vs_closed": agreement(truth, o["fwd"], fwd_mask, scale, target),
            "reverse_vs_closed": agreement(at_checks, o["rev"], rev_mask, scale[:, checks - 1], target),
            "forward_vs_reverse": agreement(from_value(o["fwd"][:, checks - 1]), o["rev"],
                                             rev_mask & fwd_mask[:, checks - 1] & (o["fwd"][:, checks - 1] != 0),
                                             o["kappa"][:, checks - 1], target),
            "forward_range": range_report(truth, o["fwd"], dtype),
            "reverse_range": range_report(at_checks, o["rev"], dtype),
        }
    auto = LogNum(np.asarray(auto.sign), np.asarray(auto.log_abs, np.float64))
    finite = np.isfinite(truth.log_abs)
    beyond = finite & ~representable(truth, np.float64)
    with np.errstate(invalid="ignore"):  # -inf - -inf at exact zeros (w = 0)
        dlog = np.abs(auto.log_abs - truth.log_abs)
    scale64 = out["float64"]["kappa"] + closed_form_rounding_scale(truth, np.float64)
    report["log_space_autodiff_float64"] = {
        "points": int(finite.sum()),
        "points_beyond_float64_range": int(beyond.sum()),
        "max_log_abs_err": float(np.max(dlog[finite & np.isfinite(auto.log_abs)], initial=0.0)),  # 0 points: 0
        "max_log_abs_err_beyond_float64_range": float(dlog[beyond].max()) if beyond.any() else 0.0,
        "unexplained": int((finite & ~((dlog <= 1e-10) | (dlog <= 8.0 * scale64))).sum()),
        "sign_mismatches": int(((auto.sign != truth.sign) & (auto.sign != 0)).sum()),
        "autodiff_zeros_where_kappa_inf": int(((auto.sign == 0) & (truth.sign != 0)
                                               & np.isinf(out["float64"]["kappa"])).sum()),
        "autodiff_zeros_unexplained": int(((auto.sign == 0) & (truth.sign != 0)
                                           & np.isfinite(out["float64"]["kappa"])).sum()),
    }
    c32 = out["float32"]["closed"]
    report["bound"] = {
        "float32": bound_violations(c32, g["w"][:, None], lengths, act, np.float32),
        "float64": bound_violations(truth, g["w"][:, None], lengths, act, np.float64),
    }
    arrays = {
        N.LOG10_GRAD: (np.asarray(c32.log_abs) / LN10).reshape(shape + (t_max,)).astype(np.float32),
        N.REL_ERR["forward", "f32"]: relative_error(at_checks, out["float32"]["fwd"][:, checks - 1]).reshape(shape + (-1,)),
        N.REL_ERR["reverse", "f32"]: relative_error(at_checks, out["float32"]["rev"]).reshape(shape + (-1,)),
        N.REL_ERR["forward", "f64"]: relative_error(at_checks, out["float64"]["fwd"][:, checks - 1]).reshape(shape + (-1,)),
        N.REL_ERR["reverse", "f64"]: relative_error(at_checks, out["float64"]["rev"]).reshape(shape + (-1,)),
        N.LOG10_GRAD_F64_AT_CHECKS: (at_checks.log_abs / LN10).reshape(shape + (-1,)),
    }
    return arrays, report


def activation_study(n_points: int = 20_001, half_width: float = 10.0) -> tuple[dict, dict]:
    """C1 in float64: act' on a grid through 0, by the closed form and by ``jax.grad``.

    Returns arrays (act, a) and per activation: where the max is, its value, whether every
    other grid point is strictly smaller, and whether act'' changes sign only at 0.
    """
    a = np.linspace(-half_width, half_width, n_points)
    a[n_points // 2] = 0.0
    arrays, report = {}, {}
    with jax.enable_x64(True):
        a64 = jax.numpy.asarray(a)
        for act in ACTIVATIONS:
            f = functools.partial(activation, act)
            closed = jax.jit(lambda z: jax.numpy.exp(log_derivative(act, z)))(a64)
            auto = jax.jit(jax.vmap(jax.grad(f)))(a64)
            second = jax.jit(jax.vmap(jax.grad(jax.grad(f))))(a64)
            closed, auto, second = (np.asarray(v) for v in (closed, auto, second))
            i = int(np.argmax(closed))
            others = np.delete(closed, i)
            report[act] = {
                "argmax": float(a[i]),
                "max": float(closed[i]),
                "max_autodiff": float(auto[int(np.argmax(auto))]),
                "argmax_autodiff": float(a[int(np.argmax(auto))]),
                "strict_elsewhere": bool(np.all(others < closed[i])),
                "second_derivative_sign_changes_only_at_0": bool(
                    np.all(np.sign(second[a != 0]) == -np.sign(a[a != 0]))),
                "max_rel_diff_closed_vs_autodiff": float(np.max(np.abs(auto - closed) / closed)),
                "expected_max": MAX_DERIVATIVE[act],
                "points": int(n_points),
            }
            arrays[act] = closed
    return {"a": a, "derivative": np.stack([arrays[act] for act in ACTIVATIONS])}, report


def nudge_study(cfg, t_max: int, chunk_size: int) -> tuple[dict, dict]:
    """Float64 curves at the unstable fixed point (b = -w/2, x = 0, h0 = 1/2 + delta), sigmoid.

    delta = 0 gives exactly (w/4)^T; any nudge escapes the fixed point after about
    ln(1/delta) / ln(|w|/4) steps, after which the gradient collapses.
    """
    deltas = np.concatenate([[0.0], np.asarray(cfg.nudges)])
    g = grid(w=np.asarray(cfg.nudge_ws), delta=deltas)
    with jax.enable_x64(True):
        rows = grid_rows({"w": g["w"], "h0": 0.5 + g["delta"], "b": -g["w"] / 2}, np.float64,
                     u=cfg.u, input=0)
        xs = np.zeros((t_max, 1))
        curve = curve_sweep(rows, xs, np.arange(t_max), "sigmoid", chunk_size, "nudges")
    log10 = (curve.log_abs / LN10).reshape(len(cfg.nudge_ws), len(deltas), t_max)
    lengths = np.arange(1, t_max + 1)
    exact = lengths * np.log10(np.abs(np.asarray(cfg.nudge_ws))[:, None] / 4)
    peak = log10.max(-1)
    report = {
        "max_abs_err_log10_at_delta0_vs_T_log10_w_over_4": float(np.max(np.abs(log10[:, 0] - exact))),
        "per_w": {
            str(w): {
                "delta": deltas[1:].tolist(),
                "peak_log10_grad": peak[i, 1:].tolist(),
                "peak_T": (log10[i, 1:].argmax(-1) + 1).tolist(),
                "escape_T_predicted": (np.log(1 / deltas[1:]) / np.log(abs(w) / 4)).tolist(),
                "log10_grad_at_T_max": log10[i, 1:, -1].tolist(),
                "log10_grad_at_T_max_delta0": float(log10[i, 0, -1]),
            }
            for i, w in enumerate(cfg.nudge_ws)
        },
    }
    return {"delta": deltas, "log10_grad_nudge": log10}, report


def study(cfg, input_names: tuple[str, ...], *, key, chunk_size: int):
    """Every sweep of the gradient_decay experiment: (Dataset, summary)."""
    t_max = cfg.t_max
    xs64 = xs_table(input_names, t_max, key=key, dtype=np.float64)
    xs_by_dtype = {np.float32: xs64.astype(np.float32), np.float64: xs64}
    ds = Dataset()
    ds.add_axis(N.ACT, np.asarray(cfg.activations))
    ds.add_axis(N.INPUT, np.asarray(input_names))
    ds.add_axis(N.H0, np.asarray(cfg.h0_values))
    ds.add_axis(N.W, np.linspace(cfg.w_min, cfg.w_max, cfg.n_w))
    ds.add_axis(N.T, np.arange(1, t_max + 1))
    ds.add_axis(N.T_CHECK, check_lengths(t_max, cfg.n_check))
    ds.add(N.XS, ("T", "input"), xs64)
    summary = {"curves": {}, "setting": {"u": float(cfg.u), "b": float(cfg.b), "h0_wb": float(cfg.h0_values[0])}}
    per_act = {}
    for act in cfg.activations:
        arrays, summary["curves"][act] = curve_study(cfg, xs_by_dtype, act, chunk_size)
        per_act[act] = arrays
    # Stored curves: every T up to 100, then every 5th (the heatmaps' columns); sign = sign(w)^T.
    t_plot = plot_lengths(t_max)
    ds.add_axis(N.T_PLOT, t_plot)
    full = np.stack([per_act[a].pop(N.LOG10_GRAD) for a in cfg.activations])
    ds.add(N.LOG10_GRAD, ("act", "input", "h0", "w", "T_plot"), full[..., t_plot - 1])
    for name in per_act[cfg.activations[0]]:
        ds.add(name, ("act", "input", "h0", "w", "T_check"), np.stack([per_act[a][name] for a in cfg.activations]))
    # Decay rate per step (log10), fitted over the second half of T.
    half = t_max // 2
    with np.errstate(invalid="ignore"):
        rate = (full[..., -1] - full[..., half - 1]) / max(t_max - half, 1) if t_max > 1 else full[..., -1]
    ds.add(N.DECAY_RATE_LOG10, ("act", "input", "h0", "w"), rate.astype(np.float64))

    # (w, b) sweep and (w, h0) at the unstable fixed point, sigmoid; one compiled program for both.
    read = np.asarray(sorted(set(cfg.wb_lengths) | {t_max})) - 1
    ds.add_axis(N.B, np.linspace(cfg.b_min, cfg.b_max, cfg.n_b))
    ds.add_axis(N.T_READ, read + 1)
    ds.add_axis(N.H0_FP, np.linspace(0.0, 1.0, cfg.n_h0))
    g_wb = grid(input=np.arange(len(input_names)), w=ds[N.W], b=ds[N.B])
    wb = curve_sweep(grid_rows(g_wb, np.float32, u=cfg.u, h0=cfg.h0_values[0]), xs_by_dtype[np.float32], read,
                      "sigmoid", chunk_size, "(w, b) sweep")
    wb_shape = (len(input_names), cfg.n_w, cfg.n_b, len(read))
    ds.add(N.LOG10_GRAD_WB, ("input", "w", "b", "T_read"), (wb.log_abs / LN10).reshape(wb_shape))
    ds.add(N.FTLE_WB, ("input", "w", "b"), wb.log_abs.reshape(wb_shape)[..., -1] / t_max)
    g = grid(w=ds[N.W], h0=ds[N.H0_FP])
    fp = curve_sweep(grid_rows({"w": g["w"], "h0": g["h0"], "b": -g["w"] / 2}, np.float32, u=cfg.u,
                            input=input_names.index("zero")),
                      xs_by_dtype[np.float32], read, "sigmoid", chunk_size, "(w, h0) sweep")
    ds.add(N.LOG10_GRAD_FIXED_POINT, ("w", "h0_fp", "T_read"),
           (fp.log_abs / LN10).reshape(cfg.n_w, cfg.n_h0, len(read)))

    nudge_arrays, summary["nudge"] = nudge_study(cfg, t_max, chunk_size)
    ds.add_axis(N.W_NUDGE, np.asarray(cfg.nudge_ws))
    ds.add_axis(N.DELTA, nudge_arrays["delta"])
    ds.add(N.LOG10_GRAD_NUDGE, ("w_nudge", "delta", "T"), nudge_arrays["log10_grad_nudge"])

    act_arrays, summary["activation"] = activation_study()
    ds.add_axis(N.A, act_arrays["a"])
    ds.add_axis(N.ACT_ALL, np.asarray(ACTIVATIONS))
    ds.add(N.ACT_DERIVATIVE, ("act_all", "a"), act_arrays["derivative"])

    summary["bound_wb"] = bound_violations(wb, g_wb["w"][:, None], read + 1, "sigmoid", np.float32)
    summary["explosion"] = explosion_report(ds, cfg)
    summary["claims"] = claims(summary)
    return ds, summary


def explosion_report(ds: Dataset, cfg) -> dict:
    """C3: how much of the |w| > 4 region has |dh_T/dh_0| > 1, read off every sigmoid sweep."""
    big = np.abs(ds[N.W]) > 4
    t_read = ds[N.T_READ]
    rep = {"wb": {}, "b0": {}, "fixed_point_w_h0": {}, "ftle": {}}
    wb = ds[N.LOG10_GRAD_WB][:, big]  # (input, w>4, b, T_read)
    rep["points_abs_w_above_4"] = int(wb.shape[1] * wb.shape[2])  # (w, b) points per input and length
    for i, name in enumerate(ds[N.INPUT]):
        rep["wb"][str(name)] = {int(t): float((wb[i, ..., j] > 0).mean()) for j, t in enumerate(t_read)}
        j = int(np.argmax(wb[i, ..., -2] if len(t_read) > 1 else wb[i, ..., -1]))
        wi, bi = np.unravel_index(j, wb.shape[1:3])
        rep["wb"][str(name)]["max_log10_at_longest_wb_length"] = float(wb[i, wi, bi, -2 if len(t_read) > 1 else -1])
        rep["wb"][str(name)]["argmax_w_b"] = [float(ds[N.W][big][wi]), float(ds[N.B][bi])]
        ftle = ds[N.FTLE_WB][i][big]
        rep["ftle"][str(name)] = {"frac_positive": float((ftle > 0).mean()), "max": float(ftle.max()),
                                  "T": int(cfg.t_max)}
    if "sigmoid" in list(ds[N.ACT]):
        a = list(ds[N.ACT]).index("sigmoid")
        curves = ds[N.LOG10_GRAD][a][:, :, big]  # (input, h0, w>4, T_plot)
        col = {int(t): j for j, t in enumerate(ds[N.T_PLOT])}
        for i, name in enumerate(ds[N.INPUT]):
            for k, h0 in enumerate(ds[N.H0]):
                rep["b0"][f"{name}, h0={h0:g}"] = {int(t): float((curves[i, k, :, col[int(t)]] > 0).mean())
                                                   for t in t_read if int(t) in col}
    fp = ds[N.LOG10_GRAD_FIXED_POINT][big]  # (w>4, h0, T_read)
    rep["fixed_point_w_h0"] = {int(t): float((fp[..., j] > 0).mean()) for j, t in enumerate(t_read)}
    rep["lengths"] = [int(t) for t in t_read]
    return rep


def compute(config) -> tuple:
    """The runner's entry: (Dataset, summary with claims[, extra arrays]) for a validated config."""
    return study(config, INPUTS, key=jax.random.key(config.input_seed), chunk_size=config.chunk_size)
