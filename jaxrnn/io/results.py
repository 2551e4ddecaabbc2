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
# Folders the suite owns, and publication that cannot delete what the suite did not write.
#
# Every folder the suite writes carries MARKER: a small JSON naming the experiment, a random token
# drawn when the folder was staged, and the list of files the suite wrote there. A run:
#   1. takes an exclusive lock (``fcntl.flock``) on ``.jaxrnn-lock-<name>`` beside the target and holds
#      it to the end: a second run into the same path is refused at once (``lock``);
#   2. repairs what a killed run left beside the target (``recover``: leftovers are recognised by their
#      name alone, since under the lock no other run can be writing them);
#   3. notes what is at the target (absent, or the suite's folder with its token) and refuses to start if
#      that folder holds a file the suite did not write (``foreign_files``);
#   4. writes everything into a staging folder beside the target and publishes it (``publish``) only if
#      the target is still what step 3 saw: absent (atomic rename that never replaces), or the same
#      folder (same token, still no foreign file), swapped in one atomic exchange (Linux renameat2
#      RENAME_EXCHANGE; elsewhere two renames). Otherwise nothing is replaced: the new results are
#      renamed to a visible folder ``<name>.jaxrnn-unpublished-<pid>`` that the refusal names.
# So the published path holds, at every instant or after the next start, complete old or complete new
# results, and a file the suite did not write is never deleted.
# ---------------------------------------------------------------------------

MARKER = ".jaxrnn"
LOCK_PREFIX = ".jaxrnn-lock-"
_LEFTOVER = re.compile(r"^\.jaxrnn-(?P<kind>stage|old)-(?P<target>.+)-(?P<pid>\d+)-(?P<token>[a-z0-9_]+)$")
# files the suite wrote before the marker listed them (results published by earlier versions)
_SUITE_FILE = re.compile(r"^(config\.json|summary\.json|[\w.-]+\.npz|[\w.-]+\.png)$")


class OutdirError(ValueError):
    """An output path the suite may not write (one line, naming --outdir)."""


class PublishRefused(RuntimeError):
    """The target changed during the run: nothing replaced, the new results kept under another name."""


def read_marker(folder: Path) -> dict | None:
    try:
        owner = json.loads((Path(folder) / MARKER).read_text())
    except (OSError, ValueError):
        return None
    return owner if isinstance(owner, dict) and owner.get("owner") == "jaxrnn" else None


def write_marker(folder: Path, experiment: str | None, token: str | None = None,
                 files: list[str] | None = None) -> None:
    marker = {"owner": "jaxrnn", "experiment": experiment, "token": token or secrets.token_hex(8)}
    if files is not None:
        marker["files"] = sorted(files)
    write_json(Path(folder) / MARKER, marker)


def foreign_files(folder: Path) -> list[str]:
    """Names inside an experiment's ``folder`` that the suite did not write (sorted); [] for a collection.

    The suite's own files are those its marker lists (or, for a folder published before markers
    listed files, config.json, summary.json, *.npz and *.png).
    """
    folder = Path(folder)
    owner = read_marker(folder)
    if owner is None or owner.get("experiment") is None:
        return []
    listed = owner.get("files")
    names = sorted(p.name for p in folder.iterdir() if p.name != MARKER)
    if isinstance(listed, list):
        return [n for n in names if n not in listed or not (folder / n).is_file() or (folder / n).is_symlink()]
    return [n for n in names if not _SUITE_FILE.match(n) or not (folder / n).is_file() or (folder / n).is_symlink()]


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


