"""Bad input: a one-line error naming the option, exit 2, nothing written."""

import subprocess
import sys

import pytest

from experiments import gradient_decay
from jaxrnn.cli import main
from tests.conftest import subprocess_env


@pytest.mark.parametrize("argv,option", [
    (["--t-max", "0"], "--t-max"),
    (["--n-w", "1"], "--n-w"),
    (["--w-min", "nan"], "--w-min"),
    (["--w-max", "inf"], "--w-max"),
    (["--activations", "relu"], "--activations"),
    (["--activations", ""], "--activations"),
    (["--h0-values", "0.5,nan"], "--h0-values"),
    (["--h0-values", ""], "--h0-values"),
    (["--nudges", "0.7"], "--nudges"),
    (["--wb-lengths", "5000"], "--wb-lengths"),
    (["--t-max", "ten"], "--t-max"),
])
def test_bad_option_gives_one_line_error(argv, option, tmp_path, capsys):
    out = tmp_path / "out"
    rc = main("gradient_decay", gradient_decay.Config, gradient_decay.run, argv + ["--outdir", str(out)])
    err = capsys.readouterr().err.strip()
    assert rc == 2
    assert len(err.splitlines()) == 1 and option in err, err
    assert not out.exists()


def test_entry_point_reports_bad_input_in_one_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "experiments.gradient_decay", "--t-max", "0", "--outdir",
                          str(tmp_path / "o")], capture_output=True, text=True, env=subprocess_env(), timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "python -m experiments.gradient_decay: error: --t-max: sequence length must be >= 1, got 0"]
    assert not (tmp_path / "o").exists()


def test_preset_and_overrides():
    from experiments import clipping
    from jaxrnn.cli import parse_config
    cfg, _ = parse_config(clipping.Config, ["--preset", "paper", "--seeds", "2"], "prog")
    assert cfg.length_addition == 100 and cfg.seeds == 2
    cfg, _ = parse_config(clipping.Config, ["--thresholds", "0.5,2"], "prog")
    assert cfg.thresholds == (0.5, 2.0) and cfg.length_addition == clipping.Config().length_addition
