"""Clipping: optax's geometry, the cliff gradient, task generators, vmapped training, non-finite gradients."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from jaxrnn.studies import clipping
from jaxrnn.io.runner import run as run_study
import jaxrnn.studies.clipping.compute as cs
from jaxrnn.models import tasks
from jaxrnn.models import train
from jaxrnn.io.config import ConfigError


def test_norm_clipping_keeps_direction_value_clipping_does_not(key):
    g = [jax.random.t(key, 1.5, (64,)), 3 * jax.random.t(jax.random.fold_in(key, 1), 1.5, (32,))]
    taus = jnp.geomspace(1e-3, 1e3, 13)
    cos, ratio = jax.jit(jax.vmap(lambda t: cs.clip_geometry(g, t)))(taus)
    cos, ratio = np.asarray(cos), np.asarray(ratio)
    norm_i, value_i = cs.CLIPS.index("global_norm"), cs.CLIPS.index("value")
    np.testing.assert_allclose(cos[:, norm_i], 1.0, atol=1e-6)  # the direction, to rounding
    assert cos[:, value_i].min() < 0.9  # value clipping turns it
    assert np.all(ratio <= 1 + 1e-6)  # every clipping shrinks (or keeps) the norm
    # large tau: nothing is clipped
    np.testing.assert_allclose(cos[-1], 1.0, atol=1e-6)
    np.testing.assert_allclose(ratio[-1], 1.0, atol=1e-6)


def test_cliff_gradient_closed_form_vs_autodiff():
    with jax.enable_x64(True):
        for w, b in ((5.0, -2.5), (9.0, -5.0), (2.0, 0.3), (-3.0, 1.0), (12.0, -6.1)):
            theta = jnp.array([w, b], jnp.float64)
            auto = jax.grad(cs.cliff_loss)(theta)
            closed = cs.cliff_grad_closed_form(theta)
            fwd = jax.jacfwd(cs.cliff_loss)(theta)
            np.testing.assert_allclose(np.asarray(closed), np.asarray(auto), rtol=1e-9, atol=1e-300)
            np.testing.assert_allclose(np.asarray(fwd), np.asarray(auto), rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("length", [2, 10, 15, 50])
def test_addition_generator(length, key):
    b = tasks.addition_batch(key, length, 256)
    markers = np.asarray(b.inputs[..., 1])
    assert np.all(markers.sum(axis=1) == 2)
    (a0, a1), (b0, b1) = tasks.marker_ranges("addition", length)
    first = markers.argmax(axis=1)
    second = length - 1 - markers[:, ::-1].argmax(axis=1)
    assert np.all((first >= a0) & (first < a1)) and np.all((second >= b0) & (second < b1))
    expect = 0.5 * (np.asarray(b.inputs[..., 0]) * markers).sum(axis=1)
    np.testing.assert_allclose(np.asarray(b.target), expect, rtol=1e-6)


@pytest.mark.parametrize("length", [10, 25, 60])
def test_temporal_order_generator(length, key):
    b = tasks.temporal_order_batch(key, length, 256)
    sym = np.asarray(b.inputs).argmax(-1)
    (a0, a1), (b0, b1) = tasks.marker_ranges("temporal_order", length)
    for s, target in zip(sym, np.asarray(b.target)):
        keys = np.flatnonzero(s < 2)
        assert len(keys) == 2 and a0 <= keys[0] < a1 and b0 <= keys[1] < b1
        assert target == s[keys[0]] * 2 + s[keys[1]]


def test_vmapped_training_equals_single_config_training():
    rows = {"method": np.array([2, 1, 0], np.int32), "tau": np.array([0.5, 0.1, 1.0], np.float32),
            "lr": np.array([1e-2, 3e-3, 1e-2], np.float32), "radius": np.array([1.5, 1.0, 2.0], np.float32),
            "seed": np.array([3, 4, 5], np.int32)}
    kw = dict(task="addition", n=8, length=6, batch=8, steps=40, chunk=20, log_every=10, n_eval=64,
              eval_key=jax.random.key(9), progress=False)
    many = train.train_grid(rows, **kw)
    for i in range(3):
        one = train.train_grid({k: v[i:i + 1] for k, v in rows.items()}, **kw)
        np.testing.assert_allclose(one.loss[0], many.loss[i], rtol=2e-5)
        np.testing.assert_allclose(one.grad_norm_max[0], many.grad_norm_max[i], rtol=2e-5)
        assert one.error_rate[0] == pytest.approx(many.error_rate[i], abs=1 / 64 + 1e-9)


def test_nonfinite_gradients():
    rep = cs.nonfinite_report()
    assert rep["inf"]["value"] == ["1.0", "1.0", "-1.0"]  # value clipping turns inf into tau
    assert rep["nan"]["value"][0] == "nan"  # ... but passes nan through
    assert all(v == "nan" for v in rep["nan"]["global_norm"])  # norm clipping spreads nan everywhere
    for kind in ("inf", "nan"):  # the suite's choice: apply_if_finite skips the step
        assert rep[kind]["apply_if_finite(sgd)"]["update"] == ["0.0", "0.0", "0.0"]
        assert rep[kind]["apply_if_finite(sgd)"]["notfinite_count"] == 1
    # and the training optimizer really is wrapped: a nan gradient leaves the parameters unchanged
    opt = train.optimizer(jnp.int32(2), 1.0, 0.1)
    p = {"w": jnp.ones(3)}
    s = opt.init(p)
    u, s = opt.update({"w": jnp.array([jnp.nan, 1.0, 1.0])}, s, p)
    np.testing.assert_array_equal(np.asarray(optax.apply_updates(p, u)["w"]), np.ones(3))


def test_bad_options():
    with pytest.raises(ValueError, match="threshold"):
        train.check_threshold(0.0)
    with pytest.raises(ValueError, match="threshold"):
        train.check_threshold(float("inf"))
    with pytest.raises(ValueError, match="method"):
        train.check_method("percentile")
    with pytest.raises(ValueError, match="L must be"):
        tasks.addition_batch(jax.random.key(0), 1, 4)
    with pytest.raises(ConfigError, match="--thresholds"):
        clipping.Config(thresholds=(0.1, -1.0)).validate()
    with pytest.raises(ConfigError, match="--length-addition"):
        clipping.Config(length_addition=1).validate()


def test_quick_end_to_end(tmp_path):
    s = run_study(clipping.STUDY, clipping.Config.quick(), tmp_path / "clipping")
    assert s["claims"]["C5"]["verdict"] in ("confirmed", "nuanced")
    assert s["direction"]["worst_cosine"]["global_norm"] > 1 - 1e-5
    assert len(s["figures"]) == 4
