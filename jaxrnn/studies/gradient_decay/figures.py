"""Figures of the gradient_decay study, drawn from the saved ``data.npz`` (and summary) only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jaxrnn.io.figures import (DASHES, MARKERS, OKABE_ITO, above_one_handles, above_one_patch, has_above_one,
                               log10_colorbar, log10_heatmap, log10_scale, plt, save_figure)
from jaxrnn.io.results import Dataset
from jaxrnn.studies.gradient_decay import names as N

GRAD = r"$\log_{10}|dh_T/dh_0|$ (decades)"
MODEL = r"$h_t = \mathrm{act}(u\,x_t + w\,h_{t-1} + b)$"


def draw(ds: Dataset, summary: dict, folder: Path) -> list[str]:
    """Every figure of the study, from the saved data (and summary) only; returns the file names."""
    setting = summary.get("setting", {})
    return [_fig_w_t(ds, setting, folder), _fig_decay_rate(ds, setting, folder),
            _fig_explosion_w_b(ds, setting, folder), _fig_ftle(ds, setting, folder),
            _fig_fixed_point(ds, summary, folder), _fig_activation(ds, folder), _fig_agreement(ds, folder)]


def gamma(act: str) -> float:
    return 0.25 if act == "sigmoid" else 1.0


def _input_label(name: str) -> str:
    return {"noise": r"$x_t \sim N(0,1)$", "zero": r"$x_t = 0$"}.get(str(name), f"x: {name}")


def _setting_text(setting: dict, *keys) -> str:
    return ", ".join(f"{k} = {setting[k]:g}" for k in keys if k in setting)


def _fig_w_t(ds: Dataset, setting: dict, folder) -> str:
    acts, inputs, h0s = ds[N.ACT], ds[N.INPUT], ds[N.H0]
    combos = [(i, k) for i in range(len(inputs)) for k in range(len(h0s))]
    fig, axes = plt.subplots(len(acts), len(combos), figsize=(min(2.9 * len(combos), 11.6) + 1.0, 2.9 * len(acts) + 1.0),
                             squeeze=False, sharex=True, sharey=True)
    w, t = ds[N.W], ds[N.T_PLOT]
    scale = log10_scale(ds[N.LOG10_GRAD], ceil=0.0)
    over = has_above_one(ds[N.LOG10_GRAD])
    for a, act in enumerate(acts):
        for c, (i, k) in enumerate(combos):
            ax = axes[a, c]
            im = log10_heatmap(ax, ds[N.LOG10_GRAD][a, i, k], t, w, scale=scale, above_one=True)
            for s in (-1, 1):
                ax.axhline(s / gamma(act), color="w", ls="--", lw=1.2)
            ax.set_xscale("log")
            ax.set_title(f"{act}, {_input_label(inputs[i])}, $h_0$ = {h0s[k]:g}")
            if c == 0:
                ax.set_ylabel("w")
            if a == len(acts) - 1:
                ax.set_xlabel("T (steps, log scale)")
    log10_colorbar(fig, im, axes, scale, GRAD)
    handles = [plt.Line2D([], [], color="0.2", ls="--", lw=1.2, label=r"$|w| = 1/\gamma$, $\gamma = \max\,\mathrm{act}'$")]
    if over:
        g = ds[N.LOG10_GRAD]
        handles += above_one_handles(*[g[a, i, k] for a in range(len(acts)) for (i, k) in combos])
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles))
    fig.suptitle(f"C2: gradient through T steps of {MODEL}, {_setting_text(setting, 'u', 'b')};\n"
                 f"between the dashed lines ($|w| < 1/\\gamma$) it must vanish; outside them it may persist"
                 + ("" if over else r"; nowhere $|dh_T/dh_0| > 1$"))
    return save_figure(fig, folder, N.FIG_HEATMAP_W_T)


def _fig_decay_rate(ds: Dataset, setting: dict, folder) -> str:
    acts, inputs, h0s, w = ds[N.ACT], ds[N.INPUT], ds[N.H0], ds[N.W]
    t_max = int(ds[N.T][-1])
    rate = ds[N.DECAY_RATE_LOG10]
    # Each panel's own y range (tanh decays twice as many decades per step as sigmoid at large |w|).
    fig, axes = plt.subplots(1, len(acts), figsize=(5.6 * len(acts), 4.6), squeeze=False)
    with np.errstate(divide="ignore", invalid="ignore"):
        gap = np.nanmax(np.abs(rate - rate[:, :, :1]), axis=(0, 2, 3)) if len(h0s) > 1 else np.zeros(len(inputs))
        # The other h0 lie on the first h0's curves (gap in the suptitle): drawn only when they visibly differ
        # (> 0.01 decades/step), and only as many as keep a panel at 4 series (the bound is one of them).
        visible = float(np.nanmax(gap)) > 1e-2
        extra_h0 = list(range(1, len(h0s)))[:max(0, 3 - len(inputs))] if visible else []
        for a, act in enumerate(acts):
            ax = axes[0, a]
            for i, name in enumerate(inputs):
                for k in [0] + extra_h0:
                    style = dict(color=OKABE_ITO[i], ls=DASHES[i], marker="none", lw=1.8) if k == 0 else dict(
                        color=OKABE_ITO[i], ls="none", marker=MARKERS[k], mfc="none", ms=6,
                        markevery=(5 * k + 8 * i, 20))
                    ax.plot(w, rate[a, i, k], label=f"{_input_label(name)}, $h_0$ = {h0s[k]:g}", **style)
            bound = np.log10(gamma(act) * np.abs(w))
            ax.plot(w, bound, color="k", ls=":", lw=1.5, marker="none", label=r"bound $\log_{10}(\gamma|w|)$")
            ax.axhline(0, color="0.5", lw=0.6, marker="none")
            shown = np.concatenate([rate[a, :, [0] + extra_h0].ravel(), bound[np.abs(w) >= 1 / gamma(act) / 10]])
            shown = shown[np.isfinite(shown)]
            pad = 0.06 * (shown.max() - shown.min())
            ax.set_ylim(shown.min() - pad, shown.max() + pad)
            ax.set_xlabel("w")
            ax.set_ylabel(f"decay rate: slope of {GRAD}\nper step, over T = {t_max // 2}..{t_max}")
            ax.set_title(f"{act} ($\\gamma$ = max act' = {gamma(act):g})")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=len(labels))
    hidden = [k for k in range(1, len(h0s)) if k not in extra_h0]
    note = (f"lines: $h_0$ = {h0s[0]:g}; $h_0$ = {', '.join(f'{h0s[k]:g}' for k in hidden)} gives the same curves "
            f"(largest gap {float(np.nanmax(gap)):.1g} decades/step), not drawn" if hidden else
            f"lines: $h_0$ = {h0s[0]:g}; open markers: other $h_0$")
    fig.suptitle(f"C2: the gradient decays at least as fast as the bound; {MODEL}, {_setting_text(setting, 'u', 'b')}\n"
                 + note)
    return save_figure(fig, folder, N.FIG_DECAY_RATE)


def _fig_explosion_w_b(ds: Dataset, setting: dict, folder) -> str:
    inputs, t_read, w, b = list(ds[N.INPUT]), ds[N.T_READ], ds[N.W], ds[N.B]
    data = ds[N.LOG10_GRAD_WB]  # (input, w, b, T_read)
    scale = log10_scale(data, ceil=0.0)
    floor = scale["norm"].vmin
    big = np.abs(w) > 4
    share = 100 * (data[:, big] > 0).mean(axis=(1, 2))  # (input, T_read) percent of the |w| > 4 grid
    order = sorted(range(len(inputs)), key=lambda i: -int(np.sum(data[i].max(axis=(0, 1)) >= floor)))
    ncol = len(t_read)
    fig = plt.figure(figsize=(min(2.85 * ncol, 11.4) + 1.2, 7.0))
    gs = fig.add_gridspec(len(inputs), ncol)
    shown, first, im, panels = [], None, None, []
    for r, i in enumerate(order):
        shown_i = [j for j in range(ncol) if data[i, ..., j].max() >= floor]
        if r == len(order) - 1:  # the last row keeps room for the share panel
            shown_i = shown_i[:ncol - max(1, ncol - len(shown_i))]
        for c, j in enumerate(shown_i):
            ax = fig.add_subplot(gs[r, c], sharex=first, sharey=first)
            first = first or ax
            shown.append(ax)
            panels.append(data[i, ..., j].T)
            im = log10_heatmap(ax, panels[-1], w, b, scale=scale, above_one=True)
            for s in (-4, 4):
                ax.axvline(s, color="w", ls="--", lw=1.2)
            ax.set_ylim(b[0], b[-1])
            ax.set_title(f"{_input_label(inputs[i])}, T = {t_read[j]}\n"
                         f"$|dh_T/dh_0| > 1$ on {share[i, j]:.2g} % of $|w|>4$")
            ax.set_xlabel("w")
            if c == 0:
                ax.set_ylabel("b")
        if r == len(order) - 1:
            ax = fig.add_subplot(gs[r, len(shown_i):])
            for q, name in enumerate(inputs):
                ax.plot(t_read, share[q], color=OKABE_ITO[q], ls=DASHES[q], marker=MARKERS[q], ms=7,
                        label=_input_label(name))
            ax.set_xscale("log")
            ax.set_ylim(bottom=0)
            ax.set_xlabel("T (steps)")
            ax.set_ylabel(r"% of the $|w| > 4$ grid")
            npts = int(big.sum() * len(b))
            ax.set_title(rf"share with $|dh_T/dh_0| > 1$ (n = {npts:,} (w, b) points)")
            ax.legend()
    log10_colorbar(fig, im, shown, scale, GRAD)
    handles = [plt.Line2D([], [], color="w", ls="--", lw=1.2, label=r"$|w| = 4$ (white dashes)")]
    handles += above_one_handles(*panels, label=r"$|dh_T/dh_0| > 1$ (explodes)")
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), facecolor="0.75")
    fig.suptitle(f"C3: sigmoid, {_setting_text(setting, 'u')}, $h_0$ = {setting.get('h0_wb', float('nan')):g}: "
                 r"$|w| > 4$ is needed for $|dh_T/dh_0| > 1$ but not enough:" "\n"
                 r"at long T it explodes only on the line $b = -w/2$ (where $h = 1/2$ is a fixed point); "
                 f"panels with nothing above $10^{{{floor:.0f}}}$ left out")
    return save_figure(fig, folder, N.FIG_EXPLOSION_W_B)


def _fig_ftle(ds: Dataset, setting: dict, folder) -> str:
    inputs, w, b = ds[N.INPUT], ds[N.W], ds[N.B]
    t_max = int(ds[N.T_READ][-1])
    fig, axes = plt.subplots(1, len(inputs), figsize=(5.4 * len(inputs) + 1.2, 4.8), squeeze=False,
                             sharex=True, sharey=True)
    ftle = ds[N.FTLE_WB]
    scale = log10_scale(ftle, floor=-2.0, ceil=0.0)
    for i, name in enumerate(inputs):
        ax = axes[0, i]
        im = log10_heatmap(ax, ftle[i].T, w, b, scale=scale, above_one=True)
        for s in (-4, 4):
            ax.axvline(s, color="w", ls="--", lw=1.2)
        share = 100 * (ftle[i][np.abs(w) > 4] > 0).mean()
        ax.set_title(f"sigmoid, {_input_label(name)}, T = {t_max}: FTLE > 0 on {share:.2g} % of $|w| > 4$")
        ax.set_xlabel("w")
        if i == 0:
            ax.set_ylabel("b")
    log10_colorbar(fig, im, axes, scale, r"FTLE = $\ln|dh_T/dh_0|\,/\,T$ (nats per step)")
    handles = [plt.Line2D([], [], color="w", ls="--", lw=1.2, label=r"$|w| = 4$ (white dashes)")]
    handles += above_one_handles(*[f.T for f in ftle], label="FTLE > 0: the gradient grows with T",
                                 what="FTLE > 0")
    fig.legend(handles=handles, loc="outside lower center", ncol=len(handles), facecolor="0.75")
    fig.suptitle("C3: the finite-time Lyapunov exponent (FTLE) is the average growth rate of the gradient per step;\n"
                 f"> 0 (vermillion) means the gradient explodes with T ({_setting_text(setting, 'u')}, "
                 f"$h_0$ = {setting.get('h0_wb', float('nan')):g})")
    return save_figure(fig, folder, N.FIG_FTLE_W_B)


def _pick(n: int, most: int = 4) -> list[int]:
    return list(range(n)) if n <= most else sorted({int(round(x)) for x in np.linspace(0, n - 1, most)})


def _fig_fixed_point(ds: Dataset, summary: dict, folder) -> str:
    fig, (ax0, ax1, ax2) = plt.subplots(1, 3, figsize=(12.6, 4.8), width_ratios=(1.25, 1, 1))
    t_read = ds[N.T_READ]
    j = int(np.argmin(np.abs(t_read - 50)))
    values = ds[N.LOG10_GRAD_FIXED_POINT][:, :, j].T
    scale = log10_scale(values, ceil=0.0)
    im = log10_heatmap(ax0, values, ds[N.W], ds[N.H0_FP], scale=scale, above_one=True)
    ax0.set_xlabel("w")
    ax0.set_ylabel(r"$h_0$")
    ax0.set_title(f"(a) T = {int(t_read[j])}: above 1 only at $h_0 = 1/2$")
    log10_colorbar(fig, im, ax0, scale, GRAD)
    ax0.legend(handles=above_one_handles(values) or [above_one_patch()], loc="upper right")

    ws, deltas, t = ds[N.W_NUDGE], ds[N.DELTA], ds[N.T]
    wi = int(np.argmax(ws))
    w = float(ws[wi])
    curves = ds[N.LOG10_GRAD_NUDGE][wi]
    nonzero = [d for d in range(len(deltas)) if deltas[d] > 0]
    picks = [d for d in range(len(deltas)) if deltas[d] == 0] + [nonzero[q] for q in _pick(len(nonzero), 3)]
    t_show = min(int(t[-1]), 100)
    for s, d in enumerate(picks):
        delta = deltas[d]
        label = rf"$\delta = 0$: $T\log_{{10}}(w/4)$" if delta == 0 else rf"$\delta = 10^{{{np.log10(delta):.0f}}}$"
        ax1.plot(t[:t_show], curves[d, :t_show], color="k" if delta == 0 else OKABE_ITO[s], ls=DASHES[s],
                 marker=MARKERS[s], markevery=(s * 3, 10), ms=5, lw=1.6, label=label)
    top = float(np.nanmax(curves[picks, :t_show]))
    ax1.set_ylim(-40, top + 30)  # room for the legend above the curves
    ax1.set_xlim(1, max(2, t_show))  # T = 1: a non-empty range
    ax1.axhline(0, color="0.5", lw=0.6, marker="none")
    ax1.set_xlabel("T (steps)")
    ax1.set_ylabel(GRAD.replace("decades", "decades, float64"))
    ax1.set_title(rf"(b) w = {w:g}: $h_0 = 1/2 + \delta$")
    ax1.legend(loc="upper left")

    per_w = summary.get("nudge", {}).get("per_w", {})
    groups: dict = {}
    for key in per_w:
        if float(key) != 0:
            groups.setdefault(abs(float(key)), []).append(key)
    mags = sorted(groups)
    for s, q in enumerate(_pick(len(mags))):
        keys = groups[mags[q]]
        for r, key in enumerate(keys):
            rep = per_w[key]
            x = np.log10(1 / np.asarray(rep["delta"], dtype=float))
            ax2.plot(x, rep["peak_T"], color=OKABE_ITO[s], ls="none", marker=MARKERS[s], ms=6 + 4 * r,
                     mfc=OKABE_ITO[s] if r == 0 else "none",
                     label="w = " + ", ".join(f"{float(k):g}" for k in keys) + ": measured" if r == 0 else None)
        ax2.plot(x, rep["escape_T_predicted"], color=OKABE_ITO[s], ls=DASHES[s], marker="none", lw=1.2)
    ax2.plot([], [], color="0.3", ls="-", marker="none", label=r"lines: $\ln(1/\delta)/\ln(|w|/4)$")
    ax2.set_ylim(0, ax2.get_ylim()[1] * 1.4)  # room for the legend above the points
    ax2.set_xlabel(r"$\log_{10}(1/\delta)$")
    ax2.set_ylabel("T at the peak of the gradient (steps)")
    ax2.set_title("(c) escape time: measured vs predicted")
    ax2.legend(loc="upper left")
    fig.suptitle(r"C3: sigmoid, $b = -w/2$, $x_t = 0$: the gradient grows as $(w/4)^T$ only while the state stays at the "
                 r"unstable fixed point $h = 1/2$;" "\n" r"started $\delta$ away, it escapes after "
                 r"$\approx \ln(1/\delta)/\ln(|w|/4)$ steps and the gradient then collapses")
    return save_figure(fig, folder, N.FIG_FIXED_POINT)


def _fig_activation(ds: Dataset, folder) -> str:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    a = ds[N.A]
    for k, act in enumerate(ds[N.ACT_ALL]):
        d = ds[N.ACT_DERIVATIVE][k]
        i = int(np.argmax(d))
        ax.plot(a, d, marker="none", label=f"{act}'  (max {d[i]:g} at a = {a[i]:g})")
        ax.plot([a[i]], [d[i]], "ko", ms=4)
    ax.set_xlim(-6, 6)
    ax.set_xlabel("pre-activation a")
    ax.set_ylabel("act'(a)")
    ax.set_title("C1: derivatives of the activations (float64 grid)")
    ax.legend(fontsize=10)
    return save_figure(fig, folder, N.FIG_ACTIVATION_DERIVATIVES)


def _fig_agreement(ds: Dataset, folder) -> str:
    x = ds[N.LOG10_GRAD_F64_AT_CHECKS].reshape(-1)
    floor, ceil = 1e-18, 1e3
    fig, axes = plt.subplots(2, 2, figsize=(12.4, 6.8), sharey=True, sharex="col")
    nonfinite = any((~np.isfinite(ds[N.REL_ERR[m, t]])).any() for m in ("forward", "reverse") for t in ("f32", "f64"))
    for c, tag in enumerate(("f32", "f64")):
        lo, hi = (-37.9, 38.5) if tag == "f32" else (-307.7, 308.3)
        for r, mode in enumerate(("forward", "reverse")):
            ax = axes[r, c]
            err = ds[N.REL_ERR[mode, tag]].reshape(-1)
            keep = np.isfinite(x)
            y = np.clip(np.where(np.isfinite(err), err, ceil), floor, ceil)[keep]
            ax.axvspan(lo, hi, color=OKABE_ITO[2], alpha=0.12, lw=0)
            ax.scatter(x[keep], y, s=4, marker=MARKERS[r], color=OKABE_ITO[r], alpha=0.4, rasterized=True)
            ax.axhline(1.0, color="0.3", lw=0.8, ls="--")
            ax.set_yscale("log")
            ax.set_xlim(1.3 * lo, max(float(np.nanmax(x[keep])), 0.0) + 2)
            ax.set_title(f"{mode} mode, float{tag[1:]}: n = {int(keep.sum()):,} points (all settings)")
            if r == 1:
                ax.set_xlabel(r"true $\log_{10}|dh_T/dh_0|$ (log-space closed form)")
            if c == 0:
                ax.set_ylabel("relative error")
    handles = [plt.Rectangle((0, 0), 1, 1, color=OKABE_ITO[2], alpha=0.25, label="the float type's normal range"),
               plt.Line2D([], [], color="0.3", ls="--", label="1 = autodiff returned exactly 0")]
    fig.legend(handles=handles, loc="outside lower center", ncol=2)
    w, t_check = ds[N.W], ds[N.T_CHECK]
    acts = ", ".join(str(a) for a in ds[N.ACT])
    fig.suptitle("Plain autodiff against the log-space closed form: wrongly 0 beyond the float range (in float32 also"
                 " at many points inside it), close elsewhere;\n"
                 f"{MODEL}: w = recurrent weight ({len(w)} values in [{w[0]:g}, {w[-1]:g}]), T = steps back "
                 f"({len(t_check)} lengths, {t_check[0]}..{t_check[-1]}); {acts}, {len(ds[N.INPUT])} inputs, "
                 f"{len(ds[N.H0])} $h_0$\n"
                 f"relative errors clipped to [{floor:g}, {ceil:g}]: the points drawn at {floor:g} agree exactly "
                 "(error 0)" + ("; those drawn at the top are inf or nan" if nonfinite else ""))
    return save_figure(fig, folder, N.FIG_AGREEMENT)
