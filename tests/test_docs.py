"""The documentation site: it builds with ``-W``, every model has its page, the command line and
the public API are documented in full."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

import symderiv
from symderiv.models import get_model

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
MODEL_PAGES = DOCS / "models"


class _Tables(HTMLParser):
    """The text of each cell of the table with a given id, row by row."""

    def __init__(self, table_id: str):
        super().__init__()
        self.table_id, self.depth, self.rows, self.cell = table_id, 0, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "table" and (self.depth or dict(attrs).get("id") == self.table_id):
            self.depth += 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if tag == "table" and self.depth:
            self.depth -= 1
        elif self.depth and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(self.cell.strip())
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def table_rows(html: str, table_id: str) -> list[list[str]]:
    parser = _Tables(table_id)
    parser.feed(html)
    return parser.rows


def test_every_page_is_built(docs_html):
    sources = sorted(p.relative_to(DOCS).with_suffix(".html") for p in DOCS.rglob("*.md"))
    assert Path("index.html") in sources
    missing = [str(p) for p in sources if not (docs_html / p).is_file()]
    assert missing == []


def test_every_model_has_a_page_and_no_page_lacks_a_model():
    pages = {p.stem for p in MODEL_PAGES.glob("*.md")} - {"index"}
    assert pages == set(symderiv.models())
    toctree = (MODEL_PAGES / "index.md").read_text(encoding="utf-8")
    for model in symderiv.models():
        assert re.search(rf"^{re.escape(model)}$", toctree, re.M), f"{model} is not in the models toctree"
        assert f"({model}.md)" in toctree, f"{model} is not in the models table"


@pytest.mark.parametrize("model", symderiv.models())
def test_a_model_page_shows_its_worked_solution(docs_html, model):
    html = (docs_html / "models" / f"{model}.html").read_text(encoding="utf-8")
    assert html.count('<math xmlns="http://www.w3.org/1998/Math/MathML" display="block"') >= 1
    rows = table_rows(html, f"parameters-{model}")
    assert rows[0] == ["parameter", "default", "accepts", "meaning"]
    assert [r[0] for r in rows[1:]] == [p.name for p in get_model(model).params]


@pytest.mark.parametrize("model", symderiv.models())
def test_a_model_with_a_graph_shows_its_diagram(docs_html, model):
    html = (docs_html / "models" / f"{model}.html").read_text(encoding="utf-8")
    drawn = re.search(r'<g id="g[0-9a-f]{8}-graph0" class="graph"', html) is not None
    assert drawn == (symderiv.solve(model).diagram is not None)


def test_the_parameter_table_shows_defaults_as_typed_after_set(docs_html):
    # the notes' numbers (CATALOGUE.md), as a user types them
    rows = {r[0]: r[1:] for r in table_rows((docs_html / "models" / "xor-mlp.html").read_text(encoding="utf-8"),
                                          "parameters-xor-mlp")[1:]}
    assert rows["W1"][:2] == ["[[1, 1], [1, 1]]", "2×2 matrix"]
    assert rows["b1"][0] == "[0, -1]"
    assert rows["row"][1] == "whole number 0–3"
    assert rows["convention"][1] == "one of pytorch, tensorflow, half"
    rows = {r[0]: r[1:] for r in table_rows((docs_html / "models" / "sigmoid-chain.html").read_text(encoding="utf-8"),
                                          "parameters-sigmoid-chain")[1:]}
    assert rows["w"][:2] == ["1/2", "number or vector"]
    assert rows["depth"][0] == "—"


def _help(*command: str) -> str:
    run = subprocess.run([sys.executable, "-m", "symderiv.cli", *command, "--help"], cwd=ROOT,
                         capture_output=True, text=True, check=True)
    return run.stdout


def test_the_cli_page_names_every_command_option_and_format():
    page = (DOCS / "cli.md").read_text(encoding="utf-8")
    commands = re.search(r"\{([a-z,]+)\}", _help()).group(1).split(",")
    assert {"list", "solve", "derive"} <= set(commands)
    for command in commands:
        assert f"symderiv {command}" in page, f"the CLI page does not show 'symderiv {command}'"
        for option in set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*|-[a-z])\b", _help(command))) - {"-h", "--help"}:
            assert f"`{option}" in page or f" {option} " in page, f"the CLI page does not name {command} {option}"
    for fmt in symderiv.FORMATS:
        assert f"`{fmt}`" in page, f"the CLI page does not name the format {fmt}"


def test_the_api_page_documents_every_public_name(docs_html):
    html = (docs_html / "api.html").read_text(encoding="utf-8")
    missing = [name for name in symderiv.__all__ if f'id="symderiv.{name}"' not in html]
    assert missing == []


def test_the_cli_page_links_the_error_table(docs_html):
    html = (docs_html / "cli.html").read_text(encoding="utf-8")
    assert 'href="errors.html"' in html
