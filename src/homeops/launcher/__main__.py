"""``python -m homeops.launcher DEST``: build the native launcher and install it as DEST."""

import sys

from . import main

sys.exit(main(sys.argv[1:]))
