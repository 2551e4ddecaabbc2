"""Figures of the threshold_rnns study, drawn from the saved ``data.npz`` (and summary) only."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch

from jaxrnn import stats
from jaxrnn.io.figures import DASHES, MARKERS, OKABE_ITO, plt, save_figure
from jaxrnn.io.results import Dataset
from jaxrnn.models.threshold import SEED_A_NAMES
from jaxrnn.studies.threshold_rnns import names as N

#: The designs as the homework names them ("seed" here means the sheet's answer, not a random seed).
SHORT = {"seed_a": "sheet 4a", "seed_b": "sheet 4b", "parity": "parity", "adder": "adder"}
TASK = {"seed_a": "all ones so far", "seed_b": "the two sequences agree so far", "parity": "parity of the ones so far",
        "adder": "binary addition, least significant bit first"}
#: What a network state is, per design (the units fed back from one step to the next).
STATE = {"seed_a": r"state: $h_{t-1}$", "seed_b": r"state: ($t > 1$, $y_{t-1}$)", "parity": r"state: $y_{t-1}$",
         "adder": r"state: the carry unit $h_2$"}
OK_COLOR, BAD_COLOR = OKABE_ITO[0], OKABE_ITO[1]  # blue / orange: safe for colour-blind readers


def draw(ds: Dataset, summary: dict, folder: Path) -> list[str]:
    """Every figure of the study, from the saved data (and summary) only; returns the file names."""
    return [_fig_automata(summary, folder), _fig_margins(ds, summary, folder), _fig_mutations(ds, folder),
            _fig_learning(ds, summary, folder)]


def _short(name) -> str:
    return SHORT.get(str(name), str(name))


def _bits(values) -> str:
    return "".join(str(int(v)) for v in values)


def _self_loop(ax, centre, outward, r_node, label):
    """A loop on the node's outer side: an arrow leaving and re-entering the circle, its label beyond it."""
    cx, cy = centre
    ang = np.arctan2(outward[1], outward[0])
    a = (cx + r_node * np.cos(ang + 0.55), cy + r_node * np.sin(ang + 0.55))
    b = (cx + r_node * np.cos(ang - 0.55), cy + r_node * np.sin(ang - 0.55))
    ax.add_patch(FancyArrowPatch(a, b, connectionstyle="arc3,rad=-2.6", arrowstyle="-|>", mutation_scale=16,
                                 lw=1.4, color="k", shrinkA=0, shrinkB=0))
    far = r_node + 0.5
    x, y = cx + far * np.cos(ang), cy + far * np.sin(ang)
    ha = "left" if np.cos(ang) > 0.3 else "right" if np.cos(ang) < -0.3 else "center"
    va = "bottom" if np.sin(ang) > 0.3 else "top" if np.sin(ang) < -0.3 else "center"
    ax.text(x, y, label, ha=ha, va=va, fontsize=10, linespacing=1.1)


