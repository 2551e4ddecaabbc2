"""Vector RNN Jacobian products: closed form vs autodiff, the determinant twin, the bound, the study."""

import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn.studies import spectral
from jaxrnn.io.runner import run as run_study
from jaxrnn.core import jacobians
from jaxrnn.core.cells import VectorParams, gru_cell, log_derivative, vector_cell
from jaxrnn.studies.spectral.compute import KINDS, recurrent_matrix
from jaxrnn.core.unroll import unroll


def _params(key, n, k, lam, kind, dtype):
    W = jnp.asarray(recurrent_matrix(int(jax.random.randint(key, (), 0, 1000)), n, lam, KINDS[kind]), dtype)
    return VectorParams(W, (jax.random.normal(key, (n, k)) / 2).astype(dtype), jnp.zeros(n, dtype))


def _log_norm(out):
    log_scale, p, lyap = out
    return jacobians.log_spectral_norm(log_scale, p), np.asarray(lyap)


def test_qr_cgs2_is_a_qr_factorisation(key):
    with jax.enable_x64(True):
        for cond in (1.0, 1e6):
            a = jax.random.normal(key, (16, 16), dtype=jnp.float64) @ jnp.diag(jnp.geomspace(1.0, cond, 16))
            q, r = jax.jit(jacobians.qr_cgs2)(a)
            np.testing.assert_allclose(np.asarray(q @ r), np.asarray(a), rtol=1e-12, atol=1e-12 * cond)
            np.testing.assert_allclose(np.asarray(q.T @ q), np.eye(16), atol=1e-13)
            assert np.allclose(np.tril(np.asarray(r), -1), 0) and np.all(np.diag(np.asarray(r)) > 0)


@pytest.mark.parametrize("act", ["tanh", "sigmoid"])
@pytest.mark.parametrize("lam,kind", [(0.7, 0), (1.5, 1), (3.0, 0), (6.0, 1)])
def test_log_norm_matches_jacfwd_of_the_unroll_float64(act, lam, kind, key):
    n, T = 12, 25
    with jax.enable_x64(True):
        p = _params(key, n, 3, lam, kind, jnp.float64)
        xs = jax.random.normal(jax.random.fold_in(key, 1), (T, 3), dtype=jnp.float64)
        h0 = jnp.full(n, 0.3)
        read = jnp.arange(T)
        closed, lyap = _log_norm(jax.jit(functools.partial(jacobians.vector_log_norm, act=act))(p, h0, xs, read))
        auto, lyap_auto = _log_norm(jacobians.cell_log_norm(functools.partial(vector_cell, act=act), p, h0, xs, read))
        cell = functools.partial(vector_cell, act=act)
        for t in (1, 7, T):
            full = jax.jacfwd(lambda h: unroll(cell, p, h, xs[:t])[-1])(h0)
            assert closed[t - 1] == pytest.approx(float(jnp.log(jnp.linalg.norm(full, 2))), rel=1e-10, abs=1e-10)
        np.testing.assert_allclose(np.asarray(auto), np.asarray(closed), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(np.asarray(lyap_auto), np.asarray(lyap), rtol=1e-8, atol=1e-8)
        # determinant twin: sum of the Lyapunov sums = log|det J_T| = T log|det W| + sum log act'
        hs = unroll(cell, p, h0, xs)
        pre = jnp.concatenate([h0[None], hs[:-1]]) @ p.W.T + xs @ p.U.T
        logdet = T * jnp.linalg.slogdet(p.W)[1] + jnp.sum(log_derivative(act, pre))
        assert float(jnp.sum(lyap[-1])) == pytest.approx(float(logdet), rel=1e-10)


def test_bound_holds_and_gated_cells_run(key):
    n, T = 8, 200
    xs = jax.random.normal(key, (T, 2))
    for act, gamma in (("tanh", 1.0), ("sigmoid", 0.25)):
        for lam in (0.5, 2.0, 6.0):
            p = _params(key, n, 2, lam, 1, jnp.float32)
            log_norm, _ = _log_norm(jacobians.vector_log_norm(p, jnp.zeros(n), xs, jnp.arange(T), act=act))
            bound = np.arange(1, T + 1) * np.log(gamma * lam)
            assert np.all(np.asarray(log_norm) <= bound + 1e-4 * np.arange(1, T + 1))
    from jaxrnn.studies.spectral.compute import init_gated
    g = init_gated(key, "gru", n, 2)
    log_norm, _ = _log_norm(jacobians.cell_log_norm(gru_cell, g, jnp.zeros(n), xs, jnp.array([0, T - 1])))
    assert np.all(np.isfinite(np.asarray(log_norm)))


def test_quick_end_to_end(tmp_path):
    s = run_study(spectral.STUDY, spectral.Config.quick(), tmp_path / "spectral")
    for act, b in s["bound"].items():
        assert b["points"] > 0 and b["violations"] == 0
    assert len(s["figures"]) == 3
