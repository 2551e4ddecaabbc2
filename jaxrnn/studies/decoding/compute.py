"""The decoding study (Problem 3, claims C9-C11) on random sources with exact probabilities.

Models: each true source itself; a "leaky" model of it that spreads a little mass over every token
(``sources.smoothed``: exact like the source, and able to produce nonsense); and a GRU language
model trained on it with teacher forcing (``lm``). Search is always judged against exhaustive
enumeration of the model being decoded; samples are always judged under the true source.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import numpy as np

from jaxrnn.models import decoding as dec
from jaxrnn.models import lm
from jaxrnn.models import sources as src_lib
from jaxrnn.io.results import Dataset
from jaxrnn.core.sweep import stack_trees
from jaxrnn.studies.decoding.claims import claims

LOGITS, STEP = src_lib.source_logits, src_lib.source_transition


def make_sources(cfg, key) -> list[src_lib.Source]:
    return [src_lib.random_source(k, cfg.n_states, cfg.vocab, forbidden=cfg.forbidden, eos=cfg.eos)
            for k in jax.random.split(key, cfg.n_sources)]



class Model(NamedTuple):
    """A family of models to decode: one parameter set per source, its start state, the two functions."""

    name: str
    logits_fn: object
    transition_fn: object
    params: list
    state0: list


def source_models(sources) -> Model:
    return Model("source", LOGITS, STEP, list(sources), [src_lib.source_state0()] * len(sources))


def gru_models(cfg, sources, key) -> tuple[Model, np.ndarray]:
    """One GRU language model per source, trained with teacher forcing on fresh samples of it."""
    rows = lm.schedule_rows([("constant", 1.0, 0.0, 0.0)], 1, sources=sources)
    rows["seed"] = np.asarray(jax.random.randint(key, (len(sources),), 0, 2 ** 30), np.int32)
    out = lm.train_many(rows, vocab=cfg.vocab, n=cfg.gru_hidden, steps=cfg.gru_steps, batch=cfg.gru_batch,
                        max_len=cfg.sample_len, lr=cfg.gru_lr)
    params = [jax.tree.map(lambda a: a[i], out.params) for i in range(len(sources))]
    return Model("gru", lm.lm_logits, lm.lm_transition, params, [lm.lm_state0(p) for p in params]), \
        np.asarray(out.loss)


def search_study(cfg, model: Model) -> tuple[dict, dict]:
    """C9: beam search vs exact search, for every beam width, without and with a length penalty."""
    ids = cfg.vocab + 1
    n = len(model.params)
    batch = stack_trees(model.params)
    state0 = stack_trees(model.state0)
    exact, viterbi_agree = {}, 0
    for alpha in cfg.length_penalties:
        rows = [dec.exact_best_sequence(model.logits_fn, model.transition_fn, p, s0, max_len=cfg.max_len,
                                        eos_id=cfg.vocab, vocab=ids, length_penalty=alpha)
                for p, s0 in zip(model.params, model.state0)]
        exact[alpha] = {"score": np.asarray([r[2] for r in rows]), "raw": np.asarray([r[3] for r in rows]),
                        "length": np.asarray([r[1] for r in rows])}
        if alpha == 0 and model.name == "source":
            for src, r in zip(model.params, rows):
                v_tokens, v_logp = src_lib.viterbi_best_sequence(src, cfg.max_len)
                viterbi_agree += bool(np.isclose(v_logp, r[3], rtol=1e-5, atol=1e-5))
    widths = np.asarray(cfg.beam_widths)
    err = np.zeros((len(cfg.length_penalties), len(widths), n), bool)
    gap = np.zeros(err.shape)
    length = np.zeros(err.shape)
    unfinished = np.zeros(err.shape, bool)
    for a, alpha in enumerate(cfg.length_penalties):
        for j, k in enumerate(widths):
            run = jax.vmap(lambda p, s0: dec.beam_search(model.logits_fn, model.transition_fn, p, s0,
                                                         num_beams=int(k), max_len=cfg.max_len, eos_id=cfg.vocab,
                                                         length_penalty=alpha))
            beams = run(batch, state0)
            best = np.asarray(beams.score[:, 0], np.float64)
            ex = exact[alpha]["score"]
            unfinished[a, j] = ~np.isfinite(best)
            # search error: the beam's best is worse than the exact best (beyond float32 rounding)
            err[a, j] = best < ex - 1e-5 * (1 + np.abs(ex))
            gap[a, j] = np.where(np.isfinite(best), ex - best, np.inf)
            length[a, j] = np.where(np.isfinite(best), np.asarray(beams.length[:, 0]), np.nan)
    arrays = {"search_error": err, "score_gap": gap, "best_length": length, "unfinished": unfinished,
              "exact_length": np.stack([exact[a]["length"] for a in cfg.length_penalties])}
    rep = {
        "enumerated_per_model": sum(cfg.vocab ** m for m in range(cfg.max_len)),
        "search_error_rate": {f"alpha={a:g}": {int(k): float(err[i, j].mean()) for j, k in enumerate(widths)}
                              for i, a in enumerate(cfg.length_penalties)},
        "mean_best_length": {f"alpha={a:g}": {int(k): float(np.nanmean(length[i, j])) for j, k in enumerate(widths)}
                             for i, a in enumerate(cfg.length_penalties)},
        "no_finished_hypothesis_rate": {f"alpha={a:g}": {int(k): float(unfinished[i, j].mean())
                                                         for j, k in enumerate(widths)}
                                        for i, a in enumerate(cfg.length_penalties)},
        "mean_exact_length": {f"alpha={a:g}": float(exact[a]["length"].mean()) for a in cfg.length_penalties},
    }
    if model.name == "source":
        rep["viterbi_agrees_with_enumeration"] = f"{viterbi_agree}/{n}"
    return arrays, rep


def _samples(keys, source, max_len, eos_id, model: Model | None = None, index: int = 0, **opts):
    """Samples (vmapped over keys) from ``source`` itself, or from ``model``'s index-th member."""
    if model is None:
        fns, params, s0 = (LOGITS, STEP), source, src_lib.source_state0()
    else:
        fns, params, s0 = (model.logits_fn, model.transition_fn), model.params[index], model.state0[index]
    return jax.vmap(lambda k: dec.sample(k, *fns, params, s0, max_len=max_len, eos_id=eos_id, **opts))(keys)


