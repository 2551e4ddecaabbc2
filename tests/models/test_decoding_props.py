"""Property tests of the samplers' masks, and the decoders' edge cases (robust decoders, C10 on ties)."""

from fractions import Fraction

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from jaxrnn.models import decoding as dec
from jaxrnn.models import sources as S

F32 = np.float32
# logits with ties (values drawn from a small pool), -inf, and extreme scales
POOL = [0.0, 1.0, -1.0, 0.5, 2.0, -3.0, 30.0, -30.0, 1e-3, 1e30, -1e30, 3e38, -3e38, 1e-40, -np.inf, 7.25]
finite_or_inf = st.one_of(st.sampled_from(POOL), st.floats(-1e4, 1e4, allow_nan=False, width=32))
logit_rows = st.lists(finite_or_inf, min_size=2, max_size=12).map(lambda v: np.asarray(v, F32))
probs_p = st.one_of(st.sampled_from([1e-45, 1e-30, 0.25, 0.5, 0.75, 0.8, 0.9, 1.0]),
                    st.floats(float(np.float32(1e-6)), 1.0, width=32))


def masses(logits):
    """The module's own unnormalised masses e = exp(l - max): the numbers top-p is exact on."""
    return np.asarray(jnp.exp(dec.shifted_logits(jnp.asarray(logits))))


def top_p_reference(e, p):
    """Slow twin in exact rational arithmetic: the smallest sorted prefix whose mass reaches p * total,
    closed under ties with its last member (the top token always kept)."""
    e = np.asarray(e, F32)
    exact = [Fraction(float(x)) for x in e]
    total = sum(exact)
    order = sorted(range(len(e)), key=lambda i: -exact[i])
    # the user's p, exactly (not rounded to float32); a prefix within TOP_P_TOL of the total reaches it
    target = Fraction(float(dec.exact_top_p(p))) * total - Fraction(dec.TOP_P_TOL) * total
    acc, m = Fraction(0), 0
    for i in order:
        if m > 0 and acc >= target:
            break
        acc += exact[i]
        m += 1
    cutoff = exact[order[m - 1]]
    return np.asarray([x >= cutoff for x in exact])


def kept(logits, **opts):
    return np.isfinite(np.asarray(dec.process_logits(jnp.asarray(logits), **opts)))


@settings(max_examples=60, deadline=None)
@given(logit_rows, probs_p)
def test_top_p_keeps_exactly_the_smallest_prefix(logits, p):
    assume(np.any(logits > -np.inf))
    got = kept(logits, top_p=p)
    # possible: finite after the shift l - max (a finite logit 6e38 below the maximum overflows to -inf: p = 0)
    possible = np.isfinite(np.asarray(dec.shifted_logits(jnp.asarray(logits))))
    if dec.exact_top_p(p) >= 1:  # off: every possible token
        np.testing.assert_array_equal(got, possible)
        return
    want = top_p_reference(masses(logits), p) & possible
    np.testing.assert_array_equal(got, want)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 64), min_size=2, max_size=10), st.integers(0, 10))
def test_top_p_exact_on_dyadic_boundaries(weights, cut):
    """Masses that are small integers: a boundary p * total equal to a prefix sum is hit exactly, and the
    next token must not be kept (a float32 cumsum - p rounds such a boundary either way)."""
    e = np.asarray(sorted(weights, reverse=True), F32)
    assume(e[0] > 0)
    total = int(e.sum())
    prefix = int(e[:max(1, min(cut, len(e)))].sum())
    scale = 2 ** 24  # p = prefix / total is exact in float32 only for some totals: snap to a dyadic
    p = F32(round(prefix / total * scale) / scale)
    assume(0 < p <= 1)
    got = np.asarray(dec.top_p_keep(jnp.asarray(e), float(p)))  # a Python float: the dyadic value itself
    np.testing.assert_array_equal(got, top_p_reference(e, float(p)))


