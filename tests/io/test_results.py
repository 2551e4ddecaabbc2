"""Results that never lose data: owned folders only, atomic publication, recovery after a kill, invalid verdicts."""

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from jaxrnn.io import report, results, runner
from jaxrnn.io.config import StudyConfig, at_least, field
from jaxrnn.io.results import Dataset, OutdirError, check_outdir, recover, staged, write_json
from tests.conftest import subprocess_env


def test_dataset_roundtrip_keeps_axes_and_dims(tmp_path):
    ds = Dataset()
    ds.add_axis("w", np.linspace(-1, 1, 3))
    ds.add_axis("T", np.arange(1, 5))
    ds.add_axis("act", np.array(["sigmoid", "tanh"]))
    ds.add("grad", ("act", "w", "T"), np.arange(24.0).reshape(2, 3, 4))
    with pytest.raises(ValueError, match="does not match dims"):
        ds.add("bad", ("w", "T"), np.zeros((4, 3)))
    ds.save(tmp_path / "d.npz")
    back = Dataset.load(tmp_path / "d.npz")
    assert back.dims("grad") == ("act", "w", "T")
    np.testing.assert_array_equal(back["grad"], ds["grad"])
    assert back["act"].tolist() == ["sigmoid", "tanh"]


def test_interrupted_write_leaves_earlier_results_intact(tmp_path):
    out = tmp_path / "exp"
    with staged(out, "exp") as stage:
        (stage / "a.txt").write_text("first")
    with pytest.raises(KeyboardInterrupt):
        with staged(out, "exp") as stage:
            (stage / "a.txt").write_text("half-written")
            raise KeyboardInterrupt
    assert (out / "a.txt").read_text() == "first"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp"]  # no staging debris
    with staged(out, "exp") as stage:
        (stage / "b.txt").write_text("second")
    assert sorted(p.name for p in out.iterdir()) == [".jaxrnn", "b.txt"]


def test_json_keeps_non_finite_visible(tmp_path):
    write_json(tmp_path / "s.json", {"x": float("inf"), "y": [float("nan"), 1.0], "z": np.float32(2.5)})
    assert json.loads((tmp_path / "s.json").read_text()) == {"x": "inf", "y": ["nan", 1.0], "z": 2.5}


# --- folders the suite may write --------------------------------------------------------------------


def test_foreign_folder_is_refused_and_the_users_file_survives(tmp_path):
    user = tmp_path / "mine"
    user.mkdir()
    (user / "thesis.tex").write_text("precious")
    with pytest.raises(OutdirError, match="not written by jaxrnn"):
        check_outdir(user, "gradient_decay")
    assert (user / "thesis.tex").read_text() == "precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_file_empty_and_below_a_file_paths_are_refused(tmp_path):
    f = tmp_path / "notes.txt"
    f.write_text("a file")
    with pytest.raises(OutdirError, match="is a file, not a folder"):
        check_outdir(f, "x")
    with pytest.raises(OutdirError, match="empty path"):
        check_outdir("", "x")
    with pytest.raises(OutdirError, match="is a file, so"):
        check_outdir(f / "sub", "x")
    assert f.read_text() == "a file" and sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]


def test_another_experiments_folder_and_the_collection_are_refused(tmp_path):
    with staged(tmp_path / "results" / "a", "a") as stage:
        (stage / "x").write_text("1")
    with pytest.raises(OutdirError, match="holds the results of a"):
        check_outdir(tmp_path / "results" / "a", "b")
    with pytest.raises(OutdirError, match="results collection"):
        check_outdir(tmp_path / "results", "b")
    assert (tmp_path / "results" / "a" / "x").read_text() == "1"


def test_quick_runs_never_touch_the_full_results(tmp_path, monkeypatch):
    seen = []
    monkeypatch.setattr(runner, "run", lambda study, config, outdir: seen.append(Path(outdir)))
    monkeypatch.chdir(tmp_path)
    assert runner.main(_fake_study(), ["--quick"]) == 0
    assert runner.main(_fake_study(), []) == 0
    assert seen == [Path("results/quick/fake"), Path("results/fake")]


def test_the_committed_results_carry_the_marker():
    root = Path(__file__).resolve().parents[2] / "results"
    assert results.read_marker(root) == {"owner": "jaxrnn", "experiment": None}
    for summary in root.glob("*/summary.json"):
        assert results.read_marker(summary.parent)["experiment"] == summary.parent.name


# --- a kill at every stage of publication ------------------------------------------------------------

