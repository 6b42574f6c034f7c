"""Run document reading in a child process with a memory cap and a deadline, so a hostile file is refused
instead of hanging or exhausting the server."""

from __future__ import annotations

import contextlib
import multiprocessing
import resource
from collections.abc import Callable
from typing import Any

from pdf_tools.errors import DocumentError, TooComplexError, UnreadableError

_MB = 1024 * 1024
_context: Any = None


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
    except Exception as error:  # noqa: BLE001 - a parser bug on a strange file means "unreadable", not a crash
        outcome = ("error", UnreadableError(f"the PDF cannot be read ({type(error).__name__})"))
    connection.send(outcome)
    connection.close()


def run_isolated(function: Callable, *args: Any, timeout_s: float, memory_mb: int, **kwargs: Any) -> Any:
    """function(*args, **kwargs) in a child process; DocumentErrors come back as they were raised."""
    context = _get_context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child, args=(sender, memory_mb, function, args, kwargs), daemon=True)
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout_s):
            raise TooComplexError(f"reading this PDF took longer than {timeout_s:g} s (PDF_TIMEOUT_S)")
        status, value = receiver.recv()
    except EOFError:
        raise TooComplexError("reading this PDF exhausted the memory or time allowed") from None
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join()
    if status == "error":
        raise value
    return value
