"""`make gpu-check`: the device-relevant tests, the quick sweep, the benchmarks and the paper presets on a GPU.

    python -m experiments.gpu_check [--dry-run] [--python PY] [--outdir results/bench] [--only STAGE[,STAGE]]
                                    [--timeout SECONDS]

Stages, each a command run in its own process (the same commands as ``make test``/``sweep``/``bench``):

- ``tests``:   the tests whose numbers depend on the device (kernels, sweeps and sharding, models);
- ``sweep``:   every experiment's quick config (``make sweep QUICK=1``), into results/quick/gpu;
- ``bench``:   ``make bench`` (writes results/bench/*_gpu.json);
- ``presets``: each study's ``paper`` preset, into results/gpu/<study> (the report's accelerator section).

Writes ``gpu_check_<platform>.json`` into --outdir: the device, and for each stage its command, exit
code and wall time. Without a GPU (or with --dry-run) nothing heavy runs: each command is printed and
checked (its module imports, its test paths exist, its preset is declared) and the plan is written to
``gpu_check_dry_run.json``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

TEST_PATHS = ("tests/core", "tests/models")
STAGES = ("tests", "sweep", "bench", "presets")
ROOT = Path(__file__).resolve().parent.parent


def preset_studies(preset: str = "paper") -> list[str]:
    """Studies whose config declares ``preset`` (in the order ``make sweep`` runs them)."""
    from experiments.sweep import STUDIES

    return [name for name, study in STUDIES.items() if preset in getattr(study.config, "PRESETS", ())]


def plan(python: str, outdir: Path, stages=STAGES) -> list[dict]:
    """The commands of every stage: [{stage, name, argv}]."""
    steps = []
    if "tests" in stages:
        steps.append({"stage": "tests", "name": "tests",
                      "argv": [python, "-m", "pytest", "-q", "-p", "no:cacheprovider", *TEST_PATHS]})
    if "sweep" in stages:
        steps.append({"stage": "sweep", "name": "sweep_quick",
                      "argv": [python, "-m", "experiments.sweep", "--quick", "--results", "results/quick/gpu"]})
    if "bench" in stages:
        steps.append({"stage": "bench", "name": "bench",
                      "argv": [python, "-m", "experiments.bench", "--outdir", str(outdir), "--compiles", "none"]})
    if "presets" in stages:
        for name in preset_studies():
            steps.append({"stage": "presets", "name": f"{name}_paper",
                          "argv": [python, "-m", f"experiments.{name}", "--preset", "paper", "--outdir",
                                   f"results/gpu/{name}"]})
    return steps


def check_step(step: dict) -> list[str]:
    """Why a planned command could not run as planned (empty when it can): modules, test paths, presets."""
    argv, problems = step["argv"], []
    if "-m" in argv:
        module = argv[argv.index("-m") + 1]
        if module != "pytest":
            try:
                importlib.import_module(module)
            except ImportError as err:
                problems.append(f"{module}: {err}")
    for path in argv:
        if path.startswith("tests/") and not (ROOT / path).exists():
            problems.append(f"{path}: no such test folder")
    if "--preset" in argv:
        preset, name = argv[argv.index("--preset") + 1], argv[argv.index("-m") + 1].split(".")[-1]
        if name not in preset_studies(preset):
            problems.append(f"{name}: no preset {preset!r}")
    return problems


def device() -> dict:
    import jax

    d = jax.devices()[0]
    return {"platform": d.platform, "device_kind": d.device_kind, "device_count": jax.device_count(),
            "jax": jax.__version__}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.gpu_check", description=__doc__.split("\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="print and check the commands, run none of them")
    parser.add_argument("--python", default=sys.executable, help="the interpreter the stages run with")
    parser.add_argument("--outdir", type=Path, default=Path("results/bench"))
    parser.add_argument("--only", default=",".join(STAGES), help=f"comma list out of {', '.join(STAGES)}")
    parser.add_argument("--timeout", type=float, default=3600.0, help="seconds each command may run")
    args = parser.parse_args(argv)
    stages = tuple(s.strip() for s in args.only.split(",") if s.strip())
    if not stages or set(stages) - set(STAGES):
        parser.error(f"--only: choose from {', '.join(STAGES)}")
    dev = device()
    dry = args.dry_run or dev["platform"] != "gpu"
    steps = plan(args.python, args.outdir, stages)
    args.outdir.mkdir(parents=True, exist_ok=True)
    report = {"device": dev, "dry_run": dry, "steps": []}
    if dry:
        why = "--dry-run" if args.dry_run else f"no GPU here (platform {dev['platform']})"
        print(f"gpu-check: dry run ({why}); the commands a GPU machine would run:")
    failed = 0
    for step in steps:
        cmd = " ".join(step["argv"])
        if dry:
            problems = check_step(step)
            failed += bool(problems)
            report["steps"].append(dict(step, command=cmd, problems=problems))
            print(f"  [{step['stage']}] {cmd}" + (f"   <- {'; '.join(problems)}" if problems else ""))
            continue
        print(f"gpu-check [{step['stage']}] {cmd}", flush=True)
        t0 = time.perf_counter()
        try:
            proc = subprocess.run(step["argv"], cwd=ROOT, timeout=args.timeout,
                                  env=dict(os.environ, PYTHONUNBUFFERED="1"))
            code = proc.returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
        wall = time.perf_counter() - t0
        failed += code != 0
        report["steps"].append(dict(step, command=cmd, exit_code=code, wall_s=round(wall, 1)))
        print(f"gpu-check [{step['stage']}] exit {code} after {wall:.1f} s", flush=True)
    name = "gpu_check_dry_run.json" if dry else f"gpu_check_{dev['platform']}.json"
    (args.outdir / name).write_text(json.dumps(report, indent=1) + "\n")
    print(f"gpu-check: wrote {args.outdir / name}; {failed} of {len(steps)} steps failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
