"""A PrairieLearn question folder: ``info.json``, ``question.html``, ``server.py`` and
``variants.json``.

The variants are drawn here, once, and stored in ``variants.json`` (each: the parameters, the
statement and worked solution as HTML with TeX maths, the correct answers and their tolerances);
``server.py``'s ``generate(data)`` picks one by ``data["variant_seed"]``. It needs nothing but
Python's standard library, so it runs in PrairieLearn's own image whatever it installs, and a
call takes well under a millisecond. A scalar answer is a ``pl-number-input`` with PrairieLearn's
significant-figure comparison (``comparison="sigfig"``; ``decdig`` with 0 digits for a whole
number); a matrix a ``pl-matrix-component-input`` (``relabs``, its tolerances per variant).
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import ParameterError
from ..exercise import Asked, Exercise, Plan, compared_digits, identifier
from .common import Statement, answers_by_group, asked_phrase, numbers, statement_html, tex_html

#: The files of a question folder: an existing folder is replaced only if it holds no others.
FILES = ("info.json", "question.html", "server.py", "variants.json")

SERVER = '''"""PrairieLearn question: {title}

Made by `symderiv exercise {model} --format prairielearn`: generate() picks one of the variants
in variants.json (drawn by symderiv, with their answers and worked solutions) by the variant
seed. Only Python's standard library is needed.
"""

import json
import pathlib

VARIANTS = json.loads(pathlib.Path(__file__).with_name("variants.json").read_text(encoding="utf-8"))


def generate(data):
    variant = VARIANTS[int(data["variant_seed"]) % len(VARIANTS)]
    data["params"].update(variant["params"])
    data["correct_answers"].update(variant["correct_answers"])
'''


def _matrix(values: list, shape: tuple[int, ...]) -> list[list[Any]]:
    cols = shape[1] if len(shape) == 2 else 1
    return [values[r * cols:(r + 1) * cols] for r in range(len(values) // cols)]


def _is_matrix(shape: tuple[int, ...], count: int) -> bool:
    return bool(shape) and count > 1


def variant_data(ex: Exercise, st: Statement, digits: int) -> dict[str, Any]:
    """One variant as ``generate`` fills PrairieLearn's ``data``: ``params`` (the parameters under
    the model's names, as numbers; the statement, worked solution and matrix tolerances under
    ``symderiv``) and ``correct_answers`` (a float or a whole number per scalar, a list of rows
    per matrix); with what the question page needs (``title``, ``asked``: each group's answer
    name, TeX, shape and whether it is whole numbers)."""
    answers: dict[str, Any] = {}
    rtol: dict[str, float] = {}
    atol: dict[str, float] = {}
    asked = []
    for (name, tex, shape), values in zip(st.asked, answers_by_group(ex.asked).values(), strict=True):
        whole = all(a.tolerance == 0 for a in values)
        if _is_matrix(shape, len(values)):
            key = identifier(name)
            answers[key] = _matrix([_answer(a) for a in values], shape)
            rtol[key] = max((a.tolerance / abs(a.value) for a in values if a.value), default=0.0)
            atol[key] = min((a.tolerance for a in values if a.tolerance), default=0.0)
        else:
            key = values[0].key
            answers[key] = _answer(values[0])
        asked.append({"key": key, "tex": tex, "shape": list(shape), "matrix": _is_matrix(shape, len(values)),
                      "whole": whole})
    params = {k: numbers(v) for k, v in ex.parameters.items()}
    params["symderiv"] = {"statement": statement_html(st, digits), "solution": tex_html(ex.solution, digits),
                          "rtol": rtol, "atol": atol}
    return {"params": params, "correct_answers": answers, "title": st.title, "asked": asked}


def _answer(a: Asked) -> float | int:
    return int(a.shown) if a.tolerance == 0 and a.shown.lstrip("-").isdigit() else a.value


def _no_mustache(tex: str) -> str:
    """TeX with no ``{{`` or ``}}`` (mustache would read a tag there)."""
    while "{{" in tex or "}}" in tex:
        tex = tex.replace("{{", "{ {").replace("}}", "} }")
    return tex


def _input(asked: Mapping[str, Any], whole: bool, digits: int) -> str:
    """The answer element of one asked group (``whole``: in every variant a whole number)."""
    key = asked["key"]
    label = html.escape(_no_mustache(f"${asked['tex']} =$"), quote=True)
    compare = 'comparison="decdig" digits="0"' if whole else f'comparison="sigfig" digits="{compared_digits(digits)}"'
    if not asked["matrix"]:
        return f'<p><pl-number-input answers-name="{key}" label="{label}" {compare}></pl-number-input></p>'
    if not whole:
        compare = (f'comparison="relabs" rtol="{{{{params.symderiv.rtol.{key}}}}}" '
                   f'atol="{{{{params.symderiv.atol.{key}}}}}"')
    return f'<p><pl-matrix-component-input answers-name="{key}" label="{label}" {compare}></pl-matrix-component-input></p>'


def question_folder(p: Plan, pieces: Sequence[Mapping[str, Any]], output: str | None) -> dict[str, str]:
    """The question's files, from its variants (``pieces``, made by :func:`variant_data`). Its
    uuid comes from the folder's full path (``output``) and the plan, so writing the same question
    again keeps its PrairieLearn identity and two different questions never share one."""
    if not output:
        raise ParameterError("--format prairielearn writes a question folder: give -o FOLDER")
    first = pieces[0]
    where = os.path.realpath(output)
    spec = json.dumps({"model": p.model, "seed": p.seed, "digits": p.digits, "ask": list(p.ask),
                       "ranges": {k: r.text for k, r in p.ranges.items()}, "variants": len(pieces)}, sort_keys=True)
    digest = hashlib.sha256(f"symderiv|{where}|{spec}".encode()).digest()
    info = {"uuid": str(uuid.UUID(bytes=digest[:16], version=4)), "type": "v3",
            "title": f"{first['title']} ({p.model})", "topic": "Backpropagation", "tags": ["symderiv", p.model]}
    inputs = [_input(a, all(v["asked"][i]["whole"] for v in pieces), p.digits) for i, a in enumerate(first["asked"])]
    finds = "".join(f"<li>{_no_mustache(asked_phrase(a['tex'], tuple(a['shape'])))}</li>" for a in first["asked"])
    page = ("<pl-question-panel>\n{{{params.symderiv.statement}}}\n"
            f"<p>Find (to {p.digits} significant digits where not a whole number):</p>\n<ul>{finds}</ul>\n"
            "</pl-question-panel>\n\n" + "\n".join(inputs) + "\n\n"
            "<pl-answer-panel>\n{{{params.symderiv.solution}}}\n</pl-answer-panel>\n")
    variants = [{"params": v["params"], "correct_answers": v["correct_answers"]} for v in pieces]
    return {"info.json": json.dumps(info, indent=2, ensure_ascii=False) + "\n", "question.html": page,
            "server.py": SERVER.format(title=first["title"], model=p.model),
            "variants.json": json.dumps(variants, ensure_ascii=False) + "\n"}


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