P_TYPES = [float, np.float32, np.float64, jnp.float32, lambda x: jnp.asarray(x), lambda x: np.asarray([x], F32)[0]]


@pytest.mark.parametrize("as_type", P_TYPES)
@pytest.mark.parametrize("probs, want", [((.4, .4, .1, .1), [0, 1]), ((.2, .2, .2, .2, .1, .1), [0, 1, 2, 3]),
                                         ((.3, .1, .1, .5), [0, 3])])
def test_top_p_decided_on_the_users_p_whatever_its_type(probs, want, as_type):
    """Issue 20: p = 0.8 held in float32 is 0.800000012, so a prefix of mass exactly 0.8 counted as below
    p and every token was kept. The rule keeps the smallest prefix whose mass reaches the user's 0.8
    (the transformers case (.3, .1, .1, .5) keeps [0, 3]), whatever the type p arrives in."""
    logits = jnp.log(jnp.asarray(probs, jnp.float32))
    got = np.flatnonzero(kept(logits, top_p=as_type(0.8))).tolist()
    assert got == want
    e = np.asarray(jnp.exp(logits - jnp.max(logits)))
    assert np.flatnonzero(np.asarray(dec.top_p_keep(jnp.asarray(e), as_type(0.8)))).tolist() == want
    # the slow twin in rationals on the same masses agrees, and p read as float32's 0.800000012 does not
    assert np.flatnonzero(top_p_reference(e, 0.8)).tolist() == want
    assert np.flatnonzero(top_p_reference(e, float(F32(0.8)))).tolist() != want or probs == (.3, .1, .1, .5)


def test_users_p_is_split_into_an_exact_float32_pair():
    for p in (0.8, 0.9, 0.95, 1 / 3, 0.1):
        hi, lo = dec.split_top_p(p)
        assert hi.dtype == lo.dtype == np.float32
        assert abs(Fraction(float(hi)) + Fraction(float(lo)) - Fraction(p)) <= Fraction(p) * Fraction(1, 2 ** 47)
        assert float(dec.exact_top_p(np.float32(p))) == float(np.format_float_positional(F32(p), unique=True))


def test_top_p_boundary_by_hand():
    keep = lambda e, p: np.asarray(dec.top_p_keep(jnp.asarray(e, jnp.float32), jnp.float32(p))).tolist()  # noqa
    assert keep([4, 2, 1, 1], 0.75) == [True, True, False, False]  # mass before the 3rd is exactly 0.75
    assert keep([4, 2, 1, 1], 0.7500001) == [True, True, True, True]  # then the 3rd and its tied twin
    assert keep([4, 2, 1, 1], 0.5) == [True, False, False, False]
    assert keep([4, 2, 1, 1], 1e-45) == [True, False, False, False]
    # float32 values whose float32 cumsum - p rounds the boundary below p
    e = np.asarray([0.5, 0.25, 0.125, 0.0625, 0.0625], np.float32)
    assert keep(e, 0.875) == [True, True, True, False, False]


@settings(max_examples=60, deadline=None)
@given(logit_rows, st.integers(1, 12), probs_p, st.sampled_from([0.0, 0.1, 0.5, 1.0]),
       st.sampled_from([0.0, 1e-45, 1e-39, 1e-30, 0.3, 1.0, 2.5, 1e30]))
def test_no_nan_and_top_token_always_kept(logits, k, p, min_p, t):
    k = min(k, len(logits))
    y = np.asarray(dec.process_logits(jnp.asarray(logits), top_k=k, top_p=p, min_p=min_p, temperature=t))
    assert not np.any(np.isnan(y))
    if np.any(logits > -np.inf):
        assert y[int(jnp.argmax(jnp.asarray(logits)))] == 0.0  # the first argmax is kept, at 0
    else:
        assert np.all(y == -np.inf)
    assert np.all(np.isfinite(y) <= (logits > -np.inf))  # never revives an impossible token
    lp = np.asarray(dec.log_softmax(jnp.asarray(y)))
    assert not np.any(np.isnan(lp))


