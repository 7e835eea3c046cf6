"""Shared fixtures: one build of the documentation site per test session."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"


@pytest.fixture(scope="session")
def docs_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The HTML site built by ``sphinx-build -W -b html docs OUT``; the build must pass."""
    for module in ("sphinx", "myst_parser", "furo"):
        pytest.importorskip(module, reason=f"the docs need {module}: pip install -e '.[docs]'")
    if shutil.which("dot") is None:
        pytest.skip("the docs draw diagrams: they need Graphviz's dot (Debian: graphviz)")
    out = tmp_path_factory.mktemp("docs") / "html"
    run = subprocess.run([sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
                          str(DOCS), str(out)], cwd=ROOT, capture_output=True, text=True)
    if run.returncode != 0:
        pytest.fail(f"sphinx-build -W failed ({run.returncode}):\n{run.stderr[-6000:]}", pytrace=False)
    return out


@pytest.fixture(autouse=True)
def _torch_default_dtype(request):
    """The from_torch tests build their models as users do, under PyTorch's default float32: another
    module's float64 default (test_exercises sets it at import) must not leak into them."""
    if not request.module.__name__.startswith("test_from_torch") or "torch" not in sys.modules:
        yield
        return
    import torch
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        yield
    finally:
        torch.set_default_dtype(before)
