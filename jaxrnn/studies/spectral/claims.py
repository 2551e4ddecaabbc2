"""The spectral study's summary: invariants, the bound, growth above the line, chaos, GRU/LSTM.

Every number here is taken over the valid cells only (``cell_valid``: the determinant identity,
orthogonality, the bound and finiteness all hold within their stated allowances); the counts of
invalid cells and of each failure are in ``summary["invariants"]``. Read from the Dataset only.
"""

from __future__ import annotations

import numpy as np

from jaxrnn import stats
from jaxrnn.core import jacobians
from jaxrnn.core.cells import MAX_DERIVATIVE
from jaxrnn.studies.spectral import names as N

LN10 = float(np.log(10.0))


# The study in plain words (beyond the sheet: it has no claim id); the report arranges these fields.
TEXT = {
    "takeaway": ("In a vector RNN the sheet's |w| < 4 becomes lambda_1(W) < 1/gamma (4 for sigmoid, 1 for tanh): "
                 "below that line the gradient always vanishes; above it, growth becomes possible, not certain "
                 "(the vector form of C2 and C3)."),
    "what_was_run": ("Random recurrent matrices W were scaled to a grid of largest singular values lambda_1 and the "
                     "norm of the Jacobian product dh_T/dh_0 was followed over T with QR renormalisation, which also "
                     "gives the Lyapunov exponents. GRU and LSTM cells at their usual initialisation were run the "
                     "same way."),
    "caveats": ["The bound (gamma lambda_1)^T uses the largest singular value; the spectral radius alone does "
                "not bound the product.",
                "Chaos is judged from a few perturbed initial states per cell (a finite-time estimate).",
                "Gated cells were measured at initialisation only, not after training."],
}


def summarise(ds, cfg, eps: float) -> dict:
    n = len(ds[N.RANK])
    return {"dtype": str(ds[N.COMPUTE_DTYPE]), "eps": eps, "invariants": invariants_report(ds, n, eps),
            "bound": bound_report(ds, n, eps), "growth": growth_report(ds), "chaos": chaos_report(ds, cfg),
            "gated": gated_report(ds), "text": TEXT}


def invariants_report(ds, n: int, eps: float) -> dict:
    valid = ds[N.CELL_VALID]
    ratio = np.abs(ds[N.IDENTITY_RESIDUAL]) / ds[N.IDENTITY_ALLOWANCE]
    return {
        "allowances": {
            "determinant_identity_nats": (
                f"|T sum_i lambda_i - (T ln|det W| + sum_t sum_i ln act'(a_t,i))| <= {jacobians.IDENTITY_ULPS:g} eps "
                f"(T n^2 cond(W) + sum_t sum_i |ln act'(a_t,i)| + sum_t sum_i |ln|r_t,ii|| + T |ln|det W||), "
                f"eps = {eps:.3g}"),
            "orthogonality": (f"max |Q_T^T Q_T - I| <= {jacobians.ORTHOGONALITY_ULPS:g} n eps = "
                              f"{jacobians.orthogonality_allowance(n, eps):.3g}"),
            "bound_decades_per_step": jacobians.bound_allowance_per_step(n, eps) / LN10,
            "bound": (f"log10 ||dh_T/dh_0|| <= T log10(gamma lambda_1) + T {jacobians.BOUND_ULPS:g} n eps / ln 10 "
                      f"(= T x {jacobians.bound_allowance_per_step(n, eps) / LN10:.3g} decades)"),
        },
        "cells": int(valid.size),
        "invalid_cells": int((~valid).sum()),
        "failed": {"determinant_identity": int((~ds[N.IDENTITY_OK]).sum()),
                   "orthogonality": int((~ds[N.ORTHOGONALITY_OK]).sum()),
                   "bound": int((~ds[N.BOUND_OK]).sum()), "non_finite": int((~ds[N.FINITE]).sum())},
        "max_identity_residual_over_allowance": float(np.nanmax(np.where(valid, ratio, np.nan), initial=0.0)),
        "max_orthogonality_error": float(np.max(ds[N.ORTHOGONALITY_ERROR], where=valid, initial=0.0)),
        "probe_runs": int(ds[N.PROBE_VALID].size - ds[N.PROBE_VALID].shape[0]),
        "invalid_probe_runs": int((~ds[N.PROBE_VALID][:, 1:]).sum()),
        "gated_runs": int(ds[N.GATED_VALID].size),
        "invalid_gated_runs": int((~ds[N.GATED_VALID]).sum()),
        "note": "invalid cells, probe runs and gated runs are left out of every other number of this summary",
    }


