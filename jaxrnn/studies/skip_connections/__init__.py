"""The skip_connections study: Skip-connection RNN gradients through transfer matrices, path sums, fair comparison: claim C4."""

from jaxrnn.io.runner import Study
from jaxrnn.studies.skip_connections import compute, cost, figures
from jaxrnn.studies.skip_connections.config import Config

STUDY = Study(name="skip_connections", title="Skip-connection RNN gradients through transfer matrices, path sums, fair comparison: claim C4", config=Config, compute=compute.compute, figures=figures.draw, cost=cost.cost)
