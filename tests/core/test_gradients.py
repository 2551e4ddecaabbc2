"""Closed form (log space) vs jax.grad vs jax.jvp, in float64 and float32."""

import functools
import math
import os

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
EPS64 = float(np.finfo(np.float64).eps)


# Tolerances on an accelerator. On XLA:CPU every twin's program computes the states h_t with the same
# instructions, so the twins share them bit for bit, and each comparison below allows only the rounding of
# the derivative rules (kappa) and of the closed form (rho), in float64 eps. Another backend (XLA:GPU) fuses
# and contracts each program its own way and uses its own float64 exp/tanh: there the twins' trajectories
# differ by the device's rounding, amplified along the sequence. ``device_ulps()`` measures that rounding
# (in eps) on the device; ``twin_scale`` scales kappa by it and adds the trajectory term; on the CPU both
# are the identity, so the CPU tolerances are exactly the earlier ones.
# JAXRNN_TEST_DEVICE_ULPS=<n> applies the accelerator tolerances with n ulps on any backend (to test them).


@functools.lru_cache(maxsize=None)
def device_ulps() -> float | None:
    """None on the CPU (the twins share their states); elsewhere the measured rounding of the device's
    float64 operations in the cells, in eps (``measure_device_ulps``)."""
    forced = os.environ.get("JAXRNN_TEST_DEVICE_ULPS")
    if forced:
        return float(forced)
    return None if jax.default_backend() == "cpu" else measure_device_ulps()


def measure_device_ulps(n: int = 200_000) -> float:
    """Largest error, in float64 eps (at least 1), of the default device's float64 sigmoid, tanh, exp and
    pre-activation ``u x + w h + b`` (relative to |u x| + |w h| + |b|) against a long-double reference."""
    rng = np.random.default_rng(0)
    a, h, x = rng.uniform(-40, 40, n), rng.uniform(-1, 1, n), rng.normal(size=n)
    w, b, u = rng.uniform(-12, 12, n), rng.uniform(-6, 6, n), np.ones(n)
    with jax.enable_x64(True):
        ops = jax.jit(lambda a, u, x, w, h, b: (jax.nn.sigmoid(a), jnp.tanh(a), jnp.exp(-jnp.abs(a)),
                                                u * x + w * h + b))
        sig, tanh, exp, pre = (np.asarray(v, np.float64) for v in ops(a, u, x, w, h, b))
    L = np.longdouble
    if np.finfo(L).eps < EPS64 / 64:  # extended precision: an (almost) exact reference
        ref = (1 / (1 + np.exp(-a.astype(L))), np.tanh(a.astype(L)), np.exp(-np.abs(a.astype(L))),
               u.astype(L) * x.astype(L) + w.astype(L) * h.astype(L) + b.astype(L))
        slack = 0.0
    else:  # no wider type here: the host's float64 (correct to about 1 ulp) stands in
        ref, slack = (1 / (1 + np.exp(-a)), np.tanh(a), np.exp(-np.abs(a)), u * x + w * h + b), 1.0
    size = (ref[0], np.abs(ref[1]), ref[2], np.abs(u * x) + np.abs(w * h) + np.abs(b))
    worst = max(float(np.max(np.abs(v - r) / np.maximum(m, np.finfo(np.float64).tiny)))
                for v, r, m in zip((sig, tanh, exp, pre), ref, size))
    return max(1.0, worst / EPS64 + slack)


def trajectory_scale(w, b, h0, xs, act, ulps, u=1.0):
    """How far two programs' float64 states and dh_T/dh_0 may part when each rounds to ``ulps`` eps per
    operation, on the host: (sigma (T,), the relative scale of dh_T/dh_0, and E (T,), h (T,), the bound
    on |h_t - h~_t| and the states). A rounding r_t of a_t or h_t moves every later state by the
    Jacobian product since t; a shift of a_t moves log act'(a_t) by |d log act'/da| |shift|."""
    e = 2 * ulps * EPS64  # two programs, each off by ulps
    h, err, total = float(h0), 0.0, 0.0
    sigma, bound, states = [], [], []
    for x in np.asarray(xs, np.float64):
        a = u * x + w * h + b
        da = abs(w) * err + e * (abs(u * x) + abs(w * h) + abs(b))
        if act == "sigmoid":
            h = 1.0 / (1.0 + math.exp(-a)) if a >= 0 else math.exp(a) / (1.0 + math.exp(a))
            deriv, dlog = h * (1.0 - h), abs(1.0 - 2.0 * h)
        else:
            h = math.tanh(a)
            deriv, dlog = 1.0 - h * h, 2.0 * abs(h)
        total += dlog * da
        err = deriv * da + e * abs(h)
        sigma.append(total), bound.append(err), states.append(h)
    return np.array(sigma), np.array(bound), np.array(states)


