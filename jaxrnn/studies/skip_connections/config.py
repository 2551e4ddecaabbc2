"""Config of the skip_connections study (Problem 1 d; claim C4)."""

from __future__ import annotations

import dataclasses

from jaxrnn.core.cells import ACTIVATIONS
from jaxrnn.io.config import StudyConfig, at_least, between, field, one_of

WEIGHT = between(-1e3, 1e3)


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    """Skip-connection RNN: |dh_T/dh_0| over (w, m), (m, T), and at equal total weight w + m."""

    activations: tuple[str, ...] = field(ACTIVATIONS, "activations to sweep", one_of(*ACTIVATIONS), distinct=True)
    weight_max: float = field(8.0, "the (w, m) grid spans [-weight_max, weight_max]^2",
                              between(0, 1e3, lo_open=True))
    n_weight: int = field(161, "grid points per weight axis", between(2, 10_000))
    t_max: int = field(500, "longest sequence length T (steps)", between(2, 100_000))
    lengths: tuple[int, ...] = field((50, 200), "lengths T read off on the (w, m) grid (<= t_max)", at_least(1))
    w_fixed: float = field(1.0, "w of the (m, T) line", WEIGHT)
    n_m_line: int = field(161, "m grid points of the (m, T) line", between(2, 10_000))
    totals: tuple[float, ...] = field((1.0, 2.0, 3.0, 4.0), "total weights w + m of the fair comparison", WEIGHT)
    n_share: int = field(41, "splits of each total between w and m", between(2, 10_000))
    u: float = field(1.0, "input weight u", WEIGHT)
    b: float = field(0.0, "bias b", WEIGHT)
    h0: float = field(0.5, "initial state h0 (and h_{-1})", between(-1e3, 1e3))
    path_w: float = field(1.0, "w of the path-sum check", WEIGHT)
    path_m: float = field(1.0, "m of the path-sum check", WEIGHT)
    path_act: str = field("sigmoid", "activation of the path-sum check", one_of(*ACTIVATIONS))
    path_length: int = field(60, "length of the path-sum check (<= min(t_max, 400))", between(1, 400))
    n_check_grid: int = field(41, "grid points per axis of the autodiff agreement check", between(2, 10_000))
    check_length: int = field(200, "length of the autodiff agreement check (<= t_max)", at_least(2))
    input_seed: int = field(0, "PRNG seed of the noise input sequence", at_least(0))
    chunk_size: int = field(16384, "grid rows per compiled call (memory bound)", between(1, 1 << 24))

    RELATIONS = (
        ("lengths", lambda c: max(c.lengths) <= c.t_max, "lengths must be <= --t-max"),
        ("path_length", lambda c: c.path_length <= c.t_max, "must be <= --t-max"),
        ("check_length", lambda c: c.check_length <= c.t_max, "must be <= --t-max"),
    )

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_weight=21, t_max=120, lengths=(20, 60), n_m_line=21, totals=(1.0, 3.0), n_share=9,
                   path_length=20, n_check_grid=7, check_length=60, chunk_size=1024)
