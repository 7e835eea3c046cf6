"""The check of one answer set: its lines, summary, plain data, text, and the marked solution."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from ..errors import SymderivError
from ..printing import format_float
from ..quantities import SolutionIndex
from ..record import Remark, Section, SectionKind, Solution, Step
from .diagnoses import DIAGNOSES, fmt
from .verdicts import Line, Verdict

CHECK_FORMATS = ("text", "json", "html", "latex")
_COLORS = {Verdict.RIGHT: "32", Verdict.ROUNDED: "32", Verdict.CARRIED: "33", Verdict.WRONG: "31",
           Verdict.UNREAD: "35"}


@dataclass(frozen=True)
class Report:
    """The check of one answer set: a line per number written, in the order of the solution (the
    lines that could not be read last)."""

    model: str
    title: str
    lines: tuple[Line, ...]
    solution: Solution = field(repr=False)
    digits: int = 4
    hints: bool = False  # say where the first slip is and what kind, never a value

    @property
    def ok(self) -> bool:
        """True when every number was read and is right (✓) or right from the student's values (≈)."""
        return all(line.ok for line in self.lines)

    @property
    def first_wrong(self) -> Line | None:
        """The first ✗ line in the order of the solution."""
        return next((line for line in self.lines if line.verdict is Verdict.WRONG), None)

    def following(self, wrong: Line) -> list[Line]:
        """The ↳ lines that follow from ``wrong``."""
        return [line for line in self.lines if line.verdict is Verdict.CARRIED and line.follows == wrong.name]

    def counts(self) -> dict[str, int]:
        return {kind: sum(1 for line in self.lines if line.verdict is kind) for kind in Verdict}

    def summary(self) -> str:
        c = self.counts()
        checked = len(self.lines) - c[Verdict.UNREAD]
        parts = [f"{checked} checked: {c['right']} right, {c['rounded']} right from your own rounded "
                 f"values, {c['carried']} following from an earlier slip, {c['wrong']} wrong"]
        if c[Verdict.UNREAD]:
            parts[0] += f"; {c[Verdict.UNREAD]} line{'s' if c[Verdict.UNREAD] > 1 else ''} not read"
        first = self.first_wrong
        if first is None:
            parts.append("No wrong step" if self.ok else "")
        else:
            after = self.following(first)
            parts.append(f"The first wrong step is {first.name} (line {first.line})" +
                         (f"; following from it: {', '.join(line.name for line in after)}" if after else ""))
        return ". ".join(p for p in parts if p) + "."

    def to_dict(self) -> dict[str, Any]:
        """Plain data (what ``--format json`` prints)."""
        first = self.first_wrong
        return {
            "model": self.model, "ok": self.ok, "counts": {str(k): n for k, n in self.counts().items()},
            "first_wrong": None if first is None else {"name": first.name, "line": first.line,
                                                       "following": [x.name for x in self.following(first)]},
            "lines": [_line_dict(x, self.hints) for x in self.lines],
            "summary": self.summary(),
        }

    def render(self, fmt: str = "text", *, color: bool = False, standalone: bool = False) -> str:
        """The report as ``text``, ``json``, ``html`` or ``latex`` (the last two: the worked
        solution with each checked line marked)."""
        if fmt == "text":
            return render_text(self, color=color)
        if fmt == "json":
            return json.dumps(self.to_dict(), ensure_ascii=False, indent=2) + "\n"
        if fmt == "html":
            return marked_solution(self).render("html", digits=self.digits)
        if fmt == "latex":
            return marked_solution(self).render("latex", digits=self.digits, standalone=standalone)
        raise SymderivError(f"check: unknown format {fmt!r}; expected one of {', '.join(CHECK_FORMATS)}")


def _line_dict(x: Line, hints: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"line": x.line, "name": x.name, "written": x.written, "verdict": str(x.verdict),
                           "mark": x.mark}
    if x.verdict is Verdict.UNREAD:
        out["message"] = x.message
        return out
    if hints:
        out["diagnoses"] = [{"kind": d.kind} for d in x.diagnoses]
        out["follows"] = x.follows
        return out
    out.update({"exact": x.exact, "float": None if x.value is None else float(x.value),
                "recomputed": None if x.recomputed is None else float(x.recomputed), "follows": x.follows,
                "diagnoses": [{"kind": d.kind, "text": d.says(), "value": float(d.value)} for d in x.diagnoses]})
    return out


