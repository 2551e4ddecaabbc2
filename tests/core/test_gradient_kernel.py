"""The mantissa/exponent gradient kernel against its slow twins: the log-sum kernel, np.frexp, plain scans."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from jaxrnn.core import gradients
from jaxrnn.core.cells import ACTIVATIONS, ScalarParams
from jaxrnn.core.logspace import split_exponent
from jaxrnn.core.sweep import map_configs, map_configs_with_fallback, nan_rows
from jaxrnn.core.unroll import scan_read_off


def _params(w, b=0.0, u=1.0, dtype=jnp.float64):
    return ScalarParams(jnp.asarray(w, dtype), jnp.asarray(u, dtype), jnp.asarray(b, dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_split_exponent_matches_frexp_exactly(dtype):
    rng = np.random.default_rng(0)
    info = np.finfo(dtype)
    v = np.concatenate([np.exp(rng.uniform(np.log(info.tiny), np.log(info.max), 4000)), [info.tiny, info.max, 1.0,
                                                                                           0.5, 0.75]]).astype(dtype)
    with jax.enable_x64(dtype == np.float64):
        mant, expo = (np.asarray(z) for z in split_exponent(jnp.asarray(v)))
    ref_m, ref_e = np.frexp(v)
    np.testing.assert_array_equal(mant, ref_m)
    np.testing.assert_array_equal(expo, ref_e)
    assert mant.dtype == dtype and expo.dtype == np.int32
    np.testing.assert_array_equal(np.ldexp(mant, expo), v)


def test_scan_read_off_renorm_only_adds_the_renormalisation(key):
    """A renorm that counts its calls: same states as without it, one call per block and per read-off segment."""
    xs = jax.random.normal(key, (300,))
    read = jnp.array([0, 9, 63, 64, 130, 299])
    step = lambda c, x: (jnp.tanh(0.9 * c[0] + x), c[1])  # noqa: E731
    _, plain = scan_read_off(step, (jnp.float32(0.1), 0), xs, read, lambda c: c[0])
    _, (hs, calls) = scan_read_off(step, (jnp.float32(0.1), 0), xs, read, lambda c: c,
                                   renorm=lambda c: (c[0], c[1] + 1), block=64)
    np.testing.assert_array_equal(np.asarray(hs), np.asarray(plain))
    ends = np.asarray(read) + 1
    seg = np.diff(np.concatenate([[0], ends]))
    np.testing.assert_array_equal(np.asarray(calls), np.cumsum(-(-seg // 64)))


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_fast_kernel_matches_log_sum_kernel(act, dtype, key):
    """Two closed forms, two ways of carrying the product: equal to their rounding (rho of each, float64 and float32)."""
    with jax.enable_x64(dtype == jnp.float64):
        xs = jax.random.normal(key, (400,), dtype=dtype)
        for w, b, h0 in [(0.5, 0.0, 0.5), (3.0, -1.0, 0.9), (-8.0, 2.0, 0.1), (12.0, -6.0, 0.5), (-12.0, 6.0, -0.7),
                         (4.5, -2.25, 0.5), (20.0, 5.0, 0.3)]:
            p = _params(w, b, dtype=dtype)
            fast = jax.jit(lambda p_, h_, x_: gradients.grad_log_magnitude(p_, h_, x_, act=act))(p, h0, xs)
            slow = jax.jit(lambda p_, h_, x_: gradients.grad_log_magnitude_logsum(p_, h_, x_, act=act))(p, h0, xs)
            fast_log, slow_log = (np.asarray(c.log_abs, np.float64) for c in (fast, slow))
            np.testing.assert_array_equal(np.asarray(fast.sign), np.asarray(slow.sign))
            assert np.all(np.isfinite(fast_log)), (act, w, b)
            # both are exact up to a few ulp per step of each factor: the log-scale bound of closed_form_rounding_scale
            rho = gradients.closed_form_rounding_scale(slow, np.dtype(dtype))
            assert np.all(np.abs(fast_log - slow_log) <= 4 * rho), (act, w, b, np.max(np.abs(fast_log - slow_log) / rho))


def test_fast_kernel_any_real_h0_and_length_one(key):
    """The first step starts from h0 itself (negative, above 1): T = 1 is |w act'(u x_1 + w h0 + b)| exactly."""
    with jax.enable_x64(True):
        xs = jax.random.normal(key, (5,), dtype=jnp.float64)
        for act in ACTIVATIONS:
            for h0 in (-3.0, -0.4, 0.0, 0.5, 1.7):
                c = gradients.grad_log_magnitude(_params(-2.5, 0.3), h0, xs, act=act, read_idx=jnp.array([0]))
                a = float(xs[0]) - 2.5 * h0 + 0.3
                e = math.exp(-abs(a) * (1 if act == "sigmoid" else 2))  # act' = e / (1 + e)^2 (times 4 for tanh)
                expect = math.log(2.5 * (1 if act == "sigmoid" else 4) * e / (1 + e) ** 2)
                assert float(c.log_abs[0]) == pytest.approx(expect, rel=1e-14, abs=1e-14)
                assert float(c.sign[0]) == -1.0


