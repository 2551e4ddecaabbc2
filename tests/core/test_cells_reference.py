"""GRU and LSTM cells against float64 numpy implementations written from the equations.

Weight mapping (the library's stacked arrays -> the equations' matrices):
GRU:  W[0], U[0], b[0] -> update gate z; W[1], U[1], b[1] -> reset gate r; W[2], U[2], b[2] -> candidate c.
      z = sigma(W_z x + U_z h + b_z), r = sigma(W_r x + U_r h + b_r), c = tanh(W_c x + U_c (r * h) + b_c),
      h' = (1 - z) h + z c  (Cho et al. 2014's GRU with z in the role of 1 - z of the paper's notation:
      z = 1 takes the candidate; the reset gate multiplies h before U_c, as in the paper, not U_c h after).
LSTM: W[0..3], U[0..3], b[0..3] -> input gate i, forget gate f, output gate o, candidate g (tanh);
      c' = f c + i g, h' = o tanh(c'); the state is the vector (h, c).
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn.core.cells import GRUParams, LSTMParams, gru_cell, lstm_cell
from jaxrnn.models import lm


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


def gru_reference(W, U, b, h, x):
    Wz, Wr, Wc = W
    Uz, Ur, Uc = U
    bz, br, bc = b
    z = _sigmoid(Wz @ x + Uz @ h + bz)
    r = _sigmoid(Wr @ x + Ur @ h + br)
    c = np.tanh(Wc @ x + Uc @ (r * h) + bc)
    return (1.0 - z) * h + z * c


def lstm_reference(W, U, b, h, c, x):
    pre = [W[g] @ x + U[g] @ h + b[g] for g in range(4)]
    i, f, o = _sigmoid(pre[0]), _sigmoid(pre[1]), _sigmoid(pre[2])
    g = np.tanh(pre[3])
    c = f * c + i * g
    return o * np.tanh(c), c


def _draw(rng, gates, n, k):
    # weights of scale 1 (not 1/sqrt(n)): gates away from 0.5 and 0/1, so swapped gates change the result
    return rng.normal(size=(gates, n, k)), rng.normal(size=(gates, n, n)), rng.normal(size=(gates, n))


@pytest.mark.parametrize("n,k", [(1, 1), (4, 3), (7, 5)])
def test_gru_cell_matches_the_equations_float64(n, k):
    """20 steps of the library's GRU vs the numpy one: 1e-12 relative (float64 rounding of ~n-term dot
    products over 20 steps is ~1e-14; a swapped z, a misplaced r or a sign is O(1))."""
    rng = np.random.default_rng(n * 10 + k)
    W, U, b = _draw(rng, 3, n, k)
    xs = rng.normal(size=(20, k))
    h_ref = rng.uniform(-1, 1, n)
    with jax.enable_x64(True):
        p = GRUParams(jnp.asarray(W), jnp.asarray(U), jnp.asarray(b))
        h = jnp.asarray(h_ref)
        for x in xs:
            h = gru_cell(p, h, jnp.asarray(x))
            h_ref = gru_reference(W, U, b, h_ref, x)
            np.testing.assert_allclose(np.asarray(h), h_ref, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("n,k", [(1, 1), (4, 3), (6, 2)])
def test_lstm_cell_matches_the_equations_float64(n, k):
    """20 steps of the library's LSTM (state (h, c)) vs the numpy one: 1e-12 relative (as for the GRU)."""
    rng = np.random.default_rng(100 + n * 10 + k)
    W, U, b = _draw(rng, 4, n, k)
    xs = rng.normal(size=(20, k))
    h_ref, c_ref = rng.uniform(-1, 1, n), rng.normal(size=n)
    with jax.enable_x64(True):
        p = LSTMParams(jnp.asarray(W), jnp.asarray(U), jnp.asarray(b))
        s = jnp.concatenate([jnp.asarray(h_ref), jnp.asarray(c_ref)])
        for x in xs:
            s = lstm_cell(p, s, jnp.asarray(x))
            h_ref, c_ref = lstm_reference(W, U, b, h_ref, c_ref, x)
            np.testing.assert_allclose(np.asarray(s), np.concatenate([h_ref, c_ref]), rtol=1e-12, atol=1e-14)


def test_gates_by_hand():
    """One unit, x = 0, h = 1/2: GRU with only b_z = +inf-like (z = 1) outputs the candidate
    tanh(U_c r h) = tanh(0.5 sigma(0)) = tanh(0.25); with z = 0 it keeps h. LSTM with f = 1, i = 0 keeps c."""
    with jax.enable_x64(True):
        one = jnp.ones((3, 1, 1))
        b = jnp.asarray([[50.0], [0.0], [0.0]])  # z = sigma(50 + 0.5) = 1 - 1e-22
        U = one.at[1].set(0.0)  # U_r = 0: r = sigma(0) = 1/2
        h = gru_cell(GRUParams(jnp.zeros((3, 1, 1)), U, b), jnp.asarray([0.5]), jnp.zeros(1))
        assert float(h[0]) == pytest.approx(math.tanh(0.25), rel=1e-12)
        h = gru_cell(GRUParams(jnp.zeros((3, 1, 1)), U.at[0].set(0.0), -b), jnp.asarray([0.5]), jnp.zeros(1))
        assert float(h[0]) == pytest.approx(0.5, rel=1e-12)
        bl = jnp.asarray([[-50.0], [50.0], [50.0], [0.0]])  # i = 0, f = 1, o = 1
        s = lstm_cell(LSTMParams(jnp.zeros((4, 1, 1)), jnp.zeros((4, 1, 1)), bl), jnp.asarray([0.3, 0.7]),
                      jnp.zeros(1))
        np.testing.assert_allclose(np.asarray(s), [math.tanh(0.7), 0.7], rtol=1e-12)


def test_the_language_model_step_is_the_reference_gru_on_the_embedding(key):
    """``lm.lm_transition`` = the reference GRU on the token's embedding row (float64)."""
    with jax.enable_x64(True):
        p = jax.tree.map(lambda a: a.astype(jnp.float64), lm.init_lm(key, 5, 6, d=4))
        h_ref = np.zeros(6)
        h = jnp.zeros(6)
        for tok in (6, 0, 3, 3, 4, 1):  # BOS, then tokens
            h = lm.lm_transition(p, h, tok)
            h_ref = gru_reference(*(np.asarray(a) for a in p.gru), h_ref, np.asarray(p.emb)[tok])
            np.testing.assert_allclose(np.asarray(h), h_ref, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(np.asarray(lm.lm_logits(p, h)), np.asarray(p.out) @ h_ref + np.asarray(p.out_b),
                                   rtol=1e-12, atol=1e-14)