def line_text(line: Line) -> str:
    """What a line's mark says beside the number."""
    v = line.verdict
    if v is Verdict.UNREAD:
        return f"not read: {line.message}"
    if v is Verdict.RIGHT:
        return f"{line.name} = {line.written}: right ({_exact_short(line)})"
    if v is Verdict.ROUNDED:
        return (f"{line.name} = {line.written}: right from your own rounded values ({fmt(line.recomputed, 6)} "
                f"from them; exactly {_exact_short(line)})")
    if v is Verdict.CARRIED:
        return (f"{line.name} = {line.written}: follows from your {line.follows} = {line.follows_written} "
                f"({fmt(line.recomputed, 6)} from your values; exactly {_exact_short(line)})")
    slips = "; or ".join(d.says() for d in line.diagnoses) if line.diagnoses else "it is none of the usual slips"
    return f"{line.name} = {line.written}: wrong, the exact value is {_exact_short(line)}; {slips}"


def hint_text(line: Line, first: bool = True) -> str:
    """A line as a hint: its verdict, and for the first slip what kind of slip to look for, never
    a value."""
    v = line.verdict
    if v is Verdict.UNREAD:
        return f"not read: {line.message}"
    if v is Verdict.CARRIED:
        return f"{line.name} = {line.written}: follows from your {line.follows}; fix that first"
    if v is Verdict.WRONG and not first:
        return f"{line.name} = {line.written}: wrong too; check it after the first slip"
    if v is Verdict.WRONG:
        docs = {r.kind: r.doc for r in DIAGNOSES}
        kinds = "; or ".join(docs.get(d.kind, d.kind) for d in line.diagnoses)
        return f"{line.name} = {line.written}: the first slip is here" + (f" (look for: {kinds})" if kinds else
                                                                          " (not one of the usual slips)")
    return f"{line.name} = {line.written}: {v.words}"


def _exact_short(line: Line) -> str:
    f = fmt(line.value, 6)
    return line.exact if line.exact == f or line.value is None else f"{line.exact} ≈ {f}"


def render_text(report: Report, color: bool = False) -> str:
    """The report as lines of text: a mark and a sentence per number, then the summary."""
    out = [f"Check of {report.model}: {report.title}", ""]
    first = report.first_wrong
    for line in report.lines:
        mark = line.mark
        if color:
            mark = f"\033[{_COLORS[line.verdict]}m{mark}\033[0m"
        said = hint_text(line, line is first) if report.hints else line_text(line)
        out.append(f"{mark} line {line.line}: {said}")
    out += ["", report.summary()]
    return "\n".join(out) + "\n"


def marked_solution(report: Report) -> Solution:
    """The worked solution with each checked step's note saying what the student wrote and its
    verdict, and a first section with the summary: what html and latex show."""
    by_name: dict[str, list[Line]] = {}
    for line in report.lines:
        by_name.setdefault(line.name, []).append(line)
    index = SolutionIndex(report.solution)
    marks: dict[int, list[Line]] = {}
    for v in index.values:
        for line in by_name.get(v.name, ()):
            step, _ = v.steps[0]
            marks.setdefault(id(step), []).append(line)
    sections = [Section(SectionKind.CHECK, "Your answers, checked",
                        tuple(Remark((f"{line.mark} {line_text(line)}",)) for line in report.lines)
                        + (Remark((report.summary(),)),))]
    for section in report.solution.sections:
        items = []
        for item in section.items:
            if isinstance(item, Step) and id(item) in marks:
                extra = "; ".join(f"{x.mark} you wrote {x.name} = {x.written}" +
                                  ("" if x.ok else f" ({x.verdict.words})") for x in marks[id(item)])
                item = dataclasses.replace(item, note=(*item.note, "; " if item.note else "", extra))
            items.append(item)
        sections.append(Section(section.kind, section.title, tuple(items)))
    return dataclasses.replace(report.solution, sections=tuple(sections))


def slip_parts(line: Line) -> tuple[str, str]:
    """What a ✗ or ↳ line's value is (exact and float) and the likely slip, in words."""
    value = line.exact
    if line.value is not None and len(line.exact) > 40:
        value = f"≈ {format_float(line.value, 4)}"
    elif line.value is not None and line.exact != format_float(line.value, 4):
        value += f" ≈ {format_float(line.value, 4)}"
    if line.verdict is Verdict.CARRIED:
        return value, (f"follows from the earlier slip in {line.follows} (written {line.follows_written}): "
                       f"{fmt(line.recomputed, 4)} from the notes' own values")
    if line.diagnoses:
        return value, "; or ".join(dg.says("the notes'") for dg in line.diagnoses)
    return value, "none of the usual slips"


def slip_text(line: Line) -> str:
    """One ✗ or ↳ line in words: what was written, what it is, and the likely slip."""
    value, why = slip_parts(line)
    return f"{line.name} = {line.written} is {value} ({why})"


__all__ = ["CHECK_FORMATS", "Report", "hint_text", "line_text", "marked_solution", "render_text",
           "slip_parts", "slip_text"]
