"""One top-down runner for every study: validate once, compute, check, save, draw, report.

    experiments/<name>.py  ->  runner.main(STUDY)
      parse flags into the study's Config (one line and exit 2 on bad input, nothing written)
      -> check the output folder (the suite writes only into folders it created, with no foreign file)
      -> the study's cost estimate (refused if it cannot fit in memory, warned beyond 10 min)
      -> lock the target for the whole run (a second run into it: one line, exit 2)
      -> study.compute(config) -> (Dataset, summary[, extra arrays]); its training loops report divergence
      -> a diverged run or a non-finite number in a claim: ``invalid``, exit 1, nothing published
      -> save into a staging folder, draw figures from the saved data, publish atomically if the target
         is still what the run saw (else exit 1, the new results kept aside under a name the line gives)
      -> print where it wrote and one line per claim
    Ctrl-C: one line, exit 130; a full disk: one line, exit 1 (earlier results kept, staging removed).

A study is a :class:`Study` value; the runner never imports a study.
"""

from __future__ import annotations

import contextlib
import errno
import math
import os
import re
import sys
import time
import warnings
from pathlib import Path
from typing import Any, Callable, NamedTuple

from jaxrnn.io import results
from jaxrnn.io.config import ConfigError, OneLineError, parse_args, print_error
from jaxrnn.io.runtime import configure_runtime, is_writer
from jaxrnn.models import divergence


class Study(NamedTuple):
    """What the runner needs of a study (each study's ``__init__`` defines ``STUDY``)."""

    name: str
    title: str  # one line: what it computes and which claims it settles
    config: type  # a StudyConfig dataclass
    compute: Callable[[Any], tuple]  # config -> (Dataset, summary[, {file name: arrays}])
    figures: Callable[[results.Dataset, dict, Path], list]  # (saved data, summary, folder) -> png names
    cost: Callable[[Any], Any] | None = None  # config -> Cost(memory_bytes, seconds), checked before computing


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


def _stated_reason(claim: dict) -> str:
    """Why a study marked a claim invalid, from what the claim itself says (never a bare 'invalid')."""
    for cond in claim.get("conditions") or []:
        if isinstance(cond, dict) and cond.get("verdict") == "invalid":
            text = "; ".join(str(cond[k]) for k in ("name", "reason", "key_number", "evidence") if cond.get(k))
            if text:
                return text
    caveats = claim.get("caveats") or []
    for text in (*caveats, claim.get("evidence"), claim.get("key_number")):
        if text:
            return str(text)
    return "the study marked it invalid without a reason (a bug of the study)"


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
            if claim.get("invalid_reason"):
                reasons.insert(0, claim["invalid_reason"])
            elif not reasons:
                reasons.append(_stated_reason(claim))
        if reasons:
            claim["verdict"] = "invalid"
            claim["invalid_reason"] = "; ".join(reasons)
            problems.append(f"{cid} invalid: {reasons[0]}")
    return problems


class Cost(NamedTuple):
    """A study's estimate before computing: peak memory (bytes) and rough wall time (seconds, 2 CPU cores)."""

    memory_bytes: float
    seconds: float


WARN_SECONDS = 600.0  # a run estimated longer than this (10 min) prints a warning first (it still runs)


