"""Printers for formulas: symbols shown by their names, or by their values (substitutions).

SymPy's printers would reorder terms and auto-evaluate a substitution; these print a formula's
own unevaluated tree (``order='none'``) and, in a substitution, show each symbol as its value:
the exact value when it is a rational, else the float to the chosen number of digits, negative
values parenthesized.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import mpmath
import sympy as sp
from sympy.printing.latex import LatexPrinter
from sympy.printing.precedence import PRECEDENCE
from sympy.printing.str import StrPrinter


@dataclass(frozen=True)
class Name:
    """How a symbol is written: LaTeX and plain text."""

    latex: str
    text: str


def entry_name(name: str, i: int, j: int, vector: bool) -> str:
    """The name of entry (i, j) (0-based) of a tensor: ``W_1_2``, a column vector's ``v_3``."""
    return f"{name}_{i + 1}" if vector else f"{name}_{i + 1}_{j + 1}"


@dataclass(frozen=True)
class Shown:
    """A value as it appears in a substitution: exact, and its high-precision float."""

    exact: sp.Expr
    approx: mpmath.mpf | None


def format_float(x: mpmath.mpf | float, digits: int) -> str:
    """``x`` to ``digits`` significant digits, plain (no exponent unless tiny or huge)."""
    with mpmath.workdps(digits + 10):  # read and round at the precision asked for, not 53 bits
        x = mpmath.mpf(x)
        if x == 0:
            return "0"
        if abs(x) >= mpmath.mpf(10) ** 7 or abs(x) < mpmath.mpf(10) ** -5:
            return mpmath.nstr(x, digits, min_fixed=0, max_fixed=0)
        s = mpmath.nstr(x, digits, min_fixed=-6, max_fixed=8)
    if "." in s and "e" not in s:
        s = s.rstrip("0").rstrip(".")
    return s


#: A matrix with this many columns or more is set in small type in LaTeX (amsmath's smallmatrix).
WIDE_MATRIX = 6


def is_plain_number(expr: sp.Expr) -> bool:
    """True for an integer or a fraction with a small denominator: shown exactly in a substitution."""
    return bool(expr.is_Rational) and expr.q <= 1000


def _shown_as_float(exact: sp.Expr, approx: mpmath.mpf | None) -> bool:
    return not (is_plain_number(exact) or approx is None)


def shows_rounded(values: Mapping[sp.Symbol, Shown], formula: sp.Basic, digits: int = 4) -> bool:
    """True when ``formula`` with ``values`` substituted shows a rounded float (so it is joined
    to the exact value by ≈, not =)."""
    for sym in formula.free_symbols & values.keys():
        shown = values[sym]
        if isinstance(shown.exact, sp.MatrixBase):
            if shown.approx is not None and any(
                    _shown_as_float(e, shown.approx[i][j]) for i in range(shown.exact.rows)
                    for j, e in enumerate(shown.exact.row(i))):
                return True
        elif _shown_as_float(shown.exact, shown.approx):
            return True
    return False


def _float_latex(s: str) -> str:
    if "e" in s:
        mant, ex = s.split("e")
        return rf"{mant} \cdot 10^{{{int(ex)}}}"
    return s


