"""The documentation site in a real browser: model pages opened in headless Chromium and checked
by measuring the laid-out page (getBoundingClientRect), not by reading the HTML.

Needs Debian's ``chromium``, ``chromium-driver`` and ``fonts-lmodern`` (the math font) and the
Python ``selenium`` package; skipped without them. Full-page screenshots go to
``build/screenshots/``.
"""

from __future__ import annotations

import base64
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "build" / "screenshots"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROMIUM = next((p for p in (shutil.which("chromium"), shutil.which("chromium-browser"), "/usr/bin/chromium")
                 if p and Path(p).exists()), None)

#: page -> what it must contain beyond the checks every page gets.
PAGES = {
    "models/sigmoid-neuron.html": {"diagram"},   # a scalar graph: its diagram
    "models/autoencoder.html": {"matrix"},       # vectors and matrices
    "models/rnn.html": {"matrix"},               # matrices over time, derivations wider than the column
    "index.html": set(),                         # the landing page's example
}

#: Measures every check in the page; lengths in em of the element's own font size.
MEASURE = r"""
const box = (e) => e.getBoundingClientRect();
const em = (e) => parseFloat(getComputedStyle(e).fontSize);
const tag = (e) => e && e.localName;
const text = (e) => (e.textContent || '').trim();
const out = {maths: 0, empty: [], aligns: [], minus: [], fracs: [], matrices: [], svgs: []};

for (const m of document.querySelectorAll('math')) {
  out.maths++;
  const r = box(m);
  if (!(r.width > 0 && r.height > 0)) out.empty.push(m.outerHTML.slice(0, 120));
}

// A derivation: a block <math> whose (first) child is a table of rows `lhs | = rhs`.
for (const m of document.querySelectorAll('math[display="block"]')) {
  let t = m.firstElementChild;
  if (tag(t) === 'mrow' && t.children.length === 1) t = t.firstElementChild;
  if (tag(t) !== 'mtable') continue;
  const xs = [];
  for (const row of t.children) {
    const cell = row.children[1];
    const eq = cell && [...cell.children].find((c) => tag(c) === 'mo');
    if (eq && text(eq) === '=') xs.push(box(eq).left);
  }
  if (xs.length >= 2) out.aligns.push({rows: xs.length, spread: Math.max(...xs) - Math.min(...xs),
                                       where: text(t).slice(0, 60)});
}

// A unary minus: a minus sign first in its row, or after an operator or an opening bracket,
// followed by a number.
for (const mo of document.querySelectorAll('mo')) {
  if (text(mo) !== '−' || tag(mo.nextElementSibling) !== 'mn') continue;
  const p = mo.previousElementSibling;
  const unary = !p || (tag(p) === 'mi' && text(p) === '') ||
                (tag(p) === 'mo' && !')]}'.includes(text(p)));
  if (!unary) continue;
  out.minus.push({gap: (box(mo.nextElementSibling).left - box(mo).right) / em(mo),
                  where: text(mo.parentElement).slice(0, 40)});
}

for (const f of document.querySelectorAll('mfrac')) {
  const [num, den] = f.children;
  out.fracs.push({num_bottom: box(num).bottom, den_top: box(den).top, where: text(f)});
}

// A matrix: a table between brackets.
for (const t of document.querySelectorAll('mtable')) {
  const before = t.previousElementSibling;
  if (tag(before) !== 'mo' || !'[('.includes(text(before))) continue;
  const rows = [...t.children].map((row) => [...row.children].map(box));
  const centre = (r) => (r.top + r.bottom) / 2, middle = (r) => (r.left + r.right) / 2;
  const rowSpread = Math.max(...rows.map((cells) => Math.max(...cells.map(centre)) - Math.min(...cells.map(centre))));
  let colSpread = 0, descending = true;
  for (let j = 0; j < rows[0].length; j++) {
    const xs = rows.map((cells) => middle(cells[j]));
    colSpread = Math.max(colSpread, Math.max(...xs) - Math.min(...xs));
  }
  for (let i = 1; i < rows.length; i++) descending = descending && centre(rows[i][0]) > centre(rows[i - 1][0]);
  out.matrices.push({rows: rows.length, cols: rows[0].length, rowSpread, colSpread, descending,
                     where: text(t).slice(0, 40)});
}

// A Graphviz diagram: an <svg> holding Graphviz's top group <g class="graph">.
for (const s of document.querySelectorAll('svg')) {
  if (!s.querySelector('g.graph')) continue;
  const r = box(s), style = getComputedStyle(s);
  const labels = [...s.querySelectorAll('text')].filter((t) => box(t).width > 0).length;
  out.svgs.push({width: r.width, height: r.height, visible: style.visibility !== 'hidden' && style.display !== 'none',
                 labels});
}
out.overflow = document.documentElement.scrollWidth - document.documentElement.clientWidth;
return out;
"""


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium through /usr/bin/chromedriver (the Debian packages)."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="the browser test needs selenium: "
                                    "pip install -e '.[browser]'")
    if CHROMIUM is None or not Path(CHROMEDRIVER).exists():
        pytest.skip("the browser test needs Debian's chromium and chromium-driver "
                    "(apt-get install chromium chromium-driver fonts-lmodern)")
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                 "--window-size=1200,2000"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    yield driver
    driver.quit()


