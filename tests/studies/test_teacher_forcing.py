"""The teacher_forcing study: source metrics against exact enumeration (unfinished and impossible
samples kept), claim helpers against plain loops, config checks, the quick config end to end."""

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn import stats
from jaxrnn.io.config import ConfigError
from jaxrnn.io.results import Dataset
from jaxrnn.io.runner import run as run_study
from jaxrnn.models import lm
from jaxrnn.models import sources as S
from jaxrnn.studies import teacher_forcing
from jaxrnn.studies.teacher_forcing import claims as C
from jaxrnn.studies.teacher_forcing import compute
from jaxrnn.studies.teacher_forcing import names as N
from jaxrnn.studies.teacher_forcing.config import REGIMES, Config
from tests.studies.test_committed_results import committed, select


def test_conditional_matches_walking_the_automaton():
    src = S.random_source(jax.random.key(2), 4, 3)
    prefix = [0, 2, 1, 1]
    state = 0
    for tok in prefix:
        state = int(src.next_state[state, tok])
    got = np.asarray(S.conditional(src, jnp.array(prefix + [3, 3]), 4))
    np.testing.assert_allclose(got, np.exp(np.asarray(src.emit_logp[state])), rtol=1e-6)
    assert got.sum() == pytest.approx(1.0, abs=1e-5)


def _exact_truncated_kl(p, src, max_len, vocab):
    """KL of the source from the model on sequences cut after max_len ids, by enumerating every live
    prefix: sum over prefixes y_<t (t < max_len, no EOS yet) of p_true(y_<t) KL_t(y_<t). float64."""
    emit = np.exp(np.asarray(src.emit_logp, np.float64))
    total = 0.0
    for t in range(max_len):
        for prefix in itertools.product(range(vocab), repeat=t):
            state, prob = 0, 1.0
            for tok in prefix:
                prob *= emit[state, tok]
                state = int(src.next_state[state, tok])
            if prob == 0.0:
                continue
            h = lm.lm_state0(p)
            for tok in prefix:
                h = lm.lm_transition(p, h, tok)
            logq = np.asarray(jax.nn.log_softmax(lm.lm_logits(p, h)), np.float64)
            pt = emit[state]
            keep = pt > 0
            total += prob * float(np.sum(pt[keep] * (np.log(pt[keep]) - logq[keep])))
    return total


def test_source_eval_matches_exact_enumeration_unfinished_samples_kept():
    """The Monte Carlo sequence KL equals the exact KL of the truncated source within 4 standard errors;
    with max_len 4 and little EOS most samples are unfinished, so dropping them would miss it."""
    vocab, max_len = 3, 4
    src = S.random_source(jax.random.key(5), 3, vocab, forbidden=0.3, eos=0.05)
    with jax.enable_x64(True):
        p = jax.tree.map(lambda a: a.astype(jnp.float64), lm.init_lm(jax.random.key(6), vocab, 5))
        src64 = S.Source(src.emit_logp.astype(jnp.float64), src.next_state)
        ev = compute.source_eval(p, src64, jax.random.key(7), n=20000, max_len=max_len, vocab=vocab)
        exact = _exact_truncated_kl(p, src64, max_len, vocab)
        ev = jax.tree.map(np.asarray, ev)  # float64 on the host: no float64 jax op outside the x64 scope
    assert float(ev["unfinished"]) > 0.5
    assert abs(float(ev["seq_kl"]) - exact) < 4 * float(ev["seq_kl_se"])
    # per-position sums add up to the per-sample sums; true samples are scored at every live position
    assert float(ev["kl_true"].sum()) / 20000 == pytest.approx(float(ev["seq_kl"]), rel=1e-9)
    assert int(ev["n_true"][0]) == 20000


def test_own_samples_that_become_impossible_are_counted_not_dropped():
    vocab, max_len = 4, 8
    src = S.random_source(jax.random.key(1), 3, vocab, forbidden=0.5, eos=0.2)
    p = lm.init_lm(jax.random.key(2), vocab, 6)  # untrained: puts mass on forbidden tokens
    ev = compute.source_eval(p, src, jax.random.key(3), n=2000, max_len=max_len, vocab=vocab)
    n_own, n_imp = np.asarray(ev["n_own"]), np.asarray(ev["n_impossible"])
    assert n_imp.sum() > 0 and float(ev["own_impossible"]) > 0
    assert n_own[0] + n_imp[0] == 2000  # every own sample is accounted for at every live position
    assert np.all(np.diff(n_own + n_imp) <= 0)  # live samples only end (EOS), never vanish otherwise


