"""``python -m jaxrnn.io.report [RESULTS] [--out FOLDER]``: see the package's docstring."""

import sys

from jaxrnn.io.report import main

sys.exit(main())
