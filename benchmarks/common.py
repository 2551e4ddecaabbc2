"""Shared helpers of the benchmarks (speed is measured here, never in a timed test).

Timings come after one warm-up run that compiles, with every output fetched to the host (so
asynchronous dispatch cannot hide work): ``best_time`` (best of a few runs) and ``interleaved``
(every method once per round, min / median / max over rounds). ``count_compilations`` counts what
JAX compiles while a command runs in a fresh process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


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


def interleaved(methods: dict, rounds: int) -> tuple[dict, dict, dict, dict]:
    """Time every method once per round, methods interleaved, after one first call each (compilation).

    Returns (outputs of the first calls, first-call seconds, wall seconds per round, CPU seconds per
    round). Interleaving makes load on a shared machine hit every method alike, so per-round ratios
    are steadier than ratios of separately taken minima.
    """
    outputs, first = {}, {}
    for name, fn in methods.items():
        t0 = time.perf_counter()
        outputs[name] = fn()
        first[name] = time.perf_counter() - t0
    wall = {name: [] for name in methods}
    cpu = {name: [] for name in methods}
    for _ in range(rounds):
        for name, fn in methods.items():
            t0, c0 = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - t0)
            cpu[name].append(time.process_time() - c0)
    return outputs, first, wall, cpu


def spread(values) -> dict:
    """min / median / max of a list of numbers."""
    a = np.asarray(values, np.float64)
    return {"min": float(a.min()), "median": float(np.median(a)), "max": float(a.max())}


def machine_load() -> dict:
    """The 1-minute load average and the core count (load above the core count: the machine is shared)."""
    return {"loadavg_1min": os.getloadavg()[0], "cpu_count": os.cpu_count()}


def count_compilations(module: str, argv: list[str], *, timeout: float = 1800, env: dict | None = None) -> dict:
    """Run ``python -m module *argv`` in a fresh process and count what JAX compiled there.

    A new process starts with empty in-memory caches, and gets an empty persistent compilation
    cache (``JAXRNN_CACHE_DIR``), so the counts and seconds are those of a cold run. See
    ``benchmarks.compiles`` for what is counted.
    """
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ if env is None else env)
        env["JAXRNN_CACHE_DIR"] = os.path.join(tmp, "xla-cache")
        root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        t0 = time.perf_counter()
        proc = subprocess.run([sys.executable, "-m", "benchmarks.compiles", module, *argv], capture_output=True,
                              text=True, timeout=timeout, env=env, cwd=tmp)
        wall = time.perf_counter() - t0
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith(COMPILES_TAG)]
    if proc.returncode != 0 or not lines:
        return {"error": f"exit {proc.returncode}: {proc.stderr.strip()[-500:]}", "wall_s": round(wall, 2)}
    out = json.loads(lines[-1][len(COMPILES_TAG):])
    out["wall_s"] = round(wall, 2)
    return out


COMPILES_TAG = "JAXRNN-COMPILES "
