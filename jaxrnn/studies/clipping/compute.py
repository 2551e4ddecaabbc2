"""The clipping study (Problem 1 e, claim C5): direction, the cliff, training, non-finite gradients.

All clipping is optax's: ``optax.clip`` (by value), ``optax.clip_by_global_norm`` and
``optax.clip_by_block_rms`` (per parameter).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxrnn.models import tasks
from jaxrnn.models import train
from jaxrnn.io.results import Dataset
from jaxrnn.core.sweep import grid
from jaxrnn.studies.clipping.claims import claims

CLIPS = ("value", "global_norm", "block_rms")


def _clip(kind: str, tau):
    return {"value": optax.clip, "global_norm": optax.clip_by_global_norm, "block_rms": optax.clip_by_block_rms}[kind](tau)


def clip_geometry(g, tau):
    """(cosine(g, clip(g)), ||clip(g)|| / ||g||) for each optax clipping; g a pytree (its leaves = blocks)."""
    out = []
    for kind in CLIPS:
        t = _clip(kind, tau)
        c = t.update(g, t.init(g))[0]
        dot = sum(jnp.vdot(a, b) for a, b in zip(jax.tree.leaves(g), jax.tree.leaves(c)))
        ng, nc = optax.tree.norm(g), optax.tree.norm(c)
        out.append((dot / (ng * nc), nc / ng))
    return jnp.asarray([o[0] for o in out]), jnp.asarray([o[1] for o in out])


# ---------------------------------------------------------------------------
# 1. Direction
# ---------------------------------------------------------------------------

def synthetic_direction(cfg, key) -> tuple[dict, dict]:
    """Heavy-tailed (Student-t) gradients of several dimensions, split into 4 equal blocks."""
    taus = np.geomspace(cfg.tau_min, cfg.tau_max, cfg.n_tau)
    cos = np.zeros((len(cfg.dims), cfg.n_tau, len(CLIPS)))
    worst = np.ones(len(CLIPS))
    for i, d in enumerate(cfg.dims):
        g = jax.random.t(jax.random.fold_in(key, d), cfg.student_df, (cfg.n_grad_samples, 4, max(d // 4, 1)))
        per = jax.jit(jax.vmap(jax.vmap(lambda gg, t: clip_geometry(list(gg), t)[0], in_axes=(None, 0)),
                               in_axes=(0, None)))(g, jnp.asarray(taus, jnp.float32))  # (samples, tau, clip)
        cos[i] = np.median(np.asarray(per), axis=0)
        worst = np.minimum(worst, np.asarray(per).min(axis=(0, 1)))
    return {"tau": taus, "cos_synthetic": cos}, {"worst_cosine": dict(zip(CLIPS, worst.tolist()))}


def real_gradients(cfg, key) -> list:
    """Raw gradients met while training tanh RNNs with Adam (addition task, each initial radius):
    one pytree per radius whose leaves carry a leading (n_grad_samples,) axis."""
    grads = []
    for j, radius in enumerate(cfg.radii):
        k_init, k_data = jax.random.split(jax.random.fold_in(key, j))
        params = train.init_rnn(k_init, cfg.n_hidden, 2, 1, radius)
        opt = optax.adam(cfg.lrs[0])
        state = opt.init(params)

        def step(carry, k):
            p, s = carry
            data = tasks.make_batch("addition", k, cfg.length_addition, cfg.batch)
            g = jax.grad(lambda q: train.loss_and_correct("addition", q, data)[0])(p)
            u, s = opt.update(g, s, p)
            return (optax.apply_updates(p, u), s), g

        _, gs = jax.jit(lambda c, ks: jax.lax.scan(step, c, ks))((params, state),
                                                                  jax.random.split(k_data, cfg.grad_steps))
        keep = np.arange(0, cfg.grad_steps, max(cfg.grad_steps // cfg.n_grad_samples, 1))[:cfg.n_grad_samples]
        grads.append(jax.tree.map(lambda a: a[keep], gs))
    return grads


def real_direction(cfg, key) -> tuple[dict, dict]:
    taus = np.geomspace(cfg.tau_min, cfg.tau_max, cfg.n_tau)
    cos, ratio, norms = [], [], []
    for gs in real_gradients(cfg, key):
        leaves = jax.tree.leaves(gs)
        c, r = jax.jit(jax.vmap(jax.vmap(lambda g, t: clip_geometry(g, t), in_axes=(None, 0)), in_axes=(0, None)))(
            leaves, jnp.asarray(taus, jnp.float32))
        cos.append(np.asarray(c))
        ratio.append(np.asarray(r))
        norms.append(np.asarray(jax.vmap(optax.tree.norm)(leaves)))
    cos, ratio, norms = np.concatenate(cos), np.concatenate(ratio), np.concatenate(norms)
    return ({"cos_real": cos, "ratio_real": ratio, "grad_norm_real": norms},
            {"worst_cosine_real": dict(zip(CLIPS, cos.min(axis=(0, 1)).tolist())),
             "grad_norms_real": [float(norms.min()), float(np.median(norms)), float(norms.max())]})


# ---------------------------------------------------------------------------
# 2. The cliff (Pascanu et al. 2013, section 2.3)
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
    """SGD on the cliff loss with the config's clipping (``train.clip_selected``): the trajectory (steps+1, 2)."""
    opt = optax.chain(train.clip_selected(method, tau), optax.sgd(lr))

    def step(c, _):
        th, s = c
        u, s = opt.update(jax.grad(cliff_loss)(th), s, th)
        th = optax.apply_updates(th, u)
        return (th, s), th

    _, path = jax.lax.scan(step, (theta0, opt.init(theta0)), None, length=steps)
    return jnp.concatenate([theta0[None], path])


