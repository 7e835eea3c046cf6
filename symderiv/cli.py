"""The command line: ``symderiv list``, ``solve MODEL [--set NAME=VALUE ...]``, ``derive FORMULA``, ``book``,
``exercise MODEL``, ``check MODEL ANSWERS``.

Bad input prints one line to stderr and exits with status 2, a bug of symderiv one line saying so
and status 1; regular output files are written whole or not at all, FIFOs and character devices
straight into, and nothing else is replaced.
"""

from __future__ import annotations

import argparse
import dataclasses
import contextlib
import errno
import functools
import os
import re
import signal
import stat
import sys
import tempfile
import threading
from collections.abc import Sequence
from typing import Any, TextIO

from . import __version__, limits
from .errors import REPORT_BUGS, SymderivError, UsageError
from .limits import DEFAULT_MAX_SIZE
from .models import MODELS, get_model, listed
from .render import FORMATS, Part, format_weight, join_parts, render_many, render_part

#: Where the exercise formats' help goes: filled from the export table (symderiv.export.EXPORTS,
#: which imports SymPy) only when that help is printed.
_EXPORTS_HELP = "the exercise format (see below)"


class _ExerciseHelp(argparse.HelpFormatter):
    """Writes ``exercise --format``'s help from the export table's rows, when it is printed."""

    def _expand_help(self, action: argparse.Action) -> str:
        if action.help == _EXPORTS_HELP:
            from .export import EXPORTS
            return "; ".join(f"{name}: {row.help}" for name, row in EXPORTS.items()) + " (default latex)"
        return super()._expand_help(action)


EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 128 + 13  # what a shell reports for a tool killed by SIGPIPE (13), as `yes | head -1`
MAX_JOBS = 256  # worker processes --jobs may ask for
_LONGEST_MESSAGE = 500  # characters of an internal error's message on its one line


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, not argparse's usage block
        raise UsageError(message)

    def print_help(self, file: TextIO | None = None) -> None:  # a write error is one line, not lost
        if file is None:
            _write(self.format_help(), None)
        else:
            super().print_help(file)


