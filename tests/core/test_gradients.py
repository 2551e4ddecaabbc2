"""Closed form (log space) vs jax.grad vs jax.jvp, in float64 and float32."""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jaxrnn.core import gradients
from jaxrnn.core.cells import ACTIVATIONS, ScalarParams, activation_and_derivative_parts, log_derivative
from jaxrnn.core.logspace import relative_error, representable

T = 300


def _params(w, b=0.0, u=1.0, dtype=jnp.float64):
    return ScalarParams(jnp.asarray(w, dtype), jnp.asarray(u, dtype), jnp.asarray(b, dtype))


def _curves(w, b, h0, xs, act):
    """Every twin for one config, under jit: closed form, forward, reverse (all T), log-space autodiff."""
    p = _params(w, b, dtype=xs.dtype)
    closed = jax.jit(functools.partial(gradients.grad_log_magnitude, act=act))(p, h0, xs)
    fwd = jax.jit(functools.partial(gradients.grad_forward, act=act))(p, h0, xs)
    rev = jax.jit(jax.vmap(lambda n: gradients.grad_reverse(p, h0, xs, n, act=act)))(jnp.arange(1, len(xs) + 1))
    auto = jax.jit(functools.partial(gradients.grad_log_magnitude_autodiff, act=act))(p, h0, xs)
    kappa = jax.jit(functools.partial(gradients.autodiff_rounding_scale, act=act))(p, h0, xs)
    return closed, np.asarray(fwd), np.asarray(rev), auto, np.asarray(kappa)


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("w,b,h0", [(0.5, 0.0, 0.5), (3.0, -1.0, 0.9), (6.0, 0.0, 0.5), (-8.0, 2.0, 0.1),
                                    (12.0, -6.0, 0.5), (4.5, -2.25, 0.5)])
def test_closed_form_matches_grad_and_jvp_float64(act, w, b, h0, key):
    with jax.enable_x64(True):
        xs = jax.random.normal(key, (T,), dtype=jnp.float64)
        closed, fwd, rev, auto, kappa = _curves(w, b, h0, xs, act)
    scale = kappa + gradients.closed_form_rounding_scale(closed, np.float64)
    for value, mode in ((fwd, "forward"), (rev, "reverse")):
        mask = gradients.autodiff_representable(closed, np.float64, mode) & (value != 0)
        assert mask.sum() >= 5, "the comparison must cover real points"
        err = relative_error(closed, value)[mask]
        # 1e-10 where autodiff's own rule is well conditioned, its rounding bound elsewhere.
        assert np.all(gradients.explained_by_rounding(err, scale[mask], 1e-10)), (mode, err.max())
        assert np.all(err[scale[mask] < 1e-12] <= 1e-10)
    # forward and reverse use the same derivative rule: they agree to its rounding.
    both = (fwd != 0) & (rev != 0)
    fr = np.abs(rev[both] - fwd[both]) / np.abs(fwd[both])
    assert np.all(gradients.explained_by_rounding(fr, kappa[both], 1e-12))
    # step-wise renormalised autodiff reaches every T, far beyond float64's range, until JAX's
    # rule 1 - s^2 meets an |s| that rounded to exactly 1 (kappa = inf): from there it says 0.
    ok = np.isfinite(kappa)
    assert ok.sum() >= 20
    np.testing.assert_array_equal(np.asarray(auto.sign)[ok], np.asarray(closed.sign)[ok])
    assert np.all(np.asarray(auto.sign)[~ok] == 0) and np.all(np.asarray(closed.sign) != 0)
    dlog = np.abs(np.asarray(auto.log_abs) - np.asarray(closed.log_abs))[ok]
    assert np.all((dlog <= 1e-10) | (dlog <= 8 * scale[ok]))