def cliff_study(cfg) -> tuple[dict, dict]:
    ws = np.linspace(cfg.cliff_w[0], cfg.cliff_w[1], cfg.cliff_n)
    bs = np.linspace(cfg.cliff_b[0], cfg.cliff_b[1], cfg.cliff_n)
    g = grid(w=ws, b=bs)
    theta = jnp.asarray(np.stack([g["w"], g["b"]], 1), jnp.float32)
    surface = np.asarray(jax.jit(jax.vmap(cliff_loss))(theta)).reshape(len(ws), len(bs))
    starts = np.asarray(cfg.cliff_starts, np.float32)
    runs = grid(method=np.arange(3), lr=np.asarray(cfg.cliff_lrs), tau=np.asarray(cfg.cliff_taus),
                start=np.arange(len(starts)))
    paths = jax.jit(jax.vmap(lambda m, t, lr, s: cliff_descent(jnp.asarray(starts)[s], m, t, lr, cfg.cliff_steps)))(
        jnp.asarray(runs["method"]), jnp.asarray(runs["tau"], jnp.float32), jnp.asarray(runs["lr"], jnp.float32),
        jnp.asarray(runs["start"]))
    paths = np.asarray(paths)  # (runs, steps+1, 2)
    final = np.asarray(jax.vmap(cliff_loss)(jnp.asarray(paths[:, -1])))
    jumps = np.linalg.norm(np.diff(paths, axis=1), axis=-1).max(axis=1)
    shape = (3, len(cfg.cliff_lrs), len(cfg.cliff_taus), len(starts))
    success = (np.nan_to_num(final, nan=1.0) < cfg.cliff_success).reshape(shape)
    jumps = jumps.reshape(shape)
    rep = {m: {"success_rate": float(success[i].mean()), "largest_step_median": float(np.median(jumps[i])),
               "largest_step_max": float(np.max(jumps[i]))} for i, m in enumerate(train.METHODS)}
    arrays = {"cliff_w": ws, "cliff_b": bs, "cliff_loss": surface, "cliff_paths": paths.reshape(shape + paths.shape[1:]),
              "cliff_success": success, "cliff_jump": jumps}
    return arrays, rep


# ---------------------------------------------------------------------------
# 3. Training on the long-range tasks
# ---------------------------------------------------------------------------

