"""The spectral study: vector RNNs (and GRU/LSTM at initialisation) beyond the scalar case.

||dh_T/dh_0|| over the largest singular value lambda_1 of W and T, with Pascanu et al.'s
sufficient condition for vanishing, lambda_1 < 1/gamma (gamma = max act'), which implies the
bound ||dh_T/dh_0|| <= (gamma lambda_1)^T.
"""

from __future__ import annotations


import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn.core import jacobians
from jaxrnn.core.cells import (ACTIVATIONS, MAX_DERIVATIVE, GRUParams, LSTMParams, VectorParams, gru_cell,
                          lstm_cell)
from jaxrnn.io.results import Dataset
from jaxrnn.core.sweep import grid, map_configs, stable_partial

KINDS = ("orthogonal", "gaussian")
LN10 = float(np.log(10.0))


def recurrent_matrix(seed: int, n: int, lambda1: float, kind: str) -> np.ndarray:
    """W (n, n) with largest singular value lambda1 (host side, numpy LAPACK): a random orthogonal
    matrix (all singular values equal) or a Gaussian one rescaled by its spectral norm."""
    g = np.asarray(jax.random.normal(jax.random.fold_in(jax.random.key(0), seed), (n, n)), np.float64)
    if kind == "orthogonal":
        q, r = np.linalg.qr(g)
        w = q * np.sign(np.diag(r))[None, :]
    elif kind == "gaussian":
        w = g / np.linalg.norm(g, ord=2)
    else:
        raise ValueError(f"unknown matrix kind {kind!r}; choose from {', '.join(KINDS)}")
    return (lambda1 * w).astype(np.float32)


def _vector_row(row, xs, read_idx, *, act):
    n = row["W"].shape[0]
    U = jax.random.normal(jax.random.fold_in(jax.random.key(1), row["seed"]), (n, xs.shape[1])) / jnp.sqrt(xs.shape[1])
    h0 = jnp.full((n,), 0.0 if act == "tanh" else 0.5)
    log_scale, p, lyap = jacobians.vector_log_norm(VectorParams(row["W"], U, jnp.zeros(n)), h0, xs, read_idx, act=act)
    return log_scale, p, lyap[-1]


def _glorot(key, shape):
    fan_in, fan_out = shape[-1], shape[-2]
    lim = jnp.sqrt(6.0 / (fan_in + fan_out))
    return jax.random.uniform(key, shape, minval=-lim, maxval=lim)


def init_gated(key, model: str, n: int, k: int):
    """Standard initialisation: Glorot-uniform input weights, orthogonal recurrent weights, zero biases
    (the LSTM's forget-gate bias 1, as is common)."""
    gates = 3 if model == "gru" else 4
    k_w, k_u = jax.random.split(key)
    W = _glorot(k_w, (gates, n, k))
    U = jnp.stack([jacobians.qr_cgs2(jax.random.normal(kk, (n, n)))[0] for kk in jax.random.split(k_u, gates)])
    if model == "gru":
        return GRUParams(W, U, jnp.zeros((gates, n)))
    return LSTMParams(W, U, jnp.zeros((gates, n)).at[1].set(1.0))


def _gated_row(row, xs, read_idx, *, model, n):
    params = init_gated(jax.random.fold_in(jax.random.key(1), row["seed"]), model, n, xs.shape[1])
    cell = (lambda p, h, x: gru_cell(p, h, x)) if model == "gru" else (lambda p, s, x: lstm_cell(p, s, x))
    size = n if model == "gru" else 2 * n
    log_scale, p, _ = jacobians.cell_log_norm(cell, params, jnp.zeros(size), xs, read_idx)
    return log_scale, p


