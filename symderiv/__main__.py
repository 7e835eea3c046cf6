"""``python -m symderiv``: the same as the ``symderiv`` command."""

import sys

from .cli import main

sys.exit(main())