class _Version(argparse.Action):
    """``--version``, written as all output is (argparse's own would lose a write error)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, help="show program's version number and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace, values: Any,
                 option_string: str | None = None) -> None:
        _write(f"symderiv {__version__}\n", None)
        parser.exit()


def _parser() -> argparse.ArgumentParser:
    p = _Parser(prog="symderiv", description="Exact, step-by-step worked solutions of deep-learning "
                "forward and backward passes.")
    p.add_argument("--version", action=_Version)
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
    x = sub.add_parser("exercise", help="randomized variants of a model: a sheet and key, Moodle, PrairieLearn, "
                       "Canvas (QTI)", formatter_class=_ExerciseHelp)
    x.add_argument("model", help="model id (see 'symderiv list')")
    x.add_argument("--variants", default="1", metavar="N", help="how many variants (default 1)")
    x.add_argument("--seed", default="0", help="the same seed gives the same variants (default 0)")
    x.add_argument("--vary", action="append", default=[], metavar="NAME=RANGE",
                   help="a parameter's range: int(-3..3), int(-5..5)/10, {0, 1}, or a fixed value")
    x.add_argument("--ask", action="append", default=[], metavar="NAME", help="a value to ask (as 'solve' prints it)")
    x.add_argument("--allow-kinks", action="store_true", help="keep variants at a kink (ReLU at 0, a tie in max)")
    x.add_argument("--format", default="latex", help=_EXPORTS_HELP)
    x.add_argument("--key", action="store_true", help="latex: the answer key (\\printanswers)")
    c = sub.add_parser("check", help="check a hand-worked answer step by step (exit 1 when something is wrong)")
    c.add_argument("model", help="model id (see 'symderiv list')")
    c.add_argument("answers", nargs="?", help="answers file of NAME = VALUE lines, or - for stdin")
    c.add_argument("--notes", action="store_true", help="check the lecture notes' own numbers")
    c.add_argument("--answer", action="append", default=[], metavar="NAME=VALUE", help="one answer line")
    c.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="set a model parameter")
    c.add_argument("--format", default="text", help="text, json, html or latex (default text)")
    c.add_argument("--hints", action="store_true", help="say where the first slip is and its kind, never a value")
    c.add_argument("--tolerance", metavar="T", help="significant digits (3) or relative (0.1%%, 1e-3); "
                   "default: a decimal claims the digits it writes")
    c.add_argument("--standalone", action="store_true", help="LaTeX: a complete document")
    c.add_argument("-o", "--output", metavar="FILE", help="write to FILE instead of stdout")
    for q in (s, d):
        q.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                       help="set a value: a number (-2, 0.5, 1/3) or a list ([[0.5,-0.3],[0.8,0.2]])")
        q.add_argument("--format", default="text", help=f"one of {', '.join(FORMATS)} (default text)")
        q.add_argument("--standalone", action="store_true", help="LaTeX: a complete document")
    for q in (s, b, x):
        q.add_argument("--jobs", default=None, metavar="N",
                       help="worker processes, each working whole models or variants (default, and at most: "
                       "every core this process may use)")
    for q in (s, d, b, x):
        q.add_argument("--digits", default="4", help="significant digits of floats (default 4)")
        q.add_argument("--max-size", default=str(DEFAULT_MAX_SIZE), metavar="N",
                       help=f"refuse requests of a size (cost) above N (default {DEFAULT_MAX_SIZE})")
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
    from .values import whole_option  # here, not at the top: it imports SymPy
    return whole_option(option, text, low, high, UsageError)


def _jobs(args: argparse.Namespace) -> int:
    """``--jobs N``: how many worker processes (every core unless given)."""
    text = getattr(args, "jobs", None)
    return limits.default_jobs() if text is None else _whole("--jobs", text, 1, MAX_JOBS)


def _write(text: str, path: str | None) -> None:
    """Write ``text`` to standard output, or to ``path`` (see :func:`_write_file`)."""
    if path is not None:
        _write_file(text, path)
        return
    stream = sys.stdout
    if stream is None:  # started with standard output closed (>&-)
        raise UsageError("cannot write to standard output: it is closed; redirect it, or give -o FILE")
    binary = getattr(stream, "buffer", None)
    try:
        if binary is None:  # a text-only stream (a test's StringIO)
            stream.write(text)
        else:  # bytes, until all are taken: an unbuffered stream's text layer drops a short write
            stream.flush()
            data = memoryview(text.replace("\n", os.linesep).encode(stream.encoding, stream.errors))
            while data:
                written = binary.write(data)
                if written is None:  # a non-blocking descriptor that is full
                    raise BlockingIOError(errno.EAGAIN, os.strerror(errno.EAGAIN))
                data = data[written:]
        stream.flush()
    except BrokenPipeError:
        _abandon_stdout()
        raise _StdoutClosedByReader() from None
    except OSError as e:
        _abandon_stdout()
        raise UsageError(f"cannot write to standard output ({e.strerror or e})") from None
    except UnicodeEncodeError as e:
        raise UsageError(f"cannot write to standard output: its encoding, {e.encoding}, has no "
                         f"U+{ord(e.object[e.start]):04X}; set PYTHONIOENCODING=utf-8, or give -o FILE") from None


class _StdoutClosedByReader(Exception):
    """Standard output is a pipe whose reader has gone (``symderiv ... | head -1``)."""


def _abandon_stdout() -> None:
    """Point standard output's descriptor at the null device, so that the interpreter's last flush
    of what could not be written raises nothing at shutdown (Python's recipe for SIGPIPE)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # not a file descriptor (a test's capture)
        return
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, fd)
    os.close(null)


_REFUSED_KINDS = {stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket"}


def _write_file(text: str, path: str) -> None:
    """Write ``text`` to the file ``path``. A regular file (or a new one) is written whole or not
    at all, through a temporary file renamed over it: a symlink's target is written, a hard link
    is replaced by a new file. A FIFO or a character device is written straight into (it cannot be
    replaced); a directory, a block device, a socket, a dangling symlink or a loop is refused."""
    if not path:
        raise UsageError("-o: the file name is empty; name a file, or leave out -o to write to standard output")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if os.path.islink(path):
            raise UsageError(f"-o {path}: cannot write there (a symbolic link to {os.readlink(path)!r}, "
                             "which does not exist)") from None
        mode = None
    except OSError as e:
        reason = "a loop of symbolic links" if e.errno == errno.ELOOP else e.strerror or str(e)
        raise UsageError(f"-o {path}: cannot write there ({reason})") from None
    if mode is None or stat.S_ISREG(mode):
        _replace_file(text, path)
    elif stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):
        _write_into(text, path)
    elif stat.S_ISDIR(mode):
        raise UsageError(f"-o {path}: cannot write there ({os.strerror(errno.EISDIR)})")
    else:
        kind = _REFUSED_KINDS.get(stat.S_IFMT(mode), "not a file")
        raise UsageError(f"-o {path}: cannot write there ({kind}; -o writes regular files, FIFOs "
                         "and character devices)")


