"""Saving an experiment: ``config.json``, ``data.npz``, ``summary.json`` and figures, atomically.

Layout of ``results/<experiment>/``:

- ``config.json``: the resolved config, jax/jaxlib/optax versions, device, git commit, wall time;
- ``data.npz``: every axis (``axis:<name>``) and every array with its axis names
  (``dims:<array>``), so any plotted point can be recomputed from the file alone;
- ``summary.json``: headline numbers and the claims the experiment settles;
- ``*.png``: figures made from ``data.npz`` only.

Everything is written into a staging folder beside the target and published at the end
(see ``publish``): a run killed at any instant leaves the earlier results, or the new ones.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import datetime
import errno
import json
import math
import os
import platform
import re
import secrets
import shutil
import subprocess
import sys
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
    root = Path(__file__).resolve().parents[2]
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
        "process_count": jax.process_count(),
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


# ---------------------------------------------------------------------------
# Folders the suite owns, and publication that a kill at any instant cannot break.
#
# Every folder the suite writes carries MARKER (a small JSON naming the experiment). A run
# writes into a staging folder beside the target and then publishes it:
#   - target absent: one rename (stage -> target);
#   - target present: one atomic exchange of the two folders (Linux renameat2 RENAME_EXCHANGE),
#     then the stage (now holding the old results) is removed. Where the exchange is not
#     supported, two renames (target -> old, stage -> target) and the old one removed.
# ``recover`` runs before every run: a leftover ``old`` whose target is missing (a kill between
# the two renames) is renamed back; every other leftover of a dead process is removed. So the
# published path holds, at every instant or after the next start, complete old or complete new results.
# ---------------------------------------------------------------------------

MARKER = ".jaxrnn"
_LEFTOVER = re.compile(r"^\.jaxrnn-(?P<kind>stage|old)-(?P<target>.+)-(?P<pid>\d+)-(?P<token>[a-z0-9_]+)$")


class OutdirError(ValueError):
    """An output path the suite may not write (one line, naming --outdir)."""


def read_marker(folder: Path) -> dict | None:
    try:
        owner = json.loads((Path(folder) / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) and owner.get("owner") == "jaxrnn" else None


def write_marker(folder: Path, experiment: str | None) -> None:
    write_json(Path(folder) / MARKER, {"owner": "jaxrnn", "experiment": experiment})


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def recover(target: Path) -> None:
    """Repair what a killed run left beside ``target``: restore a moved-away old folder, drop the rest."""
    target = Path(target)
    parent = target.parent
    if not parent.is_dir():
        return
    for entry in sorted(parent.iterdir()):
        m = _LEFTOVER.match(entry.name)
        if not m or m["target"] != target.name or _alive(int(m["pid"])) or read_marker(entry) is None:
            continue
        if m["kind"] == "old" and not target.exists() and not target.is_symlink():
            os.rename(entry, target)  # killed between the two renames: the old results go back
        else:
            shutil.rmtree(entry, ignore_errors=True)


def check_outdir(outdir, experiment: str | None, option: str = "--outdir", *, repair: bool = True) -> Path:
    """The absolute output path, after refusing anything the suite may not write; writes nothing
    except the repair of its own leftovers (``recover``; ``repair=False``: a read-only check, for
    the early check every process of a multi-process run makes before only the writer repairs).

    Refused: an empty path; a path that is a file or a link; an existing folder without the suite's
    marker, or with another experiment's marker; a path below a file; a parent that is not writable.
    """
    text = str(outdir) if outdir is not None else ""
    if not text.strip():
        raise OutdirError(f"{option}: empty path")
    path = Path(os.path.abspath(text))
    if path.is_symlink():
        raise OutdirError(f"{option}: {text} is a symbolic link; give the folder itself")
    if repair:
        recover(path)
    if path.exists():
        if not path.is_dir():
            raise OutdirError(f"{option}: {text} is a file, not a folder")
        owner = read_marker(path)
        if owner is None:
            raise OutdirError(f"{option}: {text} exists and was not written by jaxrnn (no {MARKER} marker); "
                              "choose a new folder")
        if owner.get("experiment") != experiment:
            what = f"the results of {owner.get('experiment')}" if owner.get("experiment") else "a results collection"
            raise OutdirError(f"{option}: {text} holds {what}, not {experiment or 'a results collection'}")
    ancestor = path.parent
    while not ancestor.exists():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutdirError(f"{option}: {ancestor} is a file, so {text} cannot be created")
    if not os.access(ancestor, os.W_OK | os.X_OK):
        raise OutdirError(f"{option}: cannot write in {ancestor}")
    return path


def _make_dirs(folder: Path) -> None:
    """Create ``folder`` and any missing parents, each marked as the suite's (a results collection)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for d in reversed(missing):
        d.mkdir()
        write_marker(d, None)


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (Linux renameat2 RENAME_EXCHANGE); False where unsupported."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def publish(stage: Path, target: Path) -> None:
    """Put the finished ``stage`` folder at ``target`` (see the protocol above)."""
    if not target.exists():
        os.rename(stage, target)
        return
    if _exchange(stage, target):
        shutil.rmtree(stage)  # now holds the old results
        return
    old = target.with_name(stage.name.replace(".jaxrnn-stage-", ".jaxrnn-old-", 1))
    os.rename(target, old)
    os.rename(stage, target)
    shutil.rmtree(old)


@contextlib.contextmanager
def staged(target: Path, experiment: str | None):
    """Yield a fresh staging folder beside ``target``; on success it is published there, on error removed.

    ``target`` must have passed ``check_outdir``: its parent folders are created here.
    """
    target = Path(os.path.abspath(target))
    _make_dirs(target.parent)
    token = secrets.token_hex(4)
    stage = target.parent / f".jaxrnn-stage-{target.name}-{os.getpid()}-{token}"
    stage.mkdir(mode=0o755)
    try:
        write_marker(stage, experiment)
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    publish(stage, target)


def save(target: Path, *, name: str, config, data: Dataset, summary: dict, figures, started: float,
         arrays: dict | None = None) -> dict:
    """Write one experiment's results and publish them atomically; return the summary as saved.

    ``figures(data, summary, folder) -> [png names]`` draws from the saved data and summary only.
    The wall time runs from ``started`` (a ``time.time()``) to the end of the figures.
    """
    with staged(target, name) as stage:
        data.save(stage / "data.npz")
        for file_name, content in (arrays or {}).items():  # extra outputs, e.g. trained parameters
            with open(stage / file_name, "wb") as f:
                np.savez_compressed(f, **content)
        write_json(stage / "summary.json", summary)
        saved = Dataset.load(stage / "data.npz")
        summary = dict(summary, figures=list(figures(saved, json.loads((stage / "summary.json").read_text()), stage)))
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


def make_collection(root: Path) -> None:
    """Create (or keep) ``root`` as a folder of experiments' results, with the suite's marker."""
    root = Path(root)
    if not root.exists():
        _make_dirs(root)
    elif read_marker(root) is None:
        raise OutdirError(f"{root} exists and was not written by jaxrnn")
