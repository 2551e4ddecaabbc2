"""The claim functions of C1-C3 and C12-C13 on constructed summaries whose verdict is known by hand: every
verdict each can return, and a one-line error (a dropped condition, a flipped comparison) that changes it."""

import copy

import pytest

from jaxrnn.studies.gradient_decay import claims as gd_claims
from jaxrnn.studies.threshold_rnns import claims as th_claims


def _bound(violations, points):
    return {"violations": violations, "points": points}


def gd_summary():
    """A summary in which C1 and C2 hold and C3 fails (growth on 30 % / 10 % of the |w| > 4 grid)."""
    sig = {"argmax": 0.0, "max": 0.25, "strict_elsewhere": True, "second_derivative_sign_changes_only_at_0": True,
           "points": 2001, "max_autodiff": 0.25, "argmax_autodiff": 0.0}
    tanh = {"argmax": 0.0, "max": 1.0, "strict_elsewhere": True, "points": 2001}
    curves = {a: {"bound": {"float32": _bound(0, 1000), "float64": _bound(0, 1000)}} for a in ("sigmoid", "tanh")}
    explosion = {"lengths": [10, 50, 200], "points_abs_w_above_4": 400, "ftle": {},
                 "wb": {"zero": {10: 0.3, 50: 0.1, 200: 0.0}, "noise": {10: 0.2, 50: 0.05, 200: 0.0}}}
    nudge = {"max_abs_err_log10_at_delta0_vs_T_log10_w_over_4": 1e-12,
             "per_w": {"6": {"delta": [1e-2, 1e-6], "peak_log10_grad": [2.0, 6.0], "peak_T": [11, 34],
                             "escape_T_predicted": [11.4, 34.1]}}}
    return {"activation": {"sigmoid": sig, "tanh": tanh}, "bound_wb": _bound(0, 500), "curves": curves,
            "explosion": explosion, "nudge": nudge}


def test_gradient_decay_claims_on_a_known_summary():
    c = gd_claims.claims(gd_summary())
    assert (c["C1"]["verdict"], c["C2"]["verdict"], c["C3"]["verdict"]) == ("confirmed", "confirmed", "refuted")
    assert c["C2"]["effects"][0]["estimate"] == 0 and c["C2"]["effects"][0]["n"] == 500 + 4 * 1000
    shares = {e["name"]: e["estimate"] for e in c["C3"]["effects"]}
    assert len(shares) == 4  # T = 10, 50 (the longest read, 200, is left out) x two inputs
    assert shares["share of the |w| > 4 (w, b) grid where |dh_T/dh_0| > 1, T = 10, x = 0"] == 0.3
    assert shares["share of the |w| > 4 (w, b) grid where |dh_T/dh_0| > 1, T = 50, x ~ N(0, 1)"] == 0.05
    assert all(e["n"] == 400 for e in c["C3"]["effects"])
    c1 = {e["name"]: (e["estimate"], e["ci95"], e["n"]) for e in c["C1"]["effects"]}
    assert c1 == {"max sigmoid' - 1/4": (0.0, [0.0, 0.0], 2001), "argmax of sigmoid'": (0.0, [0.0, 0.0], 2001)}
    s = gd_summary()
    s["activation"]["sigmoid"].update(max=0.3, argmax=0.5)
    c1 = gd_claims.claims(s)["C1"]["effects"]
    assert [e["estimate"] for e in c1] == [pytest.approx(0.05), 0.5]


@pytest.mark.parametrize("path,value", [(("activation", "sigmoid", "max"), 0.2500001),
                                        (("activation", "sigmoid", "argmax"), 0.01),
                                        (("activation", "sigmoid", "strict_elsewhere"), False),
                                        (("activation", "sigmoid", "second_derivative_sign_changes_only_at_0"), False),
                                        (("activation", "tanh", "max"), 0.999),
                                        (("activation", "tanh", "argmax"), -0.01),
                                        (("activation", "tanh", "strict_elsewhere"), False)])
def test_c1_every_condition_can_refute(path, value):
    s = gd_summary()
    s[path[0]][path[1]][path[2]] = value
    assert gd_claims.claims(s)["C1"]["verdict"] == "refuted"


@pytest.mark.parametrize("where", ["wb", "sigmoid/float32", "tanh/float64"])
def test_c2_one_violation_anywhere_refutes(where):
    s = gd_summary()
    if where == "wb":
        s["bound_wb"]["violations"] = 1
    else:
        act, dtype = where.split("/")
        s["curves"][act]["bound"][dtype]["violations"] = 1
    c2 = gd_claims.claims(s)["C2"]
    assert c2["verdict"] == "refuted" and c2["effects"][0]["estimate"] == 1


