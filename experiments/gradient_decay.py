"""Scalar RNN gradient decay dh_T/dh_0 in log space over (w, T), (w, b), (w, h0): claims C1-C3.

    python -m experiments.gradient_decay [--quick | --preset NAME] [--outdir DIR] [--help for every option]
"""

import sys

from jaxrnn.io.runner import main
from jaxrnn.studies.gradient_decay import STUDY

if __name__ == "__main__":
    sys.exit(main(STUDY))
