"""The skip_connections study (Problem 1 d, claim C4): how a skip weight m changes gradient decay.

Rows are configs ``{"w", "m", "u", "b", "h0", "hp0", "input"}`` (scalars, ``input`` picks one of K
time-major input sequences ``xs`` (T, K) through a one-hot input weight, as in ``decay``).
"""

from __future__ import annotations

import functools

import jax
import numpy as np

from jaxrnn.core import gradients
from jaxrnn.core.agreement import agreement, range_report
from jaxrnn.core.cells import ACTIVATIONS, SkipParams
from jaxrnn.core.scalar_sweeps import LN10, check_lengths, grid_rows, plot_lengths, xs_table
from jaxrnn.core.logspace import LogNum
from jaxrnn.io.results import Dataset
from jaxrnn.core.sweep import grid, map_configs
from jaxrnn.studies.skip_connections.claims import claims
from jaxrnn.studies.skip_connections import names as N


EDGE_DECADES = 6  # points this close to underflow are scored apart (see agreement_study)


def _params(row, n_inputs: int) -> SkipParams:
    return SkipParams(row["w"], row["m"], row["u"] * jax.nn.one_hot(row["input"], n_inputs, dtype=row["w"].dtype),
                      row["b"])


def log_grad_row(row, xs, read_idx, *, act):
    c = gradients.skip_grad_log_magnitude(_params(row, xs.shape[1]), row["h0"], row["hp0"], xs, act=act,
                                          read_idx=read_idx)
    return c.sign, c.log_abs


def forward_row(row, xs, *, act):
    return gradients.skip_grad_forward(_params(row, xs.shape[1]), row["h0"], row["hp0"], xs, act=act)


def reverse_row(row, xs, lengths, *, act):
    p = _params(row, xs.shape[1])
    return jax.vmap(lambda n: gradients.skip_grad_reverse(p, row["h0"], row["hp0"], xs, n, act=act))(lengths)


def rounding_row(row, xs, *, act):
    return gradients.skip_rounding_scale(_params(row, xs.shape[1]), row["h0"], row["hp0"], xs, act=act)


ROW_FNS = {fn.__name__: {act: functools.partial(fn, act=act) for act in ACTIVATIONS}
           for fn in (log_grad_row, forward_row, reverse_row, rounding_row)}


def _sweep(rows, xs, read_idx, act, chunk_size, desc=None) -> LogNum:
    return LogNum(*map_configs(ROW_FNS["log_grad_row"][act], rows, (xs, read_idx), chunk_size=chunk_size, desc=desc))


def agreement_study(rows, xs64, act, t_check, chunk_size) -> dict:
    """Closed form vs jax.jvp (all T) vs jax.grad (at t_check), float32 and float64."""
    rep = {}
    t_max = xs64.shape[0]
    with jax.enable_x64(True):
        truth = _sweep(grid_rows(rows, np.float64), xs64, np.arange(t_max), act, chunk_size)
        # The gradient is a sum over paths; cancellation between paths of opposite sign amplifies
        # rounding by cond_T = (sum of |path products|) / |sum of path products|, the closed form
        # with |w| and |m|. (The states, and so act', do not depend on the signs we drop here:
        # the |w|, |m| run only supplies the magnitudes, so it is evaluated on the true states.)
        cond = condition_numbers(rows, xs64, act, chunk_size)
    for dtype, target in ((np.float32, 1e-5), (np.float64, 1e-10)):
        with jax.enable_x64(dtype == np.float64):
            r, xs = grid_rows(rows, dtype), xs64.astype(dtype)
            fwd = map_configs(ROW_FNS["forward_row"][act], r, (xs,), chunk_size=chunk_size)
            rev = map_configs(ROW_FNS["reverse_row"][act], r, (xs, t_check.astype(np.int32)), chunk_size=chunk_size)
            kappa = np.asarray(map_configs(ROW_FNS["rounding_row"][act], r, (xs,), chunk_size=chunk_size), np.float64)
            closed = _sweep(r, xs, np.arange(t_max), act, chunk_size)
        eps = np.finfo(dtype).eps
        # each step of the 2x2 product rounds ~4 times (two products, a sum, the act' factor)
        scale = (kappa + gradients.closed_form_rounding_scale(truth, dtype) + 4 * eps * np.arange(1, t_max + 1)) * cond
        # The adjoint/tangent is a 2-vector whose smaller component can sit decades below the value:
        # within EDGE_DECADES of the smallest normal it goes subnormal and loses digits. Those points
        # are scored apart ("range edge"), not dropped.
        edge = truth.log_abs < np.log(np.finfo(dtype).tiny) + EDGE_DECADES * np.log(10)
        at = LogNum(truth.sign[:, t_check - 1], truth.log_abs[:, t_check - 1])
        fwd_mask = gradients.autodiff_representable(truth, dtype, "forward")
        rev_mask = gradients.autodiff_representable(truth, dtype, "reverse")[:, t_check - 1]
        finite = np.isfinite(truth.log_abs)
        rep[np.dtype(dtype).name] = {
            "cancellation_condition_max": float(np.max(cond[np.isfinite(cond)])),
            "closed_form_log_abs_err_max": float(np.max(np.abs(np.asarray(closed.log_abs, np.float64)[finite]
                                                               - truth.log_abs[finite]))),
            "forward_vs_closed": agreement(truth, fwd, fwd_mask & ~edge, scale, target),
            "reverse_vs_closed": agreement(at, rev, rev_mask & ~edge[:, t_check - 1], scale[:, t_check - 1], target),
            "forward_vs_closed_range_edge": agreement(truth, fwd, fwd_mask & edge, scale, target),
            "reverse_vs_closed_range_edge": agreement(at, rev, rev_mask & edge[:, t_check - 1], scale[:, t_check - 1],
                                                      target),
            "forward_range": range_report(truth, fwd, dtype),
        }
    return rep


