"""Figures of the spectral study, drawn from the saved ``data.npz`` (and summary) only.

Only valid cells (``cell_valid``) are drawn; chaotic cells are marked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jaxrnn.core.cells import MAX_DERIVATIVE
from jaxrnn.io.figures import DASHES, MARKERS, OKABE_ITO, log10_colorbar, log10_heatmap, log10_scale, plt, save_figure
from jaxrnn.io.results import Dataset
from jaxrnn.studies.spectral import names as N

CLASS_STYLE = {"contracting": (OKABE_ITO[0], "o"), "undetermined": ("0.5", "s"), "chaotic": (OKABE_ITO[3], "^")}
NORM = r"$\log_{10}\|dh_T/dh_0\|_2$ (decades)"
LAMBDA = r"$\lambda_1(W)$, the largest singular value of W"
MODEL = r"$h_t = \mathrm{act}(W h_{t-1} + U x_t + b)$"


def draw(ds: Dataset, summary: dict, folder: Path) -> list[str]:
    """Every figure of the study, from the saved data (and summary) only; returns the file names."""
    return [_fig_spectral_heatmaps(ds, folder), _fig_lyapunov(ds, folder), _fig_chaos(ds, summary, folder),
            _fig_gated(ds, folder)]


def _n_text(ds) -> str:
    return (f"n = {len(ds[N.RANK])} units, {len(ds[N.LAMBDA1])} values of $\\lambda_1$ x "
            f"{len(ds[N.SEED])} random W each, {_dtype(ds)}")


def _lambda_ticks(ax, lam, axis: str = "y", ticks=(0.1, 0.2, 0.5, 1, 2, 4, 8, 16, 32)) -> None:
    """Plain-number ticks on a log lambda_1 axis (0.1, 0.2, 0.5, 1, 2, 4, 8)."""
    from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter

    ticks = [t for t in ticks if lam.min() * 0.999 <= t <= lam.max() * 1.001]
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_locator(FixedLocator(ticks))
    target.set_major_formatter(ScalarFormatter())
    target.set_minor_locator(NullLocator())


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
    meds = {(a, k): _over_valid_seeds(ds[N.LOG10_NORM][a, k], ds[N.CELL_VALID][a, k])
            for a in range(len(acts)) for k in range(len(kinds))}
    scale = log10_scale(*meds.values())
    fig, axes = plt.subplots(len(acts), len(kinds), figsize=(4.6 * len(kinds) + 1.6, 3.4 * len(acts) + 1.6),
                             squeeze=False, sharex=True, sharey=True)
    im, marked = None, False
    for a, act in enumerate(acts):
        for k, kind in enumerate(kinds):
            ax = axes[a, k]
            valid = ds[N.CELL_VALID][a, k]  # (lambda1, seed)
            im = log10_heatmap(ax, meds[a, k], ds[N.T_READ], lam, scale=scale)
            ax.set_yscale("log")
            _lambda_ticks(ax, lam, "y")
            ax.axhline(1 / MAX_DERIVATIVE[str(act)], color="k", ls="--", lw=1.2)
            chaotic = ((ds[N.CHAOS_CLASS][a, k] == "chaotic") & valid).sum(axis=1)
            rows = chaotic > 0
            if rows.any():  # a bar just right of the panel over each run of lambda_1 rows with a chaotic W
                ylim = ax.get_ylim()
                edges = np.sqrt(lam[1:] * lam[:-1])
                edges = np.concatenate([[lam[0] ** 2 / edges[0]], edges, [lam[-1] ** 2 / edges[-1]]])
                start = None
                for i, on in enumerate(list(rows) + [False]):
                    if on and start is None:
                        start = i
                    elif not on and start is not None:
                        ax.plot([1.025, 1.025], [edges[start], edges[i]], color=CLASS_STYLE["chaotic"][0], lw=5,
                                solid_capstyle="butt", marker="none", clip_on=False, zorder=3,
                                transform=ax.get_yaxis_transform())
                        start = None
                ax.set_ylim(ylim)  # the bars must not widen the axis
                marked = True
            bad = int((~valid).sum())
            ax.set_title(f"{act}, {kind} W" + (f" ({bad} invalid cells left out)" if bad else ""))
            if a == len(acts) - 1:
                ax.set_xlabel("T (steps)")
            if k == 0:
                ax.set_ylabel(r"$\lambda_1(W)$")
    log10_colorbar(fig, im, axes, scale, NORM + ", median over the W")
    handles = [plt.Line2D([], [], color="k", ls="--", label=r"$\lambda_1 = 1/\gamma$ ($\gamma$ = max act')")]
    if marked:
        handles.append(plt.Line2D([], [], color=CLASS_STYLE["chaotic"][0], lw=5, marker="none",
                                  label="bar right of a panel: $\\lambda_1$ with a chaotic W (top FTLE > 0)"))
    fig.legend(handles=handles, loc="outside lower center", ncol=2)
    fig.suptitle(f"Vector RNN {MODEL}, b = 0, " r"$x_t \sim N(0, I)$" f": the Jacobian norm over {LAMBDA} and T;\n"
                 f"below the dashed line it must vanish; above it, it may grow; {_n_text(ds)}")
    return save_figure(fig, folder, N.FIG_HEATMAP)


def _fig_lyapunov(ds: Dataset, folder) -> str:
    acts, kinds, lam = ds[N.ACT], ds[N.KIND], ds[N.LAMBDA1]
    fig, axes = plt.subplots(len(acts), len(kinds), figsize=(5.2 * len(kinds) + 0.4, 3.3 * len(acts) + 1.5),
                             squeeze=False, sharex=True, sharey="row")
    n = len(ds[N.RANK])
    for a, act in enumerate(acts):
        gamma = MAX_DERIVATIVE[str(act)]
        for k, kind in enumerate(kinds):
            ax = axes[a, k]
            valid = ds[N.CELL_VALID][a, k]
            spec = ds[N.LN_LYAPUNOV][a, k]  # (lambda1, seed, rank), sorted largest first
            top, low = _over_valid_seeds(spec[..., 0], valid, np.mean), _over_valid_seeds(spec[..., -1], valid, np.mean)
            ax.plot(lam, top, color=OKABE_ITO[0], ls=DASHES[0], marker=MARKERS[0], markevery=8, ms=5,
                    label="rank 1 (largest): mean, band min-max over W")
            ax.fill_between(lam, _over_valid_seeds(spec[..., 0], valid, np.min),
                            _over_valid_seeds(spec[..., 0], valid, np.max), color=OKABE_ITO[0], alpha=0.25, lw=0)
            ax.plot(lam, low, color=OKABE_ITO[1], ls=DASHES[1], marker=MARKERS[1], markevery=(4, 8), ms=5,
                    label=f"rank {n} (smallest): mean over W")
            ax.plot(lam, np.log(gamma * lam), color="k", ls=":", lw=1.4, marker="none",
                    label=r"bound $\ln(\gamma\lambda_1)$")
            chaotic = (ds[N.CHAOS_CLASS][a, k] == "chaotic") & valid
            li, si = np.nonzero(chaotic)
            if len(li):
                ax.scatter(lam[li], spec[li, si, 0], marker="^", s=22, color=CLASS_STYLE["chaotic"][0],
                           edgecolors="k", linewidths=0.4, zorder=3, label="a chaotic W (rank 1 > 0)")
            ax.axhline(0, color="0.5", lw=0.6)
            ax.set_xscale("log")
            _lambda_ticks(ax, lam, "x")
            first = f"; first chaotic W at $\\lambda_1$ = {lam[li].min():.2g}" if len(li) else "; no chaotic W"
            ax.set_title(f"{act}, {kind} W ($\\gamma$ = {gamma:g}){first}")
            if a == len(acts) - 1:
                ax.set_xlabel(r"$\lambda_1(W)$")
            if k == 0:
                ax.set_ylabel("FTLE (nats per step)")
    handles, labels = {}, {}
    for ax in axes.ravel():
        for h, l in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(l, h)
    fig.legend(list(handles.values()), list(handles.keys()), loc="outside lower center", ncol=2)
    fig.suptitle(f"Finite-time Lyapunov exponents (FTLE): (1/T) ln of the singular values of $dh_T/dh_0$, "
                 f"T = {int(ds[N.T_READ][-1])};\n{_n_text(ds)}")
    return save_figure(fig, folder, N.FIG_LYAPUNOV)


def _fig_chaos(ds: Dataset, summary: dict, folder) -> str:
    """Spread over the h0 draws of log10 ||dh_T/dh_0|| at T = t_max, per cell above the line."""
    acts, kinds, lam = ds[N.ACT], ds[N.KIND], ds[N.LAMBDA1]
    fig, axes = plt.subplots(1, len(acts), figsize=(5.6 * len(acts) + 0.4, 5.0), squeeze=False, sharey=True)
    cells, norms, ok = ds[N.PROBE_CELL], ds[N.PROBE_LOG10_NORM], ds[N.PROBE_VALID]
    floor = 1e-9
    for a, act in enumerate(acts):
        ax = axes[0, a]
        total, counts = 0, {}
        for name, (color, marker) in CLASS_STYLE.items():
            for k, kind in enumerate(kinds[:2]):
                sel = [i for i, (ca, ck, cl, cs) in enumerate(cells) if ca == a and ck == k
                       and ds[N.CHAOS_CLASS][ca, ck, cl, cs] == name and ok[i].sum() >= 2]
                if not sel:
                    continue
                total += len(sel)
                counts[name] = counts.get(name, 0) + len(sel)
                spread = np.asarray([np.ptp(norms[i][ok[i]]) for i in sel])
                x = lam[cells[sel, 2]] * (1.02 if k else 0.98)
                ax.scatter(x, np.maximum(spread, floor), s=26, color=color, marker=marker,
                           facecolors=color if k == 0 else "none", label=f"{name}, {kind} W")
        ax.set_xscale("log")
        _lambda_ticks(ax, lam, "x", (1, 1.5, 2, 3, 4, 5, 6, 8, 12, 16))
        ax.set_yscale("log")
        ax.set_xlabel(r"$\lambda_1(W)$ (only W above the line $\lambda_1 > 1/\gamma$)")
        if a == 0:
            ax.set_ylabel(r"spread of $\log_{10}\|dh_T/dh_0\|_2$ over the $h_0$ (decades)")
        gamma = MAX_DERIVATIVE[str(act)]
        ax.set_title(f"{act} ($\\gamma$ = max {act}' = {gamma:g}, so $1/\\gamma$ = {1 / gamma:g}): {total} W:\n"
                     + ", ".join(f"{v} {k}" for k, v in counts.items()))
    handles = {}
    for ax in axes.ravel():
        for h, l in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(l, h)
    fig.legend(list(handles.values()), list(handles.keys()), loc="outside lower center", ncol=4)
    delta = summary.get("chaos", {}).get("h0_delta")
    fig.suptitle(f"Chaos: the same W run from {len(ds[N.H0_DRAW])} initial states ($h_0$ and $h_0 + \\delta z$, "
                 + (f"$\\delta$ = {delta:g}, " if delta is not None else "") + f"z ~ N(0, I)), T = {int(ds[N.T_READ][-1])};\n"
                 "chaotic W (top FTLE > 0 by a 95 % interval over the draws) give gradients that differ by decades;"
                 " $\\gamma$ = the activation's largest slope")
    return save_figure(fig, folder, N.FIG_CHAOS)


def _fig_gated(ds: Dataset, folder) -> str:
    fig, ax = plt.subplots(figsize=(7.6, 4.8))
    t = ds[N.T_READ]
    for m, model in enumerate(ds[N.MODEL]):
        valid = ds[N.GATED_VALID][m]
        curves = ds[N.LOG10_NORM_GATED][m][valid]
        if not len(curves):
            continue
        state = str(ds[N.GATED_STATE][m])
        ax.plot(t, np.median(curves, axis=0), color=OKABE_ITO[m], ls=DASHES[m], marker=MARKERS[m],
                markevery=(3 * m, 10), ms=5, label=f"{model.upper()}, s = {state}: median of {len(curves)} inits")
        ax.fill_between(t, curves.min(axis=0), curves.max(axis=0), color=OKABE_ITO[m], alpha=0.2, lw=0)
    a = list(ds[N.ACT]).index("tanh") if "tanh" in list(ds[N.ACT]) else 0
    j = int(np.argmin(np.abs(ds[N.LAMBDA1] - 1.0)))
    valid = ds[N.CELL_VALID][a, 0, j]
    if valid.any():
        ax.plot(t, np.median(ds[N.LOG10_NORM][a, 0, j][valid], axis=0), color="k", ls=":", lw=1.6, marker="none",
                label=f"{ds[N.ACT][a]} RNN, orthogonal W, $\\lambda_1$ = {ds[N.LAMBDA1][j]:.2f}, s = h "
                      f"(median of {int(valid.sum())})")
    ax.set_xlabel("T (steps)")
    ax.set_ylabel(r"$\log_{10}\|ds_T/ds_0\|_2$ (decades)")
    ax.set_title(f"GRU and LSTM at initialisation ({_dtype(ds)}, n = {len(ds[N.RANK])} units): "
                 "the gradient of the state s\nstill vanishes, more slowly than the plain RNN's; bands: min-max over inits")
    ax.legend(loc="lower left")
    return save_figure(fig, folder, N.FIG_GATED)
