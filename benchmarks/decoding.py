"""Decoding throughput: greedy, beam search, samplers, exact enumeration."""

from __future__ import annotations

import jax

from benchmarks.common import best_time
from jaxrnn.core.sweep import stack_trees


def decoding(batch: int = 256, max_len: int = 32, vocab: int = 5, enum_len: int = 8, repeats: int = 3, *,
             key) -> dict:
    """Decoded tokens per second (batch of `batch` sources, max_len steps) and exact-enumeration throughput."""
    from jaxrnn.models import decoding as dec
    from jaxrnn.models import sources as S

    srcs = [S.random_source(k, 4, vocab) for k in jax.random.split(key, batch)]
    batch_src = stack_trees(srcs)
    s0 = jax.numpy.zeros(batch, jax.numpy.int32)
    keys = jax.random.split(key, batch)
    L, T = S.source_logits, S.source_transition
    runs = {
        "greedy": jax.jit(jax.vmap(lambda s, z: dec.greedy(L, T, s, z, max_len=max_len, eos_id=vocab))),
        "beam_k4": jax.jit(jax.vmap(lambda s, z: dec.beam_search(L, T, s, z, num_beams=4, max_len=max_len,
                                                                 eos_id=vocab))),
        "beam_k16": jax.jit(jax.vmap(lambda s, z: dec.beam_search(L, T, s, z, num_beams=16, max_len=max_len,
                                                                  eos_id=vocab))),
    }
    out = {"batch": batch, "max_len": max_len, "vocab_with_eos": vocab + 1, "tokens_per_s": {}}
    for name, fn in runs.items():
        first, best = best_time(lambda: jax.block_until_ready(fn(batch_src, s0)), repeats)
        out["tokens_per_s"][name] = batch * max_len / best
    top_p = jax.jit(jax.vmap(lambda k, s, z: dec.sample(k, L, T, s, z, max_len=max_len, eos_id=vocab, top_p=0.9)))
    first, best = best_time(lambda: jax.block_until_ready(top_p(keys, batch_src, s0)), repeats)
    out["tokens_per_s"]["top_p_0.9"] = batch * max_len / best
    n_seq = sum(vocab ** n for n in range(enum_len))
    first, best = best_time(lambda: dec.enumerate_sequences(L, T, srcs[0], S.source_state0(), max_len=enum_len,
                                                            eos_id=vocab, vocab=vocab + 1), repeats)
    out["exact_enumeration"] = {"sequences": n_seq, "max_len": enum_len, "sequences_per_s": n_seq / best}
    return out
