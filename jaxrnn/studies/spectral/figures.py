"""Figures of the spectral study, drawn from the saved ``data.npz`` (and summary) only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jaxrnn.io.figures import log10_heatmap, plt, save_figure
from jaxrnn.io.results import Dataset


def draw(ds: Dataset, summary: dict, folder: Path) -> list[str]:
    """Every figure of the study, from the saved data (and summary) only; returns the file names."""
    return [_fig_spectral_heatmaps(ds, folder), _fig_lyapunov(ds, folder), _fig_gated(ds, folder)]


def _fig_spectral_heatmaps(ds: Dataset, folder) -> str:
    acts, kinds = ds["act"], ds["kind"]
    fig, axes = plt.subplots(len(acts), len(kinds), figsize=(5 * len(kinds), 3.6 * len(acts)), squeeze=False)
    for a, act in enumerate(acts):
        for k, kind in enumerate(kinds):
            ax = axes[a, k]
            med = np.median(ds["log10_norm"][a, k], axis=1)  # (lambda1, T)
            im = log10_heatmap(ax, med, ds["T_read"], ds["lambda1"])
            ax.set_yscale("log")
            ax.axhline(1 / (0.25 if act == "sigmoid" else 1.0), color="k", ls="--", lw=0.9)
            ax.set_title(f"{act}, {kind} W (median over seeds); dashed: $\\lambda_1 = 1/\\gamma$", fontsize=8)
            ax.set_xlabel("T")
            ax.set_ylabel(r"$\lambda_1(W)$")
    fig.colorbar(im, ax=axes, label=r"$\log_{10}\|dh_T/dh_0\|_2$ (clipped)", extend="both")
    return save_figure(fig, folder, "heatmap_lambda_T.png")


def _fig_lyapunov(ds: Dataset, folder) -> str:
    acts, kinds = ds["act"], ds["kind"]
    fig, axes = plt.subplots(1, len(acts), figsize=(6 * len(acts), 4), squeeze=False)
    for a, act in enumerate(acts):
        ax = axes[0, a]
        for k, kind in enumerate(kinds):
            spec = ds["lyapunov"][a, k].mean(axis=1)  # (lambda1, unit), sorted largest first
            ax.plot(ds["lambda1"], spec[:, 0], color=f"C{k}", label=f"{kind}: largest")
            ax.plot(ds["lambda1"], spec[:, -1], color=f"C{k}", ls=":", label=f"{kind}: smallest")
        gamma = 0.25 if act == "sigmoid" else 1.0
        ax.plot(ds["lambda1"], np.log(gamma * ds["lambda1"]), "k--", lw=1, label=r"$\ln(\gamma\lambda_1)$ bound")
        ax.axhline(0, color="0.5", lw=0.6)
        ax.set_xscale("log")
        ax.set_xlabel(r"$\lambda_1(W)$")
        ax.set_ylabel(f"finite-time Lyapunov exponent (T = {int(ds['T_read'][-1])})")
        ax.set_title(act)
        ax.legend(fontsize=7)
    return save_figure(fig, folder, "lyapunov.png")


def _fig_gated(ds: Dataset, folder) -> str:
    fig, ax = plt.subplots(figsize=(6.4, 4))
    t = ds["T_read"]
    for m, model in enumerate(ds["model"]):
        curves = ds["log10_norm_gated"][m]
        ax.plot(t, np.median(curves, axis=0), label=f"{model} (median)")
        ax.fill_between(t, curves.min(axis=0), curves.max(axis=0), alpha=0.2)
    a = list(ds["act"]).index("tanh") if "tanh" in list(ds["act"]) else 0
    j = int(np.argmin(np.abs(ds["lambda1"] - 1.0)))
    ax.plot(t, np.median(ds["log10_norm"][a, 0, j], axis=0), "k--",
            label=f"{ds['act'][a]} RNN, orthogonal W, $\\lambda_1$={ds['lambda1'][j]:.2f}")
    ax.set_xlabel("T")
    ax.set_ylabel(r"$\log_{10}\|ds_T/ds_0\|_2$ at initialisation")
    ax.legend(fontsize=8)
    return save_figure(fig, folder, "gated_at_init.png")


# ---------------------------------------------------------------------------
# decoding
# ---------------------------------------------------------------------------
