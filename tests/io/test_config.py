"""Configs declared once: every field of every study refuses bad input in one line, exit 2, nothing written."""

import dataclasses
import os
import subprocess
import sys
import typing

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments.sweep import STUDIES
from jaxrnn.io import runner
from jaxrnn.io.config import ANY, ConfigError, OneLineError, _element_type, describe, flag_name, parse_args
from tests.conftest import subprocess_env

FIELDS = [(name, f) for name, study in STUDIES.items() for f in dataclasses.fields(study.config)]


def _kind(study_name, f):
    return _element_type(typing.get_type_hints(STUDIES[study_name].config)[f.name])


def _text(kind, v) -> str:
    if typing.get_origin(kind) is tuple:
        return ",".join(map(str, v))
    return str(v)


def invalid_texts(study_name, f):
    """A strategy of command-line texts that field ``f`` must refuse: wrong type, non-finite, empty,
    and values outside its declared constraint (from the constraint itself)."""
    kind, is_tuple = _kind(study_name, f)
    check = f.metadata["check"]
    base = ["", "abc", "nan", "inf", "-inf", "1e999"] if kind is not str else [""]
    if kind is int:
        base.append("1.5")
        out_of_range = st.integers(-10**12, 10**12).filter(lambda v: not check.ok(v)).map(str)
    elif kind is float:
        out_of_range = st.floats(-1e30, 1e30, allow_nan=False).filter(lambda v: not check.ok(v)).map(repr)
    elif kind is str:
        out_of_range = st.text("abcxyz_", min_size=1, max_size=8).filter(lambda v: not check.ok(v))
    else:  # groups (tuples of tuples): refuse type errors only
        out_of_range = st.nothing()
    if check is ANY:
        out_of_range = st.nothing()
    single = st.one_of(st.sampled_from(base), out_of_range)
    if not is_tuple:
        return single
    if typing.get_origin(kind) is tuple:
        return st.sampled_from(["", "abc", "nan;nan", "1,2,3,4,5,6,7;", ";"])
    default = [_text(kind, v) for v in f.default]
    # one bad element among valid ones (empty text: the empty list)
    return st.tuples(single, st.integers(0, len(default))).map(
        lambda t: ",".join(default[:t[1]] + [t[0]] + default[t[1]:]) if t[0] else "")


@pytest.mark.parametrize("study_name,f", FIELDS, ids=[f"{s}:{f.name}" for s, f in FIELDS])
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_field_refuses_invalid_values(study_name, f, data, tmp_path, monkeypatch, capsys):
    text = data.draw(invalid_texts(study_name, f))
    study = STUDIES[study_name]
    monkeypatch.chdir(tmp_path)
    before = sorted(os.listdir(tmp_path))
    rc = runner.main(study, [f"{flag_name(f.name)}={text}"])
    err = capsys.readouterr().err.strip().splitlines()
    assert rc == 2, (text, err)
    assert len(err) == 1 and f"{flag_name(f.name)}:" in err[0], err
    assert sorted(os.listdir(tmp_path)) == before  # nothing written


@pytest.mark.parametrize("study_name,f", FIELDS, ids=[f"{s}:{f.name}" for s, f in FIELDS])
def test_every_field_is_settable_and_documented(study_name, f):
    """The default, written as a flag, parses back to itself; the help names meaning, range and default."""
    study = STUDIES[study_name]
    kind, is_tuple = _kind(study_name, f)
    if is_tuple and typing.get_origin(kind) is tuple:
        text = ";".join(",".join(map(str, item)) for item in f.default)
    elif is_tuple:
        text = ",".join(map(repr if kind is float else str, f.default))
    else:
        text = repr(f.default) if kind is float else str(f.default)
    config = parse_args(study.config, [f"{flag_name(f.name)}={text}"], "prog").config
    assert getattr(config, f.name) == f.default
    help_text = describe(study.config, f)
    assert f.metadata["help"] and "default" in help_text


