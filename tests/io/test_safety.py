"""Issue 20: no data lost between the check and the swap, divergence caught, every in-range value runs.

One test (or more) per numbered case of the issue, each reproducing the case first.
"""

import dataclasses
import errno
import json
import os
import signal
import subprocess
import sys
import textwrap
import warnings
from pathlib import Path

import numpy as np
import pytest

from experiments import sweep
from experiments.sweep import STUDIES
from jaxrnn.io import results, runner
from jaxrnn.io.config import OneLineError, StudyConfig, at_least, field, parse_args
from jaxrnn.io.results import Dataset, OutdirError, PublishRefused, check_outdir, recover, staged
from jaxrnn.models import divergence
from tests.conftest import subprocess_env


def _study(compute_hook=None, name="fake", payload=None, cost=None):
    """A tiny study: ``compute_hook(config)`` runs inside compute (to race, warn, diverge, sleep ...)."""

    @dataclasses.dataclass(frozen=True)
    class Config(StudyConfig):
        steps: int = field(3, "steps", at_least(1))

        @classmethod
        def quick(cls):
            return cls(steps=1)

    def compute(config):
        if compute_hook is not None:
            compute_hook(config)
        ds = Dataset()
        ds.add_axis("i", np.arange(3))
        ds.add("x", ("i",), np.arange(3.0))
        claim = {"verdict": "confirmed", "rule": "r", "key_number": str(config.steps), "evidence": "e",
                 "effects": [{"name": "x", "estimate": 1.0, "ci95": [0.0, 2.0], "n": 3, "unit": "u"}]}
        out = (ds, {"claims": {"C0": claim}})
        return out + (payload,) if payload is not None else out

    return runner.Study(name, "a fake study", Config, compute, lambda ds, s, folder: [], cost)


def _one_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def _listing(folder: Path) -> list[str]:
    return sorted(p.name for p in Path(folder).iterdir())


# --- 1. a folder appears, or is replaced, between the check and the swap -----------------------------------

def test_a_folder_created_during_the_run_is_kept_and_the_new_results_set_aside(tmp_path, capsys):
    target = tmp_path / "proj"

    def user_makes_the_folder(config):
        target.mkdir()
        (target / "thesis.tex").write_text("hi")

    assert runner.main(_study(user_makes_the_folder), ["--outdir", str(target)]) == 1
    line = _one_line(capsys)
    assert "appeared during the run" in line and "nothing there was replaced" in line
    kept = tmp_path / f"proj.jaxrnn-unpublished-{os.getpid()}"
    assert str(kept) in line
    assert (target / "thesis.tex").read_text() == "hi" and _listing(target) == ["thesis.tex"]
    assert results.read_marker(kept)["experiment"] == "fake" and (kept / "summary.json").exists()
    assert _listing(tmp_path) == ["proj", kept.name]  # no staging, no lock file left


def test_a_file_created_at_the_path_during_the_run_is_kept(tmp_path, capsys):
    target = tmp_path / "proj"
    assert runner.main(_study(lambda c: target.write_text("mine")), ["--outdir", str(target)]) == 1
    assert "appeared during the run" in _one_line(capsys)
    assert target.read_text() == "mine"


def test_a_suite_folder_replaced_during_the_run_is_not_swapped_out(tmp_path, capsys):
    target = tmp_path / "exp"
    assert runner.main(_study(name="exp"), ["--outdir", str(target)]) == 0

    def replace_it(config):  # another copy of the suite's folder, with its own token
        os.rename(target, tmp_path / "moved")
        with staged(target, "exp") as stage:
            (stage / "summary.json").write_text("{}")

    capsys.readouterr()
    assert runner.main(_study(replace_it, name="exp"), ["--outdir", str(target)]) == 1
    assert "was replaced or removed during the run" in _one_line(capsys)
    assert (target / "summary.json").read_text() == "{}"


def test_publish_never_replaces_an_unexpected_target(tmp_path):
    target = tmp_path / "t"
    with pytest.raises(PublishRefused):
        with staged(target, "exp", expected=None) as stage:
            (stage / "data.npz").write_text("new")
            target.mkdir()  # empty: a plain rename would silently replace it
    assert _listing(target) == [] and (tmp_path / f"t.jaxrnn-unpublished-{os.getpid()}" / "data.npz").exists()


