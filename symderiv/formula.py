"""Your own function as a formula string: parsed (never evaluated) into the engine's gates.

``derive("(x + y) * z", x=-2, y=5, z=-4)`` builds the graph the way the formula is written:
``-(a + b)`` is a negation gate after an add gate, ``x - y`` a subtract gate, ``1/f`` a reciprocal
gate, and n-ary sums and products become two-input gates from left to right. Python's ``ast``
parses the text; only the whitelisted nodes below are accepted, anything else is refused with
its position.
"""

from __future__ import annotations

import ast
import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import sympy as sp

from .engine.gates import functions, sympy_gates
from .errors import FormulaError, ParameterError
from .graph import Graph, Node
from .record import Section, SectionKind, Solution, Step
from .values import MAX_DIGITS, exact_size_refusal, power_refusal, quote

MAX_LENGTH = 10_000
MAX_DEPTH = 200  # nested parentheses and calls; CPython's own parser stops at 200 parentheses
CONSTANTS = {"e": sp.E, "pi": sp.pi}


def _column(text: str, offset: int) -> int:
    """The column in ``text`` of character ``offset`` of the parsed text (``^`` written ``**``)."""
    column = 0
    while offset > 0 and column < len(text):
        offset -= 2 if text[column] == "^" else 1
        column += 1
    return column + 1


def _fail(node: ast.AST | None, text: str, what: str) -> FormulaError:
    where = ""
    if node is not None and hasattr(node, "col_offset"):  # ast counts UTF-8 bytes of the parsed text
        parsed = text.replace("^", "**").encode()
        where = f" at column {_column(text, len(parsed[:node.col_offset].decode(errors='ignore')))}"
    return FormulaError(f"formula {quote(text)}: {what}{where}")


