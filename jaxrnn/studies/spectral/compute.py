"""The spectral study: vector RNNs (and GRU/LSTM at initialisation) beyond the scalar case.

||dh_T/dh_0|| over the largest singular value lambda_1 of W and T, with Pascanu et al.'s
sufficient condition for vanishing, lambda_1 < 1/gamma (gamma = max act'), which implies the
bound ||dh_T/dh_0|| <= (gamma lambda_1)^T, and the finite-time Lyapunov spectrum at T = t_max.

Every published cell (act, kind, lambda_1, seed) is checked against three invariants, each with
an allowance in units of the working precision eps (``jaxrnn.core.jacobians``):

- the determinant identity ``T sum_i lambda_i = T ln|det W| + sum_t sum_i ln act'(a_t,i)``;
- orthogonality of the last Q: ``max |Q^T Q - I| <= 4 n eps``;
- the bound ``log10 ||dh_T/dh_0|| <= T log10(gamma lambda_1) + 4 n eps T / ln 10`` at every read T, with
  lambda_1 the largest singular value of the float32 W actually used (``lambda1_of_W``; the grid value
  lambda_1 differs from it by float32 rounding, ~3e-8 relative).

A cell failing any of them (or with a non-finite number) is marked ``cell_valid = False`` and left
out of every summary number; the counts are in ``summary["invariants"]``.

Chaos: above the line (lambda_1 > 1/gamma) the top exponent can be positive, and then a float32
run follows a different trajectory from a float64 one after tens of steps, so one run is one
realisation. Each cell above the line is re-run from ``h0 + delta z_k`` (k = 1..K, z_k ~ N(0, I),
delta = 1e-6 by default); with the unperturbed run (draw 0) that gives K + 1 draws per cell. A cell
is ``chaotic`` when the 95 % interval of its mean top exponent over the draws lies above 0,
``contracting`` when it lies below 0 (every cell below the line is, by the bound), else
``undetermined``; in chaotic cells the summary reports distributions over seeds and draws, not
single values.
"""

from __future__ import annotations

import contextlib

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn import stats
from jaxrnn.core import jacobians
from jaxrnn.core.cells import ACTIVATIONS, MAX_DERIVATIVE, GRUParams, LSTMParams, VectorParams, gru_cell, lstm_cell
from jaxrnn.core.sweep import grid, map_configs, stable_partial
from jaxrnn.io.results import Dataset
from jaxrnn.studies.spectral import names as N
from jaxrnn.studies.spectral.claims import summarise

KINDS = ("orthogonal", "gaussian")
LN10 = float(np.log(10.0))
H0 = {"tanh": 0.0, "sigmoid": 0.5}  # the state at rest: act(0) (sigmoid: 1/2) -- the unperturbed h0
GATED = {"gru": "h", "lstm": "(h, c)"}  # the state s whose Jacobian ds_T/ds_0 is taken


def recurrent_matrix(seed: int, n: int, lambda1: float, kind: str) -> np.ndarray:
    """W (n, n) with largest singular value lambda1 (host side, numpy LAPACK): a random orthogonal
    matrix (all singular values equal) or a Gaussian one rescaled by its spectral norm. float32."""
    g = np.asarray(jax.random.normal(jax.random.fold_in(jax.random.key(0), seed), (n, n), jnp.float32), np.float64)
    if kind == "orthogonal":
        q, r = np.linalg.qr(g)
        w = q * np.sign(np.diag(r))[None, :]
    elif kind == "gaussian":
        w = g / np.linalg.norm(g, ord=2)
    else:
        raise ValueError(f"unknown matrix kind {kind!r}; choose from {', '.join(KINDS)}")
    return (lambda1 * w).astype(np.float32)


def input_matrix(seed, n: int, k: int, dtype) -> jax.Array:
    """U (n, k) ~ N(0, 1/k), drawn in float32 (the same numbers in either working precision)."""
    u = jax.random.normal(jax.random.fold_in(jax.random.key(1), seed), (n, k), jnp.float32) / jnp.sqrt(jnp.float32(k))
    return u.astype(dtype)


def _vector_row(row, xs, read_idx, *, act):
    """One run: row = {W (n, n), seed (), h0_noise (n,), probe ()}; xs (T, k) in the working dtype."""
    dtype = xs.dtype
    W = row["W"].astype(dtype)
    n = W.shape[0]
    h0 = jnp.full((n,), H0[act], dtype) + row["h0_noise"].astype(dtype)
    params = VectorParams(W, input_matrix(row["seed"], n, xs.shape[1], dtype), jnp.zeros(n, dtype))
    readout, checks = jacobians.vector_jacobian_product(params, h0, xs, read_idx, act=act)
    return readout.ln_scale, readout.p, readout.ln_diag_sums[-1], checks, row["probe"]