def _write_into(text: str, path: str) -> None:
    """Write ``text`` straight into an existing FIFO or character device (never created here)."""
    try:
        with os.fdopen(os.open(path, os.O_WRONLY), "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as e:
        raise UsageError(f"-o {path}: cannot write there ({e.strerror or e})") from None


def _replace_file(text: str, path: str) -> None:
    """Write ``text`` whole to the regular (or new) file ``path``, through a temporary file renamed
    over it: a symlink's target is written, and the file gets the mode an ordinary new file would
    (or keeps the one it had)."""
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
    except BaseException as e:  # nothing half-written is left behind, even on Ctrl-C or SIGTERM
        with contextlib.suppress(FileNotFoundError):  # a signal just after the rename
            os.unlink(tmp)
        if isinstance(e, OSError):
            raise UsageError(f"-o {path}: cannot write there ({e.strerror or e})") from None
        raise


def run(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; raises SymderivError on bad input."""
    args = _parser().parse_args(argv)
    if args.command == "list":
        titles = listed()
        width = max(map(len, titles))
        _write("".join(f"{model_id.ljust(width)}  {title}\n" for model_id, title in titles.items()), None)
        return 0
    if args.command == "exercise":
        return _exercise(args)
    if args.command == "check":
        return _check(args)
    if getattr(args, "format", "text") not in FORMATS:
        raise UsageError(f"--format: unknown format {args.format!r}; expected one of {', '.join(FORMATS)}")
    digits = _whole("--digits", args.digits, 1, 30)
    jobs = _jobs(args)
    fmt = "latex" if args.command == "book" else args.format
    with limits.size_limit(_whole("--max-size", args.max_size, 1, 10**9)), \
            limits.output_format(fmt, format_weight(fmt)), _progress():
        text = _solve(args, digits, jobs)
    _write(text, args.output)
    return 0


def _solve(args: argparse.Namespace, digits: int, jobs: int) -> str:
    if args.command == "book":
        from .render.latex import book
        chapters = limits.run_jobs(_book_chapter, [(model_id, digits) for model_id in MODELS], jobs, "models")
        for _, error in chapters:
            if error is not None:
                raise error
        return book([chapter for chapter, _ in chapters])
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
    if len(ids) > 1 and jobs > 1:  # each worker solves and renders whole models; joined here, in order
        parts = limits.run_jobs(_solved_part, [(model_id, args.format, digits) for model_id in ids], jobs, "models")
        return join_parts(parts, args.format, digits=digits, standalone=args.standalone)
    solutions = [get_model(model_id).solve(**settings) for model_id in ids]
    return render_many(solutions, args.format, digits=digits, standalone=args.standalone)


def _solved_part(task: tuple[str, str, int]) -> Part:
    """A model's default solution, as its part of ``solve --all`` (run in a worker process)."""
    model_id, fmt, digits = task
    return render_part(get_model(model_id).solve(), fmt, digits=digits)


def _book_chapter(task: tuple[str, int]) -> tuple[str | None, Exception | None]:
    """A model's chapter of ``book``: its default solution and the catalogue's other versions.
    An error rendering it is returned, to be raised once every model is solved, as when the
    models are all solved before the first is rendered."""
    from .record import Title
    from .render.latex import book_chapter
    model_id, digits = task
    model = get_model(model_id)
    chapter = [model.solve(), *(dataclasses.replace(model.solve(**settings), title=Title(f"{model.id}: ", heading))
                                for heading, settings in model.alternatives)]
    try:
        return book_chapter(chapter, digits), None
    except Exception as e:  # noqa: BLE001 (raised by _solve, in the models' order)
        return None, e


def _exercise(args: argparse.Namespace) -> int:
    """``symderiv exercise``: variants of a model as a sheet, a quiz, a package or a question folder."""
    from .exercise import plan
    from .export import export, export_format
    from .export.prairielearn import write_folder
    n = _whole("--variants", args.variants, 1, 1000)
    jobs = _jobs(args)
    row = export_format(args.format)
    if args.key and args.format != "latex":
        raise UsageError("--key: only --format latex has a sheet and a separate key")
    if row.folder and args.output is None:
        raise UsageError(f"--format {args.format} writes a folder: give -o FOLDER")
    p = plan(args.model, seed=_whole("--seed", args.seed, 0, 10**12 - 1), vary=_settings(args.vary, "--vary"),
             ask=args.ask, allow_kinks=args.allow_kinks, digits=_whole("--digits", args.digits, 1, 15),
             max_size=_whole("--max-size", args.max_size, 1, 10**9))
    with _progress():
        out = export(p, n, args.format, key=args.key, jobs=jobs, output=args.output)
    if row.folder:
        write_folder(args.output, out)
    elif isinstance(out, bytes):
        _write_bytes(out, args.output)
    else:
        _write(out, args.output)
    return 0


def _write_bytes(data: bytes, path: str | None) -> None:
    """A binary output (a zip) to ``path``, or to standard output."""
    if path is None:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    try:
        with open(path, "wb") as f:
            f.write(data)
    except OSError as e:
        raise UsageError(f"-o {path}: cannot write there ({e.strerror or e})") from None


def _check(args: argparse.Namespace) -> int:
    """``symderiv check``: 0 when every number is right, 1 when one is wrong or a line was not
    read (the others are still checked), 2 when nothing could be read (bad input raises)."""
    from .check import CHECK_FORMATS, check_answers, notes_answers, read_answers
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
        answers = read_answers(sys.stdin.buffer if hasattr(sys.stdin, "buffer") else _Encoded(sys.stdin), "stdin")
    else:
        try:
            with open(args.answers, "rb") as f:
                answers = read_answers(f, args.answers)
        except OSError as e:
            raise UsageError(f"check: cannot read {args.answers} ({getattr(e, 'strerror', None) or e})") from None
    report = check_answers(args.model, answers, tolerance=args.tolerance, hints=args.hints, **_settings(args.set))
    color = args.format == "text" and args.output is None and sys.stdout.isatty()
    _write(report.render(args.format, color=color, standalone=args.standalone), args.output)
    return 0 if report.ok else 1


class _Encoded:
    """A text stream read as bytes (a test's StringIO standing in for stdin)."""

    def __init__(self, stream):
        self.stream = stream

    def read(self, n: int) -> bytes:
        return self.stream.read(n).encode("utf-8")


def _progress() -> contextlib.AbstractContextManager:
    """Progress on stderr when it is a terminal (a long request is never a silent hang)."""
    return limits.reporting(sys.stderr) if sys.stderr.isatty() else contextlib.nullcontext()


class _Stopped(BaseException):
    """SIGTERM or SIGHUP arrived: raised where the program is, so that what it was writing is
    removed on the way out (as on Ctrl-C), never left half-written."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _stop(owner: int, signum: int, frame: Any) -> None:
    if os.getpid() != owner:  # a worker forked before it set its own handlers: end as by default
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
        return
    raise _Stopped(signum)


@contextlib.contextmanager
def _stopping_on_signals() -> Any:
    """Within the block, SIGTERM and SIGHUP raise :class:`_Stopped` (where they would end the
    process at once, leaving a temporary file behind); a signal ignored by whoever started
    symderiv (``nohup``) stays ignored, and the handlers are restored at the end."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {}
    for signum in (signal.SIGTERM, signal.SIGHUP):
        if signal.getsignal(signum) is signal.SIG_DFL:
            previous[signum] = signal.signal(signum, functools.partial(_stop, os.getpid()))
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``symderiv`` command; returns the exit status: 0 done, 2 bad input
    (one line on stderr), 1 a bug of symderiv (one line saying so; ``SYMDERIV_TRACEBACK=1``
    shows the traceback instead), 130 interrupted, 141 standard output closed by its reader,
    128 + N stopped by signal N (SIGTERM: 143, SIGHUP: 129; nothing half-written is left)."""
    try:
        with _stopping_on_signals():
            return run(argv)
    except _Stopped as e:
        print(f"symderiv: stopped by {signal.Signals(e.signum).name}", file=sys.stderr)
        return 128 + e.signum
    except SymderivError as e:
        print(f"symderiv: error: {e}", file=sys.stderr)
        return EXIT_USAGE
    except _StdoutClosedByReader:  # quiet, as a Unix tool killed by SIGPIPE
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("symderiv: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as e:  # InternalError, or any other bug: never reported like bad input
        if os.environ.get("SYMDERIV_TRACEBACK") == "1":
            raise
        print(_internal_error_line(e), file=sys.stderr)
        return EXIT_INTERNAL


def _internal_error_line(e: Exception) -> str:
    """The one line that reports a bug: the exception's type and message, and where to report it."""
    message = re.sub(r"\s*\n\s*", " ", str(e).strip())
    if len(message) > _LONGEST_MESSAGE:
        message = message[:_LONGEST_MESSAGE] + "…"
    what = f"{type(e).__name__}: {message}" if message else type(e).__name__
    return f"symderiv: internal error (a bug, not your input): {what}; {REPORT_BUGS}"


if __name__ == "__main__":
    sys.exit(main())
