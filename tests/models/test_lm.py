"""GRU language model training regimes: schedules and their floors, coin flips, own draws, teacher
forcing against a plain loop, vmapped training against single runs."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn import stats
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


def _never_right(key, vocab=5, n=8):
    """An LM whose own draw is always EOS (id vocab): an output bias of 100 nats puts all but e^-90 of the
    mass there, so a fed input equals the true token (ids < vocab) exactly when the coin fed the truth."""
    p = lm.init_lm(key, vocab, n)
    return p._replace(out=jnp.zeros_like(p.out), out_b=jnp.zeros_like(p.out_b).at[vocab].set(100.0))


@pytest.mark.parametrize("eps", [0.1, 0.3, 0.5, 0.8])
def test_true_tokens_are_fed_at_rate_eps_both_sides(eps, key):
    """Through ``sequence_nll`` (what ``batch_nll``, and so training, runs): the share of unforced inputs
    that are the true token lies inside a 99.99 % Wilson interval around eps, above AND below (feeding
    the truth when coin < 2 eps gives 0.6 at eps 0.3, far outside it; the interval is that wide so a
    correct sampler fails about once in 10^4 keys, and at n = 15000 it is +-0.015 around 0.3)."""
    p = _never_right(key)
    tokens = jax.random.randint(jax.random.key(1), (3000, 6), 0, 5)
    fed = np.asarray(lm.batch_inputs(p, _batch(tokens), eps, jax.random.key(2)))
    assert np.all(fed[:, 1:][fed[:, 1:] != np.asarray(tokens)[:, :-1]] == 5)  # else the model's own EOS
    hits = int((fed[:, 1:] == np.asarray(tokens)[:, :-1]).sum())
    n = fed[:, 1:].size
    lo, hi = stats.wilson(hits, n, level=0.9999)
    assert lo <= eps <= hi, (hits / n, lo, hi)


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


_PATTERN = np.array([0, 1, 2, 2, 1, 0, 0, 1, 2, 2, 1, 3], np.int32)  # 11 ids then EOS (= vocab 3)


def _pattern_data(row, key):
    """The same 8 copies of one fixed sequence every update: a toy a GRU of width 16 can memorise."""
    del row, key
    tokens = jnp.broadcast_to(jnp.asarray(_PATTERN), (8, _PATTERN.size))
    return lm.Data(tokens, jnp.full(8, _PATTERN.size), jnp.ones(tokens.shape, bool), jnp.zeros(tokens.shape, bool))


_PATTERN_FN = lm.stable_partial(_pattern_data)


@pytest.mark.parametrize("kind,k", [("constant", 1.0), ("constant", 0.5)])
def test_training_lowers_the_loss_twentyfold_on_a_memorisable_sequence(kind, k):
    """``train_lm`` (Adam, through ``train_rows``) must learn: under teacher forcing (and at eps = 0.5)
    the per-token NLL of a fixed, deterministic 12-token sequence falls from ~1.2 nats (first 5 updates;
    ln 4 = 1.39 at random) to under a twentieth of it within 300 updates (gradient ascent,
    ``optax.adam(-lr)``, raises it; the runs reach ~0.002 nats, so the factor 20 leaves 30x room)."""
    rows = lm.schedule_rows([(kind, k, 0.0, 0.0)], [0, 1], lr=1e-2)
    out = lm.train_rows(rows, data_fn=_PATTERN_FN, vocab=3, n=16, steps=300, log_every=5)
    loss = np.asarray(out.loss)  # (rows, windows)
    assert np.all(np.isfinite(loss))
    assert np.all(loss[:, 0] > 1.0)  # starts near ln 4: the model did not already know the sequence
    assert np.all(loss[:, -1] < loss[:, 0] / 20), loss[:, [0, -1]]