def bound_report(ds, n: int, eps: float) -> dict:
    """||dh_T/dh_0|| <= (gamma lambda_1)^T at every read of every valid cell (lambda_1 of the float32 W used);
    its slack in decades."""
    out = {}
    t = ds[N.T_READ].astype(np.float64)
    per_step = jacobians.bound_allowance_per_step(n, eps) / LN10
    for a, act in enumerate(ds[N.ACT]):
        bound = t * np.log10(MAX_DERIVATIVE[str(act)] * ds[N.LAMBDA1_OF_W])[..., None]  # (kind, lambda1, seed, T)
        norm = ds[N.LOG10_NORM][a].astype(np.float64)
        valid = ds[N.CELL_VALID][a][..., None] & np.ones_like(norm, bool)
        slack = bound - norm
        out[str(act)] = {"points": int(valid.sum()),
                         "violations_beyond_allowance": int(((slack < -per_step * t) & valid).sum()),
                         "min_slack_decades": float(np.min(slack, where=valid, initial=np.inf)),
                         "allowance_decades_per_step": per_step}
    return out


def _seed_draw_values(ds, a, k, l, values_grid, probe_values):
    """Per seed: the valid values over the h0 draws of cell (a, k, l) (just draw 0 below the line); none
    where the cell itself (draw 0) is invalid."""
    cells = ds[N.PROBE_CELL]
    out = []
    for s in range(len(ds[N.SEED])):
        hit = np.flatnonzero((cells[:, 0] == a) & (cells[:, 1] == k) & (cells[:, 2] == l) & (cells[:, 3] == s))
        if not ds[N.CELL_VALID][a, k, l, s]:
            out.append(np.zeros(0))
        elif hit.size:
            out.append(probe_values[hit[0]][ds[N.PROBE_VALID][hit[0]]])
        else:
            out.append(np.asarray([values_grid[a, k, l, s]]))
    return out


def _over_seeds(name: str, per_seed: list, unit: str) -> dict:
    """Mean over seeds of each seed's mean over its h0 draws (Student-t over seeds), and the spreads."""
    means = np.asarray([v.mean() for v in per_seed if v.size])
    if means.size == 0:
        return {"effect": None, "note": "no valid cell"}
    eff = stats.mean_effect(name, means, unit)
    within = [float(v.std(ddof=1)) for v in per_seed if v.size > 1]
    return {"effect": eff.to_dict(), "per_seed_mean_over_draws": [float(m) for m in means],
            "sd_over_draws_within_seed_max": max(within) if within else None,
            "sd_over_seeds": float(means.std(ddof=1)) if means.size > 1 else None,
            "draws_per_seed": [int(v.size) for v in per_seed]}


def growth_report(ds) -> dict:
    """Above the line lambda_1 > 1/gamma: how often the gradient actually grows at the longest T."""
    out = {}
    T = int(ds[N.T_READ][-1])
    top_grid = ds[N.LN_LYAPUNOV][..., 0]
    for a, act in enumerate(ds[N.ACT]):
        above = ds[N.LAMBDA1] * MAX_DERIVATIVE[str(act)] > 1
        for k, kind in enumerate(ds[N.KIND]):
            final = ds[N.LOG10_NORM][a, k, :, :, -1]  # (lambda1, seed)
            valid = ds[N.CELL_VALID][a, k]
            grows = (final > 0) & valid
            n_cells = int(valid[above].sum())
            all_grow = [l for l in np.flatnonzero(above) if valid[l].any() and grows[l][valid[l]].all()]
            l_max = len(ds[N.LAMBDA1]) - 1
            top = _seed_draw_values(ds, a, k, l_max, top_grid, ds[N.PROBE_LN_TOP])
            out[f"{act}/{kind}"] = {
                "frac_above_line_growing": (stats.rate("growing cells above the line", int(grows[above].sum()),
                                                       n_cells).to_dict() if n_cells else None),
                "smallest_lambda1_where_all_seeds_grow": float(ds[N.LAMBDA1][all_grow[0]]) if all_grow else None,
                "ln_top_lyapunov_per_step_at_max_lambda1": _over_seeds(
                    f"top Lyapunov exponent at lambda_1 = {ds[N.LAMBDA1][l_max]:.3g}", top, "nats/step"),
                "T": T,
            }
    return out