def test_c3_is_confirmed_only_when_the_whole_region_grows():
    s = gd_summary()
    for name in ("zero", "noise"):
        s["explosion"]["wb"][name] = {10: 1.0, 50: 1.0, 200: 1.0}
    assert gd_claims.claims(s)["C3"]["verdict"] == "confirmed"
    for name, t in (("zero", 10), ("noise", 50)):  # one share just below 1, at either input: refuted
        bad = copy.deepcopy(s)
        bad["explosion"]["wb"][name][t] = 0.999
        assert gd_claims.claims(bad)["C3"]["verdict"] == "refuted", (name, t)


def test_c1_and_c2_takeaways_name_the_failure_when_refuted():
    """A refuted claim's takeaway is the student's one-line reading: C1 says the 1/4 maximum broke, C2 how
    many points broke the bound; the confirmed ones state the rule."""
    c = gd_claims.claims(gd_summary())
    assert c["C1"]["takeaway"].startswith("The sigmoid's slope is at most 1/4")
    assert c["C2"]["takeaway"].startswith("With |w| < 4 a sigmoid RNN's gradient shrinks")
    s = gd_summary()
    s["activation"]["sigmoid"]["max"] = 0.3
    s["bound_wb"]["violations"] = 2
    s["curves"]["tanh"]["bound"]["float64"]["violations"] = 1
    c = gd_claims.claims(s)
    assert c["C1"]["takeaway"] == ("The grid found a slope that breaks the sheet's maximum of 1/4: "
                                   "see the evidence.")
    assert c["C2"]["takeaway"].startswith("The bound (|w|/4)^T failed at 3 points")  # 2 + 1 violations


def test_c3_with_a_single_read_length_reads_that_length():
    """With one (w, b) length only (--wb-lengths equal to --t-max), the 'leave the longest out' rule would
    leave nothing: C3 reads that length. Shares 0.5 (x = 0) and 1.0 (noise) at T = 120: refuted."""
    s = gd_summary()
    s["explosion"]["lengths"] = [120]
    s["explosion"]["wb"] = {"zero": {120: 0.5}, "noise": {120: 1.0}}
    c3 = gd_claims.claims(s)["C3"]
    assert c3["verdict"] == "refuted"
    name = "share of the |w| > 4 (w, b) grid where |dh_T/dh_0| > 1, T = 120, "
    assert [(e["name"], e["estimate"]) for e in c3["effects"]] == [(name + "x = 0", 0.5),
                                                                   (name + "x ~ N(0, 1)", 1.0)]
    assert c3["key_number"].endswith("T=120: 50% (x=0) / 100% (x~N(0,1))")


def _design(proved=True, wrong=0):
    return {"proved": proved, "exhaustive": {"wrong_outputs": wrong, "sequences": 1024, "length": 10,
                                             "outputs_checked": 10240},
            "reachable_states": [0, 1, 2], "product_states": 6, "margin": 0.25,
            "perturbation": {"scales_of_margin": [0.5, 0.9, 2.0], "fraction_still_correct": [1.0, 1.0, 0.4],
                             "samples": 100}}


def _th_summary(a=None, b=None, success=(0.5, 0.8)):
    muts = {"variants": 12, "broken": 9, "counterexamples_confirmed_minimal": 9, "equivalent_solutions": 3}
    learn = {"success_rate": list(success), "seeds": 20}
    return {"designs": {"seed_a": a or _design(), "seed_b": b or _design()},
            "mutations": {"seed_a": muts, "seed_b": muts}, "learning": {"seed_a": learn, "seed_b": learn}}


def test_threshold_claims_on_known_designs():
    c = th_claims.claims(_th_summary())
    assert c["C12"]["verdict"] == "confirmed" and c["C13"]["verdict"] == "confirmed"
    learned = c["C12"]["effects"][2]
    assert learned["estimate"] == 0.8 and learned["n"] == 20  # the best schedule: 16 of 20 seeds
    assert learned["ci95"][0] < 0.8 < learned["ci95"][1]
    assert c["C12"]["effects"][1]["n"] == 10240
    # a design the proof rejects, or one wrong output in the exhaustive check, refutes its claim only
    c = th_claims.claims(_th_summary(a=_design(proved=False)))
    assert (c["C12"]["verdict"], c["C13"]["verdict"]) == ("refuted", "confirmed")
    c = th_claims.claims(_th_summary(b=_design(wrong=1)))
    assert (c["C12"]["verdict"], c["C13"]["verdict"]) == ("confirmed", "refuted")
    assert c["C13"]["effects"][1]["estimate"] == 1.0 and c["C13"]["effects"][1]["ci95"] == [1.0, 1.0]
    assert c["C13"]["effects"][0]["estimate"] == 1.0 and c["C13"]["effects"][0]["ci95"] == [1.0, 1.0]
    ok = c["C12"]["effects"]
    assert ok[0]["estimate"] == 0.0 and ok[0]["ci95"] == [0.0, 0.0] and ok[0]["n"] == 6
    assert ok[1]["ci95"] == [0.0, 0.0]


