"""Vector RNN Jacobian-product norms and Lyapunov spectra over lambda_1(W) x T; GRU/LSTM at init.

    python -m experiments.spectral [--quick | --preset NAME] [--outdir DIR] [--help for every option]
"""

import sys

from jaxrnn.io.runner import main
from jaxrnn.studies.spectral import STUDY

if __name__ == "__main__":
    sys.exit(main(STUDY))
