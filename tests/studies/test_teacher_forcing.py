"""Training regimes: schedules, coin flips, teacher forcing exactly, vmapped == single, the study."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn.studies import teacher_forcing
from jaxrnn.io.runner import run as run_study
from jaxrnn.models import lm
from jaxrnn.models import sources as S
from jaxrnn.io.config import ConfigError


def test_schedules_follow_their_formulas():
    i = np.arange(0, 1000, 7)
    got = lambda kind, k, c=0.0, e=0.0: np.asarray(lm.schedule_eps(lm.SCHEDULES.index(kind), k, c, e, i))  # noqa
    np.testing.assert_allclose(got("constant", 0.3), 0.3, rtol=1e-6)
    np.testing.assert_allclose(got("linear", 1.0, 0.002, 0.1), np.maximum(0.1, 1.0 - 0.002 * i), rtol=1e-5)
    np.testing.assert_allclose(got("exponential", 0.99), 0.99 ** i, rtol=1e-4, atol=1e-30)
    np.testing.assert_allclose(got("inverse_sigmoid", 50.0), 50 / (50 + np.exp(i / 50)), rtol=1e-4)


@pytest.mark.parametrize("kind,k,c,msg", [("exponential", 1.0, 0, "0 < k < 1"), ("inverse_sigmoid", 0.5, 0, "k >= 1"),
                                          ("linear", 1.0, -0.1, "c >= 0"), ("cosine", 1.0, 0, "unknown")])
def test_bad_schedules(kind, k, c, msg):
    with pytest.raises(ValueError, match=msg):
        lm.check_schedule(kind, k, c)
    with pytest.raises(ConfigError, match="--schedules"):
        teacher_forcing.Config(schedules=(("constant", 1.0, 0.0, 0.0), ("constant", 0.0, 0.0, 0.0),
                                          (kind, k, c, 0.0))).validate()


def test_coin_flips_use_the_stated_probability(key):
    for eps in (0.1, 0.5, 0.9):
        fed = jax.vmap(lambda kk: lm.feed_token(kk, eps, 1, 0, False))(jax.random.split(key, 20000))
        rate = float(np.mean(np.asarray(fed) == 1))
        assert abs(rate - eps) < 4 * math.sqrt(eps * (1 - eps) / 20000)  # 4 standard errors
    forced = jax.vmap(lambda kk: lm.feed_token(kk, 0.0, 1, 0, True))(jax.random.split(key, 100))
    assert np.all(np.asarray(forced) == 1)


def test_eps_one_is_plain_teacher_forcing(key):
    p = lm.init_lm(key, 5, 8)
    tokens = jnp.array([3, 1, 4, 1, 5, 5, 5])
    length = jnp.int32(5)
    nll, count = lm.sequence_nll(p, tokens, length, 1.0, jax.random.key(3))
    # the obvious twin: feed BOS then the true tokens, sum -log p over the first `length` ids
    h = lm.lm_state0(p)
    expect = 0.0
    for t in range(int(length)):
        expect -= float(jax.nn.log_softmax(lm.lm_logits(p, h))[tokens[t]])
        h = lm.lm_transition(p, h, tokens[t])
    assert float(nll) == pytest.approx(expect, rel=1e-5) and float(count) == 5
    nll0, _ = lm.sequence_nll(p, tokens, length, 0.0, jax.random.key(3))
    assert float(nll0) != pytest.approx(expect, rel=1e-3)  # free running really feeds other tokens


def test_conditional_matches_walking_the_automaton():
    src = S.random_source(jax.random.key(2), 4, 3)
    prefix = [0, 2, 1, 1]
    state = 0
    for tok in prefix:
        state = int(src.next_state[state, tok])
    got = np.asarray(S.conditional(src, jnp.array(prefix + [3, 3]), 4))
    np.testing.assert_allclose(got, np.exp(np.asarray(src.emit_logp[state])), rtol=1e-6)
    assert got.sum() == pytest.approx(1.0, abs=1e-5)


def test_vmapped_training_equals_single_run():
    src = S.random_source(jax.random.key(4), 3, 3)
    rows = lm.schedule_rows([("constant", 1.0, 0.0, 0.0), ("inverse_sigmoid", 5.0, 0.0, 0.0)], 2, source=src)
    kw = dict(vocab=3, n=6, steps=20, batch=4, max_len=8, lr=3e-3, log_every=10)
    many = lm.train_many(rows, **kw)
    for i in range(4):
        one = lm.train_many({k: jax.tree.map(lambda a: a[i:i + 1], v) for k, v in rows.items()}, **kw)
        np.testing.assert_allclose(np.asarray(one.loss[0]), np.asarray(many.loss[i]), rtol=1e-5)
        np.testing.assert_allclose(np.asarray(one.params.out[0]), np.asarray(many.params.out[i]), rtol=1e-5,
                                   atol=1e-6)


def test_quick_end_to_end(tmp_path):
    s = run_study(teacher_forcing.STUDY, teacher_forcing.Config.quick(), tmp_path / "teacher_forcing")
    assert set(s["claims"]) == {"C6", "C7", "C8"}
    for w in s["per_width"].values():
        for r in w.values():
            assert 0 < r["covered_mass"] <= 1 + 1e-6 and np.isfinite(r["seq_kl_mc"])
    assert len(s["figures"]) == 3
    with np.load(tmp_path / "teacher_forcing" / "params.npz") as z:  # reusable trained models
        assert any(k.startswith("width8/") for k in z.files)
        assert all(z[k].shape[:2] == (3, 2) for k in z.files)  # (regime, seed)
