"""Skip-connection RNN: transfer-matrix closed form vs jax.grad / jax.jvp, the path view, the study."""

import copy
import functools
import json
import math
import types

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn.studies import skip_connections
from jaxrnn.studies.skip_connections import claims as skip_claims
from jaxrnn.studies.skip_connections import compute as skip_compute
from jaxrnn.studies.skip_connections import names as SN
from jaxrnn.io.runner import run as run_study
from jaxrnn.core import gradients
from jaxrnn.core.cells import ACTIVATIONS, ScalarParams, SkipParams
from jaxrnn.core.logspace import relative_error


def _p(w, m, b=0.0, dtype=jnp.float64):
    return SkipParams(*(jnp.asarray(v, dtype) for v in (w, m, 1.0, b)))


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("w,m", [(1.0, 2.0), (0.5, 0.5), (3.0, 1.5), (2.0, 4.0), (6.0, 3.0)])
def test_skip_closed_form_matches_grad_and_jvp_float64(act, w, m, key):
    """Same-sign weights (no cancellation between paths): 1e-10, or autodiff's own rounding bound."""
    T = 150
    with jax.enable_x64(True):
        xs = jax.random.normal(key, (T,), dtype=jnp.float64)
        p = _p(w, m)
        closed = jax.jit(functools.partial(gradients.skip_grad_log_magnitude, act=act))(p, 0.5, 0.5, xs)
        fwd = np.asarray(jax.jit(functools.partial(gradients.skip_grad_forward, act=act))(p, 0.5, 0.5, xs))
        rev = np.asarray(jax.jit(jax.vmap(lambda n: gradients.skip_grad_reverse(p, 0.5, 0.5, xs, n, act=act)))(
            jnp.arange(1, T + 1)))
        kappa = np.asarray(gradients.skip_rounding_scale(p, 0.5, 0.5, xs, act=act))
    scale = kappa + gradients.closed_form_rounding_scale(closed, np.float64) + 4e-16 * np.arange(1, T + 1)
    for value, mode in ((fwd, "forward"), (rev, "reverse")):
        mask = gradients.autodiff_representable(closed, np.float64, mode) & (value != 0)
        assert mask.sum() >= 20
        err = relative_error(closed, value)[mask]
        assert np.all(gradients.explained_by_rounding(err, scale[mask], 1e-10)), err.max()


def test_skip_with_m_zero_is_the_scalar_rnn(key):
    xs = jax.random.normal(key, (300,))
    for act in ACTIVATIONS:
        skip = gradients.skip_grad_log_magnitude(_p(3.0, 0.0, dtype=jnp.float32), 0.5, 0.5, xs, act=act)
        plain = gradients.grad_log_magnitude(ScalarParams(jnp.float32(3.0), jnp.float32(1.0), jnp.float32(0.0)),
                                             0.5, xs, act=act)
        np.testing.assert_allclose(np.asarray(skip.log_abs), np.asarray(plain.log_abs), rtol=2e-5)
        np.testing.assert_array_equal(np.asarray(skip.sign), np.asarray(plain.sign))


def test_skip_closed_form_path_sum_and_fair_gain(key):
    T = 40
    with jax.enable_x64(True):
        xs = jax.random.normal(key, (T,), dtype=jnp.float64)
        p = _p(1.0, 1.5)
        contrib, count = gradients.skip_path_sums(p, 0.5, 0.5, xs, act="sigmoid")
        closed = gradients.skip_grad_log_magnitude(p, 0.5, 0.5, xs, act="sigmoid")
    value = float(np.asarray(closed.sign)[-1] * np.exp(np.asarray(closed.log_abs)[-1]))
    assert abs(contrib.sum() - value) <= 1e-10 * abs(value)
    # compositions of T into 1s and 2s: C(k, T - k) paths with k edges, Fibonacci(T + 1) in all
    k = np.arange(T + 1)
    expect = np.array([math.comb(int(kk), T - int(kk)) if 2 * kk >= T else 0 for kk in k])
    np.testing.assert_array_equal(count, expect)
    fib = [1, 1]
    while len(fib) < T + 2:
        fib.append(fib[-1] + fib[-2])
    assert count.sum() == fib[T]
    # fewer factors per path: the all-one-step path is a vanishing share of the sum
    assert abs(contrib[T]) < 1e-6 * np.abs(contrib).sum()


def test_quick_end_to_end(tmp_path):
    s = run_study(skip_connections.STUDY, skip_connections.Config.quick(), tmp_path / "skip_connections")
    # the quick config gains decades at both totals (measured: confirmed; a gain of the wrong sign gives nuanced)
    assert s["claims"]["C4"]["verdict"] == "confirmed"
    assert all(e["estimate"] > 0 for e in s["claims"]["C4"]["effects"])
    for act, rep in s["agreement"].items():
        for tag in ("float32", "float64"):
            for mode in ("forward_vs_closed", "reverse_vs_closed"):
                assert rep[tag][mode]["points"] > 10 and rep[tag][mode]["unexplained"] == 0, (act, tag, mode)
    assert s["paths"]["rel_diff"] < 1e-10
    assert len(s["figures"]) == 4


