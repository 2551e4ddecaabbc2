"""Decoders against slow twins: exact enumeration, a float64 Python beam search for both beam rules,
branch and bound vs enumeration, and the sources' exact probabilities."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

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


def _models(seed, ids=3):
    src = S.random_source(jax.random.key(seed), 3, ids - 1, forbidden=0.3, eos=0.3)
    return [(L_, T_, src, S.source_state0()), (L_, T_, S.smoothed(src, 0.1), S.source_state0()),
            (rnn_logits, rnn_step, rnn_model(jax.random.key(100 + seed), ids), jnp.zeros(6))]


# ---------------------------------------------------------------------------
# The slow twin: beam search in float64 Python, written from the rules' definitions
# ---------------------------------------------------------------------------

def _log_probs64(logits_fn, params, state):
    with jax.enable_x64(True):
        x = np.asarray(logits_fn(params, state), np.float64)
    x = np.where(np.isnan(x), -np.inf, x)
    if x.max() == -np.inf:
        return np.full_like(x, -np.inf)
    with np.errstate(divide="ignore"):
        return x - x.max() - np.log(np.exp(x - x.max()).sum())


def slow_beam(logits_fn, transition_fn, params, state0, *, k, max_len, eos_id, alpha=0.0, rule="pool"):
    """Finished hypotheses [(penalised, raw, tokens incl. EOS)], best first."""
    pen = lambda raw, n: raw / ((5.0 + n) / 6.0) ** alpha  # noqa: E731
    alive, pool = [(0.0, (), state0)], []
    for t in range(max_len):
        cands = [(raw + lp, b, v) for b, (raw, _, st) in enumerate(alive)
                 for v, lp in enumerate(_log_probs64(logits_fn, params, st))]
        order = sorted(range(len(cands)), key=lambda i: (-cands[i][0], i))  # score, then flat index
        top = set(order[:k])
        for i, (s, b, v) in enumerate(cands):
            if v == eos_id and s > -np.inf and (rule == "pool" or i in top):
                pool.append((pen(s, t + 1), s, alive[b][1] + (v,)))
        pool = sorted(pool, key=lambda h: -h[0])[:k]  # stable: the earlier hypothesis first on ties
        nxt = [i for i in order if cands[i][2] != eos_id and cands[i][0] > -np.inf][:k]
        if t + 1 >= max_len or not nxt:
            break
        alive = [(cands[i][0], alive[cands[i][1]][1] + (cands[i][2],),
                  transition_fn(params, alive[cands[i][1]][2], cands[i][2])) for i in nxt]
        if len(pool) == k and max(max(pen(r, t + 2), pen(r, max_len)) for r, _, _ in alive) <= pool[-1][0]:
            break
    return pool


def _hyps(b):
    return [(float(s), tuple(int(x) for x in np.asarray(t)[:int(n)])) for s, t, n in zip(b.score, b.tokens, b.length)
            if np.isfinite(float(s))]


def _same_hypotheses(got, want, model, alpha=0.0, rtol=1e-5):
    """Equal score lists, and every returned sequence really has its score (ties may be broken either way)."""
    assert len(got) == len(want)
    np.testing.assert_allclose([g[0] for g in got], [w[0] for w in want], rtol=rtol, atol=1e-6)
    logits_fn, step_fn, params, s0 = model
    for score, tokens in got:
        raw = sum(_log_probs64(logits_fn, params, st)[t] for st, t in _states(step_fn, params, s0, tokens))
        assert score == pytest.approx(raw / ((5.0 + len(tokens)) / 6.0) ** alpha, rel=rtol, abs=1e-6)


@pytest.mark.parametrize("rule", dec.BEAM_RULES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_beam_search_matches_its_slow_twin(seed, rule):
    for logits_fn, step_fn, params, s0 in _models(seed, ids=4):
        for k in (1, 2, 3, 5):
            for alpha in (0.0, 1.0):
                b = dec.beam_search(logits_fn, step_fn, params, s0, num_beams=k, max_len=6, eos_id=3,
                                    length_penalty=alpha, beam_rule=rule)
                want = [(h[0], h[2]) for h in slow_beam(logits_fn, step_fn, params, s0, k=k, max_len=6, eos_id=3,
                                                          alpha=alpha, rule=rule)]
                _same_hypotheses(_hyps(b), want, (logits_fn, step_fn, params, s0), alpha)


@pytest.mark.parametrize("rule", dec.BEAM_RULES)
def test_one_compilation_serves_every_width(rule):
    """A buffer of 8 searched at width k gives the beam search of width k (one compilation for all k)."""
    for logits_fn, step_fn, params, s0 in _models(4, ids=4):
        for k in (1, 2, 5, 8):
            narrow = dec.beam_search(logits_fn, step_fn, params, s0, num_beams=k, max_len=6, eos_id=3,
                                     beam_rule=rule)
            wide = dec.beam_search_with(logits_fn, step_fn, params, s0, jnp.int32(3), jnp.float32(0.0),
                                        jnp.bool_(rule == "top_k"), jnp.int32(k), num_beams=8, max_len=6)
            _same_hypotheses(_hyps(wide), _hyps(narrow), (logits_fn, step_fn, params, s0))


@pytest.mark.parametrize("rule", dec.BEAM_RULES)
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_wide_beams_equal_exact_enumeration(seed, alpha, rule):
    max_len, ids = 5, 3
    k = (ids - 1) ** (max_len - 1) * ids  # >= every step's candidates: nothing can be cut, under either rule
    for logits_fn, step_fn, params, s0 in _models(seed):
        tokens, length, raw = dec.enumerate_sequences(logits_fn, step_fn, params, s0, max_len=max_len, eos_id=2,
                                                      vocab=ids)
        pen = raw / np.asarray(dec.length_penalty_factor(length.astype(np.float64), alpha))
        pen = np.sort(pen[np.isfinite(pen)])[::-1]
        beams = dec.beam_search(logits_fn, step_fn, params, s0, num_beams=k, max_len=max_len, eos_id=2,
                                length_penalty=alpha, beam_rule=rule)
        got = np.asarray(beams.score)
        np.testing.assert_allclose(got[:len(pen)], pen, rtol=1e-5, atol=1e-6)
        assert np.all(got[len(pen):] == -np.inf)


def test_top_k_rule_with_one_beam_is_greedy():
    """Under the toolkits' rule k = 1 is greedy decoding (length_penalty 0); the suite's pool rule is not."""
    differs = 0
    for seed in range(8):
        src = S.random_source(jax.random.key(seed), 4, 4, eos=0.2)
        g = dec.greedy(L_, T_, src, S.source_state0(), max_len=10, eos_id=4)
        b = dec.beam_search(L_, T_, src, S.source_state0(), num_beams=1, max_len=10, eos_id=4, beam_rule="top_k")
        pool = dec.beam_search(L_, T_, src, S.source_state0(), num_beams=1, max_len=10, eos_id=4, beam_rule="pool")
        if bool(g.finished):
            np.testing.assert_array_equal(np.asarray(b.tokens[0]), np.asarray(g.tokens))
            assert float(b.score[0]) == pytest.approx(float(g.score), rel=1e-6)
        else:
            assert float(b.score[0]) == -np.inf
        differs += int(not np.array_equal(np.asarray(pool.tokens[0]), np.asarray(g.tokens)))
    assert differs > 0  # the pool rule finishes a shorter hypothesis on some sources


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("alpha", [0.0, 1.0])
def test_branch_and_bound_equals_enumeration(seed, alpha):
    for logits_fn, step_fn, params, s0 in _models(seed, ids=4):
        for eos in (3, 0):
            ex = dec.exact_best_sequence(logits_fn, step_fn, params, s0, max_len=5, eos_id=eos, vocab=4,
                                         length_penalty=alpha)
            bb = dec.exact_search(logits_fn, step_fn, params, s0, max_len=5, eos_id=eos, length_penalty=alpha)
            assert bool(bb.complete) and bool(bb.found)
            assert float(bb.score) == pytest.approx(ex[2], rel=1e-5, abs=1e-6)
            n = int(bb.length)
            tok = np.asarray(bb.tokens)
            assert tok[n - 1] == eos and np.all(tok[n:] == eos) and np.all(tok[:n - 1] != eos)
            # the returned sequence really scores what it says
            raw = sum(_log_probs64(logits_fn, params, st)[t] for st, t in _states(step_fn, params, s0, tok[:n]))
            assert float(bb.raw_score) == pytest.approx(raw, rel=1e-5, abs=1e-6)
            # with the optimum as the lower bound nothing better exists; just below it, the optimum is found
            none = dec.exact_search(logits_fn, step_fn, params, s0, max_len=5, eos_id=eos, length_penalty=alpha,
                                    lower_bound=float(bb.score))
            assert not bool(none.found) and int(none.nodes) <= int(bb.nodes)
            again = dec.exact_search(logits_fn, step_fn, params, s0, max_len=5, eos_id=eos, length_penalty=alpha,
                                     lower_bound=float(bb.score) - 1e-3)
            assert float(again.score) == pytest.approx(float(bb.score), rel=1e-6)


def _states(step_fn, params, s0, tokens):
    st = s0
    for t in tokens:
        yield st, int(t)
        st = step_fn(params, st, int(t))


def test_branch_and_bound_budget_is_reported():
    checked = 0
    for logits_fn, step_fn, params, s0 in _models(0, ids=4) + _models(1, ids=4):
        full = dec.exact_search(logits_fn, step_fn, params, s0, max_len=5, eos_id=3)
        if int(full.nodes) > 1:
            cut = dec.exact_search(logits_fn, step_fn, params, s0, max_len=5, eos_id=3, max_nodes=int(full.nodes) - 1)
            assert bool(full.complete) and not bool(cut.complete) and int(cut.nodes) == int(full.nodes) - 1
            checked += 1
    assert checked > 0


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


def test_sampler_log_q_is_the_forced_score(key):
    """The sampler's own log q of each sample equals the teacher-forced one; impossible -> -inf."""
    src = S.random_source(jax.random.key(3), 4, 5)
    opts = dec.sampler_options(6, top_k=3, top_p=0.9, temperature=0.7)
    keys = jax.random.split(key, 32)
    d = jax.vmap(lambda k: dec.sample_with(k, L_, T_, src, S.source_state0(), opts, max_len=9, eos_id=5))(keys)
    lp, lq = jax.vmap(lambda t, n: dec.forced_scores(L_, T_, src, S.source_state0(), t, n, opts))(d.tokens, d.length)
    np.testing.assert_allclose(np.asarray(lq), np.asarray(d.logq), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(lp), np.asarray(d.score), rtol=1e-5, atol=1e-5)
    # a sequence leaving the greedy path lies outside the top-1 sampler's support, inside pure sampling's
    g = dec.greedy(L_, T_, S.smoothed(src, 0.1), S.source_state0(), max_len=9, eos_id=5)
    other = np.asarray(g.tokens).copy()
    other[0] = (other[0] + 1) % 5
    smooth = S.smoothed(src, 0.1)
    top1 = dec.forced_scores(L_, T_, smooth, S.source_state0(), jnp.asarray(other), 9, dec.sampler_options(6, top_k=1))
    pure = dec.forced_scores(L_, T_, smooth, S.source_state0(), jnp.asarray(other), 9, dec.sampler_options(6))
    assert float(top1[1]) == -np.inf and np.isfinite(float(pure[1])) and float(pure[0]) == float(top1[0])


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
    lp = jax.vmap(S.sequence_log_prob, in_axes=(None, 0, 0))(src, pure.tokens, pure.length)
    assert np.all(np.isfinite(np.asarray(lp))[np.asarray(pure.finished)])  # forbidden tokens never drawn


