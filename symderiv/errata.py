"""``python3 -m symderiv.errata > docs/errata.md``: the docs page "Errata of the notes", generated
by checking the notes' own numbers (:func:`symderiv.check.notes.errata_page`). With ``--remarks`` it
writes the slips the default solutions end with instead (:func:`symderiv.check.notes.write_errata_files`)."""

from __future__ import annotations

import sys

from .check import errata_page, write_errata_files


def main() -> int:
    """Print the errata page (or, with ``--remarks``, write the default solutions' errata files)."""
    if sys.argv[1:] == ["--remarks"]:
        print("wrote the errata of " + ", ".join(write_errata_files()))
        return 0
    sys.stdout.write(errata_page() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