def _fig_automata(summary: dict, folder) -> str:
    designs = summary["designs"]
    ncol = 2
    nrow = (len(designs) + ncol - 1) // ncol
    fig, axes = plt.subplots(nrow, ncol, figsize=(11.5, 5.0 * nrow), squeeze=False)
    r_node = 0.3
    for ax, (key, rep) in zip(axes.ravel(), designs.items()):
        states = [tuple(s) for s in rep["reachable_states"]]
        angle = np.linspace(0, 2 * np.pi, len(states), endpoint=False) + np.pi / 2
        pos = {s: (0.85 * np.cos(a), 0.85 * np.sin(a)) if len(states) > 1 else (0.0, 0.0) for s, a in zip(states, angle)}
        edges: dict = {}
        for tr in rep["transitions"]:
            edges.setdefault((tuple(tr["state"]), tuple(tr["next_state"])), []).append(
                f"{_bits(tr['input'])}/{tr['output']}")
        for (a, b), labels in edges.items():
            text = "\n".join(sorted(labels))
            (xa, ya), (xb, yb) = pos[a], pos[b]
            if a == b:
                outward = (xa, ya) if (xa, ya) != (0.0, 0.0) else (0.0, 1.0)
                _self_loop(ax, (xa, ya), outward, r_node, text)
                continue
            # Arc bulging away from the centre; an edge with a reverse twin bends to its own side.
            dx, dy = xb - xa, yb - ya
            mx, my = (xa + xb) / 2, (ya + yb) / 2
            rad = 0.3 if (b, a) in edges or dy * mx - dx * my >= 0 else -0.3
            length = np.hypot(dx, dy)
            ux, uy = dx / length, dy / length
            turn = np.arctan(2 * rad)  # the arc leaves at this angle to the chord
            c, s_ = np.cos(turn), np.sin(turn)
            start = (xa + r_node * (ux * c + uy * s_), ya + r_node * (-ux * s_ + uy * c))
            end = (xb - r_node * (ux * c - uy * s_), yb - r_node * (ux * s_ + uy * c))
            ax.add_patch(FancyArrowPatch(start, end, connectionstyle=f"arc3,rad={rad}", arrowstyle="-|>",
                                         mutation_scale=16, lw=1.4, color=OKABE_ITO[3], shrinkA=0, shrinkB=0))
            off = 0.5 * rad / 0.3
            ax.text(mx + off * dy, my - off * dx, text, ha="center", va="center", fontsize=10, color=OKABE_ITO[3],
                    linespacing=1.1, bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none", alpha=0.9))
        start = tuple(states[0]) if states else None
        for s, (x, y) in pos.items():
            ax.add_patch(Circle((x, y), r_node, fc="#DCEBF7", ec=OKABE_ITO[0], lw=2.0 if s == start else 1.2,
                                zorder=3))
            ax.text(x, y, _bits(s), ha="center", va="center", fontsize=13, zorder=4)
        if start is not None:  # the start state: an arrow from nowhere
            x, y = pos[start]
            side = -1.0  # from the left
            ax.add_patch(FancyArrowPatch((x + side * 0.95, y), (x + side * r_node, y), arrowstyle="-|>",
                                         mutation_scale=16, lw=1.4, color="0.3"))
            ax.text(x + side * 0.97, y, "start", ha="right", va="center", fontsize=10, color="0.3")
        ax.set_xlim(-2.4, 2.4)
        ax.set_ylim(-2.35, 2.35)
        ax.set_aspect("equal")
        ax.axis("off")
        verdict = "proved for every length" if rep["proved"] else "REFUTED"
        ax.set_title(f"{_short(key)}: {TASK.get(key, rep.get('name', key))}\n{STATE.get(key, 'network state')}; "
                     f"{verdict}; margin {rep['margin']:.3g}")
    for ax in axes.ravel()[len(designs):]:
        ax.axis("off")
    fig.suptitle("The hand-built threshold RNNs as automata: a circle per reachable network state;\n"
                 "an arrow per step, labelled input bits / output (black loops: the state stays)")
    return save_figure(fig, folder, N.FIG_AUTOMATA)


def _fig_margins(ds: Dataset, summary: dict, folder) -> str:
    fig, ax = plt.subplots(figsize=(8.4, 4.8))
    for i, name in enumerate(ds[N.DESIGN]):
        ax.plot(ds[N.SCALE], ds[N.FRACTION_STILL_CORRECT][i], color=OKABE_ITO[i % 8], ls=DASHES[i % 8],
                marker=MARKERS[i % 8], ms=6, label=f"{_short(name)} (margin {ds[N.MARGIN][i]:.3g})")
    ax.axvline(1.0, color="k", ls=":", lw=1.0)
    ax.set_xscale("log")
    ax.set_xticks([0.5, 1, 2, 3, 4, 6], ["0.5", "1", "2", "3", "4", "6"])
    ax.minorticks_off()
    ax.set_xlabel("size of the perturbation / proved margin (max-norm, every weight)")
    ax.set_ylabel("share of perturbed nets still correct")
    samples = next((rep.get("perturbation", {}).get("samples") for rep in summary.get("designs", {}).values()), None)
    ax.set_title("Robustness: all weights moved at random by up to the given size"
                 + (f", {samples:,} nets a point" if samples else "") + ";\nthe margin is the largest move proved "
                 "to change no output (dotted line)")
    ax.legend(loc="lower left")
    return save_figure(fig, folder, N.FIG_MARGINS)


def _sheet_name(design: str, weight: str) -> str:
    """The homework's name of a weight: w1, w2, b2, w3, b3 for 4a; W_ij, b_i, v_i, r, c, c0 for 4b (1-based)."""
    if design == "seed_a":
        for sheet, (key, idx) in SEED_A_NAMES.items():
            if weight == f"{key}{list(idx)}":
                return f"${sheet[0]}_{sheet[1:]}$"
    m = re.fullmatch(r"(\w+?)\[([\d, ]*)\]", weight)
    if not m:
        return weight
    key, idx = m.group(1), [int(i) + 1 for i in m.group(2).replace(" ", "").split(",") if i]
    base = {"c0": "c_0"}.get(key, key)
    return f"${base}_{{{''.join(map(str, idx))}}}$" if idx else f"${base}$"


def _fig_mutations(ds: Dataset, folder) -> str:
    designs = ds[N.DESIGN_LEARNED]
    counts = [len([n for n in ds[N.WEIGHT_NAME][i] if n]) for i in range(len(designs))]
    fig, axes = plt.subplots(len(designs), 1, figsize=(8.4, 1.9 + 0.42 * sum(counts)), squeeze=False,
                             height_ratios=[c + 1.5 for c in counts], sharex=True)
    values = ds[N.MUTATION_VALUE]
    from matplotlib.colors import ListedColormap

    cmap = ListedColormap([BAD_COLOR, OK_COLOR])
    for i, name in enumerate(designs):
        ax = axes[i, 0]
        names = [n for n in ds[N.WEIGHT_NAME][i] if n]
        grid = np.ma.masked_less(ds[N.MUTATION_CORRECT][i, :len(names)].astype(float), 0)
        ax.pcolormesh(values, np.arange(len(names)), grid, cmap=cmap, vmin=0, vmax=1, shading="nearest",
                      edgecolors="w", linewidth=0.5)
        ax.plot(ds[N.SEED_WEIGHT_VALUE][i, :len(names)], np.arange(len(names)), ls="none", marker="*", ms=13,
                color="w", mec="k", mew=1.0)
        ax.set_yticks(np.arange(len(names)), [_sheet_name(str(name), n) for n in names])
        ax.invert_yaxis()
        ax.set_title(f"{_short(name)} ({TASK.get(str(name), name)}): one weight changed at a time, "
                     f"{len(values)} values each")
    axes[-1, 0].set_xlabel("value given to that one weight (the others keep the sheet's values)")
    handles = [plt.Rectangle((0, 0), 1, 1, color=OK_COLOR, label="still proved correct for every length"),
               plt.Rectangle((0, 0), 1, 1, color=BAD_COLOR, label="wrong on some input"),
               plt.Line2D([], [], ls="none", marker="*", ms=13, color="w", mec="k", label="the sheet's value")]
    fig.legend(handles=handles, loc="outside lower center", ncol=3)
    return save_figure(fig, folder, N.FIG_MUTATIONS)


def _fig_learning(ds: Dataset, summary: dict, folder) -> str:
    designs, schedules = ds[N.DESIGN_LEARNED], ds[N.SCHEDULE]
    fig, axes = plt.subplots(1, 1 + len(designs), figsize=(4.1 * (1 + len(designs)), 4.6), squeeze=False)
    width = 0.8 / len(designs)
    n = ds[N.LEARN_SUCCESS].shape[-1]
    for i, name in enumerate(designs):
        success = ds[N.LEARN_SUCCESS][i]  # (schedule, seed) booleans
        rate = success.mean(axis=-1)
        lo_hi = np.array([stats.wilson(int(s), n) for s in success.sum(axis=-1)])
        axes[0, 0].bar(np.arange(len(schedules)) + i * width, rate, width, color=OKABE_ITO[i],
                       hatch=["", "//"][i % 2], edgecolor="k", lw=0.6, label=_short(name),
                       yerr=np.abs(lo_hi.T - rate), capsize=4)
    for i, name in enumerate(designs):
        ax = axes[0, 1 + i]
        loss_all = ds[N.LEARN_LOSS][i]  # (schedule, seed, logged step)
        meds = np.median(loss_all, axis=1)
        # The y range fits the medians (half a decade either side), not the bands: one seed quartile that
        # falls to 1e-18 would otherwise squash the medians into a strip. Bands are cut at the axis.
        pos = meds[np.isfinite(meds) & (meds > 0)]
        lo, hi = (float(pos.min()) / 10 ** 0.5, float(pos.max()) * 10 ** 0.5) if pos.size else (1e-6, 10.0)
        clipped = False
        for j, sched in enumerate(schedules):
            loss = loss_all[j]
            ax.plot(ds[N.LOG_STEP], meds[j], color=OKABE_ITO[j + 2], ls=DASHES[j], marker=MARKERS[j],
                    markevery=(3 * j, 12), ms=5, label=_tau_label(sched), zorder=3)
            q1, q3 = np.quantile(loss, 0.25, axis=0), np.quantile(loss, 0.75, axis=0)
            clipped |= bool((q1 < lo).any() or (q3 > hi).any())
            ax.fill_between(ds[N.LOG_STEP], np.clip(q1, lo, hi), np.clip(q3, lo, hi),
                            color=OKABE_ITO[j + 2], alpha=0.12, lw=0)
            for q in (q1, q3):  # band edges in the series' colour: overlapping bands stay tellable apart
                ax.plot(ds[N.LOG_STEP], np.clip(q, lo, hi), color=OKABE_ITO[j + 2], ls=DASHES[j], lw=0.7,
                        marker="none", alpha=0.7)
        ax.set_yscale("log")
        ax.set_ylim(lo, hi)
        ax.set_xlabel("training step")
        ax.set_ylabel("training loss (cross-entropy)")
        ax.set_title(f"{_short(name)}: median loss of n = {loss_all.shape[1]} seeds\n"
                     "band: middle half of the seeds (thin edges)"
                     + ("\n(y range fits the medians; bands cut at the axis)" if clipped else ""))
    handles, labels = axes[0, 1].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels),
               title=r"$\tau$ schedule (loss panels)")
    axes[0, 0].set_xticks(np.arange(len(schedules)) + width * (len(designs) - 1) / 2,
                          [_tau_label(s) for s in schedules])
    axes[0, 0].set_ylabel("share proved correct for every length")
    axes[0, 0].set_title(f"after rounding to threshold units\n(n = {n} random seeds each; 95 % Wilson)")
    axes[0, 0].set_ylim(0, 1.25)
    axes[0, 0].set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    axes[0, 0].legend(loc="upper center", ncol=2)
    fig.suptitle(r"Learning the sheet's tasks with soft units $\sigma(z/\tau)$, $\tau$ lowered from start to end "
                 "during training, then rounded to threshold units II(z) and proved")
    return save_figure(fig, folder, N.FIG_LEARNING)


def _tau_label(schedule) -> str:
    m = re.fullmatch(r"tau ([\d.e+-]+) -> ([\d.e+-]+)", str(schedule))
    return rf"$\tau$: {m.group(1)} → {m.group(2)}" if m else str(schedule)
