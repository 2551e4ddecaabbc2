"""Clipping by value vs by norm: geometry, the cliff, and vmapped training: claim C5.

    python -m experiments.clipping [--quick | --preset NAME] [--outdir DIR] [--help for every option]
"""

import sys

from jaxrnn.io.runner import main
from jaxrnn.studies.clipping import STUDY

if __name__ == "__main__":
    sys.exit(main(STUDY))
