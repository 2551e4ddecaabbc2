"""`make bench`: speed of the suite's sweeps, and every experiment's wall time against the budget.

    python -m experiments.bench [--outdir results/bench] [--quick]

Writes ``gradient_decay.json``, ``jacobian_products.json``, ``decoding.json`` and ``training_grid.json``
(``*_<platform>.json`` off the CPU) and
``wall_times.json`` (read from each ``results/<experiment>/config.json``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import jax

from benchmarks import decoding as decoding_bench
from benchmarks import gradient as gradient_bench
from benchmarks import jacobians as jacobians_bench
from benchmarks import training as training_bench
from jaxrnn.io.runtime import configure_runtime
from jaxrnn.io.results import environment, write_json

SWEEP_BUDGET_S = 600.0  # a full default `make sweep` on the 2-core CPU


def wall_times(results_dir: Path) -> dict:
    """Each experiment's recorded wall time (from its config.json), and the total against the budget."""
    rows = {}
    for cfg in sorted(results_dir.glob("*/config.json")):
        meta = json.loads(cfg.read_text())
        rows[meta["experiment"]] = {"wall_time_s": meta["wall_time_s"], "device": meta["environment"]["device_kind"]}
    total = sum(r["wall_time_s"] for r in rows.values())
    return {"experiments": rows, "total_s": round(total, 2), "budget_s": SWEEP_BUDGET_S,
            "within_budget": total <= SWEEP_BUDGET_S}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--outdir", type=Path, default=Path("results/bench"))
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--quick", action="store_true", help="a tiny grid (checks the plumbing, not speed)")
    args = parser.parse_args(argv)
    configure_runtime()
    args.outdir.mkdir(parents=True, exist_ok=True)
    size = dict(n_w=16, n_b=16, t_max=64, chunk_size=128, repeats=1) if args.quick else {}
    report = gradient_bench.gradient_decay(key=jax.random.key(0), **size)
    report["environment"] = environment()
    jac_size = dict(n_hidden=4, n_configs=8, t_max=20, chunk_size=8, repeats=1) if args.quick else {}
    jac = jacobians_bench.jacobian_products(key=jax.random.key(0), **jac_size)
    jac["environment"] = report["environment"]
    dec_size = dict(batch=8, max_len=8, enum_len=4, repeats=1) if args.quick else {}
    decode = decoding_bench.decoding(key=jax.random.key(0), **dec_size)
    decode["environment"] = report["environment"]
    train_size = dict(n_models=4, n_hidden=4, batch=4, length=4, steps=10, repeats=1) if args.quick else {}
    training = training_bench.training_grid(key=jax.random.key(0), **train_size)
    training["environment"] = report["environment"]
    platform = jax.devices()[0].platform
    name = "gradient_decay.json" if platform == "cpu" else f"gradient_decay_{platform}.json"
    write_json(args.outdir / name, report)
    write_json(args.outdir / name.replace("gradient_decay", "jacobian_products"), jac)
    write_json(args.outdir / name.replace("gradient_decay", "decoding"), decode)
    write_json(args.outdir / name.replace("gradient_decay", "training_grid"), training)
    write_json(args.outdir / "wall_times.json", wall_times(args.results))
    r = report["ratios"]
    print(f"gradient_decay sweep: {report['configs']:,} configs x {report['steps']} steps; "
          f"sweep / forward simulation = {r['sweep_over_forward_simulation']:.2f}x (target <= 4), "
          f"reverse mode / sweep = {r['reverse_mode_over_sweep']:.1f}x (target >= 10)")
    print(f"Jacobian products (n = {jac['n_hidden']}, QR every step): {jac['config_steps_per_s']:,.0f} config-steps/s")
    print("decoding tokens/s: " + ", ".join(f"{k} {v:,.0f}" for k, v in decode["tokens_per_s"].items())
          + f"; exact enumeration {decode['exact_enumeration']['sequences_per_s']:,.0f} sequences/s")
    print(f"training grid: {training['models']} models vmapped {training['vmapped_model_steps_per_s']:,.0f} vs one "
          f"after another {training['sequential_model_steps_per_s']:,.0f} model-steps/s "
          f"(ratio {training['throughput_ratio']:.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
