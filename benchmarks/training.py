"""Vmapped training of many models against one after another."""

from __future__ import annotations

import numpy as np

from benchmarks.common import best_time



def training_grid(n_models: int = 64, n_hidden: int = 32, batch: int = 32, length: int = 10, steps: int = 100,
                  repeats: int = 2, *, key) -> dict:
    """One vmapped training run of ``n_models`` configs vs the same configs one after another with the
    same jitted program (batch of one config): model-steps per second and their ratio."""
    from jaxrnn.models import train

    rng = np.random.default_rng(0)
    rows = {"method": rng.integers(0, 3, n_models).astype(np.int32),
            "tau": rng.uniform(0.1, 1.0, n_models).astype(np.float32),
            "opt": np.zeros(n_models, np.int32), "lr": np.full(n_models, 3e-3, np.float32),
            "radius": rng.uniform(0.9, 3.0, n_models).astype(np.float32), "seed": np.arange(n_models, dtype=np.int32)}
    kw = dict(task="addition", n=n_hidden, length_min=length, length_max=length, batch=batch, steps=steps, checks=1,
              n_eval=64, eval_key=key)
    first_v, vmapped = best_time(lambda: train.train_grid(rows, chunk_rows=n_models, **kw), repeats)
    one = lambda i: train.train_grid({k: v[i:i + 1] for k, v in rows.items()}, chunk_rows=1, **kw)  # noqa: E731
    one(0)  # compile the batch-of-one program once
    first_s, sequential = best_time(lambda: [one(i) for i in range(n_models)], repeats)
    return {"models": n_models, "n_hidden": n_hidden, "batch": batch, "length": length, "steps": steps,
            "vmapped_s": round(vmapped, 4), "sequential_s": round(sequential, 4),
            "vmapped_model_steps_per_s": n_models * steps / vmapped,
            "sequential_model_steps_per_s": n_models * steps / sequential,
            "throughput_ratio": sequential / vmapped}
