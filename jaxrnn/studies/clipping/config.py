"""Config of the clipping study (Problem 1 e; claim C5)."""

from __future__ import annotations

import dataclasses

from jaxrnn.io.config import Check, StudyConfig, at_least, between, field, positive

THRESHOLD = between(1e-6, 1e6)
RATE = between(0, 100, lo_open=True)


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    """Clipping by value vs by norm (optax): geometry, the cliff, and vmapped training grids."""

    # direction
    dims: tuple[int, ...] = field((4, 16, 64, 256, 1024, 4096), "gradient dimensions of the geometry study",
                                  between(1, 1 << 20))
    student_df: float = field(1.5, "degrees of freedom of the heavy-tailed (Student-t) gradients", between(0.5, 1e6))
    n_grad_samples: int = field(64, "gradient vectors per dimension", between(1, 1 << 16))
    grad_steps: int = field(512, "training steps whose real gradients are collected", between(1, 1 << 20))
    tau_min: float = field(1e-3, "smallest clipping threshold of the geometry sweep", THRESHOLD)
    tau_max: float = field(1e3, "largest clipping threshold of the geometry sweep", THRESHOLD)
    n_tau: int = field(25, "thresholds in the geometry sweep", between(2, 10_000))
    # cliff
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
    # training
    n_hidden: int = field(32, "hidden units of the trained RNNs", between(1, 1024))
    length_addition: int = field(15, "sequence length L of the addition task", between(2, 10_000))
    length_temporal: int = field(25, "sequence length L of the temporal-order task", between(2, 10_000))
    batch: int = field(32, "sequences per training batch", between(1, 1 << 16))
    steps: int = field(1000, "training steps (a multiple of --chunk)", between(1, 1 << 24))
    chunk: int = field(250, "steps per compiled training call (a multiple of --log-every)", between(1, 1 << 24))
    log_every: int = field(10, "record the loss every this many steps", between(1, 1 << 24))
    thresholds: tuple[float, ...] = field((0.01, 0.03, 0.1, 0.3, 1.0, 3.0), "clipping thresholds trained",
                                          THRESHOLD)
    lrs: tuple[float, ...] = field((1e-3, 1e-2), "learning rates trained", RATE)
    radii: tuple[float, ...] = field((1.0, 2.0), "spectral radii of the initial recurrent matrix", between(0, 100, lo_open=True))
    seeds: int = field(4, "seeds per training cell", between(1, 10_000))
    n_eval: int = field(1000, "fresh sequences scoring each trained model", between(1, 1 << 20))
    seed: int = field(0, "PRNG seed", at_least(0))

    PRESETS = ("paper",)
    RELATIONS = (
        ("tau_min", lambda c: c.tau_min < c.tau_max, "must be < --tau-max"),
        ("cliff_w", lambda c: len(c.cliff_w) == 2 and c.cliff_w[0] < c.cliff_w[1], "need two values lo,hi with lo < hi"),
        ("cliff_b", lambda c: len(c.cliff_b) == 2 and c.cliff_b[0] < c.cliff_b[1], "need two values lo,hi with lo < hi"),
        ("steps", lambda c: c.steps % c.chunk == 0, "must be a multiple of --chunk"),
        ("chunk", lambda c: c.chunk % c.log_every == 0, "must be a multiple of --log-every"),
    )

    @classmethod
    def paper(cls) -> "Config":
        """Pascanu et al.'s lengths (for a GPU): the tasks at L = 100, longer training, wider grids."""
        return cls(length_addition=100, length_temporal=100, steps=20000, chunk=1000, radii=(0.9, 1.5, 3.0),
                   lrs=(1e-3, 3e-3, 1e-2), seeds=8, n_hidden=50)

    @classmethod
    def quick(cls) -> "Config":
        return cls(dims=(4, 64), n_grad_samples=8, grad_steps=32, n_tau=7, cliff_n=21, cliff_starts=((9.0, -5.0),),
                   cliff_lrs=(0.5,), cliff_taus=(0.1,), cliff_steps=20, n_hidden=8, length_addition=6,
                   length_temporal=8, batch=8, steps=40, chunk=20, log_every=10, thresholds=(0.1, 1.0),
                   lrs=(1e-2,), radii=(1.0,), seeds=2, n_eval=100)
