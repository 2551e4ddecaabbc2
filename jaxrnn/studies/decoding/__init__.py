"""The decoding study: Greedy, beam search and samplers against exact search: claims C9-C11."""

from jaxrnn.io.runner import Study
from jaxrnn.studies.decoding import compute, cost, figures
from jaxrnn.studies.decoding.config import Config

STUDY = Study(name="decoding", title="Greedy, beam search and samplers against exact search: claims C9-C11", config=Config, compute=compute.compute, figures=figures.draw, cost=cost.cost)