def screenshot(driver, path: Path) -> None:
    """The whole page, not only the window, as PNG."""
    width, height = driver.execute_script(
        "return [document.documentElement.scrollWidth, document.documentElement.scrollHeight]")
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(shot["data"]))


@pytest.fixture(scope="module")
def measured(browser, docs_html: Path) -> dict[str, dict]:
    """Each page of PAGES loaded (fonts ready), screenshotted, and measured."""
    out = {}
    for page in PAGES:
        browser.get((docs_html / page).as_uri())
        browser.execute_async_script("const done = arguments[0]; document.fonts.ready.then(() => done());")
        screenshot(browser, SHOTS / (page.removesuffix(".html").replace("/", "_") + ".png"))
        out[page] = browser.execute_script(MEASURE)
    return out


@pytest.mark.parametrize("page", PAGES)
def test_every_math_element_has_a_size(measured, page):
    m = measured[page]
    assert m["maths"] > 0, f"{page}: no <math> at all"
    assert m["empty"] == [], f"{page}: <math> drawn with no size: {m['empty'][:3]}"


@pytest.mark.parametrize("page", PAGES)
def test_the_equals_signs_of_a_derivation_line_up(measured, page):
    aligns = measured[page]["aligns"]
    assert aligns, f"{page}: no derivation of two rows or more found"
    bad = [a for a in aligns if a["spread"] > 1]
    assert bad == [], f"{page}: '=' signs more than 1 px apart: {bad[:3]}"


@pytest.mark.parametrize("page", PAGES)
def test_a_unary_minus_sits_tight_to_its_number(measured, page):
    minus = measured[page]["minus"]
    assert minus, f"{page}: no unary minus found"
    loose = [m for m in minus if not -0.05 <= m["gap"] < 0.1]
    assert loose == [], f"{page}: unary minus spaced like subtraction (gap in em): {loose[:3]}"


@pytest.mark.parametrize("page", PAGES)
def test_a_numerator_is_above_its_denominator(measured, page):
    fracs = measured[page]["fracs"]
    assert fracs, f"{page}: no fraction found"
    bad = [f for f in fracs if not f["num_bottom"] <= f["den_top"] + 0.5]
    assert bad == [], f"{page}: numerator not above denominator: {bad[:3]}"


@pytest.mark.parametrize("page", [p for p, needs in PAGES.items() if "matrix" in needs])
def test_a_matrix_lines_up_in_rows_and_columns(measured, page):
    matrices = [m for m in measured[page]["matrices"] if m["rows"] > 1 or m["cols"] > 1]
    assert matrices, f"{page}: no matrix found"
    bad = [m for m in matrices if m["rowSpread"] > 1 or m["colSpread"] > 1 or not m["descending"]]
    assert bad == [], f"{page}: matrix cells out of line (px): {bad[:3]}"


@pytest.mark.parametrize("page", [p for p, needs in PAGES.items() if "diagram" in needs])
def test_the_diagram_is_visible(measured, page):
    svgs = measured[page]["svgs"]
    assert svgs, f"{page}: no Graphviz diagram"
    for s in svgs:
        assert s["visible"] and s["width"] > 100 and s["height"] > 100, f"{page}: diagram not visible: {s}"
        assert s["labels"] > 0, f"{page}: diagram has no visible labels: {s}"


@pytest.mark.parametrize("page", PAGES)
def test_nothing_widens_the_page(measured, page):
    # a derivation or diagram wider than the column scrolls in its own box
    assert measured[page]["overflow"] <= 1, f"{page}: the page scrolls sideways by {measured[page]['overflow']} px"
