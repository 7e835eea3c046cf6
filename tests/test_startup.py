"""What a command imports (issue 28): the structure that keeps start-up fast, asserted in fresh
processes, never as a time (benchmarks/startup.py measures the times).

SymPy builds its first sum by importing ``sympy.tensor.tensor`` (``Add.flatten``): that module in
``sys.modules`` after an import means an expression was built at import time."""

import json
import subprocess
import sys
import textwrap

import pytest

from symderiv.models import CATALOGUE, MODELS

#: Modules no import of symderiv's API may load: a process pool, what xml.sax drags in (urllib,
#: http), PyTorch, latex2mathml (loaded when MathML is written) and the trace of a built sum.
HEAVY = ("multiprocessing", "concurrent.futures", "xml.sax", "urllib.request", "torch", "latex2mathml",
         "sympy.tensor.tensor")


def imported_after(code: str) -> set[str]:
    """The modules loaded in a fresh interpreter after running ``code``."""
    script = textwrap.dedent(code) + "\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))\n"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(json.loads(done.stdout.splitlines()[-1]))


def test_importing_the_command_line_imports_no_sympy():
    modules = imported_after("import symderiv.cli")
    assert "sympy" not in modules
    assert "symderiv.models.graphs" not in modules  # no model's builder either


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["list"]])
def test_version_help_and_list_import_no_sympy(argv):
    modules = imported_after(f"""
        import contextlib, io
        from symderiv.cli import main
        with contextlib.redirect_stdout(io.StringIO()) as out:
            try:
                status = main({argv!r})
            except SystemExit as e:  # argparse's --help and --version
                status = e.code
        assert status in (0, None), status
        assert out.getvalue()
    """)
    assert "sympy" not in modules
    assert "mpmath" not in modules


def test_import_symderiv_builds_nothing_and_loads_no_heavy_module():
    """Every public name looked up (which imports the module defining it) still builds no SymPy
    expression and loads none of :data:`HEAVY`."""
    modules = imported_after("""
        import symderiv
        for name in symderiv.__all__:
            getattr(symderiv, name)
    """)
    assert "sympy" in modules  # the names were looked up
    assert not modules & set(HEAVY), sorted(modules & set(HEAVY))


def test_a_text_solution_loads_its_family_and_its_format_only():
    modules = imported_after("""
        import contextlib, io
        from symderiv.cli import main
        with contextlib.redirect_stdout(io.StringIO()):
            assert main(["solve", "graph-add-mul"]) == 0
    """)
    assert "symderiv.models.graphs" in modules and "symderiv.render.text" in modules
    assert not modules & {"symderiv.models.convolution", "symderiv.models.sequences", "symderiv.render.mathml",
                          "symderiv.check", "symderiv.pytorch", "latex2mathml", "multiprocessing",
                          "concurrent.futures", "xml.sax"}


def test_a_solution_renders_without_import_symderiv_loading_the_renderers():
    """A Solution finds its renderers when it is first rendered, however it was made."""
    imported_after("""
        from symderiv.models.registry import solve
        assert solve("graph-add-mul").to_text().startswith("f = (x + y)·z, with q = x + y")
    """)


def test_the_functions_keep_their_names_when_their_modules_load():
    imported_after("""
        import symderiv, symderiv.check, symderiv.render, symderiv.models.graphs
        from symderiv.models.registry import CATALOGUE
        assert symderiv.check.__name__ == "symderiv.check" and symderiv.check_answers.__name__ == "check_answers"
        assert symderiv.render.__name__ == "symderiv.render" and symderiv.render_solution.__name__ == "render_solution"
        assert symderiv.models() == list(CATALOGUE)
        from symderiv.render import chain
        assert chain.__name__ == "chain" and callable(chain)
    """)


def test_the_catalogue_table_is_what_the_families_register():
    """Each catalogue row's model is registered by the module its row names, under its title; no
    model is registered outside the table."""
    assert list(MODELS) == list(CATALOGUE)
    for model_id, entry in CATALOGUE.items():
        model = MODELS[model_id]
        assert model.title == entry.title
        assert model.build.__module__ == f"symderiv.models.{entry.family}"
