"""How big a request may grow, and progress reports while a big one runs.

The cost of a worked solution grows with the number of gate inputs in its graph: each is one
local derivative, one term of the backward pass and one line of working. A graph that would
pass :data:`DEFAULT_MAX_SIZE` of them is refused with a :class:`~symderiv.errors.SizeError`
that names the limit and how to raise it (``--max-size N`` on the command line,
``with symderiv.size_limit(N):`` from Python). Below the limit, a caller may install a progress
reporter (the CLI does when stderr is a terminal).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO

from .errors import ParameterError, SizeError

#: Gate inputs (local derivatives) a graph may have unless raised: from about a second (a 28×28
#: convolution) to half a minute (a sigmoid chain of depth 5000) to solve and print, as measured
#: by benchmarks/size_limit.py.
DEFAULT_MAX_SIZE = 20_000



def how_to_raise(n: int | None, limit: int) -> str:
    """The advice of a size error: raise the limit to ``n`` (None: to more than ``limit``)."""
    if n is None:
        return (f"raise it with --max-size N for an N above {limit:,} "
                "(in Python: with symderiv.size_limit(N): ...)")
    return f"raise it with --max-size {n} (in Python: with symderiv.size_limit({n}): ...)"


_max_size: ContextVar[int] = ContextVar("symderiv_max_size", default=DEFAULT_MAX_SIZE)
_advice: ContextVar[Callable[[int | None, int], str]] = ContextVar("symderiv_advice", default=how_to_raise)
_reporter: ContextVar[Callable[[str, int], None] | None] = ContextVar("symderiv_progress", default=None)


@contextmanager
def size_limit(n: int, advice: Callable[[int | None, int], str] | None = None) -> Iterator[None]:
    """Within the block, graphs may have up to ``n`` gate inputs (local derivatives); ``advice``
    words how to raise it in a size error (default :func:`how_to_raise`, for the CLI and Python)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ParameterError(f"size limit: expected a whole number of at least 1, got {n!r}")
    tokens = _max_size.set(n), _advice.set(advice or how_to_raise)
    try:
        yield
    finally:
        _max_size.reset(tokens[0])
        _advice.reset(tokens[1])


def check(size: int, what: str | None = None, unit: str = "gate inputs (local derivatives)") -> None:
    """Raise :class:`SizeError` when ``size`` passes the limit. With ``what``, ``size`` is the
    whole request's, known before building it; without, it is a graph's count so far."""
    limit = _max_size.get()
    if size <= limit:
        return
    advice = _advice.get()
    if what is None:
        raise SizeError(f"the graph passed the limit of {limit:,} gate inputs (local derivatives) while it was "
                        f"being built; {advice(None, limit)}")
    raise SizeError(f"{what} would have {size:,} {unit}, over the limit of {limit:,}; {advice(size, limit)}")


def progress(stage: str, done: int) -> None:
    """Tell the installed reporter, if any, that ``done`` items of ``stage`` are finished."""
    report = _reporter.get()
    if report is not None:
        report(stage, done)


@contextmanager
def reporting(stream: TextIO, *, delay: float = 1.0, every: float = 0.5) -> Iterator[None]:
    """Within the block, write progress to ``stream`` (one overwritten line), starting after
    ``delay`` seconds and at most every ``every`` seconds; the line is cleared at the end."""
    last = time.monotonic() + delay - every
    shown = False

    def report(stage: str, done: int) -> None:
        nonlocal last, shown
        now = time.monotonic()
        if now - last >= every:
            stream.write(f"\rsymderiv: {stage}: {done:,}\033[K")
            stream.flush()
            last, shown = now, True

    token = _reporter.set(report)
    try:
        yield
    finally:
        _reporter.reset(token)
        if shown:
            stream.write("\r\033[K")
            stream.flush()
