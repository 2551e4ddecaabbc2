"""The spectral summary's branches that the committed data never take, on known inputs: seeds with one h0
draw or none (``_over_seeds``, ``_seed_draw_values``), a grid that stops below the line (draw 0 read from
the grid, no probes), a grid point exactly on the line, final norms at the growth threshold, invalid cells,
probe runs and gated seeds, a bound met with equality, and gated reads past T = 500.

The Dataset-level tests load the committed ``results/spectral`` (as ``test_committed_results`` does) and
change a few arrays; every expected value follows from that change by hand."""

import copy
import math

import numpy as np
import pytest

from jaxrnn.core import jacobians
from jaxrnn.io.results import Dataset
from jaxrnn.studies.spectral import claims
from jaxrnn.studies.spectral import names as N
from jaxrnn.studies.spectral.compute import KINDS
from tests.studies.test_committed_results import committed, select

TANH, SIGMOID = 0, 1  # index of the activation in the committed act axis


@pytest.fixture(scope="module")
def saved():
    ds, summary, cfg = committed("spectral")
    assert [str(a) for a in ds[N.ACT]] == ["tanh", "sigmoid"] and list(ds[N.KIND]) == list(KINDS)
    assert len(ds[N.LAMBDA1]) == 64 and len(ds[N.SEED]) == 4 and ds[N.CELL_VALID].all()
    return ds, summary, cfg


def _ds(saved):
    return copy.deepcopy(saved[0])


def _first_lambdas(ds, m):
    """The dataset cut to its first m lambda_1 grid points (and the probes of those cells only)."""
    return select(ds, {N.LAMBDA1: slice(None, m), N.PROBE: ds[N.PROBE_CELL][:, 2] < m})


# ----------------------------------------------------------------------------- _over_seeds


def test_over_seeds_with_no_valid_draw_reports_no_effect():
    assert claims._over_seeds("x", [np.zeros(0), np.zeros(0)], "u") == {"effect": None, "note": "no valid cell"}


def test_over_seeds_with_one_valid_seed_has_an_effect_but_no_spread_over_seeds():
    """Seed 0 has draws 1 and 3 (mean 2, sd sqrt 2), seed 1 none: one mean, so an unbounded interval and no
    sd over seeds, but the within-seed sd of the 2-draw seed."""
    rep = claims._over_seeds("x", [np.array([1.0, 3.0]), np.zeros(0)], "u")
    assert rep["effect"]["estimate"] == 2.0 and rep["effect"]["n"] == 1
    assert rep["effect"]["ci95"] == [-math.inf, math.inf]
    assert rep["per_seed_mean_over_draws"] == [2.0] and rep["draws_per_seed"] == [2, 0]
    assert rep["sd_over_seeds"] is None
    assert rep["sd_over_draws_within_seed_max"] == pytest.approx(math.sqrt(2.0))


def test_over_seeds_with_one_draw_per_seed_has_no_within_seed_spread():
    """Two seeds, one draw each (1 and 4): sd over seeds |4 - 1| / sqrt 2; no seed has two draws."""
    rep = claims._over_seeds("x", [np.array([1.0]), np.array([4.0])], "u")
    assert rep["effect"]["estimate"] == 2.5 and rep["effect"]["n"] == 2
    assert rep["sd_over_seeds"] == pytest.approx(3.0 / math.sqrt(2.0))
    assert rep["sd_over_draws_within_seed_max"] is None and rep["draws_per_seed"] == [1, 1]


# ----------------------------------------------------------------------------- _seed_draw_values


def test_seed_draw_values_probes_above_the_line_grid_below_none_where_invalid():
    """tanh, lambda_1 = 0.5 (below the line: no probes) and 4.0 (above: probes with 3 draws), 3 seeds.
    Invalid cells give no value even where their probe runs are valid."""
    ds = Dataset()
    for axis, values in ((N.ACT, ["tanh"]), (N.KIND, KINDS[:1]), (N.LAMBDA1, [0.5, 4.0]), (N.SEED, [0, 1, 2])):
        ds.add_axis(axis, np.asarray(values))
    ds.add_axis(N.PROBE, np.arange(3))
    ds.add_axis(N.H0_DRAW, np.arange(3))
    ds.add_axis(N.CELL_INDEX, np.asarray(N.CELL))
    valid = np.ones((1, 1, 2, 3), bool)
    valid[0, 0, 0, 1] = valid[0, 0, 1, 2] = False
    ds.add(N.CELL_VALID, N.CELL, valid)
    ds.add(N.PROBE_CELL, (N.PROBE, N.CELL_INDEX), np.asarray([[0, 0, 1, 0], [0, 0, 1, 1], [0, 0, 1, 2]]))
    ds.add(N.PROBE_VALID, (N.PROBE, N.H0_DRAW), np.asarray([[1, 1, 1], [1, 0, 1], [1, 1, 1]], bool))
    probe = np.asarray([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9]])
    grid = np.asarray([10.0, 11.0, 12.0, 20.0, 21.0, 22.0]).reshape(1, 1, 2, 3)  # (act, kind, lambda1, seed)
    above = claims._seed_draw_values(ds, 0, 0, 1, grid, probe)
    assert [v.tolist() for v in above] == [[0.1, 0.2, 0.3], [0.4, 0.6], []]
    below = claims._seed_draw_values(ds, 0, 0, 0, grid, probe)
    assert [v.tolist() for v in below] == [[10.0], [], [12.0]]


