"""Config of the teacher_forcing study (Problem 2; claims C6-C8)."""

from __future__ import annotations

import dataclasses

from jaxrnn.io.config import Check, StudyConfig, at_least, between, field
from jaxrnn.models import lm
from jaxrnn.models.decoding import MAX_ENUMERATED


def _valid_schedule(s) -> bool:
    try:
        lm.check_schedule(*s)
    except (TypeError, ValueError):
        return False
    return True


SCHEDULE = Check(_valid_schedule, "kind,k,c,eps_min with kind one of " + "/".join(lm.SCHEDULES)
                 + " in Bengio et al.'s ranges")


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    """GRU LMs trained with teacher forcing, free running and scheduled sampling on a known source."""

    n_states: int = field(4, "states of the random source", between(1, 64))
    vocab: int = field(5, "tokens of the source (EOS extra)", between(2, 64))
    forbidden: float = field(0.3, "share of (state, token) pairs the source forbids", between(0, 1, hi_open=True))
    eos: float = field(0.25, "probability of EOS in each state", between(0, 0.5, lo_open=True, hi_open=True))
    schedules: tuple[tuple[str, float, float, float], ...] = field(
        (("constant", 1.0, 0.0, 0.0), ("constant", 0.0, 0.0, 0.0), ("linear", 1.0, 1 / 800, 0.0),
         ("exponential", 0.995, 0.0, 0.0), ("inverse_sigmoid", 80.0, 0.0, 0.0)),
        "training regimes kind,k,c,eps_min; the first two must be teacher forcing (constant,1,0,0) and free "
        "running (constant,0,0,0)", SCHEDULE)
    seeds: int = field(3, "seeds per regime", between(1, 10_000))
    widths: tuple[int, ...] = field((8, 32), "GRU widths", between(1, 1024))
    steps: int = field(800, "training steps (a multiple of --log-every)", between(1, 1 << 24))
    batch: int = field(32, "sequences per batch", between(1, 1 << 16))
    lr: float = field(3e-3, "Adam learning rate", between(0, 10, lo_open=True))
    log_every: int = field(10, "record the loss every this many steps", between(1, 1 << 24))
    sample_len: int = field(24, "length cap of sampled sequences", between(1, 4096))
    n_eval: int = field(1024, "sequences scoring each model", between(1, 1 << 20))
    enum_len: int = field(7, "length of the exact (enumerated) sequence KL", between(1, 64))
    digits: int = field(6, "digits of the reversal task", between(1, 64))
    reverse_width: int = field(64, "GRU width of the reversal task", between(1, 1024))
    reverse_steps: int = field(800, "training steps of the reversal task (a multiple of --log-every)",
                               between(1, 1 << 24))
    seed: int = field(0, "PRNG seed", at_least(0))

    RELATIONS = (
        ("schedules", lambda c: len(c.schedules) >= 2 and tuple(c.schedules[0][:2]) == ("constant", 1.0)
         and tuple(c.schedules[1][:2]) == ("constant", 0.0),
         "the first two regimes must be teacher forcing (constant,1,0,0) and free running (constant,0,0,0)"),
        ("steps", lambda c: c.steps % c.log_every == 0, "must be a multiple of --log-every"),
        ("reverse_steps", lambda c: c.reverse_steps % c.log_every == 0, "must be a multiple of --log-every"),
        ("enum_len", lambda c: sum(c.vocab ** n for n in range(c.enum_len)) <= MAX_ENUMERATED,
         "enumeration space too large (more than 2^24 sequences)"),
    )

    @classmethod
    def quick(cls) -> "Config":
        return cls(seeds=2, widths=(8,), steps=40, batch=8, sample_len=10, n_eval=64, enum_len=4, digits=3,
                   reverse_width=8, reverse_steps=40,
                   schedules=(("constant", 1.0, 0.0, 0.0), ("constant", 0.0, 0.0, 0.0),
                              ("inverse_sigmoid", 5.0, 0.0, 0.0)))
