"""Figures of the clipping study, drawn from the saved ``data.npz`` (and summary) only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jaxrnn.io.figures import save_figure, plt
from jaxrnn.io.results import Dataset


def draw(ds: Dataset, summary: dict, folder: Path) -> list[str]:
    """Every figure of the study, from the saved data (and summary) only; returns the file names."""
    return [_fig_direction(ds, folder), _fig_cliff(ds, folder), _fig_training(ds, folder), _fig_traces(ds, folder)]


def _fig_direction(ds: Dataset, folder) -> str:
    clips = list(ds["clip"])
    fig, axes = plt.subplots(1, len(clips) + 1, figsize=(4.4 * (len(clips) + 1), 3.8), squeeze=False)
    for c, clip in enumerate(clips):
        ax = axes[0, c]
        im = ax.pcolormesh(ds["tau"], ds["dim"], ds["cos_synthetic"][:, :, c], cmap="viridis", vmin=0, vmax=1,
                           shading="nearest")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("threshold tau")
        ax.set_ylabel("gradient dimension")
        ax.set_title(f"{clip}: median cos(g, clip(g)), Student-t g", fontsize=8)
    fig.colorbar(im, ax=axes[0, :len(clips)], label="cosine")
    ax = axes[0, -1]
    norms = ds["grad_norm_real"]
    for c, clip in enumerate(clips):
        ratio_tau = ds["tau"][None, :] / norms[:, None]
        ax.scatter(ratio_tau.ravel(), ds["cos_real"][:, :, c].ravel(), s=2, alpha=0.4, label=clip)
    ax.set_xscale("log")
    ax.set_xlabel("tau / ||g|| (RNN training gradients)")
    ax.set_ylabel("cos(g, clip(g))")
    ax.legend(fontsize=7, markerscale=4)
    return save_figure(fig, folder, "direction.png")


def _fig_cliff(ds: Dataset, folder) -> str:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    w, b = ds["cliff_w"], ds["cliff_b"]
    with np.errstate(divide="ignore"):
        surf = np.log10(ds["cliff_loss"].T)
    lr_i = min(1, len(ds["cliff_lr"]) - 1)
    tau_i = len(ds["cliff_tau"]) // 2
    for m, ax in enumerate(axes):
        im = ax.pcolormesh(w, b, surf, cmap="magma", shading="nearest", vmin=-6, vmax=0)
        for s in range(len(ds["cliff_start"])):
            path = ds["cliff_paths"][m, lr_i, tau_i, s]
            ax.plot(path[:, 0], path[:, 1], "-", color="c", lw=0.9)
            ax.plot(path[0, 0], path[0, 1], "wo", ms=3)
        ax.set_xlim(w[0], w[-1])
        ax.set_ylim(b[0], b[-1])
        ax.set_title(f"{ds['method'][m]} (SGD lr={ds['cliff_lr'][lr_i]:g}, tau={ds['cliff_tau'][tau_i]:g})",
                     fontsize=9)
        ax.set_xlabel("w")
        ax.set_ylabel("b")
    fig.colorbar(im, ax=axes, label="log10 loss")
    fig.suptitle(r"Pascanu's cliff: $x_t = w\,\sigma(x_{t-1}) + b$, loss $(\sigma(x_{50}) - 0.7)^2$", fontsize=10)
    return save_figure(fig, folder, "cliff.png")


def _fig_training(ds: Dataset, folder) -> str:
    tasks_ = [n.split("__")[0] for n in ds.arrays if n.endswith("__success")]
    variants = ds["variant"]
    fig, axes = plt.subplots(len(tasks_), 1, figsize=(9, 3.2 * len(tasks_)), squeeze=False)
    for i, task in enumerate(tasks_):
        ax = axes[i, 0]
        rate = ds[f"{task}__success"].mean(axis=-1)  # (variant, lr, radius)
        img = rate.reshape(len(variants), -1).T
        im = ax.pcolormesh(np.arange(len(variants)), np.arange(img.shape[0]), img, cmap="RdYlGn", vmin=0, vmax=1,
                           shading="nearest")
        ax.set_xticks(np.arange(len(variants)), variants, rotation=60, fontsize=7)
        labels = [f"lr={lr:g}, radius={r:g}" for lr in ds["lr"] for r in ds["radius"]]
        ax.set_yticks(np.arange(len(labels)), labels, fontsize=7)
        ax.set_title(f"{task}: success rate over seeds (< 1% errors on fresh sequences)", fontsize=9)
    fig.colorbar(im, ax=axes, label="success rate")
    return save_figure(fig, folder, "training_success.png")


def _fig_traces(ds: Dataset, folder) -> str:
    tasks_ = [n.split("__")[0] for n in ds.arrays if n.endswith("__success")]
    variants = list(ds["variant"])
    fig, axes = plt.subplots(2, len(tasks_), figsize=(6.5 * len(tasks_), 7), squeeze=False)
    steps = ds["window"]
    r = len(ds["radius"]) - 1  # the largest initial radius: where gradients explode
    l = len(ds["lr"]) - 1
    picks = [0] + [i for i, v in enumerate(variants) if v.startswith("value")][-2:-1] + \
            [i for i, v in enumerate(variants) if v.startswith("norm")][-2:-1]
    for t, task in enumerate(tasks_):
        for v in picks:
            axes[0, t].plot(steps, np.median(ds[f"{task}__loss"][v, l, r], axis=0), label=variants[v])
            axes[1, t].plot(steps, ds[f"{task}__grad_norm_max"][v, l, r, 0], lw=0.8, label=variants[v])
        axes[0, t].set_yscale("log")
        axes[0, t].set_title(f"{task}, lr={ds['lr'][l]:g}, radius={ds['radius'][r]:g}: median loss", fontsize=9)
        axes[1, t].set_yscale("log")
        axes[1, t].set_title("raw gradient norm, max per window (seed 0)", fontsize=9)
        axes[1, t].set_xlabel("step")
        axes[0, t].legend(fontsize=7)
    return save_figure(fig, folder, "training_traces.png")


# ---------------------------------------------------------------------------
# teacher_forcing
# ---------------------------------------------------------------------------
