"""jaxrnn: numerical experiments on training recurrent networks, in JAX.

Areas (bottom to top; a module imports only from the areas below it):
``core`` (cells, scans, log-space numbers, gradients, Jacobians, sweeps) -> ``models`` (tasks, sources,
training, language models, decoders, threshold networks) -> ``stats`` (intervals, the verdict rule) ->
``io`` (configs and CLI, results, runner, figures, report) -> ``studies/<name>`` (one folder per experiment).
"""

__version__ = "0.1.0"