def test_masks_by_hand():
    probs = jnp.log(jnp.array([0.5, 0.3, 0.15, 0.05]))
    keep = lambda **o: np.isfinite(np.asarray(dec.process_logits(probs, **o))).tolist()  # noqa: E731
    assert keep(top_p=0.6) == [True, True, False, False]
    assert keep(top_p=1.0) == [True] * 4
    assert keep(top_p=1e-6) == [True, False, False, False]  # the top token always stays
    assert keep(top_p=1e-45) == [True, False, False, False]  # below float32's range: still the top token
    assert keep(top_k=2) == [True, True, False, False]
    assert keep(min_p=0.5) == [True, True, False, False]  # p >= 0.25
    ties = jnp.log(jnp.array([0.4, 0.2, 0.2, 0.2]))
    assert np.isfinite(np.asarray(dec.process_logits(ties, top_p=0.5))).tolist() == [True] * 4  # boundary ties kept
    assert np.isfinite(np.asarray(dec.process_logits(ties, top_k=2))).tolist() == [True] * 4
    near = jnp.array([1000.0, 1000.0625, 999.9375], jnp.float32)  # near-equal, large
    assert np.isfinite(np.asarray(dec.process_logits(near, temperature=0.0))).tolist() == [False, True, False]
    for t in (1e-9, 1e-30, 1e-40):  # no overflow to nan: all mass on the argmax, as greedy
        assert np.asarray(jax.nn.softmax(dec.process_logits(near, temperature=t))).tolist() == [0.0, 1.0, 0.0]
    huge = jnp.array([3e38, 3.1e38], jnp.float32)
    assert np.asarray(jax.nn.softmax(dec.process_logits(huge, temperature=1e-30))).tolist() == [0.0, 1.0]


