"""Estimated memory and time of a teacher_forcing config, from its sizes (checked before computing).

Memory: the held-out sets (ids and per-position results for every seed and regime, float32) and the
trained parameters. Time: training work (models x steps x batch x length x width^2), scaled from the
default config's measured wall time (REFERENCE_S, 2 CPU cores).
"""

from jaxrnn.io.runner import Cost

REFERENCE_S = 49.0  # results/teacher_forcing/config.json: wall time of the default config
REGIMES, DIGIT_TASKS = 5, 2


def _work(c) -> float:
    tuning = (len(c.tune_grid) * c.tune_seeds) if c.select_lr else 0
    digit = DIGIT_TASKS * REGIMES * (c.seeds + tuning) * c.steps * c.batch * (2 * c.digits + 2) * c.width ** 2
    source = REGIMES * (c.seeds + tuning) * c.source_steps * c.batch * c.sample_len * c.source_width ** 2
    held_out = REGIMES * c.seeds * (DIGIT_TASKS * (c.n_test + c.n_curve * c.steps // c.log_every)
                                    * (2 * c.digits + 2) * c.width ** 2
                                    + 2 * c.n_eval * c.sample_len * c.source_width ** 2)
    return digit + source + held_out


def cost(config) -> Cost:
    from jaxrnn.studies.teacher_forcing.config import Config

    c = config
    held = REGIMES * c.seeds * (DIGIT_TASKS * (c.n_test + c.n_curve) * (2 * c.digits + 2) + 2 * c.n_eval * c.sample_len)
    memory = 4 * 8 * held + 4 * REGIMES * c.seeds * 3 * (3 * c.width ** 2 + 3 * c.source_width ** 2)
    return Cost(memory_bytes=memory, seconds=REFERENCE_S * _work(config) / _work(Config.default()))
