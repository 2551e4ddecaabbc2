"""The clipping study (Problem 1 e): geometry (C5a), Pascanu's cliff, training on his tasks (C5b).

All clipping is optax's: ``optax.clip`` (by value), ``optax.clip_by_global_norm`` and
``optax.clip_by_block_rms`` (per parameter block).

C5b's design (Pascanu, Mikolov & Bengio 2013 and their code ``pascanur/trainingRNNs``):

1. **Selection.** For each task, optimizer arm (plain SGD; Adam as a second arm) and clipping
   method, every candidate threshold is trained on the *selection seeds* at every initial radius of
   the arm; the threshold with the best mean outcome (pooled over radii) is chosen.
2. **Evaluation.** No clipping, value clipping and norm clipping, each at its chosen threshold, are
   trained on the *evaluation seeds* (disjoint from the selection seeds) at every radius. A seed
   fixes the initial parameters and the training batches, so the three methods are compared on the
   same seeds (paired).

The outcome of a run (``config.outcome``; the CPU default was stated before any result was seen):
``y = log10(R)`` with ``R`` = final loss on fresh sequences / loss of the best constant predictor,
capped at ``R = 100`` (non-finite counts as the cap); or task success (error < 1 %, Pascanu's).
Each run also records its explosions: largest raw gradient norm / the run's median, steps above
10x the median, non-finite steps, loss jumps.
"""

from __future__ import annotations

import functools
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax

from jaxrnn.core.sweep import grid
from jaxrnn.io.results import Dataset
from jaxrnn.models import tasks, train
from jaxrnn.studies.clipping import names as nm
from jaxrnn.studies.clipping.claims import claims, geometry_counts

CLIPS = nm.CLIPS
MAX_NORM_F32 = 1e18  # larger raw gradients (wrecked runs) overflow ||g||^2 in float32: left out of C5a
SEED_STRIDE = 200_000  # run seeds: eval = config.seed * SEED_STRIDE + i, selection = ... + SEED_STRIDE // 2 + i


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


def run_seeds(config, kind: str) -> np.ndarray:
    """Seeds of the evaluation runs or of the selection runs: two disjoint ranges."""
    base = config.seed * SEED_STRIDE
    if kind == "eval":
        return base + np.arange(config.eval_seeds)
    if kind == "selection":
        return base + SEED_STRIDE // 2 + np.arange(config.selection_seeds)
    raise ValueError(f"unknown seed kind {kind!r}")


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
# C5b: training
# ---------------------------------------------------------------------------

def run_statistics(rec: train.TrainRecord, task: str, cfg) -> dict:
    """Per-run numbers (host side, numpy) from the training records (leading axis N).

    y = log10(min(R, 100)), R = last evaluation loss / constant predictor's loss (non-finite -> 100);
    the explosion record: max raw norm / median raw norm (over the finite steps), steps above
    BIG_FACTOR x median, non-finite steps, and a loss jump (a window mean above jump_factor x
    max(best earlier window mean, 0.1 x constant loss) and above the constant loss).
    """
    const = tasks.CONSTANT_LOSS[task]
    loss, norm = np.asarray(rec.loss, np.float64), np.asarray(rec.grad_norm, np.float64)
    R = np.asarray(rec.eval_loss, np.float64)[:, -1] / const
    cap = 10.0 ** nm.LOG_CAP
    y = np.log10(np.where(np.isfinite(R), np.minimum(R, cap), cap))
    finite = np.isfinite(norm)
    med = np.array([np.median(r[f]) if f.any() else np.nan for r, f in zip(norm, finite)])
    mx = np.array([np.max(r[f]) if f.any() else np.nan for r, f in zip(norm, finite)])
    big = (np.where(finite, norm, 0.0) > nm.BIG_FACTOR * med[:, None]).sum(axis=1)  # finite steps only
    nonfinite = (~finite | ~np.isfinite(loss)).sum(axis=1)
    w = loss.reshape(loss.shape[0], -1, cfg.log_every).mean(axis=-1)
    nw = norm.reshape(norm.shape[0], -1, cfg.log_every)
    norm_max = np.where(np.isfinite(nw), nw, np.inf).max(axis=-1)
    best = np.minimum.accumulate(np.where(np.isfinite(w), w, np.inf), axis=1)
    before = np.concatenate([np.full((w.shape[0], 1), np.inf), best[:, :-1]], axis=1)
    jumped = ((w > cfg.jump_factor * np.maximum(before, 0.1 * const)) & (w > const)).any(axis=1)
    err = np.asarray(rec.eval_error, np.float64)
    return {nm.Y: y, nm.ERROR: err[:, -1], nm.SUCCESS: (err < cfg.success_error).any(axis=1),
            nm.NORM_RATIO: mx / med, nm.BIG_STEPS: big, nm.NONFINITE: nonfinite, nm.JUMPED: jumped,
            nm.WRECKED: jumped | (nonfinite > 0), nm.LOSS_TRACE: w, nm.NORM_TRACE: norm_max,
            nm.EVAL_LOSS: np.asarray(rec.eval_loss), nm.EVAL_ERROR: err}


