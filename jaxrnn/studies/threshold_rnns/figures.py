"""Figures of the threshold_rnns study, drawn from the saved ``data.npz`` (and summary) only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jaxrnn.io.figures import save_figure, plt
from jaxrnn.io.results import Dataset


def draw(ds: Dataset, summary: dict, folder: Path) -> list[str]:
    """Every figure of the study, from the saved data (and summary) only; returns the file names."""
    return [_fig_automata(summary, folder), _fig_margins(ds, folder), _fig_mutations(ds, folder),
            _fig_learning(ds, folder)]


def _fig_automata(summary: dict, folder) -> str:
    designs = summary["designs"]
    fig, axes = plt.subplots(1, len(designs), figsize=(4.2 * len(designs), 4.4), squeeze=False)
    for ax, (name, rep) in zip(axes[0], designs.items()):
        states = [tuple(s) for s in rep["reachable_states"]]
        angle = np.linspace(0, 2 * np.pi, len(states), endpoint=False) + np.pi / 2
        pos = {s: (np.cos(a), np.sin(a)) if len(states) > 1 else (0.0, 0.0) for s, a in zip(states, angle)}
        edges: dict = {}
        for tr in rep["transitions"]:
            key = (tuple(tr["state"]), tuple(tr["next_state"]))
            label = "".join(map(str, tr["input"])) + "/" + str(tr["output"])
            edges.setdefault(key, set()).add(label)
        for (a, b), labels in edges.items():
            text = ",".join(sorted(labels))
            (xa, ya), (xb, yb) = pos[a], pos[b]
            if a == b:
                ax.add_patch(plt.Circle((xa * 1.42, ya * 1.42), 0.22, fill=False, lw=1))
                ax.text(xa * 1.9, ya * 1.9, text, ha="center", va="center", fontsize=8)
            else:
                ax.annotate("", xy=(xb * 0.8 + xa * 0.2, yb * 0.8 + ya * 0.2),
                            xytext=(xa * 0.8 + xb * 0.2, ya * 0.8 + yb * 0.2),
                            arrowprops=dict(arrowstyle="->", connectionstyle="arc3,rad=0.2", lw=1))
                mx, my = (xa + xb) / 2, (ya + yb) / 2
                ax.text(mx + 0.25 * (yb - ya), my - 0.25 * (xb - xa), text, ha="center", va="center", fontsize=8,
                        color="C3")
        for s, (x, y) in pos.items():
            ax.add_patch(plt.Circle((x, y), 0.2, color="C0", alpha=0.25))
            ax.text(x, y, "".join(map(str, s)), ha="center", va="center", fontsize=10)
        ax.set_xlim(-2.2, 2.2)
        ax.set_ylim(-2.2, 2.2)
        ax.set_aspect("equal")
        ax.axis("off")
        verdict = "proved" if rep["proved"] else "REFUTED"
        ax.set_title(f"{rep['name']}\n{verdict}; margin {rep['margin']:.3g}", fontsize=9)
    fig.suptitle("Reachable network states; edges: input/output (start state first, at the top)", fontsize=10)
    return save_figure(fig, folder, "automata.png")


def _fig_margins(ds: Dataset, folder) -> str:
    fig, ax = plt.subplots(figsize=(6.4, 4))
    for i, name in enumerate(ds["design"]):
        ax.plot(ds["scale"], ds["fraction_still_correct"][i], "o-", ms=3,
                label=f"{name} (margin {ds['margin'][i]:.3g})")
    ax.axvline(1.0, color="k", ls="--", lw=0.8)
    ax.set_xscale("log")
    ax.set_xlabel("max-norm perturbation of every weight / proved margin")
    ax.set_ylabel("fraction of random perturbations still correct")
    ax.legend(fontsize=8)
    return save_figure(fig, folder, "margins.png")


def _fig_mutations(ds: Dataset, folder) -> str:
    designs = ds["design_learned"]
    fig, axes = plt.subplots(len(designs), 1, figsize=(8, 1.2 + 0.35 * ds["weight_slot"].size * len(designs)),
                             squeeze=False)
    values = ds["mutation_value"]
    for i, name in enumerate(designs):
        ax = axes[i, 0]
        names = [n for n in ds["weight_name"][i] if n]
        grid = np.ma.masked_less(ds["mutation_correct"][i, :len(names)].astype(float), 0)
        ax.pcolormesh(values, np.arange(len(names)), grid, cmap="RdYlGn", vmin=0, vmax=1, shading="nearest")
        ax.plot(ds["seed_weight_value"][i, :len(names)], np.arange(len(names)), "k*", ms=8, label="seed")
        ax.set_yticks(np.arange(len(names)), names, fontsize=7)
        ax.set_title(f"{name}: one weight changed (green: still proved correct, red: counterexample)", fontsize=9)
        ax.set_xlabel("weight value")
    return save_figure(fig, folder, "mutations.png")


def _fig_learning(ds: Dataset, folder) -> str:
    designs, schedules = ds["design_learned"], ds["schedule"]
    fig, axes = plt.subplots(1, 1 + len(designs), figsize=(5 * (1 + len(designs)), 3.8), squeeze=False)
    width = 0.8 / len(designs)
    for i, name in enumerate(designs):
        rate = ds["learn_success"][i].mean(axis=-1)
        axes[0, 0].bar(np.arange(len(schedules)) + i * width, rate, width, label=name)
        ax = axes[0, 1 + i]
        for j, sched in enumerate(schedules):
            loss = ds["learn_loss"][i, j]
            med = np.median(loss, axis=0)
            ax.plot(ds["log_step"], med, label=sched)
            ax.fill_between(ds["log_step"], np.quantile(loss, 0.25, axis=0), np.quantile(loss, 0.75, axis=0),
                            alpha=0.2)
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_ylabel("soft BCE loss (median, IQR over seeds)")
        ax.set_title(name, fontsize=9)
        ax.legend(fontsize=7)
    axes[0, 0].set_xticks(np.arange(len(schedules)) + width * (len(designs) - 1) / 2, schedules, fontsize=8)
    axes[0, 0].set_ylabel("hardened nets proved correct")
    axes[0, 0].set_ylim(0, 1)
    axes[0, 0].legend(fontsize=8)
    return save_figure(fig, folder, "learning.png")


# ---------------------------------------------------------------------------
# skip_connections
# ---------------------------------------------------------------------------
