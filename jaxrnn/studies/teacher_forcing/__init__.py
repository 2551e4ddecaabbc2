"""The teacher_forcing study: Teacher forcing, free running and scheduled sampling for GRU models: claims C6-C8."""

from jaxrnn.io.runner import Study
from jaxrnn.studies.teacher_forcing import compute, figures
from jaxrnn.studies.teacher_forcing.config import Config

STUDY = Study(name="teacher_forcing", title="Teacher forcing, free running and scheduled sampling for GRU models: claims C6-C8", config=Config, compute=compute.compute, figures=figures.draw)
