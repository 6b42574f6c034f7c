"""Intermediate results saved by key, so that a long task restarted after a crash resumes where it was."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any, Protocol


class Checkpoints(Protocol):
    """Where a task keeps intermediate results (a job's store, for jobs)."""

    def get(self, key: str) -> Any:
        """A saved value, or None."""

    def put(self, key: str, value: Any) -> None:
        """Save a value."""


def digest(text: str) -> str:
    """A short fingerprint of a text, so a saved result is reused only for the very same input."""
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()[:16]


def remembered(checkpoints: Checkpoints | None, key: str, make: Callable[[], Any]) -> Any:
    """make() once: when checkpoints already hold the key, the saved value is used instead."""
    if checkpoints is not None:
        saved = checkpoints.get(key)
        if saved is not None:
            return saved
    value = make()
    if checkpoints is not None:
        checkpoints.put(key, value)
    return value
