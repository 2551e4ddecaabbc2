"""`make sweep`: run every experiment with its default (or quick) config, then write results/REPORT.md.

    python -m experiments.sweep [--quick] [--only NAME[,NAME]] [--results DIR]
"""

from __future__ import annotations

import argparse
import sys
import time

from jaxrnn.io import report, results
from jaxrnn.io.config import OneLineError, print_error, refuse_repeated_flags
from jaxrnn.io.runner import CostError, InvalidResult, one_line_failure, quiet_warnings, run
from jaxrnn.io.runtime import configure_runtime, is_writer
from jaxrnn.studies import (clipping, decoding, gradient_decay, skip_connections, spectral, teacher_forcing,
                            threshold_rnns)

STUDIES = {s.STUDY.name: s.STUDY for s in (gradient_decay, skip_connections, spectral, clipping, teacher_forcing,
                                            decoding, threshold_rnns)}
EXPERIMENTS = tuple(STUDIES)


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise OneLineError(message)


def main(argv=None) -> int:
    parser = _Parser(prog="python -m experiments.sweep", description=__doc__.split("\n")[0], allow_abbrev=False)
    parser.add_argument("--quick", action="store_true", help="every experiment's tiny quick config")
    parser.add_argument("--only", default=None, help=f"comma list out of {', '.join(EXPERIMENTS)}")
    parser.add_argument("--results", default=None,
                        help="output folder (default results/, or results/quick/ with --quick)")
    try:
        argv = sys.argv[1:] if argv is None else list(argv)
        refuse_repeated_flags(argv)
        args = parser.parse_args(argv)
        root = args.results if args.results is not None else "results/quick" if args.quick else "results"
        names = EXPERIMENTS if args.only is None else tuple(n.strip() for n in args.only.split(","))
        if "" in names:
            raise OneLineError(f"--only: empty name in {args.only!r}; give a comma list out of {', '.join(EXPERIMENTS)}")
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise OneLineError(f"--only: {', '.join(repeated)} given more than once")
        unknown = [n for n in names if n not in EXPERIMENTS]
        if unknown:
            raise OneLineError(f"--only: unknown experiment(s) {', '.join(unknown)}; choose from {', '.join(EXPERIMENTS)}")
        # read-only checks on every process; the writer repairs leftovers (in run()) before writing
        root = results.check_outdir(root, None, option="--results", repair=False)
        for name in names:
            results.check_outdir(root / name, name, option="--results", repair=False)
    except (OneLineError, results.OutdirError) as err:
        print_error(parser.prog, str(err))
        return 2
    try:
        with quiet_warnings():
            return _sweep(parser.prog, args.quick, root, names)
    except BaseException as err:  # noqa: BLE001 - Ctrl-C, full disk: one line; anything else re-raised
        failure = one_line_failure(err)
        if failure is None:
            raise
        print_error(parser.prog, failure[0])
        return failure[1]


def _sweep(prog: str, quick: bool, root, names) -> int:
    configure_runtime()
    writer = is_writer()  # under jax.distributed only process 0 writes
    if writer:
        results.check_outdir(root, None, option="--results")  # repairs a killed run's leftovers
        results.make_collection(root)
    failed = []
    for name in names:
        study = STUDIES[name]
        config = study.config.quick() if quick else study.config.default()
        try:
            run(study, config, root / name)
        except InvalidResult as err:
            print_error(prog, f"{name}: {err}; earlier results left in place")
            failed.append(name)
        except (results.OutdirError, results.PublishRefused, CostError) as err:
            print_error(prog, f"{name}: {err}")
            failed.append(name)
    if writer:
        print(report.write(root))
    return 1 if failed else 0


if __name__ == "__main__":
    t0 = time.time()
    code = main()
    print(f"sweep: {time.time() - t0:.1f} s")
    sys.exit(code)
