"""Gradient clipping (Problem 1 e; claim C5): direction, Pascanu's cliff, training on long-range tasks.

    python -m experiments.clipping [--quick] [--outdir DIR] [--seeds 4 ...]
"""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import jax

from jaxrnn import clipping_study, plotting, results
from jaxrnn.cli import ConfigError, ExperimentConfig, main

NAME = "clipping"


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    """Clipping by value vs by norm (optax): geometry, the cliff, and vmapped training grids."""

    # direction
    dims: tuple[int, ...] = (4, 16, 64, 256, 1024, 4096)
    student_df: float = 1.5
    n_grad_samples: int = 64
    grad_steps: int = 512
    tau_min: float = 1e-3
    tau_max: float = 1e3
    n_tau: int = 25
    # cliff
    cliff_w: tuple[float, ...] = (-4.0, 16.0)
    cliff_b: tuple[float, ...] = (-10.0, 4.0)
    cliff_n: int = 201
    cliff_starts: tuple[tuple[float, ...], ...] = ((9.0, -5.0), (12.0, -6.5), (6.0, -3.0), (14.0, -7.5),
                                                   (3.0, -2.0), (10.0, -4.0))
    cliff_lrs: tuple[float, ...] = (0.1, 0.5, 2.0, 8.0)
    cliff_taus: tuple[float, ...] = (0.01, 0.1, 1.0)
    cliff_steps: int = 300
    cliff_success: float = 1e-3
    # training
    n_hidden: int = 32
    length_addition: int = 15
    length_temporal: int = 25
    batch: int = 32
    steps: int = 1000
    chunk: int = 250
    log_every: int = 10
    thresholds: tuple[float, ...] = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0)
    lrs: tuple[float, ...] = (1e-3, 1e-2)
    radii: tuple[float, ...] = (1.0, 2.0)
    seeds: int = 4
    n_eval: int = 1000
    seed: int = 0

    PRESETS = ("paper",)

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

    def validate(self) -> None:
        for name in ("thresholds", "cliff_taus"):
            vals = getattr(self, name)
            if not vals or not all(v > 0 and math.isfinite(v) for v in vals):
                raise ConfigError(name, f"clipping thresholds must be finite and > 0, got {vals}")
        if not 0 < self.tau_min < self.tau_max < math.inf:
            raise ConfigError("tau_min", f"need 0 < tau_min < tau_max < inf, got {self.tau_min}, {self.tau_max}")
        for name in ("length_addition", "length_temporal"):
            if getattr(self, name) < 2:
                raise ConfigError(name, f"sequence length L must be >= 2, got {getattr(self, name)}")
        self.require_at_least(1, "n_hidden", "batch", "seeds", "n_eval", "n_grad_samples", "grad_steps", "cliff_steps")
        if self.steps % self.chunk or self.chunk % self.log_every:
            raise ConfigError("steps", "steps must be a multiple of --chunk, and --chunk of --log-every")
        if not self.lrs or min(self.lrs + self.cliff_lrs) <= 0:
            raise ConfigError("lrs", "learning rates must be > 0")
        if not self.radii or min(self.radii) <= 0:
            raise ConfigError("radii", f"spectral radii must be > 0, got {self.radii}")


def run(config: Config, outdir: Path) -> dict:
    return results.run_study(NAME, config, outdir, clipping_study.study, plotting.clipping_figures,
                             key=jax.random.key(config.seed))


if __name__ == "__main__":
    sys.exit(main(NAME, Config, run))
