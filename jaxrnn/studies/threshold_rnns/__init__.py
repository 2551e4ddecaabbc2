"""The threshold_rnns study: Hand-built threshold RNNs proved for every length, stress-tested and learned: claims C12-C13."""

from jaxrnn.io.runner import Study
from jaxrnn.studies.threshold_rnns import compute, cost, figures
from jaxrnn.studies.threshold_rnns.config import Config

STUDY = Study(name="threshold_rnns", title="Hand-built threshold RNNs proved for every length, stress-tested and learned: claims C12-C13", config=Config, compute=compute.compute, figures=figures.draw, cost=cost.cost)
