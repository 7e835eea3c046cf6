"""Embedding: the block syntax (symderiv.embed), the Python-Markdown extension, superfences, and a
real ProperDocs site build."""

import logging
import math
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from symderiv.embed import CSS, EmbedError, embed, parse_block, parse_settings, split_settings
from symderiv.errors import ParameterError, SymderivError, UnknownModelError

ROOT = Path(__file__).resolve().parents[1]
NS = "{http://www.w3.org/1998/Math/MathML}"
LOGGER = "mkdocs.symderiv"


def sigma(z):
    return 1 / (1 + math.exp(-z))


def numbers(html):
    """The <mn> texts of every <math> block, each block parsed as XML."""
    blocks = re.findall(r"<math\b.*?</math>", html, re.S)
    return {e.text for b in blocks for e in ET.fromstring(b).iter(NS + "mn")}


# w0=3, x0=-2 (w1=-3, x1=-2, w2=-3 by default): z = -6 + 6 - 3 = -3, f = σ(-3), ∂f/∂w0 = x0·f(1 - f)
F = sigma(-3)
EXPECTED = {f"{F:.4g}", f"{math.exp(3):.4g}", f"{abs(-2 * F * (1 - F)):.4g}"}
BLOCK = "sigmoid-neuron\n:set: w0=3 x0=-2\n"


# ---- the block syntax -------------------------------------------------------------------------

def test_settings_split_on_spaces_outside_brackets():
    assert split_settings("w0=2  x0=-1\nW1=[[1, 1],\n   [1,  1]] row=2") == \
        ["w0=2", "x0=-1", "W1=[[1, 1], [1, 1]]", "row=2"]
    assert parse_settings("x=1/3 staging=sigmoid") == {"x": "1/3", "staging": "sigmoid"}
    assert parse_settings("") == {}


@pytest.mark.parametrize("text, message", [
    ("w0 = 2", "expected NAME=VALUE"),
    ("w0=", "w0 has no value"),
    ("w0=1 w0=2", "w0 is given twice"),
    ("W=[[1,2]", "'[' is never closed"),
    ("W=[1]]", "']' with no '['"),
    ("2=3", "expected NAME=VALUE"),
])
def test_bad_settings(text, message):
    with pytest.raises(EmbedError, match=re.escape(message)):
        parse_settings(text)


def test_block_options_reach_the_solution():
    block = parse_block("\nxor-mlp\n:set: W1=[[2, 1],\n    [1, 1]] row=3\n:digits: 6\n:sections: given, results\n:diagram: no\n")
    assert (block.model, block.digits, block.sections, block.diagram) == \
        ("xor-mlp", 6, ("given", "results"), False)
    shown = embed(block)
    assert [s.kind for s in shown.solution.sections] == ["given", "results"]
    assert shown.solution.parameters["W1"] == [[2, 1], [1, 1]] and shown.solution.parameters["row"] == 3
    assert "Forward pass" not in shown.html and "Forward pass" not in shown.latex
    assert parse_block("sigmoid-neuron\n:diagram:").diagram is True


def test_the_values_set_are_in_the_mathml():
    assert EXPECTED <= numbers(embed(parse_block(BLOCK)).html)


@pytest.mark.parametrize("text, error, message", [
    ("", EmbedError, "needs a model id"),
    (":set: x=1", EmbedError, "needs a model id"),
    ("sigmoid neuron", EmbedError, "a model id alone"),
    ("sigmoid-neuron\nset: x=1", EmbedError, "line 2: expected ':option: value'"),
    ("sigmoid-neuron\n:colour: red", EmbedError, "unknown option :colour:"),
    ("sigmoid-neuron\n:digits: 3\n:digits: 4", EmbedError, ":digits: is given twice"),
    ("sigmoid-neuron\n:digits: four", EmbedError, ":digits: expected a whole number from 1 to 30"),
    ("sigmoid-neuron\n:digits: 31", EmbedError, ":digits: expected a whole number from 1 to 30"),
    ("sigmoid-neuron\n:sections:", EmbedError, "name at least one section"),
    ("conv2d\n:sections: forward local", EmbedError, "conv2d has no section 'local'"),
    ("sigmoid-neuron\n:sections: forward backwards", EmbedError,
     ":sections: no section kind is called 'backwards'; the kinds are given forward local backward results"),
    ("sigmoid-neuron\n:diagram: maybe", EmbedError, ":diagram: expected yes or no"),
    ("dropout\n:diagram:", EmbedError, "dropout has no computational graph"),
    ("no-such-model", UnknownModelError, "unknown model 'no-such-model'"),
    ("sigmoid-neuron\n:set: w0=__import__('os')", ParameterError, "w0: expected a number"),
    ("sigmoid-neuron\n:set: colour=1", ParameterError, "unknown parameter 'colour'"),
])
def test_bad_blocks_raise_one_line(text, error, message):
    with pytest.raises(error, match=re.escape(message)) as e:
        embed(parse_block(text))
    assert isinstance(e.value, SymderivError) and "\n" not in str(e.value)


