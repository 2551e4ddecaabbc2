"""Threshold RNNs: the boundary, the seed designs, the checker against itself, margins, learning."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn.models import threshold as th


def test_heaviside_boundary_fires_at_zero():
    z = jnp.asarray([-1e-7, -0.0, 0.0, 1e-7, -1.0], jnp.float32)
    assert jax.jit(th.heaviside)(z).tolist() == [0.0, 1.0, 1.0, 1.0, 0.0]


def test_seed_designs_are_proved():
    for design, states in ((th.SEED_A, [(0,), (1,)]), (th.SEED_B, [(0, 0), (1, 0), (1, 1)])):
        proof = th.prove(design)
        assert proof["proved"] and proof["counterexample"] is None
        assert proof["reachable_states"] == states
        assert proof["margin"] == pytest.approx(1 / 6)
        ex = th.exhaustive_check(design, length=12 if design.spec.n_inputs == 1 else 6)
        assert ex["wrong_outputs"] == 0 and ex["sequences"] == 4096
    # the sheet's names for (a): w1 = -1, w2 = 1, b2 = 0.5, w3 = -1, b3 = 0.5
    sheet = {"w1": -1.0, "w2": 1.0, "b2": 0.5, "w3": -1.0, "b3": 0.5}
    for name, (k, idx) in th.SEED_A_NAMES.items():
        assert th.SEED_A.params[k][idx] == sheet[name]


def test_classic_designs_are_proved():
    for design in (th.PARITY, th.ADDER):
        assert th.prove(design)["proved"]
        assert th.exhaustive_check(design, length=12 if design.spec.n_inputs == 1 else 6)["wrong_outputs"] == 0


def test_known_bad_design_rejected_with_minimal_counterexample():
    bad = th.with_weight(th.SEED_B.params, "r", (), 0.0)  # no memory of earlier disagreement
    proof = th.prove(th.SEED_B, bad)
    assert not proof["proved"]
    cex = proof["counterexample"]
    assert len(cex["inputs"]) == 2 and cex["outputs"][-1] != cex["expected"][-1]
    assert th.exhaustive_check(th.SEED_B, bad, length=1)["wrong_outputs"] == 0  # nothing shorter
    ex = th.exhaustive_check(th.SEED_B, bad, length=2)
    assert ex["wrong_outputs"] > 0 and len(ex["counterexample"]["inputs"]) == 2


def _random_variants(design, n, key):
    """Seed weights with 1-3 entries moved by random multiples of 0.25: a mix of right and wrong."""
    names = th.weight_names(design)
    rng = np.random.default_rng(int(jax.random.randint(key, (), 0, 2 ** 31 - 1)))
    out = []
    for _ in range(n):
        p = {k: np.array(v) for k, v in design.params.items()}
        for j in rng.choice(len(names), size=rng.integers(1, 4), replace=False):
            k, idx = names[j]
            p[k][idx] += rng.integers(-3, 4) * 0.25
        out.append(p)
    return out


@pytest.mark.parametrize("design,length", [(th.SEED_A, 5), (th.SEED_B, 8), (th.PARITY, 5)])
def test_proof_agrees_with_exhaustive_check_on_random_networks(design, length, key):
    # length >= number of product states, so a minimal counterexample is never longer: complete.
    verdicts = []
    vector_proof = jax.jit(lambda p: th.correct_for_all_lengths(design, p))
    for p in _random_variants(design, 30, key):
        proved = th.prove(design, p)["proved"]
        exhaustive = th.exhaustive_check(design, p, length=length)["wrong_outputs"] == 0
        assert proved == exhaustive == bool(vector_proof(jax.tree.map(jnp.asarray, p)))
        verdicts.append(proved)
    assert 0 < sum(verdicts) < len(verdicts), "the sample must hold both right and wrong networks"


def test_margin_bound_holds_and_is_not_vacuous(key):
    for design in th.DESIGNS.values():
        margin = th.prove(design)["margin"]
        surv = th.perturbation_survival(design, margin, [0.99, 6.0], 256, key=key)
        assert surv[0] == 1.0 and surv[1] < 1.0


def test_learned_and_hardened_networks_pass_the_proof(key):
    params, losses = th.train_soft(th.SEED_A, keys=jax.random.split(key, 8), steps=300, learning_rate=0.05,
                                   tau_start=1.0, tau_end=1.0, train_length=6)
    ok = np.asarray(jax.vmap(lambda p: th.correct_for_all_lengths(th.SEED_A, p))(params))
    assert ok.any()
    assert losses[:, -1].mean() < losses[:, 0].mean()
    for i in np.flatnonzero(ok):
        assert th.prove(th.SEED_A, {k: np.asarray(v[i]) for k, v in params.items()})["proved"]


def test_bad_inputs_are_one_line_errors():
    with pytest.raises(ValueError, match="weight 'W' has shape"):
        th.check_params(th.SEED_B, dict(th.SEED_B.params, W=np.zeros((3, 2))))
    with pytest.raises(ValueError, match="must be binary"):
        th.check_sequences(th.SEED_A, np.array([[[0.0], [2.0]]]))
    with pytest.raises(ValueError, match=r"shape \(N, L, 2\)"):
        th.check_sequences(th.SEED_B, np.zeros((1, 3, 1)))
    with pytest.raises(ValueError, match="exceed the exhaustive limit"):
        th.exhaustive_check(th.SEED_B, length=14)
    assert th.check_sequences(th.SEED_A, np.array([[[1], [1], [0]]]))["wrong_outputs"] == 0
