"""The clipping study: Clipping by value vs by norm: geometry, the cliff, and vmapped training: claim C5."""

from jaxrnn.io.runner import Study
from jaxrnn.studies.clipping import compute, figures
from jaxrnn.studies.clipping.config import Config

STUDY = Study(name="clipping", title="Clipping by value vs by norm: geometry, the cliff, and vmapped training: claim C5", config=Config, compute=compute.compute, figures=figures.draw)