def test_log_space_value_correct_where_float64_underflows(key):
    with jax.enable_x64(True):
        xs = jnp.zeros(1000, jnp.float64)
        closed, fwd, _, auto, kappa = _curves(12.0, 0.0, 0.5, xs, "sigmoid")
    log10 = np.asarray(closed.log_abs) / math.log(10)
    assert log10[-1] < -4000  # about 1e-4100: a result, not an underflow
    assert fwd[-1] == 0.0 and not representable(closed, np.float64)[-1]
    # JAX's rule s (1 - s) at s = 1 - 6e-6 costs ~2e-11 per step: within its rounding scale
    dlog = np.abs(np.asarray(auto.log_abs) - np.asarray(closed.log_abs))
    assert np.all(dlog <= 8 * (kappa + gradients.closed_form_rounding_scale(closed, np.float64)))
    assert dlog[-1] < 1e-7
    # The saturated state has a constant derivative factor: the curve is exactly linear in T.
    h = 1.0 / (1.0 + math.exp(-12.0 * 1.0))
    for _ in range(100):
        h = 1.0 / (1.0 + math.exp(-12.0 * h))
    a = 12.0 * h
    rate = math.log(12.0) - a - 2 * math.log1p(math.exp(-a))
    np.testing.assert_allclose(np.diff(np.asarray(closed.log_abs))[200:], rate, rtol=1e-12)


def test_float32_closed_form_close_to_float64(key):
    xs64 = np.asarray(jax.random.normal(key, (1000,)), np.float64)
    ws = [-6.0, -2.0, 0.7, 2.0, 5.0, 11.0]
    for act in ACTIVATIONS:
        for w in ws:
            c32 = gradients.grad_log_magnitude(_params(w, dtype=jnp.float32), 0.5, jnp.asarray(xs64, jnp.float32),
                                               act=act)
            with jax.enable_x64(True):
                c64 = gradients.grad_log_magnitude(_params(w), 0.5, jnp.asarray(xs64), act=act)
            # contracting dynamics: the f32 trajectory tracks the f64 one; the compensated sum keeps
            # the log to ~1e-6 relative even at |log| ~ 1e4.
            err = np.abs(np.asarray(c32.log_abs, np.float64) - np.asarray(c64.log_abs))
            assert np.all(err <= 1e-5 * (1 + np.abs(np.asarray(c64.log_abs)))), (act, w, err.max())
            np.testing.assert_array_equal(np.asarray(c32.sign), np.asarray(c64.sign))


def test_float32_autodiff_underflow_is_detected_not_hidden(key):
    """tanh with w = 6: f32 autodiff rounds 1 - tanh^2 to 0 where the true value is representable."""
    xs = jax.random.normal(key, (60,))
    closed, fwd, _, _, kappa = _curves(6.0, 0.0, 0.5, xs, "tanh")
    with jax.enable_x64(True):
        truth, _, _, _, _ = _curves(6.0, 0.0, 0.5, jnp.asarray(xs, jnp.float64), "tanh")
    fits = gradients.autodiff_representable(truth, np.float32, "forward")
    spurious = fits & (fwd == 0)
    assert spurious.any()
    assert np.all(np.isinf(kappa[spurious]))  # explained: some |h_t| rounded to exactly 1 in f32
    assert np.all(np.isfinite(np.asarray(closed.log_abs)))  # while the log-space value stays finite


def test_sign_and_exact_zero():
    xs = jnp.zeros(7)
    c = gradients.grad_log_magnitude(_params(-3.0, dtype=jnp.float32), 0.2, xs)
    assert np.asarray(c.sign).tolist() == [-1, 1, -1, 1, -1, 1, -1]
    fwd = gradients.grad_forward(_params(-3.0, dtype=jnp.float32), 0.2, xs)
    np.testing.assert_array_equal(np.sign(np.asarray(fwd)), np.asarray(c.sign))
    z = gradients.grad_log_magnitude(_params(0.0, dtype=jnp.float32), 0.2, xs)
    assert np.all(np.asarray(z.sign) == 0) and np.all(np.isneginf(np.asarray(z.log_abs)))


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.float64])
def test_unstable_fixed_point_is_exactly_w_over_4_to_the_T(dtype):
    with jax.enable_x64(dtype == jnp.float64):
        for w in (-9.0, 4.5, 8.0, 12.0):
            c = jax.jit(gradients.grad_log_magnitude)(_params(w, b=-w / 2, dtype=dtype), jnp.asarray(0.5, dtype),
                                                      jnp.zeros(500, dtype))
            expect = np.arange(1, 501) * math.log(abs(w) / 4)
            np.testing.assert_allclose(np.asarray(c.log_abs, np.float64), expect,
                                       rtol=4 * np.finfo(dtype).eps * 10)