def training_study(cfg, key) -> tuple[dict, dict]:
    """One vmapped training run per task over method x threshold x lr x radius x seed ("none" once)."""
    variants = [(0, cfg.thresholds[0])] + [(m, t) for m in (1, 2) for t in cfg.thresholds]
    arrays, rep = {}, {}
    for task, length in (("addition", cfg.length_addition), ("temporal_order", cfg.length_temporal)):
        g = grid(variant=np.arange(len(variants)), lr=np.asarray(cfg.lrs), radius=np.asarray(cfg.radii),
                 seed=np.arange(cfg.seeds))
        rows = {"method": np.asarray([variants[v][0] for v in g["variant"]], np.int32),
                "tau": np.asarray([variants[v][1] for v in g["variant"]], np.float32),
                "lr": g["lr"].astype(np.float32), "radius": g["radius"].astype(np.float32),
                "seed": g["seed"].astype(np.int32)}
        res = train.train_grid(rows, task=task, n=cfg.n_hidden, length=length, batch=cfg.batch, steps=cfg.steps,
                               chunk=cfg.chunk, log_every=cfg.log_every, n_eval=cfg.n_eval,
                               eval_key=jax.random.fold_in(key, len(task)))
        shape = (len(variants), len(cfg.lrs), len(cfg.radii), cfg.seeds)
        success = (res.error_rate < 0.01).reshape(shape)
        arrays[task] = {"success": success, "error_rate": res.error_rate.reshape(shape),
                        "loss": res.loss.reshape(shape + (-1,)), "grad_norm_max": res.grad_norm_max.reshape(shape + (-1,)),
                        "grad_norm_median": res.grad_norm_median.reshape(shape + (-1,))}
        by_method = {name: success[[i for i, v in enumerate(variants) if v[0] == m]] for m, name in
                     enumerate(train.METHODS)}
        rep[task] = {
            "length": length, "models": int(np.prod(shape)),
            "success_rate": {k: float(v.mean()) for k, v in by_method.items()},
            "best_threshold_success": {k: float(v.mean(axis=(1, 3)).max(axis=0).mean()) if k != "none" else
                                       float(v.mean(axis=(1, 3)).mean()) for k, v in by_method.items()},
            "success_by_radius": {k: [float(x) for x in v.mean(axis=(0, 1, 3))] for k, v in by_method.items()},
            "overall_success": float(success.mean()),
        }
    return arrays, rep, variants


# ---------------------------------------------------------------------------
# 4. Non-finite gradients
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


def study(cfg, *, key):
    k_dir, k_real, k_train = jax.random.split(key, 3)
    ds = Dataset()
    syn, syn_rep = synthetic_direction(cfg, k_dir)
    ds.add_axis("tau", syn["tau"])
    ds.add_axis("dim", np.asarray(cfg.dims))
    ds.add_axis("clip", np.asarray(CLIPS))
    ds.add("cos_synthetic", ("dim", "tau", "clip"), syn["cos_synthetic"])
    real, real_rep = real_direction(cfg, k_real)
    ds.add_axis("grad_sample", np.arange(real["cos_real"].shape[0]))
    ds.add("cos_real", ("grad_sample", "tau", "clip"), real["cos_real"])
    ds.add("ratio_real", ("grad_sample", "tau", "clip"), real["ratio_real"])
    ds.add("grad_norm_real", ("grad_sample",), real["grad_norm_real"])
    cliff, cliff_rep = cliff_study(cfg)
    ds.add_axis("cliff_w", cliff["cliff_w"])
    ds.add_axis("cliff_b", cliff["cliff_b"])
    ds.add("cliff_loss", ("cliff_w", "cliff_b"), cliff["cliff_loss"])
    ds.add_axis("method", np.asarray(train.METHODS))
    ds.add_axis("cliff_lr", np.asarray(cfg.cliff_lrs))
    ds.add_axis("cliff_tau", np.asarray(cfg.cliff_taus))
    ds.add_axis("cliff_start", np.arange(len(cfg.cliff_starts)))
    ds.add_axis("cliff_step", np.arange(cfg.cliff_steps + 1))
    ds.add_axis("coord", np.asarray(["w", "b"]))
    ds.add("cliff_paths", ("method", "cliff_lr", "cliff_tau", "cliff_start", "cliff_step", "coord"), cliff["cliff_paths"])
    for name in ("cliff_success", "cliff_jump"):
        ds.add(name, ("method", "cliff_lr", "cliff_tau", "cliff_start"), cliff[name])
    trained, train_rep, variants = training_study(cfg, k_train)
    ds.add_axis("variant", np.asarray([f"{train.METHODS[m]}" + ("" if m == 0 else f" tau={t:g}") for m, t in variants]))
    ds.add_axis("lr", np.asarray(cfg.lrs))
    ds.add_axis("radius", np.asarray(cfg.radii))
    ds.add_axis("seed", np.arange(cfg.seeds))
    ds.add_axis("window", np.arange(cfg.steps // cfg.log_every) * cfg.log_every)
    for task, arr in trained.items():
        for name, v in arr.items():
            dims = ("variant", "lr", "radius", "seed") + (("window",) if v.ndim == 5 else ())
            ds.add(f"{task}__{name}", dims, v)
    summary = {"direction": {**syn_rep, **real_rep}, "cliff": cliff_rep, "training": train_rep,
               "nonfinite": nonfinite_report(), "variants": [list(v) for v in variants]}
    summary["claims"] = claims(summary)
    return ds, summary


def compute(config) -> tuple:
    """The runner's entry: (Dataset, summary with claims[, extra arrays]) for a validated config."""
    return study(config, key=jax.random.key(config.seed))
