"""The task queue of a deployment on PostgreSQL: procrastinate hands each queued job to one worker process, keeps
a heartbeat per worker, and hands the job of a worker whose heartbeat stopped (a kill, a power loss, a network
cut) to another one, which resumes it from its checkpoints. Our own tables keep everything else (jobs, progress,
results); the queue holds only "run job X", deferred in the same transaction that stores job X.

Why procrastinate: the queue lives in the PostgreSQL the deployment already has (one system to make highly
available), worker liveness is a heartbeat rather than a visibility timeout tied to how long a job runs, and
workers are long-lived processes that load the model once.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import procrastinate
import procrastinate.schema
import psycopg

from jobs.errors import DeploymentMismatchError
from storage.errors import StorageUnavailableError

log = logging.getLogger(__name__)
QUEUE = "docservice"
RUN_JOB = "docservice.run_job"
HELP_JOB = "docservice.help_job"
# A whole job goes to a free worker before any help with another one's pieces: a big document's helpers never
# keep a short request waiting (procrastinate hands out the highest priority first, then the oldest).
JOB_PRIORITY, HELP_PRIORITY = 0, -1
MOST_HELPERS = 32  # helpers asked for one map of pieces, at most
RESTART_S = 2.0  # a worker loop that died (the database went away) starts again after this
SCHEMA_LOCK = 0x71756575  # "queu": one process at a time creates procrastinate's tables

# Runs a job the queue handed to this worker: (job id, lease). The lease is unique to this hand-out: only writes
# under it count, so a worker presumed dead that comes back cannot overwrite the new attempt's result.
RunJob = Callable[[str, str], None]


def ensure_schema(url: str) -> None:
    """Create procrastinate's tables, functions and triggers if the database lacks them (once, under a lock)."""
    try:
        with psycopg.connect(url, connect_timeout=10) as connection:
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            if connection.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()[0] is None:
                connection.execute(procrastinate.schema.SchemaManager.get_schema())
                log.info("created the task queue's tables (procrastinate %s)", procrastinate.__version__)
            connection.commit()
    except psycopg.OperationalError as error:
        log.warning("database unavailable: %s", str(error).strip().splitlines()[0] if str(error).strip() else error)
        raise StorageUnavailableError("the database cannot be reached now; try again shortly") from error


