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

#: One colour, marker and dash per regime (Okabe-Ito; TF blue vs FR vermillion, never red vs green).
STYLE = {"teacher forcing": ("#0072B2", "o", "-"), "free running": ("#D55E00", "s", "--"),
         "linear": ("#009E73", "^", "-."), "exponential": ("#CC79A7", "D", ":"),
         "inverse sigmoid": ("#E69F00", "v", "-")}


def draw(ds: Dataset, summary: dict, folder: Path) -> list[str]:
    """Every figure of the study, from the saved data (and summary) only; returns the file names."""
    threshold = summary.get("acc_threshold")
    c8 = summary.get("claims", {}).get("C8", {})
    verdicts, reasons = c8.get("verdicts_by_condition", {}), c8.get("not_tested_reasons", {})
    return [_curves(ds, folder, threshold), _exposure(ds, folder),
            _regimes(ds, folder, verdicts, summary.get("oracle_margin"), reasons),
            _source(ds, folder)]


#: What TF and FR mean, said on every figure that uses them.
TF_FR = ("TF = teacher forcing (trained always fed the true previous output); "
         "FR = free running (always fed its own previous output)")


def _short_reason(reason: str) -> str:
    """A 'not tested' reason of the summary, shortened to fit under a tick ('' if none)."""
    parts = []
    for part in str(reason).split("; "):
        if part.startswith("not at a plateau"):
            who = part.split(":", 1)[1].strip() if ":" in part else ""
            parts.append("no plateau" + (f": {who.replace('schedule', 'sched.')}" if who else ""))
        elif part.startswith("oracle-prefix accuracies differ"):
            parts.append("oracle acc. differ")
        elif part:
            parts.append(part if len(part) <= 24 else part[:22] + "..")
    return "\n".join(parts)


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
    n = ds[N.SEED].size
    curve = C.oracle_curve(ds, m)
    rows = -(-(len(tasks) + 1) // 2)  # small multiples two a row: readable when the page shows them
    fig, grid = plt.subplots(rows, 2, figsize=(11.0, 4.4 * rows), squeeze=False)
    axes = grid.reshape(1, -1)
    for ax in axes[0, len(tasks) + 1:]:
        ax.set_visible(False)
    for t, task in enumerate(tasks):
        ax = axes[0, t]
        x = ds[N.UPDATES][t]
        for r in (C.TF, C.FR):
            col, mk, ls = STYLE[regimes[r]]
            mean, lo, hi = _rate_band(curve[t, r])
            ax.plot(x, mean, ls=ls, marker=mk, ms=4, color=col, label=regimes[r])
            ax.fill_between(x, lo, hi, color=col, alpha=0.2, lw=0)
        if threshold is not None:
            ax.axhline(threshold, color="0.45", lw=1.0, ls=(0, (2, 2)),
                       label=f"{threshold:.0%}: claim C6 counts\nthe updates to reach it")
        ax.axhline(C.CHANCE, color="0.7", lw=0.8, ls=":", label="chance (0.1)")
        ax.set_title(f"C6, {task}: oracle-prefix digit accuracy\n(held-out; mean, 95 % CI, n = {n} seeds)")
        ax.set_xlabel("Adam update")
        ax.set_ylabel("digit accuracy (fraction)")
        ax.set_ylim(0, 1.02)
        integer_axis(ax, "x")
    handles, labels = axes[0, 0].get_legend_handles_labels()  # one legend for the task panels, off the data
    fig.legend(handles, [lb.replace("\n", " ") for lb in labels], loc="outside lower center", ncol=2)
    fig.suptitle(f"{TF_FR};\noracle prefix: the true earlier output digits are fed in when scoring each digit")
    ax = axes[0, len(tasks)]
    frac = ds[N.UPDATES][-1] / ds[N.UPDATES][-1][-1]
    for r in C.SCHEDULED:
        col, mk, ls = STYLE[regimes[r]]
        ax.plot(frac, ds[N.EPS][-1, r], ls=ls, marker=mk, ms=4, color=col, label=regimes[r])
    ax.set_title("scheduled sampling: eps = probability of\nfeeding the TRUE previous output")
    ax.set_xlabel("share of training done")
    ax.set_ylabel("eps (TF: 1, FR: 0)")
    ax.set_ylim(0, 1.03)
    ax.legend(loc="upper right")
    return save_figure(fig, folder, N.FIG_CURVES)


def _exposure(ds, folder) -> str:
    m = C._digits(ds)
    tasks = [str(t) for t in ds[N.TASK]]
    n = ds[N.SEED].size
    pos = ds[N.OUT_POS]
    labels = [str(p) for p in pos[:-1]] + ["EOS"]
    fig, axes = plt.subplots(2, len(tasks), figsize=(4.6 * len(tasks), 7.6), squeeze=False, sharey="row")
    for t, task in enumerate(tasks):
        ax = axes[0, t]
        for arr, name, col, mk, ls in ((N.ACC_ORACLE, "oracle prefixes", "#0072B2", "o", "--"),
                                       (N.ACC_OWN, "own prefixes", "#D55E00", "s", "-")):
            mean, lo, hi = _rate_band(1.0 - ds[arr][t, C.TF])
            ax.plot(pos, mean, ls=ls, marker=mk, ms=4, color=col, label=name)
            ax.fill_between(pos, lo, hi, color=col, alpha=0.2, lw=0)
        ax.set_title(f"C7, {task}, teacher forcing: error rate\nby output position (95 % CI, n = {n} seeds)")
        ax.set_xticks(pos, labels)
        ax.set_xlabel("output position j")
        ax.set_ylabel("error rate (fraction)")
        ax.legend(loc="upper left")
        ax = axes[1, t]
        gap = C.gap_by_position(ds, t, C.TF)
        _errbar(ax, pos, [stats.mean_effect("g", gap[:, p], "", nonfinite="invalid") for p in range(m + 1)],
                fmt="o-", color="#0072B2", ms=4)
        ax.axhline(0, color="k", lw=0.7)
        ax.set_title(f"C7, {task}: exposure gap = accuracy(oracle)\n- accuracy(own) by position (95 % CI)")
        ax.set_xticks(pos, labels)
        ax.set_xlabel("output position j")
        ax.set_ylabel("accuracy gap (fraction)")
    return save_figure(fig, folder, N.FIG_EXPOSURE)


def _regimes(ds, folder, verdicts: dict, margin: float | None = None, reasons: dict | None = None) -> str:
    m = C._digits(ds)
    tasks, regimes = [str(t) for t in ds[N.TASK]], [str(r) for r in ds[N.REGIME]]
    n = ds[N.SEED].size
    own, orc = C.digit_acc(ds[N.ACC_OWN], m), C.digit_acc(ds[N.ACC_ORACLE], m)
    # small multiples, two per row, the last cell holding the legend and the definitions (a 3-wide strip
    # would be shrunk below 10 pt on the page)
    rows = (len(tasks) + 2) // 2
    fig, grid = plt.subplots(rows, 2, figsize=(11.0, 4.6 * rows + 0.6), squeeze=False, sharey=True)
    axes = grid.reshape(1, -1)
    x = np.arange(len(C.SCHEDULED))
    series = (("own prefixes: schedule - TF (votes)", "#D55E00", "s", lambda t, r: (own[t, r], own[t, C.TF])),
              ("oracle prefixes: schedule - TF", "#0072B2", "o", lambda t, r: (orc[t, r], orc[t, C.TF])),
              ("gap(TF) - gap(schedule)", "#009E73", "^",
               lambda t, r: (orc[t, C.TF] - own[t, C.TF], orc[t, r] - own[t, r])))
    for t, task in enumerate(tasks):
        ax = axes[0, t]
        for i, (label, col, mk, pair) in enumerate(series):
            effs = [stats.paired_effect("e", *pair(t, r), "", nonfinite="invalid") for r in C.SCHEDULED]
            _errbar(ax, x + 0.18 * (i - 1), effs, fmt=mk, color=col, label=label, ms=5)
        ax.axhline(0, color="k", lw=0.7)
        if margin is not None:
            ax.axhspan(-margin, margin, color="0.88", lw=0, zorder=0,
                       label=f"+-{margin:g}: oracle fits equal enough to test" if t == 0 else None)
        ticks = []
        for r in C.SCHEDULED:
            cond = f"{task}, {regimes[r]}"
            why = _short_reason((reasons or {}).get(cond, ""))
            ticks.append(regimes[r] + ("\nnot tested" + (":\n" + why if why else "")
                                       if verdicts.get(cond) == "not tested" else ""))
        ax.set_xticks(x, ticks)
        ax.set_title(f"({'abcdef'[t]}) {task}: digit accuracy differences\n(paired, 95 % CI, n = {n} seeds)")
        ax.set_ylabel("difference (fraction)")
        ax.set_xlabel("scheduled-sampling decay")
        ax.yaxis.set_tick_params(labelleft=True)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    key = axes[0, len(tasks)]
    key.axis("off")
    key.set_title("key")
    key.legend(handles, labels, loc="upper left", frameon=False)
    key.text(0.0, 0.52, "\n".join([
        "TF: teacher forcing (always fed the true previous digit).",
        "Schedule: scheduled sampling, fed the true digit with a", "probability that decays over training.",
        "Own / oracle prefixes: scored continuing from the", "model's own / the true earlier digits.",
        "gap(regime) = oracle - own accuracy (exposure gap).",
        "C8 votes only where both are at a plateau and the", "blue difference lies inside the grey band;",
        "else 'not tested' (reason under each schedule)."]), transform=key.transAxes, va="top", fontsize=10)
    for extra in axes[0, len(tasks) + 1:]:
        extra.axis("off")
    fig.suptitle("C8: does scheduled sampling beat teacher forcing when the model reads its own outputs?",
                 fontsize=11)
    return save_figure(fig, folder, N.FIG_REGIMES)


def _source(ds, folder) -> str:
    regimes = [str(r) for r in ds[N.REGIME]]
    n = ds[N.SEED].size
    fig, axes = plt.subplots(1, 3, figsize=(15.0, 4.3))
    ax = axes[0]
    for r in (C.TF, C.FR):
        col, mk, ls = STYLE[regimes[r]]
        mean, lo, hi = _band(ds[N.SRC_CURVE_NLL][r])
        ax.plot(ds[N.SRC_LOG_STEP], mean, ls=ls, marker=mk, ms=4, color=col, label=regimes[r])
        ax.fill_between(ds[N.SRC_LOG_STEP], lo, hi, color=col, alpha=0.15, lw=0)
    ax.set_title(f"source: teacher-forced NLL on held-out\nsamples (mean, 95 % CI, n = {n} seeds)")
    ax.set_xlabel("Adam update")
    ax.set_ylabel("nats per id")
    integer_axis(ax, "x")
    ax.legend()
    ax = axes[1]
    pos = ds[N.POSITION]
    with np.errstate(invalid="ignore", divide="ignore"):
        for arr, cnt, name, col, mk, ls in ((N.SRC_KL_TRUE, N.SRC_N_TRUE, "true prefixes", "#0072B2", "o", "--"),
                                            (N.SRC_KL_OWN, N.SRC_N_OWN, "own prefixes", "#D55E00", "s", "-")):
            per = ds[arr][C.TF].sum(0) / ds[cnt][C.TF].sum(0)
            ok = ds[cnt][C.TF].sum(0) >= 200
            ax.plot(pos[ok], per[ok], ls=ls, marker=mk, ms=3, color=col, label=f"teacher forcing, {name}")
    ax.set_title("source: KL(p_true || p_model) per id by\nposition (pooled over seeds, >= 200 samples)")
    ax.set_xlabel("position t of the predicted id")
    ax.set_ylabel("nats")
    integer_axis(ax, "x")
    ax.legend()
    ax = axes[2]
    x = np.arange(len(regimes))
    _errbar(ax, x, [stats.mean_effect("k", ds[N.SRC_SEQ_KL][r], "", nonfinite="invalid") for r in range(len(regimes))],
            fmt="o", color="#0072B2")
    ax.set_xticks(x, [r.replace(" ", "\n") for r in regimes])
    ax.set_title(f"source: sequence KL (truncated) per\nregime (mean, 95 % CI, n = {n} seeds)")
    ax.set_ylabel("nats per sequence")
    fig.suptitle("teacher forcing: trained fed the true previous id; free running: fed its own; linear / exponential "
                 "/ inverse sigmoid:\nscheduled sampling, fed the true one with a probability decaying that way; "
                 "KL(p_true || p_model); truncated: sequences cut after a fixed\nnumber of ids, so the sequence KL "
                 "is a lower bound of the full one")
    return save_figure(fig, folder, N.FIG_SOURCE)
