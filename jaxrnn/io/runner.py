"""One top-down runner for every study: validate once, compute, check, save, draw, report.

    experiments/<name>.py  ->  runner.main(STUDY)
      parse flags into the study's Config (one line and exit 2 on bad input, nothing written)
      -> check the output folder (the suite writes only into folders it created)
      -> study.compute(config) -> (Dataset, summary[, extra arrays])
      -> every claim checked for non-finite numbers (verdict ``invalid``: exit 1, nothing published)
      -> save into a staging folder, draw figures from the saved data, publish atomically
      -> print where it wrote and one line per claim

A study is a :class:`Study` value; the runner never imports a study.
"""

from __future__ import annotations

import math
import re
import sys
import time
from pathlib import Path
from typing import Any, Callable, NamedTuple

from jaxrnn.io import results
from jaxrnn.io.config import ConfigError, OneLineError, parse_args, print_error
from jaxrnn.io.runtime import configure_runtime, is_writer


class Study(NamedTuple):
    """What the runner needs of a study (each study's ``__init__`` defines ``STUDY``)."""

    name: str
    title: str  # one line: what it computes and which claims it settles
    config: type  # a StudyConfig dataclass
    compute: Callable[[Any], tuple]  # config -> (Dataset, summary[, {file name: arrays}])
    figures: Callable[[results.Dataset, dict, Path], list]  # (saved data, summary, folder) -> png names


class InvalidResult(RuntimeError):
    """A claim depends on a non-finite number or a diverged run: nothing is published."""


_NONFINITE_WORD = re.compile(r"(?<![\w.])[-+]?(nan|inf)(?![\w])", re.IGNORECASE)


def _nonfinite(value, path: str):
    """Paths of the non-finite numbers inside ``value`` (a claim's JSON-able contents)."""
    if isinstance(value, bool) or value is None:
        return
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _nonfinite(v, f"{path}.{k}")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _nonfinite(v, f"{path}[{i}]")
    elif isinstance(value, str):
        if _NONFINITE_WORD.search(value):
            yield f"{path} ({value!r})"
    else:
        try:
            number = float(value)
        except (TypeError, ValueError):
            return
        if not math.isfinite(number):
            yield f"{path} = {number}"


def check_claims(summary: dict) -> list[str]:
    """Mark every claim that depends on a non-finite number ``invalid``; return one line per invalid claim.

    Checked: each effect's estimate and interval (an infinite interval bound is allowed: it is the honest
    interval of one replicate), the key number and every other number of the claim. A study may itself set
    ``verdict: invalid`` with an ``invalid_reason`` (e.g. a diverged training run).
    """
    problems = []
    for cid, claim in summary.get("claims", {}).items():
        reasons = []
        for i, effect in enumerate(claim.get("effects", [])):
            for key in ("estimate", "ci95"):
                for bad in _nonfinite(effect.get(key), f"effects[{i}].{key}"):
                    if key == "ci95" and "nan" not in bad.lower():
                        continue
                    reasons.append(f"{effect.get('name', i)}: {bad}")
        rest = {k: v for k, v in claim.items() if k not in ("effects", "evidence", "rule", "conditions", "test",
                                                           "figure", "verdict", "invalid_reason")}
        reasons += list(_nonfinite(rest, cid))
        if claim.get("verdict") == "invalid":
            reasons.insert(0, claim.get("invalid_reason", "the study marked it invalid"))
        if reasons:
            claim["verdict"] = "invalid"
            claim["invalid_reason"] = "; ".join(reasons)
            problems.append(f"{cid} invalid: {reasons[0]}")
    return problems


def run(study: Study, config, outdir, *, log=print) -> dict:
    """Compute, check and publish one study into ``outdir``; return the saved summary.

    Raises ConfigError / results.OutdirError before computing, InvalidResult (nothing published) after.
    """
    config.validate()
    writer = is_writer()  # under jax.distributed every process computes; only process 0 writes
    target = results.check_outdir(outdir, study.name) if writer else None
    started = time.time()
    out = study.compute(config)
    data, summary, arrays = out if len(out) == 3 else (*out, None)
    problems = check_claims(summary)
    if problems:
        raise InvalidResult(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
    if not writer:
        return summary
    saved = results.save(target, name=study.name, config=config, data=data, summary=summary,
                         figures=study.figures, started=started, arrays=arrays)
    log(f"{study.name}: wrote {target} ({time.time() - started:.1f} s)")
    for cid, claim in saved.get("claims", {}).items():
        log(f"  {cid}: {claim['verdict']}: {claim.get('key_number', '')}")
    return saved


def default_outdir(name: str, quick: bool) -> Path:
    """``results/<name>``, or ``results/quick/<name>`` for quick runs (never over the committed results)."""
    return Path("results") / "quick" / name if quick else Path("results") / name


def main(study: Study, argv=None) -> int:
    """Entry point of ``python -m experiments.<name>``: exit 0 ok, 2 bad input, 1 invalid result."""
    prog = f"python -m experiments.{study.name}"
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        parsed = parse_args(study.config, argv, prog, study.title)
        outdir = parsed.outdir if parsed.outdir is not None else default_outdir(study.name, parsed.quick)
        results.check_outdir(outdir, study.name, repair=False)  # read-only: every process; run() repairs on 0
    except (ConfigError, OneLineError, results.OutdirError) as err:
        print_error(prog, str(err))
        return 2
    configure_runtime()
    try:
        run(study, parsed.config, outdir)
    except InvalidResult as err:
        print_error(prog, f"{err}; earlier results left in place")
        return 1
    return 0
