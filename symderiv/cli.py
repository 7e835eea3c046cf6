"""The command line: ``symderiv list``, ``solve MODEL [--set NAME=VALUE ...]``, ``derive FORMULA``, ``book``,
``exercise MODEL``.

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
    x = sub.add_parser("exercise", help="randomized variants of a model: a sheet and key, Moodle or PrairieLearn")
    x.add_argument("model", help="model id (see 'symderiv list')")
    x.add_argument("--variants", default="1", metavar="N", help="how many variants (default 1)")
    x.add_argument("--seed", default="0", help="the same seed gives the same variants (default 0)")
    x.add_argument("--vary", action="append", default=[], metavar="NAME=RANGE",
                   help="a parameter's range: int(-3..3), int(-5..5)/10, {0, 1}, or a fixed value")
    x.add_argument("--ask", action="append", default=[], metavar="NAME", help="a value to ask (as 'solve' prints it)")
    x.add_argument("--allow-kinks", action="store_true", help="keep variants at a kink (ReLU at 0, a tie in max)")
    x.add_argument("--format", default="latex", help="latex, moodle, prairielearn, json or html (default latex)")
    x.add_argument("--key", action="store_true", help="latex: the answer key (\\printanswers)")
    x.add_argument("--jobs", default=None, metavar="N", help="worker processes (default: every core)")
    for q in (s, d):
        q.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                       help="set a value: a number (-2, 0.5, 1/3) or a list ([[0.5,-0.3],[0.8,0.2]])")
        q.add_argument("--format", default="text", help=f"one of {', '.join(FORMATS)} (default text)")
        q.add_argument("--standalone", action="store_true", help="LaTeX: a complete document")
    for q in (s, d, b, x):
        q.add_argument("--digits", default="4", help="significant digits of floats (default 4)")
        q.add_argument("--max-size", default=str(DEFAULT_MAX_SIZE), metavar="N",
                       help=f"refuse graphs with more than N gate inputs (default {DEFAULT_MAX_SIZE})")
        q.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    return p


def _settings(pairs: Sequence[str], option: str = "--set") -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        name, eq, value = pair.partition("=")
        name = name.strip()
        if not eq or not name:
            raise UsageError(f"{option} {pair!r}: expected NAME=VALUE, like {option} x=-2")
        if name in out:
            raise UsageError(f"{option}: {name} is given twice")
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
    if args.command == "exercise":
        return _exercise(args)
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


def _exercise(args: argparse.Namespace) -> int:
    """``symderiv exercise``: variants of a model as a sheet, a quiz or a question folder."""
    from .exercise import default_jobs, plan
    from .export import export
    from .export.prairielearn import folder_files, write_folder
    n = _whole("--variants", args.variants, 1, 1000)
    jobs = default_jobs() if args.jobs is None else _whole("--jobs", args.jobs, 1, 256)
    if args.key and args.format != "latex":
        raise UsageError("--key: only --format latex has a sheet and a separate key")
    p = plan(args.model, seed=_whole("--seed", args.seed, 0, 10**12 - 1), vary=_settings(args.vary, "--vary"),
             ask=args.ask, allow_kinks=args.allow_kinks, digits=_whole("--digits", args.digits, 1, 15),
             max_size=_whole("--max-size", args.max_size, 1, 10**9))
    if args.format == "prairielearn":
        if args.output is None or n != 1:
            raise UsageError("--format prairielearn writes one question folder, which draws a variant per "
                             "student: give -o FOLDER and no --variants")
        write_folder(args.output, folder_files(p, os.path.basename(os.path.normpath(args.output))))
        return 0
    with _progress():
        text = export(p, n, args.format, key=args.key, jobs=jobs)
    _write(text, args.output)
    return 0


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
