"""Figures of the decoding study, drawn from the saved ``data.npz`` only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jaxrnn.io.figures import plt, save_figure
from jaxrnn.io.results import Dataset
from jaxrnn.studies.decoding import names as N


def draw(ds: Dataset, summary: dict, folder: Path) -> list[str]:
    """Every figure of the study, from the saved data only; returns the file names."""
    del summary
    return [_fig_search(ds, folder), _fig_sampling(ds, folder)]


def _groups(ds: Dataset):
    """(label, family, column mask): the GRUs per noise share, then the true sources."""
    share = ds[N.MODEL_NOISE]
    out = [(f"GRU, noise {s:g}", "gru", share == s) for s in np.unique(share)]
    return out + [("true source", "source", np.ones(len(ds[N.SOURCE]), bool))]


def _fig_search(ds: Dataset, folder) -> str:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
    k = ds[N.WIDTH]
    rules = list(ds[N.RULE])
    alphas = list(ds[N.ALPHA])
    for g, (label, fam, m) in enumerate(_groups(ds)):
        for r, rule in enumerate(rules):
            ls = "-" if rule == "top_k" else "--"
            err = ds[N.key(fam, N.SEARCH_ERROR)][r][:, m].mean(-1)
            axes[0].plot(k, err, ls, marker="o", ms=3, color=f"C{g}", label=f"{label}, {rule} rule")
            for a, alpha in enumerate(alphas[:2]):
                valid = ds[N.key(fam, N.BEAM_VALID)][a, r][:, m].mean(-1)
                axes[1].plot(k, valid, ls, marker="os"[a], ms=3, color=f"C{g}", alpha=1.0 if a == 0 else 0.5,
                             label=f"{label}, {rule}, alpha={alpha:g}")
            length = ds[N.key(fam, N.BEAM_LENGTH)][0, r][:, m].mean(-1)
            axes[2].plot(k, length, ls, marker="o", ms=3, color=f"C{g}", label=f"{label}, {rule} rule")
        axes[2].axhline(ds[N.key(fam, N.EXACT_LENGTH)][m].mean(), ls=":", color=f"C{g}", lw=1)
    axes[2].axhline(ds[N.SOURCE_LENGTH].mean(), color="0.5", lw=2, alpha=0.5, label="source samples (mean)")
    titles = ("search errors (beam score < exact mode), alpha = 0", "output possible under the true source "
              "(circles alpha=0, squares alpha=1)", "output length (dotted: exact mode), alpha = 0")
    ylabels = ("share of models", "share of models", "ids incl. EOS")
    for ax, title, yl in zip(axes, titles, ylabels):
        ax.set_xscale("log", base=2)
        ax.set_xlabel("beam width k")
        ax.set_ylabel(yl)
        ax.set_title(title)
    axes[0].legend(fontsize=7)
    axes[2].legend(fontsize=7)
    return save_figure(fig, folder, N.FIG_SEARCH)


def _fig_sampling(ds: Dataset, folder) -> str:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3))
    fam, val = ds[N.SETTING_FAMILY], ds[N.SETTING_VALUE]
    share = ds[N.MODEL_NOISE]
    topk = np.flatnonzero(fam == "top_k")
    for c, s in enumerate(np.unique(share)):
        m = share == s
        ls = ["-", "--", ":"][c % 3]
        for j, (name, color) in enumerate((("impossible", "C0"), ("nonterminating", "C1"), ("degenerate", "C2"),
                                           ("failure", "k"))):
            axes[0].plot(val[topk], ds[name][topk][:, m].mean(-1), ls, marker="o", ms=3, color=color,
                         label=f"{name}, noise {s:g}")
        for f, marker in (("top_k", "o"), ("top_p", "s"), ("temperature", "^")):
            idx = np.flatnonzero(fam == f)
            prec, rec = ds["precision"][idx][:, m].mean(-1), ds["recall"][idx][:, m].mean(-1)
            axes[1].plot(rec, prec, ls, marker=marker, ms=4, label=f"{f}, noise {s:g}")
            axes[2].plot(ds[N.ENTROPY][idx][:, m].mean(-1), ds["failure"][idx][:, m].mean(-1), ls, marker=marker,
                         ms=4, label=f"{f}, noise {s:g}")
            if c == 0:
                for x, y, v in zip(rec, prec, val[idx]):
                    axes[1].annotate(f"{v:g}", (x, y), fontsize=6, xytext=(2, 2), textcoords="offset points")
    axes[2].axvline(ds[N.SOURCE_ENTROPY].mean(), color="0.5", lw=2, alpha=0.5, label="the sources' entropy")
    axes[0].set_xscale("log", base=2)
    axes[0].set_xlabel("top-k")
    axes[0].set_ylabel("share of samples")
    axes[0].set_title("failures under the true source (top-k)")
    axes[1].set_xlabel("recall: true mass inside the sampler's support")
    axes[1].set_ylabel("precision: sampler mass on the true support")
    axes[1].set_title("precision and recall (labels: k, p, temperature)")
    axes[2].set_xlabel("entropy of the sampling distribution (nats)")
    axes[2].set_ylabel("all failures")
    axes[2].set_title("failures vs diversity")
    for ax in axes:
        ax.legend(fontsize=6)
    return save_figure(fig, folder, N.FIG_SAMPLING)
