"""Figures of the decoding study, drawn from the saved ``data.npz`` (and summary) only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jaxrnn.io.figures import save_figure, plt
from jaxrnn.io.results import Dataset


def draw(ds: Dataset, summary: dict, folder: Path) -> list[str]:
    """Every figure of the study, from the saved data (and summary) only; returns the file names."""
    return [_fig_search(ds, folder), _fig_tradeoff(ds, folder)]


def _fig_search(ds: Dataset, folder) -> str:
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4))
    k = ds["beam_width"]
    for m, model in enumerate(ds["model"]):
        for a, alpha in enumerate(ds["alpha"]):
            ls = ["-", "--"][a % 2]
            ax0.plot(k, ds[f"{model}__search_error"][a].mean(axis=-1), ls, marker="o", ms=3, color=f"C{m}",
                     label=f"{model}: search errors, length_penalty={alpha:g}")
            ax1.plot(k, np.nanmean(ds[f"{model}__best_length"][a], axis=-1), ls, marker="o", ms=3, color=f"C{m}",
                     label=f"{model}: beam's best, lp={alpha:g}")
            ax1.axhline(ds[f"{model}__exact_length"][a].mean(), ls=":", color=f"C{m}", lw=0.8)
        ax0.plot(k, ds[f"{model}__unfinished"][0].mean(axis=-1), "x:", ms=3, color=f"C{m}",
                 label=f"{model}: no finished hypothesis")
    ax0.set_xscale("log")
    ax0.set_xlabel("beam width k")
    ax0.set_ylabel("fraction of models")
    ax0.legend(fontsize=6)
    ax1.set_xscale("log")
    ax1.set_xlabel("beam width k")
    ax1.set_ylabel("mean length of the returned sequence (ids incl. EOS); dotted: exact mode")
    ax1.legend(fontsize=6)
    return save_figure(fig, folder, "search_error.png")


def _fig_tradeoff(ds: Dataset, folder) -> str:
    models = sorted({n.split("__")[0] for n in ds.arrays if n.endswith("__top_k__nonsense_rate")})
    fig, axes = plt.subplots(2, len(models), figsize=(6 * len(models), 8), squeeze=False)
    for c, model in enumerate(models):
        ax0, ax1 = axes[0, c], axes[1, c]
        for fam, marker in (("top_k", "o"), ("top_p", "s"), ("temperature", "^")):
            x, y = ds[f"{model}__{fam}__fraction_unique"], ds[f"{model}__{fam}__nonsense_rate"]
            ax0.plot(x, y, marker + "-", ms=4, label=fam)
            for xi, yi, v in zip(x, y, ds[fam]):
                ax0.annotate(f"{v:g}", (xi, yi), fontsize=6, xytext=(2, 2), textcoords="offset points")
            ax1.plot(ds[f"{model}__{fam}__entropy_nats"], ds[f"{model}__{fam}__mean_true_logp_possible"],
                     marker + "-", ms=4, label=fam)
        ax0.set_title(f"sampling from the {model} model", fontsize=9)
        ax0.set_xlabel("diversity: fraction of unique samples")
        ax0.set_ylabel("nonsense: impossible under the true source")
        ax0.legend(fontsize=8)
        ax1.set_xlabel("diversity: entropy of the sample distribution (nats)")
        ax1.set_ylabel("quality: mean log p_true of possible samples")
        ax1.legend(fontsize=8)
    return save_figure(fig, folder, "tradeoff.png")


# ---------------------------------------------------------------------------
# clipping
# ---------------------------------------------------------------------------