def recover(target: Path, *, locked: bool = False) -> None:
    """Repair what a killed run left beside ``target``: restore a moved-away old folder, drop the rest.

    Leftovers are recognised by name (``.jaxrnn-stage-<target>-<pid>-<token>``, ``.jaxrnn-old-...``)
    and process id alone, marker or not. Without the target's lock only those of dead processes are
    touched; holding it (``locked``), every leftover but this process's own is a dead run's.
    """
    target = Path(target)
    parent = target.parent
    if not parent.is_dir():
        return
    for entry in sorted(parent.iterdir()):
        m = _LEFTOVER.match(entry.name)
        if not m or m["target"] != target.name or entry.is_symlink() or not entry.is_dir():
            continue
        pid = int(m["pid"])
        if pid == os.getpid() or (not locked and _alive(pid)):
            continue
        if (m["kind"] == "old" and not target.exists() and not target.is_symlink()
                and read_marker(entry) is not None):
            os.rename(entry, target)  # killed between the two renames: the old results go back
        else:
            shutil.rmtree(entry, ignore_errors=True)


def _probe(folder: Path) -> str | None:
    """Try to create and remove a file in ``folder``: None if that worked, else the reason."""
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=".jaxrnn-probe-")
        os.close(fd)
        os.unlink(name)
    except OSError as err:
        return err.strerror or str(err)
    return None


def check_outdir(outdir, experiment: str | None, option: str = "--outdir", *, repair: bool = True) -> Path:
    """The absolute output path, after refusing anything the suite may not write; writes nothing
    except the repair of its own leftovers (``recover``; ``repair=False``: a read-only check, for
    the early check every process of a multi-process run makes before only the writer repairs) and a
    probe file created and removed at once.

    Refused: an empty path; a path that is a file or a link; an existing folder without the suite's
    marker, or with another experiment's marker, or holding a file the suite did not write; a path
    below a file; a place where a probe file cannot be created and removed (read-only, /proc, /sys, ...).
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
        foreign = foreign_files(path)
        if foreign:
            raise OutdirError(f"{option}: {path / foreign[0]} was not written by jaxrnn"
                              + (f" (and {len(foreign) - 1} more)" if len(foreign) > 1 else "")
                              + "; move it out of the folder, or choose another --outdir")
    ancestor = path.parent
    while not ancestor.exists() and not ancestor.is_symlink():
        ancestor = ancestor.parent
    if not ancestor.is_dir():
        raise OutdirError(f"{option}: {ancestor} is a file, so {text} cannot be created")
    for folder in (ancestor, path) if path.is_dir() else (ancestor,):
        why = _probe(folder)
        if why is not None:
            raise OutdirError(f"{option}: cannot write in {folder} ({why})")
    return path


def _make_dirs(folder: Path) -> None:
    """Create ``folder`` and any missing parents, each marked as the suite's (a results collection)."""
    missing = []
    while not folder.exists():
        missing.append(folder)
        folder = folder.parent
    for d in reversed(missing):
        try:
            d.mkdir()
        except FileExistsError:  # another run created it meanwhile
            continue
        write_marker(d, None)


def lock_path(target: Path) -> Path:
    target = Path(target)
    return target.parent / f"{LOCK_PREFIX}{target.name}"


@contextlib.contextmanager
def lock(target: Path, option: str = "--outdir"):
    """Hold an exclusive lock on ``target`` (``fcntl.flock`` on a lock file beside it) for the block.

    A second holder is refused at once with OutdirError. The parent folders are created (marked) here.
    The lock file is removed on exit while still held; a run that opened the old file meanwhile sees
    that its file is no longer the one at the path and is refused too.
    """
    import fcntl

    target = Path(os.path.abspath(target))
    _make_dirs(target.parent)
    path = lock_path(target)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        same = os.path.exists(path) and os.stat(path).st_ino == os.fstat(fd).st_ino
    except BlockingIOError:
        same = False
    if not same:
        os.close(fd)
        raise OutdirError(f"{option}: another jaxrnn run is writing {target} (it holds {path}); "
                          "wait for it to finish or choose another folder")
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


