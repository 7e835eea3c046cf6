"""Computational-graph diagrams: DOT and SVG, values and gradients on the right wires.

Every expected number is derived by hand in the test (the CS231n examples, a linear autoencoder).
"""

import html
import importlib
import math
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from fractions import Fraction

import pytest

import symderiv
from symderiv.cli import main
from symderiv.diagram import merge
from symderiv.render.dot import FORWARD, GRADIENT, QUIET, svg_of_dot

SVG = "{http://www.w3.org/2000/svg}"
needs_dot = pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")


def parse(dot):
    """The DOT this project writes, read back: vertices by id as (kind, name, op, total gradient
    lines), and wires keyed by (tail name, head name) as (shape, green lines, red lines)."""
    vertices, wires = {}, {}
    for line in dot.splitlines():
        m = re.fullmatch(r"  (\w+) \[(shape=\w+).*label=<(.*)>\];", line)
        if m:
            vid, shape, label = m.groups()
            reds = [html.unescape(s).replace("−", "-")
                    for s in re.findall(f'<FONT COLOR="{GRADIENT}" POINT-SIZE="10">(.*?)</FONT>', label)]
            if shape == "shape=ellipse":
                op = html.unescape(re.search(r'<FONT POINT-SIZE="16">(.*?)</FONT>', label).group(1))
                caption = html.unescape(re.search(f'<FONT COLOR="{QUIET}" POINT-SIZE="10">(.*?)</FONT>', label).group(1))
                vertices[vid] = ("gate", caption.split(" = ")[0], op, caption, reds)
            else:
                first = re.sub(r"<SUB>(.*?)</SUB>", lambda m: "_" + m.group(1).replace(",", "_"),
                               label.split("<BR/>")[0])
                name = html.unescape(re.sub(r"<[^>]*>", "", first))
                vertices[vid] = ("output" if vid == "out" else "leaf", name, "", "", reds)
            continue
        m = re.fullmatch(r"  (\w+) -> (\w+)(?: \[label=<(.*)>\])?;", line)
        if m:
            tail, head, label = m.groups()
            label = label or ""
            shape = re.findall(f'<FONT COLOR="{QUIET}" POINT-SIZE="9">(.*?)</FONT>', label)
            greens = [html.unescape(s).replace("−", "-") for s in re.findall(f'<FONT COLOR="{FORWARD}">(.*?)</FONT>', label)]
            reds = [html.unescape(s).replace("−", "-") for s in re.findall(f'<FONT COLOR="{GRADIENT}">(.*?)</FONT>', label)]
            wires[(tail, head)] = (shape[0] if shape else None, greens, reds)
    named = {(vertices[t][1] if t != "out" else t, vertices[h][1] if h != "out" else h): w
             for (t, h), w in wires.items()}
    return vertices, named


def close(label, value, tol=5e-4):
    return abs(float(label) - value) <= tol


def test_graph_add_mul_dot_has_the_gates_values_and_gradients():
    # f = (x + y)·z at x = -2, y = 5, z = -4: q = 3, f = -12;
    # df/dq = z = -4, df/dz = q = 3, df/dx = df/dy = df/dq·1 = -4 (the add gate distributes)
    vertices, wires = parse(symderiv.solve("graph-add-mul").to_dot())
    gates = {v[1]: v for v in vertices.values() if v[0] == "gate"}
    assert gates["q"][2] == "+" and gates["q"][3] == "q = x + y"
    assert gates["f"][2] == "×" and gates["f"][3] == "f = q·z"
    assert {v[1] for v in vertices.values() if v[0] == "leaf"} == {"x", "y", "z"}
    assert wires[("x", "q")][1:] == (["-2"], ["-4"])
    assert wires[("y", "q")][1:] == (["5"], ["-4"])
    assert wires[("q", "f")][1:] == (["3"], ["-4"])
    assert wires[("z", "f")][1:] == (["-4"], ["3"])
    assert wires[("f", "out")][1:] == (["-12"], ["1"])  # the output wire: f and the seed df/df = 1
    assert len(wires) == 5