# --- 2. a file the suite did not write inside its own folder ----------------------------------------------

def test_a_users_file_inside_the_suites_folder_stops_the_run_before_computing(tmp_path, capsys):
    target = tmp_path / "gd"
    assert runner.main(_study(name="gd"), ["--outdir", str(target)]) == 0
    (target / "notes.md").write_text("notes")
    computed = []
    capsys.readouterr()
    assert runner.main(_study(computed.append, name="gd"), ["--outdir", str(target)]) == 2
    line = _one_line(capsys)
    assert str(target / "notes.md") in line and "not written by jaxrnn" in line
    assert computed == [] and (target / "notes.md").read_text() == "notes"


def test_a_users_file_added_during_the_run_is_kept(tmp_path, capsys):
    target = tmp_path / "gd"
    assert runner.main(_study(name="gd"), ["--outdir", str(target)]) == 0
    capsys.readouterr()
    assert runner.main(_study(lambda c: (target / "notes.md").write_text("n"), name="gd"),
                       ["--outdir", str(target)]) == 1
    assert "notes.md" in _one_line(capsys)
    assert (target / "notes.md").read_text() == "n"


def test_the_suites_own_files_are_not_foreign(tmp_path):
    target = tmp_path / "gd"
    assert runner.main(_study(name="gd", payload={"params.npz": {"w": np.zeros(2)}}),
                       ["--outdir", str(target)]) == 0
    assert results.foreign_files(target) == []
    assert sorted(results.read_marker(target)["files"]) == ["config.json", "data.npz", "params.npz", "summary.json"]


# --- 3. two runs into one folder ---------------------------------------------------------------------------

@pytest.mark.parametrize("second", ["fake", "other"], ids=["same-experiment", "different-experiment"])
def test_a_second_run_into_a_locked_path_is_refused_in_one_line(tmp_path, capsys, second):
    target = tmp_path / "proj"
    computed = []
    with results.lock(target):  # the first run, mid-way
        assert runner.main(_study(computed.append, name=second), ["--outdir", str(target)]) == 2
    line = _one_line(capsys)
    assert "another jaxrnn run is writing" in line and computed == []
    assert _listing(tmp_path) == []  # the lock file goes with its holder
    assert runner.main(_study(name=second), ["--outdir", str(target)]) == 0  # free again


