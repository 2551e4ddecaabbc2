"""The decoding study: its host-side measures against slow twins, and a quick end-to-end run."""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn import stats
from jaxrnn.io.results import Dataset, write_json
from jaxrnn.io.runner import run as run_study
from jaxrnn.models import lm
from jaxrnn.models import sources as S
from jaxrnn.studies import decoding
from jaxrnn.studies.decoding import claims as K
from jaxrnn.studies.decoding import compute as C


def test_true_log_prob_is_the_sources_own():
    srcs = [S.windowed(S.random_source(k, 3, 4, eos=0.3), 1, 4) for k in jax.random.split(jax.random.key(0), 3)]
    emit = np.stack([np.asarray(s.emit_logp) for s in srcs])
    nxt = np.stack([np.asarray(s.next_state) for s in srcs])
    d = C.sample_sources(jax.tree.map(lambda *a: jnp.stack(a), *srcs), jax.random.key(1), n=16, max_len=6)
    tok, ln = np.array(d.tokens), np.asarray(d.length)
    tok[:, ::3, 0] = (tok[:, ::3, 0] + 1) % 4  # some impossible ones too
    got = C.true_log_prob(emit[:, None], nxt[:, None], tok, ln)
    want = np.asarray([[float(S.sequence_log_prob(srcs[i], jnp.asarray(tok[i, j]), ln[i, j])) for j in range(16)]
                       for i in range(3)])
    assert np.isfinite(want).any() and (~np.isfinite(want)).any()
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_loops_by_hand():
    tok = np.asarray([[1, 2, 1, 2, 1, 2, 5, 5],  # period 2 before EOS (5)
                      [1, 2, 3, 1, 2, 4, 5, 5],  # no repeat
                      [3, 3, 3, 3, 3, 3, 3, 3],  # period 1, unfinished
                      [1, 1, 1, 5, 5, 5, 5, 5]])  # too short for the window
    length = np.asarray([7, 7, 8, 4])
    fin = np.asarray([True, True, False, True])
    assert C.loops(tok, length, fin, window=4, period=2).tolist() == [True, False, True, False]
    assert C.loops(tok, length, fin, window=4, period=1).tolist() == [False, False, True, False]


def test_training_loss_is_the_lm_decoders_own():
    """The batched teacher-forced NLL equals the sum of the decoder interface's log-probs (lm_logits /
    lm_transition), the model the decoders search."""
    p = lm.init_lm(jax.random.key(0), 5, 8, 4)
    tokens = jnp.asarray([0, 3, 1, 5, 5, 5])
    nll, count = C.sequence_nll(p, tokens, 4)
    h, want = lm.lm_state0(p), 0.0
    for t in range(4):
        want -= float(jax.nn.log_softmax(lm.lm_logits(p, h))[int(tokens[t])])
        h = lm.lm_transition(p, h, int(tokens[t]))
    assert int(count) == 4
    assert float(nll) == pytest.approx(want, rel=1e-5)


def test_truncated_targets():
    tok = jnp.asarray([0, 1, 2, 3, 4, 9, 9, 9])
    for seed in range(20):
        t, n = C.truncate(tok, 6, jax.random.key(seed), 1.0, 9)
        n = int(n)
        assert 1 <= n <= 5 and int(t[n - 1]) == 9 and np.array_equal(np.asarray(t[:n - 1]), np.arange(n - 1))
    t, n = C.truncate(tok, 6, jax.random.key(0), 0.0, 9)
    assert int(n) == 6 and np.array_equal(np.asarray(t), np.asarray(tok))


