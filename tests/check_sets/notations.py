"""The notations students write, each with what the checker does with it (issue 25): the data of
the notations table in docs/check.md (``python3 tests/check_sets/notations.py`` prints the table;
``tests/test_check_sets.py`` checks the page holds it and that each outcome is the one expected).

Each row: what the notation is, the model, the answer text as typed (bytes for an encoding), and
the verdicts expected line by line ("unread: <message start>" for a line that is not read, or
"refused: <message start>" when the whole input is refused). The values are derived by hand:
sigmoid-neuron's f6 = e^{-1} = 0.36788, ∂f/∂f6 = −1/(1 + e^{-1})² = −0.53444; graph-add-mul's
q = x + y = 3; rnn's ∂L/∂h0 = W_hhᵀ·∂L/∂z1 (tests/check_sets/derive.py); self-attention's
S_1_1 = 0.91121, S_1_2 = 0.8017 (Q·Kᵀ by hand); xor-mlp at x = (0, 0): ŷ = 0, ∂L/∂W1_12 = 0.
"""

from __future__ import annotations

NOTATIONS = [
    ("name as printed", "sigmoid-neuron", "∂f/∂f6 = -0.5344", ["right"]),
    ("ASCII: d for ∂", "sigmoid-neuron", "df/df6 = -0.5344", ["right"]),
    ("LaTeX fraction", "sigmoid-neuron", r"\frac{\partial f}{\partial f_{6}} = -0.5344", ["right"]),
    ("LaTeX in $…$", "sigmoid-neuron", r"$f_6 = 0.3679$", ["right"]),
    ("`:=`", "sigmoid-neuron", "f6 := 0.3679", ["right"]),
    ("`≈`", "sigmoid-neuron", "f6 ≈ 0.3679", ["right"]),
    ("working written out (the last number counts)", "graph-add-mul", "q = x + y = 3", ["right"]),
    ("working with a formula", "sigmoid-neuron", "f_6 = e^{-1} = 0.368", ["right"]),
    ("every number of the working checked", "sigmoid-neuron", "f6 = 0.5 = 0.3679", ["wrong", "right"]),
    ("times ten to the", "sigmoid-neuron", r"f6 = 3.679 \times 10^{-1}", ["right"]),
    ("a LaTeX fraction value", "graph-add-mul", r"q = \frac{3}{1}", ["right"]),
    ("entry `M[i][j]` of a family of scalars", "xor-mlp", "dL/dW1[1][2] = 0", ["right"]),
    ("alias `yhat`", "xor-mlp", "yhat = 0", ["right"]),
    ("alias `ŷ`", "xor-mlp", "ŷ = 0", ["right"]),
    ("alias `∂L/∂ŷ`", "xor-mlp", "∂L/∂ŷ = 0", ["right"]),
    ("a row `M[i] = [...]`", "self-attention", "S[1] = [0.91121, 0.8017]", ["right", "right"]),
    ("a vector", "rnn", "∂L/∂h0 = [0.1776, 0.6698, -0.01934]", ["right", "right", "right"]),
    ("a UTF-8 byte-order mark", "sigmoid-neuron", "\ufefff6 = 0.3679\n".encode("utf-8"), ["right"]),
    ("UTF-16", "sigmoid-neuron", "f6 = 0.3679 # Lösung\n".encode("utf-16"), ["right"]),
    ("Latin-1", "sigmoid-neuron", "f6 = 0.3679 # Lösung\n".encode("latin-1"), ["right"]),
    ("a 2×4 gradient written 4×2", "self-attention",
     "∂L/∂V = [[0.1, 0.2], [0.3, 0.4], [0.5, 0.6], [0.7, 0.8]]", ["wrong"] * 8),
    ("0-based indices", "rnn", "dL/dW_xh[0][1] = 1\nh1_1 = -0.0997",
     ["right", "unread: line 1: dL/dW_xh[0][1]: ∂L/∂W_xh is 3x2; there is no entry 0,1 (indices start at 1)"]),
    ("a vector given one number", "rnn", "∂L/∂h0 = 0.1776\nh1_1 = -0.0997",
     ["right", "unread: line 1: ∂L/∂h0 is a 3x1 matrix; write all of it, like […, …, …], or one entry, like "
               "∂L/∂h0_1 = …"]),
    ("not a number", "sigmoid-neuron", "f6 = abc\nf7 = 1.368",
     ["right", "unread: line 1: f6: 'abc' is not a number (write -0.53, 5.23e-5 or 1/3)"]),
    ("an unknown name", "sigmoid-neuron", "f9 = 1\nf6 = 0.3679",
     ["right", "unread: line 1: f9: the solution has no step of that name; closest: f8, f7, f6"]),
    ("a huge exponent", "sigmoid-neuron", "f6 = 0.e100000000",
     ["refused: line 1: f6: '0.e100000000': an exponent beyond ±400"]),
]


def outcome(model: str, text) -> list[str]:
    """What the checker makes of ``text``: each line's verdict, or the refusal."""
    import symderiv
    from symderiv.check import decode
    if isinstance(text, bytes):
        text = decode(text)
    try:
        report = symderiv.check_answers(model, text)
    except symderiv.SymderivError as e:
        return [f"refused: {e}"]
    return [f"unread: {x.message}" if str(x.verdict) == "unread" else str(x.verdict) for x in report.lines]


def table() -> str:
    """The docs' notations table: each notation, as typed, and what the checker does."""
    out = ["| notation | typed | read as |", "|---|---|---|"]
    for what, model, text, _ in NOTATIONS:
        shown = text if isinstance(text, str) else f"{text.decode('utf-8', 'replace')[:20].strip()!s} (bytes)"
        if isinstance(text, bytes):
            shown = {b"\xef": "f6 = 0.3679 after a byte-order mark", b"\xff": "f6 = 0.3679 # Lösung, in UTF-16",
                     b"f": "f6 = 0.3679 # Lösung, in Latin-1"}[text[:1]]
        shown = shown.replace("\n", " ⏎ ").replace("|", r"\|")
        said = "; ".join(outcome(model, text)).replace("|", r"\|")
        out.append(f"| {what} (`{model}`) | `{shown}` | {said} |")
    return "\n".join(out)


if __name__ == "__main__":
    print(table())
