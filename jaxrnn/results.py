"""Saving an experiment: ``config.json``, ``data.npz``, ``summary.json`` and figures, atomically.

Layout of ``results/<experiment>/``:

- ``config.json``: the resolved config, jax/jaxlib/optax versions, device, git commit, wall time;
- ``data.npz``: every axis (``axis:<name>``) and every array with its axis names
  (``dims:<array>``), so any plotted point can be recomputed from the file alone;
- ``summary.json``: headline numbers and the claims the experiment settles;
- ``*.png``: figures made from ``data.npz`` only.

Everything is written into a staging folder beside the target and swapped in
with renames at the end: an interrupted run leaves the earlier results intact.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import math
import os
import platform
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import jax
import numpy as np


@dataclasses.dataclass
class Dataset:
    """Named axes and arrays whose dims name those axes (xarray-like, numpy only)."""

    axes: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    arrays: dict[str, tuple[tuple[str, ...], np.ndarray]] = dataclasses.field(default_factory=dict)

    def add_axis(self, name: str, values) -> None:
        self.axes[name] = np.asarray(values)

    def add(self, name: str, dims: tuple[str, ...], values) -> None:
        values = np.asarray(values)
        shape = tuple(len(self.axes[d]) for d in dims)
        if values.shape != shape:
            raise ValueError(f"array {name!r}: shape {values.shape} does not match dims {dims} {shape}")
        self.arrays[name] = (tuple(dims), values)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.axes[name] if name in self.axes else self.arrays[name][1]

    def dims(self, name: str) -> tuple[str, ...]:
        return self.arrays[name][0]

    def save(self, path: Path) -> None:
        flat = {f"axis:{k}": v for k, v in self.axes.items()}
        for k, (dims, v) in self.arrays.items():
            flat[k] = v
            flat[f"dims:{k}"] = np.asarray(dims, dtype=str)
        with open(path, "wb") as f:
            np.savez_compressed(f, **flat)

    @classmethod
    def load(cls, path: Path) -> "Dataset":
        ds = cls()
        with np.load(path) as z:
            for key in z.files:
                if key.startswith("axis:"):
                    ds.axes[key[5:]] = z[key]
            for key in z.files:
                if ":" not in key:
                    ds.arrays[key] = (tuple(str(d) for d in z[f"dims:{key}"]), z[key])
        return ds


def _git_commit() -> str:
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True,
                                check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "jaxrnn", "experiments"], cwd=root,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+dirty" if dirty else "")


def environment() -> dict:
    """Versions, device and commit: what a reader needs to reproduce a number."""
    import jaxlib
    import optax

    dev = jax.devices()[0]
    return {
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "optax": optax.__version__,
        "numpy": np.__version__,
        "python": platform.python_version(),
        "platform": dev.platform,
        "device_kind": dev.device_kind,
        "device_count": jax.device_count(),
        "git_commit": _git_commit(),
    }


def _jsonable(x):
    if dataclasses.is_dataclass(x):
        return _jsonable(dataclasses.asdict(x))
    if isinstance(x, dict):
        return {str(k): _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, (np.generic, np.ndarray)):
        return _jsonable(x.tolist())
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)  # JSON has no inf/nan: keep them visible as strings
    return x


def write_json(path: Path, obj) -> None:
    """Write JSON atomically (temp file in the same folder, then rename)."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.fchmod(fd, 0o644)
    with os.fdopen(fd, "w") as f:
        json.dump(_jsonable(obj), f, indent=2, allow_nan=False)
        f.write("\n")
    os.replace(tmp, path)


@contextlib.contextmanager
def staged(outdir: Path):
    """Yield a fresh staging folder; on success it replaces ``outdir``, on error it is removed."""
    outdir = Path(outdir)
    outdir.parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(dir=outdir.parent, prefix=f".staging-{outdir.name}-"))
    os.chmod(stage, 0o755)
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    old = None
    if outdir.exists():
        old = outdir.with_name(f".old-{outdir.name}-{os.getpid()}")
        os.replace(outdir, old)
    os.replace(stage, outdir)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def save(outdir: Path, *, name: str, config, data: Dataset, summary: dict, figures, started: float,
         arrays: dict | None = None) -> dict:
    """Write one experiment's results atomically; return the summary as saved (with its figure names).

    ``figures(stage_dir) -> [png names]`` draws from the staged data.npz and summary.json only. The wall
    time runs from ``started`` (a ``time.time()``) to the end of the figures.
    """
    with staged(outdir) as stage:
        data.save(stage / "data.npz")
        for file_name, content in (arrays or {}).items():  # extra outputs, e.g. trained parameters
            with open(stage / file_name, "wb") as f:
                np.savez_compressed(f, **content)
        write_json(stage / "summary.json", summary)  # figures may read it too
        summary = dict(summary, figures=list(figures(stage)))
        finished = time.time()
        write_json(stage / "summary.json", summary)
        write_json(stage / "config.json", {
            "experiment": name,
            "config": config,
            "environment": environment(),
            "started_at": datetime.datetime.fromtimestamp(started, datetime.timezone.utc).isoformat(),
            "wall_time_s": round(finished - started, 3),
        })
    return summary


def run_study(name: str, config, outdir: Path, study, figures, **study_kwargs) -> dict:
    """Validate, run ``study(config, **study_kwargs) -> (Dataset, summary[, {file: arrays}])``, save atomically."""
    config.validate()
    started = time.time()
    out = study(config, **study_kwargs)
    data, summary, arrays = out if len(out) == 3 else (*out, None)
    return save(outdir, name=name, config=config, data=data, summary=summary, figures=figures, started=started,
                arrays=arrays)
