"""C8 of the teacher_forcing study (scheduled sampling reduces exposure bias) on inputs whose answers are
known by hand: the per-condition gates at their exact boundaries (an oracle-prefix interval touching
+-margin, own-prefix accuracy exactly at the ceiling, one model only at the ceiling), the clipping of every
interval to [-1, 1] (a difference of two accuracies), the plain counts and the not-tested sentence on
intervals that touch zero exactly; and the whole claim on the committed data.npz with the final
accuracies and learning curves replaced, so that it takes the branches the committed run never reaches:
schedules that help (confirmed), schedules that only lower accuracy (with and without a gap that shrank
because the fit got worse), and a counter-condition seed that diverged."""

import numpy as np
import pytest

from jaxrnn import stats
from jaxrnn.io.results import Dataset
from jaxrnn.studies.teacher_forcing import claims as C
from jaxrnn.studies.teacher_forcing import names as N
from tests.studies.test_committed_results import committed
from tests.studies.test_teacher_forcing import _c8

# ---------------------------------------------------------------------------------------------------------
# c8_condition: gates and intervals
# ---------------------------------------------------------------------------------------------------------


def test_c8_intervals_of_one_seed_are_clipped_to_the_range_of_a_difference_of_accuracies():
    # one seed: the t interval is infinite; a difference of two accuracies lies in [-1, 1], so all three
    # effects (own-prefix difference, gap reduction, oracle-prefix difference) read exactly [-1, 1]
    c = _c8(*(np.array([a]) for a in (0.8, 0.7, 0.9, 0.9)))
    assert [e.ci95 for e in c["effects"]] == [(-1.0, 1.0)] * 3
    assert [e.estimate for e in c["effects"]] == pytest.approx([0.1, 0.1, 0.0])
    assert c["verdict"] == stats.NOT_TESTED and "oracle-prefix accuracies differ" in c["reason"]


def test_c8_a_broken_oracle_accuracy_gives_an_invalid_oracle_effect_not_an_exception():
    rng = np.random.default_rng(3)
    orc = 0.95 + rng.normal(0, 0.002, 10)
    own_tf = 0.80 + rng.normal(0, 0.01, 10)
    orc_s = orc.copy()
    orc_s[4] = np.nan
    c = _c8(own_tf + 0.05, own_tf, orc_s, orc)
    own, red, orc_effect = c["effects"]
    assert np.isfinite(own.estimate) and np.isnan(red.estimate) and np.isnan(orc_effect.estimate)
    assert stats.verdict(orc_effect, +1) == "invalid"
    # the equal-fit gate cannot be shown on a NaN interval, so the condition is not judged
    assert c["verdict"] == stats.NOT_TESTED and "oracle-prefix accuracies differ beyond +-0.02" in c["reason"]


@pytest.mark.parametrize("orc_s,orc_tf", [(0.5, 0.75), (0.75, 0.5)])
def test_c8_oracle_interval_exactly_on_the_margin_counts_as_equal_fit(orc_s, orc_tf):
    # every seed differs by exactly -+0.25 (dyadic: exact in floating point), so the interval is the point
    # -+0.25, which lies in the closed band [-0.25, 0.25]: the fits count as equal and the vote is cast
    own_tf = 0.5 + 0.01 * np.arange(10)
    c = C.c8_condition("t, s", own_tf + 0.125, own_tf, np.full(10, orc_s), np.full(10, orc_tf), True, True,
                       margin=0.25, ceiling=0.99)
    assert c["effects"][2].ci95 == (orc_s - orc_tf, orc_s - orc_tf)
    assert c["reason"] is None and c["verdict"] == "confirmed"


def test_c8_own_accuracy_exactly_at_the_ceiling_in_both_is_at_its_bound():
    at = np.full(10, 0.99)  # == the ceiling 0.99 of the _c8 helper in every seed, in both models
    c = _c8(at, at.copy(), np.full(10, 0.995), np.full(10, 0.995))
    assert c["verdict"] == stats.NOT_TESTED and c["reason"] == "own-prefix accuracy >= 0.99 in every seed of " \
                                                                "both (at its bound)"