@settings(max_examples=60, deadline=None)
@given(logit_rows, st.sampled_from([0.0, 1e-45, 1e-39, 1e-38]))
def test_temperature_to_zero_is_greedy(logits, t):
    assume(np.any(logits > -np.inf))
    y = np.asarray(dec.process_logits(jnp.asarray(logits), temperature=t))
    want = np.full(len(logits), -np.inf)
    want[int(jnp.argmax(jnp.asarray(logits)))] = 0.0  # XLA's argmax: subnormals flushed to 0 on CPU
    np.testing.assert_array_equal(y, want)


@settings(max_examples=60, deadline=None)
@given(logit_rows)
def test_small_temperature_concentrates_on_the_maxima(logits):
    """For 0 < t far below every gap to the maximum, the distribution is uniform over the tied maxima."""
    assume(np.any(logits > -np.inf))
    x = logits.astype(np.float64)
    m = x.max()
    gaps = m - x[(x < m)]
    t = float(gaps[np.isfinite(gaps)].min()) / 1e3 if np.any(np.isfinite(gaps)) else 1.0
    assume(t >= dec.TINY)
    probs = np.asarray(jax.nn.softmax(dec.process_logits(jnp.asarray(logits), temperature=t)))
    ties = x == m
    np.testing.assert_allclose(probs, np.where(ties, 1.0 / ties.sum(), 0.0), atol=1e-6)


@settings(max_examples=60, deadline=None)
@given(logit_rows, st.integers(0, 2 ** 31 - 1))
def test_top_k_of_v_is_pure_sampling(logits, seed):
    assume(np.any(logits > -np.inf))
    V = len(logits)
    x = jnp.asarray(logits)
    np.testing.assert_array_equal(np.asarray(dec.process_logits(x, top_k=V)), np.asarray(dec.process_logits(x)))
    np.testing.assert_array_equal(np.asarray(dec.process_logits(x)), np.asarray(dec.shifted_logits(x)))
    key = jax.random.key(seed)
    pure = jax.random.categorical(key, dec.shifted_logits(x))
    assert int(jax.random.categorical(key, dec.process_logits(x, top_k=V))) == int(pure)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(finite_or_inf, min_size=6, max_size=6).map(lambda v: np.asarray(v, F32)), min_size=1,
                max_size=5), probs_p, st.integers(1, 6),
       st.sampled_from([0.0, 0.05, 0.3]), st.sampled_from([0.0, 0.5, 1.0, 2.0]))
def test_identical_under_jit_and_batching(rows, p, k, min_p, t):
    x = jnp.asarray(np.stack(rows))
    opts = dec.sampler_options(6, top_p=p, top_k=k, min_p=min_p, temperature=t)
    single = np.stack([np.asarray(dec.process_logits(r, top_p=p, top_k=k, min_p=min_p, temperature=t)) for r in x])
    with jax.disable_jit():
        eager = np.stack([np.asarray(dec._process(r, opts)) for r in x])
    batched = np.asarray(jax.jit(jax.vmap(dec._process, (0, None)))(x, opts))
    np.testing.assert_array_equal(single, eager)
    np.testing.assert_array_equal(single, batched)


# ---------------------------------------------------------------------------
# C10 on ties, and the decoders' edge cases
# ---------------------------------------------------------------------------

def tied_logits(p, h):
    del p, h
    return jnp.asarray([1.0, 1.0, 0.0, -1.0])  # ids 0 and 1 tie for the maximum; EOS = 3


def tied_step(p, h, tok):
    del p, tok
    return h


