"""`make bench`: speed of the suite's sweeps, compilations per experiment, wall times against the budget.

    python -m experiments.bench [--outdir results/bench] [--quick] [--compiles auto|all|none] [--rounds N]
                                [--only gradient,jacobians,decoding,training]

Writes ``gradient_decay.json`` (the closed form against the forward simulation and the baselines a
user would write, with their agreement), ``jacobian_products.json``, ``decoding.json``,
``training_grid.json``, ``compilations.json`` (each experiment's quick config run cold in a fresh
process: programs lowered, XLA compilations and their seconds) and ``wall_times.json``: the whole
default sweep run twice into a temporary folder, cold (empty compilation cache) and warm, against
the 600 s budget, beside the wall times recorded in ``results/<experiment>/config.json``;
``*_<platform>.json`` off the CPU (e.g. ``*_gpu.json``). ``--only`` runs and writes just the named
benchmarks, each file as soon as its benchmark ends (`make gpu-check` runs them one per step).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import jax

from benchmarks import decoding as decoding_bench
from benchmarks.common import count_compilations
from benchmarks import gradient as gradient_bench
from benchmarks import jacobians as jacobians_bench
from benchmarks import sweep_timing
from benchmarks import training as training_bench
from jaxrnn.io.runtime import configure_runtime
from jaxrnn.io.results import environment, write_json

SWEEP_BUDGET_S = 600.0  # a full default `make sweep` on the 2-core CPU
BENCHMARKS = ("gradient", "jacobians", "decoding", "training")  # --only picks among these


def wall_times(results_dir: Path) -> dict:
    """Each experiment's wall time recorded in results/ (its config.json), and the total against the budget."""
    rows = sweep_timing.recorded_wall_times(results_dir)
    total = sum(r["wall_time_s"] for r in rows.values())
    return {"experiments": rows, "total_s": round(total, 2), "budget_s": SWEEP_BUDGET_S,
            "within_budget": total <= SWEEP_BUDGET_S}


def compilations(quick_configs: bool = True) -> dict:
    """Programs lowered and XLA compilations of every experiment's quick config, each cold in a fresh process."""
    from experiments.sweep import EXPERIMENTS

    out = {"config": "quick" if quick_configs else "default", "experiments": {}}
    for exp in EXPERIMENTS:
        argv = (["--quick"] if quick_configs else []) + ["--outdir", "out"]
        out["experiments"][exp] = count_compilations(f"experiments.{exp}", argv)
    ok = [c for c in out["experiments"].values() if "error" not in c]
    out["total"] = {"programs_lowered": sum(c["programs_lowered"] for c in ok),
                    "backend_compiles": sum(c["backend_compiles"] for c in ok),
                    "compile_s": round(sum(c["compile_s"] for c in ok), 2),
                    "wall_s": round(sum(c["wall_s"] for c in ok), 2)}
    return out


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m experiments.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--outdir", type=Path, default=Path("results/bench"))
    parser.add_argument("--results", type=Path, default=Path("results"))
    parser.add_argument("--quick", action="store_true", help="a tiny grid (checks the plumbing, not speed)")
    parser.add_argument("--compiles", choices=("auto", "all", "none"), default="auto",
                        help="count compilations of every experiment's quick config (auto: all unless --quick)")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds of the gradient benchmark")
    parser.add_argument("--sweep", choices=("auto", "all", "none"), default="auto",
                        help="time the whole default sweep cold and warm in a temporary folder (auto: unless --quick)")
    parser.add_argument("--only", default=None,
                        help=f"comma list out of {', '.join(BENCHMARKS)}: run and write only these benchmarks "
                             "(no wall times, no compilation counts; `make gpu-check` runs them one by one)")
    args = parser.parse_args(argv)
    selected = BENCHMARKS if args.only is None else tuple(b.strip() for b in args.only.split(",") if b.strip())
    if not selected or set(selected) - set(BENCHMARKS):
        parser.error(f"--only: choose from {', '.join(BENCHMARKS)}")
    configure_runtime()
    args.outdir.mkdir(parents=True, exist_ok=True)
    env = environment()
    platform = jax.devices()[0].platform
    suffix = "" if platform == "cpu" else f"_{platform}"

    def write(stem: str, data: dict) -> None:
        data["environment"] = env
        write_json(args.outdir / f"{stem}{suffix}.json", data)

    if "gradient" in selected:
        size = dict(n_w=16, n_b=16, t_max=64, chunk_size=128, rounds=1) if args.quick else {}
        if args.rounds is not None:
            size["rounds"] = args.rounds
        report = gradient_bench.gradient_decay(key=jax.random.key(0), **size)
        write("gradient_decay", report)
        _print_gradient(report)
    if "jacobians" in selected:
        jac_size = dict(n_hidden=4, n_configs=8, t_max=20, chunk_size=8, repeats=1) if args.quick else {}
        jac = jacobians_bench.jacobian_products(key=jax.random.key(0), **jac_size)
        write("jacobian_products", jac)
        print(f"Jacobian products (n = {jac['n_hidden']}, QR every step): "
              f"{jac['config_steps_per_s']:,.0f} config-steps/s")
    if "decoding" in selected:
        dec_size = dict(batch=8, max_len=8, enum_len=4, repeats=1) if args.quick else {}
        decode = decoding_bench.decoding(key=jax.random.key(0), **dec_size)
        write("decoding", decode)
        _print_decoding(decode)
    if "training" in selected:
        train_size = dict(n_models=4, n_hidden=4, batch=4, length=4, steps=10, repeats=1) if args.quick else {}
        training = training_bench.training_grid(key=jax.random.key(0), **train_size)
        write("training_grid", training)
        print(f"training grid: {training['models']} models vmapped {training['vmapped_model_steps_per_s']:,.0f} vs "
              f"one after another {training['sequential_model_steps_per_s']:,.0f} model-steps/s "
              f"(ratio {training['throughput_ratio']:.2f}x)")
    if args.only is not None:
        return 0
    times = {"recorded_in_results": wall_times(args.results)}
    if args.sweep == "all" or (args.sweep == "auto" and not args.quick):
        times["sweep"] = sweep_timing.sweep_wall_times(budget_s=SWEEP_BUDGET_S)
        times["sweep"]["environment"] = env
        for label in ("cold", "warm"):
            run = times["sweep"][label]
            print(f"full default sweep, {label} compilation cache: {run['wall_s']:.1f} s of {SWEEP_BUDGET_S:.0f} s "
                  f"(exit {run['exit_code']}; " + ", ".join(f"{k} {v:.1f}" for k, v in run["experiments"].items())
                  + ")")
    write_json(args.outdir / f"wall_times{suffix}.json", times)
    if args.compiles == "all" or (args.compiles == "auto" and not args.quick):
        compiles = compilations(quick_configs=True)
        write("compilations", compiles)
        for exp, c in compiles["experiments"].items():
            print(f"compilations, {exp} (quick, cold): " + (c["error"] if "error" in c else
                  f"{c['programs_lowered']} programs lowered, {c['backend_compiles']} XLA compiles, "
                  f"{c['compile_s']:.1f} s compiling of {c['wall_s']:.1f} s"))
    return 0


