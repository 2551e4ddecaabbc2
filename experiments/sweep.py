"""`make sweep`: run every experiment with its default (or quick) config, then write results/REPORT.md.

    python -m experiments.sweep [--quick] [--only NAME[,NAME]] [--results DIR]
"""

from __future__ import annotations

import argparse
import importlib
import sys
import time
from pathlib import Path

from jaxrnn import report
from jaxrnn.cli import configure_runtime

# In dependency order (a later experiment may reuse an earlier one's saved results).
EXPERIMENTS = ("gradient_decay", "skip_connections", "spectral", "clipping", "teacher_forcing", "decoding", "threshold_rnns")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.sweep", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="every experiment's tiny quick config")
    parser.add_argument("--only", default=None, help=f"comma list out of {', '.join(EXPERIMENTS)}")
    parser.add_argument("--results", type=Path, default=None,
                        help="output folder (default results/, or results/quick/ with --quick)")
    args = parser.parse_args(argv)
    if args.results is None:  # quick runs never overwrite the committed full results
        args.results = Path("results/quick") if args.quick else Path("results")
    names = EXPERIMENTS if args.only is None else tuple(n.strip() for n in args.only.split(",") if n.strip())
    unknown = [n for n in names if n not in EXPERIMENTS]
    if unknown or not names:
        print(f"{parser.prog}: error: --only: unknown experiment(s) {unknown}; choose from {', '.join(EXPERIMENTS)}",
              file=sys.stderr)
        return 2
    configure_runtime()
    for name in names:
        module = importlib.import_module(f"experiments.{name}")
        config = module.Config.quick() if args.quick else module.Config.default()
        t0 = time.time()
        module.run(config, args.results / name)
        print(f"{name}: {time.time() - t0:.1f} s -> {args.results / name}")
    print(report.write(args.results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
