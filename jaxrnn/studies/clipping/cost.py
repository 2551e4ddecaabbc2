"""Estimated memory and time of a clipping config, from its grid sizes (checked before computing).

Memory: the synthetic gradients of the largest dimension (n_grad_samples x dim, float32 and a float64
copy) and their clipped versions for every threshold (float32), plus the cliff landscape.
Time: training work (runs x steps x batch x length x hidden^2), scaled from the default config's measured
wall time (REFERENCE_S, 2 CPU cores), at most --time-budget-s plus the rest when a budget is set.
"""

from jaxrnn.io.runner import Cost

REFERENCE_S = 86.0  # wall time of the default config (cold compilation cache, 2-core machine; make bench)


def _runs(c) -> int:
    cells = len(c.lrs) * (1 + len(c.value_thresholds) + len(c.norm_thresholds))  # (lr, tau) cells, none: lr only
    per_task = cells * c.selection_seeds + 3 * c.eval_seeds  # selection grid, then 3 methods' reported runs
    return len(c.tasks) * per_task


def _work(c) -> float:
    train = _runs(c) * c.steps * c.batch * c.length_max * max(c.n_hidden, 8) ** 2
    geometry = c.n_grad_samples * sum(c.dims) * c.n_tau * 64
    cliff = c.cliff_n ** 2 * 64 + len(c.cliff_starts) * len(c.cliff_lrs) * len(c.cliff_taus) * c.cliff_steps * 64
    return train + geometry + cliff


def cost(config) -> Cost:
    from jaxrnn.studies.clipping.config import Config

    gradients = config.n_grad_samples * max(config.dims) * (4 + 8 + 4 * config.n_tau)
    memory = gradients + 8 * config.cliff_n ** 2 * 4
    seconds = REFERENCE_S * _work(config) / _work(Config.default())
    if config.time_budget_s > 0:  # training stops at the budget (then the rest: geometry, cliff, figures)
        seconds = min(seconds, config.time_budget_s + REFERENCE_S)
    return Cost(memory_bytes=memory, seconds=seconds)
