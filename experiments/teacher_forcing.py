"""Teacher forcing, exposure bias and scheduled sampling (Problem 2; claims C6-C8), measured exactly.

    python -m experiments.teacher_forcing [--quick] [--outdir DIR] [--seeds 3 ...]
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import jax

from jaxrnn import lm, plotting, results, tf_study
from jaxrnn.cli import ConfigError, ExperimentConfig, main
from jaxrnn.decoding import MAX_ENUMERATED

NAME = "teacher_forcing"


@dataclasses.dataclass(frozen=True)
class Config(ExperimentConfig):
    """GRU LMs trained with teacher forcing, free running and scheduled sampling on a known source."""

    n_states: int = 4
    vocab: int = 5
    forbidden: float = 0.3
    eos: float = 0.25
    # (kind, k, c, eps_min); the first must be teacher forcing, the second free running
    schedules: tuple[tuple[str, float, float, float], ...] = (
        ("constant", 1.0, 0.0, 0.0), ("constant", 0.0, 0.0, 0.0), ("linear", 1.0, 1 / 800, 0.0),
        ("exponential", 0.995, 0.0, 0.0), ("inverse_sigmoid", 80.0, 0.0, 0.0))
    seeds: int = 3
    widths: tuple[int, ...] = (8, 32)
    steps: int = 800
    batch: int = 32
    lr: float = 3e-3
    log_every: int = 10
    sample_len: int = 24
    n_eval: int = 1024
    enum_len: int = 7
    digits: int = 6
    reverse_width: int = 64
    reverse_steps: int = 800
    seed: int = 0

    @classmethod
    def quick(cls) -> "Config":
        return cls(seeds=2, widths=(8,), steps=40, batch=8, sample_len=10, n_eval=64, enum_len=4, digits=3,
                   reverse_width=8, reverse_steps=40,
                   schedules=(("constant", 1.0, 0.0, 0.0), ("constant", 0.0, 0.0, 0.0),
                              ("inverse_sigmoid", 5.0, 0.0, 0.0)))

    def validate(self) -> None:
        if len(self.schedules) < 2 or tuple(self.schedules[0][:2]) != ("constant", 1.0) or \
                tuple(self.schedules[1][:2]) != ("constant", 0.0):
            raise ConfigError("schedules", "the first two regimes must be teacher forcing (constant 1) and free "
                                           "running (constant 0)")
        for kind, k, c, e in self.schedules:
            try:
                lm.check_schedule(kind, k, c, e)
            except ValueError as err:
                raise ConfigError("schedules", str(err)) from None
        self.require_at_least(1, "seeds", "steps", "batch", "n_eval", "digits", "reverse_steps", "n_states")
        if self.vocab < 2:
            raise ConfigError("vocab", f"need at least 2 tokens, got {self.vocab}")
        if not self.widths or min(self.widths) < 1:
            raise ConfigError("widths", f"need positive widths, got {self.widths}")
        if self.steps % self.log_every or self.reverse_steps % self.log_every:
            raise ConfigError("steps", "steps and reverse_steps must be multiples of --log-every")
        if sum(self.vocab ** n for n in range(self.enum_len)) > MAX_ENUMERATED or self.enum_len < 1:
            raise ConfigError("enum_len", f"enumeration space too large or empty for enum_len={self.enum_len}")
        if not 0 < self.eos < 0.5 or not 0 <= self.forbidden < 1:
            raise ConfigError("eos", "need 0 < eos < 0.5 and 0 <= forbidden < 1")


def run(config: Config, outdir: Path) -> dict:
    return results.run_study(NAME, config, outdir, tf_study.study, plotting.teacher_forcing_figures,
                             key=jax.random.key(config.seed))


if __name__ == "__main__":
    sys.exit(main(NAME, Config, run))