def _row(kernel, act):
    def row_fn(row, xs, read_idx):
        c = kernel(ScalarParams(row["w"], row["u"], row["b"]), row["h0"], xs, act=act, read_idx=read_idx)
        return c.sign, c.log_abs
    return row_fn


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_out_of_range_is_nan_and_the_fallback_takes_those_rows(act, key):
    """|a| past the normal range: the fast kernel says NaN (never a wrong number); the log-sum kernel redoes those rows."""
    xs = np.asarray(jax.random.normal(key, (200,)), np.float32)
    rows = {"w": np.array([3.0, 200.0, -150.0, 0.0], np.float32), "b": np.array([0.0, -1.0, 2.0, 0.0], np.float32),
            "u": np.ones(4, np.float32), "h0": np.full(4, 0.5, np.float32)}
    read = np.array([0, 4, 49, 199])
    fast, slow = _row(gradients.grad_log_magnitude, act), _row(gradients.grad_log_magnitude_logsum, act)
    f_sign, f_log = map_configs(fast, rows, (xs, read), chunk_size=64)
    np.testing.assert_array_equal(nan_rows((f_sign, f_log)), [False, True, True, False])
    sign, log_abs = map_configs_with_fallback(fast, slow, rows, (xs, read), chunk_size=64)
    s_ref, l_ref = map_configs(slow, rows, (xs, read), chunk_size=64)
    np.testing.assert_array_equal(sign, s_ref)
    np.testing.assert_array_equal(log_abs[1:3], l_ref[1:3])  # the flagged rows are the log-sum kernel's
    np.testing.assert_array_equal(log_abs[[0, 3]], f_log[[0, 3]])  # the others the fast kernel's
    assert np.all(np.isfinite(log_abs[:3])) and np.all(np.isneginf(log_abs[3]))
    assert log_abs[1, -1] < -1e4  # 1e-4000 and beyond: a result, not an underflow


@settings(max_examples=30, deadline=None)
@given(w=st.one_of(st.floats(-20, 20), st.floats(-1000, 1000)), b=st.one_of(st.floats(-10, 10), st.floats(-800, 800)),
       h0=st.floats(-2, 2), act=st.sampled_from(ACTIVATIONS))
@example(w=900.0, b=0.0, h0=0.5, act="sigmoid")  # |a| ~ 900 at once: past float64's exp range (~706)
@example(w=-900.0, b=300.0, h0=1.5, act="tanh")
def test_property_fast_vs_log_sum_float64(w, b, h0, act):
    """The fast kernel equals the log-sum kernel, or says NaN; NaN only where some |a_t| can leave float64's
    exp range (exp(-|a|) for sigmoid: |a| > ~706; exp(-2|a|) for tanh: |a| > ~353; and
    |a_t| <= |w| max(1, |h0|) + |b| + max|x|), never a wrong number. The strategy's wide half reaches
    |a| ~ 3000, so the NaN branch is exercised (the two examples always reach it)."""
    with jax.enable_x64(True):
        xs = jnp.asarray(np.random.default_rng(1).normal(size=60))
        fast = gradients.grad_log_magnitude(_params(w, b), h0, xs, act=act)
        slow = gradients.grad_log_magnitude_logsum(_params(w, b), h0, xs, act=act)
    f, s = np.asarray(fast.log_abs), np.asarray(slow.log_abs)
    nan = np.isnan(f)
    a_max = abs(w) * max(1.0, abs(h0)) + abs(b) + float(np.max(np.abs(np.asarray(xs))))
    assert not nan.any() or a_max > (700 if act == "sigmoid" else 350), (w, b, h0, act)
    assert not np.isnan(s).any()  # the slow twin always has the answer (the fallback's)
    if (w, b, h0) in ((900.0, 0.0, 0.5), (-900.0, 300.0, 1.5)):
        assert nan.any()  # the examples reach the out-of-range branch
    ok = ~nan
    np.testing.assert_array_equal(np.asarray(fast.sign)[ok], np.asarray(slow.sign)[ok])
    finite = np.isfinite(s) & ok
    np.testing.assert_array_equal(np.isfinite(f[ok]), finite[ok])
    rho = gradients.closed_form_rounding_scale(slow, np.float64)
    assert np.all(np.abs(f[finite] - s[finite]) <= 4 * rho[finite])
