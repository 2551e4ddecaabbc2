"""Decoders against exact search and hand-computed cases; the sources' exact probabilities."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn.studies import decoding
from jaxrnn.io.runner import run as run_study
from jaxrnn.models import decoding as dec
from jaxrnn.models import sources as S

L_, T_ = S.source_logits, S.source_transition


# A small non-Markov model: a random tanh RNN language model (module level: a static, hashable fn).
def rnn_logits(p, h):
    return p["out"] @ h


def rnn_step(p, h, tok):
    return jnp.tanh(p["rec"] @ h + p["emb"][tok])


def rnn_model(key, ids, n=6):
    k1, k2, k3 = jax.random.split(key, 3)
    return {"out": 2 * jax.random.normal(k1, (ids, n)), "rec": jax.random.normal(k2, (n, n)) / math.sqrt(n),
            "emb": jax.random.normal(k3, (ids, n))}


def _models(seed):
    src = S.random_source(jax.random.key(seed), 3, 2, forbidden=0.2, eos=0.3)
    return [(L_, T_, src, S.source_state0()), (L_, T_, S.smoothed(src, 0.1), S.source_state0()),
            (rnn_logits, rnn_step, rnn_model(jax.random.key(100 + seed), 3), jnp.zeros(6))]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_beam_equals_exact_enumeration_when_wide_enough(seed, alpha):
    max_len, ids = 5, 3
    for logits_fn, step_fn, params, s0 in _models(seed):
        tokens, length, raw = dec.enumerate_sequences(logits_fn, step_fn, params, s0, max_len=max_len, eos_id=2,
                                                      vocab=ids)
        k = len(raw)  # 31: every complete sequence fits in the pool, so nothing can be pruned wrongly
        pen = raw / np.asarray(dec.length_penalty_factor(length.astype(np.float64), alpha))
        order = np.argsort(-pen, kind="stable")
        beams = dec.beam_search(logits_fn, step_fn, params, s0, num_beams=k, max_len=max_len, eos_id=2,
                                length_penalty=alpha)
        got = np.asarray(beams.score)
        finite = np.isfinite(pen[order])
        np.testing.assert_allclose(got[finite], pen[order][finite], rtol=1e-5, atol=1e-6)
        assert np.all(~np.isfinite(got[~finite]))
        # the best sequence itself (ties in score aside)
        best = exact = dec.exact_best_sequence(logits_fn, step_fn, params, s0, max_len=max_len, eos_id=2,
                                               vocab=ids, length_penalty=alpha)
        assert float(beams.score[0]) == pytest.approx(exact[2], rel=1e-5, abs=1e-6)
        assert best[2] == pytest.approx(float(pen.max()), rel=1e-6)


def test_scores_are_sums_of_token_log_probs():
    src = S.random_source(jax.random.key(7), 4, 4)
    for alpha in (0.0, 0.6):
        b = dec.beam_search(L_, T_, src, S.source_state0(), num_beams=6, max_len=7, eos_id=src.eos_id,
                            length_penalty=alpha)
        for tok, n, score, raw in zip(b.tokens, b.length, b.score, b.raw_score):
            if np.isfinite(float(raw)):
                lp = float(S.sequence_log_prob(src, tok, n))
                assert float(raw) == pytest.approx(lp, rel=1e-5)
                assert float(score) == pytest.approx(lp / ((5 + int(n)) / 6) ** alpha, rel=1e-5)
        assert np.all(np.diff(np.asarray(b.score)[np.isfinite(np.asarray(b.score))]) <= 1e-6)  # best first


def test_viterbi_and_enumeration_agree():
    for seed in range(6):
        src = S.random_source(jax.random.key(seed), 4, 3)
        tok, n, _, raw = dec.exact_best_sequence(L_, T_, src, S.source_state0(), max_len=6, eos_id=3, vocab=4)
        v_tok, v_logp = S.viterbi_best_sequence(src, 6)
        assert v_logp == pytest.approx(raw, rel=1e-5)


def test_source_probabilities_sum_to_one():
    src = S.random_source(jax.random.key(3), 3, 3)
    max_len = 6
    _, _, raw = dec.enumerate_sequences(L_, T_, src, S.source_state0(), max_len=max_len, eos_id=3, vocab=4)
    # mass of the prefixes of max_len tokens without EOS, by forward filtering over states
    p = np.exp(np.asarray(src.emit_logp, np.float64))
    mass = np.zeros(3)
    mass[0] = 1.0
    for _ in range(max_len):
        nxt = np.zeros(3)
        for s in range(3):
            for v in range(3):
                nxt[int(src.next_state[s, v])] += mass[s] * p[s, v]
        mass = nxt
    assert np.exp(raw.astype(np.float64)).sum() + mass.sum() == pytest.approx(1.0, abs=1e-5)


def test_topk_extremes_are_greedy_and_pure_sampling(key):
    src = S.random_source(jax.random.key(5), 4, 4)
    keys = jax.random.split(key, 64)
    g = dec.greedy(L_, T_, src, S.source_state0(), max_len=12, eos_id=4)
    run = lambda **o: jax.vmap(lambda k: dec.sample(k, L_, T_, src, S.source_state0(), max_len=12, eos_id=4,  # noqa
                                                    **o))(keys)
    np.testing.assert_array_equal(np.asarray(run(top_k=1).tokens), np.broadcast_to(np.asarray(g.tokens), (64, 12)))
    np.testing.assert_array_equal(np.asarray(run(top_k=5).tokens), np.asarray(run().tokens))
    np.testing.assert_array_equal(np.asarray(run(temperature=0.0).tokens), np.asarray(run(top_k=1).tokens))
    pure = run()
    assert len({tuple(t) for t in np.asarray(pure.tokens)}) > 10  # it really samples
    # -inf logits (forbidden tokens) are never produced
    lp = jax.vmap(S.sequence_log_prob, in_axes=(None, 0, 0))(src, pure.tokens, pure.length)
    assert np.all(np.isfinite(np.asarray(lp))[np.asarray(pure.finished)])


def test_masks_by_hand():
    probs = jnp.log(jnp.array([0.5, 0.3, 0.15, 0.05]))
    keep = lambda **o: np.isfinite(np.asarray(dec.process_logits(probs, **o))).tolist()  # noqa: E731
    assert keep(top_p=0.6) == [True, True, False, False]
    assert keep(top_p=0.5) == [True, False, False, False]
    assert keep(top_p=1.0) == [True] * 4
    assert keep(top_p=1e-6) == [True, False, False, False]  # the top token always stays
    assert keep(top_k=2) == [True, True, False, False]
    assert keep(min_p=0.5) == [True, True, False, False]  # p >= 0.25
    ties = jnp.log(jnp.array([0.4, 0.2, 0.2, 0.2]))
    assert np.isfinite(np.asarray(dec.process_logits(ties, top_p=0.5))).tolist() == [True] * 4  # boundary ties kept
    assert np.isfinite(np.asarray(dec.process_logits(ties, top_k=2))).tolist() == [True] * 4
    near = jnp.array([1000.0, 1000.0625, 999.9375], jnp.float32)  # near-equal, large
    assert np.isfinite(np.asarray(dec.process_logits(near, temperature=0.0))).tolist() == [False, True, False]
    for t in (1e-9, 1e-30):  # no overflow to nan: all mass on the argmax, as greedy
        assert np.asarray(jax.nn.softmax(dec.process_logits(near, temperature=t))).tolist() == [0.0, 1.0, 0.0]
    huge = jnp.array([3e38, 3.1e38], jnp.float32)
    assert np.asarray(jax.nn.softmax(dec.process_logits(huge, temperature=1e-30))).tolist() == [0.0, 1.0]


def test_beam_edge_cases():
    src = S.random_source(jax.random.key(9), 3, 3, eos=0.3)
    s0 = S.source_state0()
    g = dec.greedy(L_, T_, src, s0, max_len=10, eos_id=3)
    b1 = dec.beam_search(L_, T_, src, s0, num_beams=1, max_len=10, eos_id=3)
    if bool(g.finished):
        np.testing.assert_array_equal(np.asarray(b1.tokens[0]), np.asarray(g.tokens))
    wide = dec.beam_search(L_, T_, src, s0, num_beams=40, max_len=3, eos_id=3)  # k > V, > #sequences
    assert np.isfinite(np.asarray(wide.score)).sum() <= 1 + 3 + 9
    assert not np.any(np.isnan(np.asarray(wide.score)))


@pytest.mark.parametrize("opts,name", [(dict(top_k=0), "top_k"), (dict(top_k=9), "top_k"), (dict(top_p=0.0), "top_p"),
                                       (dict(top_p=1.5), "top_p"), (dict(temperature=-1.0), "temperature")])
def test_bad_sampling_options(opts, name, key):
    src = S.random_source(jax.random.key(0), 2, 3)
    with pytest.raises(ValueError, match=name):
        dec.sample(key, L_, T_, src, S.source_state0(), max_len=5, eos_id=3, **opts)


def test_bad_search_options():
    src = S.random_source(jax.random.key(0), 2, 3)
    with pytest.raises(ValueError, match="num_beams"):
        dec.beam_search(L_, T_, src, S.source_state0(), num_beams=0, max_len=5, eos_id=3)
    with pytest.raises(ValueError, match="max_len"):
        dec.greedy(L_, T_, src, S.source_state0(), max_len=0, eos_id=3)


def test_quick_end_to_end(tmp_path):
    s = run_study(decoding.STUDY, decoding.Config.quick(), tmp_path / "decoding")
    assert set(s["claims"]) == {"C9", "C10", "C11"}
    assert s["claims"]["C10"]["verdict"] == "confirmed"
    assert s["search"]["source"]["viterbi_agrees_with_enumeration"] == "4/4"
    assert set(s["tradeoff"]) == {"leaky", "gru"}
    assert len(s["figures"]) == 2