def test_beam_edge_cases():
    src = S.random_source(jax.random.key(9), 3, 3, eos=0.3)
    s0 = S.source_state0()
    wide = dec.beam_search(L_, T_, src, s0, num_beams=40, max_len=3, eos_id=3)  # k > V, > #sequences
    assert np.isfinite(np.asarray(wide.score)).sum() <= 1 + 3 + 9
    assert not np.any(np.isnan(np.asarray(wide.score)))


# ---------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------

def test_viterbi_and_enumeration_agree():
    for seed in range(6):
        src = S.random_source(jax.random.key(seed), 4, 3)
        _, _, _, raw = dec.exact_best_sequence(L_, T_, src, S.source_state0(), max_len=6, eos_id=3, vocab=4)
        assert S.viterbi_best_sequence(src, 6)[1] == pytest.approx(raw, rel=1e-5)
        tok, logp = S.viterbi(src, 6)
        assert logp == pytest.approx(raw, rel=1e-5)
        if np.isfinite(logp):  # (else no complete sequence within 6 ids is possible, and tok is empty)
            padded = jnp.asarray(np.pad(tok, (0, 6 - len(tok)), constant_values=3))
            assert float(S.sequence_log_prob(src, padded, len(tok))) == pytest.approx(logp, rel=1e-5)