def test_top1_on_tied_maximum_samples_among_the_ties():
    """Greedy takes the first maximum (id 0). Top-1 keeps every token tied with the maximum (as toolkits that
    mask ``logits < kth`` do), so it samples ids 0 and 1 with probability 1/2 each: C10 ("k = 1 is greedy")
    holds exactly when the maximum is unique."""
    g = dec.greedy(tied_logits, tied_step, None, jnp.zeros(()), max_len=1, eos_id=3)
    assert int(g.tokens[0]) == 0
    keys = jax.random.split(jax.random.key(0), 2000)
    toks = np.asarray(jax.vmap(lambda k: dec.sample(k, tied_logits, tied_step, None, jnp.zeros(()), max_len=1,
                                                    eos_id=3, top_k=1).tokens[0])(keys))
    assert set(toks.tolist()) == {0, 1}
    n1 = int((toks == 1).sum())
    assert 1000 - 4 * 23 < n1 < 1000 + 4 * 23  # binomial(2000, 1/2): sd 22.4
    # temperature 0 is greedy, ties included
    t0 = np.asarray(jax.vmap(lambda k: dec.sample(k, tied_logits, tied_step, None, jnp.zeros(()), max_len=1,
                                                  eos_id=3, temperature=0.0).tokens[0])(keys[:50]))
    assert np.all(t0 == 0)


def dead_logits(p, h):
    return jnp.where(h > 0, jnp.full(3, -jnp.inf), p)


def dead_step(p, h, tok):
    del p
    return h + 1


def test_rows_without_a_possible_token_never_give_nan():
    params = jnp.asarray([0.0, -1.0, -2.0])
    for fn in (lambda: dec.greedy(dead_logits, dead_step, params, jnp.int32(0), max_len=4, eos_id=2),
               lambda: dec.sample(jax.random.key(1), dead_logits, dead_step, params, jnp.int32(0), max_len=4,
                                  eos_id=2)):
        d = fn()
        assert not np.isnan(float(d.score)) and not np.isnan(float(d.logq))
        if int(d.tokens[0]) != 2:  # a token first: then no token is possible, EOS with score -inf
            assert int(d.tokens[1]) == 2 and float(d.score) == -np.inf and bool(d.finished)
    for rule in dec.BEAM_RULES:
        b = dec.beam_search(dead_logits, dead_step, params, jnp.int32(0), num_beams=3, max_len=4, eos_id=2,
                            beam_rule=rule)
        assert not np.any(np.isnan(np.asarray(b.score)))
    tok, n, score, raw = dec.exact_best_sequence(dead_logits, dead_step, params, jnp.int32(0), max_len=4, eos_id=2,
                                                 vocab=3)
    assert n == 1 and score == pytest.approx(float(jax.nn.log_softmax(params)[2]))
    _, _, all_raw = dec.enumerate_sequences(dead_logits, dead_step, params, jnp.int32(0), max_len=4, eos_id=2, vocab=3)
    assert not np.any(np.isnan(all_raw))
    ex = dec.exact_search(dead_logits, dead_step, params, jnp.int32(0), max_len=4, eos_id=2)
    assert float(ex.score) == pytest.approx(score) and bool(ex.complete)


def test_nan_logits_are_impossible_tokens():
    y = np.asarray(dec.process_logits(jnp.asarray([np.nan, 0.0, np.nan, -1.0])))
    assert y.tolist()[0] == -np.inf and y[1] == 0.0 and y[2] == -np.inf
    assert np.asarray(dec.process_logits(jnp.full(3, np.nan))).tolist() == [-np.inf] * 3


def _src():
    return S.random_source(jax.random.key(0), 2, 3)


@pytest.mark.parametrize("opts,name", [
    (dict(top_k=0), "top_k"), (dict(top_k=9), "top_k"), (dict(top_k=2.0), "top_k"), (dict(top_k=True), "top_k"),
    (dict(top_p=0.0), "top_p"), (dict(top_p=1.5), "top_p"), (dict(top_p=np.nan), "top_p"),
    (dict(min_p=-0.1), "min_p"), (dict(min_p=1.1), "min_p"),
    (dict(temperature=-1.0), "temperature"), (dict(temperature=np.inf), "temperature"),
    (dict(temperature=np.nan), "temperature"), (dict(eos_id=9), "eos_id"), (dict(eos_id=-1), "eos_id"),
    (dict(eos_id=1.0), "eos_id"), (dict(max_len=0), "max_len")])