def arms(cfg) -> dict:
    """{arm: (optimizer index, learning rate, initial radii)}."""
    return {"sgd": (0, cfg.sgd_lr, tuple(cfg.radii)), "adam": (1, cfg.adam_lr, tuple(cfg.adam_radii))}


def selection_rows(cfg) -> tuple[dict, list]:
    """Rows of the threshold-selection runs and their (arm, radius, method, tau, seed) labels."""
    labels = []
    thresholds = {"value": cfg.value_thresholds, "norm": cfg.norm_thresholds}
    for arm, (_, _, radii) in arms(cfg).items():
        for r in radii:
            for method in ("value", "norm"):
                for tau in thresholds[method]:
                    for s in run_seeds(cfg, "selection"):
                        labels.append((arm, r, method, tau, int(s)))
    return _rows(cfg, labels), labels


def evaluation_rows(cfg, chosen: dict) -> tuple[dict, list]:
    """Rows of the evaluation runs: every method at its chosen threshold (``none``: tau unused)."""
    labels = []
    for arm, (_, _, radii) in arms(cfg).items():
        for r in radii:
            for method in train.METHODS:
                tau = 1.0 if method == "none" else chosen[arm][method]
                for s in run_seeds(cfg, "eval"):
                    labels.append((arm, r, method, tau, int(s)))
    return _rows(cfg, labels), labels


def _rows(cfg, labels) -> dict:
    a = arms(cfg)
    return {"method": np.asarray([train.check_method(m) for _, _, m, _, _ in labels], np.int32),
            "tau": np.asarray([t for _, _, _, t, _ in labels], np.float32),
            "opt": np.asarray([a[arm][0] for arm, *_ in labels], np.int32),
            "lr": np.asarray([a[arm][1] for arm, *_ in labels], np.float32),
            "radius": np.asarray([r for _, r, _, _, _ in labels], np.float32),
            "seed": np.asarray([s for *_, s in labels], np.int32)}


def _train(cfg, task: str, rows: dict, eval_key) -> train.TrainRecord:
    return train.train_grid(rows, task=task, n=cfg.n_hidden, length_min=cfg.length_min, length_max=cfg.length_max,
                            batch=cfg.batch, steps=cfg.steps, checks=cfg.checks, n_eval=cfg.n_eval,
                            eval_key=eval_key, chunk_rows=cfg.chunk_rows,
                            measured=rows["opt"] == 0)  # the SGD arm's explosions are what C5b counts


