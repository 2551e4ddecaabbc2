"""The clipping study's exact part (C5a) and Pascanu's cliff: what optax's clippings do to a gradient.

All clipping is optax's: ``optax.clip`` (by value), ``optax.clip_by_global_norm`` and
``optax.clip_by_block_rms`` (per parameter block).
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxrnn.core.sweep import grid
from jaxrnn.models import train
from jaxrnn.studies.clipping import names as nm
from jaxrnn.studies.clipping.claims import geometry_counts

CLIPS = nm.CLIPS
MAX_NORM_F32 = 1e18  # larger raw gradients (wrecked runs) overflow ||g||^2 in float32: left out of C5a


def _clip(kind: str, tau):
    return {"value": optax.clip, "global_norm": optax.clip_by_global_norm,
            "block_rms": optax.clip_by_block_rms}[kind](tau)


def clip_geometry(g, tau):
    """(cosine(g, clip(g)), ||clip(g)|| / ||g||), each (3,) over CLIPS; g a pytree (its leaves are the blocks).

    Theorem (norm clipping): clip(g) = min(1, tau / ||g||) g is a positive multiple of g, so the
    cosine is 1 and the ratio min(1, tau / ||g||). Value clipping keeps g only if every |g_i| <= tau.
    """
    out = []
    for kind in CLIPS:
        t = _clip(kind, tau)
        c = t.update(g, t.init(g))[0]
        dot = sum(jnp.vdot(a, b) for a, b in zip(jax.tree.leaves(g), jax.tree.leaves(c)))
        ng, nc = optax.tree.norm(g), optax.tree.norm(c)
        out.append((dot / (ng * nc), nc / ng))
    return jnp.asarray([o[0] for o in out]), jnp.asarray([o[1] for o in out])


# (samples, tau) grid of clip_geometry: one function, compiled once per gradient shape
_geometry_grid = jax.jit(jax.vmap(jax.vmap(clip_geometry, in_axes=(None, 0)), in_axes=(0, None)))

# ---------------------------------------------------------------------------
# C5a: geometry
# ---------------------------------------------------------------------------

def synthetic_direction(cfg, key) -> dict:
    """Heavy-tailed (Student-t) gradients of several dimensions, each split into 4 equal blocks."""
    taus = jnp.asarray(np.geomspace(cfg.tau_min, cfg.tau_max, cfg.n_tau), jnp.float32)
    med, worst, counts = [], [], []
    for d in cfg.dims:
        g = jax.random.t(jax.random.fold_in(key, d), cfg.student_df, (cfg.n_grad_samples, 4, max(d // 4, 1)))
        cos, ratio = (np.asarray(a) for a in _geometry_grid([g[:, i] for i in range(4)], taus))  # (samples, tau, clip)
        flat = np.asarray(g, np.float64).reshape(g.shape[0], -1)
        counts.append(geometry_counts(cos, ratio, np.linalg.norm(flat, axis=1), np.abs(flat).max(axis=1),
                                      np.asarray(taus), list(CLIPS)))
        med.append(np.median(cos, axis=0))
        worst.append(cos.min(axis=0))
    total = {k: (min(c[k] for c in counts) if k.startswith("worst") else sum(c[k] for c in counts))
             for k in counts[0]}
    return {"tau": np.asarray(taus), "median": np.stack(med), "worst": np.stack(worst), "counts": total}


def real_direction(cfg, grads: list) -> dict:
    """Geometry on raw RNN gradients (pytrees with a leading sample axis, one per task); non-finite ones and
    those whose squared norm overflows float32 are left out (counted)."""
    taus = jnp.asarray(np.geomspace(cfg.tau_min, cfg.tau_max, cfg.n_tau), jnp.float32)
    cos, ratio, norms, maxabs, dropped = [], [], [], [], 0
    for g in grads:
        leaves = jax.tree.leaves(g)
        flat = np.concatenate([np.asarray(a).reshape(a.shape[0], -1) for a in leaves], axis=1)
        with np.errstate(over="ignore", invalid="ignore"):
            norm64 = np.linalg.norm(flat.astype(np.float64), axis=1)
        # finite, non-zero, and a squared norm float32 can hold (the cosines are computed in float32)
        keep = np.isfinite(norm64) & (norm64 > 0) & (norm64 < MAX_NORM_F32)
        dropped += int((~keep).sum())
        if not keep.any():
            continue
        kept = [jnp.asarray(np.asarray(a)[keep]) for a in leaves]
        c, r = _geometry_grid(kept, taus)
        cos.append(np.asarray(c))
        ratio.append(np.asarray(r))
        norms.append(norm64[keep])
        maxabs.append(np.abs(flat[keep]).max(axis=1))
    if not cos:
        raise ValueError("no finite raw gradient to measure")
    return {"cos": np.concatenate(cos), "ratio": np.concatenate(ratio), "norm": np.concatenate(norms),
            "maxabs": np.concatenate(maxabs), "dropped": dropped, "tau": np.asarray(taus)}


# ---------------------------------------------------------------------------
# The cliff (Pascanu et al. 2013, section 2.3)
# ---------------------------------------------------------------------------

def cliff_loss(theta, steps: int = 50, target: float = 0.7, x0: float = 0.5):
    """x_t = w sigma(x_{t-1}) + b from x_0; loss (sigma(x_steps) - target)^2; theta = (w, b)."""
    w, b = theta[0], theta[1]
    x = jax.lax.fori_loop(0, steps, lambda _, x: w * jax.nn.sigmoid(x) + b, jnp.asarray(x0, theta.dtype))
    return (jax.nn.sigmoid(x) - target) ** 2


def cliff_grad_closed_form(theta, steps: int = 50, target: float = 0.7, x0: float = 0.5):
    """Forward sensitivities: dx_t/dw = s_{t-1} + w s'_{t-1} dx_{t-1}/dw, dx_t/db = 1 + w s'_{t-1} dx_{t-1}/db
    (s = sigma(x), s' = s (1 - s)); dL/dtheta = 2 (s_T - target) s'_T dx_T/dtheta."""
    w, b = theta[0], theta[1]

    def step(_, c):
        x, dw, db = c
        s = jax.nn.sigmoid(x)
        ds = s * (1 - s)
        return w * s + b, s + w * ds * dw, 1 + w * ds * db

    zero = jnp.zeros((), theta.dtype)
    x, dw, db = jax.lax.fori_loop(0, steps, step, (jnp.asarray(x0, theta.dtype), zero, zero))
    s = jax.nn.sigmoid(x)
    return 2 * (s - target) * s * (1 - s) * jnp.stack([dw, db])


def cliff_descent(theta0, method, tau, lr, steps: int):
    """SGD on the cliff loss with the row's clipping (``train.clip_selected``): the trajectory (steps+1, 2)."""
    opt = optax.chain(train.clip_selected(method, tau), optax.sgd(lr))

    def step(c, _):
        th, s = c
        u, s = opt.update(jax.grad(cliff_loss)(th), s, th)
        th = optax.apply_updates(th, u)
        return (th, s), th

    _, path = jax.lax.scan(step, (theta0, opt.init(theta0)), None, length=steps)
    return jnp.concatenate([theta0[None], path])


@functools.partial(jax.jit, static_argnames="steps")
def _cliff_paths(starts, method, tau, lr, start, *, steps: int):
    return jax.vmap(lambda m, t, r, s: cliff_descent(starts[s], m, t, r, steps))(method, tau, lr, start)


def cliff_study(cfg) -> tuple[dict, dict]:
    ws = np.linspace(cfg.cliff_w[0], cfg.cliff_w[1], cfg.cliff_n)
    bs = np.linspace(cfg.cliff_b[0], cfg.cliff_b[1], cfg.cliff_n)
    g = grid(w=ws, b=bs)
    theta = jnp.asarray(np.stack([g["w"], g["b"]], 1), jnp.float32)
    surface = np.asarray(jax.jit(jax.vmap(cliff_loss))(theta)).reshape(len(ws), len(bs))
    starts = jnp.asarray(np.asarray(cfg.cliff_starts, np.float32))
    runs = grid(method=np.arange(3), lr=np.asarray(cfg.cliff_lrs), tau=np.asarray(cfg.cliff_taus),
                start=np.arange(len(cfg.cliff_starts)))
    paths = np.asarray(_cliff_paths(starts, jnp.asarray(runs["method"]), jnp.asarray(runs["tau"], jnp.float32),
                                    jnp.asarray(runs["lr"], jnp.float32), jnp.asarray(runs["start"]),
                                    steps=cfg.cliff_steps))  # (runs, steps+1, 2)
    final = np.asarray(jax.jit(jax.vmap(cliff_loss))(jnp.asarray(paths[:, -1])))
    jumps = np.linalg.norm(np.diff(paths, axis=1), axis=-1).max(axis=1)
    shape = (3, len(cfg.cliff_lrs), len(cfg.cliff_taus), len(cfg.cliff_starts))
    success = (np.nan_to_num(final, nan=1.0) < cfg.cliff_success).reshape(shape)
    jumps = jumps.reshape(shape)
    rep = {m: {"success_rate": float(success[i].mean()), "largest_step_median": float(np.median(jumps[i])),
               "largest_step_max": float(np.max(jumps[i]))} for i, m in enumerate(train.METHODS)}
    arrays = {"w": ws, "b": bs, "loss": surface, "paths": paths.reshape(shape + paths.shape[1:]),
              "success": success, "jump": jumps}
    return arrays, rep


# ---------------------------------------------------------------------------
# Non-finite gradients
# ---------------------------------------------------------------------------

def nonfinite_report() -> dict:
    """What each optax clipping does with inf / nan entries, and what apply_if_finite does."""
    rep = {}
    for name, g in (("inf", jnp.array([jnp.inf, 1.0, -2.0])), ("nan", jnp.array([jnp.nan, 1.0, -2.0]))):
        row = {}
        for kind in CLIPS:
            t = _clip(kind, 1.0)
            row[kind] = [str(v) for v in np.asarray(t.update(g, t.init(g))[0]).tolist()]
        opt = optax.apply_if_finite(optax.sgd(0.1), max_consecutive_errors=3)
        p = jnp.zeros(3)
        s = opt.init(p)
        u, s = opt.update(g, s, p)
        row["apply_if_finite(sgd)"] = {"update": [str(v) for v in np.asarray(u).tolist()],
                                       "notfinite_count": int(s.notfinite_count)}
        rep[name] = row
    return rep


