"""The threshold_rnns study (Problem 4, claims C12-C13): proofs, exhaustive checks, margins,
mutations and learning, for the seed's two designs and two classic ones."""

from __future__ import annotations

import jax
import numpy as np

from jaxrnn.models import threshold as th
from jaxrnn.io.results import Dataset
from jaxrnn.studies.threshold_rnns.claims import claims
from jaxrnn.studies.threshold_rnns import names as N

LEARNED = ("seed_a", "seed_b")  # the designs whose weights are also learned


def _exhaustive_length(cfg, design: th.Design) -> int:
    return cfg.exhaustive_length_1 if design.spec.n_inputs == 1 else cfg.exhaustive_length_2


def _minimality(design: th.Design, params, cex) -> bool:
    """Exhaustive search confirms the counterexample: none at length n - 1, one at length n."""
    n = len(cex["inputs"])
    shorter = n == 1 or th.exhaustive_check(design, params, length=n - 1)["wrong_outputs"] == 0
    return shorter and th.exhaustive_check(design, params, length=n)["wrong_outputs"] > 0


def design_report(cfg, name: str, design: th.Design, *, key) -> tuple[dict, np.ndarray]:
    """Proof, exhaustive check, margin and perturbation survival of one design."""
    proof = th.prove(design)
    exhaustive = th.exhaustive_check(design, length=_exhaustive_length(cfg, design))
    survival = th.perturbation_survival(design, proof["margin"], cfg.perturb_scales, cfg.perturb_samples, key=key)
    rep = {
        "name": design.name, "task": design.spec.name, "proved": proof["proved"],
        "reachable_states": [list(s) for s in proof["reachable_states"]], "product_states": proof["product_states"],
        "transitions": proof["transitions"], "margin": proof["margin"], "tightest_unit": proof["tightest_unit"],
        "exhaustive": exhaustive,
        "proof_and_exhaustive_agree": proof["proved"] == (exhaustive["wrong_outputs"] == 0),
        "perturbation": {"scales_of_margin": list(cfg.perturb_scales), "samples": cfg.perturb_samples,
                         "fraction_still_correct": survival.tolist()},
    }
    return rep, survival


def mutation_report(cfg, design: th.Design) -> dict:
    values = np.linspace(cfg.mutation_min, cfg.mutation_max, cfg.mutation_n)
    muts = th.single_weight_mutations(design, values)
    broken = [b for m in muts.values() for b in m["broken"]]
    confirmed = 0
    for wname, m in muts.items():
        k, idx = next((k, i) for k, i in th.weight_names(design) if f"{k}{list(i)}" == wname)
        for b in m["broken"]:
            confirmed += _minimality(design, th.with_weight(design.params, k, idx, b["value"]), b["counterexample"])
    return {
        "values": values.tolist(),
        "per_weight": muts,
        "variants": len(values) * len(muts),
        "broken": len(broken),
        "broken_with_counterexample": sum(b["counterexample"] is not None and not b["proved"] for b in broken),
        "counterexamples_confirmed_minimal": int(confirmed),
        "equivalent_solutions": int(sum(sum(m["correct"]) for m in muts.values())),
        "max_counterexample_length": max((len(b["counterexample"]["inputs"]) for b in broken), default=0),
    }


def learning_report(cfg, design: th.Design, *, key):
    """Train soft networks for each tau schedule (vmapped over seeds), harden, prove each."""
    keys = jax.random.split(key, cfg.learn_seeds)
    length = cfg.train_length_1 if design.spec.n_inputs == 1 else cfg.train_length_2
    success, losses, example = [], [], None
    prove_all = jax.jit(jax.vmap(lambda p: th.correct_for_all_lengths(design, p)))
    for tau_start, tau_end in zip(cfg.tau_starts, cfg.tau_ends):
        params, loss = th.train_soft(design, keys=keys, steps=cfg.learn_steps, learning_rate=cfg.learning_rate,
                                     tau_start=tau_start, tau_end=tau_end, train_length=length)
        ok = np.asarray(prove_all(params))
        success.append(ok)
        losses.append(np.asarray(loss))
        if example is None and ok.any():
            i = int(np.argmax(ok))
            learned = {k: np.asarray(v[i]) for k, v in params.items()}
            proof = th.prove(design, learned)
            example = {"schedule": [tau_start, tau_end], "seed_index": i, "proved": proof["proved"],
                       "margin": proof["margin"], "reachable_states": [list(s) for s in proof["reachable_states"]],
                       "weights": {k: v.tolist() for k, v in learned.items() if k != "state_units"}}
    rep = {"success_rate": [float(s.mean()) for s in success], "seeds": cfg.learn_seeds,
           "schedules": [[a, b] for a, b in zip(cfg.tau_starts, cfg.tau_ends)], "train_length": length,
           "example": example}
    return rep, np.stack(success), np.stack(losses)


