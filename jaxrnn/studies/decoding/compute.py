"""The decoding study (Problem 3, claims C9-C11) on sources with exact probabilities.

The true sources are random automata over V = ``vocab`` tokens whose EOS is possible in every state, the
start state included (no length window): EOS competes with every token from the first step, lengths
spread widely, and every probability is exact. Models:

- a GRU language model per (source, noise share), trained with teacher forcing on a fixed corpus of
  the source's samples of which a share of targets is truncated at a random point (noisy targets, as
  Ott et al. 2018 study with copies): the model's mode can be degenerate (Stahlberg & Byrne 2019);
- the true source itself, decoded as its own model (no model error: the counter-condition).

C9 (``search``): beam search for widths k under both beam rules, against the exact mode (depth-first
branch and bound for the GRUs, with a node budget; Viterbi for the sources); outputs judged under the
true source. C10: top-1 vs greedy and top-V vs pure sampling, same keys. C11: samples of every setting
judged under the true source (impossible, non-terminating, degenerate loops), precision, recall and the
entropy of the sampling distribution. One compilation per function and shape; option values are traced.
The pieces live in ``training`` (sources, corpora, GRUs), ``grids`` (compiled decoding grids),
``measures`` (host-side measures) and ``search`` (C9); this module runs them and writes the summary.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn.io.results import Dataset
from jaxrnn.models import decoding as dec
from jaxrnn.models import divergence
from jaxrnn.models import lm
from jaxrnn.models import sources as S
from jaxrnn.studies.decoding import names as N
from jaxrnn.studies.decoding import search as C9
from jaxrnn.studies.decoding.claims import claims
from jaxrnn.studies.decoding.grids import (beam_grid, exact_grid, forced_grid, greedy_reference,  # noqa: F401
                                           pure_reference, replay_agreement, sample_grid)
from jaxrnn.studies.decoding.measures import distinct_tokens, loops, settings, true_log_prob  # noqa: F401
from jaxrnn.studies.decoding.training import (corpora, gru_recurrence, make_sources, sample_sources,  # noqa: F401
                                              sequence_nll, train_models, truncate)

RULES = C9.RULES


def study(cfg, *, key):
    V, eos, L = cfg.vocab + 1, cfg.vocab, cfg.max_len
    k_src, k_corpus, k_init, k_sample = jax.random.split(key, 4)
    sources = make_sources(cfg, k_src)
    SRC = S.Source(*[np.stack(x) for x in zip(*sources)])
    emit, nxt = np.asarray(SRC.emit_logp), np.asarray(SRC.next_state)
    n_src, n_noise = len(sources), len(cfg.noise_shares)

    # the GRUs: row = noise index x n_src + source; one sampling call for every corpus and held-out set
    src_of = np.tile(np.arange(n_src), n_noise)
    share = np.repeat(np.asarray(cfg.noise_shares, np.float32), n_src)
    M = len(src_of)
    d, corpus = corpora(SRC, k_corpus, src_of, share, n=cfg.corpus_size + cfg.n_true, max_len=L,
                        n_corpus=cfg.corpus_size)
    true_tok, true_len = np.asarray(d.tokens[:, cfg.corpus_size:]), np.asarray(d.length[:, cfg.corpus_size:])
    true_lp = np.asarray(d.score[:, cfg.corpus_size:], np.float64)
    params, losses = train_models(*corpus, k_init, np.float32(cfg.gru_lr), vocab=cfg.vocab, n=cfg.gru_hidden,
                                  d=cfg.gru_embed, steps=cfg.gru_steps, batch=cfg.gru_batch)
    losses = np.asarray(losses)
    divergence.report("decoding GRU", losses, divergence.uniform_loss(cfg.vocab))  # the one rule

    ds = Dataset()
    ds.add_axis(N.MODEL, np.arange(M))
    ds.add_axis(N.SOURCE, np.arange(n_src))
    ds.add(N.MODEL_SOURCE, (N.MODEL,), src_of)
    ds.add(N.MODEL_NOISE, (N.MODEL,), share)
    ds.add_axis(N.LOG_STEP, np.arange(losses.shape[1]) * 10)
    ds.add(N.TRAIN_LOSS, (N.MODEL, N.LOG_STEP), losses)

    # ---- C9: beams of every (alpha, rule, width), exact modes, score gaps ---------------------------
    search = C9.beams(cfg, params, SRC, emit, nxt, src_of, ds)
    exact = C9.exact_modes(cfg, params, sources, emit, nxt, src_of, search)
    C9.score_gaps(search, exact, ds)

    # ---- C10, C11: every sampler setting, common random numbers -------------------------------------
    rows_s, opts = settings(cfg)
    keys = jax.random.split(k_sample, M * cfg.n_samples).reshape(M, cfg.n_samples)  # the same for every setting
    g, greedy, pure = sample_grid(params, opts, keys, eos, max_len=L)
    # recall: only settings that mask tokens can miss a sequence (temperature and top-k = V keep every token)
    masks = np.asarray([(f == "top_k" and v < V) or f == "top_p" for f, v in rows_s])
    sub = dec.SamplerOptions(*[np.asarray(x)[masks] for x in opts])
    covered = np.ones((len(rows_s), M, cfg.n_true), bool)
    covered[masks] = np.asarray(forced_grid(params, sub, true_tok[src_of], true_len[src_of]))
    tok, length, fin = np.asarray(g.tokens), np.asarray(g.length), np.asarray(g.finished)
    tl = true_log_prob(emit[src_of][None, :, None], nxt[src_of][None, :, None], tok, length)
    impossible = fin & ~np.isfinite(tl)
    nonterm = ~fin
    degen = loops(tok, length, fin, cfg.loop_window, cfg.loop_period)
    rates = {"impossible": impossible, "nonterminating": nonterm, "degenerate": degen,
             "failure": impossible | nonterm | degen, "precision": fin & np.isfinite(tl)}
    rates = {k: v.mean(-1) for k, v in rates.items()}
    rates["recall"] = covered.mean(-1)
    entropy = (-np.asarray(g.logq, np.float64)).mean(-1)
    ds.add_axis(N.SETTING, np.arange(len(rows_s)))
    ds.add(N.SETTING_FAMILY, (N.SETTING,), np.asarray([f for f, _ in rows_s]))
    ds.add(N.SETTING_VALUE, (N.SETTING,), np.asarray([v for _, v in rows_s], np.float64))
    for name in N.SAMPLE_RATES:
        ds.add(name, (N.SETTING, N.MODEL), rates[name])
    ds.add(N.ENTROPY, (N.SETTING, N.MODEL), entropy)
    ds.add(N.MEAN_LENGTH, (N.SETTING, N.MODEL), length.mean(-1))
    src_entropy = -true_lp.mean(-1)
    src_len = true_len.mean(-1)
    src_loops = loops(true_tok, true_len, np.ones_like(true_len, bool), cfg.loop_window, cfg.loop_period).mean(-1)
    ds.add(N.SOURCE_ENTROPY, (N.SOURCE,), src_entropy)
    ds.add(N.SOURCE_LENGTH, (N.SOURCE,), src_len)
    ds.add(N.SOURCE_LOOPS, (N.SOURCE,), src_loops)

    # C10: the identity step by step along each sample (same logits, same key), and end to end between
    # the separately batched programs (whose logits may differ in the last bit)
    top1 = [i for i, (f, v) in enumerate(rows_s) if f == "top_k" and v == 1][0]
    topv = [i for i, (f, v) in enumerate(rows_s) if f == "top_k" and v == V][0]
    row = lambda i: jax.tree.map(lambda a: a[i], opts)  # noqa: E731
    agree_greedy, tied_steps, steps = (np.asarray(a) for a in replay_agreement(
        params, row(top1), keys, tok[top1], eos, reference=greedy_reference))
    agree_pure = np.asarray(replay_agreement(params, row(topv), keys, tok[topv], eos, reference=pure_reference)[0])
    end_to_end = {"top1_equals_greedy": int(np.all(tok[top1] == np.asarray(greedy.tokens)[:, None], -1).sum()),
                  "topV_equals_pure": int(np.all(tok[topv] == np.asarray(pure.tokens), -1).sum())}
    tied = np.asarray([1.0, 1.0, 0.0, -1.0], np.float32)  # a 2-way tie: P(top-1 picks greedy's id) exactly
    y = np.asarray(dec.process_logits(tied, top_k=1), np.float64)
    p_tie = float(np.exp(y)[int(np.argmax(tied))] / np.exp(y).sum())
    c10_examples(ds, jax.tree.map(lambda a: a[0], params), tied, V)

    summary = _summary(cfg, share, src_of, losses, search, exact, rates, entropy, length, rows_s, src_entropy,
                       src_len, src_loops, agree_greedy, agree_pure, p_tie)
    summary["equivalence"]["end_to_end_separate_programs"] = end_to_end
    summary["equivalence"]["top1_steps"] = int(steps.sum())
    summary["equivalence"]["top1_steps_with_tied_maximum"] = int(tied_steps.sum())
    summary["equivalence"]["top1_disagree_untied"] = int(np.sum(~agree_greedy & (tied_steps == 0)))
    summary["claims"] = claims(summary, cfg)
    return ds, summary


def c10_examples(ds, p0, tied, V: int, n_ids: int = 6) -> None:
    """C10's figure data: the next-token distributions of greedy, top-1, top-V and pure sampling, on the
    first GRU's first step (its ``n_ids`` most probable ids; an untied maximum) and on the tied logits."""
    def dists(logits, ids):
        soft = lambda y: np.exp(y - y.max()) / np.exp(y - y.max()).sum()  # noqa: E731
        lg = np.asarray(logits, np.float64)
        greedy = np.eye(len(lg))[int(np.argmax(lg))]
        rows = [greedy, soft(np.asarray(dec.process_logits(logits, top_k=1), np.float64)),
                soft(np.asarray(dec.process_logits(logits, top_k=len(lg)), np.float64)), soft(lg)]
        return np.stack(rows)[:, ids]

    logits = lm.lm_logits(p0, lm.lm_state0(p0))
    ids = np.argsort(-np.asarray(logits), kind="stable")[:n_ids]
    ds.add_axis(N.C10_DECODER, np.asarray(N.C10_DECODERS))
    ds.add_axis(N.C10_ID, ids)
    ds.add(N.C10_UNTIED, (N.C10_DECODER, N.C10_ID), dists(logits, ids))
    ds.add_axis(N.C10_TIE_ID, np.arange(len(tied)))
    ds.add(N.C10_TIED, (N.C10_DECODER, N.C10_TIE_ID), dists(jnp.asarray(tied), np.arange(len(tied))))
    del V


