"""Teacher forcing, free running and scheduled sampling for GRU models: claims C6-C8.

    python -m experiments.teacher_forcing [--quick | --preset NAME] [--outdir DIR] [--help for every option]
"""

import sys

from jaxrnn.io.runner import main
from jaxrnn.studies.teacher_forcing import STUDY

if __name__ == "__main__":
    sys.exit(main(STUDY))
