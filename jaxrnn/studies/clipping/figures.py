"""Figures of the clipping study, drawn from the saved ``data.npz`` (and summary) only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jaxrnn.io.figures import plt, save_figure
from jaxrnn.io.results import Dataset
from jaxrnn.studies.clipping import names as nm

METHOD_COLORS = {"none": "tab:red", "value": "tab:orange", "norm": "tab:blue"}
CLIP_COLORS = {"value": "tab:orange", "global_norm": "tab:blue", "block_rms": "tab:green"}


def draw(ds: Dataset, summary: dict, folder: Path) -> list[str]:
    """Every figure of the study, from the saved data (and summary) only; returns the file names."""
    tasks_ = list(summary["training"])
    return [_fig_direction(ds, folder), _fig_cliff(ds, folder), _fig_outcome(ds, summary, tasks_, folder),
            _fig_explosions(ds, tasks_, folder), _fig_traces(ds, summary, tasks_, folder),
            _fig_selection(ds, summary, tasks_, folder)]


def _fig_direction(ds: Dataset, folder) -> str:
    clips = [str(c) for c in ds[nm.AX_CLIP]]
    fig, axes = plt.subplots(1, len(clips) + 1, figsize=(4.6 * (len(clips) + 1), 4.2), squeeze=False)
    for c, clip in enumerate(clips):
        ax = axes[0, c]
        im = ax.pcolormesh(ds[nm.AX_TAU], ds[nm.AX_DIM], ds[nm.COS_SYNTHETIC][:, :, c], cmap="viridis", vmin=0,
                           vmax=1, shading="nearest")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("threshold tau")
        ax.set_ylabel("gradient dimension d")
        ax.set_title(f"{clip}: median cos(g, clip(g))\nStudent-t gradients")
    fig.colorbar(im, ax=axes[0, :len(clips)], label="cosine (1 = direction kept)", shrink=0.9)
    ax = axes[0, -1]
    norms = ds[nm.NORM_REAL]
    rel = ds[nm.AX_TAU][None, :] / norms[:, None]
    for c, clip in enumerate(clips):
        ax.scatter(rel.ravel(), ds[nm.COS_REAL][:, :, c].ravel(), s=3, alpha=0.35, color=CLIP_COLORS.get(clip),
                   label=clip, rasterized=True)
    ax.set_xscale("log")
    ax.set_xlabel("tau / ||g||")
    ax.set_ylabel("cos(g, clip(g))")
    ax.set_title(f"raw gradients of unclipped SGD runs\n({len(norms)} gradients)")
    ax.legend(markerscale=4, loc="lower right")
    return save_figure(fig, folder, nm.FIG_DIRECTION)


def _fig_cliff(ds: Dataset, folder) -> str:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.8))
    w, b = ds[nm.AX_CLIFF_W], ds[nm.AX_CLIFF_B]
    with np.errstate(divide="ignore"):
        surf = np.log10(ds[nm.CLIFF_LOSS].T)
    lr_i = min(1, len(ds[nm.AX_CLIFF_LR]) - 1)
    tau_i = len(ds[nm.AX_CLIFF_TAU]) // 2
    for m, ax in enumerate(axes):
        im = ax.pcolormesh(w, b, surf, cmap="magma", shading="nearest", vmin=-6, vmax=0, rasterized=True)
        for s in range(len(ds[nm.AX_CLIFF_START])):
            path = ds[nm.CLIFF_PATHS][m, lr_i, tau_i, s]
            ax.plot(path[:, 0], path[:, 1], "-", color="c", lw=0.9)
            ax.plot(path[0, 0], path[0, 1], "wo", ms=3)
        ax.set_xlim(w[0], w[-1])
        ax.set_ylim(b[0], b[-1])
        ax.set_title(f"{ds[nm.AX_METHOD][m]} (SGD lr={ds[nm.AX_CLIFF_LR][lr_i]:g}, tau={ds[nm.AX_CLIFF_TAU][tau_i]:g})")
        ax.set_xlabel("w")
        ax.set_ylabel("b")
    fig.colorbar(im, ax=axes, label="log10 loss")
    fig.suptitle(r"Pascanu's cliff: $x_t = w\,\sigma(x_{t-1}) + b$, loss $(\sigma(x_{50}) - 0.7)^2$; "
                 "white dots: starts, cyan: SGD paths")
    return save_figure(fig, folder, nm.FIG_CLIFF)


def _arm_title(arm: str, summary: dict, task: str) -> str:
    ch = summary["training"][task]["chosen_tau"][arm]
    return f"{task}, {'SGD' if arm == 'sgd' else 'Adam'}\nchosen tau: value {ch['value']:g}, norm {ch['norm']:g}"


def _fig_outcome(ds: Dataset, summary: dict, tasks_: list, folder) -> str:
    fig, axes = plt.subplots(len(tasks_), 2, figsize=(12, 3.9 * len(tasks_)), squeeze=False,
                             gridspec_kw={"width_ratios": [2, 1]})
    methods = [str(m) for m in ds[nm.AX_METHOD]]
    rng = np.random.default_rng(0)
    for i, task in enumerate(tasks_):
        for j, arm in enumerate(nm.ARMS):
            ax = axes[i, j]
            radii = ds[nm.ax_radius(arm)]
            y = ds[nm.run_array(task, arm, nm.Y)]  # (radius, method, seed)
            for r in range(len(radii)):
                for m, method in enumerate(methods):
                    x0 = r + (m - 1) * 0.25
                    vals = y[r, m]
                    ax.scatter(x0 + rng.uniform(-0.07, 0.07, vals.size), vals, s=9, alpha=0.5,
                               color=METHOD_COLORS[method], label=method if r == 0 else None)
                    ax.plot([x0 - 0.1, x0 + 0.1], [vals.mean()] * 2, color="k", lw=1.6)
            ax.axhline(0, color="0.5", lw=0.8, ls="--")
            ax.set_xticks(np.arange(len(radii)), [f"{r:g}" for r in radii])
            ax.set_xlabel("initial recurrent spectral radius")
            ax.set_ylabel("y = log10(final loss / constant's)")
            ax.set_title(_arm_title(arm, summary, task))
            if i == 0 and j == 0:
                ax.legend(title="clipping (bar: mean)", loc="upper left")
    fig.suptitle("Final loss on fresh sequences relative to the best constant predictor (0: no better; "
                 f"{nm.LOG_CAP:g}: cap), one dot per evaluation seed")
    return save_figure(fig, folder, nm.FIG_OUTCOME)


def _fig_explosions(ds: Dataset, tasks_: list, folder) -> str:
    fig, axes = plt.subplots(len(tasks_), 2, figsize=(12, 3.9 * len(tasks_)), squeeze=False)
    methods = [str(m) for m in ds[nm.AX_METHOD]]
    radii = ds[nm.ax_radius("sgd")]
    rng = np.random.default_rng(1)
    for i, task in enumerate(tasks_):
        ratio = ds[nm.run_array(task, "sgd", nm.NORM_RATIO)]
        wrecked = ds[nm.run_array(task, "sgd", nm.WRECKED)]
        ax = axes[i, 0]
        for r in range(len(radii)):
            for m, method in enumerate(methods):
                vals = ratio[r, m]
                ax.scatter(r + (m - 1) * 0.25 + rng.uniform(-0.07, 0.07, vals.size), vals, s=9, alpha=0.6,
                           color=METHOD_COLORS[method], label=method if r == 0 else None)
        ax.axhline(nm.BIG_FACTOR, color="0.5", lw=0.8, ls="--")
        ax.set_yscale("log")
        ax.set_xticks(np.arange(len(radii)), [f"{r:g}" for r in radii])
        ax.set_xlabel("initial recurrent spectral radius")
        ax.set_ylabel("largest / median raw gradient norm")
        ax.set_title(f"{task}, SGD: gradient explosions per run (raw norm, before clipping)")
        if i == 0:
            ax.legend(title="clipping", loc="upper left")
        ax = axes[i, 1]
        width = 0.25
        for m, method in enumerate(methods):
            rate = wrecked[:, m].mean(axis=-1)
            ax.bar(np.arange(len(radii)) + (m - 1) * width, rate, width, color=METHOD_COLORS[method], label=method)
        if not wrecked.any():
            ax.text(0.5, 0.5, "no run wrecked", transform=ax.transAxes, ha="center", va="center")
        ax.set_ylim(0, 1.05)
        ax.set_xticks(np.arange(len(radii)), [f"{r:g}" for r in radii])
        ax.set_xlabel("initial recurrent spectral radius")
        ax.set_ylabel(f"share of the {wrecked.shape[-1]} runs")
        ax.set_title(f"{task}, SGD: runs wrecked (non-finite or loss jump)")
        ax.legend(title="clipping", loc="upper left")
    return save_figure(fig, folder, nm.FIG_EXPLOSIONS)


def _fig_traces(ds: Dataset, summary: dict, tasks_: list, folder) -> str:
    fig, axes = plt.subplots(2, len(tasks_), figsize=(6.5 * len(tasks_), 7.5), squeeze=False)
    methods = [str(m) for m in ds[nm.AX_METHOD]]
    steps = ds[nm.AX_WINDOW]
    radii = ds[nm.ax_radius("sgd")]
    r = len(radii) - 1  # the largest initial radius
    for t, task in enumerate(tasks_):
        const = summary["training"][task]["constant_loss"]
        loss = ds[nm.run_array(task, "sgd", nm.LOSS_TRACE)][r] / const  # (method, seed, window)
        norm = ds[nm.run_array(task, "sgd", nm.NORM_TRACE)][r]
        for m, method in enumerate(methods):
            with np.errstate(invalid="ignore"):
                axes[0, t].plot(steps, np.nanmedian(np.where(np.isfinite(loss[m]), loss[m], np.nan), axis=0),
                                color=METHOD_COLORS[method], label=method)
            axes[1, t].plot(steps, np.where(np.isfinite(norm[m, 0]), norm[m, 0], np.nan), lw=0.9,
                            color=METHOD_COLORS[method], label=method)
        axes[0, t].axhline(1, color="0.5", lw=0.8, ls="--")
        axes[0, t].set_yscale("log")
        axes[0, t].set_ylabel("training loss / constant predictor's")
        axes[0, t].set_title(f"{task}, SGD, radius {radii[r]:g}: median over seeds")
        axes[1, t].set_yscale("log")
        axes[1, t].set_ylabel("largest raw gradient norm in window")
        axes[1, t].set_title(f"{task}, SGD, radius {radii[r]:g}: first evaluation seed")
        axes[1, t].set_xlabel("training step")
        axes[0, t].legend(title="clipping")
    return save_figure(fig, folder, nm.FIG_TRACES)


def _fig_selection(ds: Dataset, summary: dict, tasks_: list, folder) -> str:
    fig, axes = plt.subplots(len(tasks_), 2, figsize=(11, 4.0 * len(tasks_)), squeeze=False)
    for i, task in enumerate(tasks_):
        chosen = summary["training"][task]["chosen_tau"]
        for j, arm in enumerate(nm.ARMS):
            ax = axes[i, j]
            for method, tax in (("value", nm.AX_VALUE_TAU), ("norm", nm.AX_NORM_TAU)):
                y = ds[nm.selection_array(task, arm, method)]  # (radius, tau, seed)
                taus = ds[tax]
                ax.plot(taus, y.mean(axis=(0, 2)), "o-", color=METHOD_COLORS[method], label=method)
                k = int(np.argmin(np.abs(taus - chosen[arm][method])))
                ax.plot(taus[k], y.mean(axis=(0, 2))[k], "*", ms=14, color=METHOD_COLORS[method], mec="k")
            runs = y.shape[0] * y.shape[2]
            ax.set_xscale("log")
            ax.set_xlabel("threshold tau (value: per component; norm: of the whole gradient)")
            ax.set_ylabel("mean y = log10(loss / constant predictor's)\n(selection seeds)")
            ax.set_title(f"{task}, {'SGD' if arm == 'sgd' else 'Adam'}: threshold selection\n"
                         f"(star: chosen; mean of {runs} runs, every radius)")
            ax.legend(title="clipping")
    return save_figure(fig, folder, nm.FIG_SELECTION)