class _ValueMixin:
    """Shared by the LaTeX and text printers: symbols as names or as values."""

    names: Mapping[sp.Symbol, Name]
    values: Mapping[sp.Symbol, Shown] | None
    digits: int

    def _value_string(self, sym: sp.Symbol) -> str | None:
        if self.values is None or sym not in self.values:
            return None
        shown = self.values[sym]
        if isinstance(shown.exact, sp.MatrixBase):
            cells = [(e, None if shown.approx is None else shown.approx[i][j])
                     for i in range(shown.exact.rows) for j, e in enumerate(shown.exact.row(i))]
            floats = any(_shown_as_float(e, a) for e, a in cells)  # then every fraction is a float too
            width = shown.exact.cols
            entries = [self._entry(e, a, floats) for e, a in cells]
            return self._matrix([entries[k:k + width] for k in range(0, len(entries), width)])
        return self._entry(shown.exact, shown.approx)

    def _entry(self, exact: sp.Expr, approx: mpmath.mpf | None, as_float: bool = False) -> str:
        if approx is None or exact.is_Integer or (is_plain_number(exact) and not as_float):
            return self._exact_string(exact)
        return self._float_string(format_float(approx, self.digits))

    def _is_negative(self, sym: sp.Basic) -> bool:
        if self.values is None or sym not in self.values:
            return False
        shown = self.values[sym]
        if isinstance(shown.exact, sp.MatrixBase):
            return False
        if shown.exact.is_Rational:
            return bool(shown.exact < 0)
        return shown.approx is not None and shown.approx < 0

    def _value(self, sym: sp.Symbol, wrap: bool) -> str | None:
        s = self._value_string(sym)
        if s is None:
            return None
        exact = self.values[sym].exact
        needs = self._is_negative(sym) or (wrap and not isinstance(exact, sp.MatrixBase)
                                           and exact.is_Rational and not exact.is_Integer)
        return self._wrap(s) if needs else s


class LatexFormulaPrinter(_ValueMixin, LatexPrinter):
    """LaTeX of a formula tree as written, with names or values."""

    def __init__(self, names: Mapping[sp.Symbol, Name], values: Mapping[sp.Symbol, Shown] | None = None,
                 digits: int = 4):
        super().__init__({"order": "none", "mul_symbol": "dot", "fold_short_frac": False})
        self.names, self.values, self.digits = names, values, digits

    def _exact_string(self, expr: sp.Expr) -> str:
        return LatexPrinter({"mul_symbol": "dot"}).doprint(expr)

    def _float_string(self, s: str) -> str:
        return _float_latex(s)

    def _wrap(self, s: str) -> str:
        return rf"\left({s}\right)"

    def _matrix(self, rows: list[list[str]]) -> str:
        body = r" \\ ".join(" & ".join(r) for r in rows)
        if len(rows[0]) >= WIDE_MATRIX:  # a wide matrix in smaller type, so that the row fits the page
            return r"{\left[\begin{smallmatrix} " + body + r" \end{smallmatrix}\right]}"
        return r"{\begin{bmatrix} " + body + r" \end{bmatrix}}"

    def _print_Symbol(self, expr, style="plain"):
        shown = self._value_string(expr)
        if shown is not None:
            return shown
        if expr in self.names:
            return self.names[expr].latex
        return super()._print_Symbol(expr, style)

    def parenthesize(self, item, level, is_neg=False, strict=False):
        if isinstance(item, sp.Symbol):
            shown = self._value(item, wrap=True)
            if shown is not None:
                return shown
        return super().parenthesize(item, level, is_neg, strict)

    def _print_Add(self, expr, order=None):
        tex = ""
        for i, term in enumerate(expr.args):
            valued = isinstance(term, sp.Symbol) and self._value_string(term) is not None
            if i == 0:
                tex = self._value_string(term) if valued else self._print(term)
            elif not valued and term.could_extract_minus_sign():
                tex += " - " + self.parenthesize(-term, PRECEDENCE["Add"], strict=True)
            else:
                tex += " + " + (self._value(term, wrap=False) if valued else self._print(term))
        return tex

    def _needs_mul_brackets(self, expr, first=False, last=False):
        if isinstance(expr, sp.Symbol) and self._value_string(expr) is not None:
            return self._is_negative(expr)
        return super()._needs_mul_brackets(expr, first, last)

    def _print_Mul(self, expr):
        if len(expr.args) == 2 and expr.args[0] == -1 and isinstance(expr.args[1], sp.Symbol):
            shown = self._value(expr.args[1], wrap=False)
            if shown is not None:
                return "- " + shown
        return super()._print_Mul(expr)

    def _print_MatMul(self, expr):
        """SymPy's, with the sign read off the product's leading number: SymPy asks
        ``could_extract_minus_sign`` (also for the product's precedence), which negates the product
        and multiplies its matrices out."""
        lead, *rest = expr.args
        negative = lead.is_Number and lead.is_extended_negative
        level = PRECEDENCE["Add"] if negative and not any(
            isinstance(a, sp.Function) and getattr(a, "precedence", PRECEDENCE["Mul"]) < PRECEDENCE["Mul"]
            for a in expr.args) else PRECEDENCE["Mul"]

        def factor(x):
            if isinstance(x, sp.Mul) and not isinstance(x, sp.MatMul):
                return self._print(x)
            return self.parenthesize(x, level, False)
        if negative:
            return "- " + " ".join(map(factor, rest if lead == -1 else [-lead, *rest]))
        return " ".join(map(factor, expr.args))

    def _print(self, expr, **kwargs):
        if expr is sp.E:  # SymPy's own E._latex would win over a _print_Exp1
            return r"\mathrm{e}" if _names_e(self.names) else "e"
        return super()._print(expr, **kwargs)

    def _print_ExpBase(self, expr, exp=None):
        base = r"\mathrm{e}" if _names_e(self.names) else "e"
        tex = rf"{base}^{{{self._print(expr.args[0])}}}"
        return self._do_exponent(tex, exp)

    def _print_Piecewise(self, expr):
        rows = []
        for value, cond in expr.args:
            when = r"\text{otherwise}" if cond is sp.true else r"\text{if } " + self._print(cond)
            rows.append(f"{self._print(value)} & {when}")
        return r"\begin{cases} " + r" \\ ".join(rows) + r" \end{cases}"


