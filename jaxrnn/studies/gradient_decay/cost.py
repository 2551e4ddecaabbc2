"""Estimated memory and time of a gradient_decay config, from its grid sizes (checked before computing).

Memory: the full curves over (act, input, h0, w, T) are held in float32 and float64 (sign and log|.|, closed
form and autodiff: about 32 bytes a point), plus the (input, w, b, T_read) and (w, h0, T_read) grids.
Time: the recurrence steps, scaled from the default config's measured wall time (REFERENCE_S, 2 CPU cores).
"""

from jaxrnn.io.runner import Cost

BYTES_PER_POINT = 32
REFERENCE_S = 12.0  # results/gradient_decay/config.json: wall time of the default config


def _sizes(c) -> tuple[float, float]:
    curves = len(c.activations) * 2 * len(c.h0_values) * c.n_w * c.t_max
    wb = 2 * c.n_w * c.n_b * len(c.wb_lengths)
    fixed = c.n_w * c.n_h0 * len(c.wb_lengths)
    points = curves + wb + fixed
    steps = curves + 2 * c.n_w * c.n_b * max(c.wb_lengths) + c.n_w * c.n_h0 * max(c.wb_lengths)
    return points, steps


def cost(config) -> Cost:
    from jaxrnn.studies.gradient_decay.config import Config

    points, steps = _sizes(config)
    _, ref_steps = _sizes(Config.default())
    return Cost(memory_bytes=BYTES_PER_POINT * points, seconds=REFERENCE_S * steps / ref_steps)
