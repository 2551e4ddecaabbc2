"""Tests written for the mutants of ``jaxrnn.stats`` that survived ``make mutants`` (each names the change it kills)."""

import math

import numpy as np
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


def test_count_level_and_data_errors_say_which_rule_was_broken():
    """(each ValueError message of the input checks replaced by None; the default name "values" changed)"""
    with pytest.raises(ValueError, match=r"^n must be >= 1, got 0$"):
        stats.rate("r", 0, 0)
    with pytest.raises(ValueError, match=r"^successes must satisfy 0 <= successes <= n, got 11 of 10$"):
        stats.rate("r", 11, 10)
    with pytest.raises(ValueError, match=r"^level must lie strictly between 0 and 1, got 1\.0$"):
        stats.wilson(3, 10, level=1.0)
    with pytest.raises(ValueError, match=r"""^nonfinite must be "raise" or "invalid", got 'ignore'$"""):
        stats.mean_effect("m", [1.0, 2.0], "u", nonfinite="ignore")
    with pytest.raises(ValueError, match=r"^values must be 1-D \(one entry per replicate\), got shape \(1, 1\)$"):
        stats.mean_effect("m", [[1.0]], "u")
    with pytest.raises(ValueError, match=r"^values must hold at least one replicate \(n >= 1\), got none$"):
        stats.mean_effect("m", [], "u")
    with pytest.raises(ValueError, match=r"^paired values need equal lengths, got 3 and 2$"):
        stats.paired_effect("p", [1.0, 2.0, 3.0], [1.0, 2.0], "u")


def test_nonfinite_error_names_the_effect_and_the_way_out_in_every_constructor():
    """(the hint of the message in capitals or wrapped in XX; the effect's name dropped in paired_effect and
    bootstrap_effect). paired_effect counts the values of a and b together: 1 of 4."""
    hint = r' values are not finite \(pass nonfinite="invalid" to get an invalid effect instead\)$'
    with pytest.raises(ValueError, match="^effect 'gap': 1 of 3" + hint):
        stats.mean_effect("gap", [1.0, math.nan, 2.0], "u")
    with pytest.raises(ValueError, match="^effect 'gap': 1 of 4" + hint):
        stats.paired_effect("gap", [1.0, math.inf], [0.0, 1.0], "u")
    with pytest.raises(ValueError, match="^effect 'gap': 2 of 3" + hint):
        stats.bootstrap_effect("gap", [math.nan, 1.0, -math.inf], "u", n_boot=10)


def test_error_messages_carry_no_stray_text():
    """(the fixed messages of combine and at_bound wrapped in XX: the earlier match= found them inside)"""
    with pytest.raises(ValueError, match=r"^combine needs at least one condition$"):
        stats.combine({})
    with pytest.raises(ValueError, match=r"^at_bound needs at least one value$"):
        stats.at_bound([], 0.0)


def test_verdict_errors_say_what_was_wrong():
    """(the messages of the bad sign, bad margin and reversed interval replaced by None)"""
    E = stats.Effect
    with pytest.raises(ValueError, match=r"^claimed_sign must be \+1 or -1, got 0$"):
        stats.verdict(E("gap", 0.5, (0.1, 0.9), 4, "u"), claimed_sign=0)
    with pytest.raises(ValueError, match=r"^margin must be a finite number > 0, got -0\.05$"):
        stats.verdict(E("gap", 0.5, (0.1, 0.9), 4, "u"), margin=-0.05)
    with pytest.raises(ValueError, match=r"^effect 'gap': interval bounds reversed \(1\.0, -1\.0\)$"):
        stats.verdict(E("gap", 0.0, (1.0, -1.0), 4, "u"))


def test_verdict_margin_is_strict_at_its_upper_end():
    """An interval reaching exactly +m is not strictly inside (-m, m): inconclusive, not refuted
    (hi < m -> hi <= m); the lower end is checked in tests/test_stats.py."""
    e = stats.Effect("x", 0.02, (-0.01, 0.05), 4, "u")
    assert stats.verdict(e, +1, margin=0.05) == "inconclusive"
    assert stats.verdict(e, +1, margin=0.0500001) == "refuted"


def test_bootstrap_rejects_a_stat_that_ignores_axis():
    """(the message of the shape check replaced by None): a stat without axis= gives one number for the
    whole index matrix, shape (), not one per resample."""
    with pytest.raises(ValueError, match=r"^stat\(x, axis=1\) must return shape \(50,\), got \(\)$"):
        stats.bootstrap_effect("b", [1.0, 2.0, 3.0], "u", stat=lambda x, axis=None: float(np.mean(x)), n_boot=50)


def test_bootstrap_of_a_yes_no_statistic_reads_it_as_0_or_1():
    """(the resampled statistics not converted to float64: numpy cannot interpolate quantiles of booleans).
    All five replicates are 1, so every resample's majority is True: estimate 1, interval (1, 1)."""
    majority = lambda x, axis=None: np.mean(x, axis=axis) > 0.5  # noqa: E731
    e = stats.bootstrap_effect("majority", [1.0] * 5, "share", stat=majority, n_boot=100)
    assert (e.estimate, e.ci95) == (1.0, (1.0, 1.0))


def test_describe_prints_a_zero_width_interval_that_misses_the_estimate():
    """"no spread" only when the estimate equals both bounds; a bound that differs from the estimate is
    never dropped from the text (nums[0] -> nums[1] in the comparison)."""
    E = stats.Effect
    assert stats.describe(E("x", 0.5, (0.2, 0.2), 4, "u")) == "0.500 [0.200, 0.200] (n=4, u)"
    assert stats.describe(E("x", 0.2, (0.2, 0.2), 4, "u")) == "0.200, no spread (n=4, u)"


def test_at_bound_and_plateau_compute_float32_data_in_float64():
    """Committed data hold float32 arrays (teacher_forcing's curves). float32(0.1) = 0.100000001490116...,
    1.49e-9 from the bound 0.1: outside atol 1e-9, inside 2e-9 (in float32 the bound rounds to the same
    value and the distance is 0). The curve [1 x 7, 1 + 2^-23] moves at its last point: exactly,
    mean(q4) = 1 + 2^-24 differs from mean(q3) = 1 and from c[0], so drift 2^-24 > 0.05 x 2^-24: not a
    plateau; a float32 mean of q4 rounds 2 + 2^-23 to 2 and would see a curve that never moved."""
    v = np.float32([0.1, 0.1])
    assert not stats.at_bound(v, 0.1) and not stats.at_bound(v, 0.1, atol=1e-9)
    assert stats.at_bound(v, 0.1, atol=2e-9)
    assert not stats.plateaued(np.float32([1.0] * 7 + [1.0 + 2.0**-23]))


def test_wilson_upper_bound_never_passes_1():
    """The bounds lie in [0, 1] (docstring). With s = n - 1 and n = 5e15 (< 2^53, so exact counts) the
    rounded upper root centre + half comes out one ulp above 1 (the exact root lies below 1, p < 1);
    the clip to 1 must hold (min(., 1) -> min(., 2))."""
    n = 5 * 10**15
    lo, hi = stats.wilson(n - 1, n)
    assert lo < (n - 1) / n <= hi <= 1.0