# ----------------------------------------------------------------------------- invariants_report


def test_invariants_of_a_grid_with_no_valid_cell_are_zero_not_nan(saved):
    ds = _ds(saved)
    ds.arrays[N.CELL_VALID][1][...] = False
    rep = claims.invariants_report(ds, len(ds[N.RANK]), saved[1]["eps"])
    assert rep["invalid_cells"] == rep["cells"] == 2 * 2 * 64 * 4
    assert rep["max_identity_residual_over_allowance"] == 0.0 and rep["max_orthogonality_error"] == 0.0


def test_invariants_leave_an_invalid_cell_out_of_the_maxima(saved):
    ds = _ds(saved)
    ds.arrays[N.CELL_VALID][1][0, 1, 5, 2] = False
    ds.arrays[N.IDENTITY_RESIDUAL][1][0, 1, 5, 2] = 1e6 * ds[N.IDENTITY_ALLOWANCE][0, 1, 5, 2]
    ds.arrays[N.ORTHOGONALITY_ERROR][1][0, 1, 5, 2] = 1.0
    rep = claims.invariants_report(ds, len(ds[N.RANK]), saved[1]["eps"])
    before = saved[1]["invariants"]
    assert rep["invalid_cells"] == 1
    assert rep["max_identity_residual_over_allowance"] == before["max_identity_residual_over_allowance"] < 1
    assert rep["max_orthogonality_error"] == before["max_orthogonality_error"] < 1e-4


def test_invalid_probe_runs_count_the_perturbed_draws_only(saved):
    """Draw 0 of a probe is the cell's own run (counted among the cells): draws 1 and 2 are probe runs."""
    ds = _ds(saved)
    pv = ds.arrays[N.PROBE_VALID][1]
    pv[0, 1] = pv[1, 2] = pv[2, 0] = False
    rep = claims.invariants_report(ds, len(ds[N.RANK]), saved[1]["eps"])
    assert rep["invalid_probe_runs"] == 2 and rep["probe_runs"] == 2 * pv.shape[0]


# ----------------------------------------------------------------------------- bound_report


def test_a_norm_exactly_at_the_bound_plus_allowance_is_no_violation(saved):
    """lambda_1(W) = 1 for tanh (gamma = 1): the bound is exactly 0 decades, so a norm of exactly T x the
    per-step allowance has slack exactly -allowance (not beyond it); the next float up is beyond, at every
    read of that seed."""
    ds = _ds(saved)
    n, eps = len(ds[N.RANK]), saved[1]["eps"]
    per_step = jacobians.bound_allowance_per_step(n, eps) / math.log(10)
    t = ds[N.T_READ].astype(np.float64)
    ds.arrays[N.LAMBDA1_OF_W][1][0, 0, :2] = 1.0  # kind 0, lambda_1 index 0, seeds 0 and 1
    ds.arrays[N.LOG10_NORM][1][TANH, 0, 0, 0] = per_step * t
    ds.arrays[N.LOG10_NORM][1][TANH, 0, 0, 1] = np.nextafter(per_step * t, np.inf)
    rep = claims.bound_report(ds, n, eps)
    assert rep["tanh"]["violations_beyond_allowance"] == len(t)  # seed 1's reads only
    assert rep["tanh"]["min_slack_decades"] == -np.nextafter(per_step * t[-1], np.inf)
    assert rep["sigmoid"]["violations_beyond_allowance"] == 0  # a larger lambda_1 only loosens its bound


# ----------------------------------------------------------------------------- growth_report, chaos_report


def test_a_grid_point_exactly_on_the_line_is_not_above_it(saved):
    """lambda_1 = 1/gamma gives gamma lambda_1 = 1: the line itself. Above it lie the 30 grid points from 1.064
    to 8 for tanh and the 10 from 4.28 to 8 for sigmoid, 4 seeds each, whatever the point next below is."""
    ds = _ds(saved)
    ds.axes[N.LAMBDA1] = ds[N.LAMBDA1].copy()
    ds.axes[N.LAMBDA1][33] = 1.0  # was 0.993
    ds.axes[N.LAMBDA1][53] = 4.0  # was 3.990
    rep = claims.growth_report(ds)
    for kind in KINDS:
        assert rep[f"tanh/{kind}"]["frac_above_line_growing"]["n"] == 30 * 4
        assert rep[f"sigmoid/{kind}"]["frac_above_line_growing"]["n"] == 10 * 4


