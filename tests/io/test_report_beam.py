"""Part 3a's worked example (jaxrnn/io/report/beam_example.py) against the library's beam search and against
enumeration of every sequence: the same kept prefixes, the same winner, the same probabilities."""

from __future__ import annotations

import itertools
import math

import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn.io.report import beam_example as B
from jaxrnn.models import decoding

V = len(B.TOKENS)
EOS = V


def _params():
    first = np.log([B.FIRST[t] for t in B.TOKENS] + [1e-300])
    nxt = np.log([[B.NEXT[p][t] for t in B.TOKENS] + [1e-300] for p in B.TOKENS])
    return jnp.asarray(np.vstack([nxt, first]), jnp.float32)  # row V: the start state


def _logits(params, state):
    prev, t = state
    body = params[prev].at[EOS].set(-1e30)
    end = jnp.full((V + 1,), -1e30).at[EOS].set(0.0)  # after LENGTH tokens only EOS
    return jnp.where(t < B.LENGTH, body, end)


def _transition(params, state, tok):
    return (tok, state[1] + 1)


@pytest.mark.parametrize("k", [1, 2, 3])
def test_worked_example_matches_the_library_beam_search(k):
    beams = decoding.beam_search(_logits, _transition, _params(), (jnp.int32(V), jnp.int32(0)), num_beams=k,
                                 max_len=B.LENGTH + 1, eos_id=EOS, beam_rule="top_k")
    lib = [("".join(B.TOKENS[int(i)] for i in row[: B.LENGTH]), float(s))
           for row, s in zip(np.asarray(beams.tokens), np.asarray(beams.raw_score))]
    mine = B.beam_search(k)[-1]["kept"]
    assert [seq for seq, _ in lib] == [seq for seq, _ in mine]
    for (_, s_lib), (_, p) in zip(lib, mine):
        assert s_lib == pytest.approx(math.log(p), abs=1e-5)


def test_every_step_keeps_the_k_best_of_all_extensions():
    for k in (1, 2, 3):
        kept = [""]
        for step in B.beam_search(k):
            cands = {prefix + t: B.probability(prefix + t) for prefix in kept for t in B.TOKENS}
            assert len(step["candidates"]) == len(cands)
            best = sorted(cands.values(), reverse=True)[:k]
            assert [p for _, p in step["kept"]] == pytest.approx(best)
            kept = [seq for seq, _ in step["kept"]]


def test_exact_best_by_enumeration_and_greedy_misses_it():
    probs = {"".join(s): B.probability("".join(s)) for s in itertools.product(B.TOKENS, repeat=B.LENGTH)}
    assert sum(probs.values()) == pytest.approx(1.0)
    best = max(probs, key=probs.get)
    assert B.exact_best() == (best, probs[best])
    assert B.beam_search(3)[-1]["kept"][0][0] == best
    assert B.beam_search(1)[-1]["kept"][0][0] != best  # the example shows a search error of greedy
    text = "\n".join(B.markdown(3))
    assert best in text and "search error" in text
