"""``python -m srcstage_jlab run NOTEBOOK``: see ``srcstage_jlab.runner``."""

import sys

from .runner import main

sys.exit(main())
