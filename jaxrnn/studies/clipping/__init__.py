"""The clipping study: clipping by value vs by norm: geometry (C5a) and training under Pascanu's conditions (C5b)."""

from jaxrnn.io.runner import Study
from jaxrnn.studies.clipping import cost, figures
from jaxrnn.studies.clipping.compute import compute
from jaxrnn.studies.clipping.config import Config

STUDY = Study(name="clipping",
              title="Clipping by value vs by norm: geometry (C5a) and SGD/Adam training on Pascanu's tasks (C5b)",
              config=Config, compute=compute, figures=figures.draw, cost=cost.cost)
