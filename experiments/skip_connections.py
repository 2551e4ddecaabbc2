"""Skip-connection RNN gradients through transfer matrices, path sums, fair comparison: claim C4.

    python -m experiments.skip_connections [--quick | --preset NAME] [--outdir DIR] [--help for every option]
"""

import sys

from jaxrnn.io.runner import main
from jaxrnn.studies.skip_connections import STUDY

if __name__ == "__main__":
    sys.exit(main(STUDY))