def _summary(cfg, share, src_of, losses, search, exact, rates, entropy, length, rows_s, src_entropy, src_len,
             src_loops, agree_greedy, agree_pure, p_tie) -> dict:
    """Per-condition lists of per-model values (the replicates the claims' intervals are computed over)."""
    fl = lambda a: [float(x) for x in np.asarray(a, np.float64).ravel()]  # noqa: E731
    conditions = {f"noise {s:g}": share == s for s in cfg.noise_shares}
    widths = list(cfg.beam_widths)
    per_family = {}
    for fam, cond in [("gru", conditions), ("source", {"true source": np.ones(cfg.n_sources, bool)})]:
        out = {}
        for cname, m in cond.items():
            e = exact[fam]
            entry = {"exact_valid": fl(e["valid"][m]), "exact_length": fl(e["length"][m]),
                     "exact_complete": fl(e["complete"][m]), "exact_nodes": fl(e["nodes"][m]),
                     "sample_length": fl(src_len[src_of[m]] if fam == "gru" else src_len)}
            r = search[fam]
            for a, alpha in enumerate(cfg.length_penalties):
                for ri, rule in enumerate(RULES):
                    entry[f"alpha={alpha:g}/{rule}"] = {
                        str(k): {"valid": fl(r["valid"][a, ri, j][m]), "length": fl(r["length"][a, ri, j][m]),
                                 "finished": fl(r["finished"][a, ri, j][m]),
                                 "distinct": fl(r["distinct"][a, ri, j][m]),
                                 **({"search_error": fl(r["search_error"][ri, j][m]), "gap": fl(r["gap"][ri, j][m])}
                                    if a == 0 else {})}
                        for j, k in enumerate(widths)}
            out[cname] = entry
        per_family[fam] = out
    sampling = {}
    for cname, m in conditions.items():
        sampling[cname] = {
            f"{f}={v:g}": {**{name: fl(rates[name][i][m]) for name in N.SAMPLE_RATES},
                           "entropy_nats": fl(entropy[i][m]), "mean_length": fl(length[i][m].mean(-1))}
            for i, (f, v) in enumerate(rows_s)}
    return {
        "conditions": list(conditions),
        "search": per_family,
        "sampling": sampling,
        "source_reference": {"entropy_nats": fl(src_entropy), "mean_length": fl(src_len), "loop_rate": fl(src_loops)},
        "training": {cname: {"final_nll": fl(losses[m, -1])} for cname, m in conditions.items()},
        "equivalence": {"top1_equals_greedy": int(agree_greedy.sum()), "topV_equals_pure": int(agree_pure.sum()),
                        "sequences": int(agree_greedy.size), "tie_probability_top1_is_greedy": p_tie},
    }


def compute(config) -> tuple:
    """The runner's entry: (Dataset, summary with claims) for a validated config."""
    return study(config, key=jax.random.key(config.seed))