def _vector_host(out):
    """Host side, per chunk: ln ||J_T||_2 at every read for grid rows, at the last read for probe rows."""
    ln_scale, p, diag, checks, probe = out
    ln_norm = np.full(ln_scale.shape, np.nan)
    grid_rows = ~probe
    ln_norm[grid_rows] = jacobians.log_spectral_norm(ln_scale[grid_rows], p[grid_rows])
    ln_norm[probe, -1] = jacobians.log_spectral_norm(ln_scale[probe, -1], p[probe, -1])
    return ln_norm, diag, checks


def _glorot(key, shape):
    fan_in, fan_out = shape[-1], shape[-2]
    lim = jnp.sqrt(6.0 / (fan_in + fan_out))
    return jax.random.uniform(key, shape, jnp.float32, minval=-lim, maxval=lim)


def init_gated(key, model: str, n: int, k: int):
    """Standard initialisation: Glorot-uniform input weights, orthogonal recurrent weights, zero biases
    (the LSTM's forget-gate bias 1, as is common). float32, also inside ``jax.enable_x64`` (every draw of
    the study is made in float32, so that the float64 twin runs on the same numbers)."""
    gates = 3 if model == "gru" else 4
    k_w, k_u = jax.random.split(key)
    W = _glorot(k_w, (gates, n, k))
    U = jnp.stack([jacobians.qr_cgs2(jax.random.normal(kk, (n, n), jnp.float32))[0]
                   for kk in jax.random.split(k_u, gates)])
    if model == "gru":
        return GRUParams(W, U, jnp.zeros((gates, n), jnp.float32))
    return LSTMParams(W, U, jnp.zeros((gates, n), jnp.float32).at[1].set(1.0))


def _gated_row(row, xs, read_idx, *, model, n):
    params = init_gated(jax.random.fold_in(jax.random.key(1), row["seed"]), model, n, xs.shape[1])
    params = jax.tree.map(lambda a: a.astype(xs.dtype), params)
    cell = (lambda p, h, x: gru_cell(p, h, x)) if model == "gru" else (lambda p, s, x: lstm_cell(p, s, x))
    size = n if model == "gru" else 2 * n  # LSTM: the joint state s = (h, c)
    readout, checks = jacobians.cell_jacobian_product(cell, params, jnp.zeros(size, xs.dtype), xs, read_idx)
    return readout.ln_scale, readout.p, checks.orthogonality_error


def _gated_host(out):
    ln_scale, p, orth = out
    return jacobians.log_spectral_norm(ln_scale, p), orth


def read_steps(cfg) -> np.ndarray:
    """0-based step indices read: 0, read_every - 1, 2 read_every - 1, ..., t_max - 1."""
    return np.unique(np.concatenate([[0], np.arange(cfg.read_every - 1, cfg.t_max, cfg.read_every),
                                     [cfg.t_max - 1]]))


def _invariants(ln_norm, diag, checks, ln_abs_det, cond, gamma_lambda, t_read, n, eps):
    """Per run: identity residual and allowance (nats), bound excess (decades), validity. ln_norm (N, R)
    may be NaN at reads that were not taken (probe rows: all but the last)."""
    steps = int(t_read[-1])
    residual, allowance = jacobians.determinant_identity(
        diag.sum(axis=-1, dtype=np.float64), checks.ln_row_scale_sum, checks.ln_row_scale_abs, checks.ln_diag_abs,
        steps, ln_abs_det, cond, n, eps)
    bound = t_read[None, :] * np.log(gamma_lambda)[:, None]
    excess = ln_norm - bound  # nats
    allowed = t_read[None, :] * jacobians.bound_allowance_per_step(n, eps)
    taken = ~np.isnan(ln_norm)
    bound_ok = np.all(np.where(taken, excess <= allowed, True), axis=-1)
    finite = (np.all(np.isfinite(np.where(taken, ln_norm, 0.0)), axis=-1) & np.all(np.isfinite(diag), axis=-1)
              & np.isfinite(residual))
    orth = np.asarray(checks.orthogonality_error, np.float64)
    valid = (finite & (np.abs(residual) <= allowance) & (orth <= jacobians.orthogonality_allowance(n, eps))
             & bound_ok)
    return {"residual": residual, "allowance": allowance, "orth": orth, "identity_ok": np.abs(residual) <= allowance,
            "orth_ok": orth <= jacobians.orthogonality_allowance(n, eps), "bound_ok": bound_ok, "finite": finite,
            "valid": valid}