def twin_scale(kappa, w, b, h0, xs, act):
    """(scale, same): the relative rounding scale of autodiff against its twins (kappa on the CPU; on an
    accelerator kappa times the device's ulps plus the trajectory term), and the lengths up to which the
    programs must agree on where a state rounds to exactly +-1 (all on the CPU; on an accelerator the
    lengths before the first state within the two programs' rounding of +-1)."""
    ulps = device_ulps()
    if ulps is None:
        return kappa, np.ones(kappa.shape, bool)
    sigma, err, h = trajectory_scale(w, b, h0, xs, act, ulps)
    near_one = (1.0 - np.abs(h)) <= 2 * (err + ulps * EPS64)
    return kappa * ulps + sigma, ~np.logical_or.accumulate(near_one)


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
    twin, same = twin_scale(kappa, w, b, h0, xs, act)  # (kappa, all) on the CPU
    scale = twin + gradients.closed_form_rounding_scale(closed, np.float64)
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
    assert np.all(gradients.explained_by_rounding(fr, twin[both], 1e-12))
    # step-wise renormalised autodiff reaches every T, far beyond float64's range, until JAX's
    # rule 1 - s^2 meets an |s| that rounded to exactly 1 (kappa = inf): from there it says 0.
    ok = np.isfinite(kappa) & same
    assert ok.sum() >= min(20, same.sum())  # 20 on the CPU; an accelerator may part sooner in chaotic configs
    np.testing.assert_array_equal(np.asarray(auto.sign)[ok], np.asarray(closed.sign)[ok])
    assert np.all(np.asarray(auto.sign)[~np.isfinite(kappa) & same] == 0) and np.all(np.asarray(closed.sign) != 0)
    dlog = np.abs(np.asarray(auto.log_abs) - np.asarray(closed.log_abs))[ok]
    assert np.all((dlog <= 1e-10) | (dlog <= 8 * scale[ok]))


def test_accelerator_tolerance_explains_parted_trajectories_and_no_more(monkeypatch, key):
    """The accelerator tolerance, checked on the CPU: a reverse-mode twin whose states are pushed by 64 ulps
    per step (as another program's rounding would) is explained by ``twin_scale`` at 64 ulps, is beyond the
    CPU's kappa alone, and a factor 1 + 1e-6 on top of it is still caught."""
    ulps, (w, b, h0), act = 64.0, (-8.0, 2.0, 0.1), "sigmoid"

    def rounded_otherwise(params, h, x, *, act="sigmoid"):
        r1, r2 = jnp.sign(jnp.sin(1234.5 * x + 0.3)), jnp.sign(jnp.sin(777.7 * x + 1.1))
        a = (jnp.sum(params.u * x) + params.w * h + params.b) * (1 + ulps * EPS64 * r1)
        return (jax.nn.sigmoid(a) if act == "sigmoid" else jnp.tanh(a)) * (1 + ulps * EPS64 * r2)

    with jax.enable_x64(True):
        xs = jax.random.normal(key, (T,), dtype=jnp.float64)
        _, fwd, _, _, kappa = _curves(w, b, h0, xs, act)
        monkeypatch.setattr(gradients, "scalar_cell", rounded_otherwise)
        p = _params(w, b)
        rev = np.asarray(jax.jit(jax.vmap(lambda n: gradients.grad_reverse(p, h0, xs, n, act=act)))(
            jnp.arange(1, T + 1)))
    monkeypatch.setenv("JAXRNN_TEST_DEVICE_ULPS", str(ulps))
    device_ulps.cache_clear()
    try:
        twin, same = twin_scale(kappa, w, b, h0, xs, act)
    finally:
        monkeypatch.delenv("JAXRNN_TEST_DEVICE_ULPS")
        device_ulps.cache_clear()
    both = (fwd != 0) & (rev != 0)
    assert both.sum() >= 100 and same.all()
    fr = np.abs(rev[both] - fwd[both]) / np.abs(fwd[both])
    assert np.all(gradients.explained_by_rounding(fr, twin[both], 1e-12))
    assert not np.all(gradients.explained_by_rounding(fr, kappa[both], 1e-12))  # the CPU's bound: too tight here
    off = np.abs(rev[both] * (1 + 1e-6) - fwd[both]) / np.abs(fwd[both])
    assert not np.any(gradients.explained_by_rounding(off, twin[both], 1e-12))
    assert np.all(twin[both] < 1e-8)  # the bound is not vacuous in this contracting config


