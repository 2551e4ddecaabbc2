"""Threshold-unit RNNs (Problem 4; claims C12-C13): proofs for all lengths, margins, mutations, learning.

    python -m experiments.threshold_rnns [--quick] [--outdir DIR] [--learn-seeds 64 ...]
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import jax

from jaxrnn import plotting, results, threshold_study
from jaxrnn.cli import ConfigError, ExperimentConfig, main
from jaxrnn.threshold import MAX_SEQUENCES

NAME = "threshold_rnns"


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    """Threshold RNNs: the seed's designs and two classic ones, proved, stress-tested and learned."""

    exhaustive_length_1: int = 20  # designs with 1 input bit per step: 2^20 sequences
    exhaustive_length_2: int = 10  # designs with 2 input bits per step: 4^10 sequences
    perturb_scales: tuple[float, ...] = (0.5, 0.9, 0.99, 1.01, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0)
    perturb_samples: int = 2048
    mutation_min: float = -3.0
    mutation_max: float = 3.0
    mutation_n: int = 25
    learn_seeds: int = 64
    learn_steps: int = 800
    learning_rate: float = 0.05
    tau_starts: tuple[float, ...] = (1.0, 1.0, 1.0)
    tau_ends: tuple[float, ...] = (1.0, 0.3, 0.05)
    train_length_1: int = 8
    train_length_2: int = 5
    seed: int = 0

    @classmethod
    def quick(cls) -> "Config":
        return cls(exhaustive_length_1=10, exhaustive_length_2=5, perturb_samples=128, mutation_n=9,
                   learn_seeds=8, learn_steps=200, tau_starts=(1.0, 1.0), tau_ends=(1.0, 0.1), train_length_1=6,
                   train_length_2=4)

    def validate(self) -> None:
        for name, bits in (("exhaustive_length_1", 1), ("exhaustive_length_2", 2),
                           ("train_length_1", 1), ("train_length_2", 2)):
            n = getattr(self, name)
            if n < 1:
                raise ConfigError(name, f"sequence length must be >= 1, got {n}")
            if 2 ** (bits * n) > MAX_SEQUENCES:
                raise ConfigError(name, f"2^{bits * n} sequences exceed the exhaustive limit 2^26 "
                                        f"(memory and time); the proof covers every length anyway")
        if not self.perturb_scales or min(self.perturb_scales) <= 0:
            raise ConfigError("perturb_scales", f"need positive multiples of the margin, got {self.perturb_scales}")
        self.require_at_least(1, "perturb_samples", "learn_seeds", "learn_steps")
        if self.mutation_n < 2 or not self.mutation_min < self.mutation_max:
            raise ConfigError("mutation_n", "need >= 2 values and --mutation-min < --mutation-max")
        if len(self.tau_starts) != len(self.tau_ends) or not self.tau_starts:
            raise ConfigError("tau_ends", "need one tau_end per tau_start")
        if min(self.tau_starts + self.tau_ends) <= 0:
            raise ConfigError("tau_ends", "temperatures must be > 0")
        if not self.learning_rate > 0:
            raise ConfigError("learning_rate", f"must be > 0, got {self.learning_rate}")


def run(config: Config, outdir: Path) -> dict:
    return results.run_study(NAME, config, outdir, threshold_study.study, plotting.threshold_figures,
                             key=jax.random.key(config.seed))


if __name__ == "__main__":
    sys.exit(main(NAME, Config, run))