def chaos_report(ds, cfg) -> dict:
    """Cells by class (contracting / undetermined / chaotic) and, at the largest lambda_1, the log10 norm
    at T as a distribution over seeds and h0 draws (one run is one realisation where the cell is chaotic)."""
    out = {"h0_draws_per_cell_above_the_line": int(len(ds[N.H0_DRAW])), "h0_delta": cfg.h0_delta,
           "rule": ("chaotic: the Student-t 95 % interval of the mean top exponent over a cell's valid h0 draws "
                    "lies above 0; contracting: below 0 (every cell below the line, by the bound); "
                    "else undetermined")}
    cls = ds[N.CHAOS_CLASS]
    final_grid = ds[N.LOG10_NORM][..., -1]
    for a, act in enumerate(ds[N.ACT]):
        for k, kind in enumerate(ds[N.KIND]):
            valid = ds[N.CELL_VALID][a, k]
            c = cls[a, k]
            chaotic_l = [l for l in range(len(ds[N.LAMBDA1])) if ((c[l] == "chaotic") & valid[l]).any()]
            all_l = [l for l in range(len(ds[N.LAMBDA1]))
                     if valid[l].any() and (c[l][valid[l]] == "chaotic").all()]
            l_max = len(ds[N.LAMBDA1]) - 1
            norm = _seed_draw_values(ds, a, k, l_max, final_grid, ds[N.PROBE_LOG10_NORM])
            out[f"{act}/{kind}"] = {
                "cells": {name: int(((c == name) & valid).sum()) for name in N.CHAOS_CLASSES},
                "smallest_lambda1_with_a_chaotic_seed": float(ds[N.LAMBDA1][chaotic_l[0]]) if chaotic_l else None,
                "smallest_lambda1_where_all_seeds_chaotic": float(ds[N.LAMBDA1][all_l[0]]) if all_l else None,
                "classes_at_max_lambda1": [str(x) for x in c[l_max]],
                "log10_norm_at_T_at_max_lambda1": _over_seeds(
                    f"log10 ||dh_T/dh_0|| at lambda_1 = {ds[N.LAMBDA1][l_max]:.3g}, T = {int(ds[N.T_READ][-1])}",
                    norm, "decades"),
            }
    return out


def gated_report(ds) -> dict:
    out = {}
    t = ds[N.T_READ]
    for m, model in enumerate(ds[N.MODEL]):
        valid = ds[N.GATED_VALID][m]
        curves = ds[N.LOG10_NORM_GATED][m][valid]
        if not len(curves):
            out[str(model)] = {"state": str(ds[N.GATED_STATE][m]), "valid_seeds": 0}
            continue
        curve = np.median(curves, axis=0)
        half = len(curve) // 2
        out[str(model)] = {
            "state": str(ds[N.GATED_STATE][m]),
            "valid_seeds": int(valid.sum()),
            "median_log10_norm_at_T": {int(T): float(curve[j]) for j, T in enumerate(t)
                                       if T in (1, 50, 100, 200, 500) or j == len(curve) - 1},
            "decades_per_step_2nd_half": float((curve[-1] - curve[half]) / (t[-1] - t[half])),
            "max_orthogonality_error": float(ds[N.ORTHOGONALITY_ERROR_GATED][m][valid].max()),
        }
    return out
