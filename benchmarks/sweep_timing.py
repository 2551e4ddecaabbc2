"""The whole `make sweep` timed twice in fresh processes: cold (empty compilation cache) and warm.

Both runs write into a temporary folder, never into ``results/``; each gets the same new persistent
compilation cache (``JAXRNN_CACHE_DIR``), empty for the first run and filled by it for the second.
A fresh process also starts with empty in-memory caches, so "warm" measures what the persistent
cache saves, which is what a user re-running the sweep sees.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import machine_load

ROOT = Path(__file__).resolve().parent.parent


def recorded_wall_times(results_dir: Path) -> dict:
    """{experiment: {"wall_time_s", "device"}} as each ``<results_dir>/<experiment>/config.json`` records them."""
    rows = {}
    for cfg in sorted(Path(results_dir).glob("*/config.json")):
        meta = json.loads(cfg.read_text())
        rows[meta["experiment"]] = {"wall_time_s": meta["wall_time_s"], "device": meta["environment"]["device_kind"]}
    return rows


def _one_sweep(results: Path, env: dict, quick: bool, only: str | None, timeout: float) -> dict:
    argv = [sys.executable, "-m", "experiments.sweep", "--results", str(results)]
    argv += (["--quick"] if quick else []) + (["--only", only] if only else [])
    load = machine_load()
    t0 = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT)
    wall = time.perf_counter() - t0
    out = {"wall_s": round(wall, 2), "exit_code": proc.returncode, "load_before": load}
    if proc.returncode != 0:
        out["error"] = proc.stderr.strip()[-500:]
    out["experiments"] = {name: round(row["wall_time_s"], 2) for name, row in recorded_wall_times(results).items()}
    return out


def sweep_wall_times(*, quick: bool = False, only: str | None = None, budget_s: float = 600.0,
                     timeout: float = 3600.0) -> dict:
    """Cold then warm wall time of ``python -m experiments.sweep`` (whole process and per experiment).

    Returns {"cold": run, "warm": run, "budget_s", "within_budget", "config"} where a run holds the
    process wall time, each experiment's recorded wall time, the exit code and the load before it.
    """
    with tempfile.TemporaryDirectory(prefix="jaxrnn-sweep-timing-") as tmp:
        env = dict(os.environ, JAXRNN_CACHE_DIR=os.path.join(tmp, "xla-cache"))
        env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
        runs = {label: _one_sweep(Path(tmp) / f"results-{label}", env, quick, only, timeout)
                for label in ("cold", "warm")}
    ok = all(r["exit_code"] == 0 for r in runs.values())
    return {**runs, "config": "quick" if quick else "default", "only": only, "budget_s": budget_s,
            "within_budget": ok and max(r["wall_s"] for r in runs.values()) <= budget_s}
