"""Check a hand-worked answer step by step against the exact solution (``symderiv check``).

An answers file is lines ``NAME = VALUE`` (``:``, ``:=`` and ``≈`` also accepted, ``#`` comments,
blank lines ignored). NAME is any name the solution's index reads (:mod:`symderiv.quantities`): a
step's left-hand side as ``symderiv solve`` prints it, an ASCII or LaTeX spelling of it
(``df/dw0``, ``\\frac{\\partial f}{\\partial w_0}``, ``S11``, ``yhat``), a matrix entry ``M[i,j]``
or a row ``M[i]``. VALUE is a number (``-0.53``, ``5.23e-5``, ``1/3``), a working written out
(``q = x + y = 1.1``: the last number counts, the earlier ones are checked too), or for a matrix
nested lists (``[[1, 2], [3, 4]]``).

The precision rule: a decimal claims the digits it writes (a one-digit decimal, ``0.5``, claims
the digits the student usually writes). A value the student did not write is recomputed from
their values and rounded as they round (:mod:`symderiv.check.world`).

Each line gets a :class:`Verdict`, in the order of the solution: ✓ right, ≈ right from the
student's own rounded values, ↳ follows from an earlier slip, ✗ wrong (with the likely slips of
the diagnoses table, :data:`DIAGNOSES`, each reproducing the number), ? not read (with what to
write instead; the other lines are still checked).

The package: :mod:`.answers` (reading), :mod:`.world` (recomputing), :mod:`.diagnoses` (the
table), :mod:`.verdicts` (judging), :mod:`.report`, :mod:`.notes` (the notes' errata),
:mod:`.run` (:func:`check_answers`).
"""

from __future__ import annotations

from ..deprecation import callable_module
from .answers import MAX_ANSWER_BYTES, MAX_ANSWER_NUMBERS, AnswerError, Written, decode, read_answers, read_number
from .diagnoses import DIAGNOSES, Diagnosis, Rule, diagnoses_table
from .notes import check_notes, errata, errata_lines, errata_page, notes_answers, write_errata_files
from .report import CHECK_FORMATS, Report, hint_text, line_text, marked_solution, render_text, slip_text
from .run import WORKING_DIGITS, check_answers, read_tolerance
from .verdicts import Line, Tolerance, Verdict


callable_module(__name__, check_answers, "symderiv.check_answers")

__all__ = ["AnswerError", "CHECK_FORMATS", "DIAGNOSES", "Diagnosis", "Line", "MAX_ANSWER_BYTES", "MAX_ANSWER_NUMBERS",
           "Report", "Rule", "Tolerance", "Verdict", "WORKING_DIGITS", "Written", "check_answers", "check_notes",
           "decode", "diagnoses_table", "errata", "errata_lines", "errata_page", "hint_text", "line_text",
           "marked_solution", "notes_answers", "read_answers", "read_number", "read_tolerance", "render_text",
           "slip_text", "write_errata_files"]
