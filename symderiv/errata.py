"""``python3 -m symderiv.errata > docs/errata.md``: the docs page "Errata of the notes", generated
by checking the notes' own numbers (:func:`symderiv.check.errata_page`)."""

from __future__ import annotations

import sys

from .check import errata_page


def main() -> int:
    """Print the errata page."""
    sys.stdout.write(errata_page() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