def test_the_css_only_styles_solutions():
    # a host page's own elements are left alone: every selector is under .symderiv or is ours
    selectors = [sel.strip() for rule in CSS.split("}") if rule.strip() for sel in rule.split("{")[0].split(",")]
    assert selectors and all(re.match(r"(\.symderiv |figure\.symderiv-diagram|div\.symderiv-error)", s)
                             for s in selectors), selectors
    assert '.symderiv mtd[columnalign="left"] { text-align: -webkit-left; }' in CSS  # MATHML.md's alignment


# ---- Python-Markdown --------------------------------------------------------------------------

markdown = pytest.importorskip("markdown")

PAGE = f"""\
# A "worked" example -- with smarty

```symderiv
{BLOCK}```

*[pass]: abbr must not reach into the solution's "Forward pass" heading

````markdown
```symderiv
no-such-model
```
````

~~~symderiv
graph-add-mul
:sections: results
~~~
"""


def test_fenced_blocks_become_mathml_untouched_by_other_extensions(caplog):
    exts = ["symderiv.markdown", "smarty", "attr_list", "abbr", "toc", "md_in_html", "fenced_code", "tables"]
    with caplog.at_level(logging.WARNING):
        out = markdown.markdown(PAGE, extensions=exts)
    assert not caplog.records
    assert embed(parse_block(BLOCK)).html in out  # the stashed HTML, byte for byte
    assert embed(parse_block("graph-add-mul\n:sections: results")).html.strip() in out
    assert EXPECTED <= numbers(out)
    assert out.count("<style>") == 1 and ".symderiv mtd[columnalign" in out
    assert "&ldquo;worked&rdquo;" in out  # smarty did run on the page's own text
    assert "<abbr" not in out
    # the ````markdown example shows the syntax as code; it is not rendered
    assert re.search(r"<pre><code[^>]*>```symderiv\nno-such-model\n```", out)


def test_css_once_per_page_and_can_be_left_out():
    md = markdown.Markdown(extensions=["symderiv.markdown"])
    two = f"```symderiv\n{BLOCK}```\n\n```symderiv\n{BLOCK}```\n"
    assert md.convert(two).count("<style>") == 1
    assert md.convert(two).count("<style>") == 1  # the next page gets it again
    out = markdown.markdown(two, extensions=["symderiv.markdown"], extension_configs={"symderiv.markdown": {"css": False}})
    assert "<style>" not in out and out.count('<section class="symderiv">') == 2


@pytest.mark.parametrize("body, line, message", [
    ("no-such-model", 3, "unknown model 'no-such-model'"),
    ("sigmoid-neuron\n:set: w0=abc", 3, "w0: expected a number"),
])
def test_a_bad_block_is_logged_and_shown(caplog, body, line, message):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        out = markdown.markdown(f"Text.\n\n```symderiv\n{body}\n```\n\nMore text.\n", extensions=["symderiv.markdown"])
    [record] = caplog.records
    assert record.name == LOGGER and record.levelno == logging.WARNING
    assert f"symderiv block at line {line}: " in record.getMessage() and message in record.getMessage()
    assert re.search(r'<div class="symderiv-error" role="alert"><strong>symderiv:</strong> [^<]*'
                     + re.escape(message.replace("'", "&#x27;")), out)
    assert "<math" not in out and "<p>More text.</p>" in out


def test_an_unclosed_block_is_an_error(caplog):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        out = markdown.markdown("```symderiv\nsigmoid-neuron\n", extensions=["symderiv.markdown"])
    assert "never closed" in caplog.records[0].getMessage() and "symderiv-error" in out


