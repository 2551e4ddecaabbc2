"""Gradient decay in the scalar RNN (Problem 1 a-c; claims C1-C3).

    python -m experiments.gradient_decay [--quick] [--outdir DIR] [--n-w 401 ...]
"""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import jax

from jaxrnn import decay, plotting, results
from jaxrnn.cells import ACTIVATIONS
from jaxrnn.cli import ConfigError, ExperimentConfig, main

NAME = "gradient_decay"
INPUTS = ("noise", "zero")


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    """Scalar RNN h_{t+1} = act(u x_{t+1} + w h_t + b): |dh_T/dh_0| over w, T, b and h0."""

    activations: tuple[str, ...] = ACTIVATIONS
    w_min: float = -12.0
    w_max: float = 12.0
    n_w: int = 401
    t_max: int = 1000
    h0_values: tuple[float, ...] = (0.5, 0.9)
    u: float = 1.0
    b: float = 0.0
    b_min: float = -12.0
    b_max: float = 12.0
    n_b: int = 241
    wb_lengths: tuple[int, ...] = (10, 50, 200)
    n_h0: int = 201
    nudge_ws: tuple[float, ...] = (-8.0, 5.0, 6.0, 8.0, 12.0)
    nudges: tuple[float, ...] = tuple(10.0 ** -k for k in range(1, 13))
    n_check: int = 16
    input_seed: int = 0
    chunk_size: int = 16384

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_w=33, t_max=120, n_b=17, n_h0=17, wb_lengths=(10, 50), nudges=(1e-2, 1e-4, 1e-8),
                   nudge_ws=(-8.0, 6.0), n_check=6, chunk_size=512)

    def validate(self) -> None:
        for act in self.activations:
            if act not in ACTIVATIONS:
                raise ConfigError("activations", f"unknown activation {act!r}; choose from {', '.join(ACTIVATIONS)}")
        if not self.activations:
            raise ConfigError("activations", "empty")
        for name in ("w_min", "w_max", "u", "b", "b_min", "b_max"):
            if not math.isfinite(getattr(self, name)):
                raise ConfigError(name, f"must be finite, got {getattr(self, name)}")
        for name in ("nudge_ws", "nudges", "h0_values"):
            vals = getattr(self, name)
            if not vals:
                raise ConfigError(name, "empty grid")
            if not all(math.isfinite(v) for v in vals):
                raise ConfigError(name, f"must be finite, got {vals}")
        if self.w_min >= self.w_max:
            raise ConfigError("w_min", f"must be < --w-max ({self.w_min} >= {self.w_max})")
        if self.b_min >= self.b_max:
            raise ConfigError("b_min", f"must be < --b-max ({self.b_min} >= {self.b_max})")
        for name in ("n_w", "n_b", "n_h0"):
            if getattr(self, name) < 2:
                raise ConfigError(name, f"need at least 2 grid points, got {getattr(self, name)}")
        if self.t_max < 1:
            raise ConfigError("t_max", f"sequence length must be >= 1, got {self.t_max}")
        if not self.wb_lengths or not all(1 <= t <= self.t_max for t in self.wb_lengths):
            raise ConfigError("wb_lengths", f"lengths must lie in 1..t_max={self.t_max}, got {self.wb_lengths}")
        if not all(0 < d < 0.5 for d in self.nudges):
            raise ConfigError("nudges", f"must lie in (0, 0.5), got {self.nudges}")
        if self.n_check < 1:
            raise ConfigError("n_check", f"must be >= 1, got {self.n_check}")
        if self.chunk_size < 1:
            raise ConfigError("chunk_size", f"must be >= 1, got {self.chunk_size}")


def run(config: Config, outdir: Path) -> dict:
    """Compute every sweep, save results/<name>/ atomically, return the summary."""
    return results.run_study(NAME, config, outdir, decay.study, plotting.gradient_decay_figures, input_names=INPUTS,
                             key=jax.random.key(config.input_seed), chunk_size=config.chunk_size)


if __name__ == "__main__":
    sys.exit(main(NAME, Config, run))
