"""A PrairieLearn question folder: ``info.json``, ``question.html`` and ``server.py``.

``server.py``'s ``generate(data)`` draws a fresh variant with symderiv for each PrairieLearn
variant (from ``data["variant_seed"]``) and fills ``data["params"]`` (the variant's parameters
under the model's names, as numbers; the statement and worked solution under ``"symderiv"``)
and ``data["correct_answers"]`` (each asked value as a float, under its ``answers-name``).
The question needs symderiv importable on the PrairieLearn server: copy the ``symderiv``
package into the course's ``serverFilesCourse/`` folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import os
import pprint
import shutil
import stat
import tempfile
import uuid
from collections.abc import Mapping
from typing import Any

from ..errors import ParameterError
from ..exercise import Plan, draw, plan
from .common import asked_phrase, numbers, statement, statement_html, tex_html

#: The files of a question folder: an existing folder is replaced only if it holds no others.
FILES = ("info.json", "question.html", "server.py")

SERVER = '''"""PrairieLearn question: {title}

Made by `symderiv exercise {model} --format prairielearn`. generate() draws a fresh variant with
symderiv for each PrairieLearn variant seed; symderiv (with sympy and mpmath) must be importable:
copy the symderiv package into the course's serverFilesCourse/ folder.
"""

from symderiv.export.prairielearn import generate_variant

QUESTION = {question}


def generate(data):
    generate_variant(data, QUESTION)
'''


def question_spec(p: Plan) -> dict[str, Any]:
    """What ``server.py`` needs to draw a variant: the model, ranges, names asked, digits."""
    return {"model": p.model, "vary": {k: r.text for k, r in p.ranges.items()}, "ask": list(p.ask),
            "digits": p.digits, "allow_kinks": p.allow_kinks, "seed": p.seed}


def generate_variant(data: dict[str, Any], question: Mapping[str, Any]) -> None:
    """Fill a PrairieLearn ``data`` dict with a variant drawn from ``data["variant_seed"]``."""
    p = plan(question["model"], seed=int(question.get("seed", 0)), vary=question.get("vary"),
             ask=question.get("ask"), allow_kinks=bool(question.get("allow_kinks")),
             digits=int(question.get("digits", 4)))
    ex, _ = draw(p, int(data.get("variant_seed", 0)) % 2**62)
    st = statement(ex)
    params = data.setdefault("params", {})
    for name, value in ex.parameters.items():
        params[name] = numbers(value)
    params["symderiv"] = {"statement": statement_html(st, p.digits),
                          "solution": tex_html(ex.solution, p.digits),
                          "atol": {a.key: a.tolerance for a in ex.asked}}
    answers = data.setdefault("correct_answers", {})
    for a in ex.asked:
        answers[a.key] = a.value


def _no_mustache(tex: str) -> str:
    """TeX with no ``{{`` or ``}}`` (mustache would read a tag there)."""
    while "{{" in tex or "}}" in tex:
        tex = tex.replace("{{", "{ {").replace("}}", "} }")
    return tex


def folder_files(p: Plan, qid: str) -> dict[str, str]:
    """The three files of the question, from the plan; ``qid`` (the folder's name) and the seed
    fix the uuid, so writing the same question again keeps its PrairieLearn identity."""
    sample, _ = draw(p, 0)
    st = statement(sample)
    digest = hashlib.sha256(f"symderiv|{p.model}|{p.seed}|{qid}".encode()).digest()
    info = {"uuid": str(uuid.UUID(bytes=digest[:16], version=4)), "type": "v3",
            "title": f"{st.title} ({p.model})", "topic": "Backpropagation",
            "tags": ["symderiv", p.model]}
    groups = {g[0]: g for g in st.asked}
    inputs = []
    for a in sample.asked:
        label = html.escape(_no_mustache(f"${a.latex} =$"), quote=True)
        inputs.append(f'<p><pl-number-input answers-name="{a.key}" label="{label}" comparison="relabs" rtol="0" '
                      f'atol="{{{{params.symderiv.atol.{a.key}}}}}"></pl-number-input></p>')
    finds = "".join(f"<li>{_no_mustache(asked_phrase(g[1], g[2]))}</li>" for g in groups.values())
    page = ("<pl-question-panel>\n{{{params.symderiv.statement}}}\n"
            f"<p>Find (to {p.digits} significant digits where not a whole number):</p>\n<ul>{finds}</ul>\n"
            "</pl-question-panel>\n\n" + "\n".join(inputs) + "\n\n"
            "<pl-answer-panel>\n{{{params.symderiv.solution}}}\n</pl-answer-panel>\n")
    server = SERVER.format(title=st.title, model=p.model, question=pprint.pformat(question_spec(p), sort_dicts=False, width=100))
    return {"info.json": json.dumps(info, indent=2, ensure_ascii=False) + "\n", "question.html": page,
            "server.py": server}


def write_folder(path: str, files: Mapping[str, str]) -> None:
    """Write the question folder whole: into a new folder beside it, then renamed into place;
    an existing folder is replaced only when it holds nothing but a question's files."""
    target = os.path.realpath(path)
    if os.path.exists(target):
        if not os.path.isdir(target):
            raise ParameterError(f"-o {path}: exists and is not a folder")
        extra = sorted(set(os.listdir(target)) - set(FILES))
        if extra:
            raise ParameterError(f"-o {path}: the folder holds other files ({', '.join(extra[:3])}); "
                                 "give a new or a question's folder")
        for name in FILES:
            kind = _kind(os.path.join(target, name))
            if kind not in (None, "a regular file"):
                raise ParameterError(f"-o {path}: its {name} is {kind}, not a file this export wrote; "
                                     "give a new or a question's folder")
    parent = os.path.dirname(target)
    try:
        os.makedirs(parent, exist_ok=True)
        tmp = tempfile.mkdtemp(dir=parent, prefix=".symderiv-")
    except OSError as e:
        raise ParameterError(f"-o {path}: cannot write there ({e.strerror or e})") from None
    old = None
    try:
        for name, body in files.items():
            with open(os.path.join(tmp, name), "w", encoding="utf-8") as f:
                f.write(body)
        os.chmod(tmp, 0o777 & ~_umask())
        if os.path.exists(target):
            old = tempfile.mkdtemp(dir=parent, prefix=".symderiv-old-")
            os.rename(target, os.path.join(old, "q"))
        os.rename(tmp, target)
    except BaseException as e:  # nothing half-written is left behind, even on Ctrl-C
        if old is not None and not os.path.exists(target):
            os.rename(os.path.join(old, "q"), target)
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(e, OSError):
            raise ParameterError(f"-o {path}: cannot write there ({e.strerror or e})") from None
        raise
    finally:
        if old is not None:
            _remove_replaced(old)


def _kind(path: str) -> str | None:
    """What is at ``path`` (a symbolic link is not followed), or None for nothing."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    if stat.S_ISREG(mode):
        return "a regular file"
    return "a directory" if stat.S_ISDIR(mode) else "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"


def _remove_replaced(old: str) -> None:
    """Remove the replaced question folder (moved to ``old/q``): only the question's own regular
    files, then the emptied folders; anything else that got there is left, never deleted."""
    folder = os.path.join(old, "q")
    for name in FILES:
        if _kind(os.path.join(folder, name)) == "a regular file":
            with contextlib.suppress(OSError):
                os.unlink(os.path.join(folder, name))
    for empty in (folder, old):
        with contextlib.suppress(OSError):
            os.rmdir(empty)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