@pytest.mark.parametrize("study_name", sorted(STUDIES))
def test_defaults_quick_and_presets_are_valid(study_name):
    cls = STUDIES[study_name].config
    for make in [cls.default, cls.quick] + [getattr(cls, p) for p in cls.PRESETS]:
        make().validate()


def test_negative_values_and_groups_parse():
    decay, clipping = STUDIES["gradient_decay"].config, STUDIES["clipping"].config
    cfg = parse_args(decay, ["--nudge-ws", "-8,6", "--w-min", "-3", "--w-max=-1"], "p").config
    assert cfg.nudge_ws == (-8.0, 6.0) and cfg.w_min == -3.0 and cfg.w_max == -1.0
    cfg = parse_args(clipping, ["--cliff-starts=9,-5;12,-6.5"], "p").config
    assert cfg.cliff_starts == ((9.0, -5.0), (12.0, -6.5))


def test_quick_with_preset_is_an_error():
    with pytest.raises(OneLineError, match="--quick"):
        parse_args(STUDIES["clipping"].config, ["--quick", "--preset", "paper"], "p")


def test_relations_name_the_right_flag():
    decay = STUDIES["gradient_decay"].config
    with pytest.raises(ConfigError, match="^--w-min: must be < --w-max"):
        parse_args(decay, ["--w-min", "3", "--w-max", "1"], "p")
    spectral = STUDIES["spectral"].config
    with pytest.raises(ConfigError, match="^--lambda-max:"):
        parse_args(spectral, ["--lambda-max", "inf"], "p")


@pytest.mark.parametrize("argv", [["--no-such-flag", "1"], ["--quick", "--preset", "paper"], ["--steps"]])
def test_command_line_errors_are_one_line(argv, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert runner.main(STUDIES["clipping"], argv) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    assert os.listdir(tmp_path) == []


def test_entry_point_reports_bad_input_in_one_line(tmp_path):
    out = subprocess.run([sys.executable, "-m", "experiments.gradient_decay", "--t-max", "0", "--outdir",
                          str(tmp_path / "o")], capture_output=True, text=True, env=subprocess_env(), timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "python -m experiments.gradient_decay: error: --t-max: must be >= 1 and <= 100000, got 0"]
    assert not (tmp_path / "o").exists()


def test_help_lists_meaning_range_and_default():
    out = subprocess.run([sys.executable, "-m", "experiments.spectral", "--help"], capture_output=True, text=True,
                         env=subprocess_env(), timeout=120)
    assert out.returncode == 0
    assert "largest lambda_1 of W" in out.stdout and "default 8.0" in out.stdout


def _default_text(study_name, f) -> str:
    kind, is_tuple = _kind(study_name, f)
    if is_tuple and typing.get_origin(kind) is tuple:
        return ";".join(",".join(map(str, item)) for item in f.default)
    if is_tuple:
        return ",".join(map(repr if kind is float else str, f.default))
    return repr(f.default) if kind is float else str(f.default)


def _is_numeric(kind) -> bool:
    if typing.get_origin(kind) is tuple:
        return all(a in (int, float) or a is Ellipsis for a in typing.get_args(kind))
    return kind in (int, float)


@pytest.mark.parametrize("study_name,f", FIELDS, ids=[f"{s}:{f.name}" for s, f in FIELDS])
def test_every_field_refuses_a_repeated_flag_and_1_0(study_name, f, tmp_path, monkeypatch, capsys):
    """A flag given twice (even with a valid value) and ``1_0`` in a number field: one line, exit 2,
    nothing written, for every field of every study (ints and floats read alike)."""
    study = STUDIES[study_name]
    monkeypatch.chdir(tmp_path)
    flag, text = flag_name(f.name), _default_text(study_name, f)
    assert runner.main(study, [f"{flag}={text}", f"{flag}={text}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{flag}: given more than once" in err[0], err
    kind, _ = _kind(study_name, f)
    if _is_numeric(kind):
        bad = "1_0" if typing.get_origin(kind) is not tuple else ",".join(["1_0"] * len(f.default[0]))
        assert runner.main(study, [f"{flag}={bad}"]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and f"{flag}: cannot read" in err[0], err
    assert os.listdir(tmp_path) == []
