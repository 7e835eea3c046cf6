"""Each written number's verdict, in the order of the solution: right, right from the student's
own rounded values, following from an earlier slip, or wrong (with the slips that reproduce it)."""

from __future__ import annotations

import enum
import re
import statistics
from dataclasses import dataclass, replace

import mpmath

from ..printing import text
from ..quantities import SolutionIndex, Value
from ..record import Role
from .answers import Written
from .diagnoses import Case, Diagnosis, diagnose
from .world import Ball, World

Number = mpmath.mpf


class Verdict(enum.StrEnum):
    """What a checked number is (its value is the word JSON prints)."""

    RIGHT = "right"
    ROUNDED = "rounded"
    CARRIED = "carried"
    WRONG = "wrong"
    UNREAD = "unread"

    @property
    def mark(self) -> str:
        return _MARKS[self]

    @property
    def words(self) -> str:
        return _WORDS[self]

    @property
    def ok(self) -> bool:
        return self in (Verdict.RIGHT, Verdict.ROUNDED)


_MARKS = {Verdict.RIGHT: "✓", Verdict.ROUNDED: "≈", Verdict.CARRIED: "↳", Verdict.WRONG: "✗", Verdict.UNREAD: "?"}
_WORDS = {Verdict.RIGHT: "right", Verdict.ROUNDED: "right from your own rounded values",
          Verdict.CARRIED: "follows from an earlier slip", Verdict.WRONG: "wrong", Verdict.UNREAD: "not read"}


@dataclass(frozen=True)
class Line:
    """One checked number: the student's line, the verdict, and what it was compared with."""

    line: int
    name: str
    written: str
    verdict: Verdict
    exact: str
    value: Number | None
    recomputed: Number | None = None
    follows: str | None = None
    follows_written: str | None = None
    diagnoses: tuple[Diagnosis, ...] = ()
    order: int = 0
    message: str = ""  # an unread line: what to write instead

    @property
    def mark(self) -> str:
        return self.verdict.mark

    @property
    def ok(self) -> bool:
        return self.verdict.ok


@dataclass(frozen=True)
class Tolerance:
    """How close a written number must be: ``None`` the half-unit rule (a decimal claims the
    digits it writes); ``digits``: every number compared at that many significant digits;
    ``relative``: within that fraction of the exact value."""

    digits: int | None = None
    relative: Number | None = None

    def widen(self, w: Written, x: Number | None) -> Number:
        """The radius this tolerance adds around ``x`` for ``w``."""
        if x is None or x == 0:
            return mpmath.mpf(0)
        if self.relative is not None:
            return abs(x) * self.relative
        if self.digits is not None:
            return mpmath.mpf(10) ** (mpmath.floor(mpmath.log10(abs(x))) - self.digits + 1) / 2
        return mpmath.mpf(0)


def precision(written: list[Written]) -> tuple[int | None, int | None]:
    """The digits a student works to (the median of the significant digits they write, counting
    the decimals of two digits or more) and the fewest they round to."""
    digits = [w.digits for w in written if w.digits is not None and w.digits >= 2]
    if not digits:
        return None, None
    return int(statistics.median_low(digits)), min(digits)


def rounded_ball(ball: Ball, digits: int | None) -> Ball:
    """What a student who rounds to ``digits`` significant digits may have used for a value they
    did not write: anything from the ball itself to its ends rounded (the ball widened to hold both)."""
    if digits is None:
        return ball
    lo, hi = _round(ball.mid - ball.rad, digits), _round(ball.mid + ball.rad, digits)
    return Ball(ball.mid, max(ball.rad, ball.mid - lo, hi - ball.mid))


def _round(x: Number, digits: int) -> Number:
    """x to ``digits`` significant digits."""
    if not x:
        return x
    unit = mpmath.mpf(10) ** (mpmath.floor(mpmath.log10(abs(x))) - digits + 1)
    return mpmath.nint(x / unit) * unit


def exact_text(v: Value, index: SolutionIndex) -> str:
    if v.exact is None:
        return "?"
    s = text(v.exact, index.sol.names)
    return s if len(s) <= 80 else s[:77] + "…"


def digits_for(w: Written) -> int:
    """Enough significant digits to show a value beside what the student wrote."""
    sig = len(re.sub(r"[^0-9]", "", w.text.split("e")[0].split("E")[0]).lstrip("0"))
    return max(4, sig + 1)