def test_source_rates_pool_positions_by_occurrence():
    ds = Dataset()
    ds.add_axis(N.REGIME, np.asarray(REGIMES[:1]))
    ds.add_axis(N.SEED, np.arange(1))
    ds.add_axis(N.POSITION, np.arange(2))
    ds.add(N.SRC_KL_TRUE, (N.REGIME, N.SEED, N.POSITION), [[[10.0, 1.0]]])
    ds.add(N.SRC_N_TRUE, (N.REGIME, N.SEED, N.POSITION), [[[100.0, 1.0]]])
    ds.add(N.SRC_KL_OWN, (N.REGIME, N.SEED, N.POSITION), [[[20.0, 5.0]]])
    ds.add(N.SRC_N_OWN, (N.REGIME, N.SEED, N.POSITION), [[[100.0, 2.0]]])
    ds.add(N.SRC_N_IMPOSSIBLE, (N.REGIME, N.SEED, N.POSITION), [[[0.0, 3.0]]])
    kl_true, kl_own, imp = C.source_rates(ds)
    assert kl_true[0, 0] == pytest.approx(11 / 101)  # not (0.1 + 1.0) / 2
    assert kl_own[0, 0] == pytest.approx(25 / 102)
    assert imp[0, 0] == pytest.approx(3 / 105)


def test_claim_helpers_match_plain_loops():
    rng = np.random.default_rng(0)
    y = rng.normal(size=(4, 6))
    x = np.arange(1, 7, dtype=float)
    for row, got in zip(y, C.slope(y, x)):
        assert got == pytest.approx(np.polyfit(x, row, 1)[0])
    curve = np.array([[0.1, 0.5, 0.8, 0.9], [0.1, 0.2, 0.3, 0.4], [0.9, 0.1, 0.95, 1.0]])
    steps = np.array([10, 20, 30, 40])
    got = C.steps_to(curve, steps, 0.75)
    assert got[0] == 30 and np.isnan(got[1]) and got[2] == 10
    assert compute.final_window(np.arange(10.0)).item() == pytest.approx(8.5)  # last fifth: 8, 9


@pytest.mark.parametrize("change,flag", [(dict(lr_reverse=(1e-2,) * 4), "--lr-reverse"),
                                         (dict(lr_running_sum=(1e-2,) * 4), "--lr-running-sum"),
                                         (dict(sum_steps=1700), "--sum-steps"),
                                         (dict(steps=1001), "--steps"), (dict(floor=0.0), "--floor"),
                                         (dict(seeds=1), "--seeds"), (dict(tune_grid=(1e-2, 1e-2)), "--tune-grid")])
def test_config_errors_name_the_option(change, flag):
    with pytest.raises(ConfigError, match=flag):
        Config().replace(**change).validate()


def test_default_regimes_are_tf_fr_and_three_decays_over_the_whole_run():
    cfg = Config()
    sched = compute.regime_schedules(cfg, cfg.sum_steps)
    assert sched[:2] == [("constant", 1.0, 0.0, 0.0), ("constant", 0.0, 0.0, 0.0)]
    assert [s[0] for s in sched[2:]] == ["linear", "exponential", "inverse_sigmoid"]
    assert all(s[3] == cfg.floor > 0 for s in sched[2:])
    for kind, k, c, e in sched[2:]:  # the decays reach the floor only at the last update, not before
        eps = [float(lm.schedule_eps(lm.SCHEDULES.index(kind), k, c, e, i)) for i in (0, cfg.sum_steps // 2,
                                                                                     cfg.sum_steps - 2)]
        assert eps[0] > eps[1] > eps[2] > cfg.floor, kind
    Config.tune().validate()
    Config.paper().validate()
    assert Config.tune().select_lr


# ---------------------------------------------------------------------------
# claim functions on constructed data with known verdicts
# ---------------------------------------------------------------------------

UPD = np.arange(1, 9) * 100