def test_two_processes_on_one_path_one_is_refused(tmp_path):
    script = textwrap.dedent("""
        import sys, time
        from jaxrnn.io import results
        with results.lock(sys.argv[1]):
            print("locked", flush=True)
            time.sleep(60)
    """)
    holder = subprocess.Popen([sys.executable, "-c", script, str(tmp_path / "p")], stdout=subprocess.PIPE,
                              env=subprocess_env(), text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(OutdirError, match="another jaxrnn run"):
            with results.lock(tmp_path / "p"):
                pass
    finally:
        holder.kill()
        holder.communicate()
    with results.lock(tmp_path / "p"):  # a killed holder's lock is released by the kernel
        pass


# --- 4. divergence: one rule, every loop ----------------------------------------------------------------

def test_the_divergence_rule_on_known_curves():
    loss = np.array([[1.0, 0.5, 0.4],          # learns
                     [1.0, 3.0, 2.0],          # ends at exactly 2 x: not diverged
                     [1.0, 3.0, 2.0001],       # just above 2 x
                     [1.0, np.inf, 0.1],       # a non-finite point, even if it comes back
                     [1.0, np.nan, 0.1]])
    assert divergence.diverged(loss, 1.0).tolist() == [False, False, True, True, True]
    assert divergence.diverged(loss, np.array([1.0, 1.0, 1.1, 1.0, 1.0])).tolist()[2] is False
    # the final loss is the mean of the last window
    assert divergence.diverged(np.array([[1.0, 1.0, 1.5, 3.0]]), 1.0, final_window=2).tolist() == [True]
    with divergence.watch() as found:
        divergence.report("loop", loss, 1.0, measured=np.array([0, 0, 1, 1, 1], bool))
        assert found == []
        divergence.report("loop", loss, 1.0, labels=["a", "b", "c", "d", "e"])
    assert len(found) == 1 and "loop run c" in found[0] and "2" in found[0] and "3 of 5" in found[0]


def test_a_diverged_run_is_invalid_old_results_kept(tmp_path, capsys):
    target = tmp_path / "fake"
    assert runner.main(_study(), ["--outdir", str(target)]) == 0
    old = (target / "summary.json").read_text()
    hook = lambda c: divergence.report("fake loop", np.array([[2.0, 50.0]]), 2.0)  # noqa: E731
    capsys.readouterr()
    assert runner.main(_study(hook), ["--outdir", str(target)]) == 1
    line = _one_line(capsys)
    assert "training diverged in fake loop run 0" in line and "50" in line and "earlier results left" in line
    assert (target / "summary.json").read_text() == old and _listing(tmp_path) == ["fake"]


def test_train_grid_applies_the_rule_and_sets_measured_rows_aside():
    """The clipping case (--sgd-lr 100 --adam-lr 100): Adam at lr 100 blows the loss far above its start."""
    import jax

    from jaxrnn.models import train

    rows = {"method": np.array([2, 0], np.int32), "tau": np.float32([1.0, 1.0]), "opt": np.array([1, 0], np.int32),
            "lr": np.float32([100.0, 1e-3]), "radius": np.float32([3.0, 0.8]), "seed": np.array([0, 1], np.int32)}
    kw = dict(task="addition", n=4, length_min=6, length_max=6, batch=8, steps=40, checks=2, n_eval=8,
              eval_key=jax.random.key(0), chunk_rows=2)
    with divergence.watch() as found:
        train.train_grid(rows, **kw)
    assert len(found) == 1 and "1 of 2 runs" in found[0] and "train_grid(addition) run 0" in found[0]
    with divergence.watch() as found:
        train.train_grid(rows, measured=np.array([True, False]), **kw)
    assert found == []


def test_the_lm_loops_apply_the_rule():
    """The decoding (--gru-lr 10) and teacher_forcing (every learning rate 1) cases, on tiny models."""
    import jax

    from jaxrnn.studies.decoding import compute as dc

    vocab, n_seq, length = 5, 16, 6
    tokens = np.random.default_rng(0).integers(0, vocab, (2, n_seq, length)).astype(np.int32)
    lens = np.full((2, n_seq), length, np.int32)
    for lr, bad in ((10.0, True), (1e-2, False)):
        _, losses = dc.train_models(tokens, lens, jax.random.key(0), np.float32(lr), vocab=vocab, n=8, d=4,
                                    steps=60, batch=8)
        with divergence.watch() as found:
            divergence.report("decoding GRU", np.asarray(losses), divergence.uniform_loss(vocab))
        assert bool(found) is bad, (lr, np.asarray(losses)[:, [0, -1]])


# --- 6. values the help allows run -------------------------------------------------------------------------

@pytest.mark.parametrize("argv", [
    ["--t-max", "1", "--wb-lengths", "1"],
    ["--w-min", "-1000", "--w-max", "1000"],
    ["--h0-values", "1000"],
], ids=["T=1", "w-range-1000", "h0-1000"])
def test_gradient_decay_in_range_values_run(tmp_path, argv, capsys):
    assert runner.main(STUDIES["gradient_decay"], ["--quick", *argv, "--outdir", str(tmp_path / "o")]) == 0
    assert (tmp_path / "o" / "summary.json").exists()


def test_spectral_with_one_length_runs(tmp_path):
    with warnings.catch_warnings():  # the claims' slope over one point is NaN (reported, not a verdict)
        warnings.simplefilter("ignore", RuntimeWarning)
        assert runner.main(STUDIES["spectral"], ["--quick", "--t-max", "1", "--outdir", str(tmp_path / "o")]) == 0


def test_scan_read_off_with_no_steps():
    import jax.numpy as jnp

    from jaxrnn.core.unroll import scan_read_off

    carry, out = scan_read_off(lambda c, x: c + x, jnp.float32(1.0), jnp.zeros((0,)), jnp.array([-1]), lambda c: c)
    assert float(carry) == 1.0 and out.tolist() == [1.0]


# --- 7. what cannot fit is refused up front, long runs warned ----------------------------------------------

@pytest.mark.parametrize("name,argv", [
    ("clipping", ["--quick", "--dims", "1048576", "--n-grad-samples", "65536"]),
    ("gradient_decay", ["--n-w", "100000", "--t-max", "100000"]),
])
def test_an_oversize_config_is_refused_with_its_estimate(tmp_path, capsys, name, argv):
    assert runner.main(STUDIES[name], [*argv, "--outdir", str(tmp_path / "o")]) == 2
    line = _one_line(capsys)
    assert "GiB of memory" in line and "available" in line
    assert _listing(tmp_path) == []


def test_a_long_config_is_warned(tmp_path, capsys):
    study = _study(cost=lambda c: runner.Cost(1.0, 10 * runner.WARN_SECONDS))
    assert runner.main(study, ["--outdir", str(tmp_path / "o")]) == 0
    out = capsys.readouterr().out
    assert "warning: estimated 100 min" in out
    cfg = STUDIES["threshold_rnns"].config.quick().replace(exhaustive_length_1=26, exhaustive_length_2=13)
    assert STUDIES["threshold_rnns"].cost(cfg).seconds > runner.WARN_SECONDS


@pytest.mark.parametrize("name", sorted(STUDIES))
def test_defaults_quick_and_presets_are_not_refused_nor_warned(name):
    """Every study has an estimate; its default and quick configs fit in 4 GiB and 10 min; its presets (the
    `paper` ones are meant for an accelerator and may be warned about on a CPU) fit in the 24 GiB of the
    project's reference machine, so they are never refused there."""
    study, cls = STUDIES[name], STUDIES[name].config
    for make in [cls.default, cls.quick]:
        cost = study.cost(make())
        assert cost.seconds < runner.WARN_SECONDS and cost.memory_bytes < 4 * 2 ** 30, (make, cost)
    for make in [getattr(cls, p) for p in cls.PRESETS]:
        assert study.cost(make()).memory_bytes < 24 * 2 ** 30, make


# --- 8. Ctrl-C and a full disk: one line, old results kept, staging removed --------------------------------

SLOW_RUN = textwrap.dedent("""
    import signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)  # a terminal's Ctrl-C, even under a background job
    sys.path.insert(0, sys.argv[2])
    from tests.io.test_safety import _study
    from jaxrnn.io import runner
    def hook(config):
        print("computing", flush=True)
        time.sleep(60)
    sys.exit(runner.main(_study(hook, name="exp"), ["--outdir", sys.argv[1]]))
""")


def test_ctrl_c_is_one_line_and_exit_130(tmp_path):
    target = tmp_path / "exp"
    assert runner.main(_study(name="exp"), ["--outdir", str(target)]) == 0
    old = (target / "summary.json").read_text()
    root = str(Path(__file__).resolve().parents[2])
    proc = subprocess.Popen([sys.executable, "-c", SLOW_RUN, str(target), root], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=subprocess_env())
    assert proc.stdout.readline().strip() == "computing"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.strip().splitlines() == ["python -m experiments.exp: error: interrupted (Ctrl-C); nothing published, "
                                        "earlier results left in place"]
    assert (target / "summary.json").read_text() == old and _listing(tmp_path) == ["exp"]


def _tmpfs(folder, options: str, what: str):
    """Mount a tmpfs with ``options`` on a new ``folder``, or skip the test saying why."""
    folder.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                      capture_output=True).returncode != 0:
        pytest.skip(f"cannot mount {what} here (needs root and mount permission)")
    return folder


