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
    """2 x 2 panels against the beam width (alpha = 0 unless said): the mode's probability missed, search
    errors, valid outputs (alpha = 0 and 1), output length; one legend below the panels."""
    fig, axes = plt.subplots(2, 2, figsize=(13, 9.5))
    (ax_short, ax_err), (ax_valid, ax_len) = axes
    k = ds[N.WIDTH]
    rules = list(ds[N.RULE])
    alphas = list(ds[N.ALPHA])
    for g, (label, fam, m) in enumerate(_groups(ds)):
        for r, rule in enumerate(rules):
            ls = "-" if rule == "top_k" else "--"
            name = f"{label}, {rule} rule"
            ax_short.plot(k, ds[N.key(fam, N.SHORTFALL)][r][:, m].mean(-1), ls, marker="o", ms=4, color=f"C{g}",
                          label=name)
            ax_err.plot(k, ds[N.key(fam, N.SEARCH_ERROR)][r][:, m].mean(-1), ls, marker="o", ms=4, color=f"C{g}")
            for a, alpha in enumerate(alphas[:2]):
                valid = ds[N.key(fam, N.BEAM_VALID)][a, r][:, m].mean(-1)
                ax_valid.plot(k, valid, ls, marker="os"[a], ms=4, color=f"C{g}", alpha=1.0 if a == 0 else 0.45)
            ax_len.plot(k, ds[N.key(fam, N.BEAM_LENGTH)][0, r][:, m].mean(-1), ls, marker="o", ms=4, color=f"C{g}")
        ax_len.axhline(ds[N.key(fam, N.EXACT_LENGTH)][m].mean(), ls=":", color=f"C{g}", lw=1.5)
    ax_len.axhline(ds[N.SOURCE_LENGTH].mean(), color="0.5", lw=3, alpha=0.4)
    panels = ((ax_short, "(a) share of the exact mode's probability missed", "1 - p(beam output) / p(mode)"),
              (ax_err, "(b) search errors (beam score < exact mode)", "share of models"),
              (ax_valid, "(c) output possible under the true source\n(circles: alpha = 0; faint squares: alpha = 1)",
               "share of models"),
              (ax_len, "(d) output length (dotted: exact mode; grey: source samples)", "length (ids, EOS included)"))
    for ax, title, ylabel in panels:
        ax.set_xscale("log", base=2)
        ax.set_xticks(k, [f"{v:d}" for v in k], minor=False)
        ax.minorticks_off()
        ax.set_xlabel("beam width k")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
    vocab = int(ds[N.BEAM_VOCAB])
    if vocab <= k.max():  # from k = V on, every first-step token (EOS too) fits the beam
        for ax, _, _ in panels:
            ax.axvline(vocab, color="0.3", lw=1, ls="-.")
        ax_len.annotate(f"k = V = {vocab}", (vocab, 0.45), xycoords=("data", "axes fraction"), xytext=(-4, 0),
                        textcoords="offset points", fontsize=9, color="0.3", ha="right")
    handles, labels = ax_short.get_legend_handles_labels()
    handles += [plt.Line2D([], [], color="0.4", marker="s", ls="", alpha=0.45)]
    labels += ["(c) only: length penalty alpha = 1"]
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=9,
               title="solid: toolkits' top-k rule (decides C9); dashed: the suite's pool rule")
    fig.suptitle("Beam search against exact search: GRUs trained on the sources (clean, noisy) and the true "
                 "sources themselves")
    return save_figure(fig, folder, N.FIG_SEARCH)


def _label_topk(ax, recall, precision, ks) -> None:
    """k labels on the precision-recall panel without overlaps: points at recall ~ 0 get labels stacked
    at least 0.04 apart (with a leader line); near recall 1, where the temperature points form a vertical
    line, labels go to the left; elsewhere above or below the point in turn."""
    near = sorted((y, x, k) for x, y, k in zip(recall, precision, ks) if x < 1e-3)[::-1]
    top = np.inf
    for y, x, k in near:
        top = min(y, top - 0.04)
        ax.annotate(f"k={k:g}", (x, y), xytext=(5e-4, top), textcoords="data", fontsize=7, va="center",
                    arrowprops=dict(arrowstyle="-", lw=0.5, color="0.4"))
    for j, (x, y, k) in enumerate((x, y, k) for x, y, k in zip(recall, precision, ks) if x >= 1e-3):
        at = (-32, -3) if x > 0.5 else (4, 6 if j % 2 else -11)
        ax.annotate(f"k={k:g}", (x, y), fontsize=7, xytext=at, textcoords="offset points")


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
            span = f" {val[idx][0]:g} to {val[idx][-1]:g}" if f != "top_k" else ""
            axes[1].plot(rec, prec, ls, marker=marker, ms=4, label=f"{f}{span}, noise {s:g}")
            axes[2].plot(ds[N.ENTROPY][idx][:, m].mean(-1), ds["failure"][idx][:, m].mean(-1), ls, marker=marker,
                         ms=4, label=f"{f}, noise {s:g}")
            if c == 0 and f == "top_k":  # k labels only (p and temperature: ranges in the legend)
                _label_topk(axes[1], rec, prec, val[idx])
    axes[2].axvline(ds[N.SOURCE_ENTROPY].mean(), color="0.5", lw=2, alpha=0.5, label="the sources' entropy")
    axes[0].set_xscale("log", base=2)
    axes[0].set_xticks(val[topk], [f"{v:g}" for v in val[topk]], minor=False)
    axes[0].minorticks_off()
    axes[0].set_xlabel("top-k")
    axes[0].set_ylabel("share of samples")
    axes[0].set_title("failures under the true source (top-k)\nsolid: noise 0; dashed: noise 0.05")
    axes[1].set_xscale("symlog", linthresh=1e-3)
    axes[1].set_xlim(-1e-4, 1.6)
    axes[1].set_xlabel("recall: true mass inside the sampler's support\n(linear below 0.001, log above)")
    axes[1].set_ylabel("precision: sampler mass on the true support")
    axes[1].set_title("precision and recall (labels: top-k of noise 0)")
    axes[2].set_xlabel("entropy of the sampling distribution (nats)")
    axes[2].set_ylabel("all failures (share of samples)")
    axes[2].set_title("failures vs diversity")
    for ax in axes:
        ax.legend(fontsize=6)
    fig.suptitle("Sampling from the trained GRUs, judged under the true sources (means over models)")
    return save_figure(fig, folder, N.FIG_SAMPLING)