class Checker:
    """Walks the solution's values in order, keeping two worlds: the student's right values (the
    others recomputed), and all of the student's values (to trace a slip carried forward)."""

    def __init__(self, index: SolutionIndex, tolerance: Tolerance = Tolerance()):
        self.index = index
        self.tolerance = tolerance
        self.right = World(index)
        self.own = World(index)
        self.written: dict[Value, Written] = {}
        self.usual: int | None = None

    def matches(self, w: Written, ball: Ball | None) -> bool:
        if ball is None:
            return False
        return w.matches(ball.mid, radius=ball.rad + self.tolerance.widen(w, ball.mid))

    def run(self, given: dict[Value, tuple[Written, int]], working: dict[Value, list[Written]]) -> list[Line]:
        everything = [w for w, _ in given.values()] + [w for ws in working.values() for w in ws]
        usual, _ = precision(everything)
        self.usual = usual
        lines = []
        for v in self.index.values:
            used_right: set[Value] = set()
            used_own: set[Value] = set()
            r_right = self.right.recompute(v, used_right)
            r_own = self.own.recompute(v, used_own)
            taint = frozenset().union(*(self.own.taint.get(u, frozenset()) for u in used_own))
            if v not in given:
                self.right.admit(v, self._unwritten(v, r_right, usual))
                self.own.admit(v, self._unwritten(v, r_own, usual))
                self.own.taint[v] = taint if r_own is not None else frozenset()
                continue
            w, line_no = given[v]
            self.written[v] = w
            for earlier in working.get(v, ()):
                lines.append(self._line(v, earlier, line_no, r_right, r_own, taint, given))
            line = self._line(v, w, line_no, r_right, r_own, taint, given)
            lines.append(line)
            verdict = line.verdict
            self.right.admit(v, Ball(w.float) if verdict.ok else (r_right if r_right is not None else self.right.ball(v)))
            self.own.admit(v, Ball(w.float))
            self.own.taint[v] = frozenset() if verdict.ok else (
                frozenset({v}) if verdict is Verdict.WRONG else taint)
        return lines

    def _unwritten(self, v: Value, ball: Ball | None, digits: int | None) -> Ball | None:
        """A value the student did not write: recomputed from theirs, rounded as they round."""
        if ball is None:
            if v.approx is None:
                return None
            return Ball(v.approx) if Role.GIVEN in v.roles else rounded_ball(Ball(v.approx), digits)
        return rounded_ball(ball, digits)

    def _line(self, v: Value, w: Written, line_no: int, r_right: Ball | None, r_own: Ball | None,
              taint: frozenset[Value], given: dict[Value, tuple[Written, int]]) -> Line:
        recomputed, follows = None, None
        # a one-digit decimal (0.5, 0.2) is right only at the digits the student usually writes;
        # as a rounding of their own carried values it keeps its one digit
        strict = w.claiming(self.usual) if self.usual is not None and w.digits == 1 else w
        if v.approx is not None and self.matches(strict, Ball(v.approx)):
            verdict = Verdict.RIGHT
        elif self.matches(strict, r_right):
            verdict, recomputed = Verdict.ROUNDED, r_right.mid
        elif taint and self.matches(w, r_own):
            verdict, recomputed = Verdict.CARRIED, r_own.mid
            follows = min(taint, key=lambda x: x.order)
        else:
            verdict = Verdict.WRONG
        diagnoses = self.diagnose(v, w, given) if verdict is Verdict.WRONG else ()
        return Line(line_no, v.name, w.text, verdict, exact_text(v, self.index), v.approx, recomputed,
                    follows.name if follows else None, self.written[follows].text if follows else None,
                    tuple(diagnoses), v.order)

    def diagnose(self, v: Value, w: Written, given: dict[Value, tuple[Written, int]]) -> list[Diagnosis]:
        """The slips that reproduce ``w``: tried from the student's right values, then from the
        exact values, then from all of the student's values (a slip on top of a carried one)."""
        written = {u: x for u, (x, _) in given.items()}
        for world in (self.right, World(self.index), self.own):
            base = world.recompute(v, set())
            mid = base.mid if base is not None else v.approx
            if mid is None:
                continue
            found = diagnose(Case(self.index, v, w, world, mid, digits_for(w), written))
            if found:
                return [replace(x, own=world is self.own) for x in found]
        return []


__all__ = ["Checker", "Line", "Tolerance", "Verdict", "precision"]
