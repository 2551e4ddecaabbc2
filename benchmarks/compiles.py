"""Count JAX compilations while a module runs: ``python -m benchmarks.compiles MODULE [ARGS...]``.

Registers JAX monitoring listeners, runs ``MODULE`` as ``__main__`` with ARGS, and prints one line
``JAXRNN-COMPILES {json}`` with:

- ``programs_lowered``: jaxprs lowered to XLA (one per distinct function x static arguments x
  shapes: the number to keep at one per distinct shape);
- ``backend_compiles`` and ``compile_s``: XLA compilations and their seconds (a persistent-cache
  hit still counts, in far less time), ``persistent_cache_hits``;
- ``by_function``: programs lowered per function name, most first (where repeats come from).

``benchmarks.common.count_compilations`` runs this in a fresh process with an empty cache.
"""

from __future__ import annotations

import collections
import json
import runpy
import sys

from jax import monitoring

from benchmarks.common import COMPILES_TAG

LOWER_EVENT = "/jax/core/compile/jaxpr_to_mlir_module_duration"
COMPILE_EVENT = "/jax/core/compile/backend_compile_duration"
CACHE_HIT_EVENT = "/jax/compilation_cache/cache_hits"


class Counter:
    def __init__(self):
        self.lowered = collections.Counter()
        self.compiles = 0
        self.compile_s = 0.0
        self.cache_hits = 0

    def on_duration(self, event: str, duration: float, **kwargs):
        if event == LOWER_EVENT:
            self.lowered[str(kwargs.get("fun_name", "?"))] += 1
        elif event == COMPILE_EVENT:
            self.compiles += 1
            self.compile_s += duration

    def on_event(self, event: str, **kwargs):
        if event == CACHE_HIT_EVENT:
            self.cache_hits += 1

    def report(self, top: int = 12) -> dict:
        return {"programs_lowered": sum(self.lowered.values()), "backend_compiles": self.compiles,
                "compile_s": round(self.compile_s, 2), "persistent_cache_hits": self.cache_hits,
                "by_function": dict(self.lowered.most_common(top))}


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__)
        return 2
    counter = Counter()
    monitoring.register_event_duration_secs_listener(counter.on_duration)
    monitoring.register_event_listener(counter.on_event)
    module, sys.argv = argv[0], argv[:]
    code = 0
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    print(COMPILES_TAG + json.dumps(dict(counter.report(), exit_code=code)), flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
