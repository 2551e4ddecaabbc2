"""Config of the threshold_rnns study (Problem 4; claims C12-C13)."""

from __future__ import annotations

import dataclasses

from jaxrnn.io.config import StudyConfig, at_least, between, field
from jaxrnn.models.threshold import MAX_SEQUENCES

MAX_BITS = MAX_SEQUENCES.bit_length() - 1  # 2^26 sequences at most in one exhaustive check


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    """Threshold RNNs: the seed's designs and two classic ones, proved, stress-tested and learned."""

    exhaustive_length_1: int = field(20, "length of the exhaustive check, 1 input bit per step (2^L sequences)",
                                     between(1, MAX_BITS))
    exhaustive_length_2: int = field(10, "length of the exhaustive check, 2 input bits per step (4^L sequences)",
                                     between(1, MAX_BITS // 2))
    perturb_scales: tuple[float, ...] = field((0.5, 0.9, 0.99, 1.01, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0),
                                              "perturbation sizes as multiples of the margin", between(1e-6, 1e6))
    perturb_samples: int = field(2048, "random perturbations per size", between(1, 1 << 20))
    mutation_min: float = field(-3.0, "smallest value a mutated weight takes", between(-1e3, 1e3))
    mutation_max: float = field(3.0, "largest value a mutated weight takes", between(-1e3, 1e3))
    mutation_n: int = field(25, "values per mutated weight", between(2, 10_000))
    learn_seeds: int = field(64, "seeds of the learned networks", between(1, 1 << 16))
    learn_steps: int = field(800, "training steps of the learned networks", between(1, 1 << 24))
    learning_rate: float = field(0.05, "Adam learning rate", between(0, 10, lo_open=True))
    tau_starts: tuple[float, ...] = field((1.0, 1.0, 1.0), "initial sigmoid temperatures (one per run kind)",
                                          between(1e-6, 1e6), distinct=False)
    tau_ends: tuple[float, ...] = field((1.0, 0.3, 0.05), "final sigmoid temperatures (one per tau_start)",
                                        between(1e-6, 1e6), distinct=False)
    train_length_1: int = field(8, "training length, 1 input bit per step", between(1, MAX_BITS))
    train_length_2: int = field(5, "training length, 2 input bits per step", between(1, MAX_BITS // 2))
    seed: int = field(0, "PRNG seed", at_least(0))

    RELATIONS = (
        ("mutation_min", lambda c: c.mutation_min < c.mutation_max, "must be < --mutation-max"),
        ("tau_ends", lambda c: len(c.tau_ends) == len(c.tau_starts), "need one --tau-ends value per --tau-starts"),
    )

    @classmethod
    def quick(cls) -> "Config":
        return cls(exhaustive_length_1=10, exhaustive_length_2=5, perturb_samples=128, mutation_n=9,
                   learn_seeds=8, learn_steps=200, tau_starts=(1.0, 1.0), tau_ends=(1.0, 0.1), train_length_1=6,
                   train_length_2=4)