def test_quick_end_to_end(tmp_path):
    s = run_study(decoding.STUDY, decoding.Config.quick(), tmp_path / "decoding", log=lambda *_: None)
    assert set(s["claims"]) == {"C9", "C10", "C11"}
    for claim in s["claims"].values():
        assert claim["verdict"] in stats.VERDICTS and claim["verdict"] != "invalid"
        assert claim["effects"] and all(set(e) == {"name", "estimate", "ci95", "n", "unit"} for e in claim["effects"])
        assert claim["takeaway"].endswith(".") and claim["takeaway"].count(". ") == 0
        assert 1 <= len(claim["caveats"]) <= 3 and claim["what_was_run"]
        assert all(len(str(claim[f])) <= 400 for f in ("evidence", "key_number", "takeaway", "what_was_run"))
    # the quick config's known verdicts (seed 0): a narrow beam misses the mode, wide beams find it but
    # return the empty output; top-1 / top-V are greedy / pure sampling
    c9 = s["claims"]["C9"]
    assert c9["verdict"] == "inconclusive"
    assert c9["parts"]["noise 0.05, top_k rule"]["(a) small k misses the mode"] == "confirmed"
    assert c9["parts"]["noise 0.05, top_k rule"]["(b) shorter"] == "confirmed"
    # the pool rule offers every EOS extension: the empty mode from k = 1 on, nothing left to see
    assert c9["counter_conditions"]["noise 0, pool rule"] == stats.NOT_TESTED
    assert c9["conditions"]["deciding_beam_rule"] == "top_k"
    assert {f"{c}, pool rule" for c in s["conditions"]} | {"true source, top_k rule"} <= set(c9["counter_conditions"])
    assert s["claims"]["C10"]["verdict"] == "confirmed"
    assert s["equivalence"]["top1_equals_greedy"] == s["equivalence"]["sequences"]  # no ties in trained models
    assert s["equivalence"]["tie_probability_top1_is_greedy"] == pytest.approx(0.5)
    assert s["claims"]["C11"]["verdict"] == "inconclusive"
    assert len(s["figures"]) == 3
    ds = Dataset.load(tmp_path / "decoding" / "data.npz")
    assert np.all(ds["gru__exact_nodes"] >= 1)
    # C10's figure data: on the untied row top-1 is greedy and top-V is pure sampling; on the tie they differ
    untied, tied = ds["c10_untied"], ds["c10_tied"]
    np.testing.assert_array_equal(untied[0], untied[1])
    np.testing.assert_allclose(untied[2], untied[3], rtol=1e-6)
    np.testing.assert_allclose(tied[1], [0.5, 0.5, 0, 0], atol=1e-7)
    assert tied[0].tolist() == [1, 0, 0, 0]
    for fam in ("gru", "source"):
        best = ds[f"{fam}__beam_score"][0].max(axis=(0, 1))
        ex = ds[f"{fam}__exact_score"]
        done = np.isfinite(ex)
        assert np.all(best[done] <= ex[done] + 1e-4 * (1 + np.abs(ex[done])))  # the exact mode is never beaten
        # the score gap: 0 without a search error, log p(mode) - log p(beam) with one, the open prefix's if unfinished
        gap, err, score = ds[f"{fam}__score_gap"], ds[f"{fam}__search_error"], ds[f"{fam}__beam_score"][0]
        open_raw, fin = ds[f"{fam}__beam_open_raw"][0], ds[f"{fam}__beam_finished"][0]
        exb = np.broadcast_to(ex, score.shape)
        assert np.all(gap[np.isfinite(gap)] >= 0) and np.all(gap[~err & fin] == 0)
        np.testing.assert_allclose(gap[err & fin], (exb - score)[err & fin], rtol=1e-12)
        np.testing.assert_allclose(gap[~fin], np.maximum(exb - open_raw, 0)[~fin], rtol=1e-12)
        assert np.isfinite(gap[:, :, done]).all()


def test_c9_sources_allow_eos_at_step_1():
    """C9's sources: EOS is possible in every state, the start state included, so the empty output competes
    from the first step and EOS can end a sequence after any number of tokens (no length window)."""
    for cfg in (decoding.Config(), decoding.Config.quick()):
        srcs = C.make_sources(cfg, jax.random.key(cfg.seed))
        emit = np.stack([np.asarray(s.emit_logp) for s in srcs])
        assert np.all(np.isfinite(emit[:, :, cfg.vocab]))  # every state, state 0 (the start) included
        assert cfg.vocab + 1 > max(cfg.beam_widths)  # every tested k < V
    cfg = decoding.Config.quick()
    srcs = C.make_sources(cfg, jax.random.key(0))
    d = C.sample_sources(jax.tree.map(lambda *a: jnp.stack(a), *srcs), jax.random.key(1), n=512, max_len=cfg.max_len)
    length = np.asarray(d.length)[np.asarray(d.finished)]
    assert (length == 1).any() and len(np.unique(length)) >= 5  # the empty sequence, and lengths spread
    # the old sources forbade EOS in the start state: the same draw without start_eos cannot stop at step 1
    base = S.random_sources(jax.random.key(0), 2, 3, 8, eos=0.15)
    assert np.all(np.isneginf(np.stack([np.asarray(s.emit_logp)[0, 8] for s in base])))


