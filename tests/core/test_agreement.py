"""``core.agreement.agreement``, on which the '0 unexplained' checks of C1-C4 rest, on hand-made points."""

import math

import numpy as np
import pytest

from jaxrnn.core.agreement import agreement, range_report
from jaxrnn.core.logspace import LogNum


def _truth(values):
    v = np.asarray(values, np.float64)
    with np.errstate(divide="ignore"):
        return LogNum(np.sign(v), np.log(np.abs(v)))


def test_agreement_counts_by_hand():
    """Points (truth -> value), target 1e-10, rounding scale 1e-12 (so explained up to expm1(8e-12) ~ 8e-12):
    0: 2 -> 2 exact; 1: 3 -> 3 (1 + 5e-11) and 2: 1e-300 -> 1e-300 (1 + 4e-12), within target;
    3: 5 -> 5 (1 + 1e-6), unexplained; 4: 7 -> -7, sign mismatch (error 2), unexplained; 5: 4 -> 0, a
    spurious zero (counted apart, explained); 6: truth 0 -> left out (no relative error); 7: 9 -> 1,
    masked out (not representable)."""
    truth = _truth([2.0, 3.0, 1e-300, 5.0, 7.0, 4.0, 0.0, 9.0])
    value = np.array([2.0, 3.0 * (1 + 5e-11), 1e-300 * (1 + 4e-12), 5.0 * (1 + 1e-6), -7.0, 0.0, 0.0, 1.0])
    mask = np.array([True] * 7 + [False])
    scale = np.full(8, 1e-12)
    r = agreement(truth, value, mask, scale, 1e-10)
    assert r["points"] == 6  # 8 less the zero truth and the masked point
    assert r["unexplained"] == 2 and r["spurious_zeros"] == 1
    assert r["max_rel_err"] == pytest.approx(2.0)  # the sign mismatch: |(-7) - 7| / 7
    errs = np.array([0.0, 5e-11, 4e-12, 1e-6, 2.0, 1.0])
    assert r["median_rel_err"] == pytest.approx(float(np.median(errs)), rel=1e-3)
    assert r["frac_within_target"] == pytest.approx(3 / 6)
    assert r["target"] == 1e-10


def test_rounding_scale_explains_a_larger_error_only_within_expm1_8_scale():
    """Error 1e-6 with target 1e-10: explained when scale = 2e-7 (8 scale = 1.6e-6 >= 1e-6), not when
    scale = 1e-7 (8e-7 < 1e-6): the factor 8 of ``explained_by_rounding`` is tested at its edge (x2 each way)."""
    truth, value, mask = _truth([5.0]), np.array([5.0 * (1 + 1e-6)]), np.array([True])
    assert agreement(truth, value, mask, np.array([2e-7]), 1e-10)["unexplained"] == 0
    assert agreement(truth, value, mask, np.array([1e-7]), 1e-10)["unexplained"] == 1
    assert agreement(truth, value, ~mask, np.array([1e-7]), 1e-10) == {
        "points": 0, "max_rel_err": 0.0, "median_rel_err": 0.0, "p99_rel_err": 0.0, "frac_within_target": 1.0,
        "target": 1e-10, "unexplained": 0, "spurious_zeros": 0}


def test_range_report_by_hand():
    """float32: 1e-50 -> 0 (underflow; true value outside float32's normal range), 1e-40 -> 1e-40 (a
    subnormal: outside the normal range too), 1e-20 -> 0 (underflow although representable), 1e50 -> inf
    (non-finite, outside the range), 1 -> 1."""
    truth = LogNum(np.ones(5), np.log([1e-50, 1e-40, 1e-20, 1e50, 1.0]))
    value = np.array([0.0, 1e-40, 0.0, math.inf, 1.0])
    r = range_report(truth, value, np.float32)
    assert r["points"] == 5
    assert r["frac_underflow_to_zero"] == pytest.approx(2 / 5)
    assert r["frac_underflow_true_value_representable"] == pytest.approx(1 / 5)
    assert r["frac_nonfinite"] == pytest.approx(1 / 5)
    assert r["frac_subnormal"] == pytest.approx(1 / 5)
    assert r["frac_true_value_outside_range"] == pytest.approx(3 / 5)
