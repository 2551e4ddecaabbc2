"""Beam search's actual beams where the answer is known without a beam search: a beam wider than the
number of sequences holds every possible sequence, ranked by score (exhaustive enumeration is the
reference); a hand-made model whose beams can be read off by hand. Public names only."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn.models import decoding as dec
from jaxrnn.models import sources as S

L_, T_ = S.source_logits, S.source_transition


@pytest.mark.parametrize("rule", ["pool", "top_k"])
@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_a_beam_wider_than_the_sequence_count_holds_every_sequence_ranked(rule, alpha):
    """V = 4 (EOS = 3), max_len 3: 1 + 3 + 9 = 13 complete sequences, k = 40 > V and > 13. The finished
    hypotheses are exactly the possible (finite-score) enumerated sequences, best first, with the
    enumerated scores to 1e-5 relative (float32 sums of 3 log-probs; a lost or duplicated hypothesis, a
    wrong order or a missing length penalty fails); the other 40 - n entries are -inf."""
    src = S.random_source(jax.random.key(9), 3, 3, eos=0.3)
    s0 = S.source_state0()
    wide = dec.beam_search(L_, T_, src, s0, num_beams=40, max_len=3, eos_id=3, length_penalty=alpha, beam_rule=rule)
    tokens, length, raw = (np.asarray(a) for a in dec.enumerate_sequences(L_, T_, src, s0, max_len=3, eos_id=3,
                                                                           vocab=4))
    possible = np.isfinite(raw)
    assert 1 < possible.sum() < 13  # the source forbids some transitions: a real test of what is dropped
    pen = raw / ((5.0 + length) / 6.0) ** alpha
    order = np.argsort(-pen[possible], kind="stable")
    score, raw_b = np.asarray(wide.score), np.asarray(wide.raw_score)
    n = int(possible.sum())
    assert np.all(np.isfinite(score[:n])) and np.all(np.isneginf(score[n:]))
    np.testing.assert_allclose(score[:n], pen[possible][order], rtol=1e-5)
    np.testing.assert_allclose(raw_b[:n], raw[possible][order], rtol=1e-5)
    got = {(tuple(t[:l]), int(l)) for t, l in zip(np.asarray(wide.tokens)[:n], np.asarray(wide.length)[:n])}
    want = {(tuple(t[:l]), int(l)) for t, l in zip(tokens[possible], length[possible])}
    assert got == want
    for t, l, s in zip(np.asarray(wide.tokens)[:n], np.asarray(wide.length)[:n], raw_b[:n]):
        assert t[l - 1] == 3 and np.all(t[l:] == 3)  # ends with EOS, padded with EOS
        lp = float(S.sequence_log_prob(src, jnp.asarray(t), int(l)))
        assert lp == pytest.approx(float(s), rel=1e-5)


def _table_logits(p, state):
    return p[state]


def test_beams_by_hand():
    """A hand-made model, V = 3 (EOS = 2), state = 1 + the previous token (0 at the start):
    step 1 from state 0: p = (0.5, 0.3, 0.2); from state 1 (after token 0): (0.1, 0.1, 0.8);
    from state 2 (after token 1): (0.05, 0.05, 0.9). Complete sequences of <= 2 ids, max_len 2:
    [EOS] 0.2; [0, EOS] 0.5 * 0.8 = 0.4; [1, EOS] 0.3 * 0.9 = 0.27. k = 2, pool rule: the best two are
    [0, EOS] then [1, EOS]; greedy, and the top_k rule with k = 1, take [0, EOS]; the pool rule with k = 1
    also offers [EOS] at step 1 (0.2), but [0, EOS] (0.4) beats it."""
    probs = jnp.asarray(np.log([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8], [0.05, 0.05, 0.9], [1 / 3] * 3]), jnp.float32)

    def step(p, state, tok):
        del p, state
        return jnp.int32(tok + 1)

    kw = dict(max_len=2, eos_id=2)
    b2 = dec.beam_search(_table_logits, step, probs, jnp.int32(0), num_beams=2, **kw)
    assert np.asarray(b2.tokens).tolist() == [[0, 2], [1, 2]]
    assert np.asarray(b2.length).tolist() == [2, 2]
    np.testing.assert_allclose(np.exp(np.asarray(b2.raw_score)), [0.4, 0.27], rtol=1e-6)
    b3 = dec.beam_search(_table_logits, step, probs, jnp.int32(0), num_beams=3, **kw)
    assert np.asarray(b3.tokens).tolist() == [[0, 2], [1, 2], [2, 2]] and np.asarray(b3.length).tolist() == [2, 2, 1]
    np.testing.assert_allclose(np.exp(np.asarray(b3.raw_score)), [0.4, 0.27, 0.2], rtol=1e-6)
    for rule in ("pool", "top_k"):
        b1 = dec.beam_search(_table_logits, step, probs, jnp.int32(0), num_beams=1, beam_rule=rule, **kw)
        assert np.asarray(b1.tokens).tolist() == [[0, 2]], rule
    g = dec.greedy(_table_logits, step, probs, jnp.int32(0), **kw)
    assert np.asarray(g.tokens).tolist() == [0, 2]
    # a length penalty alpha = 2 favours the longer hypotheses further: ((5 + 1)/6)^2 = 1 vs (7/6)^2 = 1.36
    bp = dec.beam_search(_table_logits, step, probs, jnp.int32(0), num_beams=3, length_penalty=2.0, **kw)
    np.testing.assert_allclose(np.asarray(bp.score),
                               [np.log(0.4) / (7 / 6) ** 2, np.log(0.27) / (7 / 6) ** 2, np.log(0.2)], rtol=1e-6)
