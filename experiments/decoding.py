"""Greedy, beam search and samplers against exact search: claims C9-C11.

    python -m experiments.decoding [--quick | --preset NAME] [--outdir DIR] [--help for every option]
"""

import sys

from jaxrnn.io.runner import main
from jaxrnn.studies.decoding import STUDY

if __name__ == "__main__":
    sys.exit(main(STUDY))
