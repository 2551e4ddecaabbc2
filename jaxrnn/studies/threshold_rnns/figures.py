"""Figures of the threshold_rnns study, drawn from the saved ``data.npz`` (and summary) only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jaxrnn.io.figures import save_figure, plt
from jaxrnn import stats
from jaxrnn.io.results import Dataset
from jaxrnn.studies.threshold_rnns import names as N


def draw(ds: Dataset, summary: dict, folder: Path) -> list[str]:
    """Every figure of the study, from the saved data (and summary) only; returns the file names."""
    return [_fig_automata(summary, folder), _fig_margins(ds, folder), _fig_mutations(ds, folder),
            _fig_learning(ds, folder)]


def _fig_automata(summary: dict, folder) -> str:
    designs = summary["designs"]
    fig, axes = plt.subplots(1, len(designs), figsize=(4.6 * len(designs), 4.8), squeeze=False)
    for ax, (name, rep) in zip(axes[0], designs.items()):
        states = [tuple(s) for s in rep["reachable_states"]]
        angle = np.linspace(0, 2 * np.pi, len(states), endpoint=False) + np.pi / 2
        pos = {s: (np.cos(a), np.sin(a)) if len(states) > 1 else (0.0, 0.0) for s, a in zip(states, angle)}
        edges: dict = {}
        for tr in rep["transitions"]:
            key = (tuple(tr["state"]), tuple(tr["next_state"]))
            label = "".join(map(str, tr["input"])) + "/" + str(tr["output"])
            edges.setdefault(key, set()).add(label)
        box = dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.9)
        for (a, b), labels in edges.items():
            text = ",".join(sorted(labels))
            (xa, ya), (xb, yb) = pos[a], pos[b]
            if a == b:  # self loop outside the node, its label further out, aligned away from the centre
                ax.add_patch(plt.Circle((xa * 1.42, ya * 1.42), 0.22, fill=False, lw=1))
                ha = "left" if xa > 0.3 else "right" if xa < -0.3 else "center"
                va = "bottom" if ya > 0.3 else "top" if ya < -0.3 else "center"
                ax.text(xa * 1.42 + 0.3 * np.sign(xa) * (ha != "center"), ya * 1.42 + 0.3 * np.sign(ya) * (va != "center"),
                        text, ha=ha, va=va, fontsize=8, bbox=box)
                continue
            # Arc bulging away from the centre (arc3 puts its control point at mid + rad (dy, -dx)); an
            # edge with a reverse twin keeps rad > 0 so the pair splits to both sides.
            dx, dy = xb - xa, yb - ya
            mx, my = (xa + xb) / 2, (ya + yb) / 2
            outward = dy * mx - dx * my
            rad = 0.25 if (b, a) in edges or outward >= 0 else -0.25
            ax.annotate("", xy=(xb * 0.8 + xa * 0.2, yb * 0.8 + ya * 0.2),
                        xytext=(xa * 0.8 + xb * 0.2, ya * 0.8 + yb * 0.2),
                        arrowprops=dict(arrowstyle="->", connectionstyle=f"arc3,rad={rad}", lw=1))
            ax.text(mx + 0.75 * rad * dy, my - 0.75 * rad * dx, text, ha="center", va="center", fontsize=8,
                    color="C3", bbox=box)
        for s, (x, y) in pos.items():
            ax.add_patch(plt.Circle((x, y), 0.2, color="C0", alpha=0.25))
            ax.text(x, y, "".join(map(str, s)), ha="center", va="center", fontsize=10)
        ax.update_datalim([(-2.6, -2.4), (2.6, 2.4)])  # room for the loops' labels
        ax.autoscale_view()
        ax.set_aspect("equal", adjustable="datalim")
        ax.axis("off")
        verdict = "proved" if rep["proved"] else "REFUTED"
        ax.set_title(f"{rep['name']}\n{verdict}; margin {rep['margin']:.3g}", fontsize=9)
    fig.suptitle("Reachable network states; edges: input/output (start state first, at the top)", fontsize=10)
    return save_figure(fig, folder, N.FIG_AUTOMATA)


def _fig_margins(ds: Dataset, folder) -> str:
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for i, name in enumerate(ds[N.DESIGN]):
        ax.plot(ds[N.SCALE], ds[N.FRACTION_STILL_CORRECT][i], "o-", ms=3,
                label=f"{name} (margin {ds['margin'][i]:.3g})")
    ax.axvline(1.0, color="k", ls="--", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("max-norm perturbation of every weight / proved margin")
    ax.set_ylabel("fraction of random perturbations still correct")
    ax.set_title("robustness: random perturbations scaled to the proved margin", fontsize=9)
    ax.legend(fontsize=8)
    return save_figure(fig, folder, N.FIG_MARGINS)


def _fig_mutations(ds: Dataset, folder) -> str:
    designs = ds[N.DESIGN_LEARNED]
    fig, axes = plt.subplots(len(designs), 1, figsize=(8, 1.2 + 0.35 * ds[N.WEIGHT_SLOT].size * len(designs)),
                             squeeze=False)
    values = ds[N.MUTATION_VALUE]
    for i, name in enumerate(designs):
        ax = axes[i, 0]
        names = [n for n in ds[N.WEIGHT_NAME][i] if n]
        grid = np.ma.masked_less(ds[N.MUTATION_CORRECT][i, :len(names)].astype(float), 0)
        ax.pcolormesh(values, np.arange(len(names)), grid, cmap="RdYlGn", vmin=0, vmax=1, shading="nearest")
        ax.plot(ds[N.SEED_WEIGHT_VALUE][i, :len(names)], np.arange(len(names)), "k*", ms=8, label="seed")
        ax.set_yticks(np.arange(len(names)), names, fontsize=7)
        ax.set_title(f"{name}: one weight changed (green: still proved correct, red: counterexample)", fontsize=9)
        ax.set_xlabel("weight value")
    return save_figure(fig, folder, N.FIG_MUTATIONS)


def _fig_learning(ds: Dataset, folder) -> str:
    designs, schedules = ds[N.DESIGN_LEARNED], ds[N.SCHEDULE]
    fig, axes = plt.subplots(1, 1 + len(designs), figsize=(5 * (1 + len(designs)), 3.8), squeeze=False)
    width = 0.8 / len(designs)
    for i, name in enumerate(designs):
        success = ds[N.LEARN_SUCCESS][i]  # (schedule, seed) booleans
        n = success.shape[-1]
        rate = success.mean(axis=-1)
        lo_hi = np.array([stats.wilson(int(s), n) for s in success.sum(axis=-1)])
        axes[0, 0].bar(np.arange(len(schedules)) + i * width, rate, width, label=f"{name} (n = {n} seeds)",
                       yerr=np.abs(lo_hi.T - rate), capsize=3)
        ax = axes[0, 1 + i]
        for j, sched in enumerate(schedules):
            loss = ds[N.LEARN_LOSS][i, j]
            med = np.median(loss, axis=0)
            ax.plot(ds[N.LOG_STEP], med, label=sched)
            ax.fill_between(ds[N.LOG_STEP], np.quantile(loss, 0.25, axis=0), np.quantile(loss, 0.75, axis=0),
                            alpha=0.2)
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel("soft BCE loss (median, IQR over seeds)")
        ax.set_title(f"{name}: training loss", fontsize=9)
        ax.legend(fontsize=7)
    axes[0, 0].set_xticks(np.arange(len(schedules)) + width * (len(designs) - 1) / 2, schedules, fontsize=8)
    axes[0, 0].set_ylabel("share of hardened nets proved correct")
    axes[0, 0].set_title("learned networks proved correct (Wilson 95 % intervals)", fontsize=9)
    axes[0, 0].set_ylim(0, 1)
    axes[0, 0].legend(fontsize=8)
    return save_figure(fig, folder, N.FIG_LEARNING)