def _fair_summary(skip, totals=(1.0, 3.0), lengths=(50, 200)):
    n_share = skip.shape[1]
    cfg = types.SimpleNamespace(totals=totals, lengths=lengths, n_share=n_share)
    ds = {SN.M_SHARE: np.linspace(0.0, 1.0, n_share)}
    rep = skip_compute.fair_report(cfg, ds, skip, np.asarray(lengths))
    paths = {"w": 1.0, "m": 1.0, "act": "sigmoid", "T": 20, "paths": 10946.0, "rel_diff": 1e-14,
             "share_all_one_step_path": 1e-6, "share_of_shortest_half": 0.5}
    return cfg, rep, {"fair": {"sigmoid": rep}, "paths": paths}


def test_fair_report_and_c4_verdict_on_known_data():
    """log10|dh_T/dh_0| over the shares m / (w + m) = 0, 1/4, 1/2, 3/4, 1 at T = 50 and 200, by hand:
    total 1: -10, -9, -8, -7, -6 at T = 200 (every split helps, best +4 at share 1);
    total 3: -5, -6, -4, -7, -8 (share 1/2 gains +1, shares 1/4, 3/4, 1 hurt: 3 of 4).
    Both totals gain: confirmed. With total 1's gains flipped (the plain RNN better than every split) only
    total 3 gains: nuanced. Computing the gain with the wrong sign turns the first into nuanced too."""
    skip = np.zeros((2, 5, 2))
    skip[0, :, 1] = [-10, -9, -8, -7, -6]
    skip[1, :, 1] = [-5, -6, -4, -7, -8]
    skip[:, :, 0] = skip[:, :, 1] / 4  # T = 50: the same shape, a quarter of the decades
    cfg, rep, summary = _fair_summary(skip)
    r1, r3 = rep["1"][200], rep["3"][200]
    assert (r1["best_gain_decades"], r1["best_m_share"], r1["frac_shares_that_hurt"]) == (4.0, 1.0, 0.0)
    assert (r3["best_gain_decades"], r3["best_m_share"], r3["frac_shares_that_hurt"]) == (1.0, 0.5, 0.75)
    assert r1["plain_log10"] == -10.0 and rep["1"][50]["best_gain_decades"] == 1.0
    c4 = skip_claims.claims(summary, cfg)["C4"]
    assert c4["verdict"] == "confirmed"
    assert [e["estimate"] for e in c4["effects"]] == [4.0, 1.0]
    assert all(e["n"] == 5 and e["ci95"] == [e["estimate"]] * 2 for e in c4["effects"])
    skip[0, :, 1] = [-6, -7, -8, -9, -10]
    _, _, summary = _fair_summary(skip)
    assert skip_claims.claims(summary, cfg)["C4"]["verdict"] == "nuanced"
    skip[1, :, 1] = [-4, -6, -5, -7, -8]  # no total gains (total 3's best split is the plain RNN: gain 0)
    _, rep, summary = _fair_summary(skip)
    assert rep["3"][200]["best_gain_decades"] == 0.0  # (the verdict then is not pinned: see the report)
    skip[0, :, 1] = [-10, -9, -8, -7, -6]  # total 1 gains, total 3 gains exactly 0: not "gains", nuanced
    _, _, summary = _fair_summary(skip)
    assert skip_claims.claims(summary, cfg)["C4"]["verdict"] == "nuanced"
    # the claim reads T = 200 when it was computed, else the longest T
    cfg2, _, summary = _fair_summary(skip[:, :, :1], lengths=(50,))
    assert "T=50" in skip_claims.claims(summary, cfg2)["C4"]["key_number"]


def test_c4_takeaway_follows_the_verdict_and_quotes_the_gain_range():
    """The data of test_fair_report_and_c4_verdict_on_known_data: both totals gain (+4, +1): the
    'sum over paths' takeaway, +1 to +4 decades; total 1 flipped (gain 0) and total 3 still +1: the
    'only at some total weights' takeaway, +0 to +1 (one total helped is not every total)."""
    skip = np.zeros((2, 5, 2))
    skip[0, :, 1] = [-10, -9, -8, -7, -6]
    skip[1, :, 1] = [-5, -6, -4, -7, -8]
    cfg, _, summary = _fair_summary(skip)
    take = skip_claims.claims(summary, cfg)["C4"]["takeaway"]
    assert take.startswith("A skip connection weakens vanishing because the gradient becomes a sum over paths")
    assert take.endswith("changed the gradient by +1 to +4 decades at T = 200.")
    skip[0, :, 1] = [-6, -7, -8, -9, -10]
    _, _, summary = _fair_summary(skip)
    take = skip_claims.claims(summary, cfg)["C4"]["takeaway"]
    assert take.startswith("A skip connection weakens vanishing only at some total weights: at equal total weight")
    assert take.endswith("best split changed the gradient by +0 to +1 decades at T = 200.")


