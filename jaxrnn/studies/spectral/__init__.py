"""The spectral study: Vector RNN Jacobian-product norms and Lyapunov spectra over lambda_1(W) x T; GRU/LSTM at init."""

from jaxrnn.io.runner import Study
from jaxrnn.studies.spectral import compute, cost, figures
from jaxrnn.studies.spectral.config import Config

STUDY = Study(name="spectral", title="Vector RNN Jacobian-product norms and Lyapunov spectra over lambda_1(W) x T; GRU/LSTM at init", config=Config, compute=compute.compute, figures=figures.draw, cost=cost.cost)