def study(cfg, *, key):
    xs = np.asarray(jax.random.normal(key, (cfg.t_max, cfg.n_inputs)), np.float32)
    read = np.unique(np.concatenate([[0], np.arange(cfg.read_every - 1, cfg.t_max, cfg.read_every), [cfg.t_max - 1]]))
    ds = Dataset()
    ds.add_axis("act", np.asarray(cfg.activations))
    ds.add_axis("kind", np.asarray(KINDS))
    ds.add_axis("lambda1", np.geomspace(cfg.lambda_min, cfg.lambda_max, cfg.n_lambda))
    ds.add_axis("seed", np.arange(cfg.seeds))
    ds.add_axis("T_read", read + 1)
    ds.add_axis("unit", np.arange(cfg.n_hidden))
    norms, lyaps = [], []
    g = grid(kind=np.arange(len(KINDS)), lambda1=ds["lambda1"], seed=np.arange(cfg.seeds))
    rows = {"W": np.stack([recurrent_matrix(int(sd), cfg.n_hidden, lam, KINDS[k])
                           for k, lam, sd in zip(g["kind"], g["lambda1"], g["seed"])]),
            "seed": g["seed"].astype(np.int32)}
    host_norm = lambda out: (jacobians.log_spectral_norm(out[0], out[1]), out[2])  # noqa: E731
    for act in cfg.activations:
        fn = stable_partial(_vector_row, act=act)
        log_norm, lyap = map_configs(fn, rows, (xs, read), chunk_size=cfg.chunk_size, desc=f"{act} Jacobians",
                                     host_fn=host_norm)
        shape = (len(KINDS), cfg.n_lambda, cfg.seeds)
        norms.append((log_norm / LN10).reshape(shape + (len(read),)))
        lyaps.append(np.sort(lyap / cfg.t_max, axis=-1)[..., ::-1].reshape(shape + (cfg.n_hidden,)))
    ds.add("log10_norm", ("act", "kind", "lambda1", "seed", "T_read"), np.stack(norms))
    ds.add("lyapunov", ("act", "kind", "lambda1", "seed", "unit"), np.stack(lyaps))
    ds.add_axis("model", np.asarray(("gru", "lstm")))
    gated = []
    for model in ("gru", "lstm"):
        fn = stable_partial(_gated_row, model=model, n=cfg.n_hidden)
        gated.append(map_configs(fn, {"seed": np.arange(cfg.seeds_gated, dtype=np.int32)}, (xs, read),
                                 chunk_size=cfg.chunk_size,
                                 host_fn=lambda out: jacobians.log_spectral_norm(*out)) / LN10)
    ds.add_axis("seed_gated", np.arange(cfg.seeds_gated))
    ds.add("log10_norm_gated", ("model", "seed_gated", "T_read"), np.stack(gated))
    return ds, {"bound": bound_report(ds), "growth": growth_report(ds), "gated": gated_report(ds)}




def bound_report(ds: Dataset) -> dict:
    """Violations of ||dh_T/dh_0|| <= (gamma lambda_1)^T (float32 rounding allowed: 1e-4 per step)."""
    out = {}
    t = ds["T_read"].astype(np.float64)
    for a, act in enumerate(ds["act"]):
        bound = t * np.log10(MAX_DERIVATIVE[str(act)] * ds["lambda1"])[None, :, None, None]
        norm = ds["log10_norm"][a].astype(np.float64)
        slack = bound - norm
        out[str(act)] = {"points": int(norm.size), "violations": int((slack < -1e-4 * t).sum()),
                         "min_slack_decades": float(slack.min())}
    return out


def growth_report(ds: Dataset) -> dict:
    """Above the line lambda_1 > 1/gamma: how often the gradient actually grows, at the longest T."""
    out = {}
    for a, act in enumerate(ds["act"]):
        above = ds["lambda1"] > 1 / MAX_DERIVATIVE[str(act)]
        for k, kind in enumerate(ds["kind"]):
            final = ds["log10_norm"][a, k, :, :, -1]  # (lambda1, seed)
            grows = final[above] > 0
            first = ds["lambda1"][above][np.argmax(grows.all(axis=-1))] if grows.all(axis=-1).any() else None
            out[f"{act}/{kind}"] = {
                "frac_above_line_growing": float(grows.mean()) if grows.size else float("nan"),
                "smallest_lambda1_where_all_seeds_grow": None if first is None else float(first),
                "largest_lyapunov_at_max_lambda1": float(ds["lyapunov"][a, k, -1, :, 0].mean()),
                "T": int(ds["T_read"][-1]),
            }
    return out


def gated_report(ds: Dataset) -> dict:
    out = {}
    for m, model in enumerate(ds["model"]):
        curve = np.median(ds["log10_norm_gated"][m], axis=0)
        out[str(model)] = {"median_log10_norm_at_T": {int(t): float(curve[j]) for j, t in enumerate(ds["T_read"])
                                                      if t in (1, 50, 100, 200, 500) or j == len(curve) - 1},
                           "decades_per_step_2nd_half": float((curve[-1] - curve[len(curve) // 2])
                                                              / (ds["T_read"][-1] - ds["T_read"][len(curve) // 2]))}
    return out


__all__ = ["ACTIVATIONS", "study"]


def compute(config) -> tuple:
    """The runner's entry: (Dataset, summary with claims[, extra arrays]) for a validated config."""
    return study(config, key=jax.random.key(config.input_seed))
