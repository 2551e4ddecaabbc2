"""Skip-connection RNN: transfer-matrix closed form vs jax.grad / jax.jvp, the path view, the study."""

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn.studies import skip_connections
from jaxrnn.io.runner import run as run_study
from jaxrnn.core import gradients
from jaxrnn.core.cells import ACTIVATIONS, ScalarParams, SkipParams
from jaxrnn.core.logspace import relative_error


def _p(w, m, b=0.0, dtype=jnp.float64):
    return SkipParams(*(jnp.asarray(v, dtype) for v in (w, m, 1.0, b)))


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("w,m", [(1.0, 2.0), (0.5, 0.5), (3.0, 1.5), (2.0, 4.0), (6.0, 3.0)])
def test_skip_closed_form_matches_grad_and_jvp_float64(act, w, m, key):
    """Same-sign weights (no cancellation between paths): 1e-10, or autodiff's own rounding bound."""
    T = 150
    with jax.enable_x64(True):
        xs = jax.random.normal(key, (T,), dtype=jnp.float64)
        p = _p(w, m)
        closed = jax.jit(functools.partial(gradients.skip_grad_log_magnitude, act=act))(p, 0.5, 0.5, xs)
        fwd = np.asarray(jax.jit(functools.partial(gradients.skip_grad_forward, act=act))(p, 0.5, 0.5, xs))
        rev = np.asarray(jax.jit(jax.vmap(lambda n: gradients.skip_grad_reverse(p, 0.5, 0.5, xs, n, act=act)))(
            jnp.arange(1, T + 1)))
        kappa = np.asarray(gradients.skip_rounding_scale(p, 0.5, 0.5, xs, act=act))
    scale = kappa + gradients.closed_form_rounding_scale(closed, np.float64) + 4e-16 * np.arange(1, T + 1)
    for value, mode in ((fwd, "forward"), (rev, "reverse")):
        mask = gradients.autodiff_representable(closed, np.float64, mode) & (value != 0)
        assert mask.sum() >= 20
        err = relative_error(closed, value)[mask]
        assert np.all(gradients.explained_by_rounding(err, scale[mask], 1e-10)), err.max()


def test_skip_with_m_zero_is_the_scalar_rnn(key):
    xs = jax.random.normal(key, (300,))
    for act in ACTIVATIONS:
        skip = gradients.skip_grad_log_magnitude(_p(3.0, 0.0, dtype=jnp.float32), 0.5, 0.5, xs, act=act)
        plain = gradients.grad_log_magnitude(ScalarParams(jnp.float32(3.0), jnp.float32(1.0), jnp.float32(0.0)),
                                             0.5, xs, act=act)
        np.testing.assert_allclose(np.asarray(skip.log_abs), np.asarray(plain.log_abs), rtol=2e-5)
        np.testing.assert_array_equal(np.asarray(skip.sign), np.asarray(plain.sign))


def test_skip_closed_form_path_sum_and_fair_gain(key):
    T = 40
    with jax.enable_x64(True):
        xs = jax.random.normal(key, (T,), dtype=jnp.float64)
        p = _p(1.0, 1.5)
        contrib, count = gradients.skip_path_sums(p, 0.5, 0.5, xs, act="sigmoid")
        closed = gradients.skip_grad_log_magnitude(p, 0.5, 0.5, xs, act="sigmoid")
    value = float(np.asarray(closed.sign)[-1] * np.exp(np.asarray(closed.log_abs)[-1]))
    assert abs(contrib.sum() - value) <= 1e-10 * abs(value)
    # compositions of T into 1s and 2s: C(k, T - k) paths with k edges, Fibonacci(T + 1) in all
    k = np.arange(T + 1)
    expect = np.array([math.comb(int(kk), T - int(kk)) if 2 * kk >= T else 0 for kk in k])
    np.testing.assert_array_equal(count, expect)
    fib = [1, 1]
    while len(fib) < T + 2:
        fib.append(fib[-1] + fib[-2])
    assert count.sum() == fib[T]
    # fewer factors per path: the all-one-step path is a vanishing share of the sum
    assert abs(contrib[T]) < 1e-6 * np.abs(contrib).sum()


def test_quick_end_to_end(tmp_path):
    s = run_study(skip_connections.STUDY, skip_connections.Config.quick(), tmp_path / "skip_connections")
    assert s["claims"]["C4"]["verdict"] in ("confirmed", "nuanced", "refuted")
    for act, rep in s["agreement"].items():
        for tag in ("float32", "float64"):
            for mode in ("forward_vs_closed", "reverse_vs_closed"):
                assert rep[tag][mode]["points"] > 10 and rep[tag][mode]["unexplained"] == 0, (act, tag, mode)
    assert s["paths"]["rel_diff"] < 1e-10
    assert len(s["figures"]) == 4
