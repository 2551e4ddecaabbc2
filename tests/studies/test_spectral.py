"""Vector RNN Jacobian products: closed form vs autodiff, the determinant identity, the bound, the worst
cell against a float64 reference, the invariants on the quick grid, chaos classes, labels."""

import copy
import math
import functools
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from jaxrnn.core import jacobians
from jaxrnn.core.cells import VectorParams, gru_cell, log_derivative, vector_cell
from jaxrnn.core.unroll import unroll
from jaxrnn.io.results import Dataset
from jaxrnn.io.runner import run as run_study
from jaxrnn.studies import spectral
from jaxrnn.studies.spectral import claims, compute
from jaxrnn.studies.spectral import names as N
from jaxrnn.studies.spectral.compute import KINDS, recurrent_matrix


def _params(key, n, k, lam, kind, dtype):
    W = jnp.asarray(recurrent_matrix(int(jax.random.randint(key, (), 0, 1000)), n, lam, KINDS[kind]), dtype)
    return VectorParams(W, (jax.random.normal(key, (n, k)) / 2).astype(dtype), jnp.zeros(n, dtype))


def _log_norm(out):
    readout, checks = out
    return jacobians.log_spectral_norm(readout.ln_scale, readout.p), np.asarray(readout.ln_diag_sums), checks


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
        closed, lyap, checks = _log_norm(
            jax.jit(functools.partial(jacobians.vector_jacobian_product, act=act))(p, h0, xs, read))
        cell = functools.partial(vector_cell, act=act)
        auto, lyap_auto, _ = _log_norm(jacobians.cell_jacobian_product(cell, p, h0, xs, read))
        for t in (1, 7, T):
            full = jax.jacfwd(lambda h: unroll(cell, p, h, xs[:t])[-1])(h0)
            assert closed[t - 1] == pytest.approx(float(jnp.log(jnp.linalg.norm(full, 2))), rel=1e-10, abs=1e-10)
        np.testing.assert_allclose(np.asarray(auto), np.asarray(closed), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(np.asarray(lyap_auto), np.asarray(lyap), rtol=1e-8, atol=1e-8)
        # determinant identity: sum of the exponent sums = ln|det J_T| = T ln|det W| + sum ln act'
        hs = unroll(cell, p, h0, xs)
        pre = jnp.concatenate([h0[None], hs[:-1]]) @ p.W.T + xs @ p.U.T
        ln_act = float(jnp.sum(log_derivative(act, pre)))
        logdet = T * float(jnp.linalg.slogdet(p.W)[1]) + ln_act
        assert float(jnp.sum(lyap[-1])) == pytest.approx(logdet, rel=1e-10)
        assert float(checks.ln_row_scale_sum) == pytest.approx(ln_act, rel=1e-12)
        assert float(checks.orthogonality_error) < 1e-13


def test_bound_holds_and_gated_cells_run(key):
    n, T = 8, 200
    xs = jax.random.normal(key, (T, 2))
    allowance = jacobians.bound_allowance_per_step(n, float(np.finfo(np.float32).eps))
    for act, gamma in (("tanh", 1.0), ("sigmoid", 0.25)):
        for lam in (0.5, 2.0, 6.0):
            p = _params(key, n, 2, lam, 1, jnp.float32)
            log_norm, _, _ = _log_norm(jacobians.vector_jacobian_product(p, jnp.zeros(n), xs, jnp.arange(T), act=act))
            steps = np.arange(1, T + 1)
            assert np.all(np.asarray(log_norm) <= steps * (np.log(gamma * lam) + allowance))
    g = compute.init_gated(key, "gru", n, 2)
    out = jacobians.cell_jacobian_product(gru_cell, g, jnp.zeros(n), xs, jnp.array([0, T - 1]))
    log_norm, _, checks = _log_norm(out)
    assert np.all(np.isfinite(np.asarray(log_norm))) and float(checks.orthogonality_error) < 1e-5


def _reference_product(W, pre, read):
    """numpy float64: the product of diag(tanh'(a_t)) W along given pre-activations, renormalised by LAPACK
    Householder QR of the row-sorted matrix. Returns (log10 ||J_t|| at the reads, exponent sums (n,))."""
    a = np.abs(pre.astype(np.float64))
    ln_d = np.log(4.0) - 2 * a - 2 * np.log1p(np.exp(-2 * a))
    n = W.shape[0]
    q, p, scale, sums, out = np.eye(n), np.eye(n), 0.0, np.zeros(n), []
    for t in range(len(pre)):
        m = np.exp(ln_d[t] - ln_d[t].max())[:, None] * (W.astype(np.float64) @ q)
        order = np.argsort(-np.abs(m).max(axis=1), kind="stable")
        qs, r = np.linalg.qr(m[order])
        q = np.empty_like(qs)
        q[order] = qs
        sums += np.log(np.abs(np.diag(r))) + ln_d[t].max()
        p = r @ p
        s = np.linalg.norm(p)
        p, scale = p / s, scale + np.log(s) + ln_d[t].max()
        if t in read:
            out.append((scale + np.log(np.linalg.norm(p, 2))) / np.log(10))
    return np.asarray(out), sums


@pytest.mark.parametrize("seed", [0, 3])
def test_worst_published_cell_matches_a_float64_reference(seed, monkeypatch):
    """tanh, orthogonal W, lambda_1 = 8, T = 500 (the cells of issue 14, |a| up to 30, step condition numbers
    1e11-1e19): along one float32 trajectory the float32 product agrees with a float64 LAPACK reference to
    float32 rounding, and the determinant identity holds; with CGS2 in its place both fail by decades."""
    n, T = 32, 500
    W = recurrent_matrix(seed, n, 8.0, "orthogonal")
    xs = jax.random.normal(jax.random.key(0), (T, 4))
    params = VectorParams(jnp.asarray(W), compute.input_matrix(seed, n, 4, jnp.float32), jnp.zeros(n))
    hs = unroll(functools.partial(vector_cell, act="tanh"), params, jnp.zeros(n), xs)
    pre = jnp.concatenate([jnp.zeros((1, n)), hs[:-1]]) @ params.W.T + xs @ params.U.T  # float32 trajectory
    assert float(jnp.abs(pre).max()) > 20  # saturated: the regime the issue is about

    def along(h, a):  # the step Jacobian at a given pre-activation (the trajectory is fixed)
        return h, log_derivative("tanh", a), params.W

    read = np.arange(49, T, 50)
    run = jax.jit(lambda p: jacobians.jacobian_product(along, jnp.zeros(n), p, jnp.asarray(read)))
    log10_ref, sums_ref = _reference_product(W, np.asarray(pre), set(read))
    eps = float(np.finfo(np.float32).eps)

    def measure():
        readout, checks = run(pre)
        log10 = jacobians.log_spectral_norm(readout.ln_scale, readout.p) / np.log(10)
        sums = np.asarray(readout.ln_diag_sums[-1], np.float64)
        residual, allowance = jacobians.determinant_identity(
            sums.sum(), checks.ln_row_scale_sum, checks.ln_row_scale_abs, checks.ln_diag_abs, T,
            np.linalg.slogdet(W.astype(np.float64))[1], 1.0, n, eps)
        return log10, sums, residual, allowance, float(checks.orthogonality_error)

    log10, sums, residual, allowance, orth = measure()
    rounding = (read + 1) * jacobians.bound_allowance_per_step(n, eps) / np.log(10)  # decades
    assert np.all(np.abs(log10 - log10_ref) <= rounding), np.abs(log10 - log10_ref).max()
    assert np.abs(np.sort(sums) - np.sort(sums_ref)).max() / T < 1e-4  # every exponent, ln per step
    assert abs(residual) <= allowance and orth <= jacobians.orthogonality_allowance(n, eps)

    monkeypatch.setattr(jacobians, "qr_householder", jacobians.qr_cgs2)
    run = jax.jit(lambda p: jacobians.jacobian_product(along, jnp.zeros(n), p, jnp.asarray(read)))
    log10, sums, residual, allowance, orth = measure()
    assert log10[-1] - log10_ref[-1] > 50 and abs(residual) > 100 * allowance and orth > 0.1


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spectral") / "spectral"
    summary = run_study(spectral.STUDY, spectral.Config.quick(), folder)
    return folder, summary, Dataset.load(folder / "data.npz")


def test_quick_grid_passes_every_invariant(quick):
    folder, s, ds = quick
    inv = s["invariants"]
    assert inv["cells"] == ds[N.CELL_VALID].size > 0
    assert inv["invalid_cells"] == 0 and inv["invalid_probe_runs"] == 0 and inv["invalid_gated_runs"] == 0
    assert all(v == 0 for v in inv["failed"].values())
    assert np.all(np.abs(ds[N.IDENTITY_RESIDUAL]) <= ds[N.IDENTITY_ALLOWANCE])
    assert np.all(ds[N.IDENTITY_ALLOWANCE] > 0) and np.all(np.isfinite(ds[N.LOG10_NORM]))
    assert inv["max_orthogonality_error"] <= 4 * len(ds[N.RANK]) * np.finfo(np.float32).eps
    for act, b in s["bound"].items():
        assert b["points"] == ds[N.CELL_VALID][list(ds[N.ACT]).index(act)].sum() * len(ds[N.T_READ])
        assert b["violations_beyond_allowance"] == 0 and b["allowance_decades_per_step"] > 0
    assert set(s["figures"]) == {N.FIG_HEATMAP, N.FIG_LYAPUNOV, N.FIG_CHAOS, N.FIG_GATED}
    assert all((folder / f).stat().st_size > 0 for f in s["figures"])


def test_quick_labels_dtype_bases_rank_and_lstm_state(quick):
    folder, s, ds = quick
    assert str(ds[N.COMPUTE_DTYPE]) == "float32" == s["dtype"]
    assert json.loads((folder / "config.json").read_text())["config"]["dtype"] == "float32"
    assert ds.dims(N.LN_LYAPUNOV)[-1] == N.RANK and list(ds[N.RANK]) == list(range(1, len(ds[N.RANK]) + 1))
    assert np.all(np.diff(ds[N.LN_LYAPUNOV], axis=-1) <= 0)  # sorted: rank 1 is the largest
    assert [str(x) for x in ds[N.GATED_STATE]] == ["h", "(h, c)"]
    assert all(name.startswith(("log10_", "ln_", "lambda1_", "orthogonality", "probe_", "cell_", "chaos_", "compute_",
                                "gated_", "identity_", "bound_", "finite"))
               for name in ds.arrays)
    # the exponents are natural logs per step: their sum times T is ln|det J_T| (the identity's left side)


def test_invalid_cells_are_counted_and_left_out_of_every_number(quick):
    _, s, ds = quick
    ds = copy.deepcopy(ds)
    ds.arrays[N.CELL_VALID][1][0, 0, -1, :] = False  # both seeds of one cell above the line
    ds.arrays[N.IDENTITY_OK][1][0, 0, -1, :] = False
    ds.arrays[N.LOG10_NORM][1][0, 0, -1, :, :] = 1e9  # would show everywhere if it were used
    cfg = spectral.Config.quick()
    t = claims.summarise(ds, cfg, float(np.finfo(np.float32).eps))
    assert t["invariants"]["invalid_cells"] == 2 and t["invariants"]["failed"]["determinant_identity"] == 2
    act = str(ds[N.ACT][0])
    assert t["bound"][act]["points"] == s["bound"][act]["points"] - 2 * len(ds[N.T_READ])
    assert t["bound"][act]["violations_beyond_allowance"] == 0
    growth = t["growth"][f"{act}/{KINDS[0]}"]
    before = s["growth"][f"{act}/{KINDS[0]}"]["frac_above_line_growing"]["n"]
    assert growth["frac_above_line_growing"]["n"] == before - 2
    assert growth["ln_top_lyapunov_per_step_at_max_lambda1"]["effect"] is None  # no valid seed left there
    assert t["chaos"][f"{act}/{KINDS[0]}"]["log10_norm_at_T_at_max_lambda1"]["effect"] is None


def test_chaos_classes_from_the_h0_draws():
    ds = Dataset()
    for axis, values in ((N.ACT, ["tanh"]), (N.KIND, KINDS), (N.LAMBDA1, [0.5, 4.0]), (N.SEED, [0, 1])):
        ds.add_axis(axis, np.asarray(values))
    ds.add_axis(N.PROBE, np.arange(4))
    ds.add_axis(N.H0_DRAW, np.arange(3))
    ds.add_axis(N.CELL_INDEX, np.asarray(N.CELL))
    ds.add(N.CELL_VALID, N.CELL, np.ones((1, 2, 2, 2), bool))
    ds.add(N.PROBE_CELL, (N.PROBE, N.CELL_INDEX), np.asarray([[0, 0, 1, 0], [0, 0, 1, 1], [0, 1, 1, 0], [0, 1, 1, 1]]))
    ds.add(N.PROBE_LN_TOP, (N.PROBE, N.H0_DRAW),
           np.asarray([[0.50, 0.52, 0.49], [-0.3, -0.3, -0.3], [0.1, -0.1, 0.02], [0.5, 0.5, 0.5]]))
    ds.add(N.PROBE_VALID, (N.PROBE, N.H0_DRAW), np.asarray([[1, 1, 1], [1, 1, 1], [1, 1, 1], [1, 0, 0]], bool))
    classes = compute.chaos_classes(ds)
    assert classes[0, 0, 1, 0] == "chaotic" and classes[0, 0, 1, 1] == "contracting"
    assert classes[0, 1, 1, 0] == "undetermined"  # the interval straddles 0
    assert classes[0, 1, 1, 1] == "undetermined"  # one valid draw: no interval
    assert np.all(classes[:, :, 0] == "contracting")  # below the line


def test_config_records_and_checks_dtype():
    from jaxrnn.io.config import ConfigError, parse_args
    with pytest.raises(ConfigError, match="--dtype"):
        parse_args(spectral.Config, ["--dtype", "float16"], "p", "t")
    assert spectral.Config().dtype == "float32"


def test_float64_twin_draws_the_same_weights_and_inputs(key):
    """--dtype float64 must run on the float32 study's numbers (only the arithmetic changes)."""
    def draws():
        gated = compute.init_gated(key, "lstm", 4, 3)
        return (recurrent_matrix(2, 5, 3.0, "gaussian"), np.asarray(compute.input_matrix(2, 5, 3, jnp.float32)),
                np.asarray(jax.random.normal(key, (7, 3), jnp.float32)), *map(np.asarray, gated))
    plain = draws()
    with jax.enable_x64(True):
        twin = draws()
    for a, b in zip(plain, twin):
        assert a.dtype == b.dtype == np.float32
        np.testing.assert_array_equal(a, b)


def _bound_ds(log10_norm, valid, lam_w=(0.5, 6.0)):
    """One activation (tanh: gamma = 1), one kind, lambda_1 of W per cell, 2 seeds, T = 10 and 20."""
    ds = Dataset()
    for axis, values in ((N.ACT, ["tanh"]), (N.KIND, KINDS[:1]), (N.LAMBDA1, [0.5, 6.0]), (N.SEED, [0, 1]),
                         (N.T_READ, [10, 20])):
        ds.add_axis(axis, np.asarray(values))
    ds.add(N.LAMBDA1_OF_W, (N.KIND, N.LAMBDA1, N.SEED), np.broadcast_to(np.asarray(lam_w)[None, :, None], (1, 2, 2)))
    ds.add(N.LOG10_NORM, N.CELL + (N.T_READ,), np.asarray(log10_norm, np.float64).reshape(1, 1, 2, 2, 2))
    ds.add(N.CELL_VALID, N.CELL, np.asarray(valid, bool).reshape(1, 1, 2, 2))
    return ds


def test_bound_report_on_known_cells():
    """The bound is T log10(gamma lambda_1): at lambda_1 = 0.5, T = 10 it is -3.01 decades, at 6.0, T = 20
    +15.56. Norms placed by hand: below the bound, above it by half the allowance (T x the per-step
    allowance for n = 4, eps = 1e-3: not counted), above it by twice the allowance (counted, at both T),
    and the same violating cell marked invalid (left out). A bound with the sign of log10(gamma lambda_1)
    flipped, or the allowance not scaled by T, changes the count."""
    n, eps = 4, 1e-3
    allow = jacobians.bound_allowance_per_step(n, eps) / math.log(10)  # decades per step
    b = np.array([[10 * math.log10(0.5), 20 * math.log10(0.5)], [10 * math.log10(6.0), 20 * math.log10(6.0)]])
    norm = np.empty((2, 2, 2))  # (lambda1, seed, T)
    norm[0, 0] = b[0] - 1.0  # well below
    norm[0, 1] = b[0] + 0.5 * allow * np.array([10, 20])  # above, within the allowance
    norm[1, 0] = b[1] - 0.25
    norm[1, 1] = b[1] + 2.0 * allow * np.array([10, 20])  # beyond the allowance at both T
    ds = _bound_ds(norm, np.ones((2, 2)))
    rep = claims.bound_report(ds, n, eps)["tanh"]
    assert rep["points"] == 8 and rep["violations_beyond_allowance"] == 2
    assert rep["min_slack_decades"] == pytest.approx(-2.0 * allow * 20)
    valid = np.ones((2, 2))
    valid[1, 1] = 0  # the violating cell is invalid: left out of every number
    rep = claims.bound_report(_bound_ds(norm, valid), n, eps)["tanh"]
    assert rep["points"] == 6 and rep["violations_beyond_allowance"] == 0
    assert rep["min_slack_decades"] == pytest.approx(-0.5 * allow * 20)