def test_c8_only_one_model_at_the_ceiling_is_still_judged():
    rng = np.random.default_rng(4)
    orc = 0.995 + rng.normal(0, 0.001, 10)
    own_tf = 0.90 + rng.normal(0, 0.01, 10)  # below the ceiling: an exposure error is left to reduce
    c = _c8(np.full(10, 0.995), own_tf, orc + rng.normal(0, 0.001, 10), orc)
    assert c["reason"] is None and c["verdict"] == "confirmed"
    assert _c8(own_tf, np.full(10, 0.995), orc, orc)["verdict"] == "refuted"  # the other one at the ceiling


def test_c8_line_without_a_reason_ends_with_the_verdict():
    rng = np.random.default_rng(0)
    orc = 0.95 + rng.normal(0, 0.002, 10)
    own_tf = 0.80 + rng.normal(0, 0.01, 10)
    good = _c8(own_tf + 0.05 + rng.normal(0, 0.01, 10), own_tf, orc + rng.normal(0, 0.002, 10), orc)
    assert good["reason"] is None and good["line"].endswith("-> confirmed")
    gated = _c8(own_tf, own_tf, orc, orc, plateau=(True, False))
    assert gated["line"].endswith("-> not tested (not at a plateau: TF)")


# ---------------------------------------------------------------------------------------------------------
# c8_plain and c8_not_tested_takeaway: intervals that touch zero exactly
# ---------------------------------------------------------------------------------------------------------


def test_c8_plain_counts_an_interval_touching_zero_as_neither_below_nor_above_nor_shrunk():
    own = 0.8 + 0.01 * np.arange(10)
    orc = 0.95 + 0.001 * np.arange(10)
    # identical models: every paired difference is exactly 0, each interval is the point 0
    same = _c8(own, own.copy(), orc, orc.copy())
    assert [e.ci95 for e in same["effects"]] == [(0.0, 0.0)] * 3
    text, only_lowered, fell_tasks = C.c8_plain(["a"], [same], 1)
    assert "a: own-prefix accuracy below TF in 0/1 schedules, above in 0; gap shrank in 0/1." in text
    assert not only_lowered and fell_tasks == []  # nothing lowered anywhere


def test_c8_plain_gap_shrank_with_true_prefix_accuracy_unchanged_is_not_a_fall():
    rng = np.random.default_rng(5)
    own_tf = 0.8 + rng.normal(0, 0.01, 10)
    orc = 0.95 + rng.normal(0, 0.002, 10)
    # the schedule is better with its own prefixes, exactly as good with true ones: the gap shrank, the
    # oracle-prefix interval is the point 0 (not below 0)
    c = _c8(own_tf + 0.05 + rng.normal(0, 0.01, 10), own_tf, orc, orc.copy())
    assert c["effects"][1].ci95[0] > 0 and c["effects"][2].ci95 == (0.0, 0.0)
    text, only_lowered, fell_tasks = C.c8_plain(["a"], [c], 1)
    assert "gap shrank in 1/1, with true-prefix accuracy falling in 0 of them" in text
    assert fell_tasks == [] and not only_lowered


def test_c8_not_tested_takeaway_when_equal_fits_only_miss_the_plateau_gate():
    own = 0.8 + 0.01 * np.arange(10)
    orc = 0.95 + 0.001 * np.arange(10)
    # identical models (intervals exactly [0, 0]) that are not at a plateau: no fit is worse (the
    # oracle interval does not lie below 0) and neither accuracy moved (0 lies in both closed intervals)
    c = _c8(own, own.copy(), orc, orc.copy(), plateau=(False, True))
    assert c["verdict"] == stats.NOT_TESTED
    text = C.c8_not_tested_takeaway(["sort"], [c], 1, "800")
    assert text.startswith("Not tested: no (task, schedule) condition met the plateau and equal-fit gates; ")
    assert text.endswith("; on sorting, with equal fits, the schedules changed nothing.")


