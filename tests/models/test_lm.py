"""GRU language model training regimes: schedules and their floors, coin flips, own draws, teacher
forcing against a plain loop, vmapped training against single runs."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn.models import lm
from jaxrnn.models import sources as S


def eps_of(kind, k, c, e, i):
    return np.asarray(lm.schedule_eps(lm.SCHEDULES.index(kind), k, c, e, i))


def test_schedules_follow_their_formulas():
    i = np.arange(0, 1000, 7)
    np.testing.assert_allclose(eps_of("constant", 0.3, 0.0, 0.0, i), 0.3, rtol=1e-6)
    np.testing.assert_allclose(eps_of("linear", 1.0, 0.002, 0.1, i), np.maximum(0.1, 1.0 - 0.002 * i), rtol=1e-5)
    np.testing.assert_allclose(eps_of("exponential", 0.99, 0.0, 0.0, i), 0.99 ** i, rtol=1e-4, atol=1e-30)
    np.testing.assert_allclose(eps_of("inverse_sigmoid", 50.0, 0.0, 0.0, i), 50 / (50 + np.exp(i / 50)), rtol=1e-4)
    # the floor applies to every decay (not only Bengio et al.'s linear one), never to a constant
    np.testing.assert_allclose(eps_of("exponential", 0.99, 0.0, 0.2, i), np.maximum(0.2, 0.99 ** i), rtol=1e-4)
    np.testing.assert_allclose(eps_of("inverse_sigmoid", 50.0, 0.0, 0.2, i),
                               np.maximum(0.2, 50 / (50 + np.exp(i / 50))), rtol=1e-4)
    np.testing.assert_allclose(eps_of("constant", 0.0, 0.0, 0.0, i), 0.0)


@pytest.mark.parametrize("steps,floor,end", [(1000, 0.25, 0.6), (40, 0.25, 0.6), (500, 0.05, 0.9), (3000, 0.5, 0.3)])
def test_bengio_schedules_reach_their_floor_and_stay_there(steps, floor, end):
    i = np.arange(0, 3 * steps)
    for kind, k, c, e in lm.bengio_schedules(steps, floor, end):
        lm.check_schedule(kind, k, c, e)
        eps = eps_of(kind, np.float32(k), np.float32(c), np.float32(e), i)
        assert e == floor and eps.min() >= floor - 1e-6, kind  # never below the floor: never free running
        assert np.all(np.diff(eps) <= 1e-6), kind  # a decay
        late = i >= math.ceil(end * steps) + 1
        np.testing.assert_allclose(eps[late], floor, atol=2e-3 if kind != "linear" else 1e-5, err_msg=kind)
        early = i < 0.1 * end * steps
        assert eps[early].min() > floor + 0.5 * (1 - floor) * 0.5, kind  # still mostly true tokens early on


@pytest.mark.parametrize("kind,k,c,e,msg", [("exponential", 1.0, 0, 0, "0 < k < 1"),
                                            ("inverse_sigmoid", 0.5, 0, 0, "k >= 1"),
                                            ("linear", 1.0, -0.1, 0, "c >= 0"), ("cosine", 1.0, 0, 0, "unknown"),
                                            ("linear", 1.0, 0.1, 1.0, "eps_min in")])
def test_bad_schedules(kind, k, c, e, msg):
    with pytest.raises(ValueError, match=msg):
        lm.check_schedule(kind, k, c, e)


def test_coin_flips_use_the_stated_probability(key):
    for eps in (0.1, 0.5, 0.9):
        fed = jax.vmap(lambda kk: lm.feed_token(kk, eps, 1, 0, False))(jax.random.split(key, 20000))
        rate = float(np.mean(np.asarray(fed) == 1))
        assert abs(rate - eps) < 4 * math.sqrt(eps * (1 - eps) / 20000)  # 4 standard errors
    forced = jax.vmap(lambda kk: lm.feed_token(kk, 0.0, 1, 0, True))(jax.random.split(key, 100))
    assert np.all(np.asarray(forced) == 1)


def _batch(tokens, scored_from=0, forced_until=-1):
    tokens = jnp.asarray(tokens)
    steps = jnp.arange(tokens.shape[1])[None, :]
    return lm.Data(tokens, jnp.full(tokens.shape[0], tokens.shape[1]),
                   jnp.broadcast_to(steps >= scored_from, tokens.shape),
                   jnp.broadcast_to(steps <= forced_until, tokens.shape))


def test_regime_inputs_follow_the_coins(key):
    """Unforced inputs are the true token at rate eps, forced ones always; the fed model token
    follows the model's softmax (Gumbel-max draw)."""
    p = lm.init_lm(key, 5, 8)
    tokens = jax.random.randint(jax.random.key(1), (4000, 6), 0, 5)
    data = _batch(tokens, forced_until=1)
    for eps in (0.0, 0.3, 1.0):
        fed = np.asarray(lm.batch_inputs(p, data, eps, jax.random.key(2)))
        assert np.all(fed[:, 0] == 6)  # BOS
        np.testing.assert_array_equal(fed[:, 1:3], np.asarray(tokens)[:, :2])  # forced inputs
        same = (fed[:, 3:] == np.asarray(tokens)[:, 2:-1]).mean()
        # an own draw equals the true token by chance too: P(same) = eps + (1 - eps) q, q = P(draw == truth)
        assert same >= eps - 4 * math.sqrt(0.25 / fed[:, 3:].size)
        if eps == 1.0:
            assert same == 1.0
    # the own draw at step 1 (after BOS) is a sample from softmax(logits(state0)): compare frequencies
    data0 = _batch(tokens)
    fed0 = np.asarray(lm.batch_inputs(p, data0, 0.0, jax.random.key(5)))[:, 1]
    probs = np.asarray(jax.nn.softmax(lm.lm_logits(p, lm.lm_state0(p))))
    freq = np.bincount(fed0, minlength=6)[:6] / fed0.size
    assert np.all(np.abs(freq - probs) < 4 * np.sqrt(probs * (1 - probs) / fed0.size) + 1e-3)


