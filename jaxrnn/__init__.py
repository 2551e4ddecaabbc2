"""jaxrnn: numerical experiments on training recurrent networks, in JAX.

Layers (bottom to top; a module imports only from lower ones):
cells -> unroll -> logspace -> gradients -> sweep -> results/plotting -> report.
"""

__version__ = "0.1.0"
