"""The job service: what the HTTP layer asks of jobs (submit, get, wait, follow, cancel, abandon, list), and the
workers of a process that run them on the process's model (one per slot of the model, so several jobs share a
batching engine). On one machine the workers are threads that take jobs first in first out from the store; on
PostgreSQL the task queue (jobs/queue.py) hands jobs to the workers of many processes. Every change wakes whoever
waits, in this process and (jobs/broadcast.py) in the others."""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, BinaryIO

from jobs.broadcast import Broadcast
from jobs.errors import JobCancelledError, JobNotFoundError, TooManyWaitingError
from jobs.signals import Signals
from jobs.store import CANCELLED, FAILED, KEPT_WITH_DOCUMENT, RUNNING, Job, JobStore, StoredFile
from llm.checkpoints import HelpOver
from llm.errors import CancelledError
from storage.errors import StorageUnavailableError

if TYPE_CHECKING:
    from jobs.queue import TaskQueue

log = logging.getLogger(__name__)
CANCEL_CHECK_S = 0.25  # a running call asks the store whether it was cancelled at most this often
RECOVERY_CHECK_S = 30.0  # how often a live worker takes back the jobs of dead ones
PURGE_EVERY_S = 600.0  # how often finished jobs past their time to live are deleted
FOLLOW_POLL_S = 1.0  # a follower looks at its job at least this often, even without a wake-up
STREAM_KEEP_S = 60.0  # how long a job's streamed text stays in memory after it ends
STREAM_SETTLE_S = 2.0  # how long a follower waits for the last streamed pieces of a job that ended elsewhere

Execute = Callable[[Job, "JobControl"], dict]
# The client-facing {"code", "message"} of an error a job ended with (the API's one error table makes it).
DescribeError = Callable[[Exception, Job | None], dict]


def request_key(*parts: str | bytes) -> str:
    """What identical requests share (the task, the model, the options, the bytes sent), and so their job."""
    encoded = [part.encode("utf-8") if isinstance(part, str) else part for part in parts]
    return hashlib.sha256(b"\0".join(encoded)).hexdigest()


@dataclass(frozen=True)
class NewJob:
    """A job to queue: its task, options, stored input, and the key identical requests share."""

    task: str
    options: dict[str, Any]
    input: bytes
    request_key: str
    input_kind: str = "text"
    filename: str | None = None
    request_id: str | None = None
    library: str = ""  # whose job it is (routes/auth.py): jobs of other libraries are never joined or reused
    document_ids: tuple[str, ...] = ()  # stored documents it reads
    reuse: bool = True  # whether a finished identical job's result may answer it


class Checkpoints:
    """Intermediate results of one job, saved as they are made, so a restarted job can resume (its own worker
    makes every piece: one machine)."""

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


class SharedCheckpoints(Checkpoints):
    """A job's checkpoints on a deployment of several workers: each piece is claimed before it is made, so the
    job's own worker and its helpers share the pieces; a piece another worker makes is waited for (a helper stops
    instead: HelpOver)."""

    def __init__(self, store: JobStore, job_id: str, owner: str, *, alive: Callable[[Any, str], bool],
                 wait_for_change: Callable[[float], None], cancelled: Callable[[], bool],
                 on_saved: Callable[[], None], helper: bool = False, yield_to_jobs: Callable[[], bool] = bool):
        super().__init__(store, job_id)
        self._owner, self._alive, self._helper = owner, alive, helper
        self._wait_for_change, self._cancelled, self._on_saved = wait_for_change, cancelled, on_saved
        self._yield_to_jobs = yield_to_jobs  # a helper leaves its worker to a whole job that waits for one
        self.made = 0  # pieces this worker made

    def get(self, key: str) -> Any:
        saved = super().get(key)
        if saved is None:  # another worker may have made it since
            saved = self._store.load_checkpoint(self._job_id, key)
            if saved is not None:
                self._saved[key] = saved
        return saved

    def put(self, key: str, value: Any) -> None:
        super().put(key, value)
        self.made += 1
        self._on_saved()  # the job's own worker may be waiting for this piece

    def claim(self, key: str) -> bool:
        if self._helper and (self._cancelled() or self._yield_to_jobs()):
            raise HelpOver("the job ended, or a whole job waits for this worker")
        return self._store.claim_piece(self._job_id, key, self._owner, self._alive)

    def wait(self, key: str) -> Any:
        if self._helper:
            raise HelpOver("the rest of this job's pieces are being made elsewhere")
        while True:
            saved = self.get(key)
            if saved is not None:
                return saved
            if self._store.claim_piece(self._job_id, key, self._owner, self._alive):
                return None  # its maker died: ours to make
            if self._cancelled():
                raise CancelledError("the task was cancelled")
            self._wait_for_change(FOLLOW_POLL_S)


