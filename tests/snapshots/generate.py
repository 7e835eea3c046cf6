"""Write the refactor snapshot: ``python3 tests/snapshots/generate.py [CASE ...]``.

Run it only to record behaviour on purpose (a rendering fix, a new case), and say so in the commit;
``tests/test_snapshots.py`` then checks that every later change keeps that output byte for byte.
"""

from __future__ import annotations

import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from cases import FORMATS, cases, render  # noqa: E402

HERE = pathlib.Path(__file__).parent / "out"


def main(names: list[str]) -> None:
    todo = cases()
    for name in names or todo:
        sol = todo[name]()
        folder = HERE / name
        folder.mkdir(parents=True, exist_ok=True)
        for fmt in FORMATS:
            (folder / fmt).write_text(render(sol, fmt), encoding="utf-8")
        print(name)


if __name__ == "__main__":
    main(sys.argv[1:])