def study(cfg, *, key):
    dtype = np.dtype(cfg.dtype)
    eps = float(np.finfo(dtype).eps)
    with jax.enable_x64(True) if dtype == np.float64 else contextlib.nullcontext():
        return _study(cfg, key, dtype, eps)


def _study(cfg, key, dtype, eps):
    key_h0 = jax.random.fold_in(key, 1)  # the inputs come from key itself (as before the perturbations)
    xs = np.asarray(jax.random.normal(key, (cfg.t_max, cfg.n_inputs), jnp.float32)).astype(dtype)
    read = read_steps(cfg)
    t_read = (read + 1).astype(np.float64)
    n, S, K = cfg.n_hidden, cfg.seeds, cfg.h0_perturbations
    lambdas = np.geomspace(cfg.lambda_min, cfg.lambda_max, cfg.n_lambda)
    ds = Dataset()
    ds.add_axis(N.ACT, np.asarray(cfg.activations))
    ds.add_axis(N.KIND, np.asarray(KINDS))
    ds.add_axis(N.LAMBDA1, lambdas)
    ds.add_axis(N.SEED, np.arange(S))
    ds.add_axis(N.T_READ, read + 1)
    ds.add_axis(N.RANK, np.arange(1, n + 1))
    ds.add(N.COMPUTE_DTYPE, (), np.asarray(cfg.dtype))
    g = grid(kind=np.arange(len(KINDS)), lam=np.arange(cfg.n_lambda), seed=np.arange(S))
    W_grid = np.stack([recurrent_matrix(int(sd), n, lambdas[l], KINDS[k])
                       for k, l, sd in zip(g["kind"], g["lam"], g["seed"])])
    ln_abs_det_grid = np.linalg.slogdet(W_grid.astype(np.float64))[1]
    cond_grid = np.linalg.cond(W_grid.astype(np.float64))
    sigma_grid = np.linalg.norm(W_grid.astype(np.float64), ord=2, axis=(1, 2))  # lambda_1 after rounding to float32
    ds.add(N.LAMBDA1_OF_W, (N.KIND, N.LAMBDA1, N.SEED), sigma_grid.reshape(len(KINDS), cfg.n_lambda, S))
    shape = (len(KINDS), cfg.n_lambda, S)
    checked = {N.IDENTITY_RESIDUAL: "residual", N.IDENTITY_ALLOWANCE: "allowance", N.ORTHOGONALITY_ERROR: "orth",
               N.IDENTITY_OK: "identity_ok", N.ORTHOGONALITY_OK: "orth_ok", N.BOUND_OK: "bound_ok",
               N.FINITE: "finite", N.CELL_VALID: "valid"}
    out = {name: [] for name in ("norm", "lyap", *checked)}
    probe_cells, probe_norm, probe_top, probe_valid = [], [], [], []
    for a, act in enumerate(cfg.activations):
        gamma = MAX_DERIVATIVE[act]
        above = np.flatnonzero(gamma * lambdas[g["lam"]] > 1.0)  # grid rows with probes
        n_probe = len(above) * K
        z = jax.random.normal(jax.random.fold_in(key_h0, a), (n_probe, n), jnp.float32)
        noise = np.asarray(z, np.float64) * cfg.h0_delta
        src = np.concatenate([np.arange(len(g["seed"])), np.repeat(above, K)])  # grid row each run uses
        rows = {"W": W_grid[src], "seed": g["seed"][src].astype(np.int32),
                "h0_noise": np.concatenate([np.zeros((len(g["seed"]), n)), noise]).astype(np.float32),
                "probe": np.arange(len(src)) >= len(g["seed"])}
        ln_norm, diag, checks = map_configs(stable_partial(_vector_row, act=act), rows, (xs, read),
                                            chunk_size=cfg.chunk_size, desc=f"{act} Jacobians",
                                            host_fn=_vector_host)
        inv = _invariants(ln_norm, diag, checks, ln_abs_det_grid[src], cond_grid[src], gamma * sigma_grid[src],
                          t_read, n, eps)
        main = slice(0, len(g["seed"]))
        out["norm"].append((ln_norm[main] / LN10).reshape(shape + (len(read),)))
        out["lyap"].append(np.sort(diag[main] / cfg.t_max, axis=-1)[..., ::-1].reshape(shape + (n,)))
        for name, key_ in checked.items():
            out[name].append(inv[key_][main].reshape(shape))
        top = diag.max(axis=-1) / cfg.t_max
        for j, row in enumerate(above):
            probe_cells.append((a, g["kind"][row], g["lam"][row], g["seed"][row]))
            runs = np.concatenate([[row], len(g["seed"]) + j * K + np.arange(K)])
            probe_norm.append(ln_norm[runs, -1] / LN10)
            probe_top.append(top[runs])
            probe_valid.append(inv["valid"][runs])
    cell = (N.ACT, N.KIND, N.LAMBDA1, N.SEED)
    ds.add(N.LOG10_NORM, cell + (N.T_READ,), np.stack(out["norm"]))
    ds.add(N.LN_LYAPUNOV, cell + (N.RANK,), np.stack(out["lyap"]))
    for name in checked:
        ds.add(name, cell, np.stack(out[name]))
    ds.add_axis(N.PROBE, np.arange(len(probe_cells)))
    ds.add_axis(N.H0_DRAW, np.arange(K + 1))
    ds.add_axis(N.CELL_INDEX, np.asarray(cell))
    ds.add(N.PROBE_CELL, (N.PROBE, N.CELL_INDEX), np.asarray(probe_cells, np.int64).reshape(-1, 4))
    ds.add(N.PROBE_LOG10_NORM, (N.PROBE, N.H0_DRAW), np.asarray(probe_norm).reshape(-1, K + 1))
    ds.add(N.PROBE_LN_TOP, (N.PROBE, N.H0_DRAW), np.asarray(probe_top).reshape(-1, K + 1))
    ds.add(N.PROBE_VALID, (N.PROBE, N.H0_DRAW), np.asarray(probe_valid, bool).reshape(-1, K + 1))
    ds.add(N.CHAOS_CLASS, cell, chaos_classes(ds))

    ds.add_axis(N.MODEL, np.asarray(tuple(GATED)))
    ds.add(N.GATED_STATE, (N.MODEL,), np.asarray(tuple(GATED.values())))
    ds.add_axis(N.SEED_GATED, np.arange(cfg.seeds_gated))
    gated, gated_orth = [], []
    for model in GATED:
        fn = stable_partial(_gated_row, model=model, n=n)
        ln_norm, orth = map_configs(fn, {"seed": np.arange(cfg.seeds_gated, dtype=np.int32)}, (xs, read),
                                    chunk_size=cfg.chunk_size, host_fn=_gated_host)
        gated.append(ln_norm / LN10)
        gated_orth.append(orth)
    size = np.asarray([n if m == "gru" else 2 * n for m in GATED])[:, None]
    gated, gated_orth = np.stack(gated), np.stack(gated_orth).astype(np.float64)
    ds.add(N.LOG10_NORM_GATED, (N.MODEL, N.SEED_GATED, N.T_READ), gated)
    ds.add(N.ORTHOGONALITY_ERROR_GATED, (N.MODEL, N.SEED_GATED), gated_orth)
    ds.add(N.GATED_VALID, (N.MODEL, N.SEED_GATED),
           np.all(np.isfinite(gated), axis=-1) & (gated_orth <= jacobians.ORTHOGONALITY_ULPS * size * eps))
    return ds, summarise(ds, cfg, eps)


