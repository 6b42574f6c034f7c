"""Runs queued jobs one at a time on the process's model and lets callers wait for them."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from jobs.store import CANCELLED, FAILED, Job, JobStore

log = logging.getLogger(__name__)
CANCEL_CHECK_S = 0.25
RECOVERY_CHECK_S = 30.0

Execute = Callable[[Job, "JobControl"], dict]
DescribeError = Callable[[Exception, Job], dict]


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


@dataclass
class JobControl:
    """What a running job is given: a progress reporter, its stop checks and its checkpoints."""

    progress: Callable[[str, int, int], None]
    cancelled: Callable[[], bool]  # asked between model calls: stop before the next one
    interrupted: Callable[[], bool]  # asked between generated tokens: stop the call now
    checkpoints: Checkpoints


class JobService:
    """One worker thread per process takes jobs first in first out; waiters are woken on every change."""

    def __init__(self, store: JobStore, execute: Execute, describe_error: DescribeError, *,
                 can_run: Callable[[], bool] = lambda: True, ttl_s: float = 168 * 3600, poll_s: float = 1.0,
                 on_end: Callable[[Job], None] | None = None):
        self.store = store
        self._on_end = on_end
        self._can_run = can_run
        self._execute = execute
        self._describe_error = describe_error
        self._ttl_s = ttl_s
        self._poll_s = poll_s
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._interrupt_at = float("inf")
        self._thread: threading.Thread | None = None
        self._last_purge = 0.0
        self._last_recovery = time.monotonic()

    def start(self) -> None:
        """Requeue jobs a crash left running, then start the worker thread."""
        requeued = self.store.requeue_interrupted()
        if requeued:
            log.info("requeued %d job(s) interrupted by a restart", requeued)
        self._thread = threading.Thread(target=self._work, name="job-worker", daemon=True)
        self._thread.start()

    @property
    def stopping(self) -> bool:
        """True once shutdown has begun: no job will start, and waiters should not wait for one."""
        return self._stop.is_set()

    def begin_shutdown(self, grace_s: float = 0.0) -> None:
        """Stop taking jobs. The running job may finish its current model call within grace_s; after that
        the call is cut short. An unfinished job goes back in the queue and resumes from its checkpoints."""
        self._interrupt_at = min(self._interrupt_at, time.monotonic() + grace_s)  # called again: never later
        self._stop.set()
        self.notify()

    def stop(self, grace_s: float = 0.0) -> None:
        """Shut down and wait for the worker thread to leave the store consistent."""
        self.begin_shutdown(grace_s)
        if self._thread is not None:
            self._thread.join(grace_s + 30)

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
            if job is None or job.finished or remaining <= 0 or self.stopping:
                return job
            with self._changed:
                self._changed.wait(min(remaining, self._poll_s))

    def wait_for_change(self, timeout: float) -> None:
        """Sleep until something changes (or timeout)."""
        with self._changed:
            self._changed.wait(timeout)

    def _work(self) -> None:
        while not self._stop.is_set():
            self._housekeeping()
            job = self.store.claim_next() if self._can_run() else None
            if job is None:
                with self._changed:
                    self._changed.wait(self._poll_s)
                continue
            self.notify()
            self._run(job)
            ended = self.store.get(job.id)
            if self._on_end is not None and ended is not None and ended.finished:
                self._on_end(ended)
            self.notify()

    def _run(self, job: Job) -> None:
        def progress(stage: str, done: int, total: int) -> None:
            self.store.set_progress(job.id, stage, done, total)
            self.notify()

        last_check = {"at": 0.0, "answer": False}

        def cancel_requested(fresh: bool) -> bool:
            # Between tokens (fresh=False) the store is read at most every CANCEL_CHECK_S.
            if fresh or time.monotonic() - last_check["at"] >= CANCEL_CHECK_S:
                current = self.store.get(job.id)
                last_check.update(at=time.monotonic(), answer=current is None or current.cancel_requested)
            return last_check["answer"]

        control = JobControl(
            progress=progress,
            cancelled=lambda: self._stop.is_set() or cancel_requested(fresh=True),
            interrupted=lambda: time.monotonic() >= self._interrupt_at or cancel_requested(fresh=False),
            checkpoints=Checkpoints(self.store, job.id),
        )
        try:
            result = self._execute(job, control)
        except Exception as error:  # noqa: BLE001 - every failure must end the job with a reason
            if self._cancel_requested(job.id):
                self.store.fail(job.id, {"code": "cancelled", "message": "the job was cancelled"}, CANCELLED)
            elif self._stop.is_set():
                self.store.release(job.id)
                log.info("job %s put back in the queue by shutdown; it resumes from its checkpoints", job.id)
            else:
                self.store.fail(job.id, self._describe_error(error, job), FAILED)
            return
        if not self.store.succeed(job.id, result):
            log.warning("job %s was taken over by another worker; this result is dropped", job.id)

    def _cancel_requested(self, job_id: str) -> bool:
        current = self.store.get(job_id)
        return current is not None and current.cancel_requested

    def _housekeeping(self) -> None:
        if time.monotonic() - self._last_recovery > RECOVERY_CHECK_S:
            # A worker killed after its grace (or a crash) leaves its job running; pick it up again.
            self._last_recovery = time.monotonic()
            requeued = self.store.requeue_interrupted()
            if requeued:
                log.info("requeued %d job(s) whose worker is gone", requeued)
        if time.monotonic() - self._last_purge > 600:
            self._last_purge = time.monotonic()
            purged = self.store.purge(self._ttl_s)
            if purged:
                log.info("purged %d finished job(s) older than %.0f h", purged, self._ttl_s / 3600)

