"""Figures of the skip_connections study, drawn from the saved ``data.npz`` (and summary) only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.ticker import MaxNLocator

from jaxrnn.io.figures import (DASHES, MARKERS, OKABE_ITO, above_one_handles, log10_colorbar, log10_heatmap,
                               log10_scale, plt, save_figure)
from jaxrnn.io.results import Dataset
from jaxrnn.studies.skip_connections import names as N

GRAD = r"$\log_{10}|dh_T/dh_0|$ (decades)"
MODEL = r"$h_t = \mathrm{act}(u\,x_t + w\,h_{t-1} + m\,h_{t-2} + b)$"


def draw(ds: Dataset, summary: dict, folder: Path) -> list[str]:
    """Every figure of the study, from the saved data (and summary) only; returns the file names."""
    setting = summary.get("setting", {})
    return [_fig_skip_wm(ds, setting, folder), _fig_skip_mt(ds, setting, folder), _fig_skip_fair(ds, setting, folder),
            _fig_paths(ds, summary.get("paths", {}), folder)]


def _setting_text(setting: dict) -> str:
    parts = [f"{k} = {setting[k]:g}" for k in ("u", "b") if k in setting]
    if "h0" in setting:
        parts.append(rf"$h_0 = h_{{-1}}$ = {setting['h0']:g}")
    return ", ".join(parts + [r"$x_t \sim N(0,1)$"])


def _fig_skip_wm(ds: Dataset, setting: dict, folder) -> str:
    acts, t_read = ds[N.ACT], ds[N.T_READ]
    data = ds[N.LOG10_GRAD_WM]  # (act, w, m, T_read)
    panel_max = np.nanmax(np.where(np.isfinite(data), data, np.nan), axis=(1, 2))
    # One colour scale per panel: the gradient shrinks by hundreds (tanh: thousands) of decades from T = 50
    # to 500, so any shared scale leaves the long-T panels empty or the short-T ones flat. Each panel's
    # scale runs from 0 (|grad| = 1) down to its own 20th percentile (at least 45 decades), so every
    # panel shows where the gradient survives; the bar under each panel gives its range.
    fig, axes = plt.subplots(2 * len(acts), len(t_read), figsize=(min(3.4 * len(t_read), 10.5) + 0.6,
                             3.4 * len(acts) + 1.9), squeeze=False,
                             height_ratios=[1, 0.06] * len(acts))
    panels, clipped, grey = [], False, False
    for a, act in enumerate(acts):
        for j, t in enumerate(t_read):
            ax, cax = axes[2 * a, j], axes[2 * a + 1, j]
            panel = data[a, :, :, j].T
            finite = panel[np.isfinite(panel)]
            floor = min(-45.0, float(np.floor(np.percentile(finite, 20) / 5) * 5)) if finite.size else -45.0
            scale = log10_scale(panel, floor=floor, ceil=0.0)
            panels.append(panel)
            im = log10_heatmap(ax, panel, ds[N.W], ds[N.M], scale=scale, above_one=True)
            ax.set_title(f"{act}, T = {t} (largest: $10^{{{panel_max[a, j]:.0f}}}$)")
            if a or j:
                ax.sharex(axes[0, 0])
                ax.sharey(axes[0, 0])
            if j:
                ax.tick_params(labelleft=False)
            else:
                ax.set_ylabel("m (skip weight)")
            ax.set_xlabel("w (one-step weight)", labelpad=1)
            cb = fig.colorbar(im, cax=cax, orientation="horizontal", extend=scale["extend"])
            cb.ax.xaxis.set_major_locator(MaxNLocator(5))
            clipped |= scale["extend"] != "neither"
            grey |= scale["has_zero"]
    handles = above_one_handles(*panels)
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles))
    notes = "; ".join(["each panel has its own colour scale (bar below it)"] + (["arrow: clipped"] if clipped else [])
                      + (["grey: exactly 0"] if grey else []))
    fig.suptitle(f"Skip RNN {MODEL}, {_setting_text(setting)}:\n"
                 f"colour: {GRAD} over (w, m); at long T it survives only away from m = 0 (the plain RNN)\n"
                 f"{notes}")
    return save_figure(fig, folder, N.FIG_HEATMAP_W_M)


def _fig_skip_mt(ds: Dataset, setting: dict, folder) -> str:
    acts = ds[N.ACT]
    data = ds[N.LOG10_GRAD_MT]  # (act, m_line, T_plot)
    scale = log10_scale(data, ceil=0.0)
    w = setting.get("w_fixed")
    wtxt = f"w = {w:g}" if w is not None else "w fixed"
    fig, axes = plt.subplots(1, len(acts) + 1, figsize=(3.8 * (len(acts) + 1) + 0.8, 4.4), squeeze=False)
    for a, act in enumerate(acts):
        ax = axes[0, a]
        im = log10_heatmap(ax, data[a], ds[N.T_PLOT], ds[N.M_LINE], scale=scale, above_one=True)
        ax.set_title(f"{act}, {wtxt}")
        ax.set_xlabel("T (steps, log scale)")
        ax.set_xscale("log")
        ax.set_ylabel("m (skip weight)")
        if a:
            ax.sharey(axes[0, 0])
        ax2 = axes[0, -1]
        ax2.plot(ds[N.M_LINE], ds[N.DECAY_RATE_LOG10][a], color=OKABE_ITO[a], ls=DASHES[a], marker=MARKERS[a],
                 markevery=(4 * a, 10), label=act)
    log10_colorbar(fig, im, axes[0, :-1], scale, GRAD)
    t_max = int(ds[N.T_PLOT][-1])
    ax2 = axes[0, -1]
    ax2.axhline(0, color="0.5", lw=0.6)
    ax2.axvline(0, color="0.3", ls=":", lw=1.0, label="m = 0: plain RNN")
    ax2.set_xlabel("m (skip weight)")
    ax2.set_ylabel(f"decay rate (decades per step,\nslope over T = {t_max // 2}..{t_max})")
    ax2.set_title(f"decay rate, {wtxt}")
    ax2.legend()
    handles = above_one_handles(*data)
    if handles:
        fig.legend(handles=handles, loc="outside lower center", ncol=len(handles))
    fig.suptitle(f"Skip RNN {MODEL}, {wtxt}, {_setting_text(setting)}: gradient over (m, T)")
    return save_figure(fig, folder, N.FIG_HEATMAP_M_T)


def _fig_skip_fair(ds: Dataset, setting: dict, folder) -> str:
    acts, t_read, totals = ds[N.ACT], ds[N.T_READ], ds[N.TOTAL]
    data = ds[N.DECADES_GAINED_FAIR]  # (act, total, m_share, T_read)
    fig, axes = plt.subplots(len(acts), len(t_read), figsize=(min(3.9 * len(t_read), 12.2), 2.9 * len(acts) + 1.3),
                             squeeze=False, sharex=True, sharey="col")
    for a, act in enumerate(acts):
        for j, t in enumerate(t_read):
            ax = axes[a, j]
            for i, total in enumerate(totals[:4]):
                ax.plot(ds[N.M_SHARE], data[a, i, :, j], color=OKABE_ITO[i], ls=DASHES[i], marker=MARKERS[i],
                        markevery=(2 * i, 8), ms=5, label=f"w + m = {total:g}")
            ax.axhline(0, color="k", lw=0.6)
            ax.set_title(f"{act}, T = {t}")
            if a == len(acts) - 1:
                ax.set_xlabel("m / (w + m)")
            if j == 0:
                ax.set_ylabel("decades gained\nvs m = 0")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels))
    fig.suptitle(f"C4, a fair comparison: the same total weight w + m, moved from w to the skip m;\n"
                 f"gain in {GRAD} over the plain RNN (m = 0), {len(ds[N.M_SHARE])} splits a curve; {_setting_text(setting)}"
                 + (f" ({len(totals) - 4} more totals in data.npz)" if len(totals) > 4 else ""))
    return save_figure(fig, folder, N.FIG_FAIR_COMPARISON)


def _fig_paths(ds: Dataset, paths: dict, folder) -> str:
    fig, ax = plt.subplots(figsize=(7.6, 4.8))
    k = ds[N.EDGES]
    contrib, count = ds[N.PATH_CONTRIBUTION], ds[N.PATH_COUNT]
    keep = count > 0
    ax.semilogy(k[keep], np.abs(contrib[keep]), color=OKABE_ITO[0], ls=DASHES[0], marker=MARKERS[0], ms=4,
                label=r"|sum of the path products| with k edges")
    ax.semilogy(k[keep], count[keep], color=OKABE_ITO[1], ls=DASHES[1], marker=MARKERS[1], ms=4,
                label="number of paths with k edges")
    if "closed_form" in paths:
        ax.axhline(abs(paths["closed_form"]), color="k", ls=":", lw=1.2,
                   label=rf"$|dh_T/dh_0|$ (closed form) = {abs(paths['closed_form']):.2g}")
    t = int(paths.get("T", k[-1]))
    ax.set_xlabel(f"k = edges in the path (k = T = {t}: all one-step; each 2-step skip edge makes k one smaller)")
    ax.set_ylabel("count, or |sum| (log scale)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(loc="lower left")
    setting = ", ".join(f"{name} = {paths[key]:g}" for name, key in (("w", "w"), ("m", "m")) if key in paths)
    share = paths.get("share_all_one_step_path")
    ax.set_title(f"C4: the gradient as a sum over paths ({paths.get('act', '')}, {setting}, T = {t});\n"
                 + (f"the plain RNN's all-one-step path carries {100 * share:.1g} % of it" if share is not None else ""))
    return save_figure(fig, folder, N.FIG_PATHS)