# ---------------------------------------------------------------------------------------------------------
# the whole claim on the committed data with constructed accuracies
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tf_committed():
    ds, _, cfg = committed("teacher_forcing")
    return ds, cfg


def _replaced(ds, **arrays) -> Dataset:
    """A copy of ``ds`` with the named arrays (by their N constant's value) replaced, dims kept."""
    new = Dataset(dict(ds.axes), dict(ds.arrays))
    for name, values in arrays.items():
        new.add(name, ds.dims(name), values)
    return new


def _constructed(ds, d_own, d_orc, seed=0):
    """``ds`` with final digit accuracies (task, regime, seed, output_position) built from per (task,
    regime) shifts ``d_own``/``d_orc`` (schedule - TF, 0 for TF and free running) around 0.80 with own and
    0.95 with true prefixes, seed effects shared by all regimes (paired), and every learning curve at a
    plateau (flat from log step 10 on)."""
    T, R, K, P, O = ds[N.CURVE_ACC_ORACLE].shape
    rng = np.random.default_rng(seed)
    own = 0.80 + rng.normal(0, 0.01, (1, 1, K)) + rng.normal(0, 0.01, (T, R, K)) + d_own[:, :, None]
    orc = 0.95 + rng.normal(0, 0.01, (1, 1, K)) + rng.normal(0, 0.002, (T, R, K)) + d_orc[:, :, None]
    flat = np.minimum(0.95, 0.1 * ds[N.LOG_STEP])  # reaches 0.95 at step 9.5: q3 == q4 exactly
    return _replaced(ds, **{
        N.ACC_OWN: np.repeat(own[..., None], O, -1), N.ACC_ORACLE: np.repeat(orc[..., None], O, -1),
        N.CURVE_ACC_ORACLE: np.broadcast_to(flat[None, None, None, :, None], (T, R, K, P, O))})


def _shifts(ds, per_task_own, per_task_orc):
    """(task, regime) shifts: each task's value for the three schedules, 0 for TF and free running."""
    T, R = ds[N.ACC_OWN].shape[:2]
    d_own, d_orc = np.zeros((T, R)), np.zeros((T, R))
    d_own[:, list(C.SCHEDULED)] = np.asarray(per_task_own)[:, None]
    d_orc[:, list(C.SCHEDULED)] = np.asarray(per_task_orc)[:, None]
    return d_own, d_orc


def test_c8_schedules_that_help_with_equal_fits_confirm_the_claim(tf_committed):
    ds, cfg = tf_committed
    # every schedule +0.05 own-prefix accuracy (seed sd of the difference ~0.014: interval ~[0.04, 0.06]),
    # oracle-prefix accuracy equal (difference sd ~0.003, interval well inside +-0.02), all at a plateau
    c8 = C.claims(_constructed(ds, *_shifts(ds, [0.05] * 3, [0.0] * 3)), cfg)["C8"]
    assert c8["verdict"] == "confirmed"
    assert set(c8["verdicts_by_condition"].values()) == {"confirmed"} and c8["not_tested_reasons"] == {}
    # the key number: the first three judged conditions (all nine are judged), reversal's
    parts = c8["key_number"].split("; ")
    assert [p.split(":")[0] for p in parts] == ["reverse, linear", "reverse, exponential", "reverse, inverse sigmoid"]
    assert c8["takeaway"] == ("A smaller exposure gap is no proof that scheduled sampling fixes exposure bias: "
                              "compare own-prefix accuracy, and check that accuracy with true prefixes did not fall.")
    assert not any("Teacher forcing was not at a plateau" in c for c in c8["caveats"])  # all TF at a plateau
    assert len(c8["caveats"]) == 2