def _print_gradient(report: dict) -> None:
    r = report["closed_form_over_forward_simulation"]
    print(f"gradient_decay sweep: {report['configs']:,} configs x {report['steps']} steps, "
          f"{len(report['lengths_read'])} lengths; closed form / forward simulation = {r['wall']['median']:.2f}x "
          f"wall [{r['wall']['min']:.2f}, {r['wall']['max']:.2f}], {r['cpu']['median']:.2f}x CPU time "
          f"(target <= {r['target_max']:g}; tanh {r['tanh_wall']['median']:.2f}x); load {report['contention']}")
    for method, t in report["timings"].items():
        a = report["agreement_with_float64_closed_form"].get(method, {})
        print(f"  {method:26s} {1e3 * t['wall_s']['median']:9.1f} ms  "
              f"{t['over_closed_form_wall']['median']:7.2f}x the closed form"
              + (f"; 0/inf where the true value is finite: {a['zero_or_inf_where_true_value_finite']:,} "
                 f"of {a['points']:,}" if a else ""))
    for note in report["notes"]:
        print("  note:", note)


def _print_decoding(decode: dict) -> None:
    print("decoding tokens/s: " + ", ".join(f"{k} {v:,.0f}" for k, v in decode["tokens_per_s"].items())
          + f"; exact enumeration {decode['exact_enumeration']['sequences_per_s']:,.0f} sequences/s; compilations: "
          f"beam search {decode['compilations']['beam_search_for_2_rules_x_widths']} for "
          f"{decode['compilations']['widths']} widths x 2 rules, sampler "
          f"{decode['compilations']['sampler_for_4_option_sets']} for 4 option sets")
    ex = decode["exact_search"]
    print(f"exact search (V = {ex['vocab_with_eos']}, max_len {ex['max_len']}, {ex['sequences_enumerated']:,} "
          "sequences): " + "; ".join(
              f"{m}: branch and bound {ex[m]['branch_and_bound_s_per_model']:.4f} s vs enumeration "
              f"{ex[m]['enumeration_s_per_model']:.3f} s per model ({ex[m]['speedup']:.0f}x, agree: {ex[m]['all_agree']})"
              for m in ("gru", "windowed_source")))


if __name__ == "__main__":
    sys.exit(main())