def test_sigmoid_neuron_matches_the_lecture_figure():
    # CS231n: w0=2, x0=-1, w1=-3, x1=-2, w2=-3; w·x + b = 1, f = σ(1) = 0.73 and σ'(1) = f(1 - f) = 0.20
    # flows back from the sum; the mul gates swap: dw0 = x0·0.20, dx0 = w0·0.20, dw1 = x1·0.20, dx1 = w1·0.20
    f = 1 / (1 + math.exp(-1))
    s = f * (1 - f)
    vertices, wires = parse(symderiv.solve("sigmoid-neuron").to_dot())
    ops = [v[2] for v in vertices.values() if v[0] == "gate"]
    assert ops == ["×", "×", "+", "+", "×(−1)", "exp", "+1", "1/x"]  # the lecture's gates, in order
    printed = {"w0": (2, -0.20), "x0": (-1, 0.39), "w1": (-3, -0.39), "x1": (-2, -0.59), "w2": (-3, 0.20)}
    hand = {"w0": -1 * s, "x0": 2 * s, "w1": -2 * s, "x1": -3 * s, "w2": s}
    for (tail, head), (_, green, red) in wires.items():
        if tail in printed:
            assert green == [str(printed[tail][0])]
            assert close(red[0], hand[tail]) and round(float(red[0]), 2) == printed[tail][1]
    assert close(wires[("f6", "f7")][1][0], math.exp(-1)) and close(wires[("f6", "f7")][2][0], -1 / (1 + math.exp(-1)) ** 2)
    assert close(wires[("f7", "f8")][1][0], 1 + math.exp(-1))
    assert close(wires[("f5", "f6")][2][0], math.exp(-1) * -1 / (1 + math.exp(-1)) ** 2)  # -0.20
    assert wires[("f4", "f5")][1] == ["1"] and close(wires[("f4", "f5")][2][0], s)
    out = wires[("f8", "out")]
    assert close(out[1][0], f) and round(float(out[1][0]), 2) == 0.73 and out[2] == ["1"]


def test_a_value_feeding_two_gates_shows_each_wire_and_the_sum():
    # f = x·y + x at x = 3, y = 4: the mul wire carries y = 4, the add wire 1, and df/dx = 5
    g = symderiv.Graph("fan-out")
    x, y = g.input("x", 3), g.input("y", 4)
    f = g.add(g.mul(x, y, name="m"), x, name="f")
    vertices, wires = parse(g.solution(f).to_dot())
    assert wires[("x", "m")][2] == ["4"] and wires[("x", "f")][2] == ["1"]
    (xv,) = [v for v in vertices.values() if v[1] == "x"]
    assert xv[4] == ["∂f/∂x = 5"]


def test_autoencoder_is_drawn_at_matrix_level():
    # x = [2, 0], w_e = [0.5, -1], w_d = [1, 0.5]: h = 1, x̂ = [1, 0.5], L = ½(1 + 1/4) = 5/8;
    # δ = x̂ - x = [-1, 0.5]: ∂L/∂w_d = δ·h = [-1, 0.5], ∂L/∂h = w_dᵀδ = -3/4, ∂L/∂w_e = -3/4·xᵀ = [-3/2, 0]
    vertices, wires = parse(symderiv.solve("autoencoder").to_dot())
    assert sorted(v[1] for v in vertices.values()) == sorted(["x", "w_e", "w_d", "h", "xhat", "L", "L"])

    def nums(lines):
        return [Fraction(s) for line in lines for s in re.findall(r"[-\d./]+", line)]

    assert wires[("w_e", "h")][0] == "1×2"
    assert nums(wires[("w_e", "h")][1]) == [Fraction(1, 2), -1] and nums(wires[("w_e", "h")][2]) == [Fraction(-3, 2), 0]
    assert wires[("x", "h")][0] == "2×1" and nums(wires[("x", "h")][1]) == [2, 0]
    assert wires[("x", "h")][2] == []  # x is data: no gradient
    assert nums(wires[("h", "xhat")][1]) == [1] and nums(wires[("h", "xhat")][2]) == [Fraction(-3, 4)]
    assert nums(wires[("w_d", "xhat")][2]) == [-1, Fraction(1, 2)]
    assert nums(wires[("xhat", "L")][1]) == [1, Fraction(1, 2)] and nums(wires[("xhat", "L")][2]) == [-1, Fraction(1, 2)]
    assert nums(wires[("L", "out")][1]) == [Fraction(5, 8)]


