"""Conditional digit tasks: layout, targets (running sums depend on the previous output), the given part
always forced (SEP included), greedy accuracies against a plain loop, own vs oracle token accuracy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn.models import conditional as Q
from jaxrnn.models import lm

M = 5


def _layout(task):
    """(digit positions, output positions) of the stream, written out by hand."""
    if task == Q.RUNNING_SUM:  # d_1 o_1 .. d_m o_m SEP EOS
        return list(range(0, 2 * M, 2)), list(range(1, 2 * M, 2)) + [2 * M + 1]
    return list(range(M)), list(range(M + 1, 2 * M + 2))  # d_1 .. d_m SEP o_1 .. o_m EOS


@pytest.mark.parametrize("task", [0, 1, 2])
def test_batch_layout_and_targets(task):
    data = Q.digit_batch(task, jax.random.key(3), batch=64, digits=M)
    tok = np.asarray(data.tokens)
    assert tok.shape == (64, 2 * M + 2)
    dpos, opos = _layout(task)
    for row in tok:  # the obvious twin, one example at a time
        d = [int(x) for x in row[dpos]]
        if task == 0:
            want = d[::-1]
        elif task == 1:
            want = sorted(d)
        else:
            want, total = [], 0
            for x in d:
                total = (total + x) % 10
                want.append(total)
        sep = 2 * M if task == Q.RUNNING_SUM else M
        assert list(row[opos[:-1]]) == want and row[opos[-1]] == Q.EOS and row[sep] == Q.SEP
        assert all(0 <= x <= 9 for x in d)
    scored, forced = np.asarray(data.loss_mask), np.asarray(data.forced)
    want_scored = np.isin(np.arange(2 * M + 2), opos)
    np.testing.assert_array_equal(scored[0], want_scored)  # o_1..o_m and EOS
    np.testing.assert_array_equal(forced[0], ~want_scored)  # the digits and SEP
    np.testing.assert_array_equal(np.asarray(Q.output_positions(task, M)), opos)


def test_running_sum_target_depends_on_the_previous_output():
    """o_j = (o_{j-1} + d_j) mod 10 on every example, and o_j is NOT a function of (j, d_j) alone:
    examples with the same position and digit have different outputs, told apart by o_{j-1}. In
    reversal, by contrast, o_j is the same for the same (j, input)."""
    tok = np.asarray(Q.digit_batch(2, jax.random.key(8), batch=512, digits=M).tokens)
    d, o = tok[:, 0:2 * M:2], tok[:, 1:2 * M:2]
    np.testing.assert_array_equal(o[:, 1:], (o[:, :-1] + d[:, 1:]) % 10)
    for j in range(1, M):
        same_digit = d[:, j] == 3
        assert len(set(o[same_digit, j])) == 10  # every output occurs for the same (j, d_j) ...
        for prev in range(10):  # ... and is fixed once the previous output is given
            assert len(set(o[same_digit & (o[:, j - 1] == prev), j])) <= 1
    rev = np.asarray(Q.digit_batch(0, jax.random.key(8), batch=512, digits=M).tokens)
    np.testing.assert_array_equal(rev[:, M + 1:2 * M + 1], rev[:, :M][:, ::-1])


@pytest.mark.parametrize("task", [0, 1, 2])
def test_free_running_feeds_every_given_input_true_sep_included(task):
    """Under eps = 0 every input of the given part, SEP included, is the true token; after SEP the
    model's own samples are fed (so the check is not vacuous)."""
    p = lm.init_lm(jax.random.key(7), Q.VOCAB, 8)
    data = Q.digit_batch(task, jax.random.key(4), batch=256, digits=M)
    fed = np.asarray(lm.batch_inputs(p, data, 0.0, jax.random.key(5)))
    tok = np.asarray(data.tokens)
    assert np.all(fed[:, 0] == Q.VOCAB + 1)  # BOS
    dpos, opos = _layout(task)
    given = [t for t in range(2 * M + 1) if t not in opos]  # digits and SEP (fed at step t + 1)
    np.testing.assert_array_equal(fed[:, np.asarray(given) + 1], tok[:, given])
    outs = np.asarray(opos[:-1])  # o_1..o_m are fed back (EOS is never an input)
    assert np.mean(fed[:, outs + 1] != tok[:, outs]) > 0.5  # outputs: an untrained model's own samples
    if task == Q.RUNNING_SUM:
        return
    # the check catches the old bug (forced = steps < digits left SEP to the coin)
    buggy = data._replace(forced=jnp.broadcast_to(jnp.arange(2 * M + 2) < M, tok.shape))
    fed_bug = np.asarray(lm.batch_inputs(p, buggy, 0.0, jax.random.key(5)))
    assert np.any(fed_bug[:, M + 1] != Q.SEP)