def test_support_of_each_setting_is_the_forced_log_q():
    """forced_grid (logits once, every setting's mask after) against decoding.forced_scores per setting."""
    from jaxrnn.models import decoding as dec
    params = jax.vmap(lambda k: lm.init_lm(k, 4, 6, 3))(jax.random.split(jax.random.key(2), 2))
    params = params._replace(out=params.out * 4.0)  # peaked, so that masks bite
    rng = np.random.default_rng(0)
    tokens = rng.integers(0, 4, (2, 8, 6)).astype(np.int32)
    length = rng.integers(1, 7, (2, 8)).astype(np.int32)
    for i, n in np.ndindex(2, 8):
        tokens[i, n, length[i, n] - 1:] = 4
    opts = [dec.sampler_options(5, top_k=1), dec.sampler_options(5, top_k=3), dec.sampler_options(5, top_p=0.6)]
    stacked = dec.SamplerOptions(*[np.stack(x) for x in zip(*opts)])
    got = np.asarray(C.forced_grid(params, stacked, tokens, length))
    for s, o in enumerate(opts):
        for i, n in np.ndindex(2, 8):
            p = jax.tree.map(lambda a: a[i], params)
            lq = dec.forced_scores(lm.lm_logits, lm.lm_transition, p, lm.lm_state0(p), jnp.asarray(tokens[i, n]),
                                   int(length[i, n]), o)[1]
            assert got[s, i, n] == bool(np.isfinite(float(lq)))
    assert got.any() and not got.all()


def test_replay_agreement_is_the_identity_and_can_fail():
    """C10's check: top-1 / top-V draws equal greedy / pure draws on the same logits and keys at every step,
    and a sampler that is not the reference (top-3 against greedy) is caught."""
    from jaxrnn.models import decoding as dec
    V, M, n, L = 5, 2, 16, 7
    params = jax.vmap(lambda k: lm.init_lm(k, V - 1, 6, 3))(jax.random.split(jax.random.key(3), M))
    keys = jax.random.split(jax.random.key(4), M * n).reshape(M, n)
    opts = {k: dec.sampler_options(V, top_k=k) for k in (1, 3, V)}

    def tokens(o):
        one = lambda p, k: dec.sample_with(k, lm.lm_logits, lm.lm_transition, p, lm.lm_state0(p), o,  # noqa: E731
                                           max_len=L, eos_id=V - 1).tokens
        return jax.vmap(jax.vmap(one, (None, 0)))(params, keys)

    same = lambda k, ref: np.asarray(C.replay_agreement(params, opts[k], keys, tokens(opts[k]), V - 1,  # noqa: E731
                                                        reference=ref)[0])
    assert same(1, C.greedy_reference).all() and same(V, C.pure_reference).all()
    assert not same(3, C.greedy_reference).all()
    # tied maxima are counted per step: all-equal output weights tie every step
    flat = params._replace(out=params.out * 0.0)
    _, tied, steps = C.replay_agreement(flat, opts[1], keys, tokens(opts[1]), V - 1, reference=C.greedy_reference)
    assert np.array_equal(np.asarray(tied), np.asarray(steps)) and int(np.asarray(steps).min()) >= 1


# ---------------------------------------------------------------------------------------------------------
# The claim functions on constructed data with known verdicts
# ---------------------------------------------------------------------------------------------------------

CFG = decoding.Config.quick()  # widths (1, 2, 4, 8), reference 2, cap 12
N_MODELS = 6
RAMP = np.arange(N_MODELS, dtype=float)
KS = ("1", "2", "4", "8")
ONES = np.ones(N_MODELS)


