"""Vector RNNs beyond the scalar case: ||dh_T/dh_0|| over lambda_1(W) and T; GRU/LSTM at initialisation.

    python -m experiments.spectral [--quick] [--outdir DIR] [--n-hidden 32 ...]
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import jax

from jaxrnn import plotting, results, spectral_study
from jaxrnn.cells import ACTIVATIONS
from jaxrnn.cli import ConfigError, ExperimentConfig, main

NAME = "spectral"


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    """Vector RNN h' = act(W h + U x + b): Jacobian-product norms and Lyapunov spectra over lambda_1(W) x T."""

    activations: tuple[str, ...] = ("tanh", "sigmoid")
    n_hidden: int = 32
    n_inputs: int = 4
    lambda_min: float = 0.1
    lambda_max: float = 8.0
    n_lambda: int = 64
    seeds: int = 4
    seeds_gated: int = 8
    t_max: int = 500
    read_every: int = 5
    input_seed: int = 0
    chunk_size: int = 256

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_hidden=8, n_lambda=9, seeds=2, seeds_gated=2, t_max=60, read_every=10, chunk_size=64)

    def validate(self) -> None:
        if not self.activations or any(a not in ACTIVATIONS for a in self.activations):
            raise ConfigError("activations", f"choose from {', '.join(ACTIVATIONS)}, got {self.activations}")
        self.require_at_least(1, "n_hidden", "n_inputs", "seeds", "seeds_gated", "read_every", "chunk_size")
        if self.n_lambda < 2:
            raise ConfigError("n_lambda", f"need at least 2 grid points, got {self.n_lambda}")
        if not 0 < self.lambda_min < self.lambda_max < float("inf"):
            raise ConfigError("lambda_min", f"need 0 < lambda_min < lambda_max < inf, got {self.lambda_min}, "
                                            f"{self.lambda_max}")
        if self.t_max < 1:
            raise ConfigError("t_max", f"sequence length must be >= 1, got {self.t_max}")


def run(config: Config, outdir: Path) -> dict:
    return results.run_study(NAME, config, outdir, spectral_study.study, plotting.spectral_figures,
                             key=jax.random.key(config.input_seed))


if __name__ == "__main__":
    sys.exit(main(NAME, Config, run))
