"""How big a request may grow, and progress reports while a big one runs.

A request's *size* is what it costs to derive and write out, in units of about one simple local
derivative (a sum's, a product's of two) derived and printed as text: each gate of a graph adds
the cost its row of the gate table states for its inputs (:attr:`Gate.cost
<symderiv.engine.gates.Gate.cost>`: a sigmoid's local derivative costs more than a sum's, a
window of max pooling with symbolic entries grows with its square), and the output format
multiplies it (:data:`symderiv.render.RENDERERS`: MathML costs more than text). A request that
would pass :data:`DEFAULT_MAX_SIZE` is refused with a :class:`~symderiv.errors.SizeError` that
names the limit and how to raise it (``--max-size N`` on the command line,
``with symderiv.size_limit(N):`` from Python): as its graph is built, before the backward pass,
when the format is known then (the command line says it with :func:`output_format`), and again
before a solution is rendered. Below the limit, a caller may install a progress reporter (the
CLI does when stderr is a terminal).

Work that splits into independent pieces (the models of ``solve --all`` and ``book``, exercise
variants) may use several cores: :func:`run_jobs` runs the pieces in worker processes and
returns their results in order, as one process would.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TextIO, TypeVar

from .errors import ParameterError, SizeError, WorkerDied

#: The size a request may have unless raised: what takes about 30 seconds and well under 1 GB on
#: one core, as benchmarks/costs.py measures.
DEFAULT_MAX_SIZE = 200_000

#: Seconds an outside program (Graphviz's dot) may run for a request within the default limit;
#: a raised limit raises it in proportion.
DEFAULT_SECONDS = 30


def how_to_raise(n: int | None, limit: int) -> str:
    """The advice of a size error: raise the limit to ``n`` (None: to more than ``limit``)."""
    if n is None:
        return (f"raise it with --max-size N for an N above {limit:,} "
                "(in Python: with symderiv.size_limit(N): ...)")
    return f"raise it with --max-size {n} (in Python: with symderiv.size_limit({n}): ...)"


_max_size: ContextVar[int] = ContextVar("symderiv_max_size", default=DEFAULT_MAX_SIZE)
_advice: ContextVar[Callable[[int | None, int], str]] = ContextVar("symderiv_advice", default=how_to_raise)
_format: ContextVar[tuple[str, int]] = ContextVar("symderiv_format", default=("text", 1))
_reporter: ContextVar[Callable[[str, int], None] | None] = ContextVar("symderiv_progress", default=None)


@contextmanager
def size_limit(n: int, advice: Callable[[int | None, int], str] | None = None) -> Iterator[None]:
    """Within the block, requests may have a size of up to ``n``; ``advice`` words how to raise it
    in a size error (default :func:`how_to_raise`, for the CLI and Python)."""
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise ParameterError(f"size limit: expected a whole number of at least 1, got {n!r}")
    tokens = _max_size.set(n), _advice.set(advice or how_to_raise)
    try:
        yield
    finally:
        _max_size.reset(tokens[0])
        _advice.reset(tokens[1])


@contextmanager
def output_format(name: str, weight: int) -> Iterator[None]:
    """Within the block, graphs are weighed as output in format ``name``, which costs ``weight``
    times what text does (so a graph is refused as it is built, not after its backward pass)."""
    token = _format.set((name, weight))
    try:
        yield
    finally:
        _format.reset(token)


def seconds_allowed() -> float:
    """How long an outside program may run: :data:`DEFAULT_SECONDS`, more under a raised limit."""
    return DEFAULT_SECONDS * max(1.0, _max_size.get() / DEFAULT_MAX_SIZE)


def check(size: int, what: str | None = None, unit: str | None = None, output: tuple[str, int] | None = None) -> None:
    """Raise :class:`SizeError` when ``size`` passes the limit, weighed as ``output`` (a format's name
    and its weight; default: that of :func:`output_format`, else text). With ``what``, ``size`` is
    the whole request's, known before building it (``unit`` says what it counts, if not the size);
    without, a graph's so far."""
    limit = _max_size.get()
    fmt, weight = output or _format.get()
    total = size * weight
    if total <= limit:
        return
    advice = _advice.get()
    if what is None:
        weighed = f", counted {weight} times for {fmt} output," if weight != 1 else ""
        raise SizeError(f"the graph passed the size limit of {limit:,}{weighed} while it was being built; "
                        f"{advice(None, limit)}")
    counted = f"{size:,} {unit}" if unit else f"size {size:,}"
    weighed = f" ({weight} times that for {fmt} output: {total:,})" if weight != 1 else ""
    raise SizeError(f"{what} would have {counted}{weighed}, over the limit of {limit:,}; {advice(total, limit)}")


