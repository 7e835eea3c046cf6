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
from symderiv.embed import parse_block
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


# ----- the variants with non-zero gradients (issue 14): xor-mlp and dot-attention ----------------
_DIRECTIVE = re.compile(r"^```\{symderiv\} (\S+)\n(.*?)^```", re.M | re.S)
_REMARK_SET = re.compile(r"--set '([^']*)'|--set ([^\s:),]+)")


def _directives(model: str) -> list[dict[str, str]]:
    """The ``:set:`` of each worked solution on the model's page, in order."""
    page = (MODEL_PAGES / f"{model}.md").read_text(encoding="utf-8")
    return [dict(parse_block(f"{name}\n{body}").settings) for name, body in _DIRECTIVE.findall(page)
            if name == model]


def _remark_settings(model: str) -> dict[str, str]:
    """The settings the default solution's remarks name (``--set 'NAME=VALUE'``)."""
    remarks = " ".join(item["text"] for section in symderiv.solve(model).to_dict()["sections"]
                       for item in section["items"] if item["type"] == "remark")
    pairs = [a or b for a, b in _REMARK_SET.findall(remarks)]
    assert pairs, f"no remark of {model} names a setting"
    return dict(p.split("=", 1) for p in pairs)


def _xor_torch_gradients(settings: dict[str, str]) -> dict[str, float]:
    """The xor-mlp network written out in torch float64: h = ReLU(W1·x + b1), ŷ = ReLU(w2·h + b2),
    L = (ŷ − y)²/2 at the row's x and XOR target; autograd's gradient of each parameter."""
    import torch

    W1 = [[float(v) for v in row.split(",")] for row in re.findall(r"\[([^\[\]]+)\]", settings["W1"])]
    x1, x2, y = ((0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 0))[int(settings["row"])]  # XOR's truth table
    params = {"W1": torch.tensor(W1, dtype=torch.float64), "b1": torch.tensor([0.0, -1.0], dtype=torch.float64),
              "w2": torch.tensor([1.0, -2.0], dtype=torch.float64), "b2": torch.tensor(0.0, dtype=torch.float64)}
    for t in params.values():
        t.requires_grad_(True)
    h = torch.relu(params["W1"] @ torch.tensor([x1, x2], dtype=torch.float64) + params["b1"])
    yhat = torch.relu(params["w2"] @ h + params["b2"])
    ((yhat - y) ** 2 / 2).backward()
    g = {k: t.grad for k, t in params.items()}
    return {**{f"W1_{i + 1}{j + 1}": float(g["W1"][i, j]) for i in range(2) for j in range(2)},
            **{f"b1_{i + 1}": float(g["b1"][i]) for i in range(2)},
            **{f"w2_{j + 1}": float(g["w2"][j]) for j in range(2)}, "b2": float(g["b2"])}


def _attention_torch_gradients(settings: dict[str, str]) -> dict[str, float]:
    """Dot-product attention in torch float64 at the page's default H and s: c = Hᵀ·softmax(H·s),
    L = upstream·c; autograd's gradient of each entry of H and s."""
    import torch

    upstream = torch.tensor([float(v) for v in settings["upstream"].strip("[]").split(",")], dtype=torch.float64)
    H = torch.tensor([[1.0, 0, 1], [0, 1, 1], [1, 1, 0]], dtype=torch.float64, requires_grad=True)
    s = torch.tensor([1.0, 0, 1], dtype=torch.float64, requires_grad=True)
    (upstream @ (H.T @ torch.softmax(H @ s, dim=0))).backward()
    return {**{f"H_{i + 1}_{j + 1}": float(H.grad[i, j]) for i in range(3) for j in range(3)},
            **{f"s_{j + 1}": float(s.grad[j]) for j in range(3)}}


_TORCH = {"xor-mlp": _xor_torch_gradients, "dot-attention": _attention_torch_gradients}
#: The catalogue's defaults and the gradients that are 0 there (the remark says why): every one at row
#: 0 of the notes' weights; ∂L/∂s (and so ∂L/∂e) for the sum of the context entries, an upstream of ones.
_ZERO_AT = {"xor-mlp": ({"W1": "[[1, 1], [1, 1]]", "row": "0"}, ""),
            "dot-attention": ({"upstream": "[1, 1, 1]"}, "s_")}


@pytest.mark.parametrize("model", sorted(_TORCH))
def test_a_zero_backward_pass_has_a_page_variant_where_it_is_not_zero(model):
    pytest.importorskip("torch")
    default, *variants = _directives(model)
    assert default == {} and len(variants) == 1, "the page shows the default, then one variant"
    settings = variants[0]
    assert settings == _remark_settings(model), "the page's variant is the one the remark names"
    at, zero = _ZERO_AT[model]
    assert all(v == 0 for name, v in _TORCH[model](at).items() if name.startswith(zero))
    expected = _TORCH[model](settings)
    sol = symderiv.solve(model, **settings)
    assert set(sol.results) == set(expected)
    for name, want in expected.items():
        assert float(sol.results[name].approx) == pytest.approx(want, rel=1e-12, abs=1e-15), name
    nonzero = [name for name, v in expected.items() if v != 0]
    assert nonzero and (model != "dot-attention" or all(expected[f"s_{j}"] != 0 for j in (1, 2, 3)))


def _shown(x: float) -> str:
    """|x| as the page shows a float: 4 significant digits, no trailing zeros."""
    return f"{abs(x):.4g}" if x != int(x) else str(abs(int(x)))


@pytest.mark.parametrize("model", sorted(_TORCH))
def test_the_page_shows_the_variant_s_gradients(docs_html, model):
    pytest.importorskip("torch")
    html = (docs_html / "models" / f"{model}.html").read_text(encoding="utf-8")
    solutions = html.split('<section class="symderiv">')
    assert len(solutions) == 3, "the default and the variant"
    assert html.count('class="symderiv-diagram"') == 2  # each drawn, as the default is
    results = re.search(r'<section class="symderiv-results">(.*?)</section>', solutions[2], re.S).group(1)
    shown = set(re.findall(r"<mn>([^<]*)</mn>", results))
    expected = _TORCH[model](_directives(model)[1])
    assert {_shown(v) for v in expected.values() if v != 0} <= shown
