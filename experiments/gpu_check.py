"""`make gpu-check`: what an accelerator can tell us, most valuable first, inside a fixed time budget.

    python -m experiments.gpu_check [--budget SECONDS] [--dry-run] [--force] [--results-root DIR]
                                    [--copy-to DIR] [--python PY]

Steps, in order of value, each a command in its own process group (killed whole at its time limit):

1. ``sweep``: the full default ``make sweep``, once, timed, into ``<root>/gpu/<experiment>/``
   (and ``<root>/gpu/REPORT.md``): the accelerator's wall time for the whole suite;
2. ``paper_<study>``: every ``paper`` preset the studies declare (found in each config's ``PRESETS``),
   each into ``<root>/gpu/paper/<study>/``: a folder the sweep never writes (no experiment is called
   ``paper``, and the report reads ``<root>/gpu/*/summary.json``, one level down only); a study
   whose config has a ``time_budget_s`` field is told to train within part of its step's time;
3. ``bench_gradient``, ``bench_decoding``, ``bench_training``: those benchmarks of ``make bench``, one
   per step (``experiments.bench --only``), into ``<root>/bench/*_gpu.json`` (no whole-sweep timing:
   step 1 is that);
4. ``tests``: the tests whose numbers depend on the device (``tests/core``, ``tests/models``).

The budget (``--budget``, default 720 s, counted from the start) is shared out by ``SHARES``: each
step keeps its share in reserve, and a step may use everything that is left except what is kept for
the later steps, so time a step does not use passes to the next one. A step whose time left cannot
hold its minimum (``MIN_S``) is skipped, with the reason recorded; a step still running at its limit
is stopped (SIGTERM to its process group, SIGKILL a few seconds later).

``<root>/bench/gpu_check_<platform>.json`` (``gpu_check_gpu.json`` on a GPU) is rewritten atomically
before and after every step: ``{"device", "budget_s", "steps": [{"name", "exit_code", "wall_s",
"skipped", "outdir", ...}], "stopped_at"}``. ``stopped_at`` names the first step that did not run to
its own end (stopped at its time limit, interrupted, or still ``running`` when the file was last
written because the whole check was cut there); it is null when every step that started finished.
Each step's files are in place as soon as it ends; after each step the one command that copies
``<root>/gpu/`` and ``<root>/bench/*_gpu.json`` back is printed (``--copy-to DIR`` also copies them
into DIR after every step, e.g. a folder the machine hands back when it is reclaimed).

Without an accelerator (and without ``--force``), or with ``--dry-run``, it prints the plan with
each step's time and writes nothing.
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEST_PATHS = ("tests/core", "tests/models")
DEFAULT_BUDGET_S = 720.0
# Fraction of the budget each kind of step keeps in reserve (split evenly among the paper presets, and
# by BENCH_WEIGHTS among the benchmarks); what a step leaves unused passes on to the next steps.
SHARES = {"sweep": 0.40, "paper": 0.30, "bench": 0.15, "tests": 0.15}
BENCH_WEIGHTS = {"gradient": 2.0, "decoding": 1.0, "training": 1.0}
# The least time in which a step can finish anything (start-up and compilation included).
MIN_S = {"sweep": 60.0, "paper": 60.0, "bench": 15.0, "tests": 30.0}
PAPER_TRAIN_FRACTION = 0.6  # of a paper step's time, the part its training may use (the rest: start, compile, write)
KILL_GRACE_S = 5.0  # between SIGTERM and SIGKILL; taken from the step's own time
TAIL_LINES = 30  # of each step's output kept in the summary


@dataclasses.dataclass
class Step:
    name: str
    kind: str  # sweep | paper | bench | tests
    argv: list  # the command
    outdir: str  # where its files go
    share: float  # seconds kept in reserve for it
    min_s: float  # skipped when less than this is left
    train_cap_s: float | None = None  # a study with --time-budget-s: its preset's own value (the most it gets)

    def command(self, seconds: float) -> list:
        """argv for a run of at most ``seconds``: a time-budgeted study may train for part of them."""
        if self.train_cap_s is None:
            return list(self.argv)
        return [*self.argv, "--time-budget-s", f"{min(self.train_cap_s, PAPER_TRAIN_FRACTION * seconds):.0f}"]


def preset_studies(preset: str = "paper") -> list[str]:
    """Studies whose config declares ``preset`` (in the order ``make sweep`` runs them)."""
    from experiments.sweep import STUDIES

    return [name for name, study in STUDIES.items() if preset in getattr(study.config, "PRESETS", ())]


def _train_cap(study: str, preset: str = "paper") -> float | None:
    """The preset's ``time_budget_s`` where the study's config has that field (0 there: no cap), else None."""
    from experiments.sweep import STUDIES

    config = STUDIES[study].config
    if "time_budget_s" not in {f.name for f in dataclasses.fields(config)}:
        return None
    return getattr(config, preset)().time_budget_s or float("inf")


def default_steps(python: str, results_root: Path, budget_s: float) -> list[Step]:
    """The four kinds of step, most valuable first, with their reserved seconds."""
    gpu, bench = results_root / "gpu", results_root / "bench"
    steps = [Step("sweep", "sweep", [python, "-m", "experiments.sweep", "--results", str(gpu)], str(gpu),
                  SHARES["sweep"] * budget_s, MIN_S["sweep"])]
    studies = preset_studies("paper")
    for study in studies:
        argv = [python, "-m", f"experiments.{study}", "--preset", "paper", "--outdir", str(gpu / "paper" / study)]
        steps.append(Step(f"paper_{study}", "paper", argv, str(gpu / "paper" / study),
                          SHARES["paper"] * budget_s / len(studies), MIN_S["paper"], _train_cap(study)))
    total = sum(BENCH_WEIGHTS.values())
    for name, weight in BENCH_WEIGHTS.items():
        steps.append(Step(f"bench_{name}", "bench",
                          [python, "-m", "experiments.bench", "--only", name, "--outdir", str(bench)], str(bench),
                          SHARES["bench"] * budget_s * weight / total, MIN_S["bench"]))
    steps.append(Step("tests", "tests", [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TEST_PATHS],
                      "", SHARES["tests"] * budget_s, MIN_S["tests"]))
    return steps


def allowance(steps: list[Step], i: int, left: float) -> tuple[float, str | None]:
    """Seconds step i may run with ``left`` seconds of the budget left, or (0, why it is skipped).

    It gets what is left less the reserves of the later steps (those whose reserve can hold their
    minimum); a step worth more than those may borrow from them up to its own minimum.
    """
    step = steps[i]
    if left < step.min_s:
        return 0.0, f"{max(left, 0.0):.0f} s of the budget left, and it needs at least {step.min_s:.0f} s"
    kept = sum(s.share for s in steps[i + 1:] if s.share >= s.min_s)
    return max(left - kept, step.min_s), None


def plan(steps: list[Step], budget_s: float) -> list[tuple[float, str | None]]:
    """(seconds, skip reason) of every step if each ran to its limit: the worst case a dry run prints."""
    left, out = budget_s, []
    for i in range(len(steps)):
        seconds, why = allowance(steps, i, left)
        out.append((seconds, why))
        left -= seconds
    return out


def copy_command(results_root: Path) -> str:
    """The one command that packs <root>/gpu and <root>/bench/*_gpu.json into the repository's
    gpu-check-results.tar.gz (unpack it with ``tar -xzf`` in the repository root of another clone)."""
    root = Path(results_root)
    if root.is_absolute() and root.is_relative_to(ROOT):
        root = root.relative_to(ROOT)
    r = shlex.quote(str(root))
    return f"cd {shlex.quote(str(ROOT))} && tar -czf gpu-check-results.tar.gz {r}/gpu {r}/bench/*_gpu.json"


def copy_results(results_root: Path, dest: Path) -> None:
    """Copy <root>/gpu and <root>/bench/*_gpu.json into dest (same relative layout), file by file."""
    dest = Path(dest)
    if (results_root / "gpu").is_dir():
        shutil.copytree(results_root / "gpu", dest / "gpu", dirs_exist_ok=True)
    (dest / "bench").mkdir(parents=True, exist_ok=True)
    for path in sorted((results_root / "bench").glob("*_gpu.json")):
        shutil.copy2(path, dest / "bench" / path.name)


def write_atomic(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(json.dumps(data, indent=1) + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def probe_device(python: str, timeout: float = 180.0) -> dict:
    """The first device JAX sees, asked in a child process (so this process never holds accelerator memory)."""
    code = ("import json, jax; d = jax.devices()[0]; print(json.dumps({'platform': d.platform, "
            "'device_kind': d.device_kind, 'device_count': jax.device_count(), 'jax': jax.__version__}))")
    try:
        proc = subprocess.run([python, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, json.JSONDecodeError, IndexError) as err:
        return {"platform": "unknown", "error": f"{type(err).__name__}: {err}"[:300]}


def _cache_files() -> int:
    """Files in the persistent compilation cache (0: the sweep's time below includes every compilation)."""
    path = Path(os.environ.get("JAXRNN_CACHE_DIR", str(Path.home() / ".cache" / "jaxrnn" / "xla")))
    return sum(1 for p in path.rglob("*") if p.is_file()) if path.is_dir() else 0


class _Interrupted(Exception):
    pass


def _on_signal(signum, frame):
    raise _Interrupted(signal.Signals(signum).name)


def run_step(argv: list, seconds: float, tail: collections.deque, log=None) -> tuple[int, str]:
    """Run argv in its own process group for at most ``seconds``; (exit code, status). Its output is
    echoed to ``log`` and its last lines kept in ``tail``; at the limit the group gets SIGTERM, then
    SIGKILL ``KILL_GRACE_S`` later (both within ``seconds``)."""
    log = log or sys.stdout
    grace = min(KILL_GRACE_S, 0.2 * seconds)
    proc = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            errors="replace", start_new_session=True, env=dict(os.environ, PYTHONUNBUFFERED="1"))

    def pump():
        for line in proc.stdout:
            tail.append(line.rstrip("\n"))
            log.write(line)
            log.flush()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    status = "finished"
    try:
        proc.wait(timeout=max(seconds - grace, 0.01))
    except subprocess.TimeoutExpired:
        status = "timeout"
        _kill_group(proc, grace)
    except BaseException:
        _kill_group(proc, grace)
        raise
    finally:
        reader.join(timeout=2.0)  # a grandchild that escaped the group may hold the pipe: do not wait for it
        if not reader.is_alive():
            proc.stdout.close()
    return proc.returncode, status


def _kill_group(proc: subprocess.Popen, grace: float) -> None:
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 10.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run_steps(steps: list[Step], budget_s: float, results_root: Path, device: dict, *,
              copy_to: Path | None = None, started: float | None = None, log=None) -> dict:
    """Run the steps within the budget (counted from ``started``, a time.monotonic(); default now);
    returns the summary, which is also written before and after every step."""
    results_root, log = Path(results_root), log or sys.stdout
    t0 = time.monotonic() if started is None else started
    summary_path = results_root / "bench" / f"gpu_check_{device.get('platform', 'unknown')}.json"
    summary = {"device": device, "budget_s": budget_s, "finished": False, "stopped_at": None,
               "compilation_cache_files_at_start": _cache_files(),
               "results_root": str(results_root), "copy_command": copy_command(results_root),
               "steps": [{"name": s.name, "exit_code": None, "wall_s": None, "skipped": None,
                          "outdir": s.outdir or None, "status": "planned", "limit_s": None, "command": None,
                          "tail": []} for s in steps]}

    def save():
        summary["elapsed_s"] = round(time.monotonic() - t0, 1)
        write_atomic(summary_path, summary)
        if copy_to is not None:
            copy_results(results_root, Path(copy_to))

    old = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)} \
        if threading.current_thread() is threading.main_thread() else {}
    try:
        save()
        for i, step in enumerate(steps):
            row = summary["steps"][i]
            left = budget_s - (time.monotonic() - t0)
            seconds, why = allowance(steps, i, left)
            if why:
                row.update(status="skipped", skipped=why)
                save()
                print(f"gpu-check [{step.name}] skipped: {why}", file=log, flush=True)
                continue
            argv = step.command(seconds)
            row.update(status="running", limit_s=round(seconds, 1), command=shlex.join(argv))
            if summary["stopped_at"] is None:
                summary["stopped_at"] = step.name  # stays there if the whole check is cut during this step
            save()
            print(f"gpu-check [{step.name}] up to {seconds:.0f} s: {shlex.join(argv)}", file=log, flush=True)
            tail = collections.deque(maxlen=TAIL_LINES)
            start = time.monotonic()
            try:
                code, status = run_step(argv, seconds, tail, log)
            except _Interrupted as err:
                row.update(status="interrupted", wall_s=round(time.monotonic() - start, 1), tail=list(tail),
                           skipped=None)
                print(f"gpu-check [{step.name}] interrupted ({err})", file=log, flush=True)
                raise
            wall = time.monotonic() - start
            if status == "finished" and summary["stopped_at"] == step.name:
                summary["stopped_at"] = None
            row.update(exit_code=code, wall_s=round(wall, 1), tail=list(tail),
                       status="timeout" if status == "timeout" else "ok" if code == 0 else "failed")
            save()
            print(f"gpu-check [{step.name}] {row['status']} (exit {code}) after {wall:.1f} s of {seconds:.0f} s; "
                  f"{budget_s - (time.monotonic() - t0):.0f} s of the budget left", file=log, flush=True)
            print(f"gpu-check: copy what is done so far: {summary['copy_command']}", file=log, flush=True)
        summary["finished"] = True
    except _Interrupted:
        summary["interrupted"] = True
    finally:
        save()
        for sig, handler in old.items():
            signal.signal(sig, handler)
    return summary


def print_plan(steps: list[Step], budget_s: float, why: str, results_root: Path, log=None) -> None:
    log = log or sys.stdout
    print(f"gpu-check: dry run ({why}); nothing is run or written. Plan for a {budget_s:.0f} s budget "
          "(each step's limit if every earlier step used all of its own; time a step leaves passes on):", file=log)
    for step, (seconds, skip) in zip(steps, plan(steps, budget_s)):
        argv = step.command(seconds)
        head = f"  {step.name:16s} " + (f"skipped: {skip}" if skip else f"up to {seconds:5.0f} s")
        print(head + (f"  -> {step.outdir}" if step.outdir else ""), file=log)
        if not skip:
            print(f"      {shlex.join(argv)}", file=log)
    print(f"After each step it prints the command that copies the results back: {copy_command(results_root)}",
          file=log)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.gpu_check", description=__doc__.split("\n")[0])
    parser.add_argument("--budget", type=float, default=DEFAULT_BUDGET_S, help="seconds for the whole check")
    parser.add_argument("--dry-run", action="store_true", help="print the plan, run and write nothing")
    parser.add_argument("--force", action="store_true", help="run the steps even without an accelerator (tests)")
    parser.add_argument("--results-root", type=Path, default=Path("results"),
                        help="where gpu/ and bench/ go (default results; the tests use a temporary folder)")
    parser.add_argument("--copy-to", type=Path, default=None,
                        help="also copy gpu/ and bench/*_gpu.json into this folder after every step")
    parser.add_argument("--python", default=sys.executable, help="the interpreter the steps run with")
    args = parser.parse_args(argv)
    if args.budget <= 0:
        parser.error("--budget: must be > 0 seconds")
    results_root = args.results_root.resolve()
    if results_root.is_relative_to(ROOT):  # the steps run in ROOT: keep their commands short
        results_root = Path(os.path.relpath(results_root, ROOT))
    steps = default_steps(args.python, results_root, args.budget)
    if args.dry_run:
        print_plan(steps, args.budget, "--dry-run", results_root)
        return 0
    t0 = time.monotonic()
    device = probe_device(args.python)
    if device.get("platform") == "unknown" and not args.force:
        print(f"gpu-check: could not ask JAX for its device ({device.get('error')}); nothing run", file=sys.stderr)
        return 1
    if device.get("platform") == "cpu" and not args.force:
        print_plan(steps, args.budget, f"no GPU here: JAX sees only the CPU ({device.get('device_kind')}); "
                                       "--force runs the steps anyway", results_root)
        return 0
    probe_s = time.monotonic() - t0
    print(f"gpu-check: {device.get('device_kind')} ({device.get('platform')}), found in {probe_s:.0f} s; "
          f"{args.budget - probe_s:.0f} s of the {args.budget:.0f} s budget left", flush=True)
    summary = run_steps(steps, args.budget, results_root, device, copy_to=args.copy_to, started=t0)
    bad = [s["name"] for s in summary["steps"] if s["status"] not in ("ok", "skipped")]
    print(f"gpu-check: {'finished' if summary['finished'] else 'interrupted'}; stopped at "
          f"{summary['stopped_at']}; not ok: {', '.join(bad) or 'none'}; copy back: {summary['copy_command']}")
    return 0 if summary["finished"] and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
