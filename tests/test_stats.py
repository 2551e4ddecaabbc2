"""jaxrnn.stats: intervals against independent formulas and published values, verdict rule."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxrnn import stats
from jaxrnn.stats import (
    RULE,
    Effect,
    bootstrap_effect,
    combine,
    describe,
    mean_effect,
    paired_effect,
    rate,
    rate_difference,
    verdict,
    wilson,
)

Z975 = 1.959963984540054  # standard normal 0.975 quantile (tables)


def wilson_by_hand(s, n, z=Z975):
    """Roots in pi of (p - pi)^2 = z^2 pi (1 - pi) / n, by the quadratic formula."""
    p = s / n
    # (1 + z^2/n) pi^2 - (2p + z^2/n) pi + p^2 = 0
    a = 1 + z * z / n
    b = -(2 * p + z * z / n)
    c = p * p
    disc = math.sqrt(max(b * b - 4 * a * c, 0.0))
    return (-b - disc) / (2 * a), (-b + disc) / (2 * a)


@pytest.mark.parametrize("s", [0, 8, 16])
def test_wilson_matches_quadratic_roots(s):
    lo, hi = wilson(s, 16)
    elo, ehi = wilson_by_hand(s, 16)
    assert lo == pytest.approx(elo, abs=1e-12)
    assert hi == pytest.approx(ehi, abs=1e-12)


def test_wilson_textbook_and_edges():
    lo, hi = wilson(0, 10)
    assert lo == 0.0
    assert hi == pytest.approx(0.2775, abs=1e-4)  # 0/10: upper 95 % Wilson bound 0.2775
    assert wilson(16, 16)[1] == 1.0
    lo8, hi8 = wilson(8, 16)
    assert lo8 + hi8 == pytest.approx(1.0, abs=1e-12)  # symmetric at p = 1/2
    assert wilson(8, 16, level=0.99)[0] < lo8  # wider at a higher level


def test_rate_effect_and_to_dict():
    e = rate("hits", 8, 16)
    assert e.estimate == 0.5 and e.ci95 == wilson(8, 16) and e.n == 16 and e.unit == "rate"
    d = e.to_dict()
    assert set(d) == {"name", "estimate", "ci95", "n", "unit"}
    assert type(d["estimate"]) is float and type(d["n"]) is int
    assert all(type(x) is float for x in d["ci95"]) and isinstance(d["ci95"], list)
    json.dumps(d)
    e2 = rate("hits", np.int64(3), np.int32(4))  # numpy integer counts are accepted
    assert type(e2.to_dict()["n"]) is int


@pytest.mark.parametrize(
    "s,n", [(-1, 10), (11, 10), (0, 0), (1.5, 10), (True, 10), (3, float("nan")), ("3", 10)]
)
def test_rate_rejects_bad_counts(s, n):
    with pytest.raises(ValueError):
        rate("r", s, n)


def test_wilson_rejects_bad_level():
    for level in (0.0, 1.0, 1.5):
        with pytest.raises(ValueError):
            wilson(3, 10, level=level)


@settings(max_examples=200, deadline=None)
@given(
    s=st.integers(0, 50),
    extra=st.integers(0, 50),
    k1=st.integers(1, 20),
    dk=st.integers(1, 20),
)
def test_wilson_properties(s, extra, k1, dk):
    n = s + extra
    if n == 0:
        n, s = 1, 0
    lo, hi = wilson(s, n)
    assert 0.0 <= lo <= s / n <= hi <= 1.0
    # fixed rate s/n, more trials: strictly narrower
    lo1, hi1 = wilson(k1 * s, k1 * n)
    lo2, hi2 = wilson((k1 + dk) * s, (k1 + dk) * n)
    assert hi2 - lo2 < hi1 - lo1


def test_t_interval_by_hand():
    x = [1.0, 2.0, 3.0, 4.0, 5.0]
    e = mean_effect("m", x, "u")
    # mean 3, sample sd sqrt(10/4), se = sd / sqrt(5), t_{4, 0.975} = 2.776445105 (tables)
    half = 2.776445105 * math.sqrt(10 / 4) / math.sqrt(5)
    assert e.estimate == pytest.approx(3.0)
    assert e.ci95[0] == pytest.approx(3.0 - half, abs=1e-8)
    assert e.ci95[1] == pytest.approx(3.0 + half, abs=1e-8)
    assert e.n == 5
    assert half == pytest.approx(1.9633, abs=1e-4)


def test_t_interval_single_replicate_is_unbounded_and_inconclusive():
    e = mean_effect("m", [0.7], "u")
    assert e.ci95 == (-math.inf, math.inf) and e.n == 1 and e.estimate == 0.7
    assert verdict(e) == "inconclusive" and verdict(e, -1) == "inconclusive"
    b = bootstrap_effect("b", [0.7], "u")
    assert b.ci95 == (-math.inf, math.inf) and verdict(b) == "inconclusive"


def test_mean_effect_validation_and_nonfinite():
    for bad in ([], [[1.0, 2.0]], [1.0, float("nan")], [1.0, float("inf")]):
        with pytest.raises(ValueError):
            mean_effect("m", bad, "u")
    e = mean_effect("m", [1.0, float("nan"), 2.0], "u", nonfinite="invalid")
    assert verdict(e) == "invalid" and e.n == 3
    p = paired_effect("p", [1.0, 2.0], [float("inf"), 1.0], "u", nonfinite="invalid")
    assert verdict(p) == "invalid"
    b = bootstrap_effect("b", [1.0, float("nan")], "u", nonfinite="invalid")
    assert verdict(b) == "invalid"
    with pytest.raises(ValueError):
        mean_effect("m", [1.0, 2.0], "u", nonfinite="ignore")


def test_paired_effect_is_t_interval_of_differences():
    a = np.array([1.0, 2.5, 3.0, 4.2])
    b = np.array([0.5, 2.0, 3.5, 3.0])
    e = paired_effect("d", a, b, "nats")
    d = a - b
    half = 3.182446305 * np.std(d, ddof=1) / 2.0  # t_{3, 0.975} (tables), sqrt(4) = 2
    assert e.estimate == pytest.approx(d.mean())
    assert e.ci95 == pytest.approx((d.mean() - half, d.mean() + half), abs=1e-8)
    with pytest.raises(ValueError):
        paired_effect("d", a, b[:3], "nats")


def test_bootstrap_coverage_exponential():
    """Percentile bootstrap of the mean of n=30 Exp(1) draws covers the true mean
    at close to (a little under, for this skewed law) the nominal 95 %."""
    rng = np.random.default_rng(12345)
    reps, n = 400, 30
    data = rng.exponential(1.0, size=(reps, n))
    covered = 0
    widths = []
    for r in range(reps):
        e = bootstrap_effect("m", data[r], "u", n_boot=1000, seed=r)
        covered += e.ci95[0] <= 1.0 <= e.ci95[1]
        widths.append(e.ci95[1] - e.ci95[0])
    coverage = covered / reps
    assert 0.88 <= coverage <= 0.99, coverage
    # width ~ 2 * 1.96 * sigma / sqrt(n) = 0.716 for Exp(1): a broken scale would miss this
    assert 0.55 < np.mean(widths) < 0.85


def test_bootstrap_seeded_and_other_stat():
    x = np.array([3.1, 1.4, 4.1, 1.5, 5.9, 9.2, 2.6, 6.5])
    a = bootstrap_effect("m", x, "u", seed=7)
    b = bootstrap_effect("m", x, "u", seed=7)
    c = bootstrap_effect("m", x, "u", seed=8)
    assert a == b and a.ci95 != c.ci95
    med = bootstrap_effect("med", x, "u", stat=np.median, n_boot=2000)
    assert med.estimate == np.median(x)
    assert x.min() <= med.ci95[0] <= med.estimate <= med.ci95[1] <= x.max()


def test_newcombe_published_example():
    """Newcombe (1998), Stat Med 17:873, example (a): 56/70 vs 48/80, method 10."""
    e = rate_difference("diff", 56, 70, 48, 80)
    assert e.estimate == pytest.approx(0.2)
    assert e.ci95[0] == pytest.approx(0.0524, abs=5e-4)
    assert e.ci95[1] == pytest.approx(0.3339, abs=5e-4)
    assert e.n == 150
    assert verdict(e) == "confirmed" and verdict(e, -1) == "refuted"
    with pytest.raises(ValueError):
        rate_difference("diff", 71, 70, 48, 80)


def E(lo, hi, est=None):
    est = (lo + hi) / 2 if est is None else est
    return Effect("e", est, (lo, hi), 4, "u")


@pytest.mark.parametrize(
    "effect,sign,expected",
    [
        (E(0.1, 0.3), +1, "confirmed"),
        (E(0.1, 0.3), -1, "refuted"),
        (E(-0.3, -0.1), +1, "refuted"),
        (E(-0.3, -0.1), -1, "confirmed"),
        (E(-0.1, 0.3), +1, "inconclusive"),
        (E(-0.1, 0.3), -1, "inconclusive"),
        (E(0.0, 0.3), +1, "inconclusive"),  # touching zero is not strictly on one side
        (E(-0.3, 0.0), -1, "inconclusive"),
        (E(0.1, math.inf, 1.0), +1, "confirmed"),  # infinite bound allowed
        (E(-math.inf, math.inf, 0.5), +1, "inconclusive"),
        (E(0.1, 0.3, math.nan), +1, "invalid"),
        (E(math.nan, 0.3, 0.2), +1, "invalid"),
        (E(0.1, math.nan, 0.2), -1, "invalid"),
    ],
)
def test_verdict_cases(effect, sign, expected):
    assert verdict(effect, sign) == expected


def test_verdict_rejects_bad_sign():
    for sign in (0, 2, 0.5):
        with pytest.raises(ValueError):
            verdict(E(0.1, 0.2), sign)


@pytest.mark.parametrize(
    "effect,sign,margin,expected",
    [
        # sorting's tight null: inside +-0.05 -> no effect of the claimed size
        (E(-0.031, 0.006, -0.012), +1, 0.05, "refuted"),
        (E(-0.031, 0.006, -0.012), -1, 0.05, "refuted"),
        (E(-19.0, 19.0, 0.0), +1, 70.0, "refuted"),
        # straddles 0 but reaches beyond the margin -> still inconclusive
        (E(-0.031, 0.006, -0.012), +1, 0.02, "inconclusive"),
        (E(-0.1, 0.3), +1, 0.2, "inconclusive"),
        # touching the margin is not strictly inside
        (E(-0.05, 0.01, 0.0), +1, 0.05, "inconclusive"),
        # a margin never overrides a clear sign
        (E(0.01, 0.03, 0.02), +1, 0.05, "confirmed"),
        (E(0.01, 0.03, 0.02), -1, 0.05, "refuted"),
        (E(-0.03, -0.01, -0.02), -1, 0.05, "confirmed"),
        # NaN stays invalid whatever the margin
        (E(-0.01, 0.01, math.nan), +1, 0.05, "invalid"),
        (E(-0.01, math.nan, 0.0), +1, 0.05, "invalid"),
        (E(-math.inf, math.inf, 0.0), +1, 0.05, "inconclusive"),
    ],
)
def test_verdict_with_margin_on_known_data(effect, sign, margin, expected):
    assert verdict(effect, sign, margin) == expected
    assert stats.powered_verdict(effect, sign, margin=margin) == expected


def test_verdict_margin_must_be_positive_and_finite():
    for m in (0.0, -0.05, math.nan, math.inf):
        with pytest.raises(ValueError):
            verdict(E(-0.01, 0.01), +1, m)


def test_powered_verdict_margin_respects_power():
    e = E(-0.01, 0.01, 0.0)
    assert stats.powered_verdict(e, +1, no_power="no plateau", margin=0.05) == stats.NOT_TESTED
    assert stats.powered_verdict(e, +1, margin=0.05) == "refuted"
    assert "margin" in stats.RULE


@pytest.mark.parametrize(
    "verdicts,expected",
    [
        ({"a": "confirmed"}, "confirmed"),
        ({"a": "confirmed", "b": "confirmed"}, "confirmed"),
        ({"a": "refuted", "b": "refuted"}, "refuted"),
        ({"a": "inconclusive", "b": "inconclusive"}, "inconclusive"),
        ({"a": "confirmed", "b": "refuted"}, "nuanced"),
        ({"a": "confirmed", "b": "refuted", "c": "inconclusive"}, "nuanced"),
        ({"a": "nuanced", "b": "confirmed"}, "nuanced"),
        ({"a": "confirmed", "b": "inconclusive"}, "inconclusive"),
        ({"a": "refuted", "b": "inconclusive"}, "inconclusive"),
        ({"a": "confirmed", "b": "refuted", "c": "invalid"}, "invalid"),
        ({"a": "invalid"}, "invalid"),
    ],
)
def test_combine_cases(verdicts, expected):
    assert combine(verdicts) == expected


def test_combine_rejects_empty_and_unknown():
    with pytest.raises(ValueError):
        combine({})
    with pytest.raises(ValueError):
        combine({"a": "confirmed", "b": "maybe"})


def test_describe_and_rule():
    e = Effect("x", 0.123, (0.1, 0.15), 16, "nats")
    assert describe(e) == "0.123 [0.100, 0.150] (n=16, nats)"
    assert describe(Effect("len", 1.0, (1.0, 1.0), 8, "ids"), 2) == "1.00, no spread (n=8, ids)"
    small = describe(Effect("g", 2.5e-7, (1e-7, 4e-7), 8, "grad norm"))
    assert small == "2.500e-07 [1.000e-07, 4.000e-07] (n=8, grad norm)"
    assert describe(mean_effect("m", [1.0], "u")) == "1.000 [-inf, inf] (n=1, u)"
    assert "nan" in describe(E(0.1, 0.2, math.nan))
    assert isinstance(RULE, str) and "invalid" in RULE and "nuanced" in RULE


def test_bounds_clip_a_t_interval_to_the_quantitys_range():
    rates = np.array([1.0] * 11 + [0.0])  # a mean of 0/1 outcomes: the t interval reaches past 1
    free = stats.mean_effect("x", rates, "rate")
    bounded = stats.mean_effect("x", rates, "rate", bounds=(0.0, 1.0))
    assert free.ci95[1] > 1.0 and bounded.ci95 == (free.ci95[0], 1.0) and bounded.estimate == free.estimate
    d = stats.paired_effect("d", np.ones(12), 1.0 - rates, "rate difference", bounds=(-1.0, 1.0))
    assert d.ci95[1] == 1.0 and d.ci95[0] == free.ci95[0]
    assert stats.mean_effect("one", [0.5], "rate", bounds=(0.0, 1.0)).ci95 == (0.0, 1.0)


# ----------------------------------------------------------------------------- power: "not tested"


def test_not_tested_is_set_aside_by_combine_and_alone_is_not_tested():
    assert stats.combine({"a": "confirmed", "b": stats.NOT_TESTED}) == "confirmed"
    assert stats.combine({"a": "refuted", "b": stats.NOT_TESTED, "c": "confirmed"}) == "nuanced"
    assert stats.combine({"a": stats.NOT_TESTED, "b": stats.NOT_TESTED}) == stats.NOT_TESTED
    # invalid is never hidden behind a lack of power
    assert stats.combine({"a": stats.NOT_TESTED, "b": "invalid"}) == "invalid"


def test_powered_verdict_needs_power_but_never_hides_nan():
    e = stats.Effect("d", 1.0, (0.5, 1.5), 8, "u")
    assert stats.powered_verdict(e, +1) == "confirmed"
    assert stats.powered_verdict(e, -1) == "refuted"
    assert stats.powered_verdict(e, +1, no_power="nothing learns") == stats.NOT_TESTED
    nan = stats.Effect("d", float("nan"), (0.5, 1.5), 8, "u")
    assert stats.powered_verdict(nan, +1, no_power="nothing learns") == "invalid"


def test_beats_trivial_at_bound_and_plateau_on_known_data():
    assert stats.beats_trivial(stats.Effect("gain", 0.2, (0.1, 0.3), 8, "u"))
    assert not stats.beats_trivial(stats.Effect("gain", 0.2, (-0.1, 0.3), 8, "u"))
    # signed: a loss ratio below the trivial predictor's is better
    assert stats.beats_trivial(stats.Effect("ratio-1", -0.2, (-0.3, -0.1), 8, "u"), -1)
    assert not stats.beats_trivial(stats.Effect("ratio-1", -0.2, (-0.3, -0.1), 8, "u"), +1)
    assert stats.at_bound([1.0, 1.0, 0.9999], 1.0, atol=1e-3)
    assert not stats.at_bound([1.0, 0.99], 1.0, atol=1e-3)
    assert not stats.at_bound([float("nan")], 1.0)
    # a saturating curve is at a plateau; a straight line still falling is not
    t = np.arange(40.0)
    assert stats.plateaued(np.exp(-t / 3.0))
    assert not stats.plateaued(1.0 - t / 40.0)
    assert not stats.plateaued(np.r_[np.exp(-t / 3.0), np.nan])
    # flat from the start: drift 0 <= 0, a plateau; flat then jumping at the end: not
    assert stats.plateaued(np.ones(8))
    assert not stats.plateaued(np.r_[np.ones(6), 0.0, 0.0])
