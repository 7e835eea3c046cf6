"""The Sphinx extension: real sphinx-build runs (reStructuredText and MyST pages, HTML and LaTeX)."""

import math
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

pytest.importorskip("sphinx")
pytest.importorskip("myst_parser")

from symderiv.embed import CSS  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
NS = "{http://www.w3.org/1998/Math/MathML}"


def sigma(z):
    return 1 / (1 + math.exp(-z))


def shown(x):
    """A float as the pages show it at 4 significant digits (its sign is a separate <mo>)."""
    return f"{abs(x):.4g}"


def write_site(path, rst, myst="# Other\n"):
    path.mkdir()
    (path / "conf.py").write_text('project = "t"\nextensions = ["myst_parser", "symderiv.sphinx"]\n')
    (path / "index.rst").write_text("Test\n====\n\n.. toctree::\n\n   other\n\n" + rst)
    (path / "other.md").write_text(myst)
    return path


def build(src, builder, *extra):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    return subprocess.run([sys.executable, "-m", "sphinx", "-b", builder, *extra, str(src), str(src / "_build" / builder)],
                          capture_output=True, text=True, env=env)


RST = """\
.. symderiv:: sigmoid-neuron
   :set: w0=3
      x0=-2
   :digits: 4
   :sections: forward results

.. symderiv:: graph-add-mul
   :set: x=1 y=2
   :sections: results
   :diagram:
"""
MYST = """\
# Other

```{symderiv} sigmoid-neuron
:set: w0=1/2 x0=4
```
"""


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if shutil.which("dot") is None:
        pytest.skip("the test site draws a diagram: it needs Graphviz's dot (Debian: graphviz)")
    return write_site(tmp_path_factory.mktemp("sphinx") / "src", RST, MYST)


def math_blocks(html):
    blocks = re.findall(r"<math\b.*?</math>", html, re.S)
    return [ET.fromstring(b) for b in blocks]  # each must parse as XML


def numbers(roots):
    return {e.text for r in roots for e in r.iter(NS + "mn")}


def test_html_build_has_native_mathml_with_the_values_set(site):
    run = build(site, "html", "-W")
    assert run.returncode == 0, run.stderr
    out = site / "_build" / "html"
    index = (out / "index.html").read_text()
    roots = math_blocks(index)
    assert len(roots) >= 2 and all(r.get("display") == "block" for r in roots if r.get("display") != "inline")
    # inline maths only in the headings (the titles' maths: f = (x + y)·z) and the notes' sentences
    outside = re.sub(r"<h([1-6])\b.*?</h\1>|<p class=\"note\">.*?</p>", "", index, flags=re.S)
    assert not any(r.get("display") == "inline" for r in math_blocks(outside))
    # w0=3, x0=-2 (the :set: continued on a second line; w1=-3, x1=-2, w2=-3 by default): z = 3·(-2) + (-3)(-2) - 3 = -3
    z = 3 * -2 + -3 * -2 - 3
    f = sigma(z)
    assert {shown(f), shown(math.exp(-z)), shown(-2 * f * (1 - f))} <= numbers(roots)  # f8, f6, ∂f/∂w0
    assert "Forward pass" in index and "Gradients" in index
    assert "Local derivatives" not in index and "Backward pass" not in index  # :sections:
    assert "\\begin{align" not in index and "\\frac" not in index  # not TeX for MathJax
    # the diagram of f = (x + y)·z at x=1, y=2, z=-4: q = 3, f = -12; ∂f/∂x = ∂f/∂y = ∂f/∂q = z = -4
    figures = re.findall(r'<figure class="symderiv-diagram">(<svg.*?</svg>)\s*</figure>', index, re.S)
    assert len(figures) == 1
    labels = [(t.text or "").replace("\u2212", "-")  # drawn with true minus signs
              for t in ET.fromstring(figures[0]).iter("{http://www.w3.org/2000/svg}text")]
    assert {"1", "2", "3", "-12"} <= set(labels) and labels.count("-4") >= 4
    # MyST page: w0=1/2 and x0=4: z = 2 + 6 - 3 = 5
    other = (out / "other.html").read_text()
    f = sigma(5)
    assert {shown(f), shown(math.exp(-5))} <= numbers(math_blocks(other))
    assert "Local derivatives" in other  # every section
    # the stylesheet: in _static, and linked from the pages
    assert (out / "_static" / "symderiv.css").read_text() == CSS
    for page in (index, other):
        assert re.search(r'<link rel="stylesheet"[^>]*href="_static/symderiv\.css', page)


def test_latex_build_has_the_latex_solution(site):
    run = build(site, "latex", "-W")
    assert run.returncode == 0, run.stderr
    tex = next((site / "_build" / "latex").glob("*.tex")).read_text()
    assert "\\usepackage{amsmath" in tex
    fragments = re.findall(r"\\begingroup\\allowdisplaybreaks\n(.*?)\\endgroup", tex, re.S)
    assert len(fragments) == 3
    assert "\\begin{align*}" in fragments[0]
    f = sigma(-3)
    assert f"\\approx {shown(f)}" in tex and f"\\approx {shown(sigma(5))}" in tex
    assert "<math" not in tex and "<svg" not in tex  # the diagram is left out of LaTeX
    if shutil.which("pdflatex") is None:
        return
    doc = site / "fragments.tex"
    doc.write_text("\\documentclass{article}\n\\usepackage{amsmath}\n\\begin{document}\n"
                   + "".join(f"\\begingroup\\allowdisplaybreaks\n{x}\\endgroup\n" for x in fragments)
                   + "\\end{document}\n")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", doc.name], cwd=site,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stdout[-3000:]


@pytest.mark.parametrize("rst, myst, where, message", [
    (".. symderiv:: no-such-model\n", "# Other\n", "index.rst:8", "unknown model 'no-such-model'"),
    ("Text.\n\n.. symderiv:: sigmoid-neuron\n   :set: w0=abc\n", "# Other\n", "index.rst:10", "w0: expected a number"),
    ("", "# Other\n\nText.\n\n```{symderiv} sigmoid-neuron\n:set: w0=1/0\n```\n", "other.md:5", "division by zero"),
    ("", "# Other\n\n```{symderiv} conv2d\n:sections: local\n```\n", "other.md:3", "conv2d has no section 'local'"),
    (".. symderiv:: sigmoid-neuron\n   :digits: 0\n", "# Other\n", "index.rst:8", ":digits: expected a whole number"),
    (".. symderiv:: dropout\n   :diagram:\n", "# Other\n", "index.rst:8", "dropout has no computational graph"),
])
def test_bad_input_is_a_warning_with_file_and_line(tmp_path, rst, myst, where, message):
    src = write_site(tmp_path / "src", rst, myst)
    strict = build(src, "dummy", "-W")
    assert strict.returncode != 0
    lines = [line for line in strict.stderr.splitlines() if "WARNING" in line]
    assert len(lines) == 1 and f"{where}: WARNING: symderiv: " in lines[0] and message in lines[0], strict.stderr
    assert "Traceback" not in strict.stderr + strict.stdout
    lenient = build(src, "dummy", "-E")
    assert lenient.returncode == 0 and message in lenient.stderr
