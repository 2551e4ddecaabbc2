"""Shared timing helper of the benchmarks (speed is measured here, never in a timed test).

Each timing is the best of ``repeats`` runs after one warm-up run that compiles,
with every output fetched to the host (so asynchronous dispatch cannot hide work).
"""

from __future__ import annotations

import time


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
