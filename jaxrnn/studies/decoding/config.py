"""Config of the decoding study (Problem 3; claims C9-C11)."""

from __future__ import annotations

import dataclasses

from jaxrnn.io.config import StudyConfig, at_least, between, field, positive


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    """Sources with exact probabilities (V = 100 tokens + EOS, EOS possible from the first step, no length
    window), GRUs trained on clean and noisy data: beam search against exact search under two beam rules,
    samplers' failures, precision and recall."""

    # the true sources: random automata whose EOS competes at every step (the start state included)
    n_sources: int = field(8, "random sources (one GRU per source and noise share)", between(2, 4096))
    n_states: int = field(6, "hidden states per source", between(1, 256))
    vocab: int = field(100, "tokens (ids 0..vocab-1, EOS = vocab)", between(2, 1024))
    forbidden: float = field(0.3, "share of (state, token) pairs a source forbids", between(0, 1, hi_open=True))
    concentration: float = field(0.5, "Dirichlet concentration of the emissions (small: peaked)", positive(100))
    eos: float = field(0.07, "mean EOS probability per state (every state, the start state included)",
                       between(0, 0.5, lo_open=True, hi_open=True))
    max_len: int = field(50, "length cap in ids (EOS included), shared by samples, beams and exact search",
                         between(2, 1024))
    # the models
    noise_shares: tuple[float, ...] = field((0.0, 0.05), "shares of training targets truncated at a random "
                                            "point (noisy targets, Ott et al. 2018)", between(0, 1, hi_open=True),
                                            distinct=True)
    corpus_size: int = field(4096, "training sequences per model", between(1, 1 << 20))
    gru_hidden: int = field(32, "GRU width", between(1, 1024))
    gru_embed: int = field(16, "token embedding width", between(1, 1024))
    gru_steps: int = field(400, "Adam steps (a multiple of 10; chosen on tuning seeds)", between(10, 1 << 24))
    gru_batch: int = field(32, "training batch", between(1, 1 << 16))
    gru_lr: float = field(1e-2, "Adam learning rate (chosen on tuning seeds 1000+)", positive(10))
    # search (C9)
    beam_widths: tuple[int, ...] = field((1, 2, 4, 8, 16, 64), "beam widths k (ascending; 1 and the "
                                         "largest are the contrast of search errors)", between(1, 4096),
                                         distinct=True)
    reference_width: int = field(4, "moderate width the largest is compared with (generic output)",
                                 between(1, 4096))
    length_penalties: tuple[float, ...] = field((0.0,), "GNMT length penalties alpha (0 first)", between(0, 10),
                                                distinct=True)
    max_nodes: int = field(1 << 16, "node budget of the exact branch-and-bound search per model (searches "
                           "left unfinished are counted and set aside)", between(1, 1 << 30))
    # sampling (C10, C11)
    top_ks: tuple[int, ...] = field((1, 3, 10, 30, 101), "top-k values (ascending, from 1 to vocab + 1)",
                                    between(1, 4096), distinct=True)
    moderate_k: int = field(3, "moderate top-k compared with k = V (C11)", between(1, 4096))
    top_ps: tuple[float, ...] = field((0.9,), "top-p values", between(0, 1, lo_open=True),
                                      distinct=True)
    temperatures: tuple[float, ...] = field((0.7,), "temperatures", between(0, 100, lo_open=True),
                                            distinct=True)
    n_samples: int = field(128, "samples per model and sampler setting", between(1, 1 << 20))
    n_true: int = field(128, "held-out source samples per model (recall, reference rates)", between(1, 1 << 20))
    loop_window: int = field(8, "a degenerate loop: the last tokens (this many) repeat a block", between(2, 1024))
    loop_period: int = field(4, "longest repeated block of a degenerate loop", between(1, 1024))
    seed: int = field(0, "PRNG seed", at_least(0))

    PRESETS = ("paper",)

    RELATIONS = (
        ("gru_steps", lambda c: c.gru_steps % 10 == 0, "must be a multiple of 10"),
        ("beam_widths", lambda c: list(c.beam_widths) == sorted(c.beam_widths) and c.beam_widths[0] == 1,
         "must be ascending and start at 1"),
        ("reference_width", lambda c: c.reference_width in c.beam_widths, "must be one of --beam-widths"),
        ("length_penalties", lambda c: c.length_penalties[0] == 0.0, "must start with 0 (exact search)"),
        ("top_ks", lambda c: list(c.top_ks) == sorted(c.top_ks) and c.top_ks[0] == 1
         and c.top_ks[-1] == c.vocab + 1, "must be ascending from 1 to --vocab + 1 (every id, EOS included)"),
        ("moderate_k", lambda c: c.moderate_k in c.top_ks, "must be one of --top-ks"),
        ("loop_window", lambda c: c.loop_window >= 2 * c.loop_period, "must be >= 2 x --loop-period"),
    )

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_sources=3, n_states=3, vocab=8, eos=0.15, max_len=12, corpus_size=256, gru_hidden=8,
                   gru_embed=4, gru_steps=40, gru_batch=8, beam_widths=(1, 2, 4, 8), reference_width=2,
                   max_nodes=1 << 12, top_ks=(1, 2, 9), moderate_k=2, top_ps=(0.9,), temperatures=(0.8,),
                   n_samples=32, n_true=32, loop_window=4, loop_period=2)

    @classmethod
    def paper(cls) -> "Config":
        """More sources, a length penalty arm, a larger node budget and longer training (beyond the CPU budget)."""
        return cls(n_sources=24, gru_steps=1000, length_penalties=(0.0, 1.0), max_nodes=1 << 20,
                   beam_widths=(1, 2, 3, 5, 8, 16, 32, 64), reference_width=5, top_ks=(1, 2, 3, 5, 10, 20, 50, 101),
                   top_ps=(0.5, 0.8, 0.9, 0.95), temperatures=(0.5, 0.8, 1.2, 1.5), n_samples=256, n_true=256)
