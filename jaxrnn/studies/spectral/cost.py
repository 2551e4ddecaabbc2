"""Estimated memory and time of a spectral config, from its grid sizes (checked before computing).

Memory: the norms read every --read-every steps for (act, kind, lambda_1, seed, h0 run) in float64,
and a compiled chunk of Jacobian products (chunk_size x n^2, a few float32 copies).
Time: (cells x steps x n^3), scaled from the default config's measured wall time (REFERENCE_S, 2 CPU cores).
"""

from jaxrnn.io.runner import Cost

REFERENCE_S = 28.5  # results/spectral/config.json: wall time of the default config
KINDS = 3  # kinds of random W


def _cells(c) -> float:
    return len(c.activations) * KINDS * c.n_lambda * c.seeds * (1 + c.h0_perturbations) + 2 * c.seeds_gated


def cost(config) -> Cost:
    from jaxrnn.studies.spectral.config import Config

    def work(c):
        return _cells(c) * c.t_max * c.n_hidden ** 3

    reads = config.t_max // config.read_every + 1
    memory = 8 * 4 * _cells(config) * reads + 4 * 4 * config.chunk_size * config.n_hidden ** 2
    return Cost(memory_bytes=memory, seconds=REFERENCE_S * work(config) / work(Config.default()))