def parse(text: str) -> ast.expr:
    """The formula's syntax tree, checked against the grammar (numbers, names, + - * / ^ **,
    parentheses, and calls of the gates with a ``function`` name in the gate table)."""
    if not isinstance(text, str):
        raise FormulaError(f"a formula is text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise FormulaError(f"formula: longer than {MAX_LENGTH} characters")
    try:
        tree = ast.parse(text.replace("^", "**"), mode="eval")
    except SyntaxError as e:
        raise FormulaError(f"formula {quote(text)}: not an expression ({e.msg}) at column {_column(text, (e.offset or 1) - 1)}") from None
    except RecursionError:
        raise FormulaError(f"formula {quote(text)}: too long a chain of operations for Python's parser "
                           "(a chain of about 2,000 terms is the most it reads)") from None
    except (ValueError, MemoryError):
        raise FormulaError(f"formula {quote(text)}: cannot be parsed") from None
    _check(tree.body, text, 0)
    return tree.body


def _check(node: ast.AST, text: str, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise _fail(node, text, f"nested deeper than {MAX_DEPTH} levels")
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
            raise _fail(node, text, "expected a number")
        if not math.isfinite(node.value) or abs(node.value) >= 10 ** MAX_DIGITS:
            raise _fail(node, text, f"a number of more than {MAX_DIGITS} digits")
        return
    if isinstance(node, ast.Name):
        if node.id.startswith("_") or node.id in functions():
            raise _fail(node, text, f"{node.id!r} is not a variable name")
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return _check(node.operand, text, depth + 1)
    if isinstance(node, ast.BinOp) and isinstance(node.op, _BINOPS):
        first, rest = _spine(node, _BINOPS)  # a long sum a + b + c + ... is long, not deep
        for operand in [first, *(right for _, right in rest)]:
            _check(operand, text, depth + 1)
        return
    if isinstance(node, ast.Call):
        known = functions()
        if not isinstance(node.func, ast.Name) or node.func.id not in known or node.keywords:
            raise _fail(node, text, f"expected a call of one of {', '.join(known)}")
        want = known[node.func.id].arity or 2
        if len(node.args) != want:
            raise _fail(node, text, f"{node.func.id} takes {want} argument{'s' * (want > 1)}")
        for a in node.args:
            _check(a, text, depth + 1)
        return
    raise _fail(node, text, "expected a number, a name, + - * / ^, parentheses or a function call")


_BINOPS = (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)


def _spine(node: ast.expr, ops: tuple[type, ...]) -> tuple[ast.expr, list[tuple[ast.BinOp, ast.expr]]]:
    """A left-nested chain a ∘ b ∘ c of ``ops`` as its first operand and the (operation, right
    operand) pairs after it, left to right; read in a loop, so a long chain is no deep recursion."""
    rest = []
    while isinstance(node, ast.BinOp) and isinstance(node.op, ops):
        rest.append((node, node.right))
        node = node.left
    return node, rest[::-1]


def build(text: str, values: dict[str, Any] | None = None, *, nary: bool = False,
          title: str | None = None) -> tuple[Graph, Node]:
    """The graph of ``text`` and its output node. ``values`` gives the names' values (a name
    without one stays a symbol); ``nary`` keeps a + b + c as one three-input gate."""
    values = dict(values or {})
    tree = parse(text)
    g = Graph(title or f"f = {text}")
    leaves: dict[str, Node] = {}

    def leaf(name: str) -> Node:
        if name not in leaves:
            leaves[name] = g.input(name, values.get(name))
        return leaves[name]

    def walk(node: ast.expr) -> Node | sp.Expr:
        if isinstance(node, ast.Constant):
            return sp.Rational(repr(node.value)) if isinstance(node.value, float) else sp.Integer(node.value)
        if isinstance(node, ast.Name):
            return CONSTANTS[node.id] if node.id in CONSTANTS and node.id not in values else leaf(node.id)
        if isinstance(node, ast.UnaryOp):
            inner = walk(node.operand)
            if isinstance(node.op, ast.UAdd):
                return inner
            return -inner if not isinstance(inner, Node) else g.neg(inner)
        if isinstance(node, ast.Call):
            args = [walk(a) for a in node.args]
            return g.apply(functions()[node.func.id], *args)
        op = type(node.op)
        if op in (ast.Add, ast.Mult) and nary:
            first, rest = _spine(node, (op,))
            parts = [walk(p) for p in [first, *(right for _, right in rest)]]
            return g.apply("add" if op is ast.Add else "mul", *parts)
        first, rest = _spine(node, _BINOPS)
        value = walk(first)
        for binop, right in rest:
            value = combine(binop, value, walk(right))
        return value

    def combine(node: ast.BinOp, left: Node | sp.Expr, right: Node | sp.Expr) -> Node | sp.Expr:
        op = type(node.op)
        if not isinstance(left, Node) and not isinstance(right, Node):  # plain numbers: no gate
            if op in (ast.Div, ast.Pow) and right == 0:
                raise _fail(node, text, "division by zero" if op is ast.Div else "a power of zero is not a gate")
            reason = power_refusal(left, right) if op is ast.Pow else None
            if reason is None:  # checked before a power is computed, after anything else (cheap) is
                value = _ARITH[op](left, right)
                reason = exact_size_refusal(value)
            if reason is not None:
                raise _fail(node, text, reason)
            return value
        if op is ast.Div and not isinstance(left, Node) and left == 1:
            return g.recip(right)
        gate = {ast.Add: "add", ast.Sub: "sub", ast.Mult: "mul", ast.Div: "div", ast.Pow: "pow"}[op]
        return g.apply(gate, left, right)

    # The inputs first, in the order they are written: a user's name like f2 is then taken
    # before the gates are named f1, f2, ...
    calls = {id(c.func) for c in ast.walk(tree) if isinstance(c, ast.Call)}
    for n in sorted((n for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in calls),
                    key=lambda n: (n.lineno, n.col_offset)):
        if n.id not in CONSTANTS or n.id in values:
            leaf(n.id)
    out = walk(tree)
    unknown = sorted(set(values) - set(leaves))
    if unknown:
        raise FormulaError(f"formula {quote(text)}: {unknown[0]!r} does not appear in it")
    if not isinstance(out, Node):
        out = g.mul(1, out, name="f")
    return g, out


_ARITH = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
          ast.Div: lambda a, b: a / b, ast.Pow: lambda a, b: a ** b}


def build_sympy(expr: sp.Expr, values: dict[str, Any] | None = None) -> tuple[Graph, Node]:
    """The graph of a SymPy expression as SymPy holds it: one gate per operation (sums and
    products two inputs at a time), equal subexpressions shared as one node."""
    if not isinstance(expr, sp.Expr):
        raise FormulaError(f"expected a SymPy expression, got {type(expr).__name__}")
    values = dict(values or {})
    g = Graph(f"f = {sp.sstr(expr)}")
    made: dict[sp.Expr, Node | sp.Expr] = {}

    def walk(e: sp.Expr) -> Node | sp.Expr:
        if e in made:
            return made[e]
        if e.is_Symbol:
            out = g.input(e.name, values.get(e.name))
        elif e.is_number and not e.free_symbols:
            out = e
        elif e.is_Add or e.is_Mul:
            parts = [walk(a) for a in e.args]
            out = parts[0]
            for p in parts[1:]:
                out = g.apply("add" if e.is_Add else "mul", out, p)
        elif e.is_Pow:
            base, ex = walk(e.base), walk(e.exp)
            out = g.recip(base) if ex == -1 else g.apply("sqrt", base) if ex == sp.Rational(1, 2) \
                else g.pow(base, ex)
        elif e.func in sympy_gates() and len(e.args) == (sympy_gates()[e.func].arity or 2):
            out = g.apply(sympy_gates()[e.func], *(walk(a) for a in e.args))
        else:
            raise FormulaError(f"{sp.sstr(e)}: {e.func.__name__} is not one of symderiv's gates")
        made[e] = out
        return out

    out = walk(expr)
    unknown = sorted(set(values) - {n.name for n in g.nodes if n.is_input})
    if unknown:
        raise FormulaError(f"{unknown[0]!r} does not appear in the expression")
    return g, out if isinstance(out, Node) else g.mul(1, out, name="f")


def derive(formula: str | sp.Expr, values: dict[str, Any] | None = None, *, wrt: list[str] | None = None,
           convention: str = "pytorch", nary: bool = False, **named: Any) -> Solution:
    """The worked solution of ``formula`` (text, or a SymPy expression): forward, local
    derivatives, backward, gradients.

    Values come as a dict or as keywords (``derive("(x + y) * z", x=-2, y=5, z=-4)``); a name
    without a value stays a symbol. ``wrt`` limits the Gradients section and the results to
    those inputs (the backward pass still shows every step).
    """
    if values is not None and not isinstance(values, Mapping):
        raise ParameterError(f"derive: values is a dict of name to value, got {type(values).__name__}")
    given = {**(values or {}), **named}
    odd = next((k for k in given if not isinstance(k, str)), None)
    if odd is not None:
        raise ParameterError(f"derive: the names in values are text, got a key of type {type(odd).__name__}")
    if isinstance(wrt, str):
        wrt = [wrt]
    if wrt is not None and (not isinstance(wrt, (list, tuple)) or not all(isinstance(w, str) for w in wrt)):
        raise ParameterError(f"derive: wrt is a list of input names, got {type(wrt).__name__}")
    g, out = build_sympy(formula, given) if isinstance(formula, sp.Basic) else build(formula, given, nary=nary)
    sol = g.solution(out, convention=convention, label="f", model="derive",
                     parameters=given)
    if wrt:
        missing = [w for w in wrt if w not in sol.results]
        if missing:
            raise FormulaError(f"--wrt {missing[0]}: not an input of the formula")
        def kept(s: Section) -> Section:
            return dataclasses.replace(s, items=tuple(i for i in s.items if isinstance(i, Step) and i.quantity.node in wrt))

        sections = tuple(kept(s) if s.kind is SectionKind.RESULTS else s for s in sol.sections)
        sol = dataclasses.replace(sol, sections=sections,
                                  results={k: v for k, v in sol.results.items() if k in wrt})
    return sol