def test_bad_sampling_options(opts, name, key):
    src = _src()
    kw = dict(max_len=5, eos_id=3) | opts
    with pytest.raises(ValueError, match=name):
        dec.sample(key, S.source_logits, S.source_transition, src, S.source_state0(), **kw)


@pytest.mark.parametrize("opts,name", [(dict(top_k=0), "top_k"), (dict(top_p=0.0), "top_p"),
                                       (dict(temperature=-1.0), "temperature"), (dict(min_p=2.0), "min_p")])
def test_process_logits_validates(opts, name):
    with pytest.raises(ValueError, match=name):
        dec.process_logits(jnp.zeros(4), **opts)


def test_bad_search_options():
    src, s0 = _src(), S.source_state0()
    fns = (S.source_logits, S.source_transition, src, s0)
    with pytest.raises(ValueError, match="num_beams"):
        dec.beam_search(*fns, num_beams=0, max_len=5, eos_id=3)
    with pytest.raises(ValueError, match="eos_id"):
        dec.beam_search(*fns, num_beams=2, max_len=5, eos_id=9)  # used to mean id 3 silently
    with pytest.raises(ValueError, match="eos_id"):
        dec.greedy(*fns, max_len=5, eos_id=9)  # used to never finish
    with pytest.raises(ValueError, match="beam_rule"):
        dec.beam_search(*fns, num_beams=2, max_len=5, eos_id=3, beam_rule="textbook")
    with pytest.raises(ValueError, match="length_penalty"):
        dec.beam_search(*fns, num_beams=2, max_len=5, eos_id=3, length_penalty=float("nan"))
    with pytest.raises(ValueError, match="vocab"):
        dec.enumerate_sequences(*fns, max_len=3, eos_id=3, vocab=6)  # the logits have 4 ids
    with pytest.raises(ValueError, match="vocab"):
        dec.exact_best_sequence(*fns, max_len=3, eos_id=3, vocab=3)
    with pytest.raises(ValueError, match="eos_id"):
        dec.exact_search(*fns, max_len=3, eos_id=4)


def test_options_are_traced_one_compilation():
    src = S.random_source(jax.random.key(2), 3, 4)
    fns = (S.source_logits, S.source_transition, src, S.source_state0())
    dec.sample(jax.random.key(0), *fns, max_len=6, eos_id=4)
    before = dec._sample._cache_size()
    for o in (dict(top_k=2), dict(top_p=0.3), dict(temperature=0.0), dict(min_p=0.2, temperature=2.0)):
        dec.sample(jax.random.key(0), *fns, max_len=6, eos_id=4, **o)
    assert dec._sample._cache_size() == before


def test_sampler_identical_under_jit_and_batching():
    src = S.random_source(jax.random.key(6), 4, 5)
    fns = (S.source_logits, S.source_transition, src, S.source_state0())
    keys = jax.random.split(jax.random.key(1), 8)
    for o in (dict(top_p=0.7), dict(top_k=2, temperature=1.5), dict(min_p=0.2)):
        one = np.stack([np.asarray(dec.sample(k, *fns, max_len=7, eos_id=5, **o).tokens) for k in keys])
        opts = dec.sampler_options(6, **o)
        batched = jax.jit(jax.vmap(lambda k: dec.sample_with(k, *fns, opts, max_len=7, eos_id=5)))(keys)  # noqa: B023
        np.testing.assert_array_equal(one, np.asarray(batched.tokens))
        grid = dec.SamplerOptions(*[np.stack([x, x]) for x in opts])  # a sweep axis of two equal settings
        swept = jax.jit(jax.vmap(jax.vmap(lambda k, op: dec.sample_with(k, *fns, op, max_len=7, eos_id=5),
                                          (0, None)), (None, 0)))(keys, grid)
        np.testing.assert_array_equal(np.asarray(swept.tokens[1]), one)
