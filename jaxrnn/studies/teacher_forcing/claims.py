"""The claims of the teacher_forcing study (C6-C8): effects with 95 % intervals over seeds, verdicts by
``jaxrnn.stats``, from the Dataset alone.

Conditions that decide: three conditional tasks with deterministic targets (Bengio et al. 2015's
setting): digit reversal and sorting (the output is a function of input and position) and running sums
mod 10 (each output is the previous output plus one digit: the fed-back token carries the state).
Counter-condition, reported and never voted: the stochastic source (Huszar 2015).

Token accuracy = greedy prediction equals the target, averaged over the m digit positions (EOS
excluded). Own prefixes = the model reads its own previous outputs (deployment); oracle prefixes = it
reads the true ones. Exposure gap = oracle-prefix accuracy - own-prefix accuracy. Whole-sequence
accuracy is the same event under both prefixes (greedy, deterministic targets), so it never votes here.
"""

from __future__ import annotations

import numpy as np

from jaxrnn import stats
from jaxrnn.studies.teacher_forcing import names as N

TEST = "tests/studies/test_teacher_forcing.py"
TF, FR = 0, 1
SCHEDULED = (2, 3, 4)
CHANCE = 0.1  # a digit guessed uniformly
COUNTER = ("Counter-condition (not voted): a random 4-state source, where the target does not depend on "
           "the fed token and scheduled sampling is inconsistent (Huszar 2015).")


def _digits(ds) -> int:
    return int(ds[N.OUT_POS][-1]) - 1


def digit_acc(arr, m: int):
    """Mean over the m digit positions (EOS excluded) of an accuracy array (..., output_position)."""
    return arr[..., :m].mean(-1)


def gap_by_position(ds, t: int, r: int):
    """(seed, output_position): accuracy with oracle prefixes - with own prefixes."""
    return ds[N.ACC_ORACLE][t, r] - ds[N.ACC_OWN][t, r]


def slope(y, x):
    """Least-squares slope of y (..., len(x)) on x."""
    xc = x - x.mean()
    return ((y - y.mean(-1, keepdims=True)) * xc).sum(-1) / (xc ** 2).sum()


def steps_to(curve, log_steps, threshold: float):
    """First logged step at which curve (..., log_step) >= threshold; NaN where never reached."""
    hit = curve >= threshold
    first = np.where(hit.any(-1), np.argmax(hit, axis=-1), -1)
    return np.where(first >= 0, log_steps[np.maximum(first, 0)], np.nan)


def source_rates(ds):
    """Per (regime, seed): per-id KL on true prefixes, on own (still possible) prefixes, pooled over
    positions by occurrence, and the share of own-sample positions whose prefix is already impossible."""
    kl_true = ds[N.SRC_KL_TRUE].sum(-1) / ds[N.SRC_N_TRUE].sum(-1)
    kl_own = ds[N.SRC_KL_OWN].sum(-1) / ds[N.SRC_N_OWN].sum(-1)
    imp = ds[N.SRC_N_IMPOSSIBLE].sum(-1) / (ds[N.SRC_N_OWN].sum(-1) + ds[N.SRC_N_IMPOSSIBLE].sum(-1))
    return kl_true, kl_own, imp


def oracle_curve(ds, m: int):
    """(task, regime, seed, log_step): held-out oracle-prefix digit accuracy during training."""
    return digit_acc(ds[N.CURVE_ACC_ORACLE], m)


def at_plateau(curve) -> bool:
    """``stats.plateaued`` on the seed-mean curve (seed, log_step)."""
    return stats.plateaued(np.asarray(curve).mean(0))


def _d(e: stats.Effect) -> str:
    return stats.describe(e)


# ---------------------------------------------------------------------------
# C6: learning curves, teacher forcing vs free running
# ---------------------------------------------------------------------------

#: C6's smallest effects of interest (equivalence margins of stats.verdict): an area difference below
#: 0.05 accuracy (half a digit in ten, averaged over training) or an updates-to-threshold difference
#: below 10 % of the training budget is too small to call teacher forcing faster.
AUC_MARGIN = 0.05
UPDATES_MARGIN_FRAC = 0.10
MARGIN_WHY = (f"margins (smallest effect of interest): area +-{AUC_MARGIN:g} accuracy, updates "
              f"+-{UPDATES_MARGIN_FRAC:.0%} of the training budget; a smaller speed-up would not change how one "
              f"trains, so an interval inside them counts as no effect (refuted)")


