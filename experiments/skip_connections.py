"""Skip connections (Problem 1 d; claim C4): h_{t+1} = act(u x + w h_t + m h_{t-1} + b).

    python -m experiments.skip_connections [--quick] [--outdir DIR] [--n-weight 121 ...]
"""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path

import jax

from jaxrnn import plotting, results, skip_study
from jaxrnn.cells import ACTIVATIONS
from jaxrnn.cli import ConfigError, ExperimentConfig, main

NAME = "skip_connections"


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    """Skip-connection RNN: |dh_T/dh_0| over (w, m), (m, T), and at equal total weight w + m."""

    activations: tuple[str, ...] = ACTIVATIONS
    weight_max: float = 8.0
    n_weight: int = 161
    t_max: int = 500
    lengths: tuple[int, ...] = (50, 200)
    w_fixed: float = 1.0
    n_m_line: int = 161
    totals: tuple[float, ...] = (1.0, 2.0, 3.0, 4.0)
    n_share: int = 41
    u: float = 1.0
    b: float = 0.0
    h0: float = 0.5
    path_w: float = 1.0
    path_m: float = 1.0
    path_act: str = "sigmoid"
    path_length: int = 60
    n_check_grid: int = 41
    check_length: int = 200
    input_seed: int = 0
    chunk_size: int = 16384

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_weight=21, t_max=120, lengths=(20, 60), n_m_line=21, totals=(1.0, 3.0), n_share=9,
                   path_length=20, n_check_grid=7, check_length=60, chunk_size=1024)

    def validate(self) -> None:
        if not self.activations or any(a not in ACTIVATIONS for a in self.activations):
            raise ConfigError("activations", f"choose from {', '.join(ACTIVATIONS)}, got {self.activations}")
        if self.path_act not in ACTIVATIONS:
            raise ConfigError("path_act", f"unknown activation {self.path_act!r}")
        for name in ("weight_max", "w_fixed", "u", "b", "h0", "path_w", "path_m"):
            if not math.isfinite(getattr(self, name)):
                raise ConfigError(name, f"must be finite, got {getattr(self, name)}")
        if not self.weight_max > 0:
            raise ConfigError("weight_max", f"must be > 0, got {self.weight_max}")
        for name in ("n_weight", "n_m_line", "n_share", "n_check_grid"):
            if getattr(self, name) < 2:
                raise ConfigError(name, f"need at least 2 grid points, got {getattr(self, name)}")
        if self.t_max < 2:
            raise ConfigError("t_max", f"sequence length must be >= 2, got {self.t_max}")
        if not self.lengths or not all(1 <= t <= self.t_max for t in self.lengths):
            raise ConfigError("lengths", f"lengths must lie in 1..t_max={self.t_max}, got {self.lengths}")
        if not self.totals or not all(math.isfinite(t) for t in self.totals):
            raise ConfigError("totals", f"need finite totals, got {self.totals}")
        if not 1 <= self.path_length <= min(self.t_max, 400):
            raise ConfigError("path_length", f"must lie in 1..min(t_max, 400), got {self.path_length}")
        if not 2 <= self.check_length <= self.t_max:
            raise ConfigError("check_length", f"must lie in 2..t_max, got {self.check_length}")
        if self.chunk_size < 1:
            raise ConfigError("chunk_size", f"must be >= 1, got {self.chunk_size}")


def run(config: Config, outdir: Path) -> dict:
    return results.run_study(NAME, config, outdir, skip_study.study, plotting.skip_figures,
                             key=jax.random.key(config.input_seed))


if __name__ == "__main__":
    sys.exit(main(NAME, Config, run))