def test_a_full_disk_is_one_line_and_exit_1(tmp_path, capsys):
    small = _tmpfs(tmp_path / "small", "size=512k", "a small tmpfs")
    try:
        target = small / "exp"
        assert runner.main(_study(name="exp"), ["--outdir", str(target)]) == 0
        old = (target / "summary.json").read_text()
        big = {"big.npz": {"x": np.random.default_rng(0).random(2 ** 18)}}  # 2 MiB: does not fit
        capsys.readouterr()
        assert runner.main(_study(name="exp", payload=big), ["--outdir", str(target)]) == 1
        assert "No space left on device" in _one_line(capsys)
        assert (target / "summary.json").read_text() == old and _listing(small) == ["exp"]
    finally:
        subprocess.run(["umount", str(small)], check=True)


def test_a_write_error_is_one_line(tmp_path, capsys, monkeypatch):
    """Where no tmpfs can be mounted, the same path through a simulated full disk."""
    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(results.Dataset, "save", full)
    assert runner.main(_study(), ["--outdir", str(tmp_path / "o")]) == 1
    assert "No space left on device" in _one_line(capsys)
    assert _listing(tmp_path) == []


# --- 9. writability decided by trying -------------------------------------------------------------------

@pytest.mark.parametrize("place", ["/proc/x", "/sys/x"])
def test_proc_and_sys_are_refused_before_computing(place, capsys):
    computed = []
    assert runner.main(_study(computed.append), ["--outdir", place]) == 2
    assert "cannot write in" in _one_line(capsys) and computed == []