def out_of_time(what: str) -> SizeError:
    """The error for an outside program, ``what``, that ran past :func:`seconds_allowed`."""
    limit = _max_size.get()
    return SizeError(f"{what} did not finish within {seconds_allowed():g} s, the time allowed under the size "
                     f"limit of {limit:,}; {_advice.get()(None, limit)}")


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


Task = TypeVar("Task")
Result = TypeVar("Result")


def default_jobs() -> int:
    """All the cores this process may use (what ``--jobs`` is unless given)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def run_jobs(work: Callable[[Task], Result], tasks: Sequence[Task], jobs: int, stage: str) -> list[Result]:
    """``[work(task) for task in tasks]``, in up to ``jobs`` worker processes when ``jobs`` > 1 and
    there is more than one task (then ``work`` is a module-level function and the tasks and results
    pickle: plain data, not a Solution); never more workers than the cores this process may use
    (:func:`default_jobs`). The results come in task order, so what is made of them is the same
    for any ``jobs``. The first task, in task order, that raises has its exception raised here, as
    in one process (tasks not yet started are cancelled). A worker that dies (killed by a signal,
    as by the out-of-memory killer) raises :class:`~symderiv.errors.WorkerDied`; an interrupt of
    the caller (Ctrl-C, or a signal the caller turns into an exception) stops the workers at once.
    Each worker runs under the caller's size limit and output format, and reports no progress:
    the caller's reporter shows the results received, as ``stage``."""
    workers = min(jobs, len(tasks), default_jobs())
    if workers <= 1:
        return [work(task) for task in tasks]
    import concurrent.futures  # here, not at the top: a command that runs no pool does not pay for them
    import multiprocessing
    caller = _max_size.get(), _advice.get(), _format.get()
    # Forked on Linux (whatever Python's default): a worker starts with symderiv imported and its
    # caches warm, where a spawned one would spend a second importing SymPy.
    context = multiprocessing.get_context("fork") if sys.platform.startswith("linux") else None
    results: list[Result] = []
    others = set(multiprocessing.active_children())
    with concurrent.futures.ProcessPoolExecutor(max_workers=workers, mp_context=context,
                                                initializer=_worker_signals) as pool:
        futures = [pool.submit(_in_worker, work, task, caller) for task in tasks]
        try:
            for future in futures:
                results.append(future.result())
                progress(stage, len(results))
        except concurrent.futures.process.BrokenProcessPool:
            raise WorkerDied("a worker process died before it finished (killed by a signal, as by the "
                             "out-of-memory killer); nothing was written; run again with --jobs 1 "
                             "or a smaller request") from None
        except BaseException as e:
            if isinstance(e, Exception):  # a task failed: the tasks not started are not run
                for future in futures:
                    future.cancel()
            else:  # interrupted: the workers are stopped, which breaks the pool and ends its tasks (a
                # future cancelled too would race the pool's own thread, which then fails to mark it)
                for child in set(multiprocessing.active_children()) - others:
                    child.terminate()
            raise
    return results


def _worker_signals() -> None:
    """A worker ends on SIGTERM and SIGHUP, as a process does by default (a forked worker would
    otherwise run its caller's handlers), and leaves Ctrl-C to its caller, which stops it."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGHUP, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _in_worker(work: Callable[[Any], Any], task: Any,
               caller: tuple[int, Callable[[int | None, int], str], tuple[str, int]]) -> Any:
    """``work(task)`` in a worker process under the caller's limits, with no progress reporter (a
    forked worker would otherwise write to the caller's terminal line)."""
    max_size, advice, fmt = caller
    tokens = _max_size.set(max_size), _advice.set(advice), _format.set(fmt), _reporter.set(None)
    try:
        return work(task)
    finally:
        for var, token in zip((_max_size, _advice, _format, _reporter), tokens):
            var.reset(token)
