"""Issue 15: exact numbers are bounded where they are made (inputs, folded numbers, gate values),
floats beyond what mpmath holds are "not a finite real number", numbers are read with ASCII
digits over a double's range, MathML carries no links, and derive's arguments are typed.

Expected values come from hand derivations written here or from mpmath at 60 digits."""

from __future__ import annotations

import contextlib
import io
import re
import xml.etree.ElementTree as ET
from fractions import Fraction

import mpmath
import pytest
import sympy as sp
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import symderiv
from symderiv import numeric
from symderiv.cli import main
from symderiv.render.mathml import to_mathml
from symderiv.values import (MAX_EXACT_DIGITS, MAX_EXACT_EXPONENT, check_power, digits_of, exact_size_refusal,
                             parse_value, power_refusal, quote, shorten, to_exact)


def one_line_error(argv: list[str]) -> str:
    """The CLI's stderr for ``argv``, checked to be one error line with status 2 and no output."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    assert code == 2 and out.getvalue() == "" and err.getvalue().count("\n") == 1, err.getvalue()
    return err.getvalue()


# ----- the helpers in values.py, directly ------------------------------------------------------
@pytest.mark.parametrize("n", [0, 1, 9, 10, 99, 100, 10**17 - 1, 10**17, 2**64, 10**3999, 10**3999 - 1, -10**50])
def test_digits_of_counts_decimal_digits(n):
    assert digits_of(n) == len(str(abs(n)))


def test_digits_of_a_number_too_long_to_print():
    assert digits_of(10**5000) == 5001 and digits_of(10**5000 - 1) == 5000  # 10^k has k + 1 digits


def test_exact_size_refusal_at_the_limit():
    assert MAX_EXACT_DIGITS == 4000
    assert exact_size_refusal(sp.Integer(10) ** 3999) is None  # 4,000 digits: kept
    assert exact_size_refusal(sp.Rational(1, 10**3999) * sp.Symbol("x")) is None
    assert "4,001 digits" in exact_size_refusal(sp.Integer(10) ** 4000)
    assert "4,001 digits" in exact_size_refusal(sp.Rational(3, 10**4000))  # the denominator counts too
    assert "4,001 digits" in exact_size_refusal(sp.exp(sp.Integer(10) ** 4000))  # anywhere in the tree


def test_power_refusal_counts_the_digits_of_the_result_before_computing_it():
    # 3^10000 has floor(10000 log10 3) + 1 digits (mpmath, not symderiv, says how many)
    with mpmath.workdps(30):
        digits = int(mpmath.floor(10000 * mpmath.log10(3))) + 1
    assert digits == 4772
    assert f"about {digits:,} digits" in power_refusal(sp.Integer(3), sp.Integer(10000))
    assert power_refusal(sp.Integer(2), sp.Integer(10000)) is None  # 3,011 digits
    assert power_refusal(sp.Integer(3), sp.Integer(-8000)) is None  # 1/3^8000: 3,818 digits
    assert "about 4,772 digits" in power_refusal(sp.Integer(3), sp.Integer(-10000))
    assert power_refusal(sp.Integer(1), sp.Integer(10) ** 100) is None  # 1, 0 and -1 stay small
    assert power_refusal(sp.Integer(-1), sp.Integer(10) ** 100) is None
    assert power_refusal(sp.pi, sp.Integer(10) ** 9) is None  # stays pi^1000000000, nothing to compute
    assert power_refusal(sp.exp(2), sp.Integer(10) ** 100) is None  # SymPy writes exp(2*10^100)
    assert power_refusal(3 * sp.exp(2), sp.Integer(10) ** 100) is not None  # but would compute 3^(10^100)
    assert "exponent beyond ±10,000" in power_refusal(sp.Integer(10), sp.Integer(10) ** 300)
    assert MAX_EXACT_EXPONENT == 10_000
    # the base is a number of 4,772 digits (too long to print): described by its size
    base = sp.Integer(3) ** 10000
    assert power_refusal(base, sp.Integer(10000)).startswith("(a number of 4,772 digits)^10000:")
    # (2^10000)^10000 has 10^8 log10 2 + 1 = 30,103,000 digits: refused before it is computed
    assert "30,103,000 digits" in power_refusal(sp.Integer(2) ** 10000, sp.Integer(10000))
    # an irrational base: sqrt(3)^(10^9) would be 3^(5*10^8)
    assert power_refusal(sp.sqrt(3), sp.Integer(10) ** 9) is not None
    with pytest.raises(symderiv.GraphError, match="30,103,000 digits"):
        check_power(sp.Integer(2) ** 10000, sp.Integer(10000))
    check_power(sp.Symbol("x"), sp.Integer(10) ** 9)  # a symbol: nothing is computed


def test_shorten_and_quote():
    assert shorten("abc", 5) == "abc" and shorten("abcdefgh", 5) == "abcd…"
    assert quote("ab") == "'ab'" and quote("x" * 61) == repr("x" * 57) + "…"


# ----- inputs --------------------------------------------------------------------------------
def test_an_input_too_long_to_print_is_refused():
    with pytest.raises(symderiv.ParameterError, match=r"^sigmoid-neuron: w0: an exact number of 5,001 digits"):
        symderiv.solve("sigmoid-neuron", w0=10**5000)
    with pytest.raises(symderiv.ParameterError, match="4,001 digits"):
        symderiv.derive("x", x=Fraction(1, 10**4000))
    with pytest.raises(symderiv.ParameterError, match="4,001 digits"):
        to_exact(sp.Integer(10) ** 4000, "x")
    # (x + y) z at x = 10^3999 (4,000 digits), y = 5, z = -4: d/dz = x + y
    assert symderiv.solve("graph-add-mul", x=10**3999).results["z"].exact == 10**3999 + 5


@pytest.mark.parametrize("text", ["١", "１", "٣/٤", "1e٣", "[1, ٢]", "²"])
def test_only_ascii_digits_are_numbers(text):
    with pytest.raises(symderiv.ParameterError, match="expected"):
        parse_value(text, "w0")
    with pytest.raises(symderiv.ParameterError):
        symderiv.solve("sigmoid-neuron", w0=text)


def test_every_double_is_accepted_and_nothing_beyond():
    assert parse_value("5e-324") == sp.Rational(5, 10**324)
    assert to_exact(5e-324) == sp.Rational(5, 10**324)  # the float's shortest decimal form
    assert parse_value("1.7976931348623157e308") == 17976931348623157 * sp.Integer(10) ** 292
    assert parse_value("0e99999") == 0
    assert parse_value("4.9406564584124654e-324") > 0  # 2^-1074, the smallest subnormal, as Python writes it
    assert parse_value("3e-324") == sp.Rational(3, 10**324)  # 2^-1075 ≈ 2.47e-324 < 3e-324: a double reads 2^-1074
    for bad in ("2e-324", "1000e-327", "1.8e308", "1e999999", "-1e309", "1e400"):  # below 2^-1075 a double reads 0
        with pytest.raises(symderiv.ParameterError, match="beyond the range of a double"):
            parse_value(bad, "x")
    assert symderiv.derive("x*2", x="5e-324").results["x"].exact == 2


def test_a_long_value_in_an_error_is_quoted_by_its_start():
    with pytest.raises(symderiv.ParameterError) as info:
        parse_value("[" + "1," * 5000 + "x]", "v")
    assert len(str(info.value)) < 200 and "…" in str(info.value)


# ----- formulas: folded numbers and gate values ---------------------------------------------
@pytest.mark.parametrize("formula, message", [
    ("2^2^2^2^2^2", "2^65536: an exact power with an exponent beyond ±10,000 is too large to compute at column 3"),
    ("3^-10000", "an exact power of about 4,772 digits"),
    ("(1/2)^100000", "exponent beyond ±10,000"),
    ("10**100000", "exponent beyond ±10,000"),
    ("10^3000*10^3000", "an exact number of 6,001 digits"),
])
def test_number_only_arithmetic_is_bounded_before_it_is_computed(formula, message):
    with pytest.raises(symderiv.FormulaError) as info:
        symderiv.derive(formula)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_gate_values_are_bounded():
    with pytest.raises(symderiv.GraphError, match="4,772 digits, more than the limit of 4,000"):
        symderiv.derive("x^10000", x=3)
    with pytest.raises(symderiv.GraphError, match="30,103,000 digits"):
        symderiv.derive("(x^10000)^10000", x=2)
    # x^10000 at x = 2 is kept: d/dx = 10000 x^9999 = 10000 * 2^9999 (3,011 digits, 3,014 with the factor)
    assert symderiv.derive("x^10000", x=2).results["x"].exact == 10000 * 2**9999
    for fmt in ("text", "json", "latex"):
        symderiv.derive("x^10000", x=2).render(fmt)


def test_a_pow_gate_names_the_power_it_refuses():
    with pytest.raises(symderiv.GraphError, match=r"^3\^10000: an exact power of about 4,772 digits"):
        symderiv.derive("x^10000", x=3)


def test_a_long_value_at_a_gate_is_shown_by_its_start():
    assert len(one_line_error(["derive", "sqrt(x)", "--set", "x=-1e-300"])) < 200


@pytest.mark.parametrize("formula, gate", [
    ("exp(exp(exp(1000)))", "f2 = exp(f1)"),
    ("exp(exp(1000))", "f2 = exp(f1)"),
    ("sin(exp(50000))", "f2 = sin(f1)"),
    ("exp(x)^(10^100)", "f2 = f1^"),
])
def test_floats_beyond_mpmath_are_not_finite_real_numbers(formula, gate):
    err = one_line_error(["derive", formula, "--set", "x=2"] if re.search(r"\bx\b", formula) else ["derive", formula])
    assert err.startswith(f"symderiv: error: {gate}") and "is not a finite real number" in err


def test_numeric_bounds_directly():
    env = {}
    with pytest.raises(symderiv.NotReal):
        numeric.evaluate(sp.exp(sp.Integer(10) ** 7), env)  # e^(10^7) = 10^4342944.8...
    with pytest.raises(symderiv.NotReal):
        numeric.evaluate(sp.exp(-sp.Integer(10) ** 7), env)
    with pytest.raises(symderiv.NotReal):
        numeric.evaluate(sp.sin(sp.Pow(10, 10001, evaluate=False)), env)  # an angle of 10,002 digits
    with pytest.raises(symderiv.NotReal):
        numeric.evaluate(sp.Pow(sp.pi, sp.Integer(10) ** 100, evaluate=False), env)
    with pytest.raises(symderiv.GraphError, match="4,001 digits"):
        numeric.evaluate(sp.Integer(10) ** 4000, env)
    with mpmath.workdps(60):  # within the bounds, values as mpmath computes them
        assert abs(numeric.evaluate(sp.exp(-sp.Integer(10000)), env) / mpmath.exp(-10000) - 1) < mpmath.mpf(10) ** -45
        assert abs(numeric.evaluate(sp.sin(sp.Integer(10) ** 100), env) - mpmath.sin(mpmath.mpf(10) ** 100)) \
            < mpmath.mpf(10) ** -45
        tiny = sp.Pow(sp.Rational(1, 10**300), 3000, evaluate=False)  # 10^-900000: held
        assert numeric.evaluate(tiny, env) == mpmath.mpf(10) ** -900000 or \
            abs(numeric.evaluate(tiny, env) / mpmath.mpf(10) ** -900000 - 1) < mpmath.mpf(10) ** -45


# ----- derive's arguments -------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, message", [
    (dict(values=[1]), "derive: values is a dict of name to value, got list"),
    (dict(values={1: 2}), "derive: the names in values are text, got a key of type int"),
    (dict(wrt=5), "derive: wrt is a list of input names, got int"),
])
def test_derive_arguments_of_the_wrong_type_are_a_parameter_error(kwargs, message):
    with pytest.raises(symderiv.ParameterError) as info:
        symderiv.derive("x", **kwargs)
    assert str(info.value) == message


def test_derive_takes_one_name_for_wrt():
    assert list(symderiv.derive("x*y", x=2, y=3, wrt="y").results) == ["y"]


# ----- MathML ---------------------------------------------------------------------------------
ATTACKS = [r"\href{javascript:alert(1)}{x}", r"\style{background:url(http://example.invalid/)}{x}"]


@pytest.mark.parametrize("label", ATTACKS)
def test_labels_put_no_link_into_html(label):
    g = symderiv.Graph("t")
    x = g.input("x", 2, latex=label)
    f = g.mul(x, x, name="f")
    for page in (g.solution(f).to_html(), g.solution(f, label_latex=label).to_html()):
        assert "javascript" not in page and "url(" not in page and "href" not in page
        for block in re.findall(r"<math\b.*?</math>", page, re.S):
            ET.fromstring(block)


def test_every_link_and_event_attribute_is_dropped():
    root = ET.fromstring(to_mathml(r"\href{javascript:alert(1)}{x} + \style{color:red}{y}", "inline"))
    names = {a.rsplit("}", 1)[-1] for e in root.iter() for a in e.attrib}
    assert not names & {"href", "style", "src", "actiontype"} and not any(n.startswith("on") for n in names)
    assert [e.text for e in root.iter() if e.tag.endswith("mi")] == ["x", "y"]  # the text stays


@pytest.mark.parametrize("tex, error", [(r"\begin{matrix} x", "MissingEndError"), (r"\left( x", "ExtraLeftOrMissingRightError"),
                                        (r"x^", "MissingSuperScriptOrSubscriptError"), (r"\big", "StopIteration")])
def test_latex_that_latex2mathml_cannot_read_is_one_parameter_error(tex, error):
    with pytest.raises(symderiv.ParameterError) as info:
        to_mathml(tex, "inline")
    assert str(info.value) == f"LaTeX {tex!r} cannot be converted to MathML ({error})"


def test_a_label_latex2mathml_cannot_read_is_one_parameter_error_from_to_html():
    g = symderiv.Graph("t")
    x = g.input("x", 2, latex=r"\begin{matrix} x")
    with pytest.raises(symderiv.ParameterError, match=r"^LaTeX '\\\\begin\{align\*\}.*cannot be converted") as info:
        g.solution(g.mul(x, x, name="f")).to_html()
    assert "\n" not in str(info.value) and len(str(info.value)) < 200


def test_malformed_mathml_is_still_an_internal_error():
    with pytest.raises(symderiv.MathMLError):
        to_mathml(r"\unicode{x}", "inline")  # latex2mathml writes '&#x;', which is not XML


# ----- random number-only towers, nested exps and long products -----------------------------
# A formula is drawn as (text, expected) where expected(x) computes, with mpmath only, the pair
# (value, d/dx) node by node as the formula reads (forward mode); it is called only when symderiv
# gives a result, so mpmath is never asked for a value past symderiv's bounds.
def _number(text: str):
    def expected(x):  # at the caller's precision
        value = +mpmath.e if text == "e" else mpmath.mpf(Fraction(text).numerator) / Fraction(text).denominator
        return value, mpmath.mpf(0)
    return text, expected


_LEAVES = st.one_of(st.integers(0, 12).map(str), st.sampled_from(["0.5", "1/3", "2.5", "e"])).map(_number) | \
    st.just(("x", lambda x: (x, mpmath.mpf(1))))
_EXPONENTS = st.one_of(st.integers(0, 9), st.sampled_from([100, 1000, 4000, 10000, 100000, 10**6])).map(
    lambda n: _number(str(n)))


def _power(base, exponent):
    (tb, fb), (te, fe) = base, exponent

    def expected(x):
        (b, db), (n, dn) = fb(x), fe(x)
        value = mpmath.power(b, n)
        return value, n * mpmath.power(b, n - 1) * db + (value * mpmath.log(b) * dn if dn else 0)
    return f"({tb})^({te})", expected


def _exp(arg):
    t, f = arg

    def expected(x):
        a, da = f(x)
        return mpmath.exp(a), mpmath.exp(a) * da
    return f"exp({t})", expected


def _product(factors):
    def expected(x):
        value, d = mpmath.mpf(1), mpmath.mpf(0)
        for _, f in factors:
            a, da = f(x)
            value, d = value * a, d * a + value * da
        return value, d
    return "*".join(f"({t})" for t, _ in factors), expected


FORMULAS = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(st.tuples(inner, st.one_of(_EXPONENTS, inner)).map(lambda p: _power(*p)),
                            inner.map(_exp),
                            st.lists(inner, min_size=2, max_size=40).map(_product)),
    max_leaves=40)


@settings(max_examples=150, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(FORMULAS, st.sampled_from(["3", "-2", "7/5", "1", "1/2"]))
def test_random_towers_exps_and_products_give_a_result_or_a_symderiv_error(formula, x):
    text, expected = formula
    uses_x = re.search(r"\bx\b", text) is not None
    event(f"{len(text) // 50 * 50}+ characters")
    try:
        sol = symderiv.derive(text, x=x) if uses_x else symderiv.derive(text)
    except symderiv.SymderivError as e:
        assert "\n" not in str(e), str(e)
        event(type(e).__name__)
        return
    event("a result")
    sol.to_text()  # a result prints
    with mpmath.workdps(60):
        value, d = expected(mpmath.mpf(Fraction(x).numerator) / Fraction(x).denominator)
        forward, given_ = ([s for s in sol.sections if s.kind == kind][0] for kind in ("forward", "given"))
        got = forward.items[-1].approx if forward.items else given_.items[0].approx  # "x" alone has no gate
        assert abs(got - value) <= mpmath.mpf(10) ** -40 * max(1, abs(value)), (text, got, value)
        if uses_x:
            grad = sol.results["x"].approx
            assert abs(grad - d) <= mpmath.mpf(10) ** -35 * max(1, abs(d)), (text, grad, d)


def test_a_tie_is_decided_exactly():
    """1/3 and 0.333… (64 threes) differ by 1/(3·10^64): max routes everything to x, and no tie is
    claimed; x = y = 1/3 is a tie, said so, split ½/½ (PyTorch's convention)."""
    threes = "0." + "3" * 64
    near = symderiv.derive("max(x, y)", x=sp.Rational(1, 3), y=threes)
    assert "tie" not in near.to_text()
    assert near.results["x"].exact == 1 and near.results["y"].exact == 0
    tie = symderiv.derive("max(x, y)", x=sp.Rational(1, 3), y=sp.Rational(1, 3))
    assert "a tie in max" in tie.to_text()
    assert tie.results["x"].exact == sp.Rational(1, 2) and tie.results["y"].exact == sp.Rational(1, 2)
