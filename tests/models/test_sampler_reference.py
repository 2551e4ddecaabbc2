"""The sampler against a float64 numpy reference written from the definitions, at several temperatures.

The reference, for logits l, temperature T > 0 and options (k, p, m):
q = softmax(l / T) (the temperature first: every later decision is taken on q);
top-k keeps the tokens whose l / T is >= the k-th largest; top-p, on q renormalised over the top-k
survivors sorted descending, keeps token i iff the mass before it is < p (plus the tokens tied with the
last kept); min-p keeps q_i >= m max(q); the result is q over the kept set, renormalised.
Only public names of ``jaxrnn.models.decoding`` are used.
"""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn.models import decoding as dec

TEMPERATURES = (0.25, 0.5, 1.0, 2.0, 3.0)
MARGIN = 1e-4  # cases whose top-p or min-p test lies within 1e-4 of its threshold are skipped: float32's
# masses (relative error ~1e-6 after V = 12 terms) decide those, not the definition


def reference(logits, temperature, top_k, top_p, min_p):
    """(kept mask, probabilities, closest margin of a top-p / min-p decision) in float64."""
    z = np.asarray(logits, np.float64) / temperature
    q = np.exp(z - z.max())
    q /= q.sum()
    order = np.argsort(-z, kind="stable")
    kth = z[order][top_k - 1]
    keep = z >= kth
    margins = [np.inf]
    if top_p < 1.0:
        qs = np.where(keep, q, 0.0)
        qs = qs / qs.sum()
        sorted_mass = qs[order]
        before = np.concatenate([[0.0], np.cumsum(sorted_mass)[:-1]])
        in_p = before < top_p
        in_p[0] = True
        margins.append(np.min(np.abs(before[1:] - top_p)[sorted_mass[1:] > 0], initial=np.inf))
        last = sorted_mass[in_p].min()
        keep &= qs >= last
    if min_p > 0.0:
        ratio = q / q.max()
        margins.append(np.min(np.abs(ratio - min_p)))
        keep &= ratio >= min_p
    p = np.where(keep, q, 0.0)
    return keep, p / p.sum(), min(margins)


def _logits_fn(params, state):
    del state
    return params


def _transition(params, state, token):
    del params, token
    return state


@functools.partial(jax.jit, static_argnames=())
def _log_q_all(logits, opts):
    """log q(token) of every one-token sequence through ``forced_scores`` (the traced path the studies use)."""
    vocab = logits.shape[0]
    return jax.vmap(lambda t: dec.forced_scores(_logits_fn, _transition, logits, jnp.int32(0), t[None], 1, opts)[1])(
        jnp.arange(vocab))


def _cases():
    rng = np.random.default_rng(0)
    out = []
    for scale in (1.0, 3.0):
        for _ in range(6):
            out.append(rng.normal(0.0, scale, 12).astype(np.float32))
    return out


OPTIONS = [dict(top_k=12, top_p=1.0, min_p=0.0), dict(top_k=4, top_p=1.0, min_p=0.0),
           dict(top_k=12, top_p=0.9, min_p=0.0), dict(top_k=12, top_p=0.5, min_p=0.0),
           dict(top_k=12, top_p=1.0, min_p=0.5), dict(top_k=12, top_p=1.0, min_p=0.1),
           dict(top_k=6, top_p=0.8, min_p=0.05), dict(top_k=3, top_p=0.6, min_p=0.3)]


@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_sampler_matches_the_float64_reference(temperature):
    """Kept sets equal, probabilities within 2e-6 relative (+1e-9): float32 exp of l / T and a 12-term sum
    are exact to a few ulps (6e-8 each); a mass decided at the wrong temperature is off by far more."""
    checked = 0
    for logits in _cases():
        for o in OPTIONS:
            keep, p, margin = reference(logits, temperature, **o)
            if margin < MARGIN:
                continue
            checked += 1
            y = np.asarray(dec.process_logits(jnp.asarray(logits), temperature=temperature, **o))
            np.testing.assert_array_equal(np.isfinite(y), keep, err_msg=f"T={temperature} {o} {logits}")
            got = np.asarray(jax.nn.softmax(jnp.asarray(y, jnp.float32)), np.float64)
            np.testing.assert_allclose(got, p, rtol=2e-6, atol=1e-9, err_msg=f"T={temperature} {o}")
            opts = dec.sampler_options(12, temperature=temperature, **o)
            lq = np.asarray(_log_q_all(jnp.asarray(logits), opts), np.float64)
            np.testing.assert_array_equal(np.isfinite(lq), keep)
            np.testing.assert_allclose(np.exp(lq), p, rtol=4e-6, atol=1e-9)
    assert checked >= 0.8 * len(_cases()) * len(OPTIONS)  # the margin rule skips few cases


def test_the_reference_has_power_against_masks_decided_before_the_temperature():
    """Deciding top-p / min-p on the T = 1 masses and then dividing by T gives different kept sets in
    many of these cases (so the test above would catch it), e.g. T = 3 with min_p 0.5, T = 0.5 with top_p 0.9."""
    differ = {}
    for t in (0.5, 3.0):
        for o in OPTIONS:
            if o["top_p"] == 1.0 and o["min_p"] == 0.0:
                continue
            n = 0
            for logits in _cases():
                keep_t, _, m_t = reference(logits, t, **o)
                keep_1, _, m_1 = reference(logits, 1.0, **o)
                n += int(min(m_t, m_1) >= MARGIN and not np.array_equal(keep_t, keep_1))
            differ[(t, tuple(o.values()))] = n
    assert differ[(3.0, (12, 1.0, 0.5))] > 0 and differ[(0.5, (12, 0.9, 0.0))] > 0, differ
    assert sum(v > 0 for v in differ.values()) >= 8, differ


def test_reference_by_hand():
    """The reference itself on a case worked by hand: l = ln(4, 2, 1, 1) at T = 1 -> q = (1/2, 1/4, 1/8, 1/8);
    top_p 0.7 keeps {0, 1} (mass before token 1 is 1/2 < 0.7, before token 2 is 3/4); min_p 0.3 keeps
    q >= 0.15: {0, 1}; at T = 2, q ~ (2, sqrt2, 1, 1) / 5.41 and min_p 0.6 keeps {0, 1} (sqrt2 / 2 = 0.71)."""
    l = np.log([4.0, 2.0, 1.0, 1.0])
    keep, p, _ = reference(l, 1.0, 4, 0.7, 0.0)
    assert keep.tolist() == [True, True, False, False]
    np.testing.assert_allclose(p, [2 / 3, 1 / 3, 0, 0])
    assert reference(l, 1.0, 4, 1.0, 0.3)[0].tolist() == [True, True, False, False]
    assert reference(l, 2.0, 4, 1.0, 0.6)[0].tolist() == [True, True, False, False]
    assert reference(l, 2.0, 4, 1.0, 0.75)[0].tolist() == [True, False, False, False]
    assert reference(l, 1.0, 1, 1.0, 0.0)[0].tolist() == [True, False, False, False]
