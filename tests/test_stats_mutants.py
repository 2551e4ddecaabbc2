"""Tests written for the mutants of ``jaxrnn.stats`` that survived ``make mutants`` (each names the change it kills)."""

import math

import pytest

from jaxrnn import stats


def test_an_invalid_effect_keeps_its_name_unit_and_n():
    """(name -> None, unit -> None in the invalid effect)"""
    e = stats.mean_effect("loss gap", [1.0, math.nan, 2.0], "nats", nonfinite="invalid")
    assert (e.name, e.unit, e.n) == ("loss gap", "nats", 3)
    assert math.isnan(e.estimate) and all(math.isnan(x) for x in e.ci95)
    assert stats.verdict(e) == "invalid" and "nan [nan, nan]" in stats.describe(e)  # ("nan" -> "XXnanXX")


def test_rate_difference_keeps_name_and_unit():
    """(name/unit dropped; the default unit changed)"""
    e = stats.rate_difference("success gap", 8, 10, 2, 10)
    assert (e.name, e.unit, e.n) == ("success gap", "rate difference", 20)
    assert stats.rate_difference("g", 1, 2, 1, 2, unit="share").unit == "share"


def test_at_bound_default_is_exact_and_atol_is_inclusive():
    """(default atol 0 -> 1; <= atol -> < atol; the message of the empty case)"""
    assert stats.at_bound([1.0, 1.0], 1.0)
    assert not stats.at_bound([1.0, 0.5], 1.0)  # off by 0.5: not at the bound without a tolerance
    assert stats.at_bound([1.5, 0.5], 1.0, atol=0.5)  # exactly atol away (exact in binary): still at it
    assert not stats.at_bound([1.5, math.nan], 1.0, atol=0.5)
    with pytest.raises(ValueError, match="at_bound needs at least one value"):
        stats.at_bound([], 0.0)


def test_plateau_quarters_and_reference_by_hand():
    """k = 8 // 4 = 2: q3 = c[4:6], q4 = c[6:8]; threshold rel_tol |mean(q4) - c[0]|.
    A: drift |1 - 1.65| = 0.65 > 0.05 x 12 = 0.6: not a plateau (q3 taken as c[4:], or the reference
       |q4 + c0| = 14, would call it one).
    B: drift 0.3 <= 0.05 x 11.5 = 0.575: a plateau (q3 taken as c[2:6] gives 0.9; the reference c[1]
       gives 0.005: not one).
    A 4-point curve is the smallest accepted (k = 1)."""
    a = [13.0, 5.0, 3.0, 3.0, 1.65, 1.65, 1.0, 1.0]
    b = [13.0, 1.6, 0.0, 0.0, 1.2, 1.2, 1.5, 1.5]
    assert not stats.plateaued(a)
    assert stats.plateaued(b)
    assert stats.plateaued([4.0, 2.0, 1.0, 1.0]) and not stats.plateaued([4.0, 3.0, 2.0, 1.0])
    with pytest.raises(ValueError, match="at least 4 points"):
        stats.plateaued([3.0, 2.0, 1.0])


def test_combine_error_messages_name_the_problem():
    """(the messages of the empty and unknown-verdict cases)"""
    with pytest.raises(ValueError, match="combine needs at least one condition"):
        stats.combine({})
    with pytest.raises(ValueError, match="condition 'T=50': unknown verdict 'maybe'"):
        stats.combine({"T=50": "maybe"})


def test_every_constructor_keeps_name_unit_and_n():
    """(name, unit or n replaced by None / a constant in rate, mean_effect, paired_effect, bootstrap_effect,
    their invalid and n = 1 branches, and Effect.to_dict)"""
    effects = [stats.rate("r", 3, 10, "share"),
               stats.mean_effect("m", [1.0, 2.0, 4.0], "nats"), stats.mean_effect("m", [1.0], "nats"),
               stats.mean_effect("m", [1.0, math.inf], "nats", nonfinite="invalid"),
               stats.paired_effect("p", [1.0, 2.0, 4.0], [0.0, 0.5, 1.0], "nats"),
               stats.paired_effect("p", [1.0, math.nan, 4.0], [0.0, 0.5, 1.0], "nats", nonfinite="invalid"),
               stats.bootstrap_effect("b", [1.0, 2.0, 4.0], "nats", n_boot=200),
               stats.bootstrap_effect("b", [1.0], "nats", n_boot=200),
               stats.bootstrap_effect("b", [1.0, math.nan, 2.0], "nats", n_boot=200, nonfinite="invalid")]
    want = [("r", "share", 10), ("m", "nats", 3), ("m", "nats", 1), ("m", "nats", 2), ("p", "nats", 3),
            ("p", "nats", 3), ("b", "nats", 3), ("b", "nats", 1), ("b", "nats", 3)]
    for e, (name, unit, n) in zip(effects, want):
        assert (e.name, e.unit, e.n) == (name, unit, n), e
        d = e.to_dict()
        assert (d["name"], d["unit"], d["n"]) == (name, unit, n)


