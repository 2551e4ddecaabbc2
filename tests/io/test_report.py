"""The report generator: its refusals, its re-check of every claim, and the handout's shape.

Every report here is built into a temporary folder; nothing is written into ``results/``.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from jaxrnn import stats
from jaxrnn.io import report, results
from jaxrnn.io.report import collect, content, document

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "results"


def _claim(verdict="confirmed", estimate=0.5, ci=(0.4, 0.6), n=10, **extra):
    return {"verdict": verdict, "rule": "r", "key_number": "k", "evidence": "e", "conditions": "c",
            "figure": "gradient_decay/f.png", "test": "tests/t.py::t",
            "effects": [{"name": "effect one", "estimate": estimate, "ci95": list(ci), "n": n, "unit": "rate"}],
            **extra}


def _study(root: Path, name: str, claims: dict, marker: str | None = "same", figures=("f.png",)) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    if marker is not None:
        results.write_marker(folder, name if marker == "same" else marker)
    for f in figures:
        (folder / f).write_bytes(_PNG)
    results.write_json(folder / "summary.json", {"figures": list(figures), "claims": claims})
    return folder


# a 1x1 PNG
_PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000"
                     "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082")


@pytest.fixture
def root(tmp_path):
    r = tmp_path / "results"
    results.make_collection(r)
    return r


def _run(*args):
    """The command line, as a user runs it: (exit code, stdout, stderr)."""
    p = subprocess.run([sys.executable, "-m", "jaxrnn.io.report", *map(str, args)], capture_output=True, text=True,
                       cwd=ROOT, timeout=300)
    return p.returncode, p.stdout, p.stderr


# --- reading -----------------------------------------------------------------------------------------

def test_unknown_folder_never_replaces_a_known_study(root):
    _study(root, "gradient_decay", {"C2": _claim("confirmed")})
    _study(root, "gradient_decay_backup_old", {"C2": _claim("refuted"), "C3": _claim("refuted")})
    got = collect.collect(root)
    assert set(got.summaries) == {"gradient_decay"}
    assert got.claims["C2"]["verdict"] == "confirmed" and "C3" not in got.claims


def test_a_claim_is_taken_only_from_its_own_study(root):
    _study(root, "decoding", {"C2": _claim("refuted"), "C9": _claim("nuanced")})
    got = collect.collect(root)
    assert "C2" not in got.claims and got.claims["C9"]["verdict"] == "nuanced"
    assert any("C2 ignored" in n for n in got.notes)


def test_a_study_folder_without_the_suites_marker_is_skipped(root):
    _study(root, "gradient_decay", {"C2": _claim()}, marker=None)
    _study(root, "skip_connections", {"C4": _claim()}, marker="clipping")
    got = collect.collect(root)
    assert got.claims == {} and len(got.notes) == 2


@pytest.mark.parametrize("edit, reason", [
    (lambda c: c["effects"][0].update(estimate=float("nan")), "not a finite number"),
    (lambda c: c["effects"][0].update(estimate="nan"), "not a finite number"),
    (lambda c: c["effects"][0].update(estimate=float("inf")), "not a finite number"),
    (lambda c: c["effects"][0].update(ci95=[0.6, 0.9]), "does not hold the estimate"),
    (lambda c: c["effects"][0].update(ci95=[float("nan"), 0.9]), "not two numbers"),
    (lambda c: c["effects"][0].update(n=0), "not a positive count"),
    (lambda c: c.update(verdict="proven"), "unknown verdict"),
])
def test_recheck_turns_a_broken_claim_invalid(edit, reason):
    claim = _claim("confirmed")
    edit(claim)
    checked = collect.recheck(claim)
    assert checked["verdict"] == "invalid" and reason in checked["invalid_reason"]
    assert collect.recheck(_claim("confirmed"))["verdict"] == "confirmed"  # the twin: an intact claim stays


def test_a_nan_edited_into_summary_json_is_published_invalid(root, tmp_path):
    folder = _study(root, "gradient_decay", {"C2": _claim("confirmed")})
    text = (folder / "summary.json").read_text().replace('"estimate": 0.5', '"estimate": NaN')
    (folder / "summary.json").write_text(text)
    out = tmp_path / "out"
    code, _, err = _run(root, "--out", out)
    assert code == 0 and "C2 published as invalid" in err
    md = (out / "REPORT.md").read_text()
    row = next(line for line in md.splitlines() if "| C2 |" in line)
    assert "**invalid**" in row and "confirmed" not in row


@pytest.mark.parametrize("text", ['{"claims": {"C2": {"verdict": "conf', "", "[1, 2]", "{'claims': 1}",
                                  '{"claims": [1]}', '{"claims": {"C2": 3}}'])
def test_a_malformed_summary_is_named_in_one_line(root, tmp_path, text):
    folder = _study(root, "gradient_decay", {"C2": _claim()})
    (folder / "summary.json").write_text(text)
    code, out, err = _run(root, "--out", tmp_path / "out")
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and "gradient_decay/summary.json" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


# --- writing -----------------------------------------------------------------------------------------

def test_a_users_report_md_is_never_overwritten(root, tmp_path):
    _study(root, "gradient_decay", {"C2": _claim()})
    mine = root / "REPORT.md"
    mine.write_text("# my own notes\n")
    code, _, err = _run(root)
    assert code == 2 and "not written by this generator" in err and len(err.strip().splitlines()) == 1
    assert mine.read_text() == "# my own notes\n" and not (root / "report.html").exists()


def test_a_foreign_output_folder_is_refused(root, tmp_path):
    _study(root, "gradient_decay", {"C2": _claim()})
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "a.jpg").write_text("x")
    code, _, err = _run(root, "--out", foreign)
    assert code == 2 and "not written by jaxrnn" in err
    assert sorted(p.name for p in foreign.iterdir()) == ["a.jpg"]


def test_a_mistyped_folder_is_not_created(root, tmp_path):
    code, _, err = _run(tmp_path / "resuts")
    assert code == 2 and "no such results folder" in err and not (tmp_path / "resuts").exists()
    code, _, err = _run(root, "--out", tmp_path / "typo" / "out")
    assert code == 2 and "does not exist" in err and not (tmp_path / "typo").exists()
    plain = tmp_path / "plain"
    plain.mkdir()
    code, _, err = _run(plain)
    assert code == 2 and "not written by jaxrnn" in err and list(plain.iterdir()) == []


def test_writes_both_files_and_rewrites_its_own(root, tmp_path):
    _study(root, "gradient_decay", {"C2": _claim()})
    out = tmp_path / "out"
    for _ in range(2):  # the second run replaces the generator's own files
        code, stdout, _ = _run(root, "--out", out)
        assert code == 0 and "REPORT.md" in stdout
    assert sorted(p.name for p in out.iterdir()) == [".jaxrnn", "REPORT.md", "report.html"]
    assert results.read_marker(out) is not None


def test_no_staging_file_is_left_when_writing_fails(root, tmp_path, monkeypatch):
    _study(root, "gradient_decay", {"C2": _claim()})
    out = tmp_path / "out"
    report.write(root, out, log=lambda s: None)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(report.os, "replace", boom)
    with pytest.raises(OSError):
        report.write(root, out, log=lambda s: None)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before  # old files intact, no temp file left


# --- the handout -------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def committed(tmp_path_factory):
    if not any(RESULTS.glob("*/summary.json")):
        pytest.skip("no committed results/")
    out = tmp_path_factory.mktemp("committed") / "out"
    report.write(RESULTS, out, log=lambda s: None)
    return out


def test_handout_shape_on_the_committed_results(committed):
    md = (committed / "REPORT.md").read_text()
    assert max(len(line) for line in md.splitlines()) <= document.MAX_LINE
    front = document.front_matter(md)
    assert front != md and document.word_count(front) < 4000
    for cid in content.CLAIMS:
        assert re.search(rf"\| {cid} \|", front), cid
        assert f"### {cid}" in md  # its effects in Appendix A
    for part in content.PARTS:
        assert f"## {part['id']}. {part['title']}" in front
    assert " ".join(md.split()).count(" ".join(stats.RULE.split())) == 1  # the verdict rule once
    assert not re.search(r"(-?\d[\d.]*) \[\1, \1\]", md), "a zero-width interval is printed"
    numbers = [int(n) for n in re.findall(r"^\*Figure (\d+)\.", md, re.M)]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) >= 13
    for link in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md):
        assert (committed / link).is_file(), link
    assert "Appendix F. On an accelerator" in md


def test_exact_effects_state_counts():
    e = {"name": "points above the bound", "estimate": 0.0, "ci95": [0.0, 0.0], "n": 7171200, "unit": "points"}
    assert document.effect_value(e, exact=True) == "0 of 7,171,200 (exact count)"
    share = {"name": "s", "estimate": 0.0087787, "ci95": [0.0087787] * 2, "n": 64588, "unit": "share"}
    assert document.effect_value(share, exact=True) == "0.878 % of 64,588 grid points (exact)"
    dec = {"name": "d", "estimate": 74.5077, "ci95": [74.5077] * 2, "n": 41, "unit": "decades"}
    assert document.effect_value(dec, exact=True) == "74.5 (exact)"
    same = {"name": "d", "estimate": 0.0, "ci95": [0.0, 0.0], "n": 12, "unit": "rate difference"}
    assert document.effect_value(same, exact=False) == "0, the same in all 12 (no spread)"
    measured = {"name": "m", "estimate": 0.133, "ci95": [0.121, 0.145], "n": 10, "unit": "accuracy"}
    assert document.effect_value(measured, exact=False) == "0.133 [0.121, 0.145]"


def test_missing_text_fields_and_missing_studies_are_said(root, tmp_path):
    _study(root, "gradient_decay", {"C2": _claim()})
    md = report.render(root)
    assert document.MISSING_TEXT in md  # C2 has no takeaway here
    assert md.count(document.NOT_MEASURED) == len(content.CLAIMS) - 1
    assert "Not run on an accelerator yet" in md


def test_accelerator_section_is_filled_from_the_gpu_check(root):
    _study(root, "gradient_decay", {"C2": _claim()})
    bench = root / "bench"
    bench.mkdir()
    results.write_json(bench / "gpu_check_gpu.json", {
        "device": "NVIDIA H100", "budget_s": 720,
        "steps": [{"name": "sweep", "exit_code": 0, "wall_s": 61.5, "skipped": None, "outdir": "results/gpu"},
                  {"name": "tests", "exit_code": None, "wall_s": None, "skipped": "no time left", "outdir": None}]})
    results.make_collection(root / "gpu")
    _study(root / "gpu", "gradient_decay", {"C2": _claim("confirmed")})
    md = report.render(root)
    section = md.split("## Appendix F. On an accelerator", 1)[1]
    assert "NVIDIA H100" in section and "| sweep | 0 | 62 |" in section and "no time left" in section
    assert "| C2 | gradient_decay |" in section
    assert "paper preset" not in section  # no paper presets run: no such rows


def test_accelerator_section_lists_the_paper_presets(root):
    """The gpu check writes each study's `paper` preset to results/gpu/paper/<study>/ (experiments.gpu_check)."""
    _study(root, "gradient_decay", {"C2": _claim()})
    results.make_collection(root / "gpu")
    results.make_collection(root / "gpu" / "paper")
    _study(root / "gpu" / "paper", "gradient_decay", {"C2": _claim("refuted")})
    section = report.render(root).split("## Appendix F. On an accelerator", 1)[1]
    assert "| C2 (paper preset) | paper/gradient_decay |" in section and "refuted" in section