KILL_SCRIPT = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from jaxrnn.io import results
    target, point, exchange = Path(sys.argv[1]), sys.argv[2], sys.argv[3] == "1"
    if not exchange:
        results._exchange = lambda a, b: False          # the two-rename fallback
    calls = {"rename": 0, "rmtree": 0}
    real_rename, real_rmtree = os.rename, results.shutil.rmtree
    def die():
        os.kill(os.getpid(), signal.SIGKILL)
    def rename(a, b):
        calls["rename"] += 1
        if point == f"before-rename-{calls['rename']}":
            die()
        real_rename(a, b)
    def rmtree(p, *a, **k):
        if point == "before-cleanup":
            die()
        real_rmtree(p, *a, **k)
    results.os.rename = rename
    results.shutil.rmtree = rmtree
    with results.staged(target, "exp") as stage:
        (stage / "payload.txt").write_text("new")
        if point == "while-staging":
            die()
    if point == "after-publish":
        die()
""")


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
@pytest.mark.parametrize("point", ["while-staging", "before-rename-1", "before-rename-2", "before-cleanup",
                                   "after-publish"])
def test_a_kill_at_any_stage_leaves_old_or_new_results(tmp_path, point, exchange):
    target = tmp_path / "exp"
    with staged(target, "exp") as stage:
        (stage / "payload.txt").write_text("old")
    proc = subprocess.run([sys.executable, "-c", KILL_SCRIPT, str(target), point, "1" if exchange else "0"],
                          env=subprocess_env(), capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, -9), proc.stderr
    recover(target)  # what the next run does first
    assert (target / "payload.txt").read_text() in ("old", "new")
    assert results.read_marker(target)["experiment"] == "exp"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["exp"]  # leftovers gone


def test_read_only_check_leaves_leftovers_for_the_writer_to_repair(tmp_path):
    """Every process of a multi-process run checks read-only; only the writer (process 0) repairs."""
    target = tmp_path / "exp"
    with staged(target, "exp") as stage:
        (stage / "payload.txt").write_text("old")
    moved = tmp_path / ".jaxrnn-old-exp-999999999-killed"  # a killed run's moved-away folder (dead pid)
    target.rename(moved)
    assert check_outdir(target, "exp", repair=False) == target
    assert moved.exists() and not target.exists()  # untouched
    assert check_outdir(target, "exp") == target
    assert (target / "payload.txt").read_text() == "old" and not moved.exists()


# --- nothing non-finite becomes a verdict --------------------------------------------------------------

def _fake_study(estimate=1.0, key_number="1.0", verdict="confirmed"):
    import dataclasses

    @dataclasses.dataclass(frozen=True)
    class Config(StudyConfig):
        steps: int = field(3, "steps", at_least(1))

        @classmethod
        def quick(cls):
            return cls(steps=1)

    def compute(config):
        ds = Dataset()
        ds.add_axis("i", np.arange(3))
        ds.add("x", ("i",), np.array([estimate] * 3))
        claim = {"verdict": verdict, "rule": "r", "key_number": key_number, "evidence": "e",
                 "effects": [{"name": "x", "estimate": estimate, "ci95": [estimate - 1, estimate + 1], "n": 3,
                              "unit": "u"}]}
        if verdict == "invalid":
            claim["invalid_reason"] = "training diverged: final loss 1.5e6 > initial loss 1.6"
        return ds, {"claims": {"C0": claim}}

    return runner.Study("fake", "a fake study", Config, compute, lambda ds, s, folder: [])


@pytest.mark.parametrize("kwargs,reason", [
    ({"estimate": float("nan")}, "nan"),
    ({"key_number": "NLL nan"}, "NLL nan"),
    ({"estimate": float("inf")}, "inf"),
    ({"verdict": "invalid"}, "diverged"),
])
def test_non_finite_or_diverged_numbers_give_invalid_and_keep_old_results(tmp_path, capsys, kwargs, reason):
    out = tmp_path / "fake"
    assert runner.main(_fake_study(), ["--outdir", str(out)]) == 0
    old = (out / "summary.json").read_text()
    capsys.readouterr()
    assert runner.main(_fake_study(**kwargs), ["--outdir", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "C0 invalid" in err[0] and reason in err[0], err
    assert (out / "summary.json").read_text() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fake"]


def test_an_infinite_interval_of_one_replicate_is_not_invalid():
    summary = {"claims": {"C0": {"verdict": "inconclusive", "key_number": "x",
                                 "effects": [{"name": "x", "estimate": 1.0, "ci95": [float("-inf"), float("inf")],
                                              "n": 1, "unit": "u"}]}}}
    assert runner.check_claims(summary) == []
    assert summary["claims"]["C0"]["verdict"] == "inconclusive"