def test_paired_effect_passes_its_level_on():
    """(the level dropped: a 50 % interval is narrower than the 95 % one)"""
    a, b = [1.0, 2.0, 4.0, 3.0], [0.0, 0.5, 1.0, 0.2]
    wide, narrow = stats.paired_effect("p", a, b, "u"), stats.paired_effect("p", a, b, "u", level=0.5)
    assert narrow.ci95[1] - narrow.ci95[0] < 0.5 * (wide.ci95[1] - wide.ci95[0])


def test_bootstrap_by_its_definition():
    """The percentile interval recomputed from the stated recipe (seed 0 by default, 10 000 resamples of
    indices 0..n-1, quantiles alpha/2 and 1 - alpha/2) equals the library's exactly; n_boot = 1 is allowed."""
    import numpy as np

    v = np.random.default_rng(5).exponential(size=30)  # 30 distinct values: resampled means have no ties,
    e = stats.bootstrap_effect("b", v, "u")  # so one resample more or less (10 001) moves the quantiles
    idx = np.random.default_rng(0).integers(0, v.size, size=(10_000, v.size))
    lo, hi = np.quantile(v[idx].mean(axis=1), [0.025, 0.975])
    assert e.ci95 == (float(lo), float(hi)) and e.estimate == float(v.mean())
    assert stats.bootstrap_effect("b", v, "u", n_boot=1).n == 30
    with pytest.raises(ValueError, match="n_boot must be >= 1"):
        stats.bootstrap_effect("b", v, "u", n_boot=0)


def test_validation_messages_name_the_value():
    """(the names and counts in the error messages)"""
    with pytest.raises(ValueError, match="effect 'gap': 1 of 3 values are not finite"):
        stats.mean_effect("gap", [1.0, math.nan, 2.0], "u")
    with pytest.raises(ValueError, match="successes must be an integer count, got 2.5"):
        stats.rate("r", 2.5, 10)
    with pytest.raises(ValueError, match="n_boot must be an integer count, got str '3'"):
        stats.bootstrap_effect("b", [1.0, 2.0], "u", n_boot="3")
    with pytest.raises(ValueError, match="^n must be an integer count"):
        stats.rate("r", 2, 10.5)
    with pytest.raises(ValueError, match="^a must be 1-D"):
        stats.paired_effect("p", [[1.0]], [1.0], "u")
    with pytest.raises(ValueError, match="^b must be 1-D"):
        stats.paired_effect("p", [1.0], [[1.0]], "u")


def test_wilson_lower_bound_is_zero_only_at_zero_successes():
    """(the exact 0 set at s == 1 instead of s == 0)"""
    assert stats.wilson(0, 10)[0] == 0.0 and stats.wilson(1, 10)[0] > 0.0 and stats.wilson(10, 10)[1] == 1.0


def test_verdict_edges():
    """A zero-width interval is a valid one (lo == hi; not 'reversed'); an interval ending at 0 is not
    strictly on either side: inconclusive (hi < 0 -> hi <= 0 would call (-1, 0) refuted)."""
    E = stats.Effect
    assert stats.verdict(E("x", 0.5, (0.5, 0.5), 4, "u")) == "confirmed"
    assert stats.verdict(E("x", -0.5, (-1.0, 0.0), 4, "u")) == "inconclusive"
    assert stats.verdict(E("x", -0.5, (-1.0, 0.0), 4, "u"), claimed_sign=-1) == "inconclusive"


def test_describe_switches_notation_at_its_stated_edges():
    """Fixed point when every finite non-zero number lies in [1e-3, 1e4) (zeros do not count)."""
    E = stats.Effect
    assert stats.describe(E("x", 0.0, (0.0, 0.5), 4, "u")) == "0.000 [0.000, 0.500] (n=4, u)"
    assert stats.describe(E("x", 1.0, (1e-3, 2.0), 4, "u")) == "1.000 [0.001, 2.000] (n=4, u)"
    assert stats.describe(E("x", 1.0, (8e-4, 2.0), 4, "u")).startswith("1.000e+00 [8.000e-04")
    assert stats.describe(E("x", 1.0, (0.5, 1e4), 4, "u")).startswith("1.000e+00")
    assert stats.describe(E("x", 1.0, (0.5, 10000.5), 4, "u")).startswith("1.000e+00")
    assert stats.describe(E("x", 1.0, (-math.inf, math.inf), 1, "u")) == "1.000 [-inf, inf] (n=1, u)"