def _renameat2(a: Path, b: Path, flag: int) -> bool:
    """Linux renameat2(a, b, flag); False where unsupported (OSError on any other failure)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd = -100
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), flag) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _exchange(a: Path, b: Path) -> bool:
    """Atomically swap two paths (RENAME_EXCHANGE); False where unsupported."""
    return _renameat2(a, b, 2)


def _rename_noreplace(a: Path, b: Path) -> None:
    """Rename ``a`` to ``b`` only if ``b`` does not exist (RENAME_NOREPLACE; FileExistsError otherwise)."""
    try:
        if _renameat2(a, b, 1):
            return
    except OSError as err:
        if err.errno == errno.EEXIST:
            raise FileExistsError(errno.EEXIST, "exists", str(b)) from None
        raise
    if os.path.lexists(b):
        raise FileExistsError(errno.EEXIST, "exists", str(b))
    os.rename(a, b)


def seen(target: Path) -> str | None:
    """What a run notes about its target at start: the marker token of the suite's folder there, or None."""
    owner = read_marker(target) if Path(target).is_dir() and not Path(target).is_symlink() else None
    return None if owner is None else str(owner.get("token", "")) or "no-token"


AS_NOW = object()  # staged(): expect the target as it is when staging starts


def _keep_aside(stage: Path, target: Path, why: str) -> None:
    kept = target.with_name(f"{target.name}.jaxrnn-unpublished-{os.getpid()}")
    os.rename(stage, kept)
    raise PublishRefused(f"{target} {why}: nothing there was replaced; the new results are in {kept}")


def publish(stage: Path, target: Path, expected: str | None = None) -> None:
    """Put the finished ``stage`` folder at ``target`` if the target is still what the run saw at start
    (``expected``: None for absent, else the marker token; see ``seen``). Otherwise PublishRefused,
    with the new results renamed to ``<target>.jaxrnn-unpublished-<pid>``."""
    if expected is None:
        try:
            _rename_noreplace(stage, target)
        except (FileExistsError, IsADirectoryError, NotADirectoryError):
            _keep_aside(stage, target, "appeared during the run")
        except OSError as err:
            if err.errno not in (errno.ENOTEMPTY, errno.EEXIST):
                raise
            _keep_aside(stage, target, "appeared during the run")
        return
    if target.is_symlink() or not target.is_dir() or seen(target) != expected:
        _keep_aside(stage, target, "was replaced or removed during the run")
    foreign = foreign_files(target)
    if foreign:
        _keep_aside(stage, target, f"gained {foreign[0]}, a file jaxrnn did not write, during the run")
    if _exchange(stage, target):
        shutil.rmtree(stage)  # now holds the old results
        return
    old = target.with_name(stage.name.replace(".jaxrnn-stage-", ".jaxrnn-old-", 1))
    os.rename(target, old)
    os.rename(stage, target)
    shutil.rmtree(old)


@contextlib.contextmanager
def staged(target: Path, experiment: str | None, expected=AS_NOW):
    """Yield a fresh staging folder beside ``target``; on success it is published there (if the target
    is still ``expected``, see ``publish``; by default what is there when staging starts), on error removed.

    ``target`` must have passed ``check_outdir``: its parent folders are created here.
    """
    target = Path(os.path.abspath(target))
    _make_dirs(target.parent)
    if expected is AS_NOW:
        expected = seen(target)
    token = secrets.token_hex(4)
    stage = target.parent / f".jaxrnn-stage-{target.name}-{os.getpid()}-{token}"
    stage.mkdir(mode=0o755)
    try:
        write_marker(stage, experiment, token=secrets.token_hex(8), files=[])
        yield stage
        owner = read_marker(stage)
        write_marker(stage, experiment, token=owner["token"],
                     files=[p.name for p in stage.iterdir() if p.name != MARKER])
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    publish(stage, target, expected)


def save(target: Path, *, name: str, config, data: Dataset, summary: dict, figures, started: float,
         arrays: dict | None = None, expected=AS_NOW) -> dict:
    """Write one experiment's results and publish them atomically; return the summary as saved.

    ``figures(data, summary, folder) -> [png names]`` draws from the saved data and summary only.
    The wall time runs from ``started`` (a ``time.time()``) to the end of the figures.
    """
    with staged(target, name, expected) as stage:
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
