"""C9's computation: beams of every (length penalty, beam rule, width) for the GRUs and the true sources, the
exact modes (branch and bound for the GRUs, Viterbi for the sources), and the measures judged under the
true source (score gap to the mode, length, validity, token diversity)."""

from __future__ import annotations

import numpy as np

from jaxrnn.models import decoding as dec
from jaxrnn.models import lm
from jaxrnn.models import sources as S
from jaxrnn.studies.decoding import grids
from jaxrnn.studies.decoding import names as N
from jaxrnn.studies.decoding.measures import _tolerance, distinct_tokens, true_log_prob

RULES = dec.BEAM_RULES  # ("pool", "top_k")
FAMILY_AXIS = {"gru": N.MODEL, "source": N.SOURCE}


def source_state0(src: S.Source):
    """A source's start state (its parameters unused): the ``state0_fn`` of the source model family."""
    del src
    return S.source_state0()


def beams(cfg, params, SRC, emit, nxt, src_of, ds) -> dict:
    """Every family's beams over the grid (alpha, rule, width): per family a dict of arrays (alpha, rule,
    width, model|source), recorded in ``ds``."""
    widths = np.asarray(cfg.beam_widths)
    grid = [(a, r, w) for a in cfg.length_penalties for r in RULES for w in widths]
    A = np.asarray([g[0] for g in grid], np.float32)
    R = np.asarray([g[1] == "top_k" for g in grid])
    W = np.asarray([g[2] for g in grid], np.int32)
    shape = (len(cfg.length_penalties), len(RULES), len(widths))
    L, eos = cfg.max_len, cfg.vocab
    ds.add_axis(N.ALPHA, np.asarray(cfg.length_penalties))
    ds.add_axis(N.RULE, np.asarray(RULES))
    ds.add_axis(N.WIDTH, widths)
    ds.add(N.BEAM_VOCAB, (), np.int64(cfg.vocab + 1))
    runs = {
        "gru": grids.beam_grid(params, eos, A, R, W, logits_fn=lm.lm_logits, transition_fn=lm.lm_transition,
                               state0_fn=lm.lm_state0, num_beams=int(widths.max()), max_len=L),
        "source": grids.beam_grid(SRC, eos, A, R, W, logits_fn=S.source_logits, transition_fn=S.source_transition,
                                  state0_fn=source_state0, num_beams=int(widths.max()), max_len=L),
    }
    rows = {"gru": src_of, "source": np.arange(len(emit))}
    out = {}
    for fam, (b, open_raw) in runs.items():
        score = np.asarray(b.score[:, :, 0], np.float64).reshape(*shape, -1)
        tokens, length = np.asarray(b.tokens[:, :, 0]), np.asarray(b.length[:, :, 0])
        finished = np.isfinite(score)
        tl = true_log_prob(emit[rows[fam]][None], nxt[rows[fam]][None], tokens, length).reshape(*shape, -1)
        tl = np.where(finished, tl, -np.inf)
        r = dict(score=score, length=np.where(finished, length.reshape(*shape, -1), L), valid=np.isfinite(tl),
                 finished=finished, open_raw=np.asarray(open_raw, np.float64).reshape(*shape, -1),
                 distinct=distinct_tokens(tokens, np.where(finished.reshape(tokens.shape[:-1]), length, L),
                                          finished.reshape(tokens.shape[:-1])).reshape(*shape, -1))
        dims = (N.ALPHA, N.RULE, N.WIDTH, FAMILY_AXIS[fam])
        for name, key in ((N.BEAM_SCORE, "score"), (N.BEAM_LENGTH, "length"), (N.BEAM_VALID, "valid"),
                          (N.BEAM_FINISHED, "finished"), (N.BEAM_OPEN, "open_raw"), (N.BEAM_DISTINCT, "distinct")):
            ds.add(N.key(fam, name), dims, r[key])
        ds.add(N.key(fam, N.BEAM_TRUE_LOGP), dims, tl)
        out[fam] = r
    return out


def exact_modes(cfg, params, sources, emit, nxt, src_of, search) -> dict:
    """The exact modes (length penalty 0): GRUs by branch and bound above the best beam score found (a
    search over its node budget is incomplete: its mode is unknown, NaN); sources by Viterbi."""
    L, V, M = cfg.max_len, cfg.vocab + 1, len(src_of)
    g = search["gru"]
    best_beam = g["score"][0].max(axis=(0, 1))
    lower = np.where(np.isfinite(best_beam), best_beam - _tolerance(best_beam), -np.inf).astype(np.float32)
    ex = grids.exact_grid(params, lower, cfg.vocab, max_len=L, vocab=V, max_nodes=cfg.max_nodes)
    found, complete = np.asarray(ex.found), np.asarray(ex.complete)
    # nothing strictly above the bound: the best beam is the mode (within the tolerance)
    at_beam = np.argmax(g["score"][0].reshape(-1, M), axis=0)
    beam_len = g["length"][0].reshape(-1, M)[at_beam, np.arange(M)]
    beam_valid = g["valid"][0].reshape(-1, M)[at_beam, np.arange(M)]
    ex_tl = true_log_prob(emit[src_of], nxt[src_of], np.asarray(ex.tokens), np.asarray(ex.length))
    vit = [S.viterbi(s, L) for s in sources]
    return {
        "gru": dict(score=np.where(complete, np.where(found, np.asarray(ex.score, np.float64), best_beam), np.nan),
                    length=np.where(found, np.asarray(ex.length), beam_len),
                    valid=np.where(found, np.isfinite(ex_tl), beam_valid), nodes=np.asarray(ex.nodes),
                    complete=complete),
        "source": dict(score=np.asarray([v[1] for v in vit]), length=np.asarray([len(v[0]) for v in vit]),
                       valid=np.asarray([np.isfinite(v[1]) for v in vit]), nodes=np.zeros(len(sources), int),
                       complete=np.asarray([np.isfinite(v[1]) for v in vit])),
    }


def score_gaps(search: dict, exact: dict, ds) -> None:
    """Search errors and the score gap log p(mode) - log p(beam) (alpha = 0), per family, into ``search``
    and ``ds``. An output unfinished at the cap is scored by its best open prefix (an upper bound on any
    completion, so its gap is understated); gaps within the tolerance are 0; NaN where the mode is unknown."""
    for fam, r in search.items():
        e = exact[fam]
        err = r["score"][0] < e["score"] - _tolerance(e["score"])  # (rule, width, model)
        stand_in = np.where(r["finished"][0], r["score"][0], r["open_raw"][0])
        with np.errstate(invalid="ignore"):
            gap = np.maximum(e["score"] - stand_in, 0.0)
        gap = np.where(np.isnan(e["score"]), np.nan, np.where(err | ~r["finished"][0], gap, 0.0))
        r["search_error"], r["gap"] = err, gap
        axis = FAMILY_AXIS[fam]
        ds.add(N.key(fam, N.SEARCH_ERROR), (N.RULE, N.WIDTH, axis), err)
        ds.add(N.key(fam, N.SCORE_GAP), (N.RULE, N.WIDTH, axis), gap)
        for name, arr in ((N.EXACT_SCORE, e["score"]), (N.EXACT_LENGTH, e["length"]), (N.EXACT_VALID, e["valid"]),
                          (N.EXACT_NODES, e["nodes"]), (N.EXACT_COMPLETE, e["complete"])):
            ds.add(N.key(fam, name), (axis,), arr)