def _greedy_twin(p, row, own: bool, task: int = 0):
    _, opos = _layout(task)
    h = lm.lm_state0(p)
    ok = []
    for t, y in enumerate(row):
        pred = int(jnp.argmax(lm.lm_logits(p, h)))
        if t in opos:
            ok.append(pred == int(y))
        fed = pred if (own and t in opos) else int(y)
        h = lm.lm_transition(p, h, fed)
    return ok


@pytest.mark.parametrize("task", [0, 2])
def test_accuracies_match_a_plain_loop(task):
    with jax.enable_x64(True):
        p = jax.tree.map(lambda a: a.astype(jnp.float64) if a.dtype == jnp.float32 else a,
                         lm.init_lm(jax.random.key(1), Q.VOCAB, 6))
        tokens = Q.heldout_set(task, 11, n_test=12, digits=M)
        acc = Q.accuracy(p, tokens, M, task)
        own = np.asarray([_greedy_twin(p, row, True, task) for row in np.asarray(tokens)])
        oracle = np.asarray([_greedy_twin(p, row, False, task) for row in np.asarray(tokens)])
        np.testing.assert_allclose(np.asarray(acc["acc_own"]), own.mean(0))
        np.testing.assert_allclose(np.asarray(acc["acc_oracle"]), oracle.mean(0))
        assert float(acc["seq_own"]) == own.all(1).mean() and float(acc["seq_oracle"]) == oracle.all(1).mean()
        row = Q.row_accuracy(p, {"task": jnp.int32(task), "test_seed": jnp.int32(11)}, n_test=12, digits=M)
        np.testing.assert_allclose(np.asarray(row["acc_own"]), own.mean(0))
        np.testing.assert_allclose(np.asarray(row["acc_oracle"]), oracle.mean(0))


def test_c8_token_accuracy_differs_between_own_and_oracle_prefixes():
    """On a model that reads its fed-back outputs (an untrained GRU on running sums) the C8 measure,
    digit accuracy, differs between own and oracle prefixes after the first output, while whole-sequence
    accuracy is the same event both ways (greedy, deterministic targets), so it can never show exposure bias."""
    p = lm.init_lm(jax.random.key(4), Q.VOCAB, 8)
    tokens = Q.heldout_set(2, 3, n_test=500, digits=M)
    acc = jax.tree.map(np.asarray, Q.accuracy(p, tokens, M, 2))
    assert acc["acc_own"][0] == acc["acc_oracle"][0]  # the first output reads the same prefix
    assert np.any(np.abs(acc["acc_own"][1:M] - acc["acc_oracle"][1:M]) > 0.02)
    ok_own = jax.vmap(lambda t: Q.own_correct(p, t, M, 2))(tokens)
    ok_orc = jax.vmap(lambda t: Q.oracle_correct(p, t, M, 2))(tokens)
    np.testing.assert_array_equal(np.asarray(ok_own.all(1)), np.asarray(ok_orc.all(1)))
    assert np.any(np.asarray(ok_own) != np.asarray(ok_orc))


def test_first_output_position_reads_the_same_prefix_both_ways():
    """The first output position reads the same (true) prefix both ways, so its own and oracle
    accuracies agree exactly for any model (later positions need not)."""
    p = lm.init_lm(jax.random.key(2), Q.VOCAB, 6)
    tokens = Q.heldout_set(1, 5, n_test=200, digits=M)
    acc = Q.accuracy(p, tokens, M, 1)
    assert float(acc["acc_own"][0]) == float(acc["acc_oracle"][0])