def _curves(rate, n=10, seed=0):
    """(seed, 8) accuracy curves rising from 0.1 to 0.95 at a per-seed ``rate`` (noise-free shape)."""
    rng = np.random.default_rng(seed)
    r = rate * (1 + 0.1 * rng.standard_normal(n))[:, None]
    return 0.1 + 0.85 * (1 - np.exp(-r * np.arange(1, 9)[None, :]))


def test_c6_verdicts_on_constructed_curves():
    fast, slow = _curves(1.0), _curves(0.1, seed=1)
    c = C.c6_condition("t", fast, slow, UPD, 0.7, 800)
    assert c["verdict"] == "confirmed" and c["reached"] == (10, 0)
    assert C.c6_condition("t", slow, fast, UPD, 0.7, 800)["verdict"] == "refuted"  # the sign flipped
    same = C.c6_condition("t", fast, _curves(1.0, seed=2), UPD, 0.7, 800)
    assert same["verdict"] == "refuted"  # a tight null: both intervals inside the margins -> no effect
    lo, hi = same["effects"][0].ci95
    assert -C.AUC_MARGIN < lo and hi < C.AUC_MARGIN
    assert C.c6_condition("t", fast, _curves(1.0, seed=2), UPD, 0.7, 800, auc_margin=abs(lo) / 2,
                          updates_margin=1e-3)["verdict"] == "inconclusive"  # margins too small to refute
    # straddling 0 but wider than the margins: seeds' speeds spread widely in both regimes
    rng = np.random.default_rng(7)
    wide_a = np.stack([_curves(r, n=1, seed=i)[0] for i, r in enumerate(rng.uniform(0.1, 2.0, 10))])
    wide_b = np.stack([_curves(r, n=1, seed=20 + i)[0] for i, r in enumerate(rng.uniform(0.1, 2.0, 10))])
    wide = C.c6_condition("t", wide_a, wide_b, UPD, 0.7, 800)
    lo, hi = wide["effects"][0].ci95
    assert lo < 0 < hi and (lo < -C.AUC_MARGIN or hi > C.AUC_MARGIN)
    assert stats.verdict(wide["effects"][0], +1, C.AUC_MARGIN) == "inconclusive"
    flat = np.full((10, 8), 0.1) + np.random.default_rng(3).normal(0, 0.005, (10, 8))
    flat2 = np.full((10, 8), 0.1) + np.random.default_rng(4).normal(0, 0.005, (10, 8))
    nt = C.c6_condition("t", flat, flat2, UPD, 0.7, 800)
    assert nt["verdict"] == stats.NOT_TESTED and "chance" in nt["reason"]
    early = C.c6_condition("t", fast + 0.7, _curves(1.0, seed=5) + 0.7, UPD, 0.7, 800)  # both past 70 % at once
    assert "first curve point" in early["reason"] and early["verdict"] in ("confirmed", "refuted", "inconclusive")
    bad = fast.copy()
    bad[0, 3] = np.nan
    assert C.c6_condition("t", bad, slow, UPD, 0.7, 800)["verdict"] == "invalid"


def test_c7_verdicts_on_constructed_gaps():
    rng = np.random.default_rng(0)
    pos = np.arange(1, 6)
    growing = 0.02 * pos[None, :] + rng.normal(0, 0.005, (10, 5))  # gap > 0, growing along the output
    assert C.c7_condition("t", growing, 4)["verdict"] == "confirmed"
    assert C.c7_condition("t", -growing, 4)["verdict"] == "refuted"  # the sign flipped
    flat_pos = 0.05 + np.resize([0.01, -0.01], (10, 5))  # a gap > 0 that does not grow (slope exactly 0)
    assert C.c7_condition("t", flat_pos, 4)["verdict"] == "inconclusive"
    shrinking = 0.2 - 0.03 * pos[None, :] + rng.normal(0, 0.005, (10, 5))  # gap > 0 but shrinking
    assert C.c7_condition("t", shrinking, 4)["verdict"] == "nuanced"
    noise = np.resize([0.01, -0.01], (10, 5)) * np.array([1, -1, 1, -1, 1])
    assert C.c7_condition("t", noise, 4)["verdict"] == "inconclusive"
    bad = growing.copy()
    bad[1, 1] = np.nan
    assert C.c7_condition("t", bad, 4)["verdict"] == "invalid"
    assert len(C.c7_condition("t", growing, 4)["by_position"]) == 5