def test_conv2d_is_a_handful_of_matrix_gates_with_big_matrices_by_shape_only():
    vertices, wires = parse(symderiv.solve("conv2d").to_dot())
    assert len(vertices) == 5  # X, K, O = X ⋆ K, L, the output: not 16 dot gates of 9 products
    assert wires[("X", "O")] == ("6×6", [], [])
    assert wires[("K", "O")][0] == "3×3" and len(wires[("K", "O")][1]) == 3  # 9 entries: shown, row by row
    # L = the sum of the 4x4 map: each kernel entry's gradient is the sum of the image entries it
    # meets; K[0][0] meets X[0:4, 0:4] of the default image
    from symderiv.models.convolution import IMAGE as image
    assert wires[("K", "O")][2][0].startswith(f"[{sum(image[i][j] for i in range(4) for j in range(4))},")


def test_deep_chain_gives_one_vertex_per_gate():
    dot = symderiv.solve("sigmoid-chain", depth=200).to_dot()
    vertices, wires = parse(dot)
    assert sum(1 for v in vertices.values() if v[0] == "gate") == 2 * 200 + 1  # z_k, a_k and L
    assert len(wires) == 3 * 200 + 3  # w_k and a_(k-1) into z_k, z_k into a_k; a_n and y into L; L out


