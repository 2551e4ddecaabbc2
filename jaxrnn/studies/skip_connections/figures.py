"""Figures of the skip_connections study, drawn from the saved ``data.npz`` (and summary) only."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.ticker import MaxNLocator

from jaxrnn.io.figures import log10_heatmap, save_figure, plt
from jaxrnn.io.results import Dataset
from jaxrnn.studies.skip_connections import names as N


def draw(ds: Dataset, summary: dict, folder: Path) -> list[str]:
    """Every figure of the study, from the saved data (and summary) only; returns the file names."""
    return [_fig_skip_wm(ds, folder), _fig_skip_mt(ds, folder), _fig_skip_fair(ds, folder), _fig_paths(ds, folder)]


def _fig_skip_wm(ds: Dataset, folder) -> str:
    acts, t_read = ds[N.ACT], ds[N.T_READ]
    fig, axes = plt.subplots(len(acts), len(t_read), figsize=(3.8 * len(t_read), 3.3 * len(acts)), squeeze=False)
    for a, act in enumerate(acts):
        for j, t in enumerate(t_read):
            ax = axes[a, j]
            im = log10_heatmap(ax, ds[N.LOG10_GRAD_WM][a, :, :, j].T, ds[N.W], ds[N.M])
            ax.set_title(f"{act}, T={t}", fontsize=9)
            ax.set_xlabel("w")
            ax.set_ylabel("m (skip weight)")
    fig.colorbar(im, ax=axes, label=r"$\log_{10}|dh_T/dh_0|$ (clipped)", extend="both")
    fig.suptitle("Skip RNN: gradient over (w, m); black: $|dh_T/dh_0| = 1$")
    return save_figure(fig, folder, N.FIG_HEATMAP_W_M)


def _fig_skip_mt(ds: Dataset, folder) -> str:
    acts = ds[N.ACT]
    fig, axes = plt.subplots(1, len(acts) + 1, figsize=(5 * (len(acts) + 1), 3.8), squeeze=False)
    for a, act in enumerate(acts):
        im = log10_heatmap(axes[0, a], ds[N.LOG10_GRAD_MT][a], ds[N.T_PLOT], ds[N.M_LINE])
        axes[0, a].set_title(f"{act}, w fixed", fontsize=9)
        axes[0, a].set_xlabel("T")
        axes[0, a].set_ylabel("m")
        axes[0, -1].plot(ds[N.M_LINE], ds[N.DECAY_RATE_LOG10][a], label=act)
    fig.colorbar(im, ax=axes[0, :-1], label=r"$\log_{10}|dh_T/dh_0|$ (clipped)", extend="both")
    axes[0, -1].axhline(0, color="0.5", lw=0.6)
    axes[0, -1].set_xlabel("m")
    axes[0, -1].set_ylabel("decades per step (slope, 2nd half of T)")
    axes[0, -1].legend(fontsize=8)
    return save_figure(fig, folder, N.FIG_HEATMAP_M_T)


def _fig_skip_fair(ds: Dataset, folder) -> str:
    acts, t_read = ds[N.ACT], ds[N.T_READ]
    fig, axes = plt.subplots(1, len(acts), figsize=(6 * len(acts), 4), squeeze=False)
    for a, act in enumerate(acts):
        ax = axes[0, a]
        for i, total in enumerate(ds[N.TOTAL]):
            for j, t in enumerate(t_read):
                ax.plot(ds[N.M_SHARE], ds[N.DECADES_GAINED_FAIR][a, i, :, j], ls=["-", "--", ":", "-."][j % 4],
                        color=f"C{i}", label=f"w+m={total:g}, T={t}")
        ax.axhline(0, color="k", lw=0.6)
        ax.set_xlabel("share of the recurrent weight on the skip connection, m / (w + m)")
        ax.set_ylabel(r"decades gained in $|dh_T/dh_0|$ vs plain RNN (m = 0)")
        ax.set_title(act)
        ax.legend(fontsize=6, ncol=2)
    return save_figure(fig, folder, N.FIG_FAIR_COMPARISON)


def _fig_paths(ds: Dataset, folder) -> str:
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    k = ds[N.EDGES]
    contrib, count = ds[N.PATH_CONTRIBUTION], ds[N.PATH_COUNT]
    keep = count > 0
    ax.semilogy(k[keep], np.abs(contrib[keep]), "o-", ms=3, label="|sum of path products| with k edges")
    ax.semilogy(k[keep], count[keep], "s--", ms=3, label="number of paths with k edges")
    ax.set_xlabel("edges in the path (T = all 1-step, fewer = more 2-step skips)")
    ax.set_ylabel("count, or |sum| (log scale)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=8)
    ax.set_title("Gradient as a sum over paths", fontsize=9)
    return save_figure(fig, folder, N.FIG_PATHS)
