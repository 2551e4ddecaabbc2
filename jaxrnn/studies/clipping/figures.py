"""Figures of the clipping study, drawn from the saved ``data.npz`` (and summary) only.

One style for every panel: Okabe-Ito colours with a marker and a dash per method, at most 4
series a panel, n on the figure, panels compared share their y axis, values off a log scale are
clipped to its edge and marked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jaxrnn import stats
from jaxrnn.io.figures import OKABE_ITO, plt, save_figure
from jaxrnn.io.results import Dataset
from jaxrnn.studies.clipping import names as nm

#: (colour, marker, dash) per training method and per clipping of the geometry study
STYLE = {"none": (OKABE_ITO[6], "X", ":"), "value": (OKABE_ITO[1], "s", "--"), "norm": (OKABE_ITO[0], "o", "-"),
         "global_norm": (OKABE_ITO[0], "o", "-"), "block_rms": (OKABE_ITO[2], "^", "-."),
         "value_big": (OKABE_ITO[3], "D", ":")}
LABEL = {"none": "no clipping", "value": "clip by value", "norm": "clip by norm", "global_norm": "clip by norm",
         "block_rms": "clip per block (RMS)"}


def _style(key: str) -> dict:
    c, m, ls = STYLE[key]
    return {"color": c, "marker": m, "linestyle": ls}


def draw(ds: Dataset, summary: dict, folder: Path) -> list[str]:
    """Every figure of the study, from the saved data (and summary) only; returns the file names."""
    tasks_ = list(summary["training"])
    return [_fig_direction(ds, folder), _fig_cliff(ds, summary, folder), _fig_outcome(ds, summary, tasks_, folder),
            _fig_explosions(ds, tasks_, folder), _fig_traces(ds, summary, tasks_, folder),
            _fig_selection(ds, summary, tasks_, folder)]


# ---------------------------------------------------------------------------- C5a

def _fig_direction(ds: Dataset, folder) -> str:
    clips = [str(c) for c in ds[nm.AX_CLIP]]
    taus, dims = ds[nm.AX_TAU], ds[nm.AX_DIM]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), sharey=True)
    ax = axes[0]
    cos = ds[nm.COS_SYNTHETIC]  # (dim, tau, clip)
    v, b, g = clips.index("value"), clips.index("block_rms"), clips.index("global_norm")
    series = [(f"clip by value, d = {dims[0]}", cos[0, :, v], "value", 1.0),
              (f"clip by value, d = {dims[-1]}", cos[-1, :, v], "value_big", 1.0),
              (f"clip per block, d = {dims[-1]}", cos[-1, :, b], "block_rms", 1.0),
              (f"clip by norm, every d (lowest median)", cos[:, :, g].min(axis=0), "global_norm", 1.0)]
    for label, y, key, alpha in series:
        kw = _style(key)
        if key == "global_norm":
            kw.update(markerfacecolor="none", markersize=9, linewidth=2.2)
        ax.plot(taus, y, label=label, alpha=alpha, **kw)
    ax.set_xscale("log")
    ax.set_xlabel("threshold tau")
    ax.set_ylabel("cos(g, clip(g))  (1 = direction kept)")
    ax.set_title(f"(a) Student-t gradients: median cosine over the samples\n(dimension d from {dims[0]} to "
                 f"{dims[-1]})")
    ax.legend(loc="lower right")
    ax = axes[1]
    norms = ds[nm.NORM_REAL]
    rel = ds[nm.AX_TAU][None, :] / norms[:, None]
    edges = np.geomspace(max(rel.min(), 1e-8), rel.max() * 1.0001, 25)
    mid = np.sqrt(edges[1:] * edges[:-1])
    for key in ("value", "block_rms", "global_norm"):
        c = ds[nm.COS_REAL][:, :, clips.index(key)]
        med, lo = np.full(mid.size, np.nan), np.full(mid.size, np.nan)
        for i in range(mid.size):
            inside = (rel >= edges[i]) & (rel < edges[i + 1])
            if inside.any():
                med[i], lo[i] = np.median(c[inside]), np.min(c[inside])
        kw = _style(key)
        if key == "global_norm":
            kw.update(markerfacecolor="none", markersize=9, linewidth=2.2)
        ok = np.isfinite(med)
        ax.plot(mid[ok], med[ok], label=f"{LABEL[key]}: median", **kw)
        if key == "value":
            ax.plot(mid[ok], lo[ok], color=kw["color"], linestyle=":", marker="v", label=f"{LABEL[key]}: worst")
    ax.set_xscale("log")
    ax.set_xlabel("tau / ||g||  (binned)")
    ax.set_title(f"(b) {len(norms)} raw gradients of the unclipped SGD runs (C5b)")
    ax.legend(loc="lower right")
    ax.set_ylim(-0.05, 1.08)
    return save_figure(fig, folder, nm.FIG_DIRECTION)


def _fig_cliff(ds: Dataset, summary: dict, folder) -> str:
    fig, axes = plt.subplots(1, 3, figsize=(14, 4.8), sharex=True, sharey=True)
    w, b = ds[nm.AX_CLIFF_W], ds[nm.AX_CLIFF_B]
    with np.errstate(divide="ignore"):
        surf = np.log10(ds[nm.CLIFF_LOSS].T)
    lr_i = min(1, len(ds[nm.AX_CLIFF_LR]) - 1)
    tau_i = len(ds[nm.AX_CLIFF_TAU]) // 2
    lr, tau = ds[nm.AX_CLIFF_LR][lr_i], ds[nm.AX_CLIFF_TAU][tau_i]
    succ = ds[nm.CLIFF_SUCCESS]  # (method, lr, tau, start)
    for m, ax in enumerate(axes):
        im = ax.pcolormesh(w, b, surf, cmap="gray", shading="nearest", vmin=-6, vmax=0, rasterized=True)
        for s in range(len(ds[nm.AX_CLIFF_START])):
            path = np.clip(ds[nm.CLIFF_PATHS][m, lr_i, tau_i, s], [w[0], b[0]], [w[-1], b[-1]])
            ax.plot(path[:, 0], path[:, 1], "-", color=OKABE_ITO[3], lw=1.4, marker=None)
            ax.plot(path[0, 0], path[0, 1], "o", color="white", mec="k", ms=5)  # small: short paths stay visible
            ax.plot(path[-1, 0], path[-1, 1], "X", color=OKABE_ITO[1], mec="k", ms=6.5)
        ax.set_xlim(w[0], w[-1])
        ax.set_ylim(b[0], b[-1])
        method = str(ds[nm.AX_METHOD][m])
        here = succ[m, lr_i, tau_i]
        n_lr, n_tau, n_start = succ.shape[1:]
        if method == "none":  # tau does not apply: the runs are the same for every tau, counted once
            grid, k, total = f"{n_lr} lr x {n_start} starts", int(succ[m, :, 0].sum()), n_lr * n_start
        else:
            grid, k, total = f"{n_lr} lr x {n_tau} tau x {n_start} starts", int(succ[m].sum()), succ[m].size
        ax.set_title(f"{LABEL[method]}: {int(here.sum())} of the {here.size} descents shown\nreach loss < 1e-3; "
                     f"over all\n{grid}: {k} of {total}")
        ax.set_xlabel("w")
    axes[0].set_ylabel("b")
    fig.colorbar(im, ax=axes, label="log10 loss (dark: low)")
    fig.suptitle(r"Pascanu's cliff: $x_t = w\,\sigma(x_{t-1}) + b$, loss $(\sigma(x_{50}) - 0.7)^2$; "
                 f"SGD lr {lr:g}, tau {tau:g}; white dot: start, orange X: end (paths leaving the window are "
                 "drawn at its edge)\ntau = clipping threshold: clip by value cuts each gradient component to "
                 "[-tau, tau]; clip by norm rescales g to norm tau when ||g|| > tau")
    return save_figure(fig, folder, nm.FIG_CLIFF)


# ---------------------------------------------------------------------------- C5b

def _chosen(summary, task, m) -> str:
    ch = summary["training"][task]["chosen"][m]
    return f"lr {ch['lr']:g}" + ("" if m == "none" else f", tau {ch['tau']:g}")


def _fig_outcome(ds: Dataset, summary: dict, tasks_: list, folder) -> str:
    fig, axes = plt.subplots(len(tasks_), 2, figsize=(12, 4.3 * len(tasks_)), squeeze=False, sharey="col")
    methods = list(nm.METHODS)
    rng = np.random.default_rng(0)
    for i, task in enumerate(tasks_):
        succ = ds[nm.run_array(task, nm.SUCCESS)]  # (method, seed)
        y = ds[nm.run_array(task, nm.Y)]
        n = succ.shape[1]
        ax = axes[i, 0]
        for m, method in enumerate(methods):
            k = int(succ[m].sum())
            lo, hi = stats.wilson(k, n)
            c, mk, _ = STYLE[method]
            ax.bar(m, k / n, 0.6, color=c, alpha=0.85, hatch={"none": "xx", "value": "//", "norm": ""}[method],
                   edgecolor="k")
            ax.errorbar(m, k / n, [[k / n - lo], [hi - k / n]], color="k", capsize=6, lw=1.5, marker="none")
            ax.text(m, min(hi + 0.03, 1.02), f"{k}/{n}", ha="center", va="bottom")
        ax.set_xticks(range(3), [f"{LABEL[m]}\n({_chosen(summary, task, m)})" for m in methods])
        ax.set_ylim(0, 1.12)
        ax.set_ylabel(f"share of the {n} seeds with error < 1 %")
        ax.set_title(f"(a{i + 1}) {task}: success rate (bars: 95 % Wilson)")
        ax = axes[i, 1]
        for m, method in enumerate(methods):
            c, mk, _ = STYLE[method]
            ax.scatter(m + rng.uniform(-0.15, 0.15, n), y[m], s=18, alpha=0.6, color=c, marker=mk)
            ax.plot([m - 0.25, m + 0.25], [y[m].mean()] * 2, color="k", lw=2, marker="none", linestyle="-")
        ax.axhline(0, color="0.4", lw=1, ls="--", marker="none")
        ax.text(0.5, 0, "constant\npredictor", ha="center", va="bottom", color="0.3")
        ax.set_xticks(range(3), [LABEL[m] for m in methods])
        ax.set_ylabel("y = log10(final loss / constant's)")
        ax.set_title(f"(b{i + 1}) {task}: final loss on fresh sequences\n(one dot per seed, n = {n}; bar: mean)\n"
                     f"y capped at {nm.LOG_CAP:g}: a loss > {10 ** nm.LOG_CAP:g}x the constant's, or not finite, "
                     f"counts as {nm.LOG_CAP:g}")
    fig.suptitle("Each method at its own best (lr, tau), chosen on separate seeds; the same seeds for every method")
    return save_figure(fig, folder, nm.FIG_OUTCOME)


def _fig_explosions(ds: Dataset, tasks_: list, folder) -> str:
    fig, axes = plt.subplots(len(tasks_), 2, figsize=(12, 4.2 * len(tasks_)), squeeze=False, sharey="col")
    methods = list(nm.METHODS)
    rng = np.random.default_rng(1)
    for i, task in enumerate(tasks_):
        ratio = ds[nm.run_array(task, nm.NORM_RATIO)]
        big = ds[nm.run_array(task, nm.BIG_STEPS)]
        n = ratio.shape[1]
        ax = axes[i, 0]
        for m, method in enumerate(methods):
            c, mk, _ = STYLE[method]
            ax.scatter(m + rng.uniform(-0.15, 0.15, n), ratio[m], s=18, alpha=0.6, color=c, marker=mk)
        ax.axhline(nm.BIG_FACTOR, color="0.4", lw=1, ls="--", marker="none")
        ax.text(0.99, nm.BIG_FACTOR, f"{nm.BIG_FACTOR:g}x the median", ha="right", va="bottom", color="0.3",
                transform=ax.get_yaxis_transform())
        ax.set_yscale("log")
        ax.set_xticks(range(3), [LABEL[m] for m in methods])
        ax.set_ylabel("largest / median raw gradient norm")
        ax.set_title(f"(a{i + 1}) {task}: each run's largest raw gradient / its median (n = {n} per method)\n"
                     "(before clipping; a run that learns has a small median, hence a large ratio)")
        ax = axes[i, 1]
        for m, method in enumerate(methods):
            k = int((big[m] > 0).sum())
            lo, hi = stats.wilson(k, n)
            c, mk, _ = STYLE[method]
            ax.bar(m, k / n, 0.6, color=c, alpha=0.85, edgecolor="k",
                   hatch={"none": "xx", "value": "//", "norm": ""}[method])
            ax.errorbar(m, k / n, [[k / n - lo], [hi - k / n]], color="k", capsize=6, lw=1.5, marker="none")
            ax.text(m, min(hi + 0.03, 1.02), f"{k}/{n}", ha="center", va="bottom")
        ax.set_ylim(0, 1.12)
        ax.set_xticks(range(3), [LABEL[m] for m in methods])
        ax.set_ylabel(f"share of runs with a step > {nm.BIG_FACTOR:g}x median")
        ax.set_title(f"(b{i + 1}) {task}: runs with an exploding step\n(bars: 95 % Wilson)")
    return save_figure(fig, folder, nm.FIG_EXPLOSIONS)


def _clip_marked(ax, x, y, lo, hi, color):
    """Plot values clipped into [lo, hi] on a log axis; values beyond are marked with triangles at the edge."""
    with np.errstate(invalid="ignore"):
        over, under = y > hi, y < lo
    ax.plot(x[over], np.full(over.sum(), hi), "^", color=color, ms=7, mec="k", linestyle="none")
    ax.plot(x[under], np.full(under.sum(), lo), "v", color=color, ms=7, mec="k", linestyle="none")
    return np.clip(y, lo, hi), int(over.sum() + under.sum())


def _fig_traces(ds: Dataset, summary: dict, tasks_: list, folder) -> str:
    fig, axes = plt.subplots(2, len(tasks_), figsize=(11 * len(tasks_), 8.5), squeeze=False)
    steps = ds[nm.AX_WINDOW]
    win = int(steps[1] - steps[0]) if len(steps) > 1 else 1  # a window: this many consecutive training steps
    LO, HI = 1e-4, 1e3  # the widest range shown; the axis fits the medians inside it
    for t, task in enumerate(tasks_):
        const = summary["training"][task]["constant_loss"]
        loss = ds[nm.run_array(task, nm.LOSS_TRACE)] / const  # (method, seed, window)
        norm = ds[nm.run_array(task, nm.NORM_TRACE)]
        n = loss.shape[1]
        ax = axes[0, t]
        with np.errstate(invalid="ignore"):
            meds = np.nanmedian(np.where(np.isfinite(loss), loss, np.nan), axis=1)  # (method, window)
        shown = meds[np.isfinite(meds) & (meds > 0)]
        lo_a = max(LO, float(shown.min()) / 2) if shown.size else LO
        hi_a = min(HI, max(float(shown.max()), 1.0) * 2) if shown.size else HI
        for m, method in enumerate(nm.METHODS):
            kw = _style(method)
            med, _ = _clip_marked(ax, steps, meds[m], lo_a, hi_a, kw["color"])
            ax.plot(steps, med, markevery=max(1, len(steps) // 10),
                    label=f"{LABEL[method]} ({_chosen(summary, task, method)})", **kw)
        ax.axhline(1, color="0.4", lw=1, ls="--", marker="none", label="1 = constant predictor's loss")
        ax.set_yscale("log")
        ax.set_ylim(lo_a / 1.2, hi_a * 1.2)
        ax.set_ylabel(f"training loss / constant predictor's\n(mean over each {win}-step window)")
        ax.set_title(f"(a{t + 1}) {task}: median training loss over the {n} seeds\n(dashed: constant predictor; "
                     "triangles: off scale)")
        ax = axes[1, t]
        finite = np.where(np.isfinite(norm), norm, np.nan)
        ratio = ds[nm.run_array(task, nm.NORM_RATIO)][0]
        seed = int(np.nanargmax(np.where(np.isfinite(ratio), ratio, -np.inf)))  # the largest unclipped explosion
        hi = 10 ** min(np.ceil(np.log10(np.nanmax(finite[:, seed]))), 8.0)
        lo = 10 ** max(np.floor(np.log10(max(np.nanmin(finite[:, seed]), 1e-12))), -6.0)
        for m, method in enumerate(nm.METHODS):
            kw = _style(method)
            y, clipped = _clip_marked(ax, steps, norm[m, seed], lo, hi, kw["color"])
            ax.plot(steps, y, lw=1.0, markevery=max(1, len(steps) // 10),
                    label=LABEL[method] + (f" ({clipped} windows off scale)" if clipped else ""), **kw)
        ax.axhline(1, color="0.6", lw=1.0, marker="none", label="||g|| = 1 (a reference level)")
        ax.set_yscale("log")
        ax.set_ylim(lo / 1.5, hi * 1.5)
        ax.set_xlabel(f"training step (one point per window of {win} steps)")
        ax.set_ylabel(f"largest raw gradient norm ||g||\nin each {win}-step window")
        ax.set_title(f"(b{t + 1}) {task}: raw gradient norm (before clipping), one seed, every method\n"
                     f"(the seed whose unclipped run exploded most: largest / median {ratio[seed]:.3g})")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
        axes[0, t].legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    return save_figure(fig, folder, nm.FIG_TRACES)


def _fig_selection(ds: Dataset, summary: dict, tasks_: list, folder) -> str:
    fig, axes = plt.subplots(len(tasks_), 3, figsize=(15, 4.6 * len(tasks_)), squeeze=False,
                             gridspec_kw={"width_ratios": [1, 1.4, 1.4]})
    lrs = ds[nm.AX_LR]
    for i, task in enumerate(tasks_):
        ch = summary["training"][task]["chosen"]
        robust = summary["training"][task]["robust_cells"]
        S = len(ds[nm.AX_SEL_SEED])
        ax = axes[i, 0]
        s = ds[nm.selection_array(task, "none", nm.SUCCESS)]  # (lr, seed)
        k = s.sum(axis=1)
        ax.bar(range(len(lrs)), k / S, 0.6, color=STYLE["none"][0], alpha=0.8, edgecolor="k", hatch="xx")
        for j, kk in enumerate(k):
            ax.text(j, kk / S + 0.02, f"{int(kk)}/{S}" + (" *" if np.isclose(lrs[j], ch["none"]["lr"]) else ""),
                    ha="center", va="bottom")
        ax.set_xticks(range(len(lrs)), [f"{x:g}" for x in lrs])
        ax.set_ylim(0, 1.12)
        ax.set_xlabel("learning rate")
        ax.set_ylabel(f"success rate on the {S} selection seeds")
        ax.set_title(f"({i + 1}a) {task}, no clipping\ncells >= {nm.ROBUST_RATE:.0%}: "
                     f"{robust['none'][0]}/{robust['none'][1]} (*: chosen)")
        for j, method in enumerate(("value", "norm")):
            ax = axes[i, j + 1]
            taus = ds[nm.tau_axis(method)]
            rate = ds[nm.selection_array(task, method, nm.SUCCESS)].mean(axis=-1)  # (lr, tau)
            im = ax.imshow(rate, vmin=0, vmax=1, cmap="viridis", origin="lower", aspect="auto")
            for a in range(rate.shape[0]):
                for b in range(rate.shape[1]):
                    star = np.isclose(lrs[a], ch[method]["lr"]) and np.isclose(taus[b], ch[method]["tau"])
                    ax.text(b, a, f"{int(round(rate[a, b] * S))}/{S}" + (" *" if star else ""), ha="center",
                            va="center", color="k" if rate[a, b] > 0.6 else "w", fontsize=11,
                            fontweight="bold" if star else "normal")
            ax.set_xticks(range(len(taus)), [f"{x:g}" for x in taus])
            ax.set_yticks(range(len(lrs)), [f"{x:g}" for x in lrs])
            ax.set_xlabel("threshold tau" + (" (per component)" if method == "value" else " (of ||g||)"))
            ax.set_ylabel("learning rate")
            ax.set_title(f"({i + 1}{'bc'[j]}) {task}, {LABEL[method]}: success per (lr, tau)\n"
                         f"cells >= {nm.ROBUST_RATE:.0%}: {robust[method][0]}/{robust[method][1]} (*: chosen)")
        fig.colorbar(im, ax=axes[i, 1:], label="success rate (selection seeds)")
    fig.suptitle("Selection of each method's (lr, tau) on seeds never reported: success = error < 1 % on fresh "
                 "sequences")
    return save_figure(fig, folder, nm.FIG_SELECTION)