def c6_condition(task: str, curve_tf, curve_fr, updates, threshold: float, budget: int,
                 auc_margin: float = AUC_MARGIN, updates_margin: float | None = None) -> dict:
    """One task of C6 from the oracle-prefix digit-accuracy curves (seed, log_step) of the two regimes
    on the same seeds. Votes: the area under the curve (mean over the curve points), TF - FR, and the
    updates to ``threshold``, FR - TF (a run that never gets there counts as ``budget``: a lower bound
    on the difference); both claimed > 0, each with its equivalence margin (``auc_margin`` in
    accuracy; ``updates_margin`` in updates, by default ``UPDATES_MARGIN_FRAC * budget``): an interval
    inside the margin refutes. Not tested: neither regime beats chance (0.1) at the end, or (for the
    updates) no run of either regime reaches the threshold."""
    if updates_margin is None:
        updates_margin = UPDATES_MARGIN_FRAC * budget
    auc = stats.paired_effect(f"{task}: area under the oracle-prefix accuracy curve, TF - FR", curve_tf.mean(-1),
                              curve_fr.mean(-1), "accuracy", nonfinite="invalid", bounds=(-1, 1))
    st_tf, st_fr = steps_to(curve_tf, updates, threshold), steps_to(curve_fr, updates, threshold)
    n_tf, n_fr = int(np.isfinite(st_tf).sum()), int(np.isfinite(st_fr).sum())
    cens = lambda s: np.where(np.isfinite(s), s, budget)  # noqa: E731
    ups = stats.paired_effect(f"{task}: updates to {threshold:.0%} oracle-prefix accuracy, FR - TF (never: "
                              f"{budget})", cens(st_fr), cens(st_tf), "updates", nonfinite="invalid")
    learns = [stats.beats_trivial(stats.mean_effect("end", c[:, -1] - CHANCE, "", nonfinite="invalid"))
              for c in (curve_tf, curve_fr)]
    no_learning = None if any(learns) else "neither regime beats chance (0.1) at the end of training"
    never = None if n_tf + n_fr else f"no run of either regime reaches {threshold:.0%}"
    if np.all(st_tf == updates[0]) and np.all(st_fr == updates[0]):
        never = f"every run of both regimes is past {threshold:.0%} at the first curve point (at its bound)"
    vs = {"area": stats.powered_verdict(auc, +1, no_learning, margin=auc_margin),
          "updates": stats.powered_verdict(ups, +1, no_learning or never, margin=updates_margin)}
    reason = no_learning or (never and f"updates: {never}")
    return {"verdict": stats.combine(vs), "effects": [auc, ups], "reached": (n_tf, n_fr), "reason": reason,
            "line": (f"{task}: area TF - FR {_d(auc)}; updates FR - TF {_d(ups)}, reached by {n_tf} TF and "
                     f"{n_fr} FR seeds -> {stats.combine(vs)}" + (f" ({reason})" if reason else ""))}


TASK_WORDS = {"reverse": "reversal", "sort": "sorting", "running_sum": "running sums"}


def task_words(tasks) -> str:
    """'reversal', 'reversal and sorting', 'reversal, sorting and running sums'."""
    words = [TASK_WORDS.get(t, t.replace("_", " ")) for t in tasks]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def c6_takeaway(verdicts: dict) -> str:
    """C6's sentence from the per-task verdicts (confirmed: faster with TF; refuted: no difference)."""
    faster = [t for t, v in verdicts.items() if v == "confirmed"]
    same = [t for t, v in verdicts.items() if v == "refuted"]
    undecided = [t for t, v in verdicts.items() if v not in ("confirmed", "refuted")]
    parts = ([f"made training much faster on {task_words(faster)}"] if faster else []) + \
            ([f"made no difference on {task_words(same)}"] if same else [])
    if not parts:
        return "No task here showed teacher forcing's speed-up or its absence clearly (see the evidence)."
    text = "Judged with true prefixes, teacher forcing " + " and ".join(parts)
    if faster and same:
        text += ": its benefit depends on the task (why was not tested here)"
    if undecided:
        text += f"; {task_words(undecided)} did not decide"
    return text + "."


