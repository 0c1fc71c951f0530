"""``python -m station``: the ``station`` command without its console script."""

import sys

from station.cli import main

sys.exit(main())
