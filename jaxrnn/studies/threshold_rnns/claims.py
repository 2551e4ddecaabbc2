"""The claims of the threshold_rnns study: verdicts and evidence from the summary numbers."""

from __future__ import annotations

from jaxrnn import stats
from jaxrnn.studies.threshold_rnns import names as N


TEXT = {
    "seed_a": {
        "takeaway": ("The sheet's scalar threshold RNN is correct for every input sequence of every length: "
                     "its hidden unit remembers whether a 0 has been seen."),
        "what_was_run": ("The network and the task were combined into one product automaton and every reachable "
                         "state was checked, which covers all lengths; an exhaustive run of all short binary "
                         "sequences is the independent twin. Margins, single-weight mutations and learned "
                         "networks show how much room the design has."),
        "caveats": ["Correct with h_0 = 0 as the sheet assumes; another initial state is another network.",
                    "II(0) = 1 here (the sheet's convention): a design sitting exactly on 0 would depend on it."],
    },
    "seed_b": {
        "takeaway": ("The sheet's two-unit threshold RNN with its output fed back is correct for every pair of "
                     "sequences of every length: the output acts as the memory of 'no mismatch yet'."),
        "what_was_run": ("The product automaton of network and task was explored to every reachable state, which "
                         "covers all lengths; all pairs of short binary sequences were also run exhaustively. "
                         "Margins, single-weight mutations and learned networks show how much room the design has."),
        "caveats": ["The first step uses c0, later steps c and the fed-back output: both are needed.",
                    "The proof covers these exact weights; a learned network is proved correct or not one by one."],
    },
}


def _claim(rep: dict, muts: dict, learn: dict, test: str, text: dict) -> dict:
    ex = rep["exhaustive"]
    ok = rep["proved"] and ex["wrong_outputs"] == 0
    pert = rep["perturbation"]
    inside = [f for s, f in zip(pert["scales_of_margin"], pert["fraction_still_correct"]) if s < 1]
    outside = [f for s, f in zip(pert["scales_of_margin"], pert["fraction_still_correct"]) if s > 1]
    best = max(learn["success_rate"])
    learned = stats.rate("learned and hardened networks proved correct (best schedule)",
                         round(best * learn["seeds"]), learn["seeds"])
    return {
        "verdict": "confirmed" if ok else "refuted",
        "key_number": (f"proved for every length ({len(rep['reachable_states'])} reachable states); "
                       f"{ex['sequences']:,} sequences x {ex['length']} steps: {ex['wrong_outputs']} wrong; "
                       f"margin {rep['margin']:.3g}"),
        "evidence": (f"Product of the network's and the task's automata: {rep['product_states']} reachable "
                     f"product states, no wrong output, so the weights are correct for all lengths; the "
                     f"exhaustive check of all {ex['sequences']:,} input sequences of length {ex['length']} "
                     f"({ex['outputs_checked']:,} outputs) agrees. Every weight and bias may move by up to "
                     f"{rep['margin']:.3g} (max-norm) without changing any output: of {pert['samples']} random "
                     f"perturbations per size below it, a fraction {min(inside, default=float('nan')):.3g} stay "
                     f"correct (at {max(pert['scales_of_margin']):g}x: {min(outside, default=float('nan')):.3g}). "
                     f"Of {muts['variants']} single-weight variants, "
                     f"{muts['broken']} break the design, each caught with a counterexample confirmed minimal "
                     f"({muts['counterexamples_confirmed_minimal']}/{muts['broken']}); "
                     f"{muts['equivalent_solutions']} are equivalent solutions. Learned with sigmoid(z/tau) "
                     f"and hardened: {stats.describe(learned)} of seeds give a proved-correct network (best "
                     f"schedule; Wilson interval)."),
        "rule": ("Exact claim, decided by proof: the product automaton of network and task covers every input "
                 "sequence of every length, so one reachable wrong output refutes and none confirms; the "
                 "exhaustive check is its independent twin. The learning rate is a sampled number and carries a "
                 "Wilson interval."),
        "effects": [{"name": "wrong outputs over all reachable product states", "estimate": 0.0 if ok else 1.0,
                     "ci95": [0.0, 0.0] if ok else [1.0, 1.0], "n": int(rep["product_states"]), "unit": "states"},
                    {"name": "wrong outputs in the exhaustive check", "estimate": float(ex["wrong_outputs"]),
                     "ci95": [float(ex["wrong_outputs"])] * 2, "n": int(ex["outputs_checked"]), "unit": "outputs"},
                    learned.to_dict()],
        "conditions": "the sheet's weights, h0 = 0, binary inputs of every length; perturbations, mutations, learning",
        "figure": f"threshold_rnns/{N.FIG_AUTOMATA}",
        "test": test,
        **text,
        **({} if ok else {"takeaway": "The sheet's weights give a wrong output on some input: see the "
                                      "counterexample in the evidence."}),
    }


def claims(summary: dict) -> dict:
    t = "tests/models/test_threshold.py"
    return {
        "C12": _claim(summary["designs"]["seed_a"], summary["mutations"]["seed_a"], summary["learning"]["seed_a"],
                      f"{t}::test_seed_designs_are_proved", TEXT["seed_a"]),
        "C13": _claim(summary["designs"]["seed_b"], summary["mutations"]["seed_b"], summary["learning"]["seed_b"],
                      f"{t}::test_seed_designs_are_proved", TEXT["seed_b"]),
    }
