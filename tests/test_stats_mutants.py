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
