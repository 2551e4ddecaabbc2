"""Speed of the spectral study's QR-renormalised Jacobian products."""

from __future__ import annotations

import jax
import numpy as np

from benchmarks.common import best_time
from jaxrnn.core.sweep import map_configs, stable_partial


def jacobian_products(n_hidden: int = 32, n_configs: int = 256, t_max: int = 500, chunk_size: int = 256,
                      repeats: int = 3, *, key) -> dict:
    """The spectral sweep's Jacobian-product pass (QR renormalised), closed-form vs jax.jacfwd step Jacobians."""
    from jaxrnn.core import jacobians
    import jaxrnn.studies.spectral.compute as spectral_study

    xs = np.asarray(jax.random.normal(key, (t_max, 4)), np.float32)
    read = np.arange(4, t_max, 5)
    kinds = spectral_study.KINDS
    rows = {"W": np.stack([spectral_study.recurrent_matrix(i, n_hidden, lam, kinds[i % 2])
                           for i, lam in enumerate(np.geomspace(0.1, 8, n_configs))]),
            "seed": np.arange(n_configs, dtype=np.int32), "h0_noise": np.zeros((n_configs, n_hidden), np.float32),
            "probe": np.zeros(n_configs, bool)}
    fn = stable_partial(spectral_study._vector_row, act="tanh")
    first, best = best_time(lambda: map_configs(fn, rows, (xs, read), chunk_size=chunk_size, progress=False,
                                                host_fn=lambda o: jacobians.log_spectral_norm(o[0], o[1])), repeats)
    return {"n_hidden": n_hidden, "configs": n_configs, "steps": t_max, "first_call_s": round(first, 4),
            "best_s": round(best, 4), "config_steps_per_s": n_configs * t_max / best}
