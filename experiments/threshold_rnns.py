"""Hand-built threshold RNNs proved for every length, stress-tested and learned: claims C12-C13.

    python -m experiments.threshold_rnns [--quick | --preset NAME] [--outdir DIR] [--help for every option]
"""

import sys

from jaxrnn.io.runner import main
from jaxrnn.studies.threshold_rnns import STUDY

if __name__ == "__main__":
    sys.exit(main(STUDY))
