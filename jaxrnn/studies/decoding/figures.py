"""Figures of the decoding study, drawn from the saved ``data.npz`` only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jaxrnn.io.figures import DASHES, MARKERS, OKABE_ITO, plt, save_figure
from jaxrnn.io.results import Dataset
from jaxrnn.studies.decoding import names as N


def draw(ds: Dataset, summary: dict, folder: Path) -> list[str]:
    """Every figure of the study, from the saved data only; returns the file names."""
    return [_fig_search(ds, folder), _fig_sampling(ds, folder), _fig_topk_extremes(ds, summary, folder)]


def _groups(ds: Dataset):
    """(label, family, column mask): the GRUs per noise share, then the true sources."""
    share = ds[N.MODEL_NOISE]
    out = [(f"GRU, noise {s:g}", "gru", share == s) for s in np.unique(share)]
    return out + [("true source", "source", np.ones(len(ds[N.SOURCE]), bool))]


def _style(g: int) -> dict:
    return dict(color=OKABE_ITO[g], marker=MARKERS[g], ls=DASHES[g], ms=6, lw=1.8)


def _width_axis(ax, k) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xticks(k, [f"{v:d}" for v in k], minor=False)
    ax.minorticks_off()
    ax.set_xlabel("beam width k")


def _fig_search(ds: Dataset, folder) -> str:
    """2 x 2 panels against the beam width under the top-k rule (alpha = 0): the score gap to the exact mode,
    the output length, its distinct ids, its validity under the true source; one style per model family,
    drawn slightly apart in k so that no series hides another."""
    fig, axes = plt.subplots(2, 2, figsize=(12, 9), sharex=True)
    (ax_gap, ax_len), (ax_div, ax_valid) = axes
    k = ds[N.WIDTH]
    r = list(ds[N.RULE]).index("top_k")
    groups = _groups(ds)
    for g, (label, fam, m) in enumerate(groups):
        x = k * 2.0 ** (0.08 * (g - 1))  # side by side on the log axis
        st = _style(g)
        gap = ds[N.key(fam, N.SCORE_GAP)][r][:, m]
        known = np.isfinite(gap).all(0)
        ax_gap.plot(x, gap[:, known].mean(-1), label=f"{label} (n={int(known.sum())})", **st)
        ax_len.plot(x, ds[N.key(fam, N.BEAM_LENGTH)][0, r][:, m].mean(-1), label=f"{label} (n={int(m.sum())})", **st)
        ax_div.plot(x, ds[N.key(fam, N.BEAM_DISTINCT)][0, r][:, m].mean(-1), **st)
        ax_valid.plot(x, ds[N.key(fam, N.BEAM_VALID)][0, r][:, m].mean(-1), **st)
    ax_len.axhline(ds[N.SOURCE_LENGTH].mean(), color=OKABE_ITO[6], ls=":", lw=1.5,
                   label=f"source samples' mean (n={len(ds[N.SOURCE])})")
    panels = ((ax_gap, "(a) score gap to the exact mode", "log p(mode) - log p(output), nats"),
              (ax_len, "(b) output length", "ids, EOS included"),
              (ax_div, "(c) token diversity of the output", "distinct ids"),
              (ax_valid, "(d) output possible under the true source", "share of models"))
    for ax, title, ylabel in panels:
        _width_axis(ax, k)
        ax.tick_params(labelbottom=True)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
    ax_valid.set_ylim(-0.05, 1.05)
    ax_gap.legend(loc="upper right")
    ax_len.legend(loc="upper right")
    fig.suptitle("Beam search (top-k rule) against exact search: means over models; V = "
                 f"{int(ds[N.BEAM_VOCAB])} ids, so every k < V")
    return save_figure(fig, folder, N.FIG_SEARCH)


def _fig_sampling(ds: Dataset, folder) -> str:
    """2 x 2 panels: failures against top-k for each noise share (small multiples), precision and recall
    against top-k, and failures against the entropy of the sampling distribution (noise 0)."""
    fig, axes = plt.subplots(2, 2, figsize=(12, 9))
    fam, val = ds[N.SETTING_FAMILY], ds[N.SETTING_VALUE]
    share = ds[N.MODEL_NOISE]
    topk = np.flatnonzero(fam == "top_k")
    shares = np.unique(share)
    for c, s in enumerate(shares[:2]):
        ax, m = axes[0, c], share == s
        for j, name in enumerate(("impossible", "nonterminating", "degenerate", "failure")):
            ax.plot(val[topk], ds[name][topk][:, m].mean(-1), label={"failure": "all failures", "nonterminating": "non-terminating"}.get(name, name),
                    **_style(j))
        ax.set_title(f"({'ab'[c]}) failures under the true source, noise {s:g} (n={int(m.sum())} GRUs)")
        ax.set_ylabel("share of samples")
        ax.set_ylim(-0.05, 1.05)
    ax = axes[1, 0]
    for c, s in enumerate(shares[:2]):
        m = share == s
        for j, name in enumerate(("precision", "recall")):
            st = _style(2 * c + j)
            x = val[topk] * 2.0 ** (0.1 * (c - 0.5))  # side by side on the log axis: the noise shares may coincide
            ax.plot(x, ds[name][topk][:, m].mean(-1), label=f"{name}, noise {s:g}", **st)
    ax.set_title(f"(c) precision and recall of top-k (n={int((share == shares[0]).sum())} GRUs per noise)")
    ax.set_ylabel("share (precision: of samples; recall: of source samples)")
    ax.set_ylim(-0.05, 1.05)
    for a in (axes[0, 0], axes[0, 1], ax):
        a.set_xscale("log", base=2)
        a.set_xticks(val[topk], [f"{v:g}" for v in val[topk]], minor=False)
        a.minorticks_off()
        a.set_xlabel("top-k")
    axes[0, 0].legend(loc="best")
    ax.legend(loc="best")
    ax, m = axes[1, 1], share == shares[0]
    for j, (f, name) in enumerate((("top_k", "top-k"), ("top_p", "top-p"), ("temperature", "temperature"))):
        idx = np.flatnonzero(fam == f)
        span = f" {val[idx][0]:g}" + (f"-{val[idx][-1]:g}" if len(idx) > 1 else "")
        xs, ys = ds[N.ENTROPY][idx][:, m].mean(-1), ds["failure"][idx][:, m].mean(-1)
        ax.plot(xs, ys, label=name + span, **_style(j))
        if f == "top_k":  # each point's k, beside it
            for xv, yv, k in zip(xs, ys, val[idx]):
                ax.annotate(f"k={k:g}", (xv, yv), xytext=(6, -4 if yv > 0.04 else 6), textcoords="offset points",
                            fontsize=10, color=OKABE_ITO[j], ha="left", va="top" if yv > 0.04 else "bottom")
    n_src = len(ds[N.SOURCE_ENTROPY])
    ax.axvline(ds[N.SOURCE_ENTROPY].mean(), color=OKABE_ITO[6], ls=":", lw=1.5,
               label=f"the sources' entropy (mean of {n_src})")
    ax.set_xlabel("entropy of the sampling distribution (nats per sequence)")
    ax.set_ylabel("all failures (share of samples)")
    ax.set_title(f"(d) failures against diversity, noise {shares[0]:g} (n={int(m.sum())} GRUs)")
    ax.set_ylim(bottom=-0.03)
    ax.legend(loc="upper left")
    fig.suptitle(f"Sampling from the trained GRUs ({int(ds[N.SETTING_VALUE][topk].max()):d} ids), judged under "
                 "the true sources: means over models\n"
                 "noise s: the GRU was trained on data where a share s of the target sequences was cut off at a "
                 "random point (noisy targets)")
    return save_figure(fig, folder, N.FIG_SAMPLING)


def _fig_topk_extremes(ds: Dataset, summary: dict, folder) -> str:
    """C10: the next-token distribution of greedy, top-1, top-V and pure sampling, as grouped bars, on an
    untied row of logits (a trained GRU's first step) and on a row with a 2-way tied maximum."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 5), gridspec_kw=dict(width_ratios=[3, 2]))
    names = list(ds[N.C10_DECODER])
    hatches = ("", "//", "..", "xx")
    for ax, key, ids, title in ((axes[0], N.C10_UNTIED, ds[N.C10_ID], "(a) untied maximum: a trained GRU's first "
                                 "step,\nits 6 most probable ids: top-1 = greedy, top-V = pure sampling"),
                                (axes[1], N.C10_TIED, ds[N.C10_TIE_ID], "(b) logits (1, 1, 0, -1), a tied maximum:"
                                 "\ntop-1 keeps both tied ids, greedy the first")):
        x = np.arange(len(ids))
        for j, name in enumerate(names):
            ax.bar(x + (j - 1.5) * 0.2, ds[key][j], 0.2, color=OKABE_ITO[j], hatch=hatches[j], edgecolor="white",
                   label=name)
        eos = int(ds[N.BEAM_VOCAB]) - 1 if key == N.C10_UNTIED else None
        ax.set_xticks(x, ["EOS" if int(i) == eos else f"{int(i)}" for i in ids])
        ax.set_xlabel("token id")
        ax.set_ylabel("probability of the next token")
        ax.set_ylim(0, 1.05)
        ax.set_title(title)
    axes[0].legend(loc="upper right")
    eq = summary.get("equivalence", {})
    checked = (f"\nchecked step by step: top-1 = greedy on {eq['top1_equals_greedy']}/{eq['sequences']} and top-V = pure "
               f"sampling on {eq['topV_equals_pure']}/{eq['sequences']} sampled sequences" if eq else "")
    fig.suptitle(f"Top-k at its extremes (V = {int(ds[N.BEAM_VOCAB])} ids, EOS included): the distribution each "
                 "decoder draws from" + checked, fontsize=11)
    return save_figure(fig, folder, N.FIG_TOPK_EXTREMES)
