"""Figures of the teacher_forcing study, drawn from the saved ``data.npz`` (and summary) only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jaxrnn.io.figures import save_figure, plt
from jaxrnn.io.results import Dataset


def draw(ds: Dataset, summary: dict, folder: Path) -> list[str]:
    """Every figure of the study, from the saved data (and summary) only; returns the file names."""
    return [_fig_tf_training(ds, folder), _fig_exposure(ds, folder), _fig_regimes(ds, folder)]


def _fig_tf_training(ds: Dataset, folder) -> str:
    widths = ds["width"]
    fig, axes = plt.subplots(1, len(widths) + 1, figsize=(5.5 * (len(widths) + 1), 3.8), squeeze=False)
    steps = ds["log_step"]
    for w, width in enumerate(widths):
        ax = axes[0, w]
        for r, name in enumerate(ds["regime"]):
            ax.plot(steps, ds["tf_loss"][w, r].mean(axis=0), label=str(name))
        ax.set_title(f"width {width}: teacher-forced NLL on fresh source samples", fontsize=9)
        ax.set_xlabel("update")
        ax.set_ylabel("nats / token")
        ax.legend(fontsize=7)
    ax = axes[0, -1]
    for r, name in enumerate(ds["regime"]):
        ax.plot(steps, ds["eps"][r], label=str(name))
    ax.set_title("schedules: probability of feeding the true token", fontsize=9)
    ax.set_xlabel("update")
    ax.legend(fontsize=7)
    return save_figure(fig, folder, "training.png")


def _fig_exposure(ds: Dataset, folder) -> str:
    widths = ds["width"]
    fig, axes = plt.subplots(1, len(widths) + 1, figsize=(5.5 * (len(widths) + 1), 3.8), squeeze=False)
    pos = ds["position"]
    for w, width in enumerate(widths):
        ax = axes[0, w]
        for r, name in enumerate(ds["regime"]):
            ok = (ds["n_true_prefix"][w, r].min(axis=0) > 0) & (ds["n_own_prefix"][w, r].min(axis=0) > 0)
            gap = (ds["kl_own_prefix"][w, r] - ds["kl_true_prefix"][w, r]).mean(axis=0)
            ax.plot(pos[ok], gap[ok], label=str(name))
        ax.axhline(0, color="k", lw=0.6)
        ax.set_title(f"width {width}: KL on own prefixes - KL on true prefixes", fontsize=9)
        ax.set_xlabel("position t")
        ax.set_ylabel("nats")
        ax.legend(fontsize=7)
    ax = axes[0, -1]
    j = ds["output_position"]
    for r, name in enumerate(ds["regime"]):
        ax.plot(j, ds["reverse_acc_own"][r].mean(axis=0), "-o", ms=3, color=f"C{r}", label=f"{name}: own prefix")
        ax.plot(j, ds["reverse_acc_oracle"][r].mean(axis=0), ":", color=f"C{r}")
    ax.set_title("digit reversal accuracy by output position (dotted: oracle prefix)", fontsize=9)
    ax.set_xlabel("output position")
    ax.legend(fontsize=6)
    return save_figure(fig, folder, "exposure_bias.png")


def _fig_regimes(ds: Dataset, folder) -> str:
    fig, ax = plt.subplots(figsize=(7, 4))
    x = np.arange(len(ds["regime"]))
    for w, width in enumerate(ds["width"]):
        mean = ds["seq_kl_mc"][w].mean(axis=1)
        err = np.sqrt((ds["seq_kl_mc_stderr"][w] ** 2).mean(axis=1) / ds["seed"].size)
        ax.errorbar(x + 0.1 * w, mean, yerr=err, fmt="o", capsize=3, label=f"width {width}")
    ax.set_xticks(x, ds["regime"], rotation=20, fontsize=7)
    ax.set_ylabel("sequence KL(p_true || p_model), nats (Monte Carlo +- s.e.)")
    ax.legend(fontsize=8)
    return save_figure(fig, folder, "regimes.png")