def available_memory() -> int:
    """Bytes this machine can give a run now (MemAvailable), or the physical total; 0 if unknown."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def _gib(n: float) -> str:
    return f"{n / 2 ** 30:.3g} GiB"


def check_cost(study: Study, config, *, log=print) -> Cost | None:
    """Refuse (CostError) a config whose estimated memory exceeds what the machine has; warn beyond
    WARN_SECONDS. Studies without a ``cost`` hook are not estimated."""
    if study.cost is None:
        return None
    cost = study.cost(config)
    have = available_memory()
    if have and cost.memory_bytes > have:
        raise CostError(f"this config needs about {_gib(cost.memory_bytes)} of memory (estimate from its grid "
                        f"sizes) and this machine has {_gib(have)} available; make the grids smaller")
    if cost.seconds > WARN_SECONDS:
        log(f"{study.name}: warning: estimated {cost.seconds / 60:.0f} min and {_gib(cost.memory_bytes)} (scaled from "
            "the default config's time on 2 CPU cores); Ctrl-C stops it and keeps earlier results")
    return cost


class CostError(ValueError):
    """A config refused before computing because it cannot fit (one line, exit 2)."""


def run(study: Study, config, outdir, *, log=print) -> dict:
    """Compute, check and publish one study into ``outdir``; return the saved summary.

    Raises ConfigError / CostError / results.OutdirError before computing (nothing written),
    InvalidResult (nothing published) or results.PublishRefused (new results kept aside) after.
    The target stays locked (``results.lock``) from the check to the publication.
    """
    config.validate()
    writer = is_writer()  # under jax.distributed every process computes; only process 0 writes
    with contextlib.ExitStack() as stack:
        if writer:
            results.check_outdir(outdir, study.name, repair=False)
            stack.enter_context(results.lock(outdir))
            target = results.check_outdir(outdir, study.name)  # under the lock: repairs, then checks again
            expected = results.seen(target)
        check_cost(study, config, log=log)
        started = time.time()
        with divergence.watch() as diverged:
            out = study.compute(config)
        data, summary, arrays = out if len(out) == 3 else (*out, None)
        if diverged:
            raise InvalidResult(diverged[0] + (f" (and {len(diverged) - 1} more)" if len(diverged) > 1 else ""))
        problems = check_claims(summary)
        if problems:
            raise InvalidResult(problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""))
        if not writer:
            return summary
        saved = results.save(target, name=study.name, config=config, data=data, summary=summary,
                             figures=study.figures, started=started, arrays=arrays, expected=expected)
    log(f"{study.name}: wrote {target} ({time.time() - started:.1f} s)")
    for cid, claim in saved.get("claims", {}).items():
        log(f"  {cid}: {claim['verdict']}: {claim.get('key_number', '')}")
    return saved


def default_outdir(name: str, quick: bool) -> Path:
    """``results/<name>``, or ``results/quick/<name>`` for quick runs (never over the committed results)."""
    return Path("results") / "quick" / name if quick else Path("results") / name


def one_line_failure(err: BaseException) -> tuple[str, int] | None:
    """(message, exit code) for the failures that end a run in one line; None for a bug (traceback).

    Ctrl-C: 130; a full disk or another write error: 1; a results folder changed during the run: 1.
    """
    if isinstance(err, KeyboardInterrupt):
        return "interrupted (Ctrl-C); nothing published, earlier results left in place", 130
    if isinstance(err, results.PublishRefused):
        return str(err), 1
    if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EIO, errno.EFBIG):
        where = f" writing {err.filename}" if err.filename else ""
        return f"{err.strerror or err}{where}; nothing published, earlier results left in place", 1
    return None


@contextlib.contextmanager
def quiet_warnings():
    """Hold back the warnings of a run (numpy's RuntimeWarnings...): re-issued if it ends normally,
    dropped if it ends in one line (they would bury it)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught
    registry: dict = {}  # shared: a warning repeated at one line is shown once, as Python would
    for w in caught:
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, registry=registry)


def main(study: Study, argv=None) -> int:
    """Entry point of ``python -m experiments.<name>``: exit 0 ok, 2 bad input, 1 invalid result or a
    failed write, 130 Ctrl-C."""
    prog = f"python -m experiments.{study.name}"
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        parsed = parse_args(study.config, argv, prog, study.title)
        outdir = parsed.outdir if parsed.outdir is not None else default_outdir(study.name, parsed.quick)
        results.check_outdir(outdir, study.name, repair=False)  # read-only: every process; run() repairs on 0
        check_cost(study, parsed.config, log=lambda line: None)
    except (ConfigError, OneLineError, results.OutdirError, CostError) as err:
        print_error(prog, str(err))
        return 2
    except KeyboardInterrupt:
        print_error(prog, one_line_failure(KeyboardInterrupt())[0])
        return 130
    try:
        configure_runtime()
        with quiet_warnings():  # dropped if the run ends in one line
            run(study, parsed.config, outdir)
    except (results.OutdirError, CostError) as err:
        print_error(prog, str(err))
        return 2
    except InvalidResult as err:
        print_error(prog, f"{err}; earlier results left in place")
        return 1
    except BaseException as err:  # noqa: BLE001 - Ctrl-C, full disk: one line; anything else re-raised
        failure = one_line_failure(err)
        if failure is None:
            raise
        print_error(prog, failure[0])
        return failure[1]
    return 0
