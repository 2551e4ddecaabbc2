"""Config of the clipping study (Problem 1 e; claims C5a geometry, C5b training)."""

from __future__ import annotations

import dataclasses

from jaxrnn.io.config import Check, StudyConfig, between, field, one_of, positive
from jaxrnn.models.tasks import TASKS

THRESHOLD = between(1e-6, 1e6)
RATE = between(0, 100, lo_open=True)
RADIUS = between(0, 100, lo_open=True)


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    """Clipping by value vs by norm (optax): geometry (C5a) and plain SGD training on Pascanu's tasks (C5b)."""

    # C5a: geometry on heavy-tailed synthetic gradients (and on the raw RNN gradients of C5b's runs)
    dims: tuple[int, ...] = field((4, 16, 64, 256, 1024, 4096), "gradient dimensions of the geometry study",
                                  between(1, 1 << 20))
    student_df: float = field(1.5, "degrees of freedom of the heavy-tailed (Student-t) gradients", between(0.5, 1e6))
    n_grad_samples: int = field(64, "synthetic gradient vectors per dimension", between(1, 1 << 16))
    tau_min: float = field(1e-3, "smallest clipping threshold of the geometry sweep", THRESHOLD)
    tau_max: float = field(1e3, "largest clipping threshold of the geometry sweep", THRESHOLD)
    n_tau: int = field(25, "thresholds in the geometry sweep", between(2, 10_000))
    # the cliff (Pascanu et al. section 2.3): SGD on a one-unit RNN
    cliff_w: tuple[float, ...] = field((-4.0, 16.0), "w range (lo,hi) of the cliff landscape", between(-1e3, 1e3))
    cliff_b: tuple[float, ...] = field((-10.0, 4.0), "b range (lo,hi) of the cliff landscape", between(-1e3, 1e3))
    cliff_n: int = field(201, "grid points per axis of the cliff landscape", between(2, 4096))
    cliff_starts: tuple[tuple[float, ...], ...] = field(
        ((9.0, -5.0), (12.0, -6.5), (6.0, -3.0), (14.0, -7.5), (3.0, -2.0), (10.0, -4.0)),
        "starting points (w,b) of the cliff descents", Check(lambda v: len(v) == 2 and max(map(abs, v)) <= 1e3,
                                                             "a pair w,b with |w|, |b| <= 1000"))
    cliff_lrs: tuple[float, ...] = field((0.1, 0.5, 2.0, 8.0), "SGD learning rates of the cliff descents", RATE)
    cliff_taus: tuple[float, ...] = field((0.01, 0.1, 1.0), "clipping thresholds of the cliff descents", THRESHOLD)
    cliff_steps: int = field(300, "SGD steps of each cliff descent", between(1, 1 << 20))
    cliff_success: float = field(1e-3, "loss below which a cliff descent succeeds", positive(1e6))
    # C5b: plain SGD on Pascanu's tasks; (lr, tau) chosen per method on selection seeds
    tasks: tuple[str, ...] = field(("temporal_order",), "Pascanu's tasks trained", one_of(*TASKS), distinct=True)
    length_min: int = field(10, "shortest sequence length of a batch (one length per batch, as Pascanu)",
                            between(2, 10_000))
    length_max: int = field(20, "longest sequence length of a batch", between(2, 10_000))
    n_hidden: int = field(16, "hidden units of the trained RNNs", between(1, 1024))
    batch: int = field(20, "sequences per training batch (Pascanu: 20)", between(1, 1 << 16))
    steps: int = field(1500, "SGD steps per run (a multiple of --checks)", between(1, 1 << 24))
    checks: int = field(5, "evaluations on fresh sequences per run (equally spaced, the last after the last step)",
                        between(1, 10_000))
    log_every: int = field(10, "steps per window of the saved loss / gradient-norm traces (divides --steps/--checks)",
                           between(1, 1 << 20))
    n_eval: int = field(500, "fresh sequences of each evaluation (the same for every run)", between(1, 1 << 20))
    radius: float = field(1.5, "spectral radius of the initial recurrent matrix (> 1: gradients can explode)",
                          RADIUS)
    # 5 x 5 cells per method: wide enough that each method's chosen cell lies inside the grid (the summary's
    # chosen_on_grid_edge says when it does not; on 3 x 4 norm's choice sat in a corner)
    lrs: tuple[float, ...] = field((0.01, 0.03, 0.1, 0.3, 1.0), "candidate SGD learning rates (every method)", RATE,
                                   distinct=True)
    value_thresholds: tuple[float, ...] = field((0.003, 0.01, 0.03, 0.1, 0.3),
                                                "candidate thresholds of clipping by value", THRESHOLD, distinct=True)
    norm_thresholds: tuple[float, ...] = field((0.1, 0.3, 1.0, 3.0, 10.0),
                                               "candidate thresholds of clipping by global norm",
                                               THRESHOLD, distinct=True)
    selection_seeds: int = field(8, "seeds per (lr, tau) cell on which each method's cell is chosen",
                                 between(1, 10_000))
    eval_seeds: int = field(96, "reported seeds per method (paired; disjoint from the selection seeds; 2 or more for an interval)",
                            between(2, 10_000))
    success_error: float = field(0.01, "error rate on fresh sequences below which a run succeeds (Pascanu: 1 %)",
                                 between(0, 1))
    jump_factor: float = field(3.0, "a window loss above this times the best earlier one (and above the constant "
                               "predictor's) is a jump", between(1, 1e6, lo_open=True))
    time_budget_s: float = field(0.0, "0: train all --steps; > 0: train only as many blocks of --steps/--checks steps "
                                 "as fit this many seconds (timed on the first task; a GPU preset)", between(0, 1e6))
    chunk_rows: int = field(72, "training runs per compiled call (vmapped together)", between(1, 1 << 20))
    seed: int = field(0, "PRNG seed (evaluation sets, synthetic gradients; run seeds are offset from it)",
                      between(0, 10_000))

    PRESETS = ("paper",)
    RELATIONS = (
        ("tau_min", lambda c: c.tau_min < c.tau_max, "must be < --tau-max"),
        ("cliff_w", lambda c: len(c.cliff_w) == 2 and c.cliff_w[0] < c.cliff_w[1], "need two values lo,hi with lo < hi"),
        ("cliff_b", lambda c: len(c.cliff_b) == 2 and c.cliff_b[0] < c.cliff_b[1], "need two values lo,hi with lo < hi"),
        ("length_min", lambda c: c.length_min <= c.length_max, "must be <= --length-max"),
        ("steps", lambda c: c.steps % c.checks == 0, "must be a multiple of --checks"),
        ("log_every", lambda c: (c.steps // c.checks) % c.log_every == 0, "must divide --steps / --checks"),
        ("eval_seeds", lambda c: c.eval_seeds <= 100_000 and c.selection_seeds <= 100_000,
         "at most 100000 (seed ranges must stay disjoint)"),
    )

    @classmethod
    def paper(cls) -> "Config":
        """Pascanu et al.'s conditions on one GPU in <= 10 minutes, with the default's selection procedure:
        lengths 50-200 (one per batch), 50 hidden units, the addition and temporal order tasks, SGD learning
        rates around his 0.01, norm thresholds around his 1.0, 4 selection and 32 reported seeds, 1000 fresh
        sequences per evaluation. Training stops at the last whole block of 500 steps that fits --time-budget-s
        (timed on the machine; the summary records the steps that ran)."""
        return cls(tasks=("temporal_order", "addition"), length_min=50, length_max=200, n_hidden=50, steps=50_000,
                   checks=100, log_every=50, lrs=(0.003, 0.01, 0.03), value_thresholds=(0.003, 0.01, 0.03, 0.1),
                   norm_thresholds=(0.3, 1.0, 3.0, 10.0), selection_seeds=4, eval_seeds=32, n_eval=1000,
                   time_budget_s=420.0, chunk_rows=108)

    @classmethod
    def quick(cls) -> "Config":
        return cls(dims=(4, 64), n_grad_samples=8, n_tau=7, cliff_n=21, cliff_starts=((9.0, -5.0),),
                   cliff_lrs=(0.5,), cliff_taus=(0.1,), cliff_steps=20, n_hidden=4, length_min=6, length_max=8,
                   batch=4, steps=20, checks=2, log_every=5, n_eval=32, lrs=(0.1, 0.3), value_thresholds=(0.1,),
                   norm_thresholds=(1.0,), selection_seeds=2, eval_seeds=3, chunk_rows=12)