@pytest.mark.parametrize("model", ["positional-encoding", "kl-divergence", "mle", "dropout", "conv-volume"])
def test_a_model_without_a_graph_is_one_clear_error(model, capsys):
    if model not in symderiv.models():
        pytest.skip(f"{model} has not landed")
    with pytest.raises(symderiv.SymderivError, match=model):
        symderiv.solve(model).to_dot()
    assert main(["solve", model, "--format", "dot"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and model in err and "computational graph" in err


def test_nasty_names_and_values_are_escaped():
    # a symbolic ReLU's gradient prints as {1 if x > 0; 0 otherwise}: a '>' inside a label
    sol = symderiv.derive("a_b*x + relu(x)", a_b=2)
    g = symderiv.Graph('<&> "title" </FONT>')
    v = g.input("v", 1, latex=r"v_{<&>}")
    mine = g.solution(g.exp(v), label="a<&>b", model='my "model"')
    for s in (sol, mine):
        dot = s.to_dot()
        assert "x > 0" not in dot and "<&>" not in dot
    assert "x &gt; 0" in sol.to_dot() and "&lt;&amp;&gt;" in mine.to_dot()
    if shutil.which("dot"):
        texts = " ".join(t.text or "" for t in ET.fromstring(sol.to_svg()).iter(SVG + "text"))
        assert "x > 0" in texts and "a_b" in texts
        texts = " ".join(t.text or "" for t in ET.fromstring(mine.to_svg()).iter(SVG + "text"))
        assert '<&> "title" </FONT>' in texts and "gradient ∂a<&>b/∂(wire) below it" in texts


@needs_dot
def test_svg_parses_and_carries_the_labels():
    svg = symderiv.solve("graph-add-mul").to_svg()
    assert svg.startswith("<svg") and "<?xml" not in svg and "<!DOCTYPE" not in svg
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter(SVG + "text")]
    for label in ("q = x + y", "f = q·z", "+", "×", "−12", "3", "−4", "x", "y", "z"):  # true minus signs
        assert label in texts


@needs_dot
def test_cli_svg_and_dot_to_a_file(tmp_path):
    out = tmp_path / "neuron.svg"
    assert main(["solve", "sigmoid-neuron", "--format", "svg", "-o", str(out)]) == 0
    texts = [t.text for t in ET.fromstring(out.read_text()).iter(SVG + "text")]
    assert "0.7311" in texts and "1/x" in texts
    out = tmp_path / "f.dot"
    assert main(["derive", "(x + y) * z", "--set", "x=-2", "--set", "y=5", "--set", "z=-4", "--format", "dot",
                 "-o", str(out)]) == 0
    assert out.read_text().startswith('digraph "derive" {')


def test_without_graphviz_svg_is_one_error_and_dot_and_html_still_work(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty directory: no dot program
    svg_of_dot.cache_clear()  # as in a fresh process: no figure drawn before
    assert main(["solve", "graph-add-mul", "--format", "svg"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1 and "Graphviz" in captured.err
    assert main(["solve", "graph-add-mul", "--format", "dot"]) == 0
    assert capsys.readouterr().out.startswith('digraph "graph-add-mul"')
    page = symderiv.solve("graph-add-mul").to_html()
    assert "<math" in page and "<svg" not in page


@needs_dot
def test_html_inlines_the_diagram_and_the_page_stays_valid():
    page = symderiv.solve("sigmoid-neuron").to_html()
    figure = re.search(r'<figure class="diagram"[^>]*>\s*(<svg\b.*?</svg>)\s*</figure>', page, re.S)
    assert figure is not None
    texts = [t.text for t in ET.fromstring(figure.group(1)).iter(SVG + "text")]
    assert "0.7311" in texts
    for block in re.findall(r"<math\b.*?</math>", page, re.S):
        ET.fromstring(block)
    assert "<svg" not in symderiv.solve("positional-encoding").to_html()


def test_several_solutions():
    sols = [symderiv.solve("graph-add-mul"), symderiv.solve("positional-encoding"), symderiv.solve("max-gate")]
    from symderiv.render import render_many
    dot = render_many(sols, "dot")
    assert dot.count("digraph ") == 2 and "// positional-encoding: no computational graph" in dot
    if shutil.which("dot"):
        svg = render_many(sols, "svg")
        root = ET.fromstring(svg)  # one document
        assert [c.tag for c in root] == [SVG + "svg", SVG + "svg"]
        assert float(root.get("height").removesuffix("pt")) >= sum(
            float(c.get("height")) for c in root)
    with pytest.raises(symderiv.SymderivError, match="positional-encoding"):
        render_many([sols[1], sols[1]], "dot")


def test_merge_keeps_the_graphs_apart():
    a, b = symderiv.solve("graph-add-mul").diagram, symderiv.solve("graph-mul-add").diagram
    both = merge([a, b])
    ids = [v.id for v in both.vertices]
    assert len(ids) == len(set(ids)) == len(a.vertices) + len(b.vertices)
    assert all(w.tail in ids and w.head in ids for w in both.wires)
    assert len(both.wires) == len(a.wires) + len(b.wires)


def test_diagram_output_is_identical_across_hash_seeds():
    outputs = set()
    for seed in ("0", "1", "12345"):
        p = subprocess.run([sys.executable, "-m", "symderiv.cli", "solve", "--all", "--format", "dot"],
                           capture_output=True, text=True, env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
                           timeout=300)
        assert p.returncode == 0, p.stderr
        q = subprocess.run([sys.executable, "-m", "symderiv.cli", "solve", "rnn", "--format", "svg"],
                           capture_output=True, text=True, env={"PYTHONHASHSEED": seed, "PATH": "/usr/bin:/bin"},
                           timeout=300)
        outputs.add((p.stdout, q.stdout, q.returncode))
    assert len(outputs) == 1


def test_a_diagram_too_big_for_the_page_is_named_not_drawn(monkeypatch):
    mathml = importlib.import_module("symderiv.render.mathml")
    monkeypatch.setattr(mathml, "FIGURE_MAX", 5)  # graph-add-mul has 6 vertices: x, y, z, q, f, the output
    page = symderiv.solve("graph-add-mul").to_html()
    assert "<svg" not in page and "The computational graph has 6 vertices" in page


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_two_diagrams_on_one_page_have_distinct_ids():
    ids = [re.findall(r'\bid="([^"]+)"', symderiv.solve(m).to_svg()) for m in ("graph-add-mul", "sigmoid-neuron")]
    assert ids[0] and ids[1] and not set(ids[0]) & set(ids[1])
    assert len(set(ids[0])) == len(ids[0])


def test_the_gradients_on_a_values_wires_add_up_to_its_total_at_full_precision():
    import mpmath
    # f = x·e^y + x·z at x=1, y=1, z=2: x feeds two gates, ∂f/∂x = e + 2 split as e and 2 on its wires
    sol = symderiv.derive("x*exp(y) + x*z", x=1, y=1, z=2)
    d = sol.diagram
    (x,) = [v for v in d.vertices if v.name == "x"]
    through = [w.grad.approx for w in d.wires if w.tail == x.id]
    with mpmath.workdps(60):
        expected = sorted([mpmath.mpf(2), +mpmath.e])
        assert all(abs(a - b) < mpmath.mpf(10) ** -45 for a, b in zip(sorted(through), expected))
