"""The clipping study's training loop must learn, and its error counting on hand-made batches."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn.core.cells import VectorParams
from jaxrnn.models import tasks, train


@pytest.mark.parametrize("task", ["addition", "temporal_order"])
def test_training_learns_a_short_task(task):
    """``train_grid`` must learn at L = 4 (markers at steps 0 and 1, read at step 4): every optimiser and
    clipping row lowers its training loss 20-fold from the first 5 steps to the last 20, and ends with an
    evaluation loss under a tenth of the best constant predictor's (measured: 30-100x below it, and the
    loss falls 50-400x, so both factors leave >= 2.5x room; gradient ascent or an update that is never
    applied fails both)."""
    rows = train.check_rows({"method": [0, 1, 2, 0], "tau": [1.0] * 4, "opt": [0, 0, 1, 1],
                             "lr": [0.1, 0.1, 1e-2, 1e-2], "radius": [1.0] * 4, "seed": [0, 1, 2, 3]})
    rec = train.train_grid(rows, task=task, n=8, length_min=4, length_max=4, batch=32, steps=400, checks=2,
                           n_eval=256, eval_key=jax.random.key(7), chunk_rows=4)
    first, last = rec.loss[:, :5].mean(axis=1), rec.loss[:, -20:].mean(axis=1)
    assert np.all(last < first / 20), (first, last)
    assert np.all(rec.eval_loss[:, -1] < tasks.CONSTANT_LOSS[task] / 10), rec.eval_loss
    assert np.all(rec.eval_error[:, -1] <= 0.01)  # Pascanu's success: under 1 % wrong


def _constant_model(out: np.ndarray, n: int = 3, k: int = 2) -> train.RNNParams:
    """W = U = 0, b = 0: h_L = 0 whatever the inputs, so the prediction is the readout bias ``out``."""
    cell = VectorParams(jnp.zeros((n, n)), jnp.zeros((n, k)), jnp.zeros(n))
    return train.RNNParams(cell, jnp.zeros((len(out), n)), jnp.asarray(out, jnp.float32))


@pytest.mark.parametrize("task", ["addition", "multiplication"])
def test_regression_errors_are_squared_errors_above_0_04(task):
    """Prediction 0.5 against targets 0.5 +- d: wrong exactly where d^2 > 0.04, i.e. |d| > 0.2 (the
    margins 0.19 / 0.21 are 10x float32's rounding of d^2 away from the line; |d| > 0.04 or d^2 > 0.4
    would flag other rows)."""
    d = np.array([0.0, 0.1, -0.19, 0.19, 0.21, -0.21, 0.5, -0.45], np.float32)
    batch = tasks.Batch(jnp.zeros((len(d), 5, 2)), jnp.asarray(0.5 + d), jnp.full(len(d), 5, jnp.int32))
    loss, wrong = train.loss_and_wrong(task, _constant_model(np.array([0.5])), batch)
    np.testing.assert_array_equal(np.asarray(wrong), d.astype(np.float64) ** 2 > 0.04)
    assert float(loss) == pytest.approx(float(np.mean(d.astype(np.float64) ** 2)), rel=1e-5)
    assert int(np.asarray(wrong).sum()) == 4


def test_temporal_order_errors_are_wrong_argmax_classes():
    """Logits (0, 2, 1, -1): class 1 is predicted; targets 0..3 -> only class 1 is right; the loss is the
    mean cross-entropy log sum exp(z) - z_target (float64 twin; float32 rounding is ~1e-7 relative)."""
    z = np.array([0.0, 2.0, 1.0, -1.0])
    target = np.array([0, 1, 2, 3, 1, 1], np.int32)
    batch = tasks.Batch(jnp.zeros((len(target), 5, 6)), jnp.asarray(target), jnp.full(len(target), 5, jnp.int32))
    loss, wrong = train.loss_and_wrong("temporal_order", _constant_model(z, k=6), batch)
    np.testing.assert_array_equal(np.asarray(wrong), target != 1)
    lse = math.log(np.exp(z).sum())
    assert float(loss) == pytest.approx(float(np.mean(lse - z[target])), rel=1e-5)


def test_the_prediction_reads_the_state_after_the_last_real_input():
    """One unit that adds its inputs (W = 1, U = (0.1, 0), tanh): with lengths 1..4 the output is
    tanh(0.1 tanh(...)) over exactly ``length`` steps of the marker channel; padding is never read."""
    cell = VectorParams(jnp.ones((1, 1)), jnp.asarray([[0.1, 0.0]]), jnp.zeros(1))
    p = train.RNNParams(cell, jnp.ones((1, 1)), jnp.zeros(1))
    x = np.zeros((4, 6, 2), np.float32)
    x[:, :, 0] = 1.0  # marker channel on everywhere, padding included
    length = np.array([1, 2, 3, 4], np.int32)
    got = [float(train.predict(p, jnp.asarray(x[i]), jnp.int32(length[i]))[0]) for i in range(4)]
    want = []
    for L in length:
        h = 0.0
        for _ in range(L):
            h = math.tanh(h + 0.1)
        want.append(h)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_error_rate_of_an_evaluation_is_the_share_wrong():
    """The evaluation error a run records is the share of wrong sequences (not the count, not 1 - share)."""
    rows = train.check_rows({"method": [0], "tau": [1.0], "opt": [0], "lr": [1e-9], "radius": [0.0], "seed": [0]})
    rec = train.train_grid(rows, task="temporal_order", n=2, length_min=6, length_max=6, batch=2, steps=1, checks=1,
                           n_eval=400, eval_key=jax.random.key(3))
    p = train.init_rnn(jax.random.split(jax.random.key(0))[0], 2, 6, 4, 0.0)
    ev = tasks.make_batch("temporal_order", jax.random.fold_in(jax.random.key(3), 0), 6, 6, 400, per_sequence=True)
    _, wrong = train.loss_and_wrong("temporal_order", p, ev)
    assert 0 < rec.eval_error[0, 0] < 1
    assert rec.eval_error[0, 0] == pytest.approx(float(np.mean(np.asarray(wrong))), abs=0.01)
