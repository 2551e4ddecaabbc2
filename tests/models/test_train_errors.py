"""models.train: the error counting of each task on hand-made batches, and training that must learn."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn.core.cells import VectorParams
from jaxrnn.models import tasks, train


def _constant_model(n_in: int, out) -> train.RNNParams:
    """An RNN whose output is the constant ``out`` whatever the input (W = U = V = 0, c = out)."""
    out = jnp.asarray(out, jnp.float32)
    n = 3
    return train.RNNParams(VectorParams(jnp.zeros((n, n)), jnp.zeros((n, n_in)), jnp.zeros(n)),
                           jnp.zeros((out.size, n)), out)


def _batch(task, targets, length=5):
    B = len(targets)
    x = jnp.zeros((B, length, tasks.n_inputs(task)))
    dtype = jnp.float32 if tasks.is_regression(task) else jnp.int32
    return tasks.Batch(x, jnp.asarray(targets, dtype), jnp.full((B,), length, jnp.int32))


@pytest.mark.parametrize("task", ["addition", "multiplication"])
def test_regression_errors_on_a_hand_made_batch(task):
    """Prediction 0.5 against targets 0.5, 0.75, 0.31, 0.29, 0.69, 0.71: squared errors 0, 0.0625, 0.0361,
    0.0441, 0.0361, 0.0441; wrong when > 0.04 (Pascanu's criterion): F, T, F, T, F, T."""
    targets = [0.5, 0.75, 0.31, 0.29, 0.69, 0.71]
    loss, wrong = train.loss_and_wrong(task, _constant_model(2, [0.5]), _batch(task, targets))
    assert np.asarray(wrong).tolist() == [False, True, False, True, False, True]
    expect = np.mean((np.asarray(targets) - 0.5) ** 2)
    assert float(loss) == pytest.approx(expect, rel=1e-5)


def test_temporal_order_errors_on_a_hand_made_batch():
    """Logits (0, 2, 0, -1): the arg-max class is 1; targets 1, 0, 3, 1, 2 are wrong at 0, 3, 2 -> F, T, T, F, T;
    the loss is the mean cross-entropy, -log softmax(logits)[target], computed here with numpy."""
    logits = np.array([0.0, 2.0, 0.0, -1.0])
    targets = [1, 0, 3, 1, 2]
    loss, wrong = train.loss_and_wrong("temporal_order", _constant_model(6, logits), _batch("temporal_order", targets))
    assert np.asarray(wrong).tolist() == [False, True, True, False, True]
    logp = logits - np.log(np.exp(logits).sum())
    assert float(loss) == pytest.approx(-np.mean(logp[targets]), rel=1e-5)


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


def test_training_lowers_the_loss_on_a_toy():
    """Temporal order at length 5 (the two keys at positions 0-1 and 2), 8 units, 300 steps: plain SGD with norm
    clipping and Adam each end with a fresh-sequence loss below half the constant predictor's ln 4 (a factor 2;
    gradient ascent or a dropped update ends at or above ln 4)."""
    rows = train.check_rows({"method": [2, 2], "tau": [1.0, 1.0], "opt": [0, 1], "lr": [0.5, 0.02],
                             "radius": [1.0, 1.0], "seed": [1, 2]})
    rec = train.train_grid(rows, task="temporal_order", n=8, length_min=5, length_max=5, batch=20, steps=300,
                           checks=3, n_eval=256, eval_key=jax.random.key(0))
    const = tasks.CONSTANT_LOSS["temporal_order"]
    first = np.asarray(rec.loss)[:, 0]
    assert np.all(first > 0.8 * const)  # it starts near the constant predictor
    print(first, np.asarray(rec.eval_loss))
    assert np.all(np.asarray(rec.eval_loss)[:, -1] < 0.5 * const), rec.eval_loss