def _c6(ds, cfg, m, tasks, conditions, src_kl) -> dict:
    curve = oracle_curve(ds, m)
    conds, effects, vs = [], [], {}
    for t, task in enumerate(tasks):
        c = c6_condition(task, curve[t, TF], curve[t, FR], ds[N.UPDATES][t], cfg.acc_threshold,
                         int(ds[N.UPDATES][t][-1]))
        conds.append(c)
        effects += c["effects"]
        vs[task] = c["verdict"]
    src = stats.paired_effect("source (counter): sequence KL, FR - TF", src_kl[FR], src_kl[TF], "nats",
                              nonfinite="invalid")
    verdict = stats.combine(vs)
    rs = tasks.index("running_sum") if "running_sum" in tasks else 0
    n_seeds = ds[N.SEED].size
    short_of_threshold = [(t, c) for t, c in zip(tasks, conds) if c["reached"][1] < n_seeds]  # FR censored
    return {
        "verdict": verdict,
        "rule": stats.RULE + " C6 per task: the area under the held-out oracle-prefix digit-accuracy curve, "
                             "TF - FR, and the updates to the threshold accuracy, FR - TF, paired over seeds "
                             "(both claimed > 0); combined per task, then over the three tasks. C6 "
                             + MARGIN_WHY + ".",
        "effects": [e.to_dict() for e in effects + [src]],
        "key_number": f"{tasks[rs]}: {_d(conds[rs]['effects'][0])}",
        "evidence": " | ".join(c["line"] for c in conds) + f" | {MARGIN_WHY[0].upper() + MARGIN_WHY[1:]}."
                    f" | {COUNTER} There FR - TF sequence KL {_d(src)}.",
        "conditions": conditions,
        "figure": f"teacher_forcing/{N.FIG_CURVES}",
        "test": f"{TEST}::test_c6_verdicts_on_constructed_curves",
        "takeaway": c6_takeaway(vs),
        "what_was_run": (f"GRUs learned digit reversal, sorting and running sums mod 10 with teacher forcing and "
                         f"with free running, {ds[N.SEED].size} paired seeds each. We scored the held-out accuracy "
                         f"with true previous outputs during training and compared the learning curves."),
        "caveats": ["Small GRUs and 6-digit strings, not translation-scale models.",
                    *([f"Free running reached {cfg.acc_threshold:.0%} in only " + " and ".join(
                        f"{c['reached'][1]} of {n_seeds} seeds on {task_words([t])}" for t, c in short_of_threshold)
                       + f": its updates-to-{cfg.acc_threshold:.0%} is a lower bound there."]
                      if short_of_threshold else []),
                    "The voted measure reads true prefixes (TF's training condition); the running-sum learning "
                    "rate was checked on 3 tuning seeds, not tuned for FR on its own."],
    }


# ---------------------------------------------------------------------------
# C7: exposure bias exists
# ---------------------------------------------------------------------------

def c7_condition(task: str, gap, m: int) -> dict:
    """One task of C7 from the teacher-forced model's exposure gap (seed, output_position), oracle - own
    prefixes: its mean over the m digits and its least-squares slope over positions 1..m, each claimed
    > 0 (reading its own outputs costs accuracy, and more the further along the output), combined."""
    j = np.arange(1, m + 1, dtype=float)
    key = stats.mean_effect(f"{task}: teacher forcing, exposure gap (oracle - own prefixes), mean over the "
                            f"{m} digits", gap[:, :m].mean(1), "accuracy", nonfinite="invalid")
    grow = stats.mean_effect(f"{task}: teacher forcing, slope of the gap over digit positions 1..{m}",
                             slope(gap[:, :m], j), "accuracy per position", nonfinite="invalid")
    v = stats.combine({"gap": stats.verdict(key, +1), "growth": stats.verdict(grow, +1)})
    by_position = [stats.mean_effect(f"{task}: gap at output position {p + 1}", gap[:, p], "accuracy",
                                     nonfinite="invalid") for p in range(gap.shape[1])]
    return {"verdict": v, "effects": [key, grow], "by_position": by_position,
            "line": f"{task}: gap {_d(key)}, slope {_d(grow)} -> {v}"}


