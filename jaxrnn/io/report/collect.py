"""Reading the results the report publishes, safely.

- Only the studies the report knows (``content.STUDIES``) are read, each from its own folder; a claim is
  taken only from the study that settles it (``content.CLAIM_STUDY``). A folder such as
  ``gradient_decay_backup_old/`` is never read.
- A study folder must carry the suite's marker naming that study; otherwise it is skipped with a note.
- A truncated or malformed ``summary.json`` stops the report with one line naming the file
  (:class:`ReportError`).
- Every claim is re-checked before it is published: a verdict outside ``stats.VERDICTS``, an effect
  without a finite estimate, an interval that does not hold its estimate, or an n below 1 makes the
  claim ``invalid`` with the reason.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
from pathlib import Path

from jaxrnn import stats
from jaxrnn.io import results
from jaxrnn.io.report import content

TEXT_FIELDS = ("takeaway", "what_was_run", "caveats")


class ReportError(ValueError):
    """A problem that stops the report: one line, naming the file or folder."""


@dataclasses.dataclass
class Collected:
    claims: dict  # claim id -> claim (re-checked), with "study"
    summaries: dict  # study -> summary
    figures: dict  # study -> set of figure files that exist
    runs: dict  # study -> {"device", "wall_time_s", "commit"}
    notes: list  # one line per thing skipped or repaired


def _number(x) -> float:
    """A JSON number, or the strings the suite writes for non-finite ones ("nan", "inf"); NaN otherwise."""
    if isinstance(x, bool) or x is None:
        return math.nan
    try:
        return float(x)
    except (TypeError, ValueError):
        return math.nan


def load_json(path: Path) -> dict:
    try:
        text = Path(path).read_text()
    except OSError as err:
        raise ReportError(f"{path}: cannot read ({err.strerror or err})") from None
    try:
        obj = json.loads(text)
    except ValueError as err:
        raise ReportError(f"{path}: malformed or truncated JSON ({err.msg} at line {err.lineno})") from None
    if not isinstance(obj, dict):
        raise ReportError(f"{path}: expected a JSON object, found {type(obj).__name__}")
    return obj


def recheck(claim: dict) -> dict:
    """A copy of ``claim`` whose verdict is ``invalid`` (with ``invalid_reason``) if any of its numbers is
    unusable; otherwise the claim as it was."""
    claim = copy.deepcopy(claim)
    reasons = []
    verdict = claim.get("verdict")
    if verdict not in stats.VERDICTS:
        reasons.append(f"unknown verdict {verdict!r}")
    effects = claim.get("effects")
    if effects is not None and not isinstance(effects, list):
        reasons.append("effects is not a list")
        effects = []
    for i, e in enumerate(effects or []):
        if not isinstance(e, dict):
            reasons.append(f"effect {i} is not an object")
            continue
        name = e.get("name", f"effect {i}")
        est = _number(e.get("estimate"))
        ci = e.get("ci95")
        lo, hi = (_number(ci[0]), _number(ci[1])) if isinstance(ci, list) and len(ci) == 2 else (math.nan, math.nan)
        n = e.get("n")
        if not math.isfinite(est):
            reasons.append(f"{name}: estimate {e.get('estimate')!r} is not a finite number")
        elif math.isnan(lo) or math.isnan(hi):
            reasons.append(f"{name}: interval {ci!r} is not two numbers")
        elif not lo <= est <= hi:
            reasons.append(f"{name}: interval [{lo:g}, {hi:g}] does not hold the estimate {est:g}")
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            reasons.append(f"{name}: n = {n!r} is not a positive count")
    if verdict == "invalid" and not claim.get("invalid_reason"):
        reasons.insert(0, "the study marked it invalid")
    if reasons:
        if verdict != "invalid" or not claim.get("invalid_reason"):
            claim["invalid_reason"] = "; ".join(reasons)
        claim["verdict"] = "invalid"
    return claim


def _run_facts(folder: Path) -> dict:
    try:
        meta = load_json(folder / "config.json")
    except ReportError:
        return {"device": "?", "wall_time_s": None, "commit": "?"}
    env = meta.get("environment") if isinstance(meta.get("environment"), dict) else {}
    return {"device": f"{env.get('device_kind', '?')} x{env.get('device_count', '?')} ({env.get('platform', '?')})",
            "wall_time_s": meta.get("wall_time_s"), "commit": str(env.get("git_commit", "?"))[:12]}


def collect(results_dir: Path) -> Collected:
    """Read every known study under ``results_dir``; see the module's docstring for what is refused."""
    results_dir = Path(results_dir)
    out = Collected({}, {}, {}, {}, [])
    for study in content.STUDIES:
        folder = results_dir / study
        path = folder / "summary.json"
        if not path.is_file():
            continue
        owner = results.read_marker(folder)
        if owner is None or owner.get("experiment") != study:
            out.notes.append(f"{folder}: skipped, not the suite's results of {study} (no matching marker)")
            continue
        summary = load_json(path)
        out.summaries[study] = summary
        figs = summary.get("figures") if isinstance(summary.get("figures"), list) else []
        out.figures[study] = {f for f in figs if isinstance(f, str) and "/" not in f and (folder / f).is_file()}
        out.runs[study] = _run_facts(folder)
        claims = summary.get("claims", {})
        if not isinstance(claims, dict):
            raise ReportError(f"{path}: 'claims' is not an object")
        for cid, claim in claims.items():
            if content.CLAIM_STUDY.get(cid) != study:
                out.notes.append(f"{path}: claim {cid} ignored (it belongs to {content.CLAIM_STUDY.get(cid)})")
                continue
            if not isinstance(claim, dict):
                raise ReportError(f"{path}: claim {cid} is not an object")
            checked = recheck(claim)
            if checked["verdict"] == "invalid" and claim.get("verdict") != "invalid":
                out.notes.append(f"{path}: {cid} published as invalid: {checked['invalid_reason']}")
            out.claims[cid] = dict(checked, study=study)
    return out


def figure_exists(results_dir: Path, rel: str) -> bool:
    return bool(rel) and (Path(results_dir) / rel).is_file()


def bench(results_dir: Path) -> dict:
    """The speed files of ``make bench`` that the report quotes (absent ones are left out)."""
    folder = Path(results_dir) / "bench"
    out = {}
    for name in ("wall_times.json", "compilations.json", "gpu_check_gpu.json"):
        if (folder / name).is_file():
            try:
                out[name] = load_json(folder / name)
            except ReportError as err:  # speed is not a claim: a broken file is named, not fatal
                out[name] = {"error": str(err)}
    return out


def gpu(results_dir: Path) -> Collected | None:
    """The studies run on an accelerator (``results_dir/gpu``, and the ``paper`` presets under
    ``results_dir/gpu/paper``, whose claims are keyed ``"<id> (paper preset)"``), or None when there are none."""
    folder = Path(results_dir) / "gpu"
    if not folder.is_dir():
        return None
    got = collect(folder)
    if (folder / "paper").is_dir():
        paper = collect(folder / "paper")
        got.notes.extend(paper.notes)
        for study, summary in paper.summaries.items():
            got.summaries[f"paper/{study}"] = summary
            got.runs[f"paper/{study}"] = paper.runs[study]
        for cid, claim in paper.claims.items():
            got.claims[f"{cid} (paper preset)"] = dict(claim, study=f"paper/{claim['study']}")
    return got if got.summaries else None
