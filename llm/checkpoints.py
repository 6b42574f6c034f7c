"""Intermediate results saved by key, so that a long task restarted after a crash resumes where it was, and so that
several workers can share one task's independent pieces (a deployment on several machines: jobs/service.py)."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol


class Checkpoints(Protocol):
    """Where a task keeps intermediate results (a job's store, for jobs). Checkpoints shared between workers also
    have claim(key) -> bool (whether this worker may make the value now) and wait(key) -> value, or None once the
    claim has passed to this worker (the one that held it died)."""

    def get(self, key: str) -> Any:
        """A saved value, or None."""

    def put(self, key: str, value: Any) -> None:
        """Save a value."""


class MadeElsewhere(Exception):
    """Another worker is making this value now; wait() returns it (or None: it is ours to make after all)."""

    def __init__(self, key: str, wait: Callable[[], Any]):
        super().__init__(key)
        self.key = key
        self.wait = wait


class HelpOver(Exception):
    """A worker helping with another worker's job has nothing more it can do for it now."""


_making = threading.local()


@contextmanager
def _made_here() -> Iterator[None]:
    _making.depth = getattr(_making, "depth", 0) + 1
    try:
        yield
    finally:
        _making.depth -= 1


def making_claimed_value() -> bool:
    """Whether this thread is making a value it claimed (a helper's model calls are allowed only then)."""
    return getattr(_making, "depth", 0) > 0


def digest(text: str) -> str:
    """A short fingerprint of a text, so a saved result is reused only for the very same input."""
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16]


def remembered(checkpoints: Checkpoints | None, key: str, make: Callable[[], Any]) -> Any:
    """make() once: when checkpoints already hold the key, the saved value is used instead; when another worker
    has claimed it, MadeElsewhere is raised (TaskRunner.map waits for it after doing the rest)."""
    if checkpoints is not None:
        saved = checkpoints.get(key)
        if saved is not None:
            return saved
        claim = getattr(checkpoints, "claim", None)
        if claim is not None and not claim(key):
            raise MadeElsewhere(key, lambda: checkpoints.wait(key))
    with _made_here():
        value = make()
    if checkpoints is not None:
        checkpoints.put(key, value)
    return value