# ---- pymdownx.superfences ---------------------------------------------------------------------

def superfences(*extra):
    pytest.importorskip("pymdownx.superfences")
    from symderiv.markdown import fence_format, fence_validator
    fence = {"name": "symderiv", "class": "symderiv", "format": fence_format, "validator": fence_validator}
    return {"extensions": [*extra, "pymdownx.superfences"],
            "extension_configs": {"pymdownx.superfences": {"custom_fences": [fence]}}}


NESTED = f"- a list item\n\n    ```symderiv\n    {BLOCK.replace(chr(10), chr(10) + '    ')}```\n"


def test_superfences_formatter_renders_nested_fences():
    out = markdown.markdown(NESTED, **superfences())
    assert re.search(r"<li>.*<section class=\"symderiv\">", out, re.S) and EXPECTED <= numbers(out)
    assert "<style>" not in out  # without the extension: the site adds the CSS itself
    both = markdown.markdown(NESTED + f"\n```symderiv\n{BLOCK}```\n", **superfences("symderiv.markdown"))
    assert both.count("<style>") == 1 and both.count('<section class="symderiv">') == 2


def test_superfences_errors_are_logged_and_shown(caplog):
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        out = markdown.markdown('```{.symderiv digits="3"}\nsigmoid-neuron\n```\n\n'
                                "```symderiv\nsigmoid-neuron\n:set: x0=[1\n```\n", **superfences())
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2 and "not in the fence header: digits" in messages[0]
    assert "'[' is never closed" in messages[1]
    assert out.count('class="symderiv-error"') == 2 and "<math" not in out


def test_superfences_formatter_does_not_lose_an_internal_error(caplog, monkeypatch):
    def broken(block):
        raise RuntimeError("a bug")
    monkeypatch.setattr("symderiv.markdown.embed", broken)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        out = markdown.markdown(NESTED, **superfences())
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [(logging.ERROR, "symderiv block: RuntimeError: a bug")]
    assert 'class="symderiv-error"' in out and "a bug" in out


# ---- a ProperDocs site --------------------------------------------------------------------------

THEME = """\
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{{ page.title }}</title></head>
<body>{{ page.content }}</body></html>
"""
MKDOCS_YML = """\
site_name: symderiv test
theme:
  name: null
  custom_dir: theme
markdown_extensions:
  - symderiv.markdown
  - pymdownx.superfences:
      custom_fences:
        - name: symderiv
          class: symderiv
          format: !!python/name:symderiv.markdown.fence_format
          validator: !!python/name:symderiv.markdown.fence_validator
"""


def properdocs(site, *args):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "properdocs", "build", "-f", "mkdocs.yml", "-d", "site", *args],
                          cwd=site, capture_output=True, text=True, env=env)


@pytest.fixture
def site(tmp_path):
    pytest.importorskip("properdocs")
    pytest.importorskip("pymdownx")
    (tmp_path / "theme").mkdir()
    (tmp_path / "theme" / "main.html").write_text(THEME)
    (tmp_path / "mkdocs.yml").write_text(MKDOCS_YML)
    (tmp_path / "docs").mkdir()
    return tmp_path


def test_properdocs_strict_build_succeeds(site):
    (site / "docs" / "index.md").write_text(f"# Home\n\n```symderiv\n{BLOCK}```\n\n{NESTED}")
    run = properdocs(site, "--strict")
    assert run.returncode == 0, run.stderr
    page = (site / "site" / "index.html").read_text()
    assert page.count('<section class="symderiv">') == 2 and page.count("<style>") == 1
    assert EXPECTED <= numbers(page)


def test_properdocs_strict_build_fails_on_a_bad_block(site):
    (site / "docs" / "index.md").write_text(f"# Home\n\n```symderiv\n{BLOCK}```\n\n"
                                           "```symderiv\nsigmoid-neuron\n:set: w0=abc\n```\n")
    strict = properdocs(site, "--strict")
    assert strict.returncode != 0
    assert "symderiv block at line 8: sigmoid-neuron: w0: expected a number" in strict.stderr
    assert "Aborted with 1 warnings in strict mode" in strict.stdout + strict.stderr
    lenient = properdocs(site)
    assert lenient.returncode == 0
    page = (site / "site" / "index.html").read_text()
    assert 'class="symderiv-error"' in page and EXPECTED <= numbers(page)