def _c8(own_s, own_tf, orc_s, orc_tf, plateau=(True, True)):
    return C.c8_condition("t, s", own_s, own_tf, orc_s, orc_tf, *plateau, margin=0.02, ceiling=0.99)


def test_c8_verdicts_on_constructed_data():
    rng = np.random.default_rng(0)
    orc = 0.95 + rng.normal(0, 0.002, 10)
    orc_s = orc + rng.normal(0, 0.002, 10)
    own_tf = 0.80 + rng.normal(0, 0.01, 10)
    own_s = own_tf + 0.05 + rng.normal(0, 0.01, 10)
    good = _c8(own_s, own_tf, orc_s, orc)
    assert good["verdict"] == "confirmed" and good["reason"] is None
    assert good["effects"][1].estimate > 0  # the gap shrank too (reported beside)
    assert _c8(own_tf, own_s, orc, orc_s)["verdict"] == "refuted"  # schedule and TF swapped
    assert _c8(own_tf + np.resize([0.01, -0.01], 10), own_tf, orc_s, orc)["verdict"] == "inconclusive"
    worse_fit = _c8(own_s, own_tf, orc_s - 0.1, orc)
    assert worse_fit["verdict"] == stats.NOT_TESTED and "oracle" in worse_fit["reason"]
    still = _c8(own_s, own_tf, orc_s, orc, plateau=(False, True))
    assert still["verdict"] == stats.NOT_TESTED and "plateau" in still["reason"]
    top = _c8(np.full(10, 0.995), np.full(10, 0.992), np.full(10, 0.996), np.full(10, 0.996))
    assert top["verdict"] == stats.NOT_TESTED and "bound" in top["reason"]
    nan = own_s.copy()
    nan[2] = np.nan
    assert _c8(nan, own_tf, orc_s, orc)["verdict"] == "invalid"  # a broken number is never hidden


def test_c8_plain_summary_counts_lowered_accuracy_and_why_the_gap_shrank():
    rng = np.random.default_rng(1)
    orc = 0.95 + rng.normal(0, 0.002, 10)
    own_tf = 0.80 + rng.normal(0, 0.01, 10)
    # task a: the schedule fits worse with true prefixes (-0.15) and loses less with its own (-0.05):
    # the gap shrinks only because true-prefix accuracy fell
    fell = _c8(own_tf - 0.05 + rng.normal(0, 0.01, 10), own_tf, orc - 0.15 + rng.normal(0, 0.002, 10), orc)
    # task b: own-prefix accuracy lower, gap unchanged
    same_gap = _c8(own_tf - 0.1 + rng.normal(0, 0.002, 10), own_tf, orc - 0.1 + rng.normal(0, 0.002, 10), orc)
    text, only_lowered, fell_tasks = C.c8_plain(["a", "b"], [fell, same_gap], 1)
    assert only_lowered and fell_tasks == ["a"]
    assert "a: own-prefix accuracy below TF in 1/1 schedules, above in 0; gap shrank in 1/1, with true-prefix " \
           "accuracy falling in 1 of them" in text
    assert "b: own-prefix accuracy below TF in 1/1 schedules, above in 0; gap shrank in 0/1" in text
    better = _c8(own_tf + 0.05 + rng.normal(0, 0.01, 10), own_tf, orc + rng.normal(0, 0.002, 10), orc)
    text, only_lowered, _ = C.c8_plain(["a", "b"], [fell, better], 1)
    assert not only_lowered and "b: own-prefix accuracy below TF in 0/1 schedules, above in 1" in text


def test_c6_takeaway_names_the_tasks_by_their_verdicts():
    t = C.c6_takeaway({"reverse": "confirmed", "sort": "refuted", "running_sum": "confirmed"})
    assert "faster on reversal and running sums" in t and "no difference on sorting" in t
    assert "depends on the task" in t
    swapped = C.c6_takeaway({"reverse": "refuted", "sort": "confirmed"})  # a swapped pair reads differently
    assert "faster on sorting" in swapped and "no difference on reversal" in swapped
    only = C.c6_takeaway({"reverse": "confirmed", "sort": stats.NOT_TESTED})
    assert "faster on reversal" in only and "sorting did not decide" in only and "depends" not in only
    assert C.c6_takeaway({"sort": "inconclusive"}).startswith("No task here showed teacher forcing's speed-up")