@pytest.mark.parametrize("act", ACTIVATIONS)
@pytest.mark.parametrize("w,m", [(2.0, -1.5), (-3.0, -2.0), (1.5, -1.5), (-1.0, -2.0), (-3.0, 2.0)])
def test_skip_closed_form_with_cancelling_paths_float64(act, w, m, key):
    """A path with k edges has 2k - T one-step (w) and T - k two-step (m) edges and positive act' factors,
    so its sign is sign(w)^(2k-T) sign(m)^(T-k) = sign(w)^T (sign(m))^(T-k): paths cancel exactly when
    m < 0 (then the transfer-matrix product can lose digits a same-sign test never probes); w < 0 < m is
    the control where they do not. Against jax.jvp's forward
    derivative: within autodiff's own rounding bound (kappa from ``skip_rounding_scale``, which grows
    with the cancellation) or 1e-10; against the explicit path sum (T = 24): within 1e-13 x the sum's
    condition number sum|c| / |sum c| (float64 rounding of 46368 terms is ~1e-15 each, relative to sum|c|)."""
    T = 150
    with jax.enable_x64(True):
        xs = jax.random.normal(key, (T,), dtype=jnp.float64)
        p = _p(w, m)
        closed = jax.jit(functools.partial(gradients.skip_grad_log_magnitude, act=act))(p, 0.5, 0.5, xs)
        fwd = np.asarray(jax.jit(functools.partial(gradients.skip_grad_forward, act=act))(p, 0.5, 0.5, xs))
        kappa = np.asarray(gradients.skip_rounding_scale(p, 0.5, 0.5, xs, act=act))
    scale = kappa + gradients.closed_form_rounding_scale(closed, np.float64) + 4e-16 * np.arange(1, T + 1)
    mask = gradients.autodiff_representable(closed, np.float64, "forward") & (fwd != 0)
    assert mask.sum() >= 20
    err = relative_error(closed, fwd)[mask]
    assert np.all(gradients.explained_by_rounding(err, scale[mask], 1e-10)), err.max()
    T2 = 24
    with jax.enable_x64(True):
        contrib, _ = gradients.skip_path_sums(p, 0.5, 0.5, xs[:T2], act=act)
        short = gradients.skip_grad_log_magnitude(p, 0.5, 0.5, xs[:T2], act=act)
    value = float(np.asarray(short.sign)[-1] * np.exp(np.asarray(short.log_abs)[-1]))
    nonzero = contrib[contrib != 0]
    assert (np.any(nonzero > 0) and np.any(nonzero < 0)) == (m < 0)  # the case this test is for: paths cancel
    cond = np.abs(contrib).sum() / abs(value)
    assert abs(contrib.sum() - value) <= 1e-13 * cond * abs(value), (contrib.sum(), value, cond)


def test_c4_reads_sigmoid_at_t_200_and_json_keys():
    """With tanh listed first and a longer T = 300 read too, C4 is decided on sigmoid at T = 200; the
    summary as saved to JSON (string keys) gives the same claim; the key number and evidence quote the
    gains, the shares that hurt and the path shares (in %)."""
    skip = np.zeros((2, 5, 3))
    skip[0, :, 1] = [-10, -9, -8, -7, -6]  # sigmoid, T = 200: both totals gain
    skip[1, :, 1] = [-5, -6, -4, -7, -8]
    skip[:, :, 2] = skip[:, ::-1, 1]  # T = 300: total 1 gains nothing (all shares hurt)
    skip[:, :, 0] = skip[:, :, 1]
    cfg, rep, summary = _fair_summary(skip, lengths=(50, 200, 300))
    bad = copy.deepcopy(rep)
    for tot in bad:
        for t in bad[tot]:
            bad[tot][t]["best_gain_decades"] = -1.0
    summary["fair"] = {"tanh": bad, "sigmoid": rep}
    summary["paths"].update(share_all_one_step_path=0.002, share_of_shortest_half=0.25)
    c4 = skip_claims.claims(summary, cfg)["C4"]
    assert c4["verdict"] == "confirmed" and [e["estimate"] for e in c4["effects"]] == [4.0, 1.0]
    assert c4["key_number"] == "decades gained at T=200 (sigmoid, best split of w+m): w+m=1: +4.0, w+m=3: +1.0"
    assert "w+m=1: 0%, w+m=3: 75%" in c4["evidence"]
    assert "carries 0.2% of the total" in c4["evidence"] and "3T/4 edges 25%." in c4["evidence"]
    assert c4["effects"][0]["name"] == "decades gained at the best split, w+m = 1, T = 200"
    assert "sigmoid, x ~ N(0, 1), equal total weight w + m, T = 200" in c4["conditions"]
    saved = json.loads(json.dumps(summary))
    assert skip_claims.claims(saved, cfg)["C4"] == c4
    summary["fair"] = {"tanh": rep}  # without sigmoid: the first activation swept
    assert "(tanh, best split" in skip_claims.claims(summary, cfg)["C4"]["key_number"]
