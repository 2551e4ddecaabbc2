"""Config of the gradient_decay study (Problem 1 a-c; claims C1-C3)."""

from __future__ import annotations

import dataclasses

from jaxrnn.core.cells import ACTIVATIONS
from jaxrnn.io.config import StudyConfig, at_least, between, field, one_of

WEIGHT = between(-1e3, 1e3)  # |w|, |b| beyond 1e3 only saturate further; keeps products finite in f32


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    """Scalar RNN h_{t+1} = act(u x_{t+1} + w h_t + b): |dh_T/dh_0| over w, T, b and h0."""

    activations: tuple[str, ...] = field(ACTIVATIONS, "activations to sweep", one_of(*ACTIVATIONS), distinct=True)
    w_min: float = field(-12.0, "smallest recurrent weight w of the (w, T) grid", WEIGHT)
    w_max: float = field(12.0, "largest recurrent weight w", WEIGHT)
    n_w: int = field(401, "number of w grid points", between(2, 100_000))
    t_max: int = field(1000, "longest sequence length T (steps)", between(1, 100_000))
    h0_values: tuple[float, ...] = field((0.5, 0.9), "initial states h0 of the (w, T) grid", between(-1e3, 1e3))
    u: float = field(1.0, "input weight u", WEIGHT)
    b: float = field(0.0, "bias b of the (w, T) grid", WEIGHT)
    b_min: float = field(-12.0, "smallest bias of the (w, b) grid", WEIGHT)
    b_max: float = field(12.0, "largest bias of the (w, b) grid", WEIGHT)
    n_b: int = field(241, "number of b grid points", between(2, 100_000))
    wb_lengths: tuple[int, ...] = field((10, 50, 200), "lengths T read off on the (w, b) grid (<= t_max)", at_least(1))
    n_h0: int = field(201, "number of h0 grid points of the (w, h0) grid", between(2, 100_000))
    nudge_ws: tuple[float, ...] = field((-8.0, 5.0, 6.0, 8.0, 12.0), "weights w of the fixed-point nudge study", WEIGHT)
    nudges: tuple[float, ...] = field(tuple(10.0 ** -k for k in range(1, 13)),
                                      "distances delta of h0 from the unstable fixed point",
                                      between(0, 0.5, lo_open=True, hi_open=True))
    n_check: int = field(16, "lengths checked against autodiff", between(1, 10_000))
    input_seed: int = field(0, "PRNG seed of the noise input sequence", at_least(0))
    chunk_size: int = field(16384, "grid rows per compiled call (memory bound)", between(1, 1 << 24))

    RELATIONS = (
        ("w_min", lambda c: c.w_min < c.w_max, "must be < --w-max"),
        ("b_min", lambda c: c.b_min < c.b_max, "must be < --b-max"),
        ("wb_lengths", lambda c: max(c.wb_lengths) <= c.t_max, "lengths must be <= --t-max"),
    )

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_w=33, t_max=120, n_b=17, n_h0=17, wb_lengths=(10, 50), nudges=(1e-2, 1e-4, 1e-8),
                   nudge_ws=(-8.0, 6.0), n_check=6, chunk_size=512)
