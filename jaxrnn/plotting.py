"""Figures, made only from a saved ``data.npz`` (never recomputed here).

Each ``<experiment>_figures(folder)`` reads ``folder/data.npz``, writes PNGs
into ``folder`` and returns their file names.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from jaxrnn.results import Dataset  # noqa: E402

LOG10_RANGE = 30.0  # colour scale of log10 |gradient| heatmaps: +-30 decades, beyond is clipped (and marked)


def _save(fig, folder: Path, name: str) -> str:
    fig.savefig(Path(folder) / name, dpi=110, bbox_inches="tight")
    plt.close(fig)
    return name


def _log10_heatmap(ax, values, x, y, *, vmax=LOG10_RANGE, cmap="RdBu_r"):
    """log10 |grad| image over (y, x); -inf (exact zero) shows grey; contour at 10^0."""
    img = np.ma.masked_invalid(np.where(np.isneginf(values), np.nan, values))
    cm = plt.get_cmap(cmap).with_extremes(bad="0.6")
    im = ax.pcolormesh(x, y, img, cmap=cm, vmin=-vmax, vmax=vmax, shading="nearest", rasterized=True)
    if np.nanmax(np.where(np.isfinite(values), values, np.nan)) > 0 > np.nanmin(values):
        ax.contour(x, y, np.nan_to_num(values, neginf=-1e9), levels=[0.0], colors="k", linewidths=0.7)
    return im


def gradient_decay_figures(folder: Path) -> list[str]:
    ds = Dataset.load(Path(folder) / "data.npz")
    return [f(ds, folder) for f in (_fig_w_t, _fig_decay_rate, _fig_explosion_w_b, _fig_ftle, _fig_fixed_point,
                                    _fig_activation, _fig_agreement)]


def _gamma(act: str) -> float:
    return 0.25 if act == "sigmoid" else 1.0


def _fig_w_t(ds: Dataset, folder) -> str:
    acts, inputs, h0s = ds["act"], ds["input"], ds["h0"]
    combos = [(i, k) for i in range(len(inputs)) for k in range(len(h0s))]
    fig, axes = plt.subplots(len(acts), len(combos), figsize=(3.6 * len(combos), 3.2 * len(acts)),
                             squeeze=False, sharex=True, sharey=True)
    w, t = ds["w"], ds["T_plot"]
    for a, act in enumerate(acts):
        for c, (i, k) in enumerate(combos):
            ax = axes[a, c]
            im = _log10_heatmap(ax, ds["log10_grad"][a, i, k], t, w)
            for s in (-1, 1):
                ax.axhline(s / _gamma(act), color="k", ls="--", lw=0.8)
            ax.set_title(f"{act}, x: {inputs[i]}, h0={h0s[k]:g}", fontsize=9)
            if c == 0:
                ax.set_ylabel("w")
            if a == len(acts) - 1:
                ax.set_xlabel("T")
    fig.colorbar(im, ax=axes, label=r"$\log_{10}|dh_T/dh_0|$ (clipped; grey: exactly 0)", extend="both")
    fig.suptitle(r"Gradient through T steps; dashed: $|w| = 1/\max act'$; black: $|dh_T/dh_0| = 1$")
    return _save(fig, folder, "heatmap_w_T.png")


def _fig_decay_rate(ds: Dataset, folder) -> str:
    acts, inputs, h0s, w = ds["act"], ds["input"], ds["h0"], ds["w"]
    fig, axes = plt.subplots(1, len(acts), figsize=(6 * len(acts), 4), squeeze=False)
    with np.errstate(divide="ignore"):
        for a, act in enumerate(acts):
            ax = axes[0, a]
            for i, name in enumerate(inputs):
                for k, h0 in enumerate(h0s):
                    ax.plot(w, ds["decay_rate_log10"][a, i, k], lw=1, label=f"x: {name}, h0={h0:g}")
            ax.plot(w, np.log10(_gamma(act) * np.abs(w)), "k--", lw=1.2, label=r"bound $\log_{10}(\gamma|w|)$")
            ax.axhline(0, color="0.5", lw=0.6)
            ax.set_ylim(-8, 2)
            ax.set_xlabel("w")
            ax.set_ylabel(r"decades per step, slope of $\log_{10}|dh_T/dh_0|$ (2nd half of T)")
            ax.set_title(act)
            ax.legend(fontsize=7)
    return _save(fig, folder, "decay_rate.png")


def _fig_explosion_w_b(ds: Dataset, folder) -> str:
    inputs, t_read, w, b = ds["input"], ds["T_read"], ds["w"], ds["b"]
    fig, axes = plt.subplots(len(inputs), len(t_read), figsize=(3.6 * len(t_read), 3.2 * len(inputs)),
                             squeeze=False, sharex=True, sharey=True)
    for i, name in enumerate(inputs):
        for j, t in enumerate(t_read):
            ax = axes[i, j]
            im = _log10_heatmap(ax, ds["log10_grad_wb"][i, :, :, j].T, w, b)
            ax.axvline(-4, color="k", ls="--", lw=0.8)
            ax.axvline(4, color="k", ls="--", lw=0.8)
            ax.plot(w, -w / 2, color="g", lw=0.8, ls=":")
            ax.set_ylim(b[0], b[-1])
            ax.set_title(f"sigmoid, x: {name}, T={t}", fontsize=9)
            if j == 0:
                ax.set_ylabel("b")
            if i == len(inputs) - 1:
                ax.set_xlabel("w")
    fig.colorbar(im, ax=axes, label=r"$\log_{10}|dh_T/dh_0|$ (clipped)", extend="both")
    fig.suptitle(r"Where does $|w|>4$ explode? dashed $|w|=4$; dotted green: $b=-w/2$; black: $|dh_T/dh_0|=1$")
    return _save(fig, folder, "explosion_w_b.png")


def _fig_ftle(ds: Dataset, folder) -> str:
    inputs, w, b = ds["input"], ds["w"], ds["b"]
    fig, axes = plt.subplots(1, len(inputs), figsize=(5 * len(inputs), 4), squeeze=False)
    for i, name in enumerate(inputs):
        ax = axes[0, i]
        ftle = ds["ftle_wb"][i].T
        vmax = max(float(np.nanmax(np.abs(ftle[np.isfinite(ftle)]))), 1e-3) if np.isfinite(ftle).any() else 1.0
        vmax = min(vmax, 2.0)
        im = ax.imshow(ftle, origin="lower", aspect="auto", cmap="RdBu_r", vmin=-vmax, vmax=vmax,
                       extent=(w[0], w[-1], b[0], b[-1]))
        ax.contour(w, b, np.nan_to_num(ftle, neginf=-1e9), levels=[0.0], colors="k", linewidths=0.7)
        ax.axvline(-4, color="k", ls="--", lw=0.8)
        ax.axvline(4, color="k", ls="--", lw=0.8)
        ax.set_title(f"sigmoid, x: {name}, T={int(ds['T_read'][-1])}", fontsize=9)
        ax.set_xlabel("w")
        ax.set_ylabel("b")
        fig.colorbar(im, ax=ax, label=r"FTLE $\frac{1}{T}\ln|dh_T/dh_0|$", extend="both")
    return _save(fig, folder, "ftle_w_b.png")


def _fig_fixed_point(ds: Dataset, folder) -> str:
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4.2))
    t_read = ds["T_read"]
    j = int(np.argmin(np.abs(t_read - 50)))
    im = _log10_heatmap(ax0, ds["log10_grad_fixed_point"][:, :, j].T, ds["w"], ds["h0_fp"])
    ax0.set_xlabel("w")
    ax0.set_ylabel(r"$h_0$")
    ax0.set_title(f"sigmoid, b = -w/2, x = 0, T = {int(t_read[j])}", fontsize=9)
    fig.colorbar(im, ax=ax0, label=r"$\log_{10}|dh_T/dh_0|$ (clipped)", extend="both")
    wi = int(np.argmax(ds["w_nudge"]))
    w = float(ds["w_nudge"][wi])
    t = ds["T"]
    for d, delta in enumerate(ds["delta"]):
        label = r"$\delta=0$: $(w/4)^T$" if delta == 0 else rf"$\delta$=1e{np.log10(delta):.0f}"
        ax1.plot(t, ds["log10_grad_nudge"][wi, d], lw=1.6 if delta == 0 else 1, label=label,
                 color="k" if delta == 0 else None)
    ax1.set_ylim(-60, max(40.0, float(np.nanmax(ds["log10_grad_nudge"][wi, 1:])) + 5))
    ax1.set_xlim(1, min(int(t[-1]), 200))
    ax1.set_xlabel("T")
    ax1.set_ylabel(r"$\log_{10}|dh_T/dh_0|$ (float64)")
    ax1.set_title(rf"w = {w:g}, b = -w/2, $h_0 = 1/2 + \delta$, x = 0", fontsize=9)
    ax1.legend(fontsize=6, ncol=2)
    return _save(fig, folder, "fixed_point.png")


def _fig_activation(ds: Dataset, folder) -> str:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    a = ds["a"]
    for k, act in enumerate(ds["act_all"]):
        d = ds["act_derivative"][k]
        i = int(np.argmax(d))
        ax.plot(a, d, label=f"{act}'  (max {d[i]:g} at a = {a[i]:g})")
        ax.plot([a[i]], [d[i]], "ko", ms=4)
    ax.set_xlim(-6, 6)
    ax.set_xlabel("pre-activation a")
    ax.set_ylabel("act'(a)")
    ax.legend(fontsize=8)
    return _save(fig, folder, "activation_derivatives.png")


def _fig_agreement(ds: Dataset, folder) -> str:
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    x = ds["log10_grad_f64_at_checks"].reshape(-1)
    floor = 1e-18
    for ax, tag in zip(axes, ("f32", "f64")):
        for mode, marker in (("forward", "."), ("reverse", "x")):
            err = ds[f"rel_err_{mode}_{tag}"].reshape(-1)
            ax.scatter(x, np.clip(np.where(np.isfinite(err), err, 1e3), floor, 1e3), s=3, marker=marker,
                       alpha=0.5, label=f"{mode} mode")
        lo, hi = (-37.9, 38.5) if tag == "f32" else (-307.7, 308.3)
        ax.axvspan(lo, hi, color="g", alpha=0.06, label=f"float{tag[1:]} normal range")
        ax.set_yscale("log")
        ax.set_xlim(1.3 * lo, max(float(np.nanmax(x[np.isfinite(x)])), 0.0) + 2)
        ax.set_xlabel(r"true $\log_{10}|dh_T/dh_0|$ (log-space, float64)")
        ax.set_title(f"plain autodiff in {tag} vs log-space closed form")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("relative error (1 = wrongly 0; clipped at 1e3 = inf/nan)")
    return _save(fig, folder, "agreement.png")


# ---------------------------------------------------------------------------
# threshold_rnns
# ---------------------------------------------------------------------------

def threshold_figures(folder: Path) -> list[str]:
    ds = Dataset.load(Path(folder) / "data.npz")
    summary = json.loads((Path(folder) / "summary.json").read_text())
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
    return _save(fig, folder, "automata.png")


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
    return _save(fig, folder, "margins.png")


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
    return _save(fig, folder, "mutations.png")


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
    return _save(fig, folder, "learning.png")


# ---------------------------------------------------------------------------
# skip_connections
# ---------------------------------------------------------------------------

def skip_figures(folder: Path) -> list[str]:
    ds = Dataset.load(Path(folder) / "data.npz")
    return [_fig_skip_wm(ds, folder), _fig_skip_mt(ds, folder), _fig_skip_fair(ds, folder), _fig_paths(ds, folder)]


def _fig_skip_wm(ds: Dataset, folder) -> str:
    acts, t_read = ds["act"], ds["T_read"]
    fig, axes = plt.subplots(len(acts), len(t_read), figsize=(3.8 * len(t_read), 3.3 * len(acts)), squeeze=False)
    for a, act in enumerate(acts):
        for j, t in enumerate(t_read):
            ax = axes[a, j]
            im = _log10_heatmap(ax, ds["log10_grad_wm"][a, :, :, j].T, ds["w"], ds["m"])
            ax.set_title(f"{act}, T={t}", fontsize=9)
            ax.set_xlabel("w")
            ax.set_ylabel("m (skip weight)")
    fig.colorbar(im, ax=axes, label=r"$\log_{10}|dh_T/dh_0|$ (clipped)", extend="both")
    fig.suptitle("Skip RNN: gradient over (w, m); black: $|dh_T/dh_0| = 1$")
    return _save(fig, folder, "heatmap_w_m.png")


def _fig_skip_mt(ds: Dataset, folder) -> str:
    acts = ds["act"]
    fig, axes = plt.subplots(1, len(acts) + 1, figsize=(5 * (len(acts) + 1), 3.8), squeeze=False)
    for a, act in enumerate(acts):
        im = _log10_heatmap(axes[0, a], ds["log10_grad_mt"][a], ds["T_plot"], ds["m_line"])
        axes[0, a].set_title(f"{act}, w fixed", fontsize=9)
        axes[0, a].set_xlabel("T")
        axes[0, a].set_ylabel("m")
        axes[0, -1].plot(ds["m_line"], ds["decay_rate_log10"][a], label=act)
    fig.colorbar(im, ax=axes[0, :-1], label=r"$\log_{10}|dh_T/dh_0|$ (clipped)", extend="both")
    axes[0, -1].axhline(0, color="0.5", lw=0.6)
    axes[0, -1].set_xlabel("m")
    axes[0, -1].set_ylabel("decades per step (slope, 2nd half of T)")
    axes[0, -1].legend(fontsize=8)
    return _save(fig, folder, "heatmap_m_T.png")


def _fig_skip_fair(ds: Dataset, folder) -> str:
    acts, t_read = ds["act"], ds["T_read"]
    fig, axes = plt.subplots(1, len(acts), figsize=(6 * len(acts), 4), squeeze=False)
    for a, act in enumerate(acts):
        ax = axes[0, a]
        for i, total in enumerate(ds["total"]):
            for j, t in enumerate(t_read):
                ax.plot(ds["m_share"], ds["decades_gained_fair"][a, i, :, j], ls=["-", "--", ":", "-."][j % 4],
                        color=f"C{i}", label=f"w+m={total:g}, T={t}")
        ax.axhline(0, color="k", lw=0.6)
        ax.set_xlabel("share of the recurrent weight on the skip connection, m / (w + m)")
        ax.set_ylabel(r"decades gained in $|dh_T/dh_0|$ vs plain RNN (m = 0)")
        ax.set_title(act)
        ax.legend(fontsize=6, ncol=2)
    return _save(fig, folder, "fair_comparison.png")


def _fig_paths(ds: Dataset, folder) -> str:
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    k = ds["edges"]
    contrib, count = ds["path_contribution"], ds["path_count"]
    keep = count > 0
    ax.semilogy(k[keep], np.abs(contrib[keep]), "o-", ms=3, label="|sum of path products| with k edges")
    ax.semilogy(k[keep], count[keep], "s--", ms=3, label="number of paths with k edges")
    ax.set_xlabel("edges in the path (T = all 1-step, fewer = more 2-step skips)")
    ax.legend(fontsize=8)
    ax.set_title("Gradient as a sum over paths", fontsize=9)
    return _save(fig, folder, "paths.png")


# ---------------------------------------------------------------------------
# spectral
# ---------------------------------------------------------------------------

def spectral_figures(folder: Path) -> list[str]:
    ds = Dataset.load(Path(folder) / "data.npz")
    return [_fig_spectral_heatmaps(ds, folder), _fig_lyapunov(ds, folder), _fig_gated(ds, folder)]


def _fig_spectral_heatmaps(ds: Dataset, folder) -> str:
    acts, kinds = ds["act"], ds["kind"]
    fig, axes = plt.subplots(len(acts), len(kinds), figsize=(5 * len(kinds), 3.6 * len(acts)), squeeze=False)
    for a, act in enumerate(acts):
        for k, kind in enumerate(kinds):
            ax = axes[a, k]
            med = np.median(ds["log10_norm"][a, k], axis=1)  # (lambda1, T)
            im = _log10_heatmap(ax, med, ds["T_read"], ds["lambda1"])
            ax.set_yscale("log")
            ax.axhline(1 / (0.25 if act == "sigmoid" else 1.0), color="k", ls="--", lw=0.9)
            ax.set_title(f"{act}, {kind} W (median over seeds); dashed: $\\lambda_1 = 1/\\gamma$", fontsize=8)
            ax.set_xlabel("T")
            ax.set_ylabel(r"$\lambda_1(W)$")
    fig.colorbar(im, ax=axes, label=r"$\log_{10}\|dh_T/dh_0\|_2$ (clipped)", extend="both")
    return _save(fig, folder, "heatmap_lambda_T.png")


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
    return _save(fig, folder, "lyapunov.png")


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
    return _save(fig, folder, "gated_at_init.png")


# ---------------------------------------------------------------------------
# decoding
# ---------------------------------------------------------------------------

def decoding_figures(folder: Path) -> list[str]:
    ds = Dataset.load(Path(folder) / "data.npz")
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
    return _save(fig, folder, "search_error.png")


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
    return _save(fig, folder, "tradeoff.png")


# ---------------------------------------------------------------------------
# clipping
# ---------------------------------------------------------------------------

def clipping_figures(folder: Path) -> list[str]:
    ds = Dataset.load(Path(folder) / "data.npz")
    return [_fig_direction(ds, folder), _fig_cliff(ds, folder), _fig_training(ds, folder), _fig_traces(ds, folder)]


def _fig_direction(ds: Dataset, folder) -> str:
    clips = list(ds["clip"])
    fig, axes = plt.subplots(1, len(clips) + 1, figsize=(4.4 * (len(clips) + 1), 3.8), squeeze=False)
    for c, clip in enumerate(clips):
        ax = axes[0, c]
        im = ax.pcolormesh(ds["tau"], ds["dim"], ds["cos_synthetic"][:, :, c], cmap="viridis", vmin=0, vmax=1,
                           shading="nearest")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("threshold tau")
        ax.set_ylabel("gradient dimension")
        ax.set_title(f"{clip}: median cos(g, clip(g)), Student-t g", fontsize=8)
    fig.colorbar(im, ax=axes[0, :len(clips)], label="cosine")
    ax = axes[0, -1]
    norms = ds["grad_norm_real"]
    for c, clip in enumerate(clips):
        ratio_tau = ds["tau"][None, :] / norms[:, None]
        ax.scatter(ratio_tau.ravel(), ds["cos_real"][:, :, c].ravel(), s=2, alpha=0.4, label=clip)
    ax.set_xscale("log")
    ax.set_xlabel("tau / ||g|| (RNN training gradients)")
    ax.set_ylabel("cos(g, clip(g))")
    ax.legend(fontsize=7, markerscale=4)
    return _save(fig, folder, "direction.png")


def _fig_cliff(ds: Dataset, folder) -> str:
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    w, b = ds["cliff_w"], ds["cliff_b"]
    with np.errstate(divide="ignore"):
        surf = np.log10(ds["cliff_loss"].T)
    lr_i = min(1, len(ds["cliff_lr"]) - 1)
    tau_i = len(ds["cliff_tau"]) // 2
    for m, ax in enumerate(axes):
        im = ax.pcolormesh(w, b, surf, cmap="magma", shading="nearest", vmin=-6, vmax=0)
        for s in range(len(ds["cliff_start"])):
            path = ds["cliff_paths"][m, lr_i, tau_i, s]
            ax.plot(path[:, 0], path[:, 1], "-", color="c", lw=0.9)
            ax.plot(path[0, 0], path[0, 1], "wo", ms=3)
        ax.set_xlim(w[0], w[-1])
        ax.set_ylim(b[0], b[-1])
        ax.set_title(f"{ds['method'][m]} (SGD lr={ds['cliff_lr'][lr_i]:g}, tau={ds['cliff_tau'][tau_i]:g})",
                     fontsize=9)
        ax.set_xlabel("w")
        ax.set_ylabel("b")
    fig.colorbar(im, ax=axes, label="log10 loss")
    fig.suptitle(r"Pascanu's cliff: $x_t = w\,\sigma(x_{t-1}) + b$, loss $(\sigma(x_{50}) - 0.7)^2$", fontsize=10)
    return _save(fig, folder, "cliff.png")


def _fig_training(ds: Dataset, folder) -> str:
    tasks_ = [n.split("__")[0] for n in ds.arrays if n.endswith("__success")]
    variants = ds["variant"]
    fig, axes = plt.subplots(len(tasks_), 1, figsize=(9, 3.2 * len(tasks_)), squeeze=False)
    for i, task in enumerate(tasks_):
        ax = axes[i, 0]
        rate = ds[f"{task}__success"].mean(axis=-1)  # (variant, lr, radius)
        img = rate.reshape(len(variants), -1).T
        im = ax.pcolormesh(np.arange(len(variants)), np.arange(img.shape[0]), img, cmap="RdYlGn", vmin=0, vmax=1,
                           shading="nearest")
        ax.set_xticks(np.arange(len(variants)), variants, rotation=60, fontsize=7)
        labels = [f"lr={lr:g}, radius={r:g}" for lr in ds["lr"] for r in ds["radius"]]
        ax.set_yticks(np.arange(len(labels)), labels, fontsize=7)
        ax.set_title(f"{task}: success rate over seeds (< 1% errors on fresh sequences)", fontsize=9)
    fig.colorbar(im, ax=axes, label="success rate")
    return _save(fig, folder, "training_success.png")


def _fig_traces(ds: Dataset, folder) -> str:
    tasks_ = [n.split("__")[0] for n in ds.arrays if n.endswith("__success")]
    variants = list(ds["variant"])
    fig, axes = plt.subplots(2, len(tasks_), figsize=(6.5 * len(tasks_), 7), squeeze=False)
    steps = ds["window"]
    r = len(ds["radius"]) - 1  # the largest initial radius: where gradients explode
    l = len(ds["lr"]) - 1
    picks = [0] + [i for i, v in enumerate(variants) if v.startswith("value")][-2:-1] + \
            [i for i, v in enumerate(variants) if v.startswith("norm")][-2:-1]
    for t, task in enumerate(tasks_):
        for v in picks:
            axes[0, t].plot(steps, np.median(ds[f"{task}__loss"][v, l, r], axis=0), label=variants[v])
            axes[1, t].plot(steps, ds[f"{task}__grad_norm_max"][v, l, r, 0], lw=0.8, label=variants[v])
        axes[0, t].set_yscale("log")
        axes[0, t].set_title(f"{task}, lr={ds['lr'][l]:g}, radius={ds['radius'][r]:g}: median loss", fontsize=9)
        axes[1, t].set_yscale("log")
        axes[1, t].set_title("raw gradient norm, max per window (seed 0)", fontsize=9)
        axes[1, t].set_xlabel("step")
        axes[0, t].legend(fontsize=7)
    return _save(fig, folder, "training_traces.png")


# ---------------------------------------------------------------------------
# teacher_forcing
# ---------------------------------------------------------------------------

def teacher_forcing_figures(folder: Path) -> list[str]:
    ds = Dataset.load(Path(folder) / "data.npz")
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
    return _save(fig, folder, "training.png")


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
    return _save(fig, folder, "exposure_bias.png")


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
    return _save(fig, folder, "regimes.png")