def _entry(gap, length, distinct, valid=lambda i: ONES):
    """A condition's per-width values, each a function of the width's index i (0..3) giving (models,)."""
    per_k = {k: {"gap": gap(i), "length": length(i), "distinct": distinct(i), "valid": valid(i)}
             for i, k in enumerate(KS)}
    per_k = {k: {n: [float(x) for x in v] for n, v in d.items()} for k, d in per_k.items()}
    return {"alpha=0/top_k": per_k, "alpha=0/pool": per_k, "exact_valid": [1.0] * N_MODELS,
            "exact_length": [1.0] * N_MODELS, "exact_complete": [1.0] * N_MODELS, "exact_nodes": [10.0] * N_MODELS,
            "sample_length": [9.0] * N_MODELS}


def _search_summary(entry):
    return {"conditions": ["noise 0", "noise 0.05"], "search": {"gru": {"noise 0": entry, "noise 0.05": entry},
                                                                "source": {"true source": entry}},
            "source_reference": {"mean_length": [9.0] * N_MODELS}}


MISSES = lambda i: (3 + RAMP) * (i == 0)  # noqa: E731  a gap at k=1 only
FINDS = lambda i: (3 + RAMP) * (i == 3)  # noqa: E731  the swapped pair: a gap at the largest k only
SHORTER = lambda i: 20 - 5 * i + RAMP % 2  # noqa: E731
LONGER = lambda i: 5 + 5 * i + RAMP % 2  # noqa: E731
FEWER = lambda i: np.maximum(6 - 2 * i - RAMP % 2, 0)  # noqa: E731
MORE = lambda i: 2 * i + RAMP % 2  # noqa: E731
NOISY = lambda i: 1 + RAMP + (i == 0) * np.where(RAMP % 2, 1.0, -1.0)  # noqa: E731  gap k=1 - k=8 averages 0
CASES = {"confirmed": (MISSES, SHORTER, FEWER), "refuted": (FINDS, LONGER, MORE), "nuanced": (MISSES, LONGER, MORE),
         "inconclusive": (NOISY, SHORTER, FEWER)}


@pytest.mark.parametrize("want", list(CASES))
def test_c9_verdicts_on_known_data(want):
    assert K.c9(_search_summary(_entry(*CASES[want])), CFG)["verdict"] == want


def test_c9_not_tested_and_a_flipped_sign():
    flat = _entry(lambda i: 0 * RAMP, lambda i: ONES, lambda i: 0 * RAMP)  # every output empty, the mode found
    got = K.c9(_search_summary(flat), CFG)
    assert got["verdict"] == stats.NOT_TESTED and "gap 0" in " ".join(got["not_tested_reasons"].values())
    cond = lambda *f, **kw: K.search_condition(_entry(*f, **kw)["alpha=0/top_k"], "1", "2", "8", "x", 12)[2]  # noqa
    # (a) alone: swapping the widths (the gap at k=1 <-> at k=8) turns confirmed into refuted
    assert cond(MISSES, SHORTER, FEWER)["(a) small k misses the mode"] == "confirmed"
    assert cond(FINDS, SHORTER, FEWER)["(a) small k misses the mode"] == "refuted"
    # (b) the trend's sign: shorter with k is confirmed, longer refuted; validity at its bound is set aside
    assert cond(MISSES, SHORTER, FEWER)["(b) shorter"] == "confirmed"
    assert cond(MISSES, LONGER, FEWER)["(b) shorter"] == "refuted"
    assert cond(MISSES, SHORTER, FEWER)[K.ADEQUACY] == stats.NOT_TESTED  # validity at its bound
    # validity is adequacy, reported (expected to fall with k) and never voted: (b) is length and diversity only
    half = cond(MISSES, SHORTER, FEWER, valid=lambda i: np.where(RAMP % 2, 1.0, float(i < 2)))
    assert half[K.ADEQUACY] == "inconclusive" and half[K.PART_B] == "confirmed"
    gain = cond(MISSES, SHORTER, FEWER, valid=lambda i: float(i > 0) * ONES)  # unfinished at k=1, valid after
    assert gain[K.ADEQUACY] == "refuted" and gain[K.PART_B] == "confirmed"
    loss = cond(MISSES, SHORTER, FEWER, valid=lambda i: float(i < 2) * ONES)  # the beam curse: invalid at large k
    assert loss[K.ADEQUACY] == "confirmed" and loss[K.PART_B] == "confirmed"
    assert cond(MISSES, LONGER, FEWER, valid=lambda i: float(i < 2) * ONES)[K.PART_B] == "nuanced"
    assert not any("valid" in k for k in cond(MISSES, SHORTER, FEWER) if k.startswith("(b)"))