def test_c8_not_tested_takeaway_counts_worse_fits_and_unmoved_tasks():
    rng = np.random.default_rng(2)
    orc = 0.95 + rng.normal(0, 0.002, 10)
    own_tf = 0.80 + rng.normal(0, 0.01, 10)
    worse = _c8(own_tf - 0.1 + rng.normal(0, 0.002, 10), own_tf, orc - 0.1 + rng.normal(0, 0.002, 10), orc)
    equal = _c8(own_tf + np.resize([0.01, -0.01], 10), own_tf, orc + np.resize([0.002, -0.002], 10), orc,
                plateau=(False, True))
    text = C.c8_not_tested_takeaway(["reverse", "sort"], [worse, equal], 1, "800")
    assert text.startswith("Not tested: after 800 updates") and "(1 of 2 conditions)" in text
    assert "on sorting, with equal fits, the schedules changed nothing" in text
    gated = C.c8_not_tested_takeaway(["sort"], [equal], 1, "800")
    assert "no (task, schedule) condition met" in gated and "on sorting" in gated


def test_plateau_uses_the_seed_mean_curve():
    rising = _curves(0.2)
    assert not C.at_plateau(rising)
    assert C.at_plateau(_curves(3.0))


def test_task_words_join_plain_names_with_commas_and_a_final_and():
    assert C.task_words(["reverse"]) == "reversal"
    assert C.task_words(["reverse", "sort", "running_sum"]) == "reversal, sorting and running sums"
    assert C.task_words(["sort", "running_sum", "reverse", "copy_task"]) == \
        "sorting, running sums, reversal and copy task"  # an unknown task: its underscores read as spaces
    assert C.task_words(["copy_task"]) == "copy task"


def test_slope_and_steps_to_work_on_any_leading_shape_and_count_the_threshold_as_reached():
    x = np.array([1.0, 2.0, 3.0])
    assert C.slope(np.array([2.0, 4.0, 6.0]), x) == pytest.approx(2.0)  # one curve, no seed axis
    y = np.random.default_rng(1).normal(size=(2, 3, 3))  # (task, seed, position)
    got = C.slope(y, x)
    assert got.shape == (2, 3)
    for idx in np.ndindex(2, 3):
        assert got[idx] == pytest.approx(np.polyfit(x, y[idx], 1)[0])
    steps = np.array([10, 20, 30, 40])
    assert C.steps_to(np.array([0.5, 0.75, 0.8, 1.0]), steps, 0.75) == 20  # exactly at the threshold counts
    assert np.isnan(C.steps_to(np.array([0.5, 0.7, 0.74, 0.6]), steps, 0.75))
    curves = np.array([[[0.1, 0.5, 0.8, 0.9], [0.1, 0.2, 0.3, 0.4]], [[0.9, 0.9, 0.9, 0.9], [0.1, 0.1, 0.1, 0.8]]])
    got = C.steps_to(curves, steps, 0.75)  # (task, seed, log_step): the step axis is the last one
    np.testing.assert_array_equal(got, [[30, np.nan], [10, 40]])


def test_c6_area_interval_is_clipped_to_the_possible_range():
    # 2 seeds whose areas differ by 0.8 and by 0: mean 0.4, sd 0.57, t(1) = 12.7, so the t interval is
    # about 0.4 +- 5.1, far past [-1, 1], where a difference of two accuracies must lie
    tf = np.array([np.full(8, 0.9), np.full(8, 0.5)])
    fr = np.array([np.full(8, 0.1), np.full(8, 0.5)])
    auc = C.c6_condition("t", tf, fr, UPD, 0.7, 800)["effects"][0]
    assert auc.estimate == pytest.approx(0.4)
    assert auc.ci95 == (-1.0, 1.0)