def choose_thresholds(cfg, labels: list, stats: dict) -> tuple[dict, dict]:
    """Each (arm, method)'s threshold: best mean outcome over its selection runs, pooled over radii.

    outcome relative_loss: lowest mean y; outcome success: highest success rate, ties broken by the
    lowest mean y (then the first candidate). Returns ({arm: {method: tau}}, {arm: {method: {tau: score}}}).
    """
    thresholds = {"value": cfg.value_thresholds, "norm": cfg.norm_thresholds}
    chosen, table = {}, {}
    y, succ = stats[nm.Y], stats[nm.SUCCESS]
    for arm in arms(cfg):
        chosen[arm], table[arm] = {}, {}
        for method, taus in thresholds.items():
            scores = []
            for tau in taus:
                idx = [i for i, (a, _, m, t, _) in enumerate(labels) if a == arm and m == method and t == tau]
                mean_y, rate = float(np.mean(y[idx])), float(np.mean(succ[idx]))
                scores.append((-rate, mean_y) if cfg.outcome == "success" else (mean_y,))
                table[arm].setdefault(method, {})[f"{tau:g}"] = {"mean_y": mean_y, "success_rate": rate,
                                                                  "runs": len(idx)}
            chosen[arm][method] = float(taus[min(range(len(taus)), key=lambda i: scores[i])])
    return chosen, table