def _c7(ds, cfg, m, tasks, conditions, src_gap, imp) -> dict:
    effects, vs, parts, by_position = [], {}, [], {}
    for t, task in enumerate(tasks):
        c = c7_condition(task, gap_by_position(ds, t, TF), m)
        effects += c["effects"]
        by_position[task] = [e.to_dict() for e in c["by_position"]]
        vs[task] = c["verdict"]
        parts.append(c["line"])
    src = stats.mean_effect("source (counter): TF, per-id KL on own - on true prefixes", src_gap[TF], "nats per id",
                            nonfinite="invalid")
    src_imp = stats.mean_effect("source (counter): TF, share of own-sample ids after an impossible prefix",
                                imp[TF], "share of ids", nonfinite="invalid")
    effects += [src, src_imp]
    verdict = stats.combine(vs)
    rs = tasks.index("running_sum") if "running_sum" in tasks else 0
    return {
        "verdict": verdict,
        "rule": stats.RULE + " C7 per task: the teacher-forced model's exposure gap (oracle - own prefixes, digit "
                             "accuracy; claimed > 0) and its slope over output positions (claimed > 0: errors "
                             "accumulate), combined per task, then over the three tasks.",
        "effects": [e.to_dict() for e in effects],
        "effects_by_position": by_position,
        "key_number": f"{tasks[rs]}: {_d(effects[2 * rs])}",
        "evidence": (" | ".join(parts) + f" | {COUNTER} There KL own - true prefixes {_d(src)}; own samples "
                     f"impossible at {_d(src_imp)} of their ids."),
        "conditions": conditions,
        "figure": f"teacher_forcing/{N.FIG_EXPOSURE}",
        "test": f"{TEST}::test_c7_verdicts_on_constructed_gaps",
        "takeaway": "Reading its own outputs cost the teacher-forced models accuracy: clearly on reversal and "
                    "running sums, hardly at all on sorting; on running sums part of that cost is the task "
                    "carrying a mistake forward.",
        "what_was_run": (f"Each teacher-forced GRU decoded {cfg.n_test} held-out examples per seed twice: reading "
                         f"the true previous outputs, and reading its own greedy outputs. The difference in "
                         f"accuracy per output position is the exposure gap."),
        "caveats": ["Greedy decoding only.", "Where a model is near 100 % both ways the gap is near 0.",
                    "On running sums the target after an own error is still the true sum, so even a perfect "
                    "model that uses the fed token is then wrong: the gap there mixes error propagation and "
                    "input shift."],
    }


# ---------------------------------------------------------------------------
# C8: scheduled sampling reduces exposure bias
# ---------------------------------------------------------------------------

def c8_condition(cond: str, own_s, own_tf, orc_s, orc_tf, plateau_s: bool, plateau_tf: bool, margin: float,
                 ceiling: float) -> dict:
    """One (task, schedule) of C8, paired over seeds (arrays (seed,) of digit accuracy).

    Vote: own-prefix accuracy, schedule - TF (claimed > 0). Beside it: the exposure-gap reduction
    gap(TF) - gap(schedule) and the oracle-prefix difference. Not tested (reason in words) when either
    model is not at a plateau, when the oracle-prefix difference's 95 % interval leaves [-margin, margin]
    (the fits differ, so own-prefix accuracy would measure fit, not exposure), or when both models reach
    ``ceiling`` own-prefix accuracy in every seed (no exposure error left to reduce)."""
    own = stats.paired_effect(f"{cond}: own-prefix digit accuracy, schedule - TF", own_s, own_tf, "accuracy",
                              nonfinite="invalid", bounds=(-1, 1))
    red = stats.paired_effect(f"{cond}: exposure-gap reduction, gap(TF) - gap(schedule)", orc_tf - own_tf,
                              orc_s - own_s, "accuracy", nonfinite="invalid", bounds=(-1, 1))
    orc = stats.paired_effect(f"{cond}: oracle-prefix digit accuracy, schedule - TF", orc_s, orc_tf, "accuracy",
                              nonfinite="invalid", bounds=(-1, 1))
    reasons = []
    if not (plateau_s and plateau_tf):
        reasons.append("not at a plateau: " + ", ".join(n for n, ok in (("schedule", plateau_s), ("TF", plateau_tf))
                                                        if not ok))
    lo, hi = orc.ci95
    if not (-margin <= lo and hi <= margin):
        reasons.append(f"oracle-prefix accuracies differ beyond +-{margin:g}")
    if np.all(np.asarray(own_s) >= ceiling) and np.all(np.asarray(own_tf) >= ceiling):
        reasons.append(f"own-prefix accuracy >= {ceiling:g} in every seed of both (at its bound)")
    reason = "; ".join(reasons) or None
    v = stats.powered_verdict(own, +1, reason)
    line = f"{cond}: own {_d(own)}, gap reduction {_d(red)}, oracle {_d(orc)} -> {v}" + (f" ({reason})" if reason
                                                                                          else "")
    return {"verdict": v, "effects": [own, red, orc], "reason": reason, "line": line}


