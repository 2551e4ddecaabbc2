"""C5b's training runs: the selection grid, then the reported runs, per task (plain SGD, models.train).

Every run is one row of ``models.train.train_grid``: the traced (method, tau, lr, seed) of a row
select optax's clipping (``optax.clip`` / ``optax.clip_by_global_norm``) chained before
``optax.sgd``, so one compiled program (per task) trains every cell and seed, vmapped.

Per run (``run_statistics``): y = log10(R), R = final loss on fresh sequences / the best
constant predictor's, capped at R = 100 (non-finite counts as the cap); success = error below
``config.success_error`` (Pascanu's 1 %) at one of the evaluations (he stops at the first); the
explosion record: largest raw gradient norm / the run's median, steps above 10x the median,
non-finite steps, loss jumps.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
import numpy as np

from jaxrnn.io.results import Dataset
from jaxrnn.models import tasks, train
from jaxrnn.studies.clipping import names as nm
from jaxrnn.studies.clipping import selection as sel


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


def _train(cfg, task: str, rows: dict, eval_key, measured) -> train.TrainRecord:
    """``measured`` (N,) bool: rows whose blow-ups are data, set aside from the divergence rule."""
    return train.train_grid(rows, task=task, n=cfg.n_hidden, length_min=cfg.length_min, length_max=cfg.length_max,
                            batch=cfg.batch, steps=cfg.steps, checks=cfg.checks, n_eval=cfg.n_eval,
                            eval_key=eval_key, chunk_rows=cfg.chunk_rows, measured=measured)


def plan_checks(cfg, key) -> tuple[int, dict]:
    """How many evaluation blocks (of steps / checks steps each) to train: all of them, or, with a time
    budget, as many as fit: one block of the first task's selection chunk is timed twice (the first call
    includes compilation), and every task is assumed to cost the same."""
    if cfg.time_budget_s <= 0:
        return cfg.checks, {}
    task = cfg.tasks[0]
    rows, labels = sel.selection_rows(cfg)
    part = {k: jnp.asarray(np.resize(v, cfg.chunk_rows)) for k, v in rows.items()}
    init, run = train._compiled(task, cfg.n_hidden, cfg.length_min, cfg.length_max, cfg.batch, cfg.steps // cfg.checks,
                                cfg.n_eval)
    t0 = time.perf_counter()
    state = init(part)
    jax.block_until_ready(run(part, state, key))
    t1 = time.perf_counter()
    jax.block_until_ready(run(part, state, key))
    t2 = time.perf_counter()
    block_s, compile_s = t2 - t1, max(t1 - t0 - (t2 - t1), 0.0)
    n_runs = len(labels) + len(nm.METHODS) * cfg.eval_seeds
    chunks = -(-len(labels) // cfg.chunk_rows) + -(-(n_runs - len(labels)) // cfg.chunk_rows)
    per_block = len(cfg.tasks) * chunks * block_s
    spare = cfg.time_budget_s - (t2 - t0) - (len(cfg.tasks) - 1) * compile_s
    checks = int(max(1, min(cfg.checks, spare // per_block)))
    return checks, {"time_budget_s": cfg.time_budget_s, "timed_block_s": block_s, "timed_compile_s": compile_s,
                    "checks_run": checks, "steps_run": checks * (cfg.steps // cfg.checks)}


def _axes(cfg) -> Dataset:
    ds = Dataset()
    ds.add_axis(nm.AX_METHOD, np.asarray(nm.METHODS))
    ds.add_axis(nm.AX_EVAL_SEED, sel.run_seeds(cfg, "eval"))
    ds.add_axis(nm.AX_SEL_SEED, sel.run_seeds(cfg, "selection"))
    ds.add_axis(nm.AX_LR, np.asarray(cfg.lrs))
    ds.add_axis(nm.AX_VALUE_TAU, np.asarray(cfg.value_thresholds))
    ds.add_axis(nm.AX_NORM_TAU, np.asarray(cfg.norm_thresholds))
    ds.add_axis(nm.AX_CHOSEN, np.asarray(["lr", "tau"]))
    ds.add_axis(nm.AX_WINDOW, np.arange(cfg.steps // cfg.log_every) * cfg.log_every)
    ds.add_axis(nm.AX_CHECK, (np.arange(cfg.checks) + 1) * (cfg.steps // cfg.checks))
    return ds


def training_study(cfg, key) -> tuple[Dataset, dict, list]:
    """Selection then the reported runs for every task; returns (arrays, summary part, raw gradients of
    the unclipped reported runs per task)."""
    ds = _axes(cfg)
    summary, grads = {}, []
    for t, task in enumerate(cfg.tasks):
        eval_key = jax.random.fold_in(key, t)
        sel_rows, sel_labels = sel.selection_rows(cfg)
        # a grid explores failing cells: the selection runs' blow-ups are data too
        sel_record = _train(cfg, task, sel_rows, eval_key, measured=np.ones(len(sel_rows["seed"]), bool))
        s = run_statistics(sel_record, task, cfg)
        chosen, table = sel.choose(cfg, sel_labels, s)
        for what in nm.SELECTION_SAVED:
            for m, arr in sel.selection_grid(cfg, sel_labels, s[what]).items():
                dims = (nm.AX_LR, nm.AX_SEL_SEED) if m == "none" else (nm.AX_LR, nm.tau_axis(m), nm.AX_SEL_SEED)
                ds.add(nm.selection_array(task, m, what), dims, arr)
        ev_rows, ev_labels = sel.evaluation_rows(cfg, chosen)
        rec = _train(cfg, task, ev_rows, eval_key,  # unclipped SGD's explosions are what C5b counts
                     measured=np.asarray(ev_rows["method"]) == 0)
        ev = run_statistics(rec, task, cfg)
        E = cfg.eval_seeds
        for what, v in ev.items():
            extra = ((nm.AX_WINDOW,) if what in (nm.LOSS_TRACE, nm.NORM_TRACE) else
                     (nm.AX_CHECK,) if what in (nm.EVAL_LOSS, nm.EVAL_ERROR) else ())
            ds.add(nm.run_array(task, what), (nm.AX_METHOD, nm.AX_EVAL_SEED) + extra,
                   v.reshape((len(nm.METHODS), E) + v.shape[1:]))
        ds.add(nm.chosen_array(task), (nm.AX_METHOD, nm.AX_CHOSEN), np.asarray([chosen[m] for m in nm.METHODS]))
        none = np.asarray([i for i, lab in enumerate(ev_labels) if lab[0] == "none"])
        grads.append(jax.tree.map(lambda a: np.asarray(a)[none].reshape((-1,) + a.shape[2:]), rec.grads))
        summary[task] = {"lengths": [cfg.length_min, cfg.length_max],
                         "allocated_length": tasks.alloc_length(task, cfg.length_max),
                         "constant_loss": tasks.CONSTANT_LOSS[task],
                         "chosen": {m: {"lr": lr, "tau": tau} for m, (lr, tau) in chosen.items()},
                         "chosen_on_grid_edge": sel.grid_edges(cfg, chosen),
                         "robust_cells": {m: list(v) for m, v in sel.robustness(table).items()},
                         "selection": table,
                         "runs": {"selection": len(sel_labels), "evaluation": len(ev_labels)}}
    return ds, summary, grads