def test_read_idx_equals_full_curve(key):
    xs = jax.random.normal(key, (100,))
    p = _params(5.0, b=-1.0, dtype=jnp.float32)
    full = gradients.grad_log_magnitude(p, 0.3, xs)
    idx = jnp.array([0, 9, 49, 99])
    part = gradients.grad_log_magnitude(p, 0.3, xs, read_idx=idx)
    np.testing.assert_array_equal(np.asarray(part.log_abs), np.asarray(full.log_abs)[np.asarray(idx)])
    sim = gradients.simulate(p, 0.3, xs, read_idx=idx)
    from jaxrnn.core.unroll import unroll
    from jaxrnn.core.cells import scalar_cell
    np.testing.assert_allclose(np.asarray(sim), np.asarray(unroll(scalar_cell, p, jnp.float32(0.3), xs))[np.asarray(idx)],
                               rtol=1e-6)


@settings(max_examples=30, deadline=None)
@given(w=st.floats(-12, 12), b=st.floats(-6, 6), h0=st.floats(0, 1), act=st.sampled_from(ACTIVATIONS))
def test_property_closed_form_vs_forward_float64(w, b, h0, act):
    with jax.enable_x64(True):
        xs = jnp.asarray(np.random.default_rng(0).normal(size=40))
        p = _params(w, b)
        closed = gradients.grad_log_magnitude(p, h0, xs, act=act)
        fwd = np.asarray(gradients.grad_forward(p, h0, xs, act=act))
        kappa = np.asarray(gradients.autodiff_rounding_scale(p, h0, xs, act=act))
    mask = gradients.autodiff_representable(closed, np.float64, "forward") & (fwd != 0)
    err = relative_error(closed, fwd)[mask]
    scale = (kappa + gradients.closed_form_rounding_scale(closed, np.float64))[mask]
    assert np.all(gradients.explained_by_rounding(err, scale, 1e-10))


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_derivative_parts_match_jax_grad(act):
    with jax.enable_x64(True):
        a = jnp.linspace(-15, 15, 3001)
        f = (lambda z: jax.nn.sigmoid(z)) if act == "sigmoid" else jnp.tanh
        value, log_part, lin_part = activation_and_derivative_parts(act, a)
        np.testing.assert_allclose(np.asarray(value), np.asarray(f(a)), rtol=1e-14, atol=1e-300)
        d = np.exp(np.asarray(log_part)) * np.asarray(lin_part)
        auto = np.asarray(jax.vmap(jax.grad(f))(a))
        # agree up to the rounding of autodiff's rule (1 - s rounds where |s| -> 1); none on our side
        s = np.abs(np.asarray(value))
        err = np.abs(d - auto) / d
        eps = np.finfo(np.float64).eps
        assert np.all(err <= 8 * eps * (2 + 1 / (1 - s))), err.max()
        assert np.all(err[np.abs(np.asarray(a)) < 1] <= 1e-14)
        np.testing.assert_allclose(np.exp(np.asarray(log_derivative(act, a))), d, rtol=1e-13)
    # saturated: 1e-300-sized derivatives, where s (1 - s) would give exactly 0
    assert float(log_derivative("sigmoid", jnp.float32(700.0))) == pytest.approx(-700.0, rel=1e-6)