def test_c9_mode_origin_model_error_or_property_of_the_source():
    src, why = K.mode_origin([1.0, 1.0, 2.0], [1.0, 1.0, 1.0, 2.0])
    assert src.estimate == pytest.approx(1.25) and src.n == 4 and "the source's, not shown a model error" in why
    _, why = K.mode_origin([1.0, 1.0, 2.0], [9.0, 10.0, 11.0, 10.0])  # the source's own mode is long
    assert "short modes are a model error" in why and "not shown" not in why
    got = K.c9(_search_summary(_entry(*CASES["confirmed"])), CFG)  # every mode length 1 in the fixture
    assert "not shown a model error" in got["evidence"]
    assert any(e["name"] == "true source: exact mode length" for e in got["effects"])
    assert "as is the true source's" in got["takeaway"] and "model error" not in got["takeaway"]
    long_src = _search_summary(_entry(*CASES["confirmed"]))  # the true source's own modes are long
    long_src["search"]["source"] = {"true source": {**long_src["search"]["source"]["true source"],
                                                    "exact_length": [9.0, 10.0, 11.0, 10.0]}}
    assert "short output is a model error" in K.c9(long_src, CFG)["takeaway"]


def test_trend_is_kendalls_tau_over_every_width():
    by_k = {"1": [3.0, 1.0, 2.0], "2": [2.0, 1.0, 2.0], "4": [1.0, 1.0, 3.0], "8": [0.0, 1.0, 1.0]}
    tau = K.trend(by_k)
    assert tau[0] == pytest.approx(-1.0) and tau[1] == 0.0
    # slow twin: concordant minus discordant pairs over sqrt of the untied pair counts (tau-b)
    x, y = [0, 1, 2, 3], [2.0, 2.0, 3.0, 1.0]
    pairs = [(i, j) for i in range(4) for j in range(i + 1, 4)]
    s = sum(np.sign(x[j] - x[i]) * np.sign(y[j] - y[i]) for i, j in pairs)
    untied_y = sum(y[i] != y[j] for i, j in pairs)
    assert tau[2] == pytest.approx(s / np.sqrt(len(pairs) * untied_y))


def _equivalence(n, agree, pure, untied_bad):
    return {"equivalence": {"sequences": n, "top1_equals_greedy": agree, "topV_equals_pure": pure,
                            "top1_disagree_untied": untied_bad, "tie_probability_top1_is_greedy": 0.5,
                            "top1_steps": 10 * n, "top1_steps_with_tied_maximum": n - agree}}


def test_c10_verdicts_on_known_data():
    assert K.c10(_equivalence(100, 100, 100, 0))["verdict"] == "confirmed"
    assert K.c10(_equivalence(100, 97, 100, 0))["verdict"] == "confirmed"  # only tied steps disagree: convention
    assert K.c10(_equivalence(100, 99, 100, 1))["verdict"] == "refuted"  # one untied counterexample
    assert K.c10(_equivalence(100, 100, 99, 0))["verdict"] == "refuted"  # top-V is not pure sampling once
    assert K.c10(_equivalence(0, 0, 0, 0))["verdict"] == stats.NOT_TESTED
    assert "convention" in K.c10(_equivalence(100, 100, 100, 0))["evidence"]


def _sampling_summary(fail_big, fail_small, ent_big, ent_small, fail_one=None, imp=None):
    """C11's rows: top-V, the moderate k and k = 1 (failures ``fail_one``, default as the moderate k); ``imp``
    (big, small, one) overrides the impossible-sample rates (default: the failure rates)."""
    V = CFG.vocab + 1
    fail_one = fail_small if fail_one is None else fail_one
    imp = (fail_big, fail_small, fail_one) if imp is None else imp
    row = lambda fail, ent, im: {"impossible": list(im), "failure": list(fail), "entropy_nats": list(ent),  # noqa
                                 "precision": [1.0] * N_MODELS, "recall": [0.5] * N_MODELS,
                                 "degenerate": [0.0] * N_MODELS, "nonterminating": [0.0] * N_MODELS}
    rows = {f"top_k={CFG.moderate_k}": row(fail_small, ent_small, imp[1]), "top_k=1": row(fail_one, ent_small, imp[2]),
            f"top_k={V}": row(fail_big, ent_big, imp[0])}
    return {"conditions": ["noise 0"], "sampling": {"noise 0": rows}, "source_reference": {"loop_rate": [0.0]}}