def test_c8_schedules_that_only_lower_accuracy_name_where_the_gap_shrank_by_a_worse_fit(tf_committed):
    ds, cfg = tf_committed
    # reversal: equal fits, own-prefix -0.05 -> refuted (judged). Sorting and running sums: own -0.05 with
    # true prefixes -0.15 -> not judged (fits differ), gap(TF) - gap(schedule) = -0.05 + 0.15 = +0.10: the
    # gap shrank in every schedule only because true-prefix accuracy fell
    c8 = C.claims(_constructed(ds, *_shifts(ds, [-0.05] * 3, [0.0, -0.15, -0.15])), cfg)["C8"]
    assert c8["verdict"] == "refuted"
    assert c8["takeaway"].startswith("In these small GRUs scheduled sampling did not raise accuracy when a model "
                                     "reads its own outputs, it lowered it; ")
    assert c8["takeaway"].endswith("; where the exposure gap shrank clearly (sort, running sum), it was because "
                                   "accuracy with true prefixes fell.")
    # only the judged (reversal) conditions give the key number
    assert [p.split(":")[0] for p in c8["key_number"].split("; ")] == [
        "reverse, linear", "reverse, exponential", "reverse, inverse sigmoid"]


def test_c8_schedules_that_only_lower_accuracy_without_a_shrunk_gap_say_just_that(tf_committed):
    ds, cfg = tf_committed
    # equal fits everywhere, own-prefix -0.05: all refuted, the gap grew (reduction ~ -0.05), none fell
    c8 = C.claims(_constructed(ds, *_shifts(ds, [-0.05] * 3, [0.0] * 3)), cfg)["C8"]
    assert c8["verdict"] == "refuted"
    assert c8["takeaway"] == ("In these small GRUs scheduled sampling did not raise accuracy when a model reads "
                              "its own outputs, it lowered it.")


def test_c8_a_diverged_counter_condition_seed_is_reported_invalid_not_raised(tf_committed):
    ds, cfg = tf_committed
    kl_own = ds[N.SRC_KL_OWN].astype(np.float64)
    kl_own[C.SCHEDULED[0], 3, 5] = np.nan  # one seed of the linear schedule on the source
    c8 = C.claims(_replaced(ds, **{N.SRC_KL_OWN: kl_own}), cfg)["C8"]
    (src,) = [e for e in c8["effects"] if e["name"] == "source (counter), linear: KL gap reduction"]
    assert np.isnan(src["estimate"])
    assert "There KL gap reduction: linear nan [nan, nan] (n=10, nats per id); exponential " in c8["evidence"]
    assert c8["verdict"] == stats.NOT_TESTED  # the counter-condition is never voted: the committed verdict


def test_c8_names_each_tasks_own_update_count(tf_committed):
    """Running sums train for ``sum_steps``, the other tasks for ``steps``: the takeaway gives the range, the
    caveat the count of the tasks it names (reversal and sorting, not at a plateau in the committed run)."""
    ds, cfg = tf_committed
    tasks = list(ds[N.TASK])
    n = int(ds[N.UPDATES][0][-1])
    assert C.updates_text(ds, range(len(tasks))) == f"{n}"  # the committed run: steps == sum_steps
    three = _replaced(ds, **{N.UPDATES: ds[N.UPDATES] * np.asarray([3, 1, 2])[:, None]})
    assert C.updates_text(three, [0, 1, 2]) == f"{n} to {3 * n}"  # the range: smallest to largest
    assert C.updates_text(three, [2]) == f"{2 * n}"
    updates = ds[N.UPDATES].copy()
    updates[tasks.index("running_sum")] *= 2
    out = C.claims(_replaced(ds, **{N.UPDATES: updates}), cfg)["C8"]
    assert out["verdict"] == "not tested"
    assert f"after {n} to {2 * n} updates" in out["takeaway"]
    assert out["caveats"][-1].startswith("Teacher forcing was not at a plateau on reversal and sorting after "
                                         f"{n} updates")
