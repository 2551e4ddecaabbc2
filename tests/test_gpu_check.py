"""`make gpu-check` on the CPU: the budget planner, a step stopped at its limit, a check cut from outside,
and a dry run that writes nothing (every run here uses a temporary results root, never the repo's)."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from experiments import gpu_check
from experiments.gpu_check import Step

PY = sys.executable
FAKE = {"platform": "fake", "device_kind": "a test double"}


def _writes(path: Path, sleep: float = 0.0) -> list:
    """A tiny step: write ``path`` (its file), then sleep."""
    return [PY, "-c", f"import pathlib, time; p = pathlib.Path({str(path)!r}); p.parent.mkdir(parents=True, "
                      f"exist_ok=True); p.write_text('done'); time.sleep({sleep})"]


def _summary(root: Path) -> dict:
    return json.loads((root / "bench" / "gpu_check_fake.json").read_text())


def test_planner_skips_what_cannot_fit_and_says_why():
    steps = [Step("a", "sweep", ["x"], "", share=40, min_s=30), Step("b", "paper", ["x"], "", share=30, min_s=50),
             Step("c", "bench", ["x"], "", share=20, min_s=10), Step("d", "tests", ["x"], "", share=10, min_s=10)]
    plan = gpu_check.plan(steps, 100)
    # b's reserve (30 s) cannot hold its minimum (50 s), so a keeps no time for it: 100 - 20 - 10
    assert plan[0] == (70, None)
    # b then finds 30 s left: skipped, and the reason gives both numbers
    assert plan[1][0] == 0 and "30 s" in plan[1][1] and "50 s" in plan[1][1]
    assert plan[2] == (20, None) and plan[3] == (10, None)  # later, cheaper steps still run
    assert sum(s for s, _ in plan) == 100
    # a tighter budget: the most valuable step borrows up to its minimum, the last ones are skipped
    tight = gpu_check.plan(steps, 45)
    assert tight[0] == (30, None)
    assert [why is None for _, why in tight] == [True, False, True, False]
    assert sum(s for s, _ in tight) <= 45


@pytest.mark.parametrize("budget", [720.0, 300.0, 90.0])
def test_default_plan_stays_within_budget_in_order_of_value(tmp_path, budget):
    steps = gpu_check.default_steps(PY, tmp_path, budget)
    assert [s.kind for s in steps][0] == "sweep" and steps[-1].kind == "tests"
    plan = gpu_check.plan(steps, budget)
    assert sum(s for s, _ in plan) <= budget + 1e-9
    for step, (seconds, why) in zip(steps, plan):
        assert (why is None) == (seconds >= step.min_s)  # every step runs with at least its minimum, or is skipped
    if budget == 720.0:  # the default: everything runs, the sweep first with all the others' reserves kept
        assert all(why is None for _, why in plan)
        assert plan[0][0] == pytest.approx(budget - sum(s.share for s in steps[1:]))


def test_layout_paper_presets_cannot_collide_with_the_sweep(tmp_path):
    from experiments import bench
    from experiments.sweep import EXPERIMENTS

    steps = gpu_check.default_steps(PY, tmp_path, 720.0)
    paper = [s for s in steps if s.kind == "paper"]
    assert [s.name for s in paper] == [f"paper_{n}" for n in gpu_check.preset_studies("paper")] and paper
    assert "paper" not in EXPERIMENTS  # the sweep never writes gpu/paper
    for s in paper:
        assert Path(s.outdir).parent == tmp_path / "gpu" / "paper"
        if s.train_cap_s is not None:  # trains within part of its step's time, never beyond the preset's own
            argv = s.command(100.0)
            given = float(argv[argv.index("--time-budget-s") + 1])
            assert given <= min(s.train_cap_s, gpu_check.PAPER_TRAIN_FRACTION * 100.0) + 0.5
    names = [s.argv[s.argv.index("--only") + 1] for s in steps if s.kind == "bench"]
    assert names == ["gradient", "decoding", "training"] and set(names) <= set(bench.BENCHMARKS)
    assert all(s.outdir == str(tmp_path / "bench") for s in steps if s.kind == "bench")
    assert steps[0].argv[-2:] == ["--results", str(tmp_path / "gpu")]


def test_a_step_stopped_at_its_limit_leaves_the_earlier_files_and_says_where(tmp_path):
    root = tmp_path / "results"
    pidfile = tmp_path / "child.pid"
    # b starts a grandchild (its process group must die with it), writes its file, then overruns
    b_argv = [PY, "-c", "import subprocess, pathlib, time; c = subprocess.Popen(['sleep', '60']); "
                        f"pathlib.Path({str(pidfile)!r}).write_text(str(c.pid)); time.sleep(60)"]
    steps = [Step("a", "sweep", _writes(root / "gpu" / "a.txt"), str(root / "gpu"), share=1.0, min_s=0.5),
             Step("b", "paper", b_argv, "", share=1.0, min_s=0.5),
             Step("c", "bench", _writes(root / "bench" / "c_gpu.json"), str(root / "bench"), share=4.0, min_s=1.0),
             Step("d", "tests", ["x"], "", share=1.0, min_s=100.0)]
    copy = tmp_path / "out"
    t0 = time.monotonic()
    with open(os.devnull, "w") as quiet:
        summary = gpu_check.run_steps(steps, 8.0, root, FAKE, copy_to=copy, log=quiet)
    assert time.monotonic() - t0 < 8.0 + 3.0  # the budget held (b was not waited for)
    rows = {r["name"]: r for r in summary["steps"]}
    assert rows["a"]["status"] == "ok" and rows["a"]["exit_code"] == 0 and rows["a"]["skipped"] is None
    assert rows["b"]["status"] == "timeout" and rows["b"]["exit_code"] != 0
    assert rows["b"]["wall_s"] <= rows["b"]["limit_s"] + 1.0
    assert rows["c"]["status"] == "ok"  # the steps after a stopped one still run in what is left
    assert rows["d"]["status"] == "skipped" and "100 s" in rows["d"]["skipped"]
    assert summary["stopped_at"] == "b" and summary["finished"]
    assert _summary(root) == json.loads(json.dumps(summary))  # the file on disk is the final summary
    assert set(_summary(root)) >= {"device", "budget_s", "steps", "stopped_at"}
    assert (root / "gpu" / "a.txt").read_text() == "done"
    # --copy-to got the finished steps' files and the summary
    assert (copy / "gpu" / "a.txt").exists() and (copy / "bench" / "c_gpu.json").exists()
    # the whole process group went: the grandchild sleep is gone
    child = int(pidfile.read_text())
    for _ in range(50):
        try:
            if Path(f"/proc/{child}/stat").read_text().split()[2] == "Z":  # dead, not yet reaped
                break
        except FileNotFoundError:  # gone
            break
        time.sleep(0.1)
    else:
        pytest.fail("the stopped step's child process outlived it")


def test_a_check_cut_from_outside_leaves_a_summary_naming_the_running_step(tmp_path):
    root = tmp_path / "results"
    started = tmp_path / "b_started"
    # b (in its own process group, as every step) writes its pid, then would run for a minute
    b_argv = [PY, "-c", f"import os, pathlib, time; pathlib.Path({str(started)!r}).write_text(str(os.getpid())); "
                        "time.sleep(60)"]
    script = (
        "import sys; from experiments import gpu_check; from experiments.gpu_check import Step\n"
        f"root = {str(root)!r}\n"
        f"steps = [Step('a', 'sweep', {_writes(root / 'gpu' / 'a.txt')!r}, root, 1.0, 0.1),\n"
        f"         Step('b', 'paper', {b_argv!r}, root, 100.0, 0.1),\n"
        f"         Step('c', 'tests', {_writes(root / 'c.txt')!r}, root, 1.0, 0.1)]\n"
        f"gpu_check.run_steps(steps, 200.0, gpu_check.Path(root), {FAKE!r})\n")
    env = dict(os.environ, PYTHONPATH=str(gpu_check.ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([PY, "-c", script], env=env, stdout=subprocess.DEVNULL, start_new_session=True)
    try:
        for _ in range(600):
            if started.exists():
                break
            time.sleep(0.05)
        assert started.exists(), "step b never started"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the machine goes away: nothing gets to write anything more
        proc.wait()
        if started.exists():  # step b's own group, orphaned by the cut (on a real machine it goes too)
            for _ in range(100):
                try:
                    os.kill(int(started.read_text()), signal.SIGKILL)
                    break
                except ValueError:  # read before b wrote its pid
                    time.sleep(0.02)
                except ProcessLookupError:
                    break
    summary = _summary(root)
    rows = {r["name"]: r for r in summary["steps"]}
    assert rows["a"]["status"] == "ok" and (root / "gpu" / "a.txt").read_text() == "done"
    assert rows["b"]["status"] == "running" and rows["c"]["status"] == "planned"
    assert summary["stopped_at"] == "b" and not summary["finished"]
    assert not (root / "c.txt").exists()


def _tree(path: Path) -> dict:
    return {str(p): p.stat().st_mtime_ns for p in path.rglob("*")} if path.exists() else {}


@pytest.mark.parametrize("how", ["dry_run", "no_gpu"])
def test_dry_run_and_no_gpu_write_nothing(tmp_path, monkeypatch, capsys, how):
    root = tmp_path / "results"
    repo_results = _tree(gpu_check.ROOT / "results")
    if how == "dry_run":
        argv = ["--dry-run", "--results-root", str(root), "--budget", "300"]
    else:  # without an accelerator, a plain run is a dry run
        monkeypatch.setattr(gpu_check, "probe_device", lambda python: {"platform": "cpu", "device_kind": "cpu"})
        argv = ["--results-root", str(root), "--budget", "300"]
    assert gpu_check.main(argv) == 0
    out = capsys.readouterr().out
    assert not root.exists() and not list(tmp_path.iterdir())
    assert _tree(gpu_check.ROOT / "results") == repo_results
    steps = gpu_check.default_steps(PY, root, 300.0)
    for step, (seconds, why) in zip(steps, gpu_check.plan(steps, 300.0)):
        assert step.name in out and (f"up to {seconds:5.0f} s" in out if why is None else why in out)
    assert "tar -czf" in out
    if how == "no_gpu":
        assert "no GPU" in out


def test_bench_only_writes_the_chosen_benchmark(tmp_path):
    from experiments import bench

    assert bench.main(["--quick", "--only", "training", "--outdir", str(tmp_path)]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["training_grid.json"]
    assert json.loads((tmp_path / "training_grid.json").read_text())["throughput_ratio"] > 0
    with pytest.raises(SystemExit):
        bench.main(["--only", "no_such_benchmark", "--outdir", str(tmp_path)])