def study(cfg, *, key):
    k_perturb, k_learn = jax.random.split(key)
    ds = Dataset()
    names = list(th.DESIGNS)
    ds.add_axis(N.DESIGN, np.asarray(names))
    ds.add_axis(N.SCALE, np.asarray(cfg.perturb_scales, np.float64))
    summary = {"designs": {}, "mutations": {}, "learning": {}}
    survival = []
    for i, (name, design) in enumerate(th.DESIGNS.items()):
        rep, surv = design_report(cfg, name, design, key=jax.random.fold_in(k_perturb, i))
        summary["designs"][name] = rep
        survival.append(surv)
    ds.add(N.FRACTION_STILL_CORRECT, ("design", "scale"), np.stack(survival))
    ds.add(N.MARGIN, ("design",), np.asarray([summary["designs"][n]["margin"] for n in names]))

    ds.add_axis(N.DESIGN_LEARNED, np.asarray(LEARNED))
    ds.add_axis(N.MUTATION_VALUE, np.linspace(cfg.mutation_min, cfg.mutation_max, cfg.mutation_n))
    n_slots = max(len(th.weight_names(th.DESIGNS[n])) for n in LEARNED)
    ds.add_axis(N.WEIGHT_SLOT, np.arange(n_slots))
    correct = np.full((len(LEARNED), n_slots, cfg.mutation_n), -1, np.int8)  # -1: no such weight
    slot_names = np.full((len(LEARNED), n_slots), "", dtype="<U16")
    seed_values = np.full((len(LEARNED), n_slots), np.nan)
    losses, success = [], []
    for i, name in enumerate(LEARNED):
        design = th.DESIGNS[name]
        summary["mutations"][name] = mutation_report(cfg, design)
        for j, (wname, m) in enumerate(summary["mutations"][name]["per_weight"].items()):
            correct[i, j] = np.asarray(m["correct"], np.int8)
            slot_names[i, j] = wname
            seed_values[i, j] = m["seed_value"]
        rep, ok, loss = learning_report(cfg, design, key=jax.random.fold_in(k_learn, i))
        summary["learning"][name] = rep
        success.append(ok)
        losses.append(loss)
    ds.add(N.MUTATION_CORRECT, ("design_learned", "weight_slot", "mutation_value"), correct)
    ds.add(N.WEIGHT_NAME, ("design_learned", "weight_slot"), slot_names)
    ds.add(N.SEED_WEIGHT_VALUE, ("design_learned", "weight_slot"), seed_values)
    ds.add_axis(N.SCHEDULE, np.asarray([f"tau {a:g} -> {b:g}" for a, b in zip(cfg.tau_starts, cfg.tau_ends)]))
    ds.add_axis(N.SEED, np.arange(cfg.learn_seeds))
    ds.add_axis(N.LOG_STEP, np.arange(losses[0].shape[-1]) * 10)
    ds.add(N.LEARN_SUCCESS, ("design_learned", "schedule", "seed"), np.stack(success))
    ds.add(N.LEARN_LOSS, ("design_learned", "schedule", "seed", "log_step"), np.stack(losses))
    summary["claims"] = claims(summary)
    return ds, summary


def compute(config) -> tuple:
    """The runner's entry: (Dataset, summary with claims[, extra arrays]) for a validated config."""
    return study(config, key=jax.random.key(config.seed))
