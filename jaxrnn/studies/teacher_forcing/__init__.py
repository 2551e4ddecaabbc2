"""The teacher_forcing study (Problem 2, claims C6-C8): teacher forcing, free running and scheduled
sampling for GRU models on conditional digit tasks, with a stochastic source as the counter-condition."""

from jaxrnn.io.runner import Study
from jaxrnn.studies.teacher_forcing import compute, cost, figures
from jaxrnn.studies.teacher_forcing.config import Config

STUDY = Study(name="teacher_forcing",
              title="Teacher forcing, free running and scheduled sampling on digit reversal, sorting and running sums "
                    "(stochastic source as counter-condition): claims C6-C8",
              config=Config, compute=compute.compute, figures=figures.draw, cost=cost.cost)