class TextStreams:
    """The text each job has streamed (a chat answer as its tokens come, a summary's checked sentences), kept in
    memory for whoever follows the job in this process: while it runs, and STREAM_KEEP_S after it ends (so a
    follower that sees it end still gets the last piece); its result holds the text for good."""

    def __init__(self) -> None:
        self._texts: dict[str, str] = {}
        self._ended: dict[str, float] = {}  # job id -> when it ended, oldest first
        self._lock = threading.Lock()

    def append(self, job_id: str, piece: str) -> None:
        """Add a piece to a job's streamed text."""
        with self._lock:
            self._texts[job_id] = self._texts.get(job_id, "") + piece

    def text(self, job_id: str) -> str:
        """What the job has streamed so far ("" when nothing, or long after it ended)."""
        with self._lock:
            return self._texts.get(job_id, "")

    def streaming(self, job_id: str) -> bool:
        """Whether the job has streamed text here and its end has not been heard yet (another process runs it:
        the last pieces may still be on their way)."""
        with self._lock:
            return job_id in self._texts and job_id not in self._ended

    def end(self, job_id: str) -> None:
        """The job has ended: its text is forgotten STREAM_KEEP_S from now."""
        now = time.monotonic()
        with self._lock:
            if job_id in self._texts:
                self._ended[job_id] = now
            while self._ended:
                oldest, ended_at = next(iter(self._ended.items()))
                if now - ended_at < STREAM_KEEP_S:
                    break
                del self._ended[oldest]
                self._texts.pop(oldest, None)


@dataclass
class JobControl:
    """What a running job is given: a progress reporter, its stop checks and its checkpoints."""

    progress: Callable[[str, int, int], None]
    cancelled: Callable[[], bool]  # asked between model calls: stop before the next one
    interrupted: Callable[[], bool]  # asked between generated tokens: stop the call now
    checkpoints: Checkpoints
    save_file: Callable[[str, BinaryIO, int], None] = lambda content_type, source, size: None  # the job's file
    stream: Callable[[str], None] = lambda piece: None  # hands the next piece of the answer to its followers
    helper: bool = False  # running another worker's job only to make the pieces it can claim
    on_shared_map: Callable[[int], None] | None = None  # a map of shareable pieces begins (ask for helpers)


