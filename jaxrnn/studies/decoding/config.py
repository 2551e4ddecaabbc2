"""Config of the decoding study (Problem 3; claims C9-C11)."""

from __future__ import annotations

import dataclasses

from jaxrnn.io.config import StudyConfig, at_least, between, field
from jaxrnn.models.decoding import MAX_ENUMERATED


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    """Random sources with exact probabilities: search error vs beam width, sampler trade-offs."""

    n_sources: int = field(32, "random sources", between(1, 4096))
    n_states: int = field(4, "states per source", between(1, 64))
    vocab: int = field(5, "tokens (ids 0..vocab-1, EOS = vocab)", between(2, 64))
    forbidden: float = field(0.3, "share of (state, token) pairs a source forbids", between(0, 1, hi_open=True))
    eos: float = field(0.2, "probability of EOS in each state", between(0, 0.5, lo_open=True, hi_open=True))
    max_len: int = field(8, "length cap of search and enumeration", between(1, 64))
    beam_widths: tuple[int, ...] = field((1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 20, 25, 30, 36), "beam widths k",
                                         between(1, 4096), distinct=True)
    length_penalties: tuple[float, ...] = field((0.0, 1.0), "GNMT length penalties alpha", between(0, 10))
    leak: float = field(0.05, "mass leaked to forbidden tokens by the 'leaky' models", between(0, 1, hi_open=True))
    n_samples: int = field(1024, "samples per sampler setting", between(1, 1 << 20))
    sample_len: int = field(24, "length cap of samples", between(1, 4096))
    top_ps: tuple[float, ...] = field((0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0), "top-p values",
                                      between(1e-6, 1))
    temperatures: tuple[float, ...] = field((0.0, 0.25, 0.5, 0.75, 1.0, 1.5, 2.0), "temperatures (0: greedy)",
                                            between(0, 100))
    gru_sources: int = field(8, "sources that get a trained GRU model (<= n_sources)", between(1, 4096))
    gru_hidden: int = field(32, "GRU width", between(1, 1024))
    gru_steps: int = field(600, "GRU training steps (a multiple of 10)", between(10, 1 << 24))
    gru_batch: int = field(32, "GRU training batch", between(1, 1 << 16))
    gru_lr: float = field(3e-3, "GRU Adam learning rate", between(0, 10, lo_open=True))
    seed: int = field(0, "PRNG seed", at_least(0))

    RELATIONS = (
        ("max_len", lambda c: sum(c.vocab ** n for n in range(c.max_len)) <= MAX_ENUMERATED,
         "too many sequences for exact search (more than 2^24)"),
        ("gru_sources", lambda c: c.gru_sources <= c.n_sources, "must be <= --n-sources"),
        ("gru_steps", lambda c: c.gru_steps % 10 == 0, "must be a multiple of 10"),
    )

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_sources=4, max_len=5, beam_widths=(1, 2, 4, 36), n_samples=64, sample_len=12,
                   top_ps=(0.3, 0.9, 1.0), temperatures=(0.0, 0.5, 1.0), gru_sources=2, gru_hidden=8, gru_steps=40)
