"""Conditional digit tasks: layout, targets, the given part always forced (SEP included), greedy
accuracies against a plain loop."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn.models import conditional as Q
from jaxrnn.models import lm

M = 5


@pytest.mark.parametrize("task", [0, 1])
def test_batch_layout_and_targets(task):
    data = Q.digit_batch(task, jax.random.key(3), batch=64, digits=M)
    tok = np.asarray(data.tokens)
    assert tok.shape == (64, 2 * M + 2)
    for row in tok:  # the obvious twin, one example at a time
        d = list(row[:M])
        want = d[::-1] if task == 0 else sorted(d)
        assert row[M] == Q.SEP and row[-1] == Q.EOS and list(row[M + 1:2 * M + 1]) == want
        assert all(0 <= x <= 9 for x in d)
    scored, forced = np.asarray(data.loss_mask), np.asarray(data.forced)
    np.testing.assert_array_equal(scored[0], np.arange(2 * M + 2) > M)  # o_1..o_m and EOS
    np.testing.assert_array_equal(forced[0], np.arange(2 * M + 2) <= M)  # d_1..d_m and SEP


@pytest.mark.parametrize("task", [0, 1])
def test_free_running_feeds_every_given_input_true_sep_included(task):
    """Under eps = 0 every input of the given part, SEP included, is the true token; after SEP the
    model's own samples are fed (so the check is not vacuous)."""
    p = lm.init_lm(jax.random.key(7), Q.VOCAB, 8)
    data = Q.digit_batch(task, jax.random.key(4), batch=256, digits=M)
    fed = np.asarray(lm.batch_inputs(p, data, 0.0, jax.random.key(5)))
    tok = np.asarray(data.tokens)
    assert np.all(fed[:, 0] == Q.VOCAB + 1)  # BOS
    np.testing.assert_array_equal(fed[:, 1:M + 1], tok[:, :M])  # the digits
    np.testing.assert_array_equal(fed[:, M + 1], np.full(256, Q.SEP))  # the separator, before the first output
    assert np.mean(fed[:, M + 2:] != tok[:, M + 1:-1]) > 0.5  # outputs: an untrained model's own samples
    # the check catches the old bug (forced = steps < digits left SEP to the coin)
    buggy = data._replace(forced=jnp.broadcast_to(jnp.arange(2 * M + 2) < M, tok.shape))
    fed_bug = np.asarray(lm.batch_inputs(p, buggy, 0.0, jax.random.key(5)))
    assert np.any(fed_bug[:, M + 1] != Q.SEP)


def _greedy_twin(p, row, own: bool):
    h = lm.lm_state0(p)
    ok = []
    for t, y in enumerate(row):
        pred = int(jnp.argmax(lm.lm_logits(p, h)))
        if t > M:
            ok.append(pred == int(y))
        fed = int(y) if (t <= M or not own) else pred
        h = lm.lm_transition(p, h, fed)
    return ok


def test_accuracies_match_a_plain_loop():
    with jax.enable_x64(True):
        p = jax.tree.map(lambda a: a.astype(jnp.float64) if a.dtype == jnp.float32 else a,
                         lm.init_lm(jax.random.key(1), Q.VOCAB, 6))
        tokens = Q.heldout_set(0, 11, n_test=12, digits=M)
        acc = Q.accuracy(p, tokens, M)
        own = np.asarray([_greedy_twin(p, row, True) for row in np.asarray(tokens)])
        oracle = np.asarray([_greedy_twin(p, row, False) for row in np.asarray(tokens)])
        np.testing.assert_allclose(np.asarray(acc["acc_own"]), own.mean(0))
        np.testing.assert_allclose(np.asarray(acc["acc_oracle"]), oracle.mean(0))
        assert float(acc["seq_own"]) == own.all(1).mean() and float(acc["seq_oracle"]) == oracle.all(1).mean()
        row = Q.row_own_accuracy(p, {"task": jnp.int32(0), "test_seed": jnp.int32(11)}, n_test=12, digits=M)
        np.testing.assert_allclose(np.asarray(row["acc_own"]), own.mean(0))


def test_first_output_position_reads_the_same_prefix_both_ways():
    """The first output position reads the same (true) prefix both ways, so its own and oracle
    accuracies agree exactly for any model (later positions need not)."""
    p = lm.init_lm(jax.random.key(2), Q.VOCAB, 6)
    tokens = Q.heldout_set(1, 5, n_test=200, digits=M)
    acc = Q.accuracy(p, tokens, M)
    assert float(acc["acc_own"][0]) == float(acc["acc_oracle"][0])
