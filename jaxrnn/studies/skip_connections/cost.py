"""Estimated memory and time of a skip_connections config, from its grid sizes (checked before computing).

Memory: curves over the (w, m) grid and T for both activations (float32 and float64 sign/log pairs,
about 24 bytes a point), plus the (m, T) line and the agreement grid.
Time: the recurrence steps, scaled from the default config's measured wall time (REFERENCE_S, 2 CPU cores).
"""

from jaxrnn.io.runner import Cost

REFERENCE_S = 6.0  # results/skip_connections/config.json: wall time of the default config


def _points(c) -> float:
    return (2 * c.n_weight ** 2 * c.t_max + 2 * c.n_m_line * c.t_max + 2 * c.n_check_grid ** 2 * c.check_length
            + 2 * c.n_share * c.t_max)


def cost(config) -> Cost:
    from jaxrnn.studies.skip_connections.config import Config

    return Cost(memory_bytes=24 * _points(config), seconds=REFERENCE_S * _points(config) / _points(Config.default()))