def test_a_read_only_place_is_refused_before_computing(tmp_path, capsys):
    ro = _tmpfs(tmp_path / "ro", "ro,size=64k", "a read-only tmpfs")
    try:
        assert runner.main(_study(), ["--outdir", str(ro / "x")]) == 2
        assert "Read-only file system" in _one_line(capsys)
    finally:
        subprocess.run(["umount", str(ro)], check=True)


def test_a_chmod_000_folder_is_refused_unless_writable(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0)
    try:
        writable = results._probe(locked) is None  # root may write anyway: then the run may too
        if writable:
            assert check_outdir(locked / "x", "exp") == locked / "x"
        else:
            with pytest.raises(OutdirError, match="cannot write in"):
                check_outdir(locked / "x", "exp")
    finally:
        locked.chmod(0o755)


# --- 10. a kill in either narrow window is cleaned by the next run ------------------------------------------

WINDOW_KILL = textwrap.dedent("""
    import os, signal, sys
    from pathlib import Path
    from jaxrnn.io import results
    target, point = Path(sys.argv[1]), sys.argv[2]
    def die():
        os.kill(os.getpid(), signal.SIGKILL)
    if point == "before-stage-marker":          # between creating the staging folder and writing its marker
        results.write_marker = lambda *a, **k: die()
    else:                                      # after the old folder's marker is removed, before the folder
        real = results.shutil.rmtree
        def rmtree(p, *a, **k):
            os.unlink(Path(p) / results.MARKER)
            die()
        results.shutil.rmtree = rmtree
        results._exchange = lambda a, b: False  # the moved-away old folder carries the .jaxrnn-old- name
    with results.staged(target, "exp") as stage:
        (stage / "payload.txt").write_text("new")
""")


