"""Checking an answer set: each line read through the solution's index, then every value judged."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import mpmath

from ..errors import ParameterError
from ..models import get_model
from ..quantities import Matrix, SolutionIndex, Value
from ..record import Solution
from .answers import (MAX_ANSWER_NUMBERS, Answer, AnswerError, DuplicateAnswer, Unread, Written, parse_answers,
                      read_grid, read_number)
from .diagnoses import Diagnosis
from .report import Report
from .verdicts import Checker, Line, Tolerance, Verdict

#: Significant digits of every comparison (the solution's floats have 50).
WORKING_DIGITS = 60
_LAST = 10 ** 9  # an unread line's place: after every value of the solution


def check_answers(model: str | Solution, answers: str | Mapping[str, Any], *, digits: int = 4,
                  tolerance: Tolerance | str | None = None, hints: bool = False, **params: Any) -> Report:
    """Check a student's answers (the text of an answers file, or a mapping name → value) against
    the exact solution of ``model`` (a model id, with ``params``, or a Solution). ``tolerance``:
    ``"3"`` (significant digits), ``"0.1%"`` or ``"1e-3"`` (relative), beside the half-unit rule;
    ``hints``: the report says where the first slip is and its kind, never a value."""
    if isinstance(tolerance, str):
        tolerance = read_tolerance(tolerance)
    answers_read, unread = parse_answers(answers)
    count = sum(max(1, a.value.count(",") + 1) for a in answers_read)
    if count > MAX_ANSWER_NUMBERS:
        raise AnswerError(f"answers: {count:,} numbers; at most {MAX_ANSWER_NUMBERS:,} are checked at once")
    sol = model if isinstance(model, Solution) else get_model(model).solve(**params)
    with mpmath.workdps(WORKING_DIGITS):
        index = SolutionIndex(sol)
        given, working, shape_slips, more = _read(index, answers_read)
        unread += more
        if unread and not given:
            raise AnswerError(unread[0].message)
        lines = Checker(index, tolerance or Tolerance()).run(given, working)
        lines = [_shape_slip(x, shape_slips) for x in lines]
    lines += [Line(u.line, u.text, "", Verdict.UNREAD, "", None, order=_LAST, message=u.message) for u in unread]
    return Report(sol.model, sol.title, tuple(sorted(lines, key=lambda x: (x.order, x.line))), sol, digits, hints)


def read_tolerance(text_: str) -> Tolerance:
    """``3`` (significant digits), ``0.1%`` or ``1e-3`` (relative)."""
    s = text_.strip()
    try:
        if s.endswith("%"):
            return Tolerance(relative=mpmath.mpf(s[:-1]) / 100)
        if re.fullmatch(r"\d{1,2}", s) and 1 <= int(s) <= 50:
            return Tolerance(digits=int(s))
        value = mpmath.mpf(s)
        if 0 < value < 1:
            return Tolerance(relative=value)
    except (ValueError, TypeError):
        pass
    raise ParameterError(f"tolerance: {s[:20]!r}; write significant digits (3), or a relative tolerance "
                         "(0.1% or 1e-3)")


def _read(index: SolutionIndex, answers: list[Answer]) -> tuple[dict, dict, dict, list[Unread]]:
    """Each readable line's numbers, by value; the lines that could not be read."""
    given: dict[Value, tuple[Written, int]] = {}
    working: dict[Value, list[Written]] = {}
    first_line: dict[Value, int] = {}
    shape_slips: dict[Value, str] = {}
    unread: list[Unread] = []

    def put(v: Value, w: Written, a: Answer) -> None:
        if v in given:
            raise DuplicateAnswer(f"line {a.line}: {v.name} is given twice (first on line {first_line[v]})")
        given[v], first_line[v] = (w, a.line), a.line

    for a in answers:
        where = f"line {a.line}: {a.name}"
        try:
            target = _row_of(index, a) or index.find(a.name, f"line {a.line}: {a.name}: ")
            value = read_grid(a.value, where)
            if isinstance(target, tuple):  # a row of a matrix, Z[1] = [...]
                matrix, row = target
                flat = [w for r in value for w in r] if isinstance(value, list) else [value]
                if len(flat) != matrix.shape[1]:
                    raise AnswerError(f"{where}: a row of {matrix.name} has {matrix.shape[1]} entries, "
                                      f"but {len(flat)} are given")
                for j, w in enumerate(flat):
                    put(matrix.entries[row][j], w, a)
            elif isinstance(target, Matrix):
                _put_matrix(target, value, a, where, put, shape_slips)
            else:
                if isinstance(value, list):
                    if len(value) * len(value[0]) != 1:
                        raise AnswerError(f"{where} is a number, not a matrix")
                    value = value[0][0]
                put(target, value, a)
                for earlier in a.working:
                    working.setdefault(target, []).append(read_number(earlier, where))
        except DuplicateAnswer:
            raise
        except ParameterError as e:  # an AnswerError, an unknown name, a number out of range
            unread.append(Unread(a.line, a.name, str(e)))
    return given, working, shape_slips, unread


def _row_of(index: SolutionIndex, a: Answer) -> tuple[Matrix, int] | None:
    """``Z[1] = [0.1, 0.2]``: a whole row of a matrix (1-based)."""
    m = re.fullmatch(r"(.+?)\s*\[\s*(\d{1,4})\s*\]", a.name.strip())
    if not m or not a.value.lstrip().startswith("["):
        return None
    matrix = index.matrix(m.group(1))
    if matrix is None or 1 in matrix.shape:
        return None
    i = int(m.group(2))
    if not 1 <= i <= matrix.shape[0]:
        zero = " (indices start at 1)" if i == 0 else ""
        raise AnswerError(f"line {a.line}: {a.name}: {matrix.name} has {matrix.shape[0]} rows; there is no row "
                          f"{i}{zero}")
    return matrix, i - 1


def _put_matrix(matrix: Matrix, value: Any, a: Answer, where: str, put, shape_slips: dict[Value, str]) -> None:
    rows, cols = matrix.shape
    if not isinstance(value, list):
        if (rows, cols) != (1, 1):
            raise AnswerError(f"{where} is a {rows}x{cols} matrix; write all of it, like "
                              f"[{', '.join(['…'] * min(cols if rows == 1 else rows, 3))}], or one entry, "
                              f"like {matrix.entries[0][0].name} = …")
        value = [[value]]
    shape = (len(value), len(value[0]))
    if shape == (rows, cols) or (shape == (cols, rows) and 1 in shape):
        flat = [w for row in value for w in row]
        for k, w in enumerate(flat):
            put(matrix.entries[k // cols][k % cols], w, a)
        return
    if shape == (cols, rows):  # written transposed: the student's slip, read as its transpose
        for i in range(rows):
            for j in range(cols):
                put(matrix.entries[i][j], value[j][i], a)
                shape_slips[matrix.entries[i][j]] = (f"{matrix.name} written {cols}x{rows}: it is {rows}x{cols}"
                                                     f" (a gradient has its parameter's shape); read as its transpose")
        return
    raise AnswerError(f"{where} is {rows}x{cols}, but the value given is {shape[0]}x{shape[1]}")


def _shape_slip(line: Line, slips: dict[Value, str]) -> Line:
    """A line of a matrix written transposed: wrong, whatever its numbers."""
    words = next((w for v, w in slips.items() if v.name == line.name), None)
    if words is None or line.verdict is Verdict.UNREAD:
        return line
    return replace(line, verdict=Verdict.WRONG, diagnoses=(Diagnosis("transposed", words, line.value or 0),))