def _writes_e(names: Mapping[sp.Basic, Name]) -> bool:
    return any(n.text == "e" or n.latex == "e" for n in names.values())


class Names(Mapping):
    """A finished, read-only table of names (a solution's), which knows once whether one of them is
    written e: each exponential printed would otherwise look through every name again."""

    def __init__(self, names: Mapping[sp.Basic, Name]):
        self._names = dict(names)
        self.writes_e = _writes_e(self._names)

    def __getitem__(self, symbol: sp.Basic) -> Name:
        return self._names[symbol]

    def __iter__(self):
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


def _names_e(names: Mapping[sp.Basic, Name]) -> bool:
    """Whether some name is written e (then Euler's number is written otherwise)."""
    return names.writes_e if isinstance(names, Names) else _writes_e(names)


class TextFormulaPrinter(_ValueMixin, StrPrinter):
    """Plain text of a formula tree as written, with names or values."""

    def __init__(self, names: Mapping[sp.Symbol, Name], values: Mapping[sp.Symbol, Shown] | None = None,
                 digits: int = 4):
        super().__init__({"order": "none"})
        self.names, self.values, self.digits = names, values, digits

    def _exact_string(self, expr: sp.Expr) -> str:
        return StrPrinter().doprint(expr)

    def _float_string(self, s: str) -> str:
        return s

    def _wrap(self, s: str) -> str:
        return f"({s})"

    def _matrix(self, rows: list[list[str]]) -> str:
        if len(rows) == 1 and len(rows[0]) == 1:
            return f"[{rows[0][0]}]"
        if all(len(r) == 1 for r in rows):
            return "[" + ", ".join(r[0] for r in rows) + "]ᵀ"
        return "[" + ", ".join("[" + ", ".join(r) + "]" for r in rows) + "]"

    def _print_MatrixSymbol(self, expr):
        return self._print_Symbol(expr)

    def _print_Transpose(self, expr):
        inner = self.parenthesize(expr.arg, 60)
        if inner.endswith("]ᵀ") and inner.startswith("[") and not inner.startswith("[["):
            return inner[:-1]  # a column vector, written as a transposed row: its transpose is the row
        return inner + "ᵀ"

    def _print_MatMul(self, expr):
        return "·".join(self.parenthesize(a, 50) for a in expr.args)

    def _print_ImmutableDenseMatrix(self, expr):
        return self._matrix([[self._print(e) for e in expr.row(i)] for i in range(expr.rows)])

    _print_MutableDenseMatrix = _print_ImmutableDenseMatrix

    def _print_Symbol(self, expr):
        shown = self._value_string(expr)
        if shown is not None:
            return shown
        if expr in self.names:
            return self.names[expr].text
        return super()._print_Symbol(expr)

    def parenthesize(self, item, level, strict=False):
        if isinstance(item, sp.Symbol) and level > 0:
            shown = self._value(item, wrap=True)
            if shown is not None:
                return shown
        if isinstance(item, (sp.Symbol, sp.MatrixSymbol)) and level > 0 and self._value_string(item) is None:
            name = self.names.get(item)
            if name is not None and level >= PRECEDENCE["Mul"] and ("/" in name.text or " " in name.text):
                return f"({name.text})"  # ∂L/∂z1 divided by 2 is (∂L/∂z1)/2, not ∂L/∂z1/2
        return super().parenthesize(item, level, strict)

    def _print_Exp1(self, expr):
        return "exp(1)" if _names_e(self.names) else "e"

    def _print_Mul(self, expr):
        """SymPy's, but a written negation (-1)·2 of a number, as a subtraction gate writes it, is -2,
        not -1·2 (only an unevaluated product has these two factors)."""
        if len(expr.args) == 2 and expr.args[0] == -1 and expr.args[1].is_Number:
            return "-" + self.parenthesize(expr.args[1], PRECEDENCE["Mul"])
        return super()._print_Mul(expr)

    def _print_Add(self, expr, order=None):
        parts = []
        for i, term in enumerate(expr.args):
            if isinstance(term, sp.Symbol) and self._value_string(term) is not None:
                parts.append(" + " + self._value(term, wrap=False) if i else self._value_string(term))
                continue
            s = self.parenthesize(term, 40) if term.is_Add else self._print(term)
            if i and s.startswith("-"):
                parts.append(" - " + s[1:].lstrip())
            else:
                parts.append((" + " if i else "") + s)
        return "".join(parts)

    def _print_Piecewise(self, expr):
        rows = [f"{self._print(v)} if {self._print(c)}" if c is not sp.true else f"{self._print(v)} otherwise"
                for v, c in expr.args]
        return "{" + "; ".join(rows) + "}"

    def _print_Max(self, expr):
        return "max(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Min(self, expr):
        return "min(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Heaviside(self, expr):
        return f"H({self._print(expr.args[0])})"