def equivalence_study(cfg, sources, key) -> dict:
    """C10: top-k with k = 1 is greedy token for token; k = V (all ids) is pure sampling, same key."""
    ids = cfg.vocab + 1
    keys = jax.random.split(key, cfg.n_samples)
    same_greedy = same_pure = total = 0
    for s in sources:
        g = dec.greedy(LOGITS, STEP, s, src_lib.source_state0(), max_len=cfg.sample_len, eos_id=cfg.vocab)
        k1 = _samples(keys, s, cfg.sample_len, cfg.vocab, top_k=1)
        same_greedy += int(np.all(np.asarray(k1.tokens) == np.asarray(g.tokens)[None], axis=1).sum())
        kv = _samples(keys, s, cfg.sample_len, cfg.vocab, top_k=ids)
        pure = _samples(keys, s, cfg.sample_len, cfg.vocab)
        same_pure += int(np.all(np.asarray(kv.tokens) == np.asarray(pure.tokens), axis=1).sum())
        total += cfg.n_samples
    return {"top1_equals_greedy": same_greedy / total, "topV_equals_pure_sampling": same_pure / total,
            "sequences": total}


def sample_metrics(tokens, length, finished, true_logp) -> dict:
    """Quality under the true source and diversity of one batch of samples (host side).

    nonsense: finished sequences impossible under the true source; distinct-2: unique bigrams /
    all bigrams (EOS included); entropy: of the empirical distribution over whole sequences.
    """
    tokens, length = np.asarray(tokens), np.asarray(length)
    finished, true_logp = np.asarray(finished), np.asarray(true_logp, np.float64)
    possible = np.isfinite(true_logp) & finished
    _, counts = np.unique(tokens, axis=0, return_counts=True)
    freq = counts / counts.sum()
    bigrams = [(int(a), int(b)) for t, n in zip(tokens, length) for a, b in zip(t[:n - 1], t[1:n])]
    return {
        "nonsense_rate": float((finished & ~np.isfinite(true_logp)).mean()),
        "unfinished_rate": float((~finished).mean()),
        "mean_true_logp_possible": float(true_logp[possible].mean()) if possible.any() else float("nan"),
        "fraction_unique": float(len(counts) / len(tokens)),
        "distinct_2": float(len(set(bigrams)) / max(len(bigrams), 1)),
        "entropy_nats": float(-(freq * np.log(freq)).sum()),
    }