class TaskQueue:
    """Deferring jobs (any node) and running them (a worker: a thread with its own event loop)."""

    def __init__(self, url: str, *, worker_timeout_s: float):
        self._url = url
        self._worker_timeout_s = worker_timeout_s
        # Deferring happens on our own connection, inside our transaction: an app whose pool is never opened
        # refuses any defer that forgets the connection.
        self._defer_app = procrastinate.App(connector=procrastinate.SyncPsycopgConnector())
        self._name = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker_task: asyncio.Task | None = None
        self._stopping = threading.Event()

    def enqueue(self, connection, job_id: str) -> None:
        """Queue "run job_id" in the caller's transaction (connection: the store's, see jobs/store.py)."""
        self._defer_app.configure_task(RUN_JOB, connection=connection.raw, queue=QUEUE,
                                       priority=JOB_PRIORITY).defer(job_id=job_id)

    def ask_for_help(self, database, job_id: str, pieces: int) -> int:
        """Ask the other workers to help make a job's pieces: one helper per other live worker, at most one per
        piece but the one its own worker makes. Returns how many were asked."""
        def ask(db) -> int:
            helpers = min(pieces - 1, max(0, self._live(db) - 1), MOST_HELPERS)
            for _ in range(helpers):
                self._defer_app.configure_task(HELP_JOB, connection=db.raw, queue=QUEUE,
                                               priority=HELP_PRIORITY).defer(job_id=job_id)
            return helpers

        return database.transaction(ask)

    def jobs_waiting(self, database) -> bool:
        """Whether a whole job waits for a worker (a helper then stops after its piece and lets it have one)."""
        return database.read_one("SELECT EXISTS (SELECT 1 FROM procrastinate_jobs WHERE queue_name = ? AND"
                                 " task_name = ? AND status = 'todo')", (QUEUE, RUN_JOB))[0]

    def lease_alive(self, db, lease: str) -> bool:
        """Whether the hand-out that a lease names still runs on a worker with a recent heartbeat."""
        parts = lease.rsplit(":", 2)
        if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
            return False
        return db.execute(
            "SELECT EXISTS (SELECT 1 FROM procrastinate_jobs JOIN procrastinate_workers"
            " ON procrastinate_workers.id = procrastinate_jobs.worker_id WHERE procrastinate_jobs.id = ?"
            " AND procrastinate_jobs.status = 'doing' AND procrastinate_jobs.attempts = ?"
            " AND procrastinate_workers.last_heartbeat > now() - make_interval(secs => ?))",
            (int(parts[1]), int(parts[2]), self._worker_timeout_s),
        ).fetchone()[0]

    def join_deployment(self, database, model_name: str) -> None:
        """Record this process's model as the deployment's, or raise DeploymentMismatchError when live workers
        serve another one (a deployment serves one model; with no live worker, the newcomer's model is it)."""
        def join(db) -> str | None:
            db.execute("SELECT pg_advisory_xact_lock(?)", (SCHEMA_LOCK,))
            row = db.execute("SELECT value FROM deployment WHERE name = 'model'").fetchone()
            if row is not None and row[0] != model_name and self._live(db):
                return row[0]
            db.execute("INSERT INTO deployment (name, value) VALUES ('model', ?)"
                       " ON CONFLICT (name) DO UPDATE SET value = excluded.value", (model_name,))
            return None

        served = database.transaction(join)
        if served is not None:
            raise DeploymentMismatchError(
                f"this process serves model {model_name!r}, but the deployment's live workers serve {served!r}: "
                "set the same model everywhere (to change it, stop every worker first)"
            )

    def _live(self, db) -> int:
        return db.execute(
            "SELECT COUNT(*) FROM procrastinate_workers WHERE last_heartbeat > now() - make_interval(secs => ?)",
            (self._worker_timeout_s,),
        ).fetchone()[0]

    def live_workers(self, database) -> int:
        """Workers whose heartbeat is recent."""
        return database.transaction(self._live)

    # The worker

    def start_worker(self, run_job: RunJob, help_job: RunJob, concurrency: int) -> None:
        """Run jobs (and help with other workers' jobs) in a thread of this process, concurrency at once, until
        stop_worker()."""
        self._thread = threading.Thread(target=self._supervise, args=(run_job, help_job, concurrency),
                                        name="task-queue", daemon=True)
        self._thread.start()

    def _supervise(self, run_job: RunJob, help_job: RunJob, concurrency: int) -> None:
        while not self._stopping.is_set():
            try:
                asyncio.run(self._work(run_job, help_job, concurrency))
            except Exception as error:  # noqa: BLE001 - the database went away: start again once it is back
                log.warning("the task queue's worker stopped (%s: %s); starting again", type(error).__name__,
                            str(error).splitlines()[0] if str(error) else "")
            self._stopping.wait(RESTART_S)

    async def _work(self, run_job: RunJob, help_job: RunJob, concurrency: int) -> None:
        loop = asyncio.get_running_loop()
        # Sync tasks run on the loop's default executor: one thread per job that may run at once, and spare ones
        # for the connector's own blocking calls.
        loop.set_default_executor(ThreadPoolExecutor(concurrency + 4, thread_name_prefix="job"))
        app = procrastinate.App(connector=procrastinate.PsycopgConnector(conninfo=self._url, min_size=1,
                                                                         max_size=concurrency + 2))

        @app.task(name=RUN_JOB, queue=QUEUE, pass_context=True)
        def run(context, job_id: str) -> None:
            run_job(job_id, f"{self._name}:{context.job.id}:{context.job.attempts}")

        @app.task(name=HELP_JOB, queue=QUEUE, pass_context=True)
        def help_with(context, job_id: str) -> None:
            help_job(job_id, f"{self._name}:{context.job.id}:{context.job.attempts}")

        async with app.open_async():
            self._loop = loop
            self._worker_task = asyncio.create_task(app.run_worker_async(
                queues=[QUEUE], name=self._name, concurrency=concurrency, install_signal_handlers=False,
                update_heartbeat_interval=self._worker_timeout_s / 3, stalled_worker_timeout=self._worker_timeout_s,
                delete_jobs="successful", wait=True,
            ))
            sweeper = asyncio.create_task(self._retry_stalled(app))
            try:
                if self._stopping.is_set():
                    self._worker_task.cancel()
                await self._worker_task
            except asyncio.CancelledError:
                if not self._stopping.is_set():
                    raise
            finally:
                sweeper.cancel()

    async def _retry_stalled(self, app: procrastinate.App) -> None:
        """Hand the jobs of workers whose heartbeat stopped to the queue again (each worker looks; a job is handed
        out once, since retrying a job that another worker already retried fails)."""
        while True:
            await asyncio.sleep(self._worker_timeout_s / 3)
            try:
                stalled = await app.job_manager.get_stalled_jobs(queue=QUEUE,
                                                                 seconds_since_heartbeat=self._worker_timeout_s)
            except Exception as error:  # noqa: BLE001 - the database is away; the next look tries again
                log.warning("could not look for stalled jobs: %s", type(error).__name__)
                continue
            for job in stalled:
                try:
                    await app.job_manager.retry_job(job)
                    log.warning("job %s: its worker stopped answering; handed to another worker",
                                job.task_kwargs.get("job_id"))
                except Exception:  # noqa: BLE001 - another worker retried it first
                    continue

    def stop_worker(self, timeout: float) -> None:
        """Stop taking jobs; the running ones end (the job service cuts them short after its grace)."""
        self._stopping.set()
        if self._loop is not None and self._worker_task is not None:
            self._loop.call_soon_threadsafe(self._worker_task.cancel)
        if self._thread is not None:
            self._thread.join(timeout)