@pytest.mark.parametrize("point", ["before-stage-marker", "old-marker-removed"])
def test_a_kill_in_either_window_is_cleaned_by_the_next_run(tmp_path, point):
    target = tmp_path / "exp"
    with staged(target, "exp") as stage:
        (stage / "payload.txt").write_text("old")
    proc = subprocess.run([sys.executable, "-c", WINDOW_KILL, str(target), point], env=subprocess_env(),
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    leftovers = [n for n in _listing(tmp_path) if n != "exp"]
    assert len(leftovers) == 1 and results.read_marker(tmp_path / leftovers[0]) is None  # the window
    recover(target)
    assert _listing(tmp_path) == ["exp"]
    assert (target / "payload.txt").read_text() == ("old" if point == "before-stage-marker" else "new")


def test_under_the_lock_a_leftover_of_a_live_pid_is_a_dead_runs(tmp_path):
    """A recycled pid cannot keep a leftover alive: holding the lock, every other leftover is stale."""
    leftover = tmp_path / f".jaxrnn-stage-exp-{os.getppid()}-abc"
    leftover.mkdir()
    recover(tmp_path / "exp")
    assert leftover.exists()  # the parent process is alive: left alone without the lock
    recover(tmp_path / "exp", locked=True)
    assert not leftover.exists()


# --- the command line: accepted silently no more ------------------------------------------------------------

@pytest.mark.parametrize("argv,flag", [
    (["--t-max", "10", "--t-max", "20"], "--t-max"),
    (["--quick", "--quick"], "--quick"),
    (["--w-min=-3", "--w-min", "-2"], "--w-min"),
])
def test_a_flag_given_twice_is_an_error(argv, flag):
    with pytest.raises(OneLineError, match=f"^{flag}: given more than once"):
        parse_args(STUDIES["gradient_decay"].config, argv, "p")


@pytest.mark.parametrize("argv", [["--t-max", "1_0"], ["--w-min", "1_0"], ["--nudge-ws", "1_0"],
                                  ["--w-min", "١"]])
def test_numbers_parse_alike_for_every_type(argv):
    with pytest.raises(Exception, match="cannot read"):
        parse_args(STUDIES["gradient_decay"].config, argv, "p")


def test_list_values_must_differ_and_the_help_says_so():
    decay = STUDIES["gradient_decay"].config
    with pytest.raises(Exception, match="^--wb-lengths: values must all differ, got 10 more than once"):
        parse_args(decay, ["--wb-lengths", "10,10"], "p")
    assert "all different" in runner_help("gradient_decay")
    tf = STUDIES["teacher_forcing"].config  # one learning rate per regime: repeats allowed, and said
    assert parse_args(tf, ["--lr-source", "0.1,0.1,0.1,0.1,0.1"], "p").config.lr_source == (0.1,) * 5


def runner_help(name) -> str:
    from jaxrnn.io.config import build_parser

    return build_parser(STUDIES[name].config, "p", "").format_help()


def test_help_and_messages_print_bounds_exactly():
    text = " ".join(runner_help("clipping").split())
    assert "<= 16777216" in text and "1.67772e+07" not in text
    assert ">= 0.001" in text or ">= 1e-06" in text
    spectral = STUDIES["spectral"].config
    chunk = next(f for f in dataclasses.fields(spectral) if f.name == "chunk_size")
    bound = chunk.metadata["check"].text
    with pytest.raises(Exception) as err:
        parse_args(spectral, ["--chunk-size", "1048577"], "p")
    assert bound in str(err.value) and "e+" not in bound


@pytest.mark.parametrize("argv,what", [
    (["--res", "x"], "unrecognized"),
    (["--on", "spectral"], "unrecognized"),
    (["--only", ""], "empty name"),
    (["--only", "spectral,"], "empty name"),
    (["--only", "gradient_decay,gradient_decay"], "more than once"),
    (["--only", "nope"], "unknown experiment(s) nope"),
    (["--quick", "--quick"], "given more than once"),
])
def test_sweep_takes_whole_flags_and_clean_only_lists(argv, what, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert sweep.main(argv) == 2
    assert what in _one_line(capsys)
    assert _listing(tmp_path) == []


def test_numpy_warnings_never_reach_a_one_line_ending(tmp_path, capsys):
    def warn_then_diverge(config):
        np.log(np.zeros(3))  # RuntimeWarning: divide by zero
        divergence.report("fake loop", np.array([[1.0, np.inf]]), 1.0)

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert runner.main(_study(warn_then_diverge), ["--outdir", str(tmp_path / "o")]) == 1
    assert "training diverged" in _one_line(capsys)


def test_an_invalid_line_says_the_reason(tmp_path, capsys):
    @dataclasses.dataclass(frozen=True)
    class Config(StudyConfig):
        steps: int = field(3, "steps", at_least(1))

    def compute(config):
        ds = Dataset()
        ds.add_axis("i", np.arange(1))
        return ds, {"claims": {"C0": {"verdict": "invalid", "caveats": ["the search hit --max-nodes"]}}}

    study = runner.Study("fake", "fake", Config, compute, lambda *a: [])
    assert runner.main(study, ["--outdir", str(tmp_path / "o")]) == 1
    line = _one_line(capsys)
    assert "the study marked it invalid" not in line and "max-nodes" in line


def test_the_marker_records_the_token_and_files(tmp_path):
    assert runner.main(_study(), ["--outdir", str(tmp_path / "o")]) == 0
    marker = json.loads((tmp_path / "o" / results.MARKER).read_text())
    assert len(marker["token"]) == 16 and "summary.json" in marker["files"]
