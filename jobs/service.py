"""Runs queued jobs one at a time on the process's model and lets callers wait for them."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from jobs.store import CANCELLED, FAILED, Job, JobStore

log = logging.getLogger(__name__)

Execute = Callable[[Job, Callable[[str, int, int], None], Callable[[], bool], "Checkpoints"], dict]
DescribeError = Callable[[Exception, Job], dict]


class Cancelled(Exception):
    """Raised by the cancel check when the job's cancellation was requested."""


class Checkpoints:
    """Intermediate results of one job, saved as they are made, so a restarted job can resume."""

    def __init__(self, store: JobStore, job_id: str):
        self._store = store
        self._job_id = job_id
        self._saved = store.load_checkpoints(job_id)

    def get(self, key: str) -> Any:
        """A saved value, or None."""
        return self._saved.get(key)

    def put(self, key: str, value: Any) -> None:
        """Save a value."""
        self._saved[key] = value
        self._store.save_checkpoint(self._job_id, key, value)


class JobService:
    """One worker thread per process takes jobs first in first out; waiters are woken on every change."""

    def __init__(self, store: JobStore, execute: Execute, describe_error: DescribeError, *,
                 can_run: Callable[[], bool] = lambda: True, ttl_s: float = 168 * 3600, poll_s: float = 1.0):
        self.store = store
        self._can_run = can_run
        self._execute = execute
        self._describe_error = describe_error
        self._ttl_s = ttl_s
        self._poll_s = poll_s
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last_purge = 0.0

    def start(self) -> None:
        """Requeue jobs a crash left running, then start the worker thread."""
        requeued = self.store.requeue_interrupted()
        if requeued:
            log.info("requeued %d job(s) interrupted by a restart", requeued)
        self._thread = threading.Thread(target=self._work, name="job-worker", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop taking jobs (a running job finishes its current model call first)."""
        self._stop.set()
        self.notify()
        if self._thread is not None:
            self._thread.join(timeout)

    def notify(self) -> None:
        """Wake the worker and every waiter: something changed."""
        with self._changed:
            self._changed.notify_all()

    def wait(self, job_id: str, timeout: float) -> Job | None:
        """The job once it has ended, or as it is when timeout seconds have passed."""
        deadline = time.monotonic() + timeout
        while True:
            job = self.store.get(job_id)
            remaining = deadline - time.monotonic()
            if job is None or job.finished or remaining <= 0:
                return job
            with self._changed:
                self._changed.wait(min(remaining, self._poll_s))

    def wait_for_change(self, timeout: float) -> None:
        """Sleep until something changes (or timeout)."""
        with self._changed:
            self._changed.wait(timeout)

    def _work(self) -> None:
        while not self._stop.is_set():
            self._purge_now_and_then()
            job = self.store.claim_next() if self._can_run() else None
            if job is None:
                with self._changed:
                    self._changed.wait(self._poll_s)
                continue
            self.notify()
            self._run(job)
            self.notify()

    def _run(self, job: Job) -> None:
        def progress(stage: str, done: int, total: int) -> None:
            self.store.set_progress(job.id, stage, done, total)
            self.notify()

        def cancelled() -> bool:
            current = self.store.get(job.id)
            return current is None or current.cancel_requested or self._stop.is_set()

        try:
            result = self._execute(job, progress, cancelled, Checkpoints(self.store, job.id))
        except Exception as error:  # noqa: BLE001 - every failure must end the job with a reason
            if self._stop.is_set() and not self._cancel_requested(job.id):
                log.info("job %s interrupted by shutdown; it will run again", job.id)
                return  # left running: the next start requeues it
            if self._cancel_requested(job.id):
                self.store.fail(job.id, {"code": "cancelled", "message": "the job was cancelled"}, CANCELLED)
            else:
                self.store.fail(job.id, self._describe_error(error, job), FAILED)
            return
        self.store.succeed(job.id, result)

    def _cancel_requested(self, job_id: str) -> bool:
        current = self.store.get(job_id)
        return current is not None and current.cancel_requested

    def _purge_now_and_then(self) -> None:
        if time.monotonic() - self._last_purge > 600:
            self._last_purge = time.monotonic()
            purged = self.store.purge(self._ttl_s)
            if purged:
                log.info("purged %d finished job(s) older than %.0f h", purged, self._ttl_s / 3600)