def c8_plain(tasks, conds, n_sched: int) -> tuple[str, bool, list]:
    """Per task, in words: in how many schedules own-prefix accuracy (schedule - TF) lies below / above TF
    (whole 95 % interval), and in how many the exposure gap shrank (reduction interval > 0), of which how
    many with oracle-prefix accuracy falling (interval < 0). Also whether no schedule raised own-prefix
    accuracy anywhere while at least one lowered it, and the tasks where every schedule shrank the gap while
    true-prefix accuracy fell. ``conds`` in task-major order, ``n_sched`` per task."""
    parts, lower_any, higher_any, fell_tasks = [], False, False, []
    for t, task in enumerate(tasks):
        cs = conds[t * n_sched:(t + 1) * n_sched]
        lower = sum(c["effects"][0].ci95[1] < 0 for c in cs)
        higher = sum(c["effects"][0].ci95[0] > 0 for c in cs)
        shrank = [c for c in cs if c["effects"][1].ci95[0] > 0]
        fell = sum(c["effects"][2].ci95[1] < 0 for c in shrank)
        lower_any, higher_any = lower_any or lower > 0, higher_any or higher > 0
        if shrank and fell == len(cs):
            fell_tasks.append(task)
        parts.append(f"{task}: own-prefix accuracy below TF in {lower}/{len(cs)} schedules, above in {higher}; "
                     f"gap shrank in {len(shrank)}/{len(cs)}" +
                     (f", with true-prefix accuracy falling in {fell} of them" if shrank else ""))
    return "Plainly (whatever the gates): " + "; ".join(parts) + ".", lower_any and not higher_any, fell_tasks


def updates_text(ds, task_rows) -> str:
    """The updates run by these tasks (rows of ``ds[N.UPDATES]``): "800", or "800 to 1500" where they differ
    (running sums train for ``sum_steps``, the other tasks for ``steps``)."""
    counts = sorted({int(ds[N.UPDATES][t][-1]) for t in task_rows})
    return f"{counts[0]}" if len(counts) == 1 else f"{counts[0]} to {counts[-1]}"


def c8_not_tested_takeaway(tasks, conds, n_sched: int, updates: str) -> str:
    """C8's sentence when no condition could be judged: how many conditions fit worse with true prefixes
    (oracle-prefix interval below 0) and the tasks where neither own- nor oracle-prefix accuracy moved."""
    worse = sum(c["effects"][2].ci95[1] < 0 for c in conds)
    still = [task for t, task in enumerate(tasks)
             if all(c["effects"][k].ci95[0] <= 0 <= c["effects"][k].ci95[1]
                    for c in conds[t * n_sched:(t + 1) * n_sched] for k in (0, 2))]
    text = "Not tested: "
    if worse:
        text += (f"after {updates} updates the scheduled models fit worse than teacher forcing even with true "
                 f"prefixes ({worse} of {len(conds)} conditions), so their lower accuracy on their own outputs is "
                 "slow fitting, not exposure bias")
    else:
        text += "no (task, schedule) condition met the plateau and equal-fit gates"
    if still:
        text += f"; on {task_words(still)}, with equal fits, the schedules changed nothing"
    return text + "."