def test_c11_takeaway_claims_the_low_end_only_where_its_interval_shows_it():
    more_at_1 = stats.Effect("d", -0.4, (-0.6, -0.2), 8, "rate")  # moderate k minus top-1 < 0: k = 1 fails more
    t = K.c11_takeaway(more_at_1, (3, 8), 3)
    assert "failed more often than k = 3" in t and "3 of 8 models looped" in t and "not resolved" not in t
    unclear = stats.Effect("d", -0.36, (-0.77, 0.06), 8, "rate")
    t = K.c11_takeaway(unclear, (3, 8), 3)
    assert "not resolved" in t and "failed more" not in t
    fewer_at_1 = stats.Effect("d", 0.3, (0.1, 0.5), 8, "rate")  # the opposite sign is not the U either
    assert "not resolved" in K.c11_takeaway(fewer_at_1, (0, 8), 3)
    assert K.c11_takeaway(None, (0, 8), 3).endswith("impossible samples.")
    looping = _sampling_summary(0.5 + 0.05 * RAMP, 0.1 + 0.01 * RAMP, 9 + RAMP, 1 + 0.1 * RAMP)
    looping["sampling"]["noise 0"]["top_k=1"]["degenerate"] = [1.0, 0.0, 1.0] + [0.0] * (N_MODELS - 3)
    got = K.c11(looping, CFG)
    assert f"2 of {N_MODELS} models loop" in got["evidence"] and f"2 of {N_MODELS} models looped" in got["takeaway"]


def test_c9_pool_clause_only_when_every_pool_beam_found_the_mode():
    gap0 = "every beam found the mode at both widths (gap 0): no search error to see"
    both = {"noise 0, pool rule": gap0, "noise 0.05, pool rule": gap0}
    assert "found it even at k = 1" in K.pool_clause(both, ["noise 0", "noise 0.05"], "1")
    assert K.pool_clause({"noise 0, pool rule": gap0}, ["noise 0", "noise 0.05"], "1") == ""
    assert K.pool_clause({}, [], "1") == ""


def test_c11_verdicts_on_known_data():
    up, low = 0.5 + 0.05 * RAMP, 0.1 + 0.01 * RAMP
    e_hi, e_lo = 9 + RAMP, 1 + 0.1 * RAMP
    assert K.c11(_sampling_summary(up, low, e_hi, e_lo, low / 2), CFG)["verdict"] == "confirmed"
    assert K.c11(_sampling_summary(low, up, e_lo, e_hi, up + 0.1), CFG)["verdict"] == "refuted"  # swapped pair
    assert K.c11(_sampling_summary(low, up, e_hi, e_lo, up / 2), CFG)["verdict"] == "nuanced"  # flipped failure sign
    noisy = 0.3 + 0.2 * (RAMP % 2) - 0.1
    assert K.c11(_sampling_summary(noisy, 0.3 + 0 * RAMP, e_hi, e_lo, noisy), CFG)["verdict"] == "inconclusive"
    zero = 0 * RAMP
    assert K.c11(_sampling_summary(zero, zero, e_hi, e_lo), CFG)["verdict"] == stats.NOT_TESTED


def test_c11_u_shape_greedy_loops_at_k1():
    up, low = 0.5 + 0.05 * RAMP, 0.1 + 0.01 * RAMP
    e_hi, e_lo = 9 + RAMP, 1 + 0.1 * RAMP
    loops = 0.9 - 0.01 * RAMP  # k = 1 is greedy: it loops (a failure) but never says anything impossible
    got = K.c11(_sampling_summary(up, low, e_hi, e_lo, fail_one=loops, imp=(up, low, 0 * RAMP + 0.01 * RAMP)), CFG)
    pc = got["per_condition"]
    assert pc[f"noise 0, failure, k=1 vs {CFG.moderate_k}"] == "refuted"
    assert f"noise 0, impossible, k=1 vs {CFG.moderate_k}" not in pc  # the U is about loops, not nonsense
    assert got["verdict_by_failure_definition"]["all failures"] == "nuanced"
    assert got["verdict_by_failure_definition"]["impossible only"] == "confirmed"
    assert got["verdict"] == "nuanced"