def format_approx(approx, digits: int, as_latex: bool) -> str:
    """A float, or a matrix of floats (tuple of rows), to ``digits`` significant digits."""
    if isinstance(approx, tuple):
        rows = [[_float_latex(format_float(a, digits)) if as_latex else format_float(a, digits) for a in row]
                for row in approx]
        if as_latex:
            return r"{\begin{bmatrix} " + r" \\ ".join(" & ".join(r) for r in rows) + r" \end{bmatrix}}"
        return TextFormulaPrinter({})._matrix(rows)
    s = format_float(approx, digits)
    return _float_latex(s) if as_latex else s


def latex(expr: sp.Basic, names: Mapping[sp.Symbol, Name], values: Mapping[sp.Symbol, Shown] | None = None,
          digits: int = 4) -> str:
    """LaTeX of ``expr``: symbols by name, or by value where ``values`` has them."""
    return LatexFormulaPrinter(names, values, digits).doprint(expr)


def text(expr: sp.Basic, names: Mapping[sp.Symbol, Name], values: Mapping[sp.Symbol, Shown] | None = None,
         digits: int = 4) -> str:
    """Plain text of ``expr``: symbols by name, or by value where ``values`` has them."""
    out = TextFormulaPrinter(names, values, digits).doprint(expr)
    return re.sub(r"(?<!\*)\*(?!\*)", "·", out).replace("**", "^")
