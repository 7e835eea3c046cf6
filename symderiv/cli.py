"""The command line: ``symderiv list``, ``solve MODEL [--set NAME=VALUE ...]``, ``derive FORMULA``, ``book``,
``check MODEL ANSWERS``.

Bad input prints one line to stderr and exits with status 2; output files are written whole or
not at all.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import stat
import sys
import tempfile
from collections.abc import Sequence

from . import __version__, limits
from .errors import SymderivError, UsageError
from .limits import DEFAULT_MAX_SIZE
from .models import MODELS, get_model
from .render import FORMATS, render_many
from .values import whole_number

EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        raise UsageError(message)


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="symderiv", description="Exact, step-by-step worked solutions of deep-learning "
                "forward and backward passes.")
    p.add_argument("--version", action="version", version=f"symderiv {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)
    sub.add_parser("list", help="list the model ids")
    s = sub.add_parser("solve", help="print the worked solution of a model")
    s.add_argument("model", nargs="?", help="model id (see 'symderiv list')")
    s.add_argument("--all", action="store_true", help="solve every model with its defaults")
    d = sub.add_parser("derive", help="the worked solution of your own formula")
    d.add_argument("formula", help="e.g. '(x + y) * z' or '1/(1 + exp(-(w0*x0 + w1*x1 + w2)))'")
    d.add_argument("--wrt", action="append", default=[], metavar="NAME", help="report only these gradients")
    d.add_argument("--nary", action="store_true", help="keep a + b + c as one gate (default: two-input gates)")
    d.add_argument("--convention", default="pytorch", help="derivative at kinks: pytorch, tensorflow or half")
    b = sub.add_parser("book", help="every model's worked solution in one LaTeX document")
    c = sub.add_parser("check", help="check a hand-worked answer step by step (exit 1 when something is wrong)")
    c.add_argument("model", help="model id (see 'symderiv list')")
    c.add_argument("answers", nargs="?", help="answers file of NAME = VALUE lines, or - for stdin")
    c.add_argument("--notes", action="store_true", help="check the lecture notes' own numbers")
    c.add_argument("--answer", action="append", default=[], metavar="NAME=VALUE", help="one answer line")
    c.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="set a model parameter")
    c.add_argument("--format", default="text", help="text, json, html or latex (default text)")
    c.add_argument("--standalone", action="store_true", help="LaTeX: a complete document")
    c.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    for q in (s, d):
        q.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                       help="set a value: a number (-2, 0.5, 1/3) or a list ([[0.5,-0.3],[0.8,0.2]])")
        q.add_argument("--format", default="text", help=f"one of {', '.join(FORMATS)} (default text)")
        q.add_argument("--standalone", action="store_true", help="LaTeX: a complete document")
    for q in (s, d, b):
        q.add_argument("--digits", default="4", help="significant digits of floats (default 4)")
        q.add_argument("--max-size", default=str(DEFAULT_MAX_SIZE), metavar="N",
                       help=f"refuse graphs with more than N gate inputs (default {DEFAULT_MAX_SIZE})")
        q.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    return p


def _settings(pairs: Sequence[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, eq, value = pair.partition("=")
        name = name.strip()
        if not eq or not name:
            raise UsageError(f"--set {pair!r}: expected NAME=VALUE, like --set x=-2")
        if name in out:
            raise UsageError(f"--set: {name} is given twice")
        out[name] = value.strip()
    return out


def _whole(option: str, text: str, low: int, high: int) -> int:
    n = whole_number(text, low, high)
    if n is None:
        raise UsageError(f"{option}: expected a whole number from {low:,} to {high:,}, got {text!r}")
    return n


def _write(text: str, path: str | None) -> None:
    """Write ``text`` to stdout, or whole to ``path`` (through a temporary file renamed over it):
    a symlink's target is written, and the file gets the mode an ordinary new file would (or
    keeps the one it had)."""
    if path is None:
        sys.stdout.write(text)
        return
    target = os.path.realpath(path)
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    try:
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".symderiv-", suffix=".tmp")
    except OSError as e:
        raise UsageError(f"-o {path}: cannot write there ({e.strerror or e})") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as e:  # nothing half-written is left behind, even on Ctrl-C
        os.unlink(tmp)
        if isinstance(e, OSError):
            raise UsageError(f"-o {path}: cannot write there ({e.strerror or e})") from None
        raise


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; raises SymderivError on bad input."""
    args = _parser().parse_args(argv)
    if args.command == "list":
        width = max(map(len, MODELS))
        _write("".join(f"{m.id.ljust(width)}  {m.title}\n" for m in MODELS.values()), None)
        return 0
    if args.command == "check":
        return _check(args)
    if getattr(args, "format", "text") not in FORMATS:
        raise UsageError(f"--format: unknown format {args.format!r}; expected one of {', '.join(FORMATS)}")
    digits = _whole("--digits", args.digits, 1, 30)
    with limits.size_limit(_whole("--max-size", args.max_size, 1, 10**9)), _progress():
        text = _solve(args, digits)
    _write(text, args.output)
    return 0


def _solve(args: argparse.Namespace, digits: int) -> str:
    if args.command == "book":
        from .render.latex import book
        return book([model.solve() for model in MODELS.values()], digits)
    if args.command == "derive":
        from .formula import derive
        sol = derive(args.formula, _settings(args.set), wrt=args.wrt or None, convention=args.convention,
                     nary=args.nary)
        return render_many([sol], args.format, digits=digits, standalone=args.standalone)
    if args.all == bool(args.model):
        raise UsageError("solve: give one model id, or --all")
    settings = _settings(args.set)
    if args.all and settings:
        raise UsageError("solve --all takes no --set (each model uses its defaults)")
    ids = list(MODELS) if args.all else [args.model]
    solutions = [get_model(model_id).solve(**settings) for model_id in ids]
    return render_many(solutions, args.format, digits=digits, standalone=args.standalone)


def _check(args: argparse.Namespace) -> int:
    """``symderiv check``: 0 when every number is right, 1 when one is wrong (bad input raises)."""
    from .check import CHECK_FORMATS, check, notes_answers
    if args.format not in CHECK_FORMATS:
        raise UsageError(f"check --format: expected one of {', '.join(CHECK_FORMATS)}, got {args.format!r}")
    if sum((args.notes, args.answers is not None, bool(args.answer))) != 1:
        raise UsageError("check: give an answers file (- for stdin), --answer NAME=VALUE, or --notes")
    if args.notes:
        answers = notes_answers(args.model)
        if answers is None:
            raise UsageError(f"check --notes: the notes give no numbers for {args.model}")
    elif args.answer:
        answers = "\n".join(args.answer)
    elif args.answers == "-":
        answers = sys.stdin.read()
    else:
        try:
            with open(args.answers, encoding="utf-8") as f:
                answers = f.read(2_000_001)
        except (OSError, UnicodeDecodeError) as e:
            raise UsageError(f"check: cannot read {args.answers} ({getattr(e, 'strerror', None) or e})") from None
    report = check(args.model, answers, **_settings(args.set))
    color = args.format == "text" and args.output is None and sys.stdout.isatty()
    _write(report.render(args.format, color=color, standalone=args.standalone), args.output)
    return 0 if report.ok else 1


def _progress() -> contextlib.AbstractContextManager:
    """Progress on stderr when it is a terminal (a long request is never a silent hang)."""
    return limits.reporting(sys.stderr) if sys.stderr.isatty() else contextlib.nullcontext()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``symderiv`` command."""
    try:
        return run(argv)
    except SymderivError as e:
        print(f"symderiv: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("symderiv: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
