"""Figures of the teacher_forcing study, drawn from the saved ``data.npz`` (and summary) only.

Bands and error bars are 95 % Student-t intervals over seeds (``jaxrnn.stats``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from jaxrnn import stats
from jaxrnn.io.figures import integer_axis, plt, save_figure
from jaxrnn.io.results import Dataset
from jaxrnn.studies.teacher_forcing import claims as C
from jaxrnn.studies.teacher_forcing import names as N

COLORS = {"teacher forcing": "C0", "free running": "C3", "linear": "C2", "exponential": "C4",
          "inverse sigmoid": "C1"}


def draw(ds: Dataset, summary: dict, folder: Path) -> list[str]:
    """Every figure of the study, from the saved data (and summary) only; returns the file names."""
    threshold = summary.get("acc_threshold")
    return [_curves(ds, folder, threshold), _exposure(ds, folder), _regimes(ds, folder), _source(ds, folder)]


def _band(values):
    """Mean and 95 % interval over the first axis (seeds) of values (seed, x)."""
    effects = [stats.mean_effect("band", values[:, i], "", nonfinite="invalid") for i in range(values.shape[1])]
    return (np.asarray([e.estimate for e in effects]), np.asarray([e.ci95[0] for e in effects]),
            np.asarray([e.ci95[1] for e in effects]))


def _rate_band(values):
    """``_band`` of a rate, its interval clipped to [0, 1]."""
    mean, lo, hi = _band(values)
    return mean, np.clip(lo, 0, 1), np.clip(hi, 0, 1)


def _errbar(ax, x, effects, **kw):
    est = np.asarray([e.estimate for e in effects])
    lo = np.asarray([e.ci95[0] for e in effects])
    hi = np.asarray([e.ci95[1] for e in effects])
    ax.errorbar(x, est, yerr=[est - lo, hi - est], capsize=3, **kw)


def _curves(ds, folder, threshold: float | None = None) -> str:
    m = C._digits(ds)
    tasks, regimes = [str(t) for t in ds[N.TASK]], [str(r) for r in ds[N.REGIME]]
    steps = ds[N.LOG_STEP]
    fig, axes = plt.subplots(2, len(tasks) + 1, figsize=(5.0 * (len(tasks) + 1), 8.0), squeeze=False)
    panels = ((0, C.digit_acc(ds[N.CURVE_ACC_OWN], m), "digit accuracy"),
              (1, ds[N.CURVE_SEQ_OWN], "sequence accuracy (C6 key)"))
    for row, curve, what in panels:
        for t, task in enumerate(tasks):
            ax = axes[row, t]
            for r, name in enumerate(regimes):
                mean, lo, hi = _rate_band(curve[t, r])
                main = r in (C.TF, C.FR)
                ax.plot(steps, mean, "-" if main else ":", color=COLORS[name], label=name, lw=1.8 if main else 1.2)
                if main:
                    ax.fill_between(steps, lo, hi, color=COLORS[name], alpha=0.2, lw=0)
            ax.set_title(f"C6, {task}: greedy {what}, own prefixes\n(held-out; mean, 95 % CI over "
                         f"{ds[N.SEED].size} seeds)")
            ax.set_xlabel("Adam update")
            ax.set_ylabel(f"{what.split(' (')[0]} (fraction)")
            ax.set_ylim(0, 1.02)
            if threshold is not None and row == 0:
                ax.axhline(threshold, color="0.5", lw=0.8, ls="--")
                ax.annotate(f"threshold {threshold:.0%}", (steps[0], threshold), xytext=(2, 3),
                            textcoords="offset points", fontsize=8, color="0.35")
            integer_axis(ax, "x")
            ax.legend(loc="lower right" if row == 0 else "upper left")
    ax = axes[0, -1]
    nll = ds[N.SRC_CURVE_NLL]
    for r, name in enumerate(regimes):
        mean, lo, hi = _band(nll[r])
        ax.plot(ds[N.SRC_LOG_STEP], mean, color=COLORS[name], label=name)
        ax.fill_between(ds[N.SRC_LOG_STEP], lo, hi, color=COLORS[name], alpha=0.15, lw=0)
    ax.set_title("counter-condition, source: teacher-forced NLL\non held-out samples (95 % CI over seeds)")
    ax.set_xlabel("Adam update")
    ax.set_ylabel("nats per id")
    integer_axis(ax, "x")
    ax.legend()
    ax = axes[1, -1]
    for r, name in enumerate(regimes):
        ax.plot(steps, ds[N.EPS][r], color=COLORS[name], label=name)
    ax.set_title("regimes (digit tasks): probability eps of\nfeeding the true previous output")
    ax.set_xlabel("Adam update")
    ax.set_ylabel("eps")
    ax.set_ylim(-0.03, 1.03)
    integer_axis(ax, "x")
    ax.legend()
    return save_figure(fig, folder, N.FIG_CURVES)


def _exposure(ds, folder) -> str:
    m = C._digits(ds)
    tasks = [str(t) for t in ds[N.TASK]]
    pos = ds[N.OUT_POS]
    labels = [str(p) for p in pos[:-1]] + ["EOS"]
    fig, axes = plt.subplots(2, len(tasks), figsize=(5.2 * len(tasks), 7.4), squeeze=False)
    for t, task in enumerate(tasks):
        ax = axes[0, t]
        for arr, name, style in ((N.ACC_ORACLE, "oracle prefixes", "--"), (N.ACC_OWN, "own prefixes", "-o")):
            mean, lo, hi = _rate_band(1.0 - ds[arr][t, C.TF])
            ax.plot(pos, mean, style, color="C0" if arr == N.ACC_OWN else "0.4", label=name, ms=4)
            ax.fill_between(pos, lo, hi, color="C0" if arr == N.ACC_OWN else "0.4", alpha=0.2, lw=0)
        ax.set_title(f"C7, {task}, teacher-forced model:\nerror rate by output position (95 % CI over seeds)")
        ax.set_xticks(pos, labels)
        ax.set_xlabel("output position j")
        ax.set_ylabel("error rate (fraction)")
        ax.legend()
        ax = axes[1, t]
        gap = C.gap_by_position(ds, t, C.TF)
        _errbar(ax, pos, [stats.mean_effect("g", gap[:, p], "", nonfinite="invalid") for p in range(m + 1)],
                fmt="o-", color="C0", ms=4)
        ax.axhline(0, color="k", lw=0.7)
        ax.set_title(f"C7, {task}: gap = accuracy(oracle) - accuracy(own)\nby output position (mean, 95 % CI)")
        ax.set_xticks(pos, labels)
        ax.set_xlabel("output position j")
        ax.set_ylabel("accuracy gap (fraction)")
    return save_figure(fig, folder, N.FIG_EXPOSURE)


def _regimes(ds, folder) -> str:
    m = C._digits(ds)
    tasks, regimes = [str(t) for t in ds[N.TASK]], [str(r) for r in ds[N.REGIME]]
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.4))
    x = np.arange(len(C.SCHEDULED))
    for t, task in enumerate(tasks):
        gaps = {r: C.gap_by_position(ds, t, r)[:, :m].mean(1) for r in (C.TF,) + C.SCHEDULED}
        red = [stats.paired_effect("r", gaps[C.TF], gaps[r], "", nonfinite="invalid") for r in C.SCHEDULED]
        seq = [stats.paired_effect("s", ds[N.SEQ_OWN][t, r], ds[N.SEQ_OWN][t, C.TF], "", nonfinite="invalid")
               for r in C.SCHEDULED]
        _errbar(axes[0], x + 0.12 * (2 * t - 1), red, fmt="o", color=f"C{t}", label=task)
        _errbar(axes[1], x + 0.12 * (2 * t - 1), seq, fmt="o", color=f"C{t}", label=task)
    names = [regimes[r] for r in C.SCHEDULED]
    axes[0].set_title("C8: gap(teacher forcing) - gap(schedule)\n(> 0: smaller exposure gap; paired, 95 % CI)")
    axes[0].set_ylabel("accuracy gap reduction (fraction)")
    axes[1].set_title("C8: sequence accuracy (own prefixes),\nschedule - teacher forcing (paired, 95 % CI)")
    axes[1].set_ylabel("sequence accuracy difference (fraction)")
    for ax in axes:
        ax.axhline(0, color="k", lw=0.7)
        ax.set_xticks(x, names)
        ax.set_xlabel(f"scheduled-sampling decay (floor eps_min = {ds[N.EPS][list(C.SCHEDULED)].min():.2g})")
        ax.legend(loc="best")
    return save_figure(fig, folder, N.FIG_REGIMES)


def _source(ds, folder) -> str:
    regimes = [str(r) for r in ds[N.REGIME]]
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.2))
    ax = axes[0]
    pos = ds[N.POSITION]
    with np.errstate(invalid="ignore", divide="ignore"):
        for arr, cnt, name, style in ((N.SRC_KL_TRUE, N.SRC_N_TRUE, "true prefixes", "--"),
                                      (N.SRC_KL_OWN, N.SRC_N_OWN, "own prefixes", "-")):
            per = ds[arr][C.TF].sum(0) / ds[cnt][C.TF].sum(0)
            ok = ds[cnt][C.TF].sum(0) >= 200
            ax.plot(pos[ok], per[ok], style, color="C0", label=f"teacher forcing, {name}")
    ax.set_title("counter-condition, source: KL(p_true || p_model) per id\nby position (pooled over seeds; "
                 "positions with >= 200 samples)")
    ax.set_xlabel("position t of the predicted id")
    ax.set_ylabel("nats")
    integer_axis(ax, "x")
    ax.legend()
    ax = axes[1]
    x = np.arange(len(regimes))
    _errbar(ax, x, [stats.mean_effect("k", ds[N.SRC_SEQ_KL][r], "", nonfinite="invalid") for r in range(len(regimes))],
            fmt="o", color="C0")
    ax.set_xticks(x, regimes, rotation=15)
    ax.set_title("counter-condition, source: sequence KL (truncated)\nper regime (mean, 95 % CI over seeds)")
    ax.set_ylabel("nats per sequence")
    return save_figure(fig, folder, N.FIG_SOURCE)