def _mean_finite(values) -> float:
    """Mean over sources that have the metric (a source with no possible sample has no mean log p)."""
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def tradeoff_study(cfg, sources, model: Model, key) -> tuple[dict, dict]:
    """C11: nonsense vs diversity for top-k, top-p and temperature, sampling from ``model``
    (one member per source), judged under the true sources."""
    ids = cfg.vocab + 1
    families = {"top_k": [dict(top_k=k) for k in range(1, ids + 1)],
                "top_p": [dict(top_p=p) for p in cfg.top_ps],
                "temperature": [dict(temperature=t) for t in cfg.temperatures]}
    true_logp = jax.jit(jax.vmap(src_lib.sequence_log_prob, in_axes=(None, 0, 0)))
    out = {}
    for fam, settings in families.items():
        rows = []
        for opts in settings:
            per_source = []
            for i, s in enumerate(sources[:len(model.params)]):
                keys = jax.random.split(jax.random.fold_in(key, i), cfg.n_samples)
                d = _samples(keys, s, cfg.sample_len, cfg.vocab, model=model, index=i, **opts)
                per_source.append(sample_metrics(d.tokens, d.length, d.finished, true_logp(s, d.tokens, d.length)))
            rows.append({m: _mean_finite([p[m] for p in per_source]) for m in per_source[0]})
        out[fam] = {"settings": [list(o.values())[0] for o in settings], "metrics": rows}
    arrays = {(fam, m): np.asarray([r[m] for r in out[fam]["metrics"]]) for fam in out
              for m in out[fam]["metrics"][0]}
    return arrays, out


def study(cfg, *, key):
    k_src, k_eq, k_trade, k_gru = jax.random.split(key, 4)
    sources = make_sources(cfg, k_src)
    leaky = Model("leaky", LOGITS, STEP, [src_lib.smoothed(s, cfg.leak) for s in sources],
                  [src_lib.source_state0()] * len(sources))
    gru, gru_loss = gru_models(cfg, sources[:cfg.gru_sources], k_gru)
    ds = Dataset()
    ds.add_axis("model", np.asarray(["source", "gru"]))
    ds.add_axis("alpha", np.asarray(cfg.length_penalties))
    ds.add_axis("beam_width", np.asarray(cfg.beam_widths))
    ds.add_axis("source", np.arange(cfg.n_sources))
    ds.add_axis("gru_source", np.arange(cfg.gru_sources))
    search = {}
    for model, axis in ((source_models(sources), "source"), (gru, "gru_source")):
        arrays, search[model.name] = search_study(cfg, model)
        for name in ("search_error", "score_gap", "best_length", "unfinished"):
            ds.add(f"{model.name}__{name}", ("alpha", "beam_width", axis), arrays[name])
        ds.add(f"{model.name}__exact_length", ("alpha", axis), arrays["exact_length"])
    ds.add_axis("gru_log_step", np.arange(gru_loss.shape[1]) * 10)
    ds.add("gru_train_loss", ("gru_source", "gru_log_step"), gru_loss)
    eq = equivalence_study(cfg, sources, k_eq)
    ds.add_axis("top_k", np.arange(1, cfg.vocab + 2))
    ds.add_axis("top_p", np.asarray(cfg.top_ps))
    ds.add_axis("temperature", np.asarray(cfg.temperatures))
    trade = {}
    for model in (leaky, gru):
        arrays, trade[model.name] = tradeoff_study(cfg, sources, model, k_trade)
        for (fam, metric), values in arrays.items():
            ds.add(f"{model.name}__{fam}__{metric}", (fam,), values)
    # typical length of sequences drawn from the sources themselves (what "generic/short" compares to)
    lengths = []
    for i, s in enumerate(sources):
        d = _samples(jax.random.split(jax.random.fold_in(k_trade, 10_000 + i), cfg.n_samples), s, cfg.sample_len,
                     cfg.vocab)
        lengths.append(float(np.asarray(d.length)[np.asarray(d.finished)].mean()))
    summary = {"search": search, "equivalence": eq, "tradeoff": trade,
               "gru_final_train_nll": float(gru_loss[:, -1].mean()),
               "mean_sample_length_from_source": float(np.mean(lengths))}
    summary["claims"] = claims(summary, cfg)
    return ds, summary


def compute(config) -> tuple:
    """The runner's entry: (Dataset, summary with claims[, extra arrays]) for a validated config."""
    return study(config, key=jax.random.key(config.seed))
