"""The worked example of part 3a: beam search with the sheet's k = 3 on a tiny fixed distribution.

Three tokens a, b, c; sequences of exactly ``LENGTH`` tokens; the next token depends only on the previous
one (a bigram table), so every probability is a product a reader can check by hand. Plain Python,
deterministic; ``tests/io/test_report_beam.py`` checks it against the library's beam search and against
enumeration of all sequences.
"""

from __future__ import annotations

import itertools
import math

TOKENS = ("a", "b", "c")
LENGTH = 3
FIRST = {"a": 0.5, "b": 0.4, "c": 0.1}
NEXT = {  # p(next | previous)
    "a": {"a": 0.4, "b": 0.3, "c": 0.3},
    "b": {"a": 0.9, "b": 0.05, "c": 0.05},
    "c": {"a": 0.2, "b": 0.4, "c": 0.4},
}


def p_next(prefix: str, token: str) -> float:
    return FIRST[token] if not prefix else NEXT[prefix[-1]][token]


def probability(seq: str) -> float:
    return math.prod(p_next(seq[:i], t) for i, t in enumerate(seq))


def beam_search(k: int) -> list[dict]:
    """Each step: the k x V scored extensions (best first) and the k kept. Ties: earlier prefix, then token order."""
    beams = [("", 1.0)]
    steps = []
    for _ in range(LENGTH):
        cands = [(prefix + t, p * p_next(prefix, t)) for prefix, p in beams for t in TOKENS]
        ranked = sorted(cands, key=lambda c: -c[1])  # stable: ties keep the generation order
        beams = ranked[:k]
        steps.append({"candidates": ranked, "kept": beams})
    return steps


def exact_best() -> tuple[str, float]:
    seqs = ("".join(s) for s in itertools.product(TOKENS, repeat=LENGTH))
    return max(((s, probability(s)) for s in seqs), key=lambda c: c[1])


def markdown(k: int = 3) -> list[str]:
    """The example as Markdown lines: the distribution, one table row per step, greedy vs beam vs exact."""
    def fmt(seq, p):
        return f"{seq} {p:.3g}"

    first = ", ".join(f"p({t}) = {FIRST[t]:g}" for t in TOKENS)
    lines = [f"A toy model over the tokens a, b, c, sequences of {LENGTH} tokens. First token: {first}. "
             "Next token given the previous one:", "",
             "| previous | p(a) | p(b) | p(c) |", "|---|---|---|---|"]
    lines += [f"| {prev} | " + " | ".join(f"{NEXT[prev][t]:g}" for t in TOKENS) + " |" for prev in TOKENS]
    lines += ["", f"Beam search with k = {k}: each step extends every kept prefix by every token "
              f"({k} x {len(TOKENS)} = {k * len(TOKENS)} candidates after the first step), scores each by its "
              f"probability (the product along it) and keeps the best {k}.", "",
              "| step | candidates, best first (prefix probability) | kept |", "|---|---|---|"]
    for i, step in enumerate(beam_search(k), 1):
        cands = "; ".join(fmt(*c) for c in step["candidates"])
        kept = ", ".join(seq for seq, _ in step["kept"])
        lines.append(f"| {i} | {cands} | {kept} |")
    greedy_seq, greedy_p = beam_search(1)[-1]["kept"][0]
    beam_seq, beam_p = beam_search(k)[-1]["kept"][0]
    best_seq, best_p = exact_best()
    lines += ["", f"Greedy (k = 1) takes a first (0.5 > 0.4) and ends with {greedy_seq} "
              f"(probability {greedy_p:.3g}). The beam keeps b alive at step 1 and returns {beam_seq} "
              f"({beam_p:.3g}); enumerating all {len(TOKENS) ** LENGTH} sequences gives the same best, "
              f"{best_seq} ({best_p:.3g}). Greedy's answer is a search error: the model prefers "
              f"{best_seq}, greedy never looked there."]
    return lines
