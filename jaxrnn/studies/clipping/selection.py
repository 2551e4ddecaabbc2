"""C5b's fair selection: each method's (learning rate, threshold) chosen on seeds never reported.

The grid (``config.lrs`` x ``config.value_thresholds`` / ``config.norm_thresholds``): value and norm
clipping at every (lr, tau) cell, no clipping at every lr. Every cell is trained on the *selection
seeds*; each method keeps its best cell (highest success rate, ties broken by the lowest mean
outcome y, then the first cell in grid order). The reported runs use the *evaluation seeds*, a
disjoint range, so the choice never sees a reported run. Robustness: per method, how many of its
cells reach a success rate >= ``names.ROBUST_RATE`` on the selection seeds.
"""

from __future__ import annotations

import numpy as np

from jaxrnn.models import train
from jaxrnn.studies.clipping import names as nm

SEED_STRIDE = 200_000  # run seeds: eval = config.seed * SEED_STRIDE + i, selection = ... + SEED_STRIDE // 2 + i
NO_TAU = 0.0  # the tau recorded for "none" (no clipping: the threshold is unused)


def run_seeds(config, kind: str) -> np.ndarray:
    """Seeds of the evaluation (reported) runs or of the selection runs: two disjoint ranges."""
    base = config.seed * SEED_STRIDE
    if kind == "eval":
        return base + np.arange(config.eval_seeds)
    if kind == "selection":
        return base + SEED_STRIDE // 2 + np.arange(config.selection_seeds)
    raise ValueError(f"unknown seed kind {kind!r}")


def thresholds(cfg, method: str) -> tuple[float, ...]:
    return {"none": (NO_TAU,), "value": tuple(cfg.value_thresholds), "norm": tuple(cfg.norm_thresholds)}[method]


def grid_cells(cfg) -> list[tuple[str, float, float]]:
    """(method, lr, tau) of every selection cell, in grid order (method, then lr, then tau)."""
    return [(m, float(lr), float(tau)) for m in nm.METHODS for lr in cfg.lrs for tau in thresholds(cfg, m)]


def rows(cfg, labels: list) -> dict:
    """Training rows (models.train) of labelled runs (method, lr, tau, seed): plain SGD at the config's radius."""
    return train.check_rows({
        "method": [train.check_method(m) for m, *_ in labels],
        "tau": [tau if m != "none" else 1.0 for m, _, tau, _ in labels],  # method 0 ignores tau
        "opt": [0] * len(labels),
        "lr": [lr for _, lr, _, _ in labels],
        "radius": [cfg.radius] * len(labels),
        "seed": [s for *_, s in labels]})


def selection_rows(cfg) -> tuple[dict, list]:
    """Rows of the selection runs and their (method, lr, tau, seed) labels: every cell x every selection seed."""
    labels = [(m, lr, tau, int(s)) for m, lr, tau in grid_cells(cfg) for s in run_seeds(cfg, "selection")]
    return rows(cfg, labels), labels


def evaluation_rows(cfg, chosen: dict) -> tuple[dict, list]:
    """Rows of the reported runs: every method at its chosen (lr, tau) on every evaluation seed (paired)."""
    labels = [(m, *chosen[m], int(s)) for m in nm.METHODS for s in run_seeds(cfg, "eval")]
    return rows(cfg, labels), labels


def choose(cfg, labels: list, stats: dict) -> tuple[dict, dict]:
    """Each method's best cell on the selection runs.

    Returns ({method: (lr, tau)}, {method: [{"lr", "tau", "success_rate", "mean_y", "runs"} per cell]}).
    Score: highest success rate, then lowest mean y, then the first cell in grid order.
    """
    y, succ = np.asarray(stats[nm.Y], np.float64), np.asarray(stats[nm.SUCCESS], bool)
    cells: dict = {}
    for i, (m, lr, tau, _) in enumerate(labels):
        cells.setdefault((m, lr, tau), []).append(i)
    chosen, table = {}, {}
    for m in nm.METHODS:
        rows_ = []
        for (mm, lr, tau), idx in cells.items():
            if mm == m:
                rows_.append({"lr": lr, "tau": tau, "success_rate": float(succ[idx].mean()),
                              "mean_y": float(y[idx].mean()), "runs": len(idx)})
        if not rows_:
            raise ValueError(f"no selection run of method {m!r}")
        best = min(range(len(rows_)), key=lambda k: (-rows_[k]["success_rate"], rows_[k]["mean_y"], k))
        chosen[m] = (rows_[best]["lr"], rows_[best]["tau"])
        table[m] = rows_
    return chosen, table


def robustness(table: dict) -> dict:
    """{method: (cells with success rate >= ROBUST_RATE, cells)} from :func:`choose`'s table."""
    return {m: (sum(r["success_rate"] >= nm.ROBUST_RATE for r in rs), len(rs)) for m, rs in table.items()}


def grid_edges(cfg, chosen: dict) -> dict:
    """{method: [edges of the grid its chosen cell lies on]}, e.g. ["largest lr", "smallest tau"].

    A choice on an edge may be limited by the grid: the best setting could lie beyond it.
    """
    out = {}
    for m, (lr, tau) in chosen.items():
        edges = []
        for name, value, axis in (("lr", lr, cfg.lrs), ("tau", tau, thresholds(cfg, m))):
            if len(axis) > 1 and value == min(axis):
                edges.append(f"smallest {name}")
            elif len(axis) > 1 and value == max(axis):
                edges.append(f"largest {name}")
        out[m] = edges
    return out


def selection_grid(cfg, labels: list, values) -> dict:
    """{method: array} of one per-run quantity laid out as (lr, tau, selection seed); none: (lr, seed)."""
    values = np.asarray(values)
    pos = {lab: i for i, lab in enumerate(labels)}
    seeds = run_seeds(cfg, "selection")
    out = {}
    for m in nm.METHODS:
        taus = thresholds(cfg, m)
        idx = np.asarray([[[pos[(m, float(lr), float(t), int(s))] for s in seeds] for t in taus] for lr in cfg.lrs])
        out[m] = values[idx[:, 0]] if m == "none" else values[idx]
    return out
