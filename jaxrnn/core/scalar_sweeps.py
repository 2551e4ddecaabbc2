"""Grid helpers shared by the scalar-RNN sweeps (gradient decay, skip connections).

A *row* is one configuration of scalars (``{"w", "u", "b", "h0", "input"}`` and friends);
``input`` picks one of K time-major input sequences ``xs`` (T, K) built by ``xs_table``.
"""

from __future__ import annotations

import jax
import numpy as np


def xs_table(kind_names: tuple[str, ...], t_max: int, *, key, dtype) -> np.ndarray:
    """Input sequences, time-major (t_max, K): ``noise`` = x_t ~ N(0, 1) from ``key``, ``zero`` = x_t = 0."""
    table = []
    for name in kind_names:
        if name == "noise":
            table.append(np.asarray(jax.random.normal(key, (t_max,))))  # float32 draws: same xs in f32 and f64 runs
        elif name == "zero":
            table.append(np.zeros(t_max))
        else:
            raise ValueError(f"unknown input kind {name!r}")
    return np.stack(table, axis=1).astype(dtype)


LN10 = float(np.log(10.0))


def check_lengths(t_max: int, n: int) -> np.ndarray:
    """min(n, t_max) distinct, roughly log-spaced lengths in 1..t_max, always including 1 and t_max."""
    n = min(n, t_max)
    m = n
    while len(u := np.unique(np.round(np.geomspace(1, t_max, m)).astype(int))) < n:
        m += 1  # rounding merges short lengths: ask for more points until n distinct ones exist
    return u[np.round(np.linspace(0, len(u) - 1, n)).astype(int)]


def plot_lengths(t_max: int) -> np.ndarray:
    """The T columns stored for heatmaps: 1..100, then every 5th up to t_max (always included)."""
    return np.unique(np.concatenate([np.arange(1, min(t_max, 100) + 1), np.arange(100, t_max + 1, 5), [t_max]]))


def grid_rows(g: dict, dtype, **fixed) -> dict:
    """Rows of a grid with the float fields in ``dtype`` and ``input`` as int32."""
    n = len(next(iter(g.values())))
    rows = {k: np.full(n, v) for k, v in fixed.items()}
    rows.update(g)
    return {k: (np.asarray(v, np.int32) if k == "input" else np.asarray(v, dtype)) for k, v in rows.items()}
