"""Wake-ups for whoever waits on a job (a synchronous request, a long-poll, an event stream): each waiter watches one
job and is woken when that job changes, so a chat answer streamed token by token wakes its own followers only.

Two kinds: threads (the development server, gunicorn's gthread worker), and greenlets on gevent's event loop
(gunicorn's gevent worker, where a waiting request holds no thread). Job workers and the model run in native
threads either way; gevent's thread-safe async watcher carries their notifications into the event loop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

Result = TypeVar("Result")


class Waiter:
    """One waiter's wake-up: wait() returns at once when its job changed since the last wait()."""

    def __init__(self, event: Any):
        self._event = event  # threading.Event, or gevent.event.Event on the event loop

    def wake(self) -> None:
        self._event.set()

    def wait(self, timeout: float) -> bool:
        """Sleep until the job changes or timeout seconds pass; True if it changed."""
        changed = self._event.wait(timeout)
        self._event.clear()
        return bool(changed)


class Signals:
    """Waiters by job id; notify(job_id) wakes the job's waiters, notify_all() every waiter."""

    def __init__(self) -> None:
        self._waiters: dict[str, set[Waiter]] = {}
        self._lock = threading.Lock()

    def _new_event(self) -> Any:
        return threading.Event()

    @contextmanager
    def watching(self, job_id: str) -> Iterator[Waiter]:
        """A waiter on the job for the duration of the block: changes from the moment it is made wake it (so
        a change between reading the job and waiting is never missed)."""
        waiter = Waiter(self._new_event())
        with self._lock:
            self._waiters.setdefault(job_id, set()).add(waiter)
        try:
            yield waiter
        finally:
            with self._lock:
                waiters = self._waiters.get(job_id)
                if waiters is not None:
                    waiters.discard(waiter)
                    if not waiters:
                        del self._waiters[job_id]

    @property
    def waiting(self) -> int:
        """How many wait now."""
        with self._lock:
            return sum(len(waiters) for waiters in self._waiters.values())

    def notify(self, job_id: str) -> None:
        """Wake the job's waiters (from any thread)."""
        with self._lock:
            waiters = list(self._waiters.get(job_id, ()))
        for waiter in waiters:
            waiter.wake()

    def notify_all(self) -> None:
        """Wake every waiter (shutdown)."""
        with self._lock:
            waiters = [waiter for group in self._waiters.values() for waiter in group]
        for waiter in waiters:
            waiter.wake()


class GeventSignals(Signals):
    """Signals for greenlets on gevent's event loop. Made in the loop's thread; notify() may come from any thread
    (a job worker): it is handed to the loop, which wakes the waiters there."""

    def __init__(self) -> None:
        import gevent

        super().__init__()
        self._pending: set[str] = set()
        self._everyone = False
        self._pending_lock = threading.Lock()
        self._async = gevent.get_hub().loop.async_()
        self._async.start(self._deliver)

    def _new_event(self) -> Any:
        from gevent.event import Event

        return Event()

    def notify(self, job_id: str) -> None:
        with self._pending_lock:
            self._pending.add(job_id)
        self._async.send()  # thread-safe: the loop runs _deliver soon

    def notify_all(self) -> None:
        with self._pending_lock:
            self._everyone = True
        self._async.send()

    def _deliver(self) -> None:
        with self._pending_lock:
            pending, everyone = self._pending, self._everyone
            self._pending, self._everyone = set(), False
        if everyone:
            super().notify_all()
        for job_id in pending:
            super().notify(job_id)


def on_event_loop() -> bool:
    """Whether this process serves requests as greenlets on gevent's event loop (gunicorn's gevent worker)."""
    try:
        from gevent import monkey
    except ImportError:
        return False
    return monkey.is_module_patched("socket")


def in_native_thread(function: Callable[..., Result], *args: Any, **kwargs: Any) -> Result:
    """function(*args, **kwargs), in a native thread of gevent's pool when requests are greenlets (so blocking work,
    such as reading an upload in a child process, never stalls the event loop); a plain call otherwise."""
    if not on_event_loop():
        return function(*args, **kwargs)
    import gevent

    return gevent.get_hub().threadpool.apply(function, args, kwargs)