def test_eps_one_is_plain_teacher_forcing(key):
    with jax.enable_x64(True):
        p = jax.tree.map(lambda a: a.astype(jnp.float64), lm.init_lm(key, 5, 8))
        tokens = jnp.array([3, 1, 4, 1, 5, 5, 5])
        mask = jnp.arange(7) < 5
        L = tokens.shape[0]
        noise = (jnp.zeros(L), jnp.zeros((L, 6)))
        nll, fed = lm.sequence_nll(p, tokens, mask, jnp.zeros(L, bool), 1.0, *noise)
        # the obvious twin: feed BOS then the true tokens, sum -log p over the first 5 ids
        h = jnp.zeros(8)
        expect, inputs = 0.0, [6] + [int(t) for t in tokens[:-1]]
        for t in range(5):
            h = lm.lm_transition(p, h, inputs[t])
            expect -= float(jax.nn.log_softmax(lm.lm_logits(p, h))[tokens[t]])
        assert float(nll) == pytest.approx(expect, rel=1e-12)
        np.testing.assert_array_equal(np.asarray(fed), inputs)
        coins = jnp.full(L, 0.5)  # free running: the model's own argmax (zero Gumbel noise) is fed
        nll0, fed0 = lm.sequence_nll(p, tokens, mask, jnp.zeros(L, bool), 0.0, coins, noise[1])
        assert float(nll0) != pytest.approx(expect, rel=1e-3)
        assert np.any(np.asarray(fed0)[1:] != np.asarray(inputs)[1:])


def test_vmapped_training_equals_single_run():
    src = S.random_source(jax.random.key(4), 3, 3)
    rows = lm.schedule_rows([("constant", 1.0, 0.0, 0.0), ("inverse_sigmoid", 5.0, 0.0, 0.3)], 2, source=src)
    kw = dict(vocab=3, n=6, steps=20, batch=4, max_len=8, lr=3e-3, log_every=10)
    many = lm.train_many(rows, **kw)
    for i in range(4):
        one = lm.train_many({k: jax.tree.map(lambda a: a[i:i + 1], v) for k, v in rows.items()}, **kw)
        np.testing.assert_allclose(np.asarray(one.loss[0]), np.asarray(many.loss[i]), rtol=1e-5)
        np.testing.assert_allclose(np.asarray(one.params.out[0]), np.asarray(many.params.out[i]), rtol=1e-5,
                                   atol=1e-6)


def test_rows_with_one_seed_share_initialisation_and_batches():
    """Pairing: regimes of one seed start from the same parameters and see the same training data
    (two schedules that both stay at eps = 1 train identically; another seed does not)."""
    src = S.random_source(jax.random.key(4), 3, 3)
    rows = lm.schedule_rows([("constant", 1.0, 0.0, 0.0), ("linear", 1.0, 0.0, 0.5)], 2, source=src)
    out = lm.train_many(rows, vocab=3, n=6, steps=10, batch=4, max_len=8, lr=1e-2, log_every=10)
    w = np.asarray(out.params.out)  # rows: (constant, seed 0), (constant, seed 1), (linear, 0), (linear, 1)
    np.testing.assert_allclose(w[0], w[2], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(w[1], w[3], rtol=1e-6, atol=1e-7)
    assert not np.allclose(w[0], w[1])