def test_growth_is_a_final_norm_above_one_at_the_last_read(saved):
    """tanh/orthogonal: every final norm exactly 1 (log10 = 0, not growing) after a larger one at the read
    before; tanh/gaussian: every final norm 10^0.5 (growing) after a shrinking one."""
    ds = _ds(saved)
    norm = ds.arrays[N.LOG10_NORM][1]
    norm[TANH, 0, :, :, -1], norm[TANH, 0, :, :, -2] = 0.0, 1.0
    norm[TANH, 1, :, :, -1], norm[TANH, 1, :, :, -2] = 0.5, -1.0
    rep = claims.growth_report(ds)
    none = rep[f"tanh/{KINDS[0]}"]
    assert none["frac_above_line_growing"]["estimate"] == 0.0 and none["frac_above_line_growing"]["n"] == 120
    assert none["smallest_lambda1_where_all_seeds_grow"] is None
    every = rep[f"tanh/{KINDS[1]}"]
    assert every["frac_above_line_growing"]["estimate"] == 1.0 and every["frac_above_line_growing"]["n"] == 120
    assert every["smallest_lambda1_where_all_seeds_grow"] == float(ds[N.LAMBDA1][34])  # first point above 1
    assert every["T"] == 500


def test_a_grid_below_the_line_reads_draw_0_from_the_grid(saved):
    """Cut to the 34 grid points below lambda_1 = 1 (below both lines: no probe runs left): no cell above the
    line, every cell contracting, and the numbers at the largest lambda_1 are one draw per seed, draw 0 of
    the grid: the top Lyapunov exponent (rank 1) and the norm at the last read T = 500."""
    ds = _first_lambdas(saved[0], 34)
    assert len(ds[N.PROBE]) == 0 and ds[N.LAMBDA1][-1] < 1
    growth, chaos = claims.growth_report(ds), claims.chaos_report(ds, saved[2])
    for a, act in enumerate(("tanh", "sigmoid")):
        for k, kind in enumerate(KINDS):
            g = growth[f"{act}/{kind}"]
            assert g["frac_above_line_growing"] is None and g["smallest_lambda1_where_all_seeds_grow"] is None
            top = g["ln_top_lyapunov_per_step_at_max_lambda1"]
            assert top["per_seed_mean_over_draws"] == [float(x) for x in ds[N.LN_LYAPUNOV][a, k, -1, :, 0]]
            assert top["draws_per_seed"] == [1, 1, 1, 1] and top["sd_over_draws_within_seed_max"] is None
            c = chaos[f"{act}/{kind}"]
            assert c["cells"] == {"contracting": 34 * 4, "undetermined": 0, "chaotic": 0}
            assert c["smallest_lambda1_with_a_chaotic_seed"] is None
            norm = c["log10_norm_at_T_at_max_lambda1"]
            assert ds[N.T_READ][-1] == 500
            assert norm["per_seed_mean_over_draws"] == [float(x) for x in ds[N.LOG10_NORM][a, k, -1, :, -1]]
            assert norm["draws_per_seed"] == [1, 1, 1, 1]


# ----------------------------------------------------------------------------- gated_report


def test_gated_report_without_valid_seeds_and_with_reads_past_500():
    """GRU: no valid seed (state and a count of 0 only). LSTM: seeds with log10 norms -0.01 T and -0.03 T
    valid, one growing seed invalid: median -0.02 T, read at the listed T (1, 50, 100, 200, 500, not 5) and
    at the last read 600; second half from T = 100 (index 7 // 2): -0.02 decades per step."""
    t = np.asarray([1, 5, 50, 100, 200, 500, 600])
    ds = Dataset()
    for axis, values in ((N.MODEL, ["gru", "lstm"]), (N.SEED_GATED, [0, 1, 2]), (N.T_READ, t)):
        ds.add_axis(axis, np.asarray(values))
    ds.add(N.GATED_STATE, (N.MODEL,), np.asarray(["h", "(h, c)"]))
    slopes = np.asarray([[-0.05, -0.05, -0.05], [-0.01, -0.03, 5.0]])
    ds.add(N.LOG10_NORM_GATED, (N.MODEL, N.SEED_GATED, N.T_READ), slopes[:, :, None] * t)
    ds.add(N.ORTHOGONALITY_ERROR_GATED, (N.MODEL, N.SEED_GATED), np.asarray([[1e-7] * 3, [1e-7, 3e-7, 1.0]]))
    ds.add(N.GATED_VALID, (N.MODEL, N.SEED_GATED), np.asarray([[0, 0, 0], [1, 1, 0]], bool))
    rep = claims.gated_report(ds)
    assert rep["gru"] == {"state": "h", "valid_seeds": 0}
    lstm = rep["lstm"]
    assert lstm["state"] == "(h, c)" and lstm["valid_seeds"] == 2
    assert lstm["median_log10_norm_at_T"] == pytest.approx({T: -0.02 * T for T in (1, 50, 100, 200, 500, 600)})
    assert lstm["decades_per_step_2nd_half"] == pytest.approx(-0.02)
    assert lstm["max_orthogonality_error"] == 3e-7