def test_rate_text_never_shows_a_small_positive_rate_as_zero():
    assert K._rate_text(0) == "0%"
    assert K._rate_text(1e-4) == "<0.1%"  # would round to 0.0 %
    assert K._rate_text(1e-3) == "0.1%"  # the first rate one decimal shows
    assert K._rate_text(0.05) == "5.0%" and K._rate_text(0.099) == "9.9%"  # one decimal below 10 %
    assert K._rate_text(0.1) == "10%" and K._rate_text(0.5) == "50%" and K._rate_text(1.0) == "100%"


def test_trend_takes_a_boolean_measure():
    """Validity is a flag per model and width: the trend reads it as 0/1 (falls from valid to invalid: -1)."""
    by_k = {"1": [True, False], "8": [False, False]}
    np.testing.assert_array_equal(K.trend(by_k), [-1.0, 0.0])


def _cond(entry):
    """search_condition over the fixture's widths (small 1, reference 2, big 8, cap 12)."""
    return K.search_condition(entry, "1", "2", "8", "x", 12)


def _unknown_gaps(entry, models, widths=KS):
    """The score gap NaN (the exact search over its node budget: mode unknown) for these models and widths."""
    for k in widths:
        entry[k]["gap"] = [float("nan") if m in models else g for m, g in enumerate(entry[k]["gap"])]
    return entry


A = "(a) small k misses the mode"


def test_c9_gap_is_paired_over_the_models_whose_gap_is_known(tmp_path):
    # summary.json writes NaN as "nan": read back, a model whose exact search did not finish is set aside
    write_json(tmp_path / "entry.json", _unknown_gaps(_entry(MISSES, SHORTER, FEWER)["alpha=0/top_k"], {0}))
    entry = json.loads((tmp_path / "entry.json").read_text())
    assert entry["1"]["gap"][0] == "nan"
    _, effects, parts, no_gap = _cond(entry)
    assert effects[0].n == N_MODELS - 1 and parts[A] == "confirmed" and no_gap is None
    # a gap unknown at one of the two widths sets the model aside too (not an error of the paired effect)
    _, effects, parts, _ = _cond(_unknown_gaps(_entry(MISSES, SHORTER, FEWER)["alpha=0/top_k"], {0}, ["8"]))
    assert effects[0].n == N_MODELS - 1 and parts[A] == "confirmed"


def test_c9_gap_needs_two_models_with_a_finished_search():
    # two known models, gaps 5.0 and 5.1 at k=1, 0 at k=8: mean 5.05, sd 0.071, t(1) 12.71 -> [4.41, 5.69] > 0
    near = lambda i: (5 + 0.1 * RAMP) * (i == 0)  # noqa: E731
    two = _unknown_gaps(_entry(near, SHORTER, FEWER)["alpha=0/top_k"], set(range(2, N_MODELS)))
    _, effects, parts, no_gap = _cond(two)
    assert effects[0].n == 2 and parts[A] == "confirmed" and no_gap is None
    one = _unknown_gaps(_entry(near, SHORTER, FEWER)["alpha=0/top_k"], set(range(1, N_MODELS)))
    _, effects, parts, no_gap = _cond(one)
    assert effects[0].n == 1 and parts[A] == stats.NOT_TESTED
    assert no_gap == "fewer than 2 models with a finished exact search"
    # no model at all: the gap's effect is reported, empty (NaN, n = 0), and (a) is not tested for the same reason
    none = _unknown_gaps(_entry(near, SHORTER, FEWER)["alpha=0/top_k"], set(range(N_MODELS)))
    _, effects, parts, no_gap = _cond(none)
    e = effects[0]
    assert e.name == "x: score gap to the mode, k=1 minus k=8" and e.n == 0 and e.unit == "nats"
    assert np.isnan(e.estimate) and np.isnan(e.ci95).all()
    assert parts[A] == stats.NOT_TESTED and no_gap == "fewer than 2 models with a finished exact search"
    assert parts[K.PART_B] == "confirmed"  # (b) does not need the exact mode