def test_c6_learning_is_judged_at_the_last_curve_point():
    """Beating chance counts at the end of training only: a model that learns at the last point is tested,
    one that collapsed back to chance at the last point is not, and a NaN there is invalid, not an error."""
    chance = np.full((10, 8), C.CHANCE)
    late = chance.copy()
    late[:, -1] = 0.9 + np.random.default_rng(0).normal(0, 0.01, 10)
    c = C.c6_condition("t", late, chance, UPD, 0.7, 800)
    # area TF - FR = 0.8 / 8 per seed > 0: confirmed; updates: TF reaches 70 % at the last point (800),
    # FR never (censored at the budget 800), so FR - TF = 0 in every seed: inside the margin, refuted
    assert c["reason"] is None and c["reached"] == (10, 0)
    assert c["verdict"] == "nuanced"
    collapsed = _curves(1.0)
    collapsed[:, -1] = C.CHANCE
    collapsed_fr = _curves(0.5, seed=1)
    collapsed_fr[:, -1] = C.CHANCE
    gone = C.c6_condition("t", collapsed, collapsed_fr, UPD, 0.7, 800)
    assert gone["verdict"] == stats.NOT_TESTED
    assert gone["reason"] == "neither regime beats chance (0.1) at the end of training"
    assert gone["line"].endswith(" -> not tested (neither regime beats chance (0.1) at the end of training)")
    diverged = _curves(1.0)
    diverged[0, -1] = np.nan
    assert C.c6_condition("t", diverged, _curves(0.1, seed=1), UPD, 0.7, 800)["verdict"] == "invalid"


def test_c6_updates_are_set_aside_when_no_run_reaches_the_threshold():
    fast, slow = _curves(1.0), _curves(0.1, seed=1)  # both stay below 0.95, so 99 % is never reached
    c = C.c6_condition("t", fast, slow, UPD, 0.99, 800)
    assert c["reached"] == (0, 0)
    # FR - TF would be 800 - 800 = 0 in every seed (refuted inside the margin) if it voted; set aside,
    # the area alone decides
    assert c["verdict"] == "confirmed"
    assert c["reason"] == "updates: no run of either regime reaches 99%"
    assert c["line"].endswith("-> confirmed (updates: no run of either regime reaches 99%)")


def test_c6_one_regime_past_the_threshold_at_once_still_votes_on_updates():
    """Only when both regimes are past the threshold at the first curve point is the updates measure at
    its bound; TF there alone is the clearest speed-up (FR - TF = 800 - 100 in every seed)."""
    at_once, slow = _curves(3.0), _curves(0.1, seed=1)  # TF >= 0.87 at the first point; FR never reaches 70 %
    assert np.all(at_once[:, 0] >= 0.7) and np.all(slow < 0.7)
    c = C.c6_condition("t", at_once, slow, UPD, 0.7, 800)
    assert c["reason"] is None and c["verdict"] == "confirmed"
    assert c["effects"][1].estimate == 700


def _committed_tf(tasks=None):
    """The committed teacher_forcing Dataset and config, with only ``tasks`` (in that order) kept."""
    ds, _, cfg = committed("teacher_forcing")
    if tasks is None:
        return ds, cfg
    return select(ds, {N.TASK: [list(ds[N.TASK]).index(t) for t in tasks]}), cfg


def test_c6_c7_key_numbers_fall_back_to_the_first_task_without_running_sums():
    ds, cfg = _committed_tf(["reverse", "sort"])
    out = C.claims(ds, cfg)
    m = C._digits(ds)
    # reverse's own numbers, by hand: area = mean over curve points of the oracle-prefix digit accuracy
    curve = ds[N.CURVE_ACC_ORACLE][0, :, :, :, :m].mean(-1).mean(-1)  # (regime, seed)
    area = float((curve[C.TF] - curve[C.FR]).mean())
    gap = float((ds[N.ACC_ORACLE][0, C.TF, :, :m] - ds[N.ACC_OWN][0, C.TF, :, :m]).mean())
    sort_curve = ds[N.CURVE_ACC_ORACLE][1, :, :, :, :m].mean(-1).mean(-1)
    sort_area = float((sort_curve[C.TF] - sort_curve[C.FR]).mean())
    assert f"{area:.3f}" != f"{sort_area:.3f}"  # the two tasks' numbers can be told apart
    assert out["C6"]["key_number"].startswith(f"reverse: {area:.3f} [")  # the label names the task shown
    assert out["C7"]["key_number"].startswith(f"reverse: {gap:.3f} [")