def test_device_rounding_is_measured():
    """The measurement runs on whatever device JAX has; XLA:CPU's float64 ops are a few ulps off at most."""
    ulps = measure_device_ulps(20_000)
    assert 1.0 <= ulps < 1e3 and (jax.default_backend() != "cpu" or ulps <= 8)


def test_log_space_value_correct_where_float64_underflows(key):
    with jax.enable_x64(True):
        xs = jnp.zeros(1000, jnp.float64)
        closed, fwd, _, auto, kappa = _curves(12.0, 0.0, 0.5, xs, "sigmoid")
    log10 = np.asarray(closed.log_abs) / math.log(10)
    assert log10[-1] < -4000  # about 1e-4100: a result, not an underflow
    assert fwd[-1] == 0.0 and not representable(closed, np.float64)[-1]
    # JAX's rule s (1 - s) at s = 1 - 6e-6 costs ~2e-11 per step: within its rounding scale
    dlog = np.abs(np.asarray(auto.log_abs) - np.asarray(closed.log_abs))
    twin, _ = twin_scale(kappa, 12.0, 0.0, 0.5, np.zeros(1000), "sigmoid")
    assert np.all(dlog <= 8 * (twin + gradients.closed_form_rounding_scale(closed, np.float64)))
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
    twin, _ = twin_scale(kappa, w, b, h0, np.asarray(xs), act)
    scale = (twin + gradients.closed_form_rounding_scale(closed, np.float64))[mask]
    assert np.all(gradients.explained_by_rounding(err, scale, 1e-10))


@pytest.mark.parametrize("act", ACTIVATIONS)
def test_derivative_parts_match_jax_grad(act):
    with jax.enable_x64(True):
        a = jnp.linspace(-15, 15, 3001)
        f = (lambda z: jax.nn.sigmoid(z)) if act == "sigmoid" else jnp.tanh
        value, log_part, lin_part = activation_and_derivative_parts(act, a)
        ulps = device_ulps() or 1.0  # 1 on the CPU: the tolerances below as they always were
        np.testing.assert_allclose(np.asarray(value), np.asarray(f(a)), rtol=max(1e-14, 4 * ulps * EPS64),
                                   atol=1e-300)
        d = np.exp(np.asarray(log_part)) * np.asarray(lin_part)
        auto = np.asarray(jax.vmap(jax.grad(f))(a))
        # agree up to the rounding of autodiff's rule (1 - s rounds where |s| -> 1); none on our side
        s = np.abs(np.asarray(value))
        err = np.abs(d - auto) / d
        eps = ulps * EPS64
        assert np.all(err <= 8 * eps * (2 + 1 / (1 - s))), err.max()
        assert np.all(err[np.abs(np.asarray(a)) < 1] <= max(1e-14, 8 * eps * 3))
        np.testing.assert_allclose(np.exp(np.asarray(log_derivative(act, a))), d, rtol=1e-13)
    # saturated: 1e-300-sized derivatives, where s (1 - s) would give exactly 0
    assert float(log_derivative("sigmoid", jnp.float32(700.0))) == pytest.approx(-700.0, rel=1e-6)