def _forward_leftover(src, max_len):
    """Mass of the prefixes of max_len tokens without EOS, by forward filtering over states."""
    p = np.exp(np.asarray(src.emit_logp, np.float64))
    n_states, vocab = np.asarray(src.next_state).shape
    mass = np.zeros(n_states)
    mass[0] = 1.0
    for _ in range(max_len):
        nxt = np.zeros(n_states)
        for s in range(n_states):
            for v in range(vocab):
                nxt[int(src.next_state[s, v])] += mass[s] * p[s, v]
        mass = nxt
    return mass.sum()


def test_source_probabilities_sum_to_one():
    src = S.random_source(jax.random.key(3), 3, 3)
    _, _, raw = dec.enumerate_sequences(L_, T_, src, S.source_state0(), max_len=6, eos_id=3, vocab=4)
    assert np.exp(raw.astype(np.float64)).sum() + _forward_leftover(src, 6) == pytest.approx(1.0, abs=1e-5)


def test_windowed_source_confines_lengths():
    base = S.random_source(jax.random.key(4), 3, 3, eos=0.3)
    src = S.windowed(base, 2, 4)
    _, length, raw = dec.enumerate_sequences(L_, T_, src, S.source_state0(), max_len=6, eos_id=3, vocab=4)
    p = np.exp(raw.astype(np.float64))
    assert p.sum() == pytest.approx(1.0, abs=1e-5)  # every sequence ends within 4 tokens
    assert np.all(p[(length - 1 < 2) | (length - 1 > 4)] == 0)
    # inside the window, a sequence's probability is the base source's, renormalised before min_len
    tok = jnp.asarray([0, 1, 2, 3, 3, 3])
    lp_w = float(S.sequence_log_prob(src, tok, 4))
    e = np.asarray(base.emit_logp, np.float64)
    nxt = np.asarray(base.next_state)
    s, want = 0, 0.0
    for t, v in enumerate([0, 1, 2]):
        want += e[s, v] - (np.log1p(-np.exp(e[s, 3])) if t < 2 else 0.0)
        s = nxt[s, v]
    want += e[s, 3]
    assert lp_w == pytest.approx(want, rel=1e-5, abs=1e-6)
