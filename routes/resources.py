"""The app's shared resources (settings, the model host, the job service), wired the way flaskr wires its
database."""

from __future__ import annotations

from flask import Flask, current_app

from jobs.service import JobService
from jobs.signals import GeventSignals, Signals, on_event_loop
from jobs.store import SqlJobStore
from library.store import LibraryStore
from llm.budgets import BUDGETS
from llm.host import ModelHost
from llm.model import Model
from routes.errors import describe_job_error
from settings import Settings
from speech import SpeechEngine
from storage import open_database
from tasks.executor import make_executor


def init_app(app: Flask, settings: Settings, model: Model | None = None, load: bool = True) -> ModelHost:
    """Attach settings, the model host (loading the model unless one is given: on an API node, its vocabulary
    only) and the job service (with the task queue and the other processes' news, on PostgreSQL)."""
    from routes.metrics import Metrics
    from routes.metrics import init_app as init_metrics

    app.extensions["settings"] = settings
    # First: a database it cannot use stops the start. Jobs and the library each have their connections.
    job_database = _open_database(settings)
    store = SqlJobStore(job_database)
    library = LibraryStore(_open_database(settings))
    app.extensions["library"] = library
    queue, broadcast = _task_queue(settings, job_database)
    app.extensions["task_queue"] = queue
    if queue is not None:  # one model per deployment: known without loading it
        from llm.source import resolve

        queue.join_deployment(job_database, model.name if model is not None else resolve(settings).name)
    if model is not None:
        host = ModelHost.with_model(model)
    else:
        host = ModelHost()
        if load:
            from llm.loader import load_model, load_vocabulary

            host.start(lambda: (load_vocabulary if settings.role == "api" else load_model)(settings))
    app.extensions["model_host"] = host
    app.extensions["speech"] = SpeechEngine(settings.speech_command)
    metrics = Metrics(store, host)
    init_metrics(app, metrics)
    service = JobService(
        store, make_executor(host, settings.seed, library, settings.reading_limits(), metrics.observe_call,
                             settings.summary_plan(), app.extensions["speech"]),
        describe_job_error,
        can_run=lambda: host.state == "ready", on_end=metrics.observe_job,
        ttl_s=settings.job_ttl_hours * 3600, max_queue=settings.max_queue, poll_s=0.5,
        # As many jobs at once as the loaded model has slots: the engine batches their calls.
        workers=settings.slots or BUDGETS.default_slots, capacity=lambda: host.get().parallel_calls,
        # Under gunicorn's gevent worker, waiting requests are greenlets: the job workers wake them through the
        # event loop.
        signals=GeventSignals() if on_event_loop() else Signals(), max_waiting=settings.max_waiting,
        queue=queue, broadcast=broadcast, runs_jobs=settings.role != "api",
    )
    service.start()
    metrics.state.waiting = lambda: service.waiting
    app.extensions["jobs"] = service
    return host


def _task_queue(settings: Settings, database):
    """On PostgreSQL: the task queue that hands jobs to workers, and the NOTIFY channel that tells every process
    of job changes; on SQLite neither (this process's threads take the jobs)."""
    if settings.database_url is None:
        return None, None
    from jobs.broadcast import PostgresBroadcast
    from jobs.queue import TaskQueue, ensure_schema

    ensure_schema(settings.database_url.get_secret_value())
    return TaskQueue(settings.database_url.get_secret_value(), worker_timeout_s=settings.worker_timeout_s), \
        PostgresBroadcast(database)


def _open_database(settings: Settings):
    url = settings.database_url.get_secret_value() if settings.database_url else None
    return open_database(settings.data_dir, url, pool_size=settings.database_pool_size)


def close_app(app: Flask) -> None:
    """Stop the job worker at once, close the store and free a model the app loaded itself (tests, embedders)."""
    app.extensions["jobs"].close()
    app.extensions["library"].close()
    app.extensions["model_host"].close()


def get_settings() -> Settings:
    """The settings of the running app."""
    return current_app.extensions["settings"]


def get_model_host() -> ModelHost:
    """The model host of the running app."""
    return current_app.extensions["model_host"]


def get_speech() -> SpeechEngine:
    """The speech engine of the running app."""
    return current_app.extensions["speech"]


def get_task_queue():
    """The task queue of a deployment on PostgreSQL (None on one machine)."""
    return current_app.extensions["task_queue"]


def get_jobs_database():
    """The database the jobs are in."""
    return current_app.extensions["jobs"].store.database


def get_library() -> LibraryStore:
    """The document library of the running app."""
    return current_app.extensions["library"]


def get_jobs() -> JobService:
    """The job service of the running app."""
    return current_app.extensions["jobs"]


def begin_shutdown(app: Flask) -> None:
    """Stop taking work (SIGTERM): waiting requests answer with their job, the running call gets the grace."""
    app.extensions["jobs"].begin_shutdown(app.extensions["settings"].shutdown_grace_s)


def finish_shutdown(app: Flask) -> None:
    """Wait until the running job has finished its call or gone back in the queue."""
    app.extensions["jobs"].stop(app.extensions["settings"].shutdown_grace_s)
