"""Estimated memory and time of a threshold_rnns config (checked before computing).

The exhaustive checks dominate: 2^L1 sequences of L1 steps and 4^L2 of L2 steps, each step a few
threshold units; memory: the sequence indices and per-sequence results (about 16 bytes a sequence).
Time: scaled from the default config's measured wall time (REFERENCE_S, 2 CPU cores).
"""

from jaxrnn.io.runner import Cost

REFERENCE_S = 34.0  # results/threshold_rnns/config.json: wall time of the default config


def _steps(c) -> float:
    return 2.0 ** c.exhaustive_length_1 * c.exhaustive_length_1 + 4.0 ** c.exhaustive_length_2 * c.exhaustive_length_2


def cost(config) -> Cost:
    from jaxrnn.studies.threshold_rnns.config import Config

    sequences = 2.0 ** config.exhaustive_length_1 + 4.0 ** config.exhaustive_length_2
    return Cost(memory_bytes=16 * sequences, seconds=REFERENCE_S * _steps(config) / _steps(Config.default()))