def chaos_classes(ds: Dataset) -> np.ndarray:
    """contracting / undetermined / chaotic per cell, from the top exponent over its valid h0 draws.

    Below the line every cell is contracting by the bound (its top exponent <= ln(gamma lambda_1) < 0;
    the bound is checked). Above it: the mean top exponent over the valid draws with its Student-t 95 %
    interval (``stats.mean_effect``); chaotic when the interval lies above 0, contracting when below,
    undetermined otherwise (also with fewer than 2 valid draws).
    """
    classes = np.full(ds[N.CELL_VALID].shape, N.CHAOS_CLASSES[0], dtype=object)
    for (a, k, l, s), top, ok in zip(ds[N.PROBE_CELL], ds[N.PROBE_LN_TOP], ds[N.PROBE_VALID]):
        values = top[ok]
        if values.size < 2:
            classes[a, k, l, s] = N.CHAOS_CLASSES[1]
            continue
        lo, hi = stats.mean_effect("top exponent", values, "nats/step").ci95
        classes[a, k, l, s] = N.CHAOS_CLASSES[2] if lo > 0 else N.CHAOS_CLASSES[0] if hi < 0 else N.CHAOS_CLASSES[1]
    return classes.astype(str)


__all__ = ["ACTIVATIONS", "KINDS", "compute", "recurrent_matrix", "study"]


def compute(config) -> tuple:
    """The runner's entry: (Dataset, summary[, extra arrays]) for a validated config."""
    return study(config, key=jax.random.key(config.input_seed))