def test_try_it_commands_use_flags_the_studies_have():
    from jaxrnn.io.config import parse_args
    from experiments.sweep import STUDIES

    commands = [p["try"] for p in content.PARTS] + [content.BEYOND["try"]]
    for cmd in commands:
        words = cmd.split()
        assert words[:2] == ["python", "-m"] and words[2].startswith("experiments."), cmd
        study = STUDIES[words[2].split(".", 1)[1]]
        parse_args(study.config, words[3:], words[2], study.title)  # raises on an unknown or invalid flag


def test_every_formula_converts_to_mathml():
    from jaxrnn.io.report import page

    texts = [p.get(k) or "" for p in content.PARTS for k in ("model", "model_note", "sheet", "correct", "exercise")]
    texts += [d for p in content.PARTS for d in p.get("derivation", [])] + [content.BEYOND["model"]]
    texts += list(content.GLOSSARY.values())
    found = 0
    for text in texts:
        for m in page._MATH.finditer(text):
            found += 1
            out = page._mathml(m.group(1) or m.group(2), m.group(1) is not None)
            assert out.startswith("<math") and "\\" not in re.sub(r"<[^>]+>", "", out), m.group(0)
    assert found > 30


def test_glossary_defines_the_terms_the_issue_names():
    terms = " ".join(content.GLOSSARY).lower()
    for term in ("decade", "nats", "oracle", "counter-condition", "ftle", "product automaton", "pool rule",
                 "seed (a)", "random seeds"):
        assert term in terms, term


def test_readme_image_links_resolve():
    readme = (ROOT / "README.md").read_text()
    links = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", readme)
    assert links
    missing = [link for link in links if not (ROOT / link).is_file()]
    assert missing == [], missing


def test_odd_but_wellformed_fields_do_not_stop_the_report(root):
    folder = _study(root, "gradient_decay", {"C2": _claim(effects="none", caveats="one string", takeaway=3)})
    summary = json.loads((folder / "summary.json").read_text())
    results.write_json(folder / "summary.json", dict(summary, figures=7))
    md = report.render(root)
    row = next(line for line in md.splitlines() if "| C2 |" in line)
    assert "**invalid**" in row and document.MISSING_TEXT in row