def test_c9_validity_zero_everywhere_is_at_its_bound():
    never = _cond(_entry(MISSES, SHORTER, FEWER, valid=lambda i: 0 * ONES)["alpha=0/top_k"])[2]
    assert never[K.ADEQUACY] == stats.NOT_TESTED  # its tau would be 0 with no spread: inconclusive, not "not tested"


def test_c9_tau_interval_is_clipped_to_minus_one_and_one():
    """Five models rise (fall) at every width, one is flat: taus (1, 1, 1, 1, 1, 0), mean 5/6, sd 0.41,
    t(5) 2.571 -> half-width 0.43: the t interval reaches past 1, and no tau lies there."""
    flat_last = RAMP < N_MODELS - 1
    rises = lambda i: 5 + i * flat_last  # noqa: E731
    falls = lambda i: 6 - i * flat_last  # noqa: E731
    effects = _cond(_entry(MISSES, rises, falls)["alpha=0/top_k"])[1]
    length_tau, distinct_tau = effects[1], effects[5]
    assert "Kendall tau of k and output length" in length_tau.name
    assert "Kendall tau of k and output distinct" in distinct_tau.name
    half = 2.5706 * np.std([1, 1, 1, 1, 1, 0], ddof=1) / np.sqrt(6)
    assert length_tau.ci95[1] == 1.0 and length_tau.ci95[0] == pytest.approx(5 / 6 - half, abs=1e-3)
    assert distinct_tau.ci95[0] == -1.0 and distinct_tau.ci95[1] == pytest.approx(-5 / 6 + half, abs=1e-3)


def _modes(gru, source):
    """The confirmed fixture with the GRUs' exact mode lengths ``gru`` (every model) and the true source's."""
    s = _search_summary(_entry(*CASES["confirmed"]))
    s["search"]["gru"] = {c: {**e, "exact_length": [float(gru)] * N_MODELS} for c, e in s["search"]["gru"].items()}
    s["search"]["source"] = {"true source": {**s["search"]["source"]["true source"], "exact_length": source}}
    return K.c9(s, CFG)["takeaway"]


def test_c9_takeaway_follows_the_mode_lengths():
    long_gru = "wider beams gave shorter, blander output, a model error only if the true distribution's own mode"
    assert long_gru + " is not short" in _modes(3.0, [1.0] * 4)  # GRU modes longer than 2 ids: not "nearly empty"
    at_two = _modes(2.0, [1.0] * 4)  # 2 ids is still nearly empty (the rule is > 2)
    assert "nearly empty, as is the true source's" in at_two and "model error only if" not in at_two
    assert ("that sequence is nearly empty here while the true source's is longer, so wider beams' short output is "
            "a model error.") in _modes(1.0, [9.0, 10.0, 11.0, 10.0])
    # source modes (1, 1, 1, 2): mean 1.25, sd 0.5, t(3) 3.182 -> [0.45, 2.05], which holds the GRUs' 1.0
    some_longer = _modes(1.0, [1.0, 1.0, 1.0, 2.0])
    assert "as is the true source's" in some_longer and "model error" not in some_longer
    _, why = K.mode_origin([1.0, 1.0, 2.0], [9.0, 10.0, 11.0, 10.0])
    assert why.endswith("short modes are a model error (the source's is longer)")


def test_c9_key_number_averages_the_finished_searches_also_read_back_from_json(tmp_path):
    """The key number's mean gap leaves out a model whose exact search did not finish: NaN as computed,
    "nan" once summary.json is read back (the committed results are recomputed from it)."""
    entry = _entry(MISSES, SHORTER, FEWER)
    _unknown_gaps(entry["alpha=0/top_k"], {0})
    write_json(tmp_path / "summary.json", _search_summary(entry))
    read_back = json.loads((tmp_path / "summary.json").read_text())
    for summary in (_search_summary(entry), read_back):
        # models 1-5 at k=1: gaps 3 + (1..5), mean 6.0; at k=8 no gap
        assert "gap to the mode 6.0 nats at k=1, 0.0 at k=8" in K.c9(summary, CFG)["key_number"]
    _unknown_gaps(entry["alpha=0/top_k"], set(range(N_MODELS)))
    # no search finished: the mean is NaN, which the runner turns into an invalid result (never a number)
    assert "gap to the mode nan nats" in K.c9(_search_summary(entry), CFG)["key_number"]
