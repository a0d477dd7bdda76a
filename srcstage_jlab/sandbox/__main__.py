"""``python -m srcstage_jlab.sandbox``: the ``srcstage-sandbox`` command."""

import sys

from .cli import main

sys.exit(main())
