"""Benchmarks (speed is measured here, never in a timed test).

Each timing is the best of ``repeats`` runs after one warm-up run that compiles,
with every output fetched to the host (so asynchronous dispatch cannot hide work).
"""

from __future__ import annotations

import time

import jax
import numpy as np

from jaxrnn.decay import ROW_FNS, check_lengths, xs_table
from jaxrnn.sweep import grid, map_configs, stable_partial, stack_trees


def best_time(fn, repeats: int = 3) -> tuple[float, float]:
    """(first call incl. compile, best of ``repeats`` later calls) in seconds."""
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return first, min(times)


def gradient_decay(n_w: int = 256, n_b: int = 256, t_max: int = 512, n_read: int = 16, chunk_size: int = 8192,
                   repeats: int = 9, *, key) -> dict:
    """The gradient-decay sweep vs reverse-mode ``jax.grad`` per length vs the forward simulation alone.

    Grid: n_w x n_b (w, b) configs, sigmoid, h0 = 1/2, x ~ N(0, 1), t_max steps, n_read
    lengths read off (log-spaced). All three use ``map_configs`` with the same chunks. Runs take
    0.02-2 s, so each is the best of ``repeats`` (a shared 2-core machine is noisy at that scale).
    """
    g = grid(w=np.linspace(-12, 12, n_w), b=np.linspace(-6, 6, n_b))
    n = len(g["w"])
    rows = {"w": g["w"].astype(np.float32), "b": g["b"].astype(np.float32), "u": np.ones(n, np.float32),
            "h0": np.full(n, 0.5, np.float32), "input": np.zeros(n, np.int32)}
    xs = xs_table(("noise",), t_max, key=key, dtype=np.float32)
    read = (check_lengths(t_max, n_read) - 1).astype(np.int32)
    runs = {
        "closed_form_log_space": lambda: map_configs(ROW_FNS["log_grad_row"]["sigmoid"], rows, (xs, read),
                                                     chunk_size=chunk_size, progress=False),
        "reverse_mode_per_length": lambda: map_configs(ROW_FNS["reverse_row"]["sigmoid"], rows, (xs, read + 1),
                                                       chunk_size=chunk_size, progress=False),
        "forward_simulation": lambda: map_configs(ROW_FNS["simulate_row"]["sigmoid"], rows, (xs, read),
                                                  chunk_size=chunk_size, progress=False),
    }
    out = {"configs": n, "steps": t_max, "lengths_read": len(read), "chunk_size": chunk_size, "timings": {}}
    for name, fn in runs.items():
        first, best = best_time(fn, repeats)
        out["timings"][name] = {"first_call_s": round(first, 4), "best_s": round(best, 4),
                                "config_steps_per_s": n * t_max / best}
    t = {k: v["best_s"] for k, v in out["timings"].items()}
    out["ratios"] = {
        "sweep_over_forward_simulation": t["closed_form_log_space"] / t["forward_simulation"],
        "reverse_mode_over_sweep": t["reverse_mode_per_length"] / t["closed_form_log_space"],
    }
    out["targets"] = {"sweep_over_forward_simulation_max": 4.0, "reverse_mode_over_sweep_min": 10.0}
    out["targets_met"] = {
        "sweep_over_forward_simulation": out["ratios"]["sweep_over_forward_simulation"] <= 4.0,
        "reverse_mode_over_sweep": out["ratios"]["reverse_mode_over_sweep"] >= 10.0,
    }
    out["device"] = {"platform": jax.devices()[0].platform, "device_kind": jax.devices()[0].device_kind,
                     "device_count": jax.device_count()}
    return out


def jacobian_products(n_hidden: int = 32, n_configs: int = 256, t_max: int = 500, chunk_size: int = 256,
                      repeats: int = 3, *, key) -> dict:
    """The spectral sweep's Jacobian-product pass (QR renormalised), closed-form vs jax.jacfwd step Jacobians."""
    from jaxrnn import jacobians, spectral_study

    xs = np.asarray(jax.random.normal(key, (t_max, 4)), np.float32)
    read = np.arange(4, t_max, 5)
    kinds = spectral_study.KINDS
    rows = {"W": np.stack([spectral_study.recurrent_matrix(i, n_hidden, lam, kinds[i % 2])
                           for i, lam in enumerate(np.geomspace(0.1, 8, n_configs))]),
            "seed": np.arange(n_configs, dtype=np.int32)}
    fn = stable_partial(spectral_study._vector_row, act="tanh")
    first, best = best_time(lambda: map_configs(fn, rows, (xs, read), chunk_size=chunk_size, progress=False,
                                                host_fn=lambda o: jacobians.log_spectral_norm(o[0], o[1])), repeats)
    return {"n_hidden": n_hidden, "configs": n_configs, "steps": t_max, "first_call_s": round(first, 4),
            "best_s": round(best, 4), "config_steps_per_s": n_configs * t_max / best}


def decoding(batch: int = 256, max_len: int = 32, vocab: int = 5, enum_len: int = 8, repeats: int = 3, *,
             key) -> dict:
    """Decoded tokens per second (batch of `batch` sources, max_len steps) and exact-enumeration throughput."""
    from jaxrnn import decoding as dec
    from jaxrnn import sources as S

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


def training_grid(n_models: int = 64, n_hidden: int = 32, batch: int = 32, length: int = 10, steps: int = 100,
                  repeats: int = 2, *, key) -> dict:
    """One vmapped training run of ``n_models`` configs vs the same configs one after another with the
    same jitted program (batch of one config): model-steps per second and their ratio."""
    from jaxrnn import train

    rng = np.random.default_rng(0)
    rows = {"method": rng.integers(0, 3, n_models).astype(np.int32),
            "tau": rng.uniform(0.1, 1.0, n_models).astype(np.float32),
            "lr": np.full(n_models, 3e-3, np.float32), "radius": rng.uniform(0.9, 3.0, n_models).astype(np.float32),
            "seed": np.arange(n_models, dtype=np.int32)}
    kw = dict(task="addition", n=n_hidden, length=length, batch=batch, steps=steps, chunk=steps, log_every=10,
              n_eval=64, eval_key=key, progress=False)
    first_v, vmapped = best_time(lambda: train.train_grid(rows, **kw), repeats)
    one = lambda i: train.train_grid({k: v[i:i + 1] for k, v in rows.items()}, **kw)  # noqa: E731
    one(0)  # compile the batch-of-one program once
    first_s, sequential = best_time(lambda: [one(i) for i in range(n_models)], repeats)
    return {"models": n_models, "n_hidden": n_hidden, "batch": batch, "length": length, "steps": steps,
            "vmapped_s": round(vmapped, 4), "sequential_s": round(sequential, 4),
            "vmapped_model_steps_per_s": n_models * steps / vmapped,
            "sequential_model_steps_per_s": n_models * steps / sequential,
            "throughput_ratio": sequential / vmapped}
