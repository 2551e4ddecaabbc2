"""Figures of the gradient_decay study, drawn from the saved ``data.npz`` (and summary) only."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jaxrnn.io import figures as _figures
from jaxrnn.io.figures import plt, save_figure
from jaxrnn.io.results import Dataset
from jaxrnn.studies.gradient_decay import names as N



def log10_heatmap(ax, values, x, y):
    """``jaxrnn.io.figures.log10_heatmap``; for a one-point axis (T = 1, a one-value grid) the same image
    without the contour at 10^0, which cannot be drawn through a single row or column."""
    if min(np.shape(values)) >= 2:
        return _figures.log10_heatmap(ax, values, x, y)
    img = np.ma.masked_invalid(np.where(np.isneginf(values), np.nan, values))
    return ax.pcolormesh(x, y, img, cmap=plt.get_cmap("RdBu_r").with_extremes(bad="0.6"),
                         vmin=-_figures.LOG10_RANGE, vmax=_figures.LOG10_RANGE, shading="nearest", rasterized=True)


def draw(ds: Dataset, summary: dict, folder: Path) -> list[str]:
    """Every figure of the study, from the saved data (and summary) only; returns the file names."""
    return [f(ds, folder) for f in (_fig_w_t, _fig_decay_rate, _fig_explosion_w_b, _fig_ftle, _fig_fixed_point,
                                    _fig_activation, _fig_agreement)]


def gamma(act: str) -> float:
    return 0.25 if act == "sigmoid" else 1.0


def _fig_w_t(ds: Dataset, folder) -> str:
    acts, inputs, h0s = ds[N.ACT], ds[N.INPUT], ds[N.H0]
    combos = [(i, k) for i in range(len(inputs)) for k in range(len(h0s))]
    fig, axes = plt.subplots(len(acts), len(combos), figsize=(3.6 * len(combos), 3.2 * len(acts)),
                             squeeze=False, sharex=True, sharey=True)
    w, t = ds[N.W], ds[N.T_PLOT]
    for a, act in enumerate(acts):
        for c, (i, k) in enumerate(combos):
            ax = axes[a, c]
            im = log10_heatmap(ax, ds[N.LOG10_GRAD][a, i, k], t, w)
            for s in (-1, 1):
                ax.axhline(s / gamma(act), color="k", ls="--", lw=0.8)
            ax.set_title(f"{act}, x: {inputs[i]}, h0={h0s[k]:g}", fontsize=9)
            if c == 0:
                ax.set_ylabel("w")
            if a == len(acts) - 1:
                ax.set_xlabel("T")
    fig.colorbar(im, ax=axes, label=r"$\log_{10}|dh_T/dh_0|$ (clipped; grey: exactly 0)", extend="both")
    fig.suptitle(r"Gradient through T steps; dashed: $|w| = 1/\max act'$; black: $|dh_T/dh_0| = 1$")
    return save_figure(fig, folder, N.FIG_HEATMAP_W_T)


def _fig_decay_rate(ds: Dataset, folder) -> str:
    acts, inputs, h0s, w = ds[N.ACT], ds[N.INPUT], ds[N.H0], ds[N.W]
    fig, axes = plt.subplots(1, len(acts), figsize=(6 * len(acts), 4), squeeze=False)
    with np.errstate(divide="ignore"):
        for a, act in enumerate(acts):
            ax = axes[0, a]
            for i, name in enumerate(inputs):
                for k, h0 in enumerate(h0s):
                    ax.plot(w, ds[N.DECAY_RATE_LOG10][a, i, k], lw=1, label=f"x: {name}, h0={h0:g}")
            ax.plot(w, np.log10(gamma(act) * np.abs(w)), "k--", lw=1.2, label=r"bound $\log_{10}(\gamma|w|)$")
            ax.axhline(0, color="0.5", lw=0.6)
            ax.set_ylim(-8, 2)
            ax.set_xlabel("w")
            ax.set_ylabel("decades per step\n" + r"(slope of $\log_{10}|dh_T/dh_0|$ over the 2nd half of T)")
            ax.set_title(act)
            ax.legend(fontsize=7)
    return save_figure(fig, folder, N.FIG_DECAY_RATE)


def _fig_explosion_w_b(ds: Dataset, folder) -> str:
    inputs, t_read, w, b = ds[N.INPUT], ds[N.T_READ], ds[N.W], ds[N.B]
    fig, axes = plt.subplots(len(inputs), len(t_read), figsize=(3.6 * len(t_read), 3.2 * len(inputs)),
                             squeeze=False, sharex=True, sharey=True)
    for i, name in enumerate(inputs):
        for j, t in enumerate(t_read):
            ax = axes[i, j]
            im = log10_heatmap(ax, ds[N.LOG10_GRAD_WB][i, :, :, j].T, w, b)
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
    return save_figure(fig, folder, N.FIG_EXPLOSION_W_B)


def _fig_ftle(ds: Dataset, folder) -> str:
    inputs, w, b = ds[N.INPUT], ds[N.W], ds[N.B]
    fig, axes = plt.subplots(1, len(inputs), figsize=(5 * len(inputs), 4), squeeze=False)
    for i, name in enumerate(inputs):
        ax = axes[0, i]
        ftle = ds[N.FTLE_WB][i].T
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
        fig.colorbar(im, ax=ax, label=r"FTLE $\frac{1}{T}\ln|dh_T/dh_0|$ (nats per step)", extend="both")
    return save_figure(fig, folder, N.FIG_FTLE_W_B)


def _fig_fixed_point(ds: Dataset, folder) -> str:
    fig, (ax0, ax1) = plt.subplots(1, 2, figsize=(12, 4.2))
    t_read = ds[N.T_READ]
    j = int(np.argmin(np.abs(t_read - 50)))
    im = log10_heatmap(ax0, ds[N.LOG10_GRAD_FIXED_POINT][:, :, j].T, ds[N.W], ds[N.H0_FP])
    ax0.set_xlabel("w")
    ax0.set_ylabel(r"$h_0$")
    ax0.set_title(f"sigmoid, b = -w/2, x = 0, T = {int(t_read[j])}", fontsize=9)
    fig.colorbar(im, ax=ax0, label=r"$\log_{10}|dh_T/dh_0|$ (clipped)", extend="both")
    wi = int(np.argmax(ds[N.W_NUDGE]))
    w = float(ds[N.W_NUDGE][wi])
    t = ds[N.T]
    for d, delta in enumerate(ds[N.DELTA]):
        label = r"$\delta=0$: $(w/4)^T$" if delta == 0 else rf"$\delta$=1e{np.log10(delta):.0f}"
        ax1.plot(t, ds[N.LOG10_GRAD_NUDGE][wi, d], lw=1.6 if delta == 0 else 1, label=label,
                 color="k" if delta == 0 else None)
    ax1.set_ylim(-60, max(40.0, float(np.nanmax(ds[N.LOG10_GRAD_NUDGE][wi, 1:])) + 5))
    ax1.set_xlim(1, max(2, min(int(t[-1]), 200)))  # T = 1: a non-empty range
    ax1.set_xlabel("T")
    ax1.set_ylabel(r"$\log_{10}|dh_T/dh_0|$ (float64)")
    ax1.set_title(rf"w = {w:g}, b = -w/2, $h_0 = 1/2 + \delta$, x = 0", fontsize=9)
    ax1.legend(fontsize=6, ncol=2)
    return save_figure(fig, folder, N.FIG_FIXED_POINT)


def _fig_activation(ds: Dataset, folder) -> str:
    fig, ax = plt.subplots(figsize=(6, 3.6))
    a = ds[N.A]
    for k, act in enumerate(ds[N.ACT_ALL]):
        d = ds[N.ACT_DERIVATIVE][k]
        i = int(np.argmax(d))
        ax.plot(a, d, label=f"{act}'  (max {d[i]:g} at a = {a[i]:g})")
        ax.plot([a[i]], [d[i]], "ko", ms=4)
    ax.set_xlim(-6, 6)
    ax.set_xlabel("pre-activation a")
    ax.set_ylabel("act'(a)")
    ax.set_title("C1: derivatives of the activations (float64 grid)")
    ax.legend(fontsize=8)
    return save_figure(fig, folder, N.FIG_ACTIVATION_DERIVATIVES)


def _fig_agreement(ds: Dataset, folder) -> str:
    fig, axes = plt.subplots(1, 2, figsize=(12, 4), sharey=True)
    x = ds[N.LOG10_GRAD_F64_AT_CHECKS].reshape(-1)
    floor = 1e-18
    for ax, tag in zip(axes, ("f32", "f64")):
        for mode, marker in (("forward", "."), ("reverse", "x")):
            err = ds[N.REL_ERR[mode, tag]].reshape(-1)
            ax.scatter(x, np.clip(np.where(np.isfinite(err), err, 1e3), floor, 1e3), s=3, marker=marker,
                       alpha=0.5, label=f"{mode} mode")
        lo, hi = (-37.9, 38.5) if tag == "f32" else (-307.7, 308.3)
        ax.axvspan(lo, hi, color="g", alpha=0.06, label=f"float{tag[1:]} normal range")
        ax.set_yscale("log")
        ax.set_xlim(1.3 * lo, max(float(np.nanmax(x[np.isfinite(x)])), 0.0) + 2)
        ax.set_xlabel(r"true $\log_{10}|dh_T/dh_0|$ (log-space, float64)")
        ax.set_title(f"plain autodiff in {tag} vs log-space closed form")
        ax.legend(fontsize=7, loc="lower left" if tag == "f32" else "upper right")  # "best" is slow on many points
    axes[0].set_ylabel("relative error of autodiff\n(1 = wrongly 0; clipped at 1e3 = inf or nan)")
    return save_figure(fig, folder, N.FIG_AGREEMENT)
