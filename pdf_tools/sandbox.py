"""Run document reading in a child process with a memory cap and a deadline, so a hostile file is refused
instead of hanging or exhausting the server."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import signal
import threading
from collections.abc import Callable
from typing import Any

from pdf_tools.errors import DocumentError, ReaderBusyError, TooComplexError, UnreadableError

_MB = 1024 * 1024
_context: Any = None
# Each reader may use up to its memory cap: bound how many run at once so uploads cannot exhaust the machine.
MAX_CONCURRENT_READERS = 2
_readers = threading.BoundedSemaphore(MAX_CONCURRENT_READERS)


def _get_context():
    """A forkserver context: children fork from a clean, single-threaded process that has pypdf loaded."""
    global _context
    if _context is None:
        try:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["pdf_tools.extract"])
        except ValueError:  # platforms without fork
            context = multiprocessing.get_context("spawn")
        _context = context
    return _context


def _child(connection, memory_mb: int, function: Callable, args: tuple, kwargs: dict) -> None:
    # A group of its own, so that killing the reader also kills the programs it runs (the OCR engine).
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    # If memory runs short anyway, the kernel should kill this reader, not the server holding the model.
    with contextlib.suppress(OSError), open("/proc/self/oom_score_adj", "w") as score:
        score.write("1000")
    limit = memory_mb * _MB
    with contextlib.suppress(ValueError, OSError):  # if the cap cannot be set, the deadline still bounds the work
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    try:
        outcome = ("ok", function(*args, **kwargs))
    except DocumentError as error:
        outcome = ("error", error)
    except MemoryError:
        outcome = ("error", TooComplexError(f"reading this PDF needs more than {memory_mb} MB of memory"))
    except RecursionError:
        outcome = ("error", UnreadableError("the PDF's structure is nested too deeply to read"))
    except Exception:  # noqa: BLE001 - a parser bug on a strange file means "unreadable", not a crash
        outcome = ("error", UnreadableError("the PDF cannot be read"))
    connection.send(outcome)
    connection.close()


def run_isolated(function: Callable, *args: Any, timeout_s: float, memory_mb: int, **kwargs: Any) -> Any:
    """function(*args, **kwargs) in a child process; DocumentErrors come back as they were raised."""
    if not _readers.acquire(timeout=timeout_s):
        raise ReaderBusyError("the server is busy reading other documents; try again shortly")
    try:
        return _run(function, args, kwargs, timeout_s, memory_mb)
    finally:
        _readers.release()


def _run(function: Callable, args: tuple, kwargs: dict, timeout_s: float, memory_mb: int) -> Any:
    context = _get_context()
    try:
        receiver, sender = context.Pipe(duplex=False)
        process = context.Process(target=_child, args=(sender, memory_mb, function, args, kwargs), daemon=True)
        process.start()
    except OSError as error:
        reason = error.strerror or "OS error"
        raise ReaderBusyError(f"the server could not start a document reader ({reason})") from None
    sender.close()
    try:
        if not receiver.poll(timeout_s):
            raise TooComplexError(f"reading this PDF took longer than {timeout_s:g} s (PDF_TIMEOUT_S)")
        status, value = receiver.recv()
    except (EOFError, OSError):
        raise TooComplexError("reading this PDF exhausted the memory or time allowed") from None
    finally:
        receiver.close()
        # Before join: until the reader is reaped its id cannot name another group. An OCR engine left running by a
        # reader that was killed, or that died, goes with the group.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        if process.is_alive():
            process.kill()
        process.join()
    if status == "error":
        raise value
    return value