def test_c6_caveat_names_only_the_tasks_where_free_running_fell_short():
    ds, cfg = _committed_tf()
    curve = ds[N.CURVE_ACC_ORACLE][:, C.FR, :, :, :C._digits(ds)].mean(-1)  # (task, seed, log_step)
    reached = (curve >= cfg.acc_threshold).any(-1).sum(-1)
    n = ds[N.SEED].size
    short = [f"{k} of {n} seeds on {C.task_words([t])}" for t, k in zip(ds[N.TASK], reached) if k < n]
    assert short  # the committed runs: FR falls short somewhere
    caveats = C.claims(ds, cfg)["C6"]["caveats"]
    assert any(f"in only {' and '.join(short)}: its updates" in c for c in caveats)
    ds.arrays[N.CURVE_ACC_ORACLE][1][:, C.FR, :, -1, :] = 1.0  # every FR seed at 100 % at the end
    caveats = C.claims(ds, cfg)["C6"]["caveats"]
    assert len(caveats) == 2 and not any("Free running reached" in c for c in caveats)


def test_a_diverged_counter_condition_seed_is_invalid_not_an_error_and_does_not_vote():
    ds, cfg = _committed_tf()
    before = C.claims(ds, cfg)
    ds.arrays[N.SRC_SEQ_KL][1][C.FR, 0] = np.nan  # C6's counter-condition: sequence KL
    ds.arrays[N.SRC_KL_OWN][1][C.TF, 0, :] = np.nan  # C7's: per-id KL on own prefixes
    after = C.claims(ds, cfg)
    for cid, src in (("C6", after["C6"]["effects"][-1]), ("C7", after["C7"]["effects"][-2])):
        assert after[cid]["verdict"] == before[cid]["verdict"]  # counter-conditions are reported, never voted
        assert src["name"].startswith("source (counter)") and np.isnan(src["estimate"])


def test_quick_end_to_end(tmp_path):
    cfg = Config.quick()
    s = run_study(teacher_forcing.STUDY, cfg, tmp_path / "teacher_forcing")
    assert set(s["claims"]) == {"C6", "C7", "C8"}
    for cid, claim in s["claims"].items():
        assert claim["rule"] and claim["conditions"] and "counter-condition" in claim["evidence"].lower()
        assert claim["takeaway"] and claim["what_was_run"] and len(claim["caveats"]) <= 3
        for e in claim["effects"]:
            lo, hi = e["ci95"]
            assert e["n"] >= 2 and lo <= e["estimate"] <= hi and e["unit"], (cid, e)
    # the quick config's known verdicts: 2 seeds (a t interval on 1 degree of freedom) and 40 updates
    # decide nothing, and no model is at a plateau, so every C8 condition is not tested
    assert s["claims"]["C6"]["verdict"] == "inconclusive"
    assert s["claims"]["C7"]["verdict"] == "inconclusive"
    assert s["claims"]["C8"]["verdict"] == stats.NOT_TESTED
    assert set(s["claims"]["C8"]["verdicts_by_condition"].values()) == {stats.NOT_TESTED}
    assert len(s["claims"]["C7"]["effects_by_position"]["running_sum"]) == cfg.digits + 1
    assert len(s["figures"]) == 4
    ds = Dataset.load(tmp_path / "teacher_forcing" / "data.npz")
    assert list(ds[N.TASK]) == ["reverse", "sort", "running_sum"]
    assert ds[N.ACC_OWN].shape == (3, len(REGIMES), cfg.seeds, cfg.digits + 1)
    assert ds[N.CURVE_ACC_ORACLE].shape == (3, len(REGIMES), cfg.seeds, cfg.steps // cfg.log_every, cfg.digits + 1)
    assert np.all(ds[N.SRC_N_TRUE][..., 0] == cfg.n_eval)
    # the first output position reads the same true prefix both ways; whole sequences agree both ways
    np.testing.assert_array_equal(ds[N.ACC_OWN][..., 0], ds[N.ACC_ORACLE][..., 0])
    np.testing.assert_array_equal(ds[N.SEQ_OWN], ds[N.SEQ_ORACLE])
    with np.load(tmp_path / "teacher_forcing" / "params.npz") as z:  # reusable trained models
        assert all(z[k].shape[:3] == (2, len(REGIMES), cfg.seeds) for k in z.files if k.startswith("conditional"))
        assert all(z[k].shape[:2] == (len(REGIMES), cfg.seeds) for k in z.files if k.startswith("running_sum"))
        assert all(z[k].shape[:2] == (len(REGIMES), cfg.seeds) for k in z.files if k.startswith("source"))