class JobService:
    """Jobs for the HTTP layer, and the worker thread that runs them."""

    def __init__(self, store: JobStore, execute: Execute, describe_error: DescribeError, *, ttl_s: float,
                 max_queue: int, can_run: Callable[[], bool] = lambda: True, poll_s: float = 1.0,
                 on_end: Callable[[Job], None] | None = None, workers: int = 1, signals: Signals | None = None,
                 max_waiting: int | None = None, capacity: Callable[[], int] | None = None,
                 queue: TaskQueue | None = None, broadcast: Broadcast | None = None, runs_jobs: bool = True):
        self.store = store
        self._queue = queue  # None: this process's threads take jobs from the store
        self._broadcast = broadcast or Broadcast()
        self._runs_jobs = runs_jobs  # False on an API node: the workers are other processes
        self._on_end = on_end
        self._can_run = can_run
        self._execute = execute
        self._describe_error = describe_error
        self._ttl_s = ttl_s
        self._max_queue = max_queue
        self._poll_s = poll_s
        self._changed = threading.Condition()  # wakes the workers: a job was queued, or shutdown began
        self._signals = signals or Signals()  # wakes whoever waits on a job (threads, or greenlets on gevent)
        self._max_waiting = max_waiting
        self._stop = threading.Event()
        self._interrupt_at = float("inf")
        self._workers = workers
        # How many of the workers may run a job now (the loaded model's slots): the others wait.
        self._capacity = capacity or (lambda: workers)
        self.streams = TextStreams()
        self._threads: list[threading.Thread] = []
        self._housekeeping_lock = threading.Lock()  # one worker at a time does the housekeeping
        self._last_purge = 0.0
        self._last_recovery = time.monotonic()

    # What the HTTP layer asks

    def submit(self, new: NewJob) -> Job:
        """The job for a request: a finished identical one's result, an identical one still queued or running
        (now shared), or a new job in the queue; raises QueueFullError when MAX_QUEUE jobs already wait."""
        # A result made from a stored document lives as long as the document; other results for JOB_TTL_HOURS.
        kept = new.document_ids and new.task in KEPT_WITH_DOCUMENT
        cached = self.store.cached_result(new.request_key, math.inf if kept else self._ttl_s) if new.reuse else None
        job = cached or self.store.attach(new.request_key)
        if job is None:
            job = self.store.create(
                new.task, new.options, new.input, input_kind=new.input_kind, filename=new.filename,
                request_key=new.request_key, request_id=new.request_id, max_queue=self._max_queue,
                library=new.library, document_ids=new.document_ids, enqueue=self._enqueue,
            )
            self._wake_workers()
        return job

    def get(self, job_id: str, library: str | None = None) -> Job:
        """A job by id (of this library, when one is named: another library's job does not exist for it);
        raises JobNotFoundError."""
        job = self.store.get(job_id)
        if job is None or (library is not None and job.library != library):
            raise JobNotFoundError(f"no job {job_id[:64]!r}: it never existed or has expired")
        return job

    def file(self, job_id: str) -> StoredFile | None:
        """A job's file, if it made one."""
        return self.store.load_file(job_id)

    def list(self, limit: int, offset: int, library: str | None = None) -> list[Job]:
        """Recent jobs (of one library, when named), newest first."""
        return self.store.list(limit=limit, offset=offset, library=library)

    def wait(self, job_id: str, timeout: float) -> Job:
        """The job once it has ended, or as it is after timeout seconds (or when shutdown begins); raises
        JobNotFoundError if it expires meanwhile."""
        deadline = time.monotonic() + timeout
        with self._signals.watching(job_id) as waiter:
            while True:
                job = self.store.get(job_id)
                if job is None:
                    raise JobNotFoundError(f"no job {job_id[:64]!r}: it has expired")
                remaining = deadline - time.monotonic()
                if job.finished or remaining <= 0 or self.stopping:
                    return job
                waiter.wait(min(remaining, self._poll_s))

    def follow(self, job_id: str, idle_s: float) -> Iterator[Job | None]:
        """The job each time its status, progress or streamed text (self.streams) changes, the last time once it
        has ended; None when idle_s passed without a change (time for a keep-alive). Ends early when shutdown
        begins; raises JobNotFoundError when the job expires meanwhile."""
        last_state = None
        last_sent = time.monotonic()
        with self._signals.watching(job_id) as waiter:
            while True:
                job = self.get(job_id)
                settle_until = time.monotonic() + STREAM_SETTLE_S
                while job.finished and self.streams.streaming(job_id) and time.monotonic() < settle_until:
                    waiter.wait(0.05)  # the job ended elsewhere: its last streamed pieces arrive before its end
                state = (job.status, job.progress, len(self.streams.text(job_id)))
                if state != last_state or job.finished:
                    yield job
                    last_state, last_sent = state, time.monotonic()
                if job.finished or self.stopping:
                    return
                if time.monotonic() - last_sent > idle_s:
                    yield None
                    last_sent = time.monotonic()
                waiter.wait(FOLLOW_POLL_S)

    def watching(self, job_id: str):
        """A context whose waiter wakes when the job changes (status, progress, streamed text): `with
        jobs.watching(job_id) as waiter: ... waiter.wait(seconds)`."""
        return self._signals.watching(job_id)

    @property
    def waiting(self) -> int:
        """Requests waiting on a job now (synchronous requests, long-polls, event streams)."""
        return self._signals.waiting

    def make_room(self) -> None:
        """Raise TooManyWaitingError when MAX_WAITING requests already wait: one more would starve the server
        (threads, or connections) that /health and new requests need."""
        if self._max_waiting is not None and self.waiting >= self._max_waiting:
            raise TooManyWaitingError(
                f"{self.waiting} requests already wait on jobs (MAX_WAITING={self._max_waiting}); try again shortly, "
                "or follow the job by its id later"
            )

    def cancel(self, job_id: str, library: str | None = None) -> Job:
        """Cancel: a queued job never runs, a running one stops at its next generated token, an ended one stays
        as it was; raises JobNotFoundError (also for another library's job)."""
        self.get(job_id, library)
        job = self.store.cancel(job_id, self._cancellation("the job was cancelled before it ran"))
        self._notify_job(job_id)
        if job is None:  # purged in between
            raise JobNotFoundError(f"no job {job_id[:64]!r}: it has expired")
        return job

    def abandon(self, job_id: str) -> bool:
        """The client waiting for a job went away: cancel it (nobody else will read it) unless an identical
        request joined it. Returns whether it was cancelled."""
        cancelled = self.store.cancel(
            job_id, self._cancellation("the job was cancelled before it ran"),
            unless_shared=True,
        )
        self._notify_job(job_id)
        return cancelled is not None and not cancelled.shared

    # Lifecycle

    @property
    def _enqueue(self):
        return self._queue.enqueue if self._queue is not None else None

    def start(self) -> None:
        """Hear the other processes' changes; then start the workers: on one machine, requeue the jobs a crash left
        running and start the worker threads; on the task queue, start taking jobs once the model is ready."""
        self._broadcast.start(on_change=self._signals.notify, on_text=self.streams.append, on_end=self.streams.end,
                              on_gap=self._signals.notify_all)
        if self._queue is None:
            requeued = self.store.requeue_interrupted(self._cancellation("the job was cancelled"))
            if requeued:
                log.info("requeued %d job(s) interrupted by a restart", requeued)
        targets = [] if not self._runs_jobs else [self._work] * self._workers if self._queue is None else [
            self._join_task_queue]
        for number, target in enumerate(targets):
            thread = threading.Thread(target=target, args=(number,), name=f"job-worker-{number}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def _join_task_queue(self, _number: int) -> None:
        """Take jobs from the task queue, as many at once as the model has slots, once the model is ready (and
        keep the housekeeping going meanwhile)."""
        while not self._stop.is_set() and not self._can_run():
            self._stop.wait(self._poll_s)
        if self._stop.is_set():
            return
        self._queue.start_worker(self._run_handed, self._help, concurrency=max(1, self._capacity()))
        while not self._stop.wait(self._poll_s):
            self._housekeeping()

    def _help(self, job_id: str, lease: str) -> None:
        """Help with a job another worker runs: run its task on this worker's model only to make the pieces this
        worker can claim (parts of a long document), until none is left; its own worker does the rest."""
        job = self.store.peek(job_id)
        if self._stop.is_set() or job is None or job.status != RUNNING:
            return  # ended already, or not started again yet after its worker died: nothing to help with

        def over() -> bool:
            current = self.store.get(job_id)
            return self._stop.is_set() or current is None or current.finished or current.cancel_requested

        checkpoints = self._shared_checkpoints(job_id, lease, helper=True, cancelled=over)
        # A helper's call is cut short only by shutdown (after its grace): the piece is then made again elsewhere.
        control = JobControl(progress=lambda stage, done, total: None, cancelled=over,
                             interrupted=lambda: time.monotonic() >= self._interrupt_at, checkpoints=checkpoints,
                             helper=True)
        try:
            self._execute(job, control)
        except HelpOver:
            pass
        except Exception as error:  # noqa: BLE001 - the job's own worker meets the same error and reports it
            log.info("help with job %s ended: %s", job_id, type(error).__name__)
        log.info("made %d piece(s) of job %s for the worker that runs it", checkpoints.made, job_id)

    def _shared_checkpoints(self, job_id: str, lease: str, *, helper: bool,
                            cancelled: Callable[[], bool]) -> SharedCheckpoints:
        def wait_for_change(seconds: float) -> None:
            with self._signals.watching(job_id) as waiter:
                waiter.wait(seconds)

        return SharedCheckpoints(
            self.store, job_id, lease, alive=self._queue.lease_alive, wait_for_change=wait_for_change,
            cancelled=cancelled, on_saved=lambda: self._notify_job(job_id), helper=helper,
            yield_to_jobs=lambda: self._queue.jobs_waiting(self.store.database),
        )

    def _run_handed(self, job_id: str, lease: str) -> None:
        """Run a job the task queue handed to this process, under its lease."""
        if self._stop.is_set():  # handed over just as shutdown began: queued again for another worker
            self.store.enqueue(job_id, self._enqueue)
            return
        job = self.store.claim(job_id, lease, self._cancellation("the job was cancelled"))
        self._notify_job(job_id)
        if job is None:  # cancelled before it ran, or ended already
            return
        self._run(job, lease)
        self._after_run(job)

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
        """Shut down and wait for the worker threads to leave the store consistent."""
        self.begin_shutdown(grace_s)
        deadline = time.monotonic() + grace_s + 30
        if self._queue is not None:
            self._queue.stop_worker(max(0.0, deadline - time.monotonic()))
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        """Stop at once (cutting a running call short) and close the store, once the worker has let go of it."""
        self.stop(0.0)
        self._broadcast.close()
        if any(thread.is_alive() for thread in self._threads):
            log.warning("the job worker did not stop; the job store is left open")
            return
        self.store.close()

    def notify(self) -> None:
        """Wake the workers and every waiter: something changed for all (shutdown)."""
        self._wake_workers()
        self._signals.notify_all()

    def _notify_job(self, job_id: str, *, ended: bool = False) -> None:
        """Wake the job's waiters, here and in the other processes."""
        self._signals.notify(job_id)
        self._broadcast.job_changed(job_id, ended=ended)

    def _wake_workers(self) -> None:
        with self._changed:
            self._changed.notify_all()

    # The worker

    def _cancellation(self, message: str, job: Job | None = None) -> dict:
        """The error a cancelled job ends with, as the API's one table describes it."""
        return self._describe_error(JobCancelledError(message), job)

    def _work(self, number: int) -> None:
        while not self._stop.is_set():
            self._housekeeping()
            job = self.store.claim_next() if self._can_run() and number < self._capacity() else None
            if job is None:
                with self._changed:
                    self._changed.wait(self._poll_s)
                continue
            self._notify_job(job.id)
            self._run(job)
            self._after_run(job)

    def _after_run(self, job: Job) -> None:
        ended = self.store.get(job.id)
        if self._on_end is not None and ended is not None and ended.finished:
            self._on_end(ended)
        self._notify_job(job.id, ended=ended is None or ended.finished)

    def _run(self, job: Job, lease: str | None = None) -> None:
        def progress(stage: str, done: int, total: int) -> None:
            self.store.set_progress(job.id, stage, done, total, lease)
            self._notify_job(job.id)

        last_check = {"at": 0.0, "answer": False}

        def cancel_requested(fresh: bool) -> bool:
            # Between tokens (fresh=False) the store is read at most every CANCEL_CHECK_S. A job whose lease went
            # to another worker (this one was presumed dead) stops too: its work would be refused.
            if fresh or time.monotonic() - last_check["at"] >= CANCEL_CHECK_S:
                current = self.store.get(job.id)
                lost = current is not None and lease is not None and current.owner != lease
                last_check.update(at=time.monotonic(), answer=current is None or current.cancel_requested or lost)
            return last_check["answer"]

        def cancelled() -> bool:
            return self._stop.is_set() or cancel_requested(fresh=True)

        shared = self._queue is not None and lease is not None  # other workers may help with its pieces
        control = JobControl(
            progress=progress,
            cancelled=cancelled,
            interrupted=lambda: time.monotonic() >= self._interrupt_at or cancel_requested(fresh=False),
            checkpoints=self._shared_checkpoints(job.id, lease, helper=False, cancelled=cancelled) if shared
            else Checkpoints(self.store, job.id),
            save_file=lambda content_type, source, size: self.store.save_file(job.id, content_type, source, size),
            stream=lambda piece: self._stream(job.id, piece),
            on_shared_map=(lambda pieces: self._queue.ask_for_help(self.store.database, job.id, pieces))
            if shared else None,
        )
        try:
            result = self._execute(job, control)
        except Exception as error:  # noqa: BLE001 - every failure must end the job with a reason
            self._end_job(job, error, lease)
        else:
            if not self.store.succeed(job.id, result, lease):
                log.warning("job %s was taken over by another worker; this result is dropped", job.id)
        finally:
            self.streams.end(job.id)

    def _stream(self, job_id: str, piece: str) -> None:
        self.streams.append(job_id, piece)
        self._signals.notify(job_id)
        self._broadcast.text_streamed(job_id, piece)

    def _end_job(self, job: Job, error: Exception, lease: str | None = None) -> None:
        """End a job that raised: cancelled, put back for a shutdown, or failed with the error."""
        if isinstance(error, StorageUnavailableError) and self._queue is not None:
            # The database went away under the job (a restart, a failover): not the job's fault. It goes back in
            # the queue and resumes from its checkpoints; if the database is still away, the queue's heartbeat
            # check hands it out again later.
            if self.store.release(job.id, lease, self._enqueue):
                log.warning("job %s lost the database; put back in the queue", job.id)
        elif self._cancel_requested(job.id):
            self.store.fail(job.id, self._cancellation("the job was cancelled", job), CANCELLED, lease)
        elif self._stop.is_set():
            if self.store.release(job.id, lease, self._enqueue):
                log.info("job %s put back in the queue by shutdown; it resumes from its checkpoints", job.id)
        elif not self.store.fail(job.id, self._describe_error(error, job), FAILED, lease):
            log.warning("job %s was taken over by another worker; its error here is dropped", job.id)

    def _cancel_requested(self, job_id: str) -> bool:
        current = self.store.get(job_id)
        return current is not None and current.cancel_requested

    def _housekeeping(self) -> None:
        if not self._housekeeping_lock.acquire(blocking=False):
            return
        try:
            self._housekeep()
        finally:
            self._housekeeping_lock.release()

    def _housekeep(self) -> None:
        # On one machine a job whose process is gone is found by its pid; on the task queue, by its worker's
        # heartbeat (jobs/queue.py), never by pids, which other machines (and containers) reuse.
        if self._queue is None and time.monotonic() - self._last_recovery > RECOVERY_CHECK_S:
            # A worker killed after its grace (or a crash) leaves its job running; pick it up again.
            self._last_recovery = time.monotonic()
            requeued = self.store.requeue_interrupted(self._cancellation("the job was cancelled"))
            if requeued:
                log.info("requeued %d job(s) whose worker is gone", requeued)
        if time.monotonic() - self._last_purge > PURGE_EVERY_S:
            self._last_purge = time.monotonic()
            purged = self.store.purge(self._ttl_s)
            if purged:
                log.info("purged %d finished job(s) older than %.0f h", purged, self._ttl_s / 3600)
