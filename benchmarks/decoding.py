"""Decoding throughput: greedy, beam search (k = 1, 4, 16, 64, both beam rules), samplers, and exact search
by branch and bound against exhaustive enumeration."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from benchmarks.common import best_time
from jaxrnn.core.sweep import stack_trees


def exact_search(vocab: int = 5, max_len: int = 8, n_models: int = 4, repeats: int = 3, *, key) -> dict:
    """Branch and bound vs enumeration of all sum_n vocab^n sequences (vocab tokens + EOS), on the suite's
    GRU language models (EOS logit biased down by 4, so the search has work to do) and on windowed random
    sources (lengths 4..max_len-1, the mode a long sequence): time per model, prefixes expanded, agreement."""
    from jaxrnn.models import decoding as dec
    from jaxrnn.models import lm
    from jaxrnn.models import sources as S

    k_gru, k_src = jax.random.split(key)
    grus = []
    for k in jax.random.split(k_gru, n_models):
        p = lm.init_lm(k, vocab, 16, 8)
        grus.append(p._replace(out=3.0 * p.out, out_b=p.out_b.at[vocab].set(-4.0)))
    srcs = [S.windowed(b, min(4, max_len - 2), max_len - 1)
            for b in S.random_sources(k_src, n_models, 3, vocab, eos=0.3)]
    families = {"gru": (lm.lm_logits, lm.lm_transition, grus, [lm.lm_state0(p) for p in grus]),
                "windowed_source": (S.source_logits, S.source_transition, srcs, [S.source_state0()] * n_models)}
    n_seq = sum(vocab ** n for n in range(max_len))
    out = {"vocab_with_eos": vocab + 1, "max_len": max_len, "models": n_models, "sequences_enumerated": n_seq}
    for name, (lf, tf, params, states) in families.items():
        enum_t, bb_t, nodes, agree = [], [], [], True
        for p, s0 in zip(params, states):
            _, best = best_time(lambda: dec.exact_best_sequence(lf, tf, p, s0, max_len=max_len, eos_id=vocab,  # noqa
                                                                vocab=vocab + 1), repeats)
            enum_t.append(best)
            _, best = best_time(lambda: jax.block_until_ready(dec.exact_search(lf, tf, p, s0, max_len=max_len,  # noqa
                                                                               eos_id=vocab)), repeats)
            bb_t.append(best)
            ex = dec.exact_best_sequence(lf, tf, p, s0, max_len=max_len, eos_id=vocab, vocab=vocab + 1)
            bb = dec.exact_search(lf, tf, p, s0, max_len=max_len, eos_id=vocab)
            nodes.append(int(bb.nodes))
            agree &= bool(bb.complete) and bool(np.isclose(float(bb.score), ex[2], rtol=1e-5, atol=1e-6))
        out[name] = {"enumeration_s_per_model": float(np.median(enum_t)),
                     "branch_and_bound_s_per_model": float(np.median(bb_t)),
                     "speedup": float(np.median(enum_t) / np.median(bb_t)), "nodes_expanded": nodes, "all_agree": agree}
    return out


def decoding(batch: int = 256, max_len: int = 32, vocab: int = 5, enum_len: int = 8, repeats: int = 3,
             widths=(1, 4, 16, 64), *, key) -> dict:
    """Decoded tokens per second (a batch of `batch` sources, max_len steps), beam search per width and rule,
    the number of sampler compilations over several option values, exact search vs enumeration."""
    from jaxrnn.models import decoding as dec
    from jaxrnn.models import sources as S

    srcs = [S.random_source(k, 4, vocab) for k in jax.random.split(key, batch)]
    batch_src = stack_trees(srcs)
    s0 = jnp.zeros(batch, jnp.int32)
    keys = jax.random.split(key, batch)
    L, T = S.source_logits, S.source_transition
    out = {"batch": batch, "max_len": max_len, "vocab_with_eos": vocab + 1, "tokens_per_s": {}}
    greedy = jax.jit(jax.vmap(lambda s, z: dec.greedy(L, T, s, z, max_len=max_len, eos_id=vocab)))
    first, best = best_time(lambda: jax.block_until_ready(greedy(batch_src, s0)), repeats)
    out["tokens_per_s"]["greedy"] = batch * max_len / best

    # one jitted function each, built once: the rule and the sampler options are traced, the beam width
    # (a buffer shape) is static, so the loops below compile once per width and once for every option set
    def beams_of(srcs_, starts, rule_top_k, *, num_beams):
        return jax.vmap(lambda s, z: dec.beam_search_with(L, T, s, z, vocab, 0.0, rule_top_k, num_beams=num_beams,
                                                          max_len=max_len))(srcs_, starts)

    def samples_of(keys_, srcs_, starts, opts):
        return jax.vmap(lambda k, s, z: dec.sample_with(k, L, T, s, z, opts, max_len=max_len, eos_id=vocab))(
            keys_, srcs_, starts)

    beams, samples = jax.jit(beams_of, static_argnames=("num_beams",)), jax.jit(samples_of)
    for rule in dec.BEAM_RULES:
        flag = jnp.bool_(rule == "top_k")
        for k in widths:
            first, best = best_time(lambda: jax.block_until_ready(beams(batch_src, s0, flag, num_beams=k)),  # noqa: B023
                                    repeats)
            out["tokens_per_s"][f"beam_k{k}_{rule}"] = batch * max_len / best
    for opts in (dict(top_p=0.9), dict(top_k=2), dict(temperature=0.7, min_p=0.1), dict(top_p=0.5, top_k=3)):
        o = dec.sampler_options(vocab + 1, **opts)
        first, best = best_time(lambda: jax.block_until_ready(samples(keys, batch_src, s0, o)), repeats)  # noqa: B023
        out["tokens_per_s"]["sample_" + "_".join(f"{k}{v:g}" for k, v in opts.items())] = batch * max_len / best
    out["compilations"] = {"beam_search_for_2_rules_x_widths": beams._cache_size(), "widths": len(widths),
                           "sampler_for_4_option_sets": samples._cache_size()}
    before = dec._sample._cache_size()
    for p in (0.3, 0.6, 0.9):
        jax.block_until_ready(dec.sample(keys[0], L, T, srcs[0], S.source_state0(), max_len=max_len, eos_id=vocab,
                                         top_p=p))
    out["sampler_compilations_for_3_top_p_values"] = dec._sample._cache_size() - before  # traced options: 1
    n_seq = sum(vocab ** n for n in range(enum_len))
    first, best = best_time(lambda: dec.enumerate_sequences(L, T, srcs[0], S.source_state0(), max_len=enum_len,
                                                            eos_id=vocab, vocab=vocab + 1), repeats)
    out["exact_enumeration"] = {"sequences": n_seq, "max_len": enum_len, "sequences_per_s": n_seq / best}
    out["exact_search"] = exact_search(vocab=vocab, max_len=enum_len, repeats=repeats, key=key)
    return out