def plan_checks(cfg, key) -> tuple[int, dict]:
    """How many evaluation blocks (of steps / checks steps each) to train: all of them, or, with a time
    budget, as many as fit: one block of the first task's selection chunk is timed twice (the first call
    includes compilation), and every task is assumed to cost the same."""
    if cfg.time_budget_s <= 0:
        return cfg.checks, {}
    task = cfg.tasks[0]
    rows, _ = selection_rows(cfg)
    part = {k: jnp.asarray(np.resize(v, cfg.chunk_rows)) for k, v in train.check_rows(rows).items()}
    init, run = train._compiled(task, cfg.n_hidden, cfg.length_min, cfg.length_max, cfg.batch, cfg.steps // cfg.checks,
                                cfg.n_eval)
    t0 = time.perf_counter()
    state = init(part)
    jax.block_until_ready(run(part, state, key))
    t1 = time.perf_counter()
    jax.block_until_ready(run(part, state, key))
    t2 = time.perf_counter()
    block_s, compile_s = t2 - t1, max(t1 - t0 - (t2 - t1), 0.0)
    chunks = sum(-(-len(labels) // cfg.chunk_rows) for labels in (selection_rows(cfg)[1],
                                                                  evaluation_rows(cfg, _any_thresholds(cfg))[1]))
    per_block = len(cfg.tasks) * chunks * block_s
    spare = cfg.time_budget_s - (t2 - t0) - (len(cfg.tasks) - 1) * compile_s
    checks = int(max(1, min(cfg.checks, spare // per_block)))
    return checks, {"time_budget_s": cfg.time_budget_s, "timed_block_s": block_s, "timed_compile_s": compile_s,
                    "checks_run": checks, "steps_run": checks * (cfg.steps // cfg.checks)}


def _any_thresholds(cfg) -> dict:
    return {arm: {"value": cfg.value_thresholds[0], "norm": cfg.norm_thresholds[0]} for arm in nm.ARMS}


def training_study(cfg, key) -> tuple[Dataset, dict, list]:
    """Selection then evaluation for every task; returns (arrays, summary part, raw gradients of the
    unclipped SGD evaluation runs per task)."""
    ds = Dataset()
    ds.add_axis(nm.AX_METHOD, np.asarray(train.METHODS))
    ds.add_axis(nm.AX_EVAL_SEED, run_seeds(cfg, "eval"))
    ds.add_axis(nm.AX_SEL_SEED, run_seeds(cfg, "selection"))
    ds.add_axis(nm.AX_VALUE_TAU, np.asarray(cfg.value_thresholds))
    ds.add_axis(nm.AX_NORM_TAU, np.asarray(cfg.norm_thresholds))
    ds.add_axis(nm.AX_ARM, np.asarray(nm.ARMS))
    ds.add_axis(nm.AX_CLIPPED, np.asarray(["value", "norm"]))
    block = cfg.steps // cfg.checks
    ds.add_axis(nm.AX_WINDOW, np.arange(cfg.steps // cfg.log_every) * cfg.log_every)
    ds.add_axis(nm.AX_CHECK, (np.arange(cfg.checks) + 1) * block)
    for arm, (_, _, radii) in arms(cfg).items():
        ds.add_axis(nm.ax_radius(arm), np.asarray(radii))
    summary, grads = {}, []
    for t, task in enumerate(cfg.tasks):
        eval_key = jax.random.fold_in(key, t)
        sel_rows, sel_labels = selection_rows(cfg)
        sel = run_statistics(_train(cfg, task, sel_rows, eval_key), task, cfg)
        chosen, table = choose_thresholds(cfg, sel_labels, sel)
        ev_rows, ev_labels = evaluation_rows(cfg, chosen)
        rec = _train(cfg, task, ev_rows, eval_key)
        ev = run_statistics(rec, task, cfg)
        ds.add(nm.chosen_array(task), (nm.AX_ARM, nm.AX_CLIPPED),
               np.asarray([[chosen[a]["value"], chosen[a]["norm"]] for a in nm.ARMS]))
        offset_sel = offset_ev = 0
        for arm, (_, _, radii) in arms(cfg).items():
            R, S, E = len(radii), cfg.selection_seeds, cfg.eval_seeds
            # selection block of this arm: (radius, method[value, norm], tau, seed), value taus then norm taus
            n_v, n_n = len(cfg.value_thresholds), len(cfg.norm_thresholds)
            per_radius = (n_v + n_n) * S
            ys = sel[nm.Y][offset_sel:offset_sel + R * per_radius].reshape(R, per_radius)
            ds.add(nm.selection_array(task, arm, "value"), (nm.ax_radius(arm), nm.AX_VALUE_TAU, nm.AX_SEL_SEED),
                   ys[:, :n_v * S].reshape(R, n_v, S))
            ds.add(nm.selection_array(task, arm, "norm"), (nm.ax_radius(arm), nm.AX_NORM_TAU, nm.AX_SEL_SEED),
                   ys[:, n_v * S:].reshape(R, n_n, S))
            offset_sel += R * per_radius
            sl = slice(offset_ev, offset_ev + R * 3 * E)
            dims = (nm.ax_radius(arm), nm.AX_METHOD, nm.AX_EVAL_SEED)
            for what, v in ev.items():
                v = v[sl]
                extra = ((nm.AX_WINDOW,) if what in (nm.LOSS_TRACE, nm.NORM_TRACE) else
                         (nm.AX_CHECK,) if what in (nm.EVAL_LOSS, nm.EVAL_ERROR) else ())
                ds.add(nm.run_array(task, arm, what), dims + extra, v.reshape((R, 3, E) + v.shape[1:]))
            if arm == "sgd":
                none = np.asarray([i for i, lab in enumerate(ev_labels) if lab[0] == "sgd" and lab[2] == "none"])
                grads.append(jax.tree.map(lambda a: np.asarray(a)[none].reshape((-1,) + a.shape[2:]), rec.grads))
            offset_ev += R * 3 * E
        summary[task] = {"lengths": [cfg.length_min, cfg.length_max],
                         "allocated_length": tasks.alloc_length(task, cfg.length_max),
                         "constant_loss": tasks.CONSTANT_LOSS[task], "chosen_tau": chosen, "selection": table,
                         "runs": {"selection": len(sel_labels), "evaluation": len(ev_labels)}}
    return ds, summary, grads


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


def compute(config) -> tuple:
    """The runner's entry: (Dataset, summary with claims C5a and C5b) for a validated config.

    With a time budget (``config.time_budget_s``), training is shortened to whole evaluation blocks
    first (``plan_checks``); the summary records the steps that ran, and the claims use them.
    """
    k_syn, k_train = jax.random.split(jax.random.key(config.seed))
    checks, plan = plan_checks(config, jax.random.fold_in(k_train, 10_000))
    config = config.replace(checks=checks, steps=checks * (config.steps // config.checks))
    ds, train_summary, grads = training_study(config, k_train)
    syn = synthetic_direction(config, k_syn)
    real = real_direction(config, grads)
    ds.add_axis(nm.AX_TAU, syn["tau"])
    ds.add_axis(nm.AX_DIM, np.asarray(config.dims))
    ds.add_axis(nm.AX_CLIP, np.asarray(CLIPS))
    ds.add(nm.COS_SYNTHETIC, (nm.AX_DIM, nm.AX_TAU, nm.AX_CLIP), syn["median"])
    ds.add(nm.WORST_SYNTHETIC, (nm.AX_DIM, nm.AX_TAU, nm.AX_CLIP), syn["worst"])
    ds.add_axis(nm.AX_REAL, np.arange(real["cos"].shape[0]))
    ds.add(nm.COS_REAL, (nm.AX_REAL, nm.AX_TAU, nm.AX_CLIP), real["cos"])
    ds.add(nm.RATIO_REAL, (nm.AX_REAL, nm.AX_TAU, nm.AX_CLIP), real["ratio"])
    ds.add(nm.NORM_REAL, (nm.AX_REAL,), real["norm"])
    ds.add(nm.MAXABS_REAL, (nm.AX_REAL,), real["maxabs"])
    cliff, cliff_rep = cliff_study(config)
    ds.add_axis(nm.AX_CLIFF_W, cliff["w"])
    ds.add_axis(nm.AX_CLIFF_B, cliff["b"])
    ds.add(nm.CLIFF_LOSS, (nm.AX_CLIFF_W, nm.AX_CLIFF_B), cliff["loss"])
    ds.add_axis(nm.AX_CLIFF_LR, np.asarray(config.cliff_lrs))
    ds.add_axis(nm.AX_CLIFF_TAU, np.asarray(config.cliff_taus))
    ds.add_axis(nm.AX_CLIFF_START, np.arange(len(config.cliff_starts)))
    ds.add_axis(nm.AX_CLIFF_STEP, np.arange(config.cliff_steps + 1))
    ds.add_axis(nm.AX_COORD, np.asarray(["w", "b"]))
    ds.add(nm.CLIFF_PATHS, (nm.AX_METHOD, nm.AX_CLIFF_LR, nm.AX_CLIFF_TAU, nm.AX_CLIFF_START, nm.AX_CLIFF_STEP,
                            nm.AX_COORD), cliff["paths"])
    for name, key in ((nm.CLIFF_SUCCESS, "success"), (nm.CLIFF_JUMP, "jump")):
        ds.add(name, (nm.AX_METHOD, nm.AX_CLIFF_LR, nm.AX_CLIFF_TAU, nm.AX_CLIFF_START), cliff[key])
    summary = {"training": train_summary, "cliff": cliff_rep, "nonfinite": nonfinite_report(),
               "direction": {"synthetic_counts": syn["counts"], "student_df": config.student_df,
                             "dims": list(config.dims), "tau_range": [config.tau_min, config.tau_max],
                             "real_gradients": int(real["cos"].shape[0]),
                             "real_gradients_left_out_nonfinite": real["dropped"],
                             "real_grad_norm_range": [float(real["norm"].min()), float(real["norm"].max())]},
               "steps_run": config.steps, "time_plan": plan,
               "seeds": {"evaluation": [int(s) for s in run_seeds(config, "eval")],
                         "selection": [int(s) for s in run_seeds(config, "selection")]}}
    summary["claims"] = claims(ds, summary, config)
    return ds, summary
