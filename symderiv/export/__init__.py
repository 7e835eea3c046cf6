"""Exercise sheets and quizzes from variants, one row per format in :data:`EXPORTS`: LaTeX (exam
class), Moodle XML, a PrairieLearn question folder, QTI 1.2 (Canvas), JSON and HTML.

Each variant is turned into its piece of the output where it was drawn (in a worker process
with ``jobs`` > 1: a Solution does not cross processes); the pieces are then joined in variant
order, so the output is the same for any number of jobs.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import ParameterError
from ..exercise import Exercise, Plan, Record, build
from .common import as_json, json_piece, statement
from .exam import document, variant_latex
from .moodle import quiz, variant_question
from .prairielearn import question_folder, variant_data
from .qti import package, variant_item
from .webpage import sheet, variant_html

#: What a format's join returns: text, the bytes of a file (a zip), or a folder's files by name.
Output = str | bytes | Mapping[str, str]


@dataclass(frozen=True)
class ExportFormat:
    """One exercise format: ``piece(exercise, statement, digits)`` turns a variant into its part
    (where the variant is drawn), ``join(plan, records, pieces, key=, output=)`` makes the whole;
    ``folder``: it writes a folder (``-o FOLDER``, ``join`` gives its files); ``extension`` the
    file name's end; ``help`` what ``symderiv exercise --help`` says of it; ``closed_forms``: it
    shows each asked value's exact closed form (drawn only then: it costs)."""

    piece: Callable[[Exercise, Any, int], Any]
    join: Callable[..., Output]
    extension: str
    help: str
    folder: bool = False
    closed_forms: bool = False


#: Every exercise format (``symderiv exercise --format``).
EXPORTS: dict[str, ExportFormat] = {
    "latex": ExportFormat(variant_latex, lambda p, r, pieces, key, output: document(p, pieces, key), ".tex",
                          "a sheet with the exam class (--key: its answer key)"),
    "moodle": ExportFormat(variant_question, lambda p, r, pieces, key, output: quiz(p, pieces), ".xml",
                           "Moodle XML: one cloze question per variant, in one category"),
    "prairielearn": ExportFormat(variant_data, lambda p, r, pieces, key, output: question_folder(p, pieces, output),
                                 "", "a PrairieLearn question folder (-o FOLDER) drawing from the variants",
                                 folder=True),
    "qti": ExportFormat(variant_item, lambda p, r, pieces, key, output: package(p, pieces), ".zip",
                        "QTI 1.2 for Canvas: a zip to import as a quiz"),
    "json": ExportFormat(json_piece, lambda p, r, pieces, key, output: as_json(p, r, pieces), ".json",
                         "every variant's parameters, statement and answers as data", closed_forms=True),
    "html": ExportFormat(variant_html, lambda p, r, pieces, key, output: sheet(p, pieces), ".html",
                         "the sheet and key as one page of MathML"),
}
FORMATS = tuple(EXPORTS)


def export_format(fmt: str) -> ExportFormat:
    """The row of ``fmt``; raises :class:`ParameterError` for an unknown format."""
    try:
        return EXPORTS[fmt]
    except (KeyError, TypeError):
        raise ParameterError(f"--format: unknown exercise format {fmt!r}; expected one of "
                             f"{', '.join(FORMATS)}") from None


# ----- the pieces, made where each variant is drawn ------------------------------------------
def piece(fmt: str, digits: int, ex: Exercise) -> Any:
    """Variant ``ex`` in ``fmt``: what :func:`export` joins."""
    return EXPORTS[fmt].piece(ex, statement(ex), digits)


def export(p: Plan, n: int, fmt: str, *, key: bool = False, jobs: int = 1, output: str | None = None) -> Output:
    """``n`` variants of the plan in ``fmt``: text, a zip's bytes (qti) or a folder's files
    (prairielearn, whose question identity comes from ``output``, the folder's path)."""
    row = export_format(fmt)
    p = dataclasses.replace(p, closed_forms=row.closed_forms)
    done = build(p, n, jobs, functools.partial(piece, fmt, p.digits))
    records: Sequence[Record] = [r for r, _ in done]
    return row.join(p, records, [d for _, d in done], key=key, output=output)


__all__ = ["EXPORTS", "ExportFormat", "FORMATS", "Output", "as_json", "export", "export_format", "piece"]