def test_threshold_evidence_reports_the_perturbations_inside_and_outside_the_margin():
    """Scales of the margin 0.5, 0.9 (inside: all still correct), 1.0 (the margin itself: neither side),
    2.0, 3.0 (outside: 0.4 and 0.6 still correct): the evidence quotes min inside = 1 and min outside = 0.4
    at the largest scale 3x (a scale of 1 counted on either side, or 2 left out, changes them)."""
    d = _design()
    d["perturbation"] = {"scales_of_margin": [0.5, 0.9, 1.0, 2.0, 3.0],
                         "fraction_still_correct": [1.0, 1.0, 0.3, 0.4, 0.6], "samples": 100}
    c12 = th_claims.claims(_th_summary(a=d))["C12"]
    assert "a fraction 1 stay correct (at 3x: 0.4)" in c12["evidence"]
    assert c12["effects"][2]["name"] == "learned and hardened networks proved correct (best schedule)"
    assert c12["test"] == "tests/models/test_threshold.py::test_seed_designs_are_proved"


def test_threshold_refuted_takeaway_points_to_the_counterexample():
    """A refuted design replaces its sheet takeaway with the wrong-output one; the confirmed one keeps it."""
    c = th_claims.claims(_th_summary(a=_design(wrong=1)))
    assert c["C12"]["takeaway"] == ("The sheet's weights give a wrong output on some input: see the "
                                    "counterexample in the evidence.")
    assert c["C13"]["takeaway"] == th_claims.TEXT["seed_b"]["takeaway"]
    assert set(c["C12"]) == set(c["C13"])  # the same fields, the takeaway replaced, not added


@pytest.mark.parametrize("scales,fractions,quoted", [
    ([2.0, 3.0], [0.4, 0.6], "a fraction nan stay correct (at 3x: 0.4)"),  # no size inside the margin
    ([0.5, 0.9], [1.0, 0.7], "a fraction 0.7 stay correct (at 0.9x: nan)"),  # none outside it
])
def test_threshold_evidence_with_perturbations_on_one_side_of_the_margin_only(scales, fractions, quoted):
    """--perturb-scales may lie all above or all below 1: the missing side is quoted as nan, not an error."""
    d = _design()
    d["perturbation"] = {"scales_of_margin": scales, "fraction_still_correct": fractions, "samples": 100}
    assert quoted in th_claims.claims(_th_summary(a=d))["C12"]["evidence"]


def _all_claims():
    from jaxrnn.studies.skip_connections import claims as sk_claims
    from tests.studies.test_skip_connections import _fair_summary

    skip = __import__("numpy").zeros((2, 5, 2))
    skip[:, :, 1] = [[-10, -9, -8, -7, -6], [-5, -6, -4, -7, -8]]
    cfg, _, summary = _fair_summary(skip)
    return {**gd_claims.claims(gd_summary()), **th_claims.claims(_th_summary()), **sk_claims.claims(summary, cfg)}


def test_every_effect_has_the_schema_and_every_test_field_names_a_real_test():
    """Each effect is {name, estimate, ci95 [lo, hi], n, unit} with a non-empty name and unit; each claim's
    ``test`` field is ``path::function`` of a test function that exists in this repository."""
    import pathlib

    root = pathlib.Path(__file__).resolve().parents[2]
    claims = _all_claims()
    assert set(claims) == {"C1", "C2", "C3", "C4", "C12", "C13"}
    for cid, c in claims.items():
        for e in c["effects"]:
            assert set(e) == {"name", "estimate", "ci95", "n", "unit"}, (cid, e)
            assert e["name"] and e["unit"] and len(e["ci95"]) == 2, (cid, e)
        path, func = c["test"].split("::")
        assert f"def {func}(" in (root / path).read_text(), (cid, c["test"])