def abs_path_row(row, xs, read_idx, *, act):
    """log of the sum of |path products|: the transfer-matrix product with |w|, |m| on the true states."""
    c = gradients.skip_grad_log_magnitude(_params(row, xs.shape[1]), row["h0"], row["hp0"], xs, act=act,
                                          read_idx=read_idx, magnitudes=True)
    return c.log_abs


ABS_ROW_FNS = {act: functools.partial(abs_path_row, act=act) for act in ACTIVATIONS}


def condition_numbers(rows, xs64, act, chunk_size) -> np.ndarray:
    """cond_T = sum |path products| / |sum of path products| >= 1, every row and T (float64)."""
    t_max = xs64.shape[0]
    with jax.enable_x64(True):
        r = grid_rows(rows, np.float64)
        truth = _sweep(r, xs64, np.arange(t_max), act, chunk_size)
        abs_log = map_configs(ABS_ROW_FNS[act], r, (xs64, np.arange(t_max)), chunk_size=chunk_size)
    with np.errstate(invalid="ignore", over="ignore"):
        return np.exp(np.asarray(abs_log) - np.asarray(truth.log_abs))


def path_study(cfg, xs64) -> tuple[dict, dict]:
    """C4's path view for one setting, in float64: contribution and count of paths by edge count."""
    with jax.enable_x64(True):
        p = SkipParams(*(jax.numpy.float64(v) for v in (cfg.path_w, cfg.path_m, cfg.u, cfg.b)))
        xs = xs64[:cfg.path_length, 0]
        contrib, count = gradients.skip_path_sums(p, cfg.h0, cfg.h0, xs, act=cfg.path_act)
        closed = gradients.skip_grad_log_magnitude(p, cfg.h0, cfg.h0, xs, act=cfg.path_act)
    value = float(np.asarray(closed.sign)[-1] * np.exp(np.asarray(closed.log_abs)[-1]))
    k = np.arange(len(contrib))
    plain_k = len(contrib) - 1  # the all-1-step path (the plain RNN's only path) has T edges
    rep = {
        "w": cfg.path_w, "m": cfg.path_m, "act": cfg.path_act, "T": cfg.path_length,
        "paths": float(count.sum()), "closed_form": value, "path_sum": float(contrib.sum()),
        "rel_diff": float(abs(contrib.sum() - value) / abs(value)),
        "share_of_shortest_half": float(np.abs(contrib[k <= (plain_k * 3) // 4]).sum() / np.abs(contrib).sum()),
        "share_all_one_step_path": float(abs(contrib[plain_k]) / np.abs(contrib).sum()),
        "dominant_edge_count": int(np.argmax(np.abs(contrib))),
    }
    return {"k": k, "contribution": contrib, "count": count}, rep


def study(cfg, *, key):
    t_max = cfg.t_max
    xs64 = xs_table(("noise",), t_max, key=key, dtype=np.float64)
    xs32 = xs64.astype(np.float32)
    ds = Dataset()
    ds.add_axis(N.ACT, np.asarray(cfg.activations))
    ds.add_axis(N.W, np.linspace(-cfg.weight_max, cfg.weight_max, cfg.n_weight))
    ds.add_axis(N.M, np.linspace(-cfg.weight_max, cfg.weight_max, cfg.n_weight))
    read = np.asarray(sorted(set(cfg.lengths) | {t_max})) - 1
    ds.add_axis(N.T_READ, read + 1)
    t_plot = plot_lengths(t_max)
    ds.add_axis(N.T_PLOT, t_plot)
    ds.add_axis(N.M_LINE, np.linspace(-cfg.weight_max, cfg.weight_max, cfg.n_m_line))
    ds.add_axis(N.TOTAL, np.asarray(cfg.totals))
    ds.add_axis(N.M_SHARE, np.linspace(0.0, 1.0, cfg.n_share))
    ds.add_axis(N.T, np.arange(1, t_max + 1))
    ds.add(N.XS, ("T",), xs64[:, 0])
    summary = {"agreement": {}, "fair": {}, "setting": {"w_fixed": float(cfg.w_fixed), "u": float(cfg.u),
                                                       "b": float(cfg.b), "h0": float(cfg.h0)}}
    base = dict(u=cfg.u, b=cfg.b, h0=cfg.h0, hp0=cfg.h0, input=0)
    wm, mt, fair, rates = [], [], [], []
    for act in cfg.activations:
        g = grid(w=ds[N.W], m=ds[N.M])
        c = _sweep(grid_rows(g, np.float32, **base), xs32, read, act, cfg.chunk_size, f"{act} (w, m)")
        wm.append((c.log_abs / LN10).reshape(cfg.n_weight, cfg.n_weight, len(read)))
        g = grid(m=ds[N.M_LINE])
        c = _sweep(grid_rows(g, np.float32, w=cfg.w_fixed, **base), xs32, np.arange(t_max), act, cfg.chunk_size)
        curves = c.log_abs / LN10  # (m_line, T)
        mt.append(curves[:, t_plot - 1])
        half = t_max // 2
        rates.append((curves[:, -1] - curves[:, half - 1]) / max(t_max - half, 1))
        # fair comparison: w + m = total fixed; m = share * total
        g = grid(total=ds[N.TOTAL], m_share=ds[N.M_SHARE])
        rows = grid_rows({"w": g["total"] * (1 - g["m_share"]), "m": g["total"] * g["m_share"]}, np.float32, **base)
        c = _sweep(rows, xs32, read, act, cfg.chunk_size)
        skip = (c.log_abs / LN10).reshape(len(cfg.totals), cfg.n_share, len(read))
        fair.append(skip - skip[:, :1, :])  # decades gained over m = 0 (the plain RNN with w = total)
        summary["fair"][act] = fair_report(cfg, ds, skip, read + 1)
        g = grid(w=np.linspace(-cfg.weight_max, cfg.weight_max, cfg.n_check_grid),
                 m=np.linspace(-cfg.weight_max, cfg.weight_max, cfg.n_check_grid))
        summary["agreement"][act] = agreement_study(
            {k: v for k, v in grid_rows(g, np.float64, **base).items()}, xs64[:cfg.check_length],
            act, check_lengths(cfg.check_length, 8), cfg.chunk_size)
    ds.add(N.LOG10_GRAD_WM, ("act", "w", "m", "T_read"), np.stack(wm))
    ds.add(N.LOG10_GRAD_MT, ("act", "m_line", "T_plot"), np.stack(mt))
    ds.add(N.DECAY_RATE_LOG10, ("act", "m_line"), np.stack(rates))
    ds.add(N.DECADES_GAINED_FAIR, ("act", "total", "m_share", "T_read"), np.stack(fair))
    path_arrays, summary["paths"] = path_study(cfg, xs64)
    ds.add_axis(N.EDGES, path_arrays["k"])
    ds.add(N.PATH_CONTRIBUTION, ("edges",), path_arrays["contribution"])
    ds.add(N.PATH_COUNT, ("edges",), path_arrays["count"])
    summary["claims"] = claims(summary, cfg)
    return ds, summary


def fair_report(cfg, ds, skip, lengths) -> dict:
    """Decades gained at each length by moving weight from w to m (w + m fixed), best share and where it hurts."""
    rep = {}
    for i, total in enumerate(cfg.totals):
        row = {}
        for j, t in enumerate(lengths):
            gain = skip[i, :, j] - skip[i, 0, j]
            best = int(np.argmax(gain))
            row[int(t)] = {"best_gain_decades": float(gain[best]), "best_m_share": float(ds[N.M_SHARE][best]),
                           "plain_log10": float(skip[i, 0, j]), "frac_shares_that_hurt": float((gain[1:] < 0).mean())}
        rep[f"{total:g}"] = row
    return rep


def compute(config) -> tuple:
    """The runner's entry: (Dataset, summary with claims[, extra arrays]) for a validated config."""
    return study(config, key=jax.random.key(config.input_seed))
