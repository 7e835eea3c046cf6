"""Plain text of long worked steps: folding a step wider than the terminal always ends (a term
longer than the width once recursed forever) and never loses a character."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from symderiv.render.text import WIDTH, step_lines

names = st.text(alphabet="abcxyzW_0123456789", min_size=1, max_size=400)
atoms = st.one_of(names, st.builds(lambda a, b: f"[[{a}, {b}], [{b}, {a}]]", names, names))
products = st.lists(atoms, min_size=1, max_size=4).map(" · ".join)
terms = st.one_of(products, products.map(lambda p: f"({p} + {p})"))
sums = st.lists(terms, min_size=1, max_size=6).map(" + ".join)


@settings(max_examples=200, deadline=None)
@given(lhs=names, links=st.lists(st.tuples(st.sampled_from(["=", "≈"]), sums), min_size=1, max_size=4))
def test_long_sums_and_products_fold_and_keep_every_character(lhs, links):
    lines = step_lines(lhs, links)
    written = lhs + "".join(f" {relation} {link}" for relation, link in links)
    assert "".join("".join(lines).split()) == "".join(written.split())
    if len(links) < 2:
        assert lines == [written]  # one relation: one line, however long
        return
    for line in lines:  # a line is over the width only when it has no sum left to break
        assert len(line) <= WIDTH or not top_level_plus(line.lstrip()[2:])


def top_level_plus(line: str) -> bool:
    """Whether ``line`` has a `` + `` outside every bracket."""
    level = 0
    for i, c in enumerate(line):
        if level == 0 and line.startswith(" + ", i):
            return True
        level += (c in "([") - (c in ")]")
    return False


def test_a_sum_of_two_terms_each_wider_than_the_terminal():
    a, b = "a" * 170, "b" * 170
    lines = step_lines("L", [("=", f"{a} + {b}"), ("=", "3")])
    assert lines[0].endswith(a) and lines[1].strip() == f"+ {b}" and lines[2].strip() == "= 3"
