"""C10 and C11 of the decoding study on constructed summaries whose answers are known by hand: what C10 says
when an older summary lacks the untied-disagreement and tied-step counts, the numbers in its reasons and its
not-tested text; C11's small k when the moderate k is 1 or 2, the clipping of its failure-rate intervals to
the range of a difference of rates, and the takeaway's low end on an interval that only touches zero."""

import dataclasses

import numpy as np
import pytest

from jaxrnn import stats
from jaxrnn.studies.decoding import claims as K
from tests.studies.test_decoding import CFG, N_MODELS, RAMP, _equivalence, _sampling_summary

V = CFG.vocab + 1  # top-V: every token id and EOS
UP, LOW = 0.5 + 0.05 * RAMP, 0.1 + 0.01 * RAMP  # top-V fails more than any small k in every model
E_HI, E_LO = 9 + RAMP, 1 + 0.1 * RAMP  # and is more diverse


def _effect(claim: dict, name: str) -> dict:
    (e,) = [e for e in claim["effects"] if e["name"] == name]
    return e


# ---------------------------------------------------------------------------------------------------------
# C10
# ---------------------------------------------------------------------------------------------------------

def test_c10_without_an_untied_count_counts_every_top1_disagreement_as_untied():
    three_off = _equivalence(100, 97, 100, 0)
    del three_off["equivalence"]["top1_disagree_untied"]  # a summary from before ties were told apart
    got = K.c10(three_off)
    assert got["verdict"] == "refuted" and "(3 untied top-1 and 0 top-V disagreements)" in got["key_number"]
    agree = _equivalence(100, 100, 100, 0)
    del agree["equivalence"]["top1_disagree_untied"]
    assert K.c10(agree)["verdict"] == "confirmed"


def test_c10_refuted_reason_counts_the_topV_disagreements():
    got = K.c10(_equivalence(100, 100, 98, 0))
    assert got["verdict"] == "refuted" and "(0 untied top-1 and 2 top-V disagreements)" in got["key_number"]


def test_c10_not_tested_says_no_sequences_were_drawn():
    got = K.c10(_equivalence(0, 0, 0, 0))
    assert got["verdict"] == stats.NOT_TESTED and "(no sequences were drawn)" in got["key_number"]


def test_c10_evidence_counts_the_tied_top1_steps_and_zero_when_not_recorded():
    # _equivalence(n, agree, ...) records n - agree tied steps out of 10 n
    assert "3 of 1000 top-1 steps had a tied maximum" in K.c10(_equivalence(100, 97, 100, 0))["evidence"]
    old = _equivalence(100, 100, 100, 0)
    del old["equivalence"]["top1_steps_with_tied_maximum"], old["equivalence"]["top1_steps"]
    assert "0 of 0 top-1 steps had a tied maximum" in K.c10(old)["evidence"]


# ---------------------------------------------------------------------------------------------------------
# C11
# ---------------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("moderate_k", [1, 2])
def test_c11_small_ks_are_1_and_the_moderate_k_and_the_low_end_only_above_1(moderate_k):
    cfg = dataclasses.replace(CFG, moderate_k=moderate_k)
    got = K.c11(_sampling_summary(UP, LOW, E_HI, E_LO, fail_one=LOW / 2), cfg)  # k = 1 fails least
    smalls = [1] if moderate_k == 1 else [1, moderate_k]
    want = {f"noise 0, {fail}, k={k} vs {V}" for k in smalls for fail in ("impossible", "failure")}
    if moderate_k != 1:
        want.add(f"noise 0, failure, k=1 vs {moderate_k}")
    assert set(got["per_condition"]) == want and got["conditions"]["small_k"] == smalls
    # per small k: entropy, impossible and all failures of top-V minus it; the low end adds one more
    assert len([e for e in got["effects"] if " minus " in e["name"]]) == 3 * len(smalls) + (moderate_k != 1)
    assert got["verdict"] == "confirmed"
    if moderate_k == 1:  # no low end of the U: k = 1 is the only small k
        assert "Low end" not in got["evidence"] and got["evidence"].endswith("loop 0%.")
        assert got["takeaway"] == "Smaller k trades diversity for fewer impossible samples."
    else:
        assert f"Low end of the U (noise 0): all failures top-{moderate_k} minus top-1" in got["evidence"]


def test_c11_failure_rate_intervals_are_clipped_to_the_range_of_a_difference_of_rates():
    # per-model rates 1, 0, 1, ... against 0, 1, 0, ...: differences +-1, mean 0, sd sqrt(6/5); the t interval
    # is 0 -+ 2.571 * 1.095 / sqrt(6) = -+1.150, past both ends of [-1, 1]
    a = np.tile([1.0, 0.0], N_MODELS // 2)
    got = K.c11(_sampling_summary(a, 1.0 - a, E_HI, E_LO, fail_one=a), CFG)
    k = CFG.moderate_k
    for name in (f"noise 0: impossible samples, top-{V} minus top-{k}", f"noise 0: all failures, top-{V} minus top-{k}",
                 f"noise 0: all failures, top-{k} minus top-1"):
        e = _effect(got, name)
        assert e["estimate"] == 0.0 and e["ci95"] == [-1.0, 1.0], name
    assert got["per_condition"][f"noise 0, failure, k=1 vs {k}"] == "inconclusive"


def test_c11_takeaway_interval_ending_at_zero_does_not_show_the_low_end():
    touches = stats.Effect("d", -0.2, (-0.4, 0.0), 8, "rate")  # k = 1 may fail exactly as often: not shown
    t = K.c11_takeaway(touches, (3, 8), 3)
    assert "not resolved" in t and "failed more" not in t