def _c8(ds, cfg, m, tasks, regimes, conditions, src_gap) -> dict:
    curve = oracle_curve(ds, m)
    own, orc = digit_acc(ds[N.ACC_OWN], m), digit_acc(ds[N.ACC_ORACLE], m)
    conds, effects, vs = [], [], {}
    for t, task in enumerate(tasks):
        for r in SCHEDULED:
            name = f"{task}, {regimes[r]}"
            c = c8_condition(name, own[t, r], own[t, TF], orc[t, r], orc[t, TF], at_plateau(curve[t, r]),
                             at_plateau(curve[t, TF]), cfg.oracle_margin, cfg.ceiling)
            conds.append(c)
            effects += c["effects"]
            vs[name] = c["verdict"]
    plateaus = "; ".join(
        f"{task} after {int(ds[N.UPDATES][t][-1])} updates: " +
        (", ".join(regimes[r] for r in range(len(regimes)) if at_plateau(curve[t, r])) or "none")
        for t, task in enumerate(tasks))
    src = [stats.paired_effect(f"source (counter), {regimes[r]}: KL gap reduction", src_gap[TF], src_gap[r],
                               "nats per id", nonfinite="invalid") for r in SCHEDULED]
    verdict = stats.combine(vs)
    tf_unsettled = [t for t in range(len(tasks)) if not at_plateau(curve[t, TF])]
    plain, only_lowered, fell_tasks = c8_plain(tasks, conds, len(SCHEDULED))
    fell_text = (f"; where the exposure gap shrank clearly ({', '.join(t.replace('_', ' ') for t in fell_tasks)}), "
                 "it was because accuracy with true prefixes fell" if fell_tasks else "")
    tested = [c for c in conds if c["verdict"] != stats.NOT_TESTED]
    key = tested if tested else [c for c in conds if c["effects"][0].name.startswith("running_sum")] or conds
    return {
        "verdict": verdict,
        "rule": stats.RULE + (f" C8 per (task, schedule), paired over seeds: own-prefix digit accuracy, schedule - "
                              f"TF (claimed > 0), judged only where both are at a plateau, their oracle-prefix "
                              f"accuracies are equal within +-{cfg.oracle_margin:g} (95 % interval) and own-prefix "
                              f"accuracy is below {cfg.ceiling:g}; the exposure-gap reduction is reported beside it."),
        "effects": [e.to_dict() for e in effects + src],
        "verdicts_by_condition": dict(vs),
        "not_tested_reasons": {c["effects"][0].name.split(":")[0]: c["reason"] for c in conds if c["reason"]},
        "key_number": "; ".join(f"{c['effects'][0].name.split(':')[0]}: {_d(c['effects'][0])}" for c in key[:3]),
        "evidence": f"{plain} | At a plateau: {plateaus} | " + " | ".join(c["line"] for c in conds) +
                    f" | {COUNTER} There KL gap reduction: " +
                    "; ".join(f"{regimes[r]} {_d(e)}" for r, e in zip(SCHEDULED, src)) + ".",
        "conditions": conditions,
        "figure": f"teacher_forcing/{N.FIG_REGIMES}",
        "test": f"{TEST}::test_c8_verdicts_on_constructed_data",
        "takeaway": (c8_not_tested_takeaway(tasks, conds, len(SCHEDULED), updates_text(ds, range(len(tasks))))
                     if verdict == stats.NOT_TESTED else
                     "In these small GRUs scheduled sampling did not raise accuracy when a model reads its own "
                     f"outputs, it lowered it{fell_text}." if only_lowered else
                     "A smaller exposure gap is no proof that scheduled sampling fixes exposure bias: compare "
                     "own-prefix accuracy, and check that accuracy with true prefixes did not fall."),
        "what_was_run": (f"The three scheduled-sampling decays of Bengio et al. ran over the whole training down to "
                         f"eps = {cfg.floor:g}, on the same seeds as teacher forcing. We compared own-prefix digit "
                         f"accuracy with teacher forcing where both had plateaued and fit equally well."),
        "caveats": ["Judged only where schedule and teacher forcing fit equally well with true prefixes and "
                    "both are at a plateau; the plain own-prefix numbers are in the evidence.",
                    "Decays reach the floor only at the last update, so eps still moves late in training: this "
                    "biases the plateau test against the schedules.",
                    *([f"Teacher forcing was not at a plateau on {task_words([tasks[t] for t in tf_unsettled])} "
                       f"after {updates_text(ds, tf_unsettled)} updates (the paper preset trains longer)."]
                      if tf_unsettled else [])],
    }


def claims(ds, cfg) -> dict:
    m = _digits(ds)
    tasks = [str(t) for t in ds[N.TASK]]
    regimes = [str(r) for r in ds[N.REGIME]]
    n = int(ds[N.SEED].size)
    updates = {t: int(ds[N.UPDATES][i][-1]) for i, t in enumerate(tasks)}
    conditions = (f"decide: reverse, sort (GRU width {cfg.width}, {updates.get('reverse')} updates), running_sum "
                  f"(width {cfg.sum_width}, {updates.get('running_sum')} updates, batch {cfg.sum_batch}); m = {m}, "
                  f"batch "
                  f"{cfg.batch}, Adam, "
                  f"{n} paired seeds; decays 1 -> {cfg.floor:g} over {cfg.decay_end:.0%} of training; greedy; "
                  f"{cfg.n_test} test examples per seed; plateau rule of jaxrnn.stats on the seed-mean oracle-prefix "
                  f"curve. Counter-condition: the stochastic source.")
    kl_true, kl_own, imp = source_rates(ds)
    src_gap = kl_own - kl_true
    src_kl = ds[N.SRC_SEQ_KL]
    return {"C6": _c6(ds, cfg, m, tasks, conditions, src_kl),
            "C7": _c7(ds, cfg, m, tasks, conditions, src_gap, imp),
            "C8": _c8(ds, cfg, m, tasks, regimes, conditions, src_gap)}
