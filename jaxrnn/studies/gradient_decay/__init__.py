"""The gradient_decay study: Scalar RNN gradient decay dh_T/dh_0 in log space over (w, T), (w, b), (w, h0): claims C1-C3."""

from jaxrnn.io.runner import Study
from jaxrnn.studies.gradient_decay import compute, cost, figures
from jaxrnn.studies.gradient_decay.config import Config

STUDY = Study(name="gradient_decay", title="Scalar RNN gradient decay dh_T/dh_0 in log space over (w, T), (w, b), (w, h0): claims C1-C3", config=Config, compute=compute.compute, figures=figures.draw, cost=cost.cost)
