"""Config of the spectral study (vector RNNs beyond C2/C3)."""

from __future__ import annotations

import dataclasses

from jaxrnn.core.cells import ACTIVATIONS
from jaxrnn.io.config import StudyConfig, at_least, between, field, one_of


@dataclasses.dataclass(frozen=True)
class Config(StudyConfig):
    """Vector RNN h' = act(W h + U x + b): Jacobian-product norms and Lyapunov spectra over lambda_1(W) x T."""

    activations: tuple[str, ...] = field(("tanh", "sigmoid"), "activations to sweep", one_of(*ACTIVATIONS),
                                         distinct=True)
    n_hidden: int = field(32, "hidden units n", between(1, 1024))
    n_inputs: int = field(4, "input dimension", between(1, 1024))
    lambda_min: float = field(0.1, "smallest largest singular value lambda_1 of W", between(0, 100, lo_open=True))
    lambda_max: float = field(8.0, "largest lambda_1 of W", between(0, 100, lo_open=True))
    n_lambda: int = field(64, "lambda_1 grid points", between(2, 10_000))
    seeds: int = field(4, "random W per (kind, lambda_1)", between(1, 1000))
    seeds_gated: int = field(8, "random GRU/LSTM initialisations", between(1, 1000))
    t_max: int = field(500, "sequence length T (steps)", between(1, 100_000))
    read_every: int = field(5, "read the norm every this many steps", between(1, 100_000))
    h0_perturbations: int = field(2, "extra runs from h0 + delta z (z ~ N(0, I)) per cell above the line "
                                     "lambda_1 > 1/gamma, where chaos is possible", between(1, 100))
    h0_delta: float = field(1e-6, "size delta of those h0 perturbations", between(0, 1, lo_open=True))
    dtype: str = field("float32", "working precision of the Jacobian products (float64: the reference twin)",
                       one_of("float32", "float64"))
    input_seed: int = field(0, "PRNG seed of inputs and h0 perturbations", at_least(0))
    chunk_size: int = field(256, "grid rows per compiled call (memory bound)", between(1, 1 << 20))

    RELATIONS = (("lambda_min", lambda c: c.lambda_min < c.lambda_max, "must be < --lambda-max"),)

    @classmethod
    def quick(cls) -> "Config":
        return cls(n_hidden=8, n_lambda=9, seeds=2, seeds_gated=2, t_max=60, read_every=10, h0_perturbations=2,
                   chunk_size=64)
