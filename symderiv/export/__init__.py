"""Exercise sheets and quizzes from variants: LaTeX (exam class), Moodle XML, a PrairieLearn
question folder, JSON and HTML.

Each variant is turned into its piece of the output where it was drawn (in a worker process
with ``jobs`` > 1: a Solution does not cross processes); the pieces are then joined in variant
order, so the output is the same for any number of jobs.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from ..errors import ParameterError
from ..exercise import Exercise, Plan, build
from .common import FORMATS, as_json, statement
from .exam import document, variant_latex
from .moodle import quiz, variant_questions
from .webpage import sheet, variant_html


# ----- the pieces, made where each variant is drawn ------------------------------------------
def piece(fmt: str, digits: int, ex: Exercise) -> Any:
    """Variant ``ex`` in ``fmt``: what :func:`export` joins."""
    if fmt == "latex":
        return variant_latex(ex, statement(ex), digits)
    if fmt == "moodle":
        return variant_questions(ex, statement(ex), digits)
    if fmt == "html":
        return variant_html(ex, statement(ex), digits)
    return None  # json: the record is all it needs


def export(p: Plan, n: int, fmt: str, *, key: bool = False, jobs: int = 1) -> str:
    """``n`` variants of the plan as one document in ``fmt`` (latex, moodle, json or html)."""
    if fmt not in FORMATS or fmt == "prairielearn":
        raise ParameterError(f"--format: unknown exercise format {fmt!r}; expected one of {', '.join(FORMATS)}")
    done = build(p, n, jobs, functools.partial(piece, fmt, p.digits))
    records = [r for r, _ in done]
    pieces = [d for _, d in done]
    if fmt == "latex":
        return document(p, pieces, key)
    if fmt == "moodle":
        return quiz(p, records, pieces)
    if fmt == "html":
        return sheet(p, pieces)
    return json.dumps(as_json(p, records), indent=2, ensure_ascii=False) + "\n"


__all__ = ["FORMATS", "as_json", "export", "piece"]
