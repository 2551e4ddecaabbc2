"""Figures of the spectral study, drawn from the saved ``data.npz`` (and summary) only.

Only valid cells (``cell_valid``) are drawn; chaotic cells are marked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jaxrnn.core.cells import MAX_DERIVATIVE
from jaxrnn.io import figures as _figures
from jaxrnn.io.figures import plt, save_figure
from jaxrnn.io.results import Dataset
from jaxrnn.studies.spectral import names as N

CLASS_STYLE = {"contracting": ("C0", "o"), "undetermined": ("0.5", "s"), "chaotic": ("C3", "^")}



def log10_heatmap(ax, values, x, y):
    """``jaxrnn.io.figures.log10_heatmap``; for a one-point axis (T = 1, a one-value grid) the same image
    without the contour at 10^0, which cannot be drawn through a single row or column."""
    if min(np.shape(values)) >= 2:
        return _figures.log10_heatmap(ax, values, x, y)
    img = np.ma.masked_invalid(np.where(np.isneginf(values), np.nan, values))
    return ax.pcolormesh(x, y, img, cmap=plt.get_cmap("RdBu_r").with_extremes(bad="0.6"),
                         vmin=-_figures.LOG10_RANGE, vmax=_figures.LOG10_RANGE, shading="nearest", rasterized=True)


def draw(ds: Dataset, summary: dict, folder: Path) -> list[str]:
    """Every figure of the study, from the saved data (and summary) only; returns the file names."""
    return [_fig_spectral_heatmaps(ds, folder), _fig_lyapunov(ds, folder), _fig_chaos(ds, summary, folder),
            _fig_gated(ds, folder)]


def _dtype(ds) -> str:
    return str(ds[N.COMPUTE_DTYPE])


def _over_valid_seeds(values, valid, stat=np.median):
    """``stat`` over the valid seeds of values (lambda1, seed, ...) -> (lambda1, ...); NaN where none is valid."""
    out = np.full((values.shape[0],) + values.shape[2:], np.nan)
    for l in range(values.shape[0]):
        if valid[l].any():
            out[l] = stat(values[l][valid[l]], axis=0)
    return out


def _fig_spectral_heatmaps(ds: Dataset, folder) -> str:
    acts, kinds, lam = ds[N.ACT], ds[N.KIND], ds[N.LAMBDA1]
    fig, axes = plt.subplots(len(acts), len(kinds), figsize=(5.2 * len(kinds), 3.8 * len(acts)), squeeze=False)
    im = None
    for a, act in enumerate(acts):
        for k, kind in enumerate(kinds):
            ax = axes[a, k]
            valid = ds[N.CELL_VALID][a, k]  # (lambda1, seed)
            med = _over_valid_seeds(ds[N.LOG10_NORM][a, k], valid)  # (lambda1, T)
            im = log10_heatmap(ax, med, ds[N.T_READ], lam)
            ax.set_yscale("log")
            ax.axhline(1 / MAX_DERIVATIVE[str(act)], color="k", ls="--", lw=0.9)
            chaotic = ((ds[N.CHAOS_CLASS][a, k] == "chaotic") & valid).sum(axis=1)
            rows = chaotic > 0
            if rows.any():
                ax.scatter(np.full(rows.sum(), ds[N.T_READ][-1]), lam[rows], marker="<", s=14, color="C3",
                           clip_on=False, zorder=3, label="chaotic seeds (marker: >= 1)")
                ax.legend(loc="lower left", fontsize=7)
            bad = (~valid).sum()
            ax.set_title(f"{act}, {kind} W: median over valid seeds ({bad} invalid cells)\n"
                         f"dashed: $\\lambda_1 = 1/\\gamma$; {_dtype(ds)}", fontsize=8.5)
            ax.set_xlabel("T (steps)")
            ax.set_ylabel(r"$\lambda_1(W)$")
    fig.colorbar(im, ax=axes, label=r"$\log_{10}\|dh_T/dh_0\|_2$ (decades, clipped)", extend="both")
    return save_figure(fig, folder, N.FIG_HEATMAP)


def _fig_lyapunov(ds: Dataset, folder) -> str:
    acts, kinds, lam = ds[N.ACT], ds[N.KIND], ds[N.LAMBDA1]
    fig, axes = plt.subplots(1, len(acts), figsize=(6.2 * len(acts), 4.4), squeeze=False)
    n = len(ds[N.RANK])
    for a, act in enumerate(acts):
        ax = axes[0, a]
        for k, kind in enumerate(kinds):
            valid = ds[N.CELL_VALID][a, k]
            spec = ds[N.LN_LYAPUNOV][a, k]  # (lambda1, seed, rank), sorted largest first
            top, low = _over_valid_seeds(spec[..., 0], valid, np.mean), _over_valid_seeds(spec[..., -1], valid, np.mean)
            ax.plot(lam, top, color=f"C{k}", label=f"{kind}: rank 1 (largest), mean over seeds")
            ax.fill_between(lam, _over_valid_seeds(spec[..., 0], valid, np.min),
                            _over_valid_seeds(spec[..., 0], valid, np.max), color=f"C{k}", alpha=0.2, lw=0)
            ax.plot(lam, low, color=f"C{k}", ls=":", label=f"{kind}: rank {n} (smallest)")
            chaotic = (ds[N.CHAOS_CLASS][a, k] == "chaotic") & valid
            li, si = np.nonzero(chaotic)
            ax.scatter(lam[li], spec[li, si, 0], marker="^", s=12, color="C3", zorder=3,
                       label="chaotic cells" if k == 0 else None)
        gamma = MAX_DERIVATIVE[str(act)]
        ax.plot(lam, np.log(gamma * lam), "k--", lw=1, label=r"bound $\ln(\gamma\lambda_1)$")
        ax.axhline(0, color="0.5", lw=0.6)
        ax.set_xscale("log")
        ax.set_xlabel(r"$\lambda_1(W)$")
        ax.set_ylabel(f"finite-time Lyapunov exponent (ln per step, T = {int(ds[N.T_READ][-1])})")
        ax.set_title(f"{act} ({_dtype(ds)}; band: min-max over valid seeds)")
        ax.legend(fontsize=7)
    return save_figure(fig, folder, N.FIG_LYAPUNOV)


def _fig_chaos(ds: Dataset, summary: dict, folder) -> str:
    """Spread over the h0 draws of log10 ||dh_T/dh_0|| at T = t_max, per cell above the line."""
    acts, kinds, lam = ds[N.ACT], ds[N.KIND], ds[N.LAMBDA1]
    fig, axes = plt.subplots(1, len(acts), figsize=(6.2 * len(acts), 4.2), squeeze=False)
    cells, norms, ok = ds[N.PROBE_CELL], ds[N.PROBE_LOG10_NORM], ds[N.PROBE_VALID]
    for a, act in enumerate(acts):
        ax = axes[0, a]
        for name, (color, marker) in CLASS_STYLE.items():
            for k, kind in enumerate(kinds):
                sel = [i for i, (ca, ck, cl, cs) in enumerate(cells) if ca == a and ck == k
                       and ds[N.CHAOS_CLASS][ca, ck, cl, cs] == name and ok[i].sum() >= 2]
                if not sel:
                    continue
                spread = np.asarray([np.ptp(norms[i][ok[i]]) for i in sel])
                x = lam[cells[sel, 2]] * (1.02 if k else 0.98)
                ax.scatter(x, np.maximum(spread, 1e-9), s=12, color=color, marker=marker,
                           facecolors=color if k == 0 else "none", label=f"{name} ({kind})")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(r"$\lambda_1(W)$ (cells above the line $\lambda_1 > 1/\gamma$)")
        ax.set_ylabel(r"range over h0 draws of $\log_{10}\|dh_T/dh_0\|_2$ (decades)")
        ax.set_title(f"{act}: {len(ds[N.H0_DRAW])} draws per cell (h0, and h0 + delta z, delta = "
                     f"{summary['chaos']['h0_delta']:g}), T = {int(ds[N.T_READ][-1])}", fontsize=8.5)
        ax.legend(fontsize=7)
    return save_figure(fig, folder, N.FIG_CHAOS)


def _fig_gated(ds: Dataset, folder) -> str:
    fig, ax = plt.subplots(figsize=(6.6, 4.2))
    t = ds[N.T_READ]
    for m, model in enumerate(ds[N.MODEL]):
        valid = ds[N.GATED_VALID][m]
        curves = ds[N.LOG10_NORM_GATED][m][valid]
        if not len(curves):
            continue
        state = str(ds[N.GATED_STATE][m])
        ax.plot(t, np.median(curves, axis=0), label=f"{model}, state {state} (median of {len(curves)} inits)")
        ax.fill_between(t, curves.min(axis=0), curves.max(axis=0), alpha=0.2)
    a = list(ds[N.ACT]).index("tanh") if "tanh" in list(ds[N.ACT]) else 0
    j = int(np.argmin(np.abs(ds[N.LAMBDA1] - 1.0)))
    valid = ds[N.CELL_VALID][a, 0, j]
    if valid.any():
        ax.plot(t, np.median(ds[N.LOG10_NORM][a, 0, j][valid], axis=0), "k--",
                label=f"{ds[N.ACT][a]} RNN, orthogonal W, $\\lambda_1$={ds[N.LAMBDA1][j]:.2f}, state h")
    ax.set_xlabel("T (steps)")
    ax.set_ylabel(r"$\log_{10}\|ds_T/ds_0\|_2$ at initialisation (decades)")
    ax.set_title(f"GRU / LSTM at initialisation ({_dtype(ds)})")
    ax.legend(fontsize=8)
    return save_figure(fig, folder, N.FIG_GATED)
