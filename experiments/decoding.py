"""Decoding (Problem 3; claims C9-C11): greedy, beam search and samplers against exact search.

    python -m experiments.decoding [--quick] [--outdir DIR] [--n-sources 32 ...]
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import jax

from jaxrnn import decoding_study, plotting, results
from jaxrnn.cli import ConfigError, ExperimentConfig, main
from jaxrnn.decoding import MAX_ENUMERATED

NAME = "decoding"


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    """Random sources with exact probabilities: search error vs beam width, sampler trade-offs."""

    n_sources: int = 32
    n_states: int = 4
    vocab: int = 5  # tokens; ids are 0..vocab-1 plus EOS = vocab
    forbidden: float = 0.3
    eos: float = 0.2
    max_len: int = 8
    beam_widths: tuple[int, ...] = (1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 25, 30, 36)
    length_penalties: tuple[float, ...] = (0.0, 1.0)
    leak: float = 0.05
    n_samples: int = 1024
    sample_len: int = 24
    top_ps: tuple[float, ...] = (0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0)
    temperatures: tuple[float, ...] = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0)
    gru_sources: int = 8
    gru_hidden: int = 32
    gru_steps: int = 600
    gru_batch: int = 32
    gru_lr: float = 3e-3
    seed: int = 0

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_sources=4, max_len=5, beam_widths=(1, 2, 4, 36), n_samples=64, sample_len=12,
                   top_ps=(0.3, 0.9, 1.0), temperatures=(0.0, 0.5, 1.0), gru_sources=2, gru_hidden=8, gru_steps=40)

    def validate(self) -> None:
        self.require_at_least(1, "n_sources", "n_states", "n_samples")
        if self.vocab < 2:
            raise ConfigError("vocab", f"need at least 2 tokens, got {self.vocab}")
        if self.max_len < 1:
            raise ConfigError("max_len", f"must be >= 1, got {self.max_len}")
        if sum(self.vocab ** n for n in range(self.max_len)) > MAX_ENUMERATED:
            raise ConfigError("max_len", f"{self.vocab}^{self.max_len - 1}... sequences exceed the exact-search "
                                         f"limit 2^24")
        if self.sample_len < 1:
            raise ConfigError("sample_len", f"must be >= 1, got {self.sample_len}")
        if not self.beam_widths or min(self.beam_widths) < 1:
            raise ConfigError("beam_widths", f"num_beams must be >= 1, got {self.beam_widths}")
        if not self.top_ps or not all(0 < p <= 1 for p in self.top_ps):
            raise ConfigError("top_ps", f"top_p must lie in (0, 1], got {self.top_ps}")
        if not self.temperatures or min(self.temperatures) < 0:
            raise ConfigError("temperatures", f"temperature must be >= 0, got {self.temperatures}")
        if not 0 <= self.forbidden < 1:
            raise ConfigError("forbidden", f"must lie in [0, 1), got {self.forbidden}")
        if not 0 < self.eos < 0.5:
            raise ConfigError("eos", f"must lie in (0, 0.5), got {self.eos}")
        if not 1 <= self.gru_sources <= self.n_sources:
            raise ConfigError("gru_sources", f"must lie in 1..n_sources, got {self.gru_sources}")
        if self.gru_steps < 10 or self.gru_steps % 10:
            raise ConfigError("gru_steps", f"must be a positive multiple of 10, got {self.gru_steps}")
        if not self.gru_lr > 0:
            raise ConfigError("gru_lr", f"must be > 0, got {self.gru_lr}")
        if not 0 <= self.leak < 1:
            raise ConfigError("leak", f"must lie in [0, 1), got {self.leak}")


def run(config: Config, outdir: Path) -> dict:
    return results.run_study(NAME, config, outdir, decoding_study.study, plotting.decoding_figures,
                             key=jax.random.key(config.seed))


if __name__ == "__main__":
    sys.exit(main(NAME, Config, run))
