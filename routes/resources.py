"""The app's shared resources (settings, the model host, the job service), wired the way flaskr wires its
database."""

from __future__ import annotations

from flask import Flask, current_app

from jobs.service import JobService
from jobs.store import SqliteJobStore
from llm.host import ModelHost
from llm.model import Model
from settings import Settings


def init_app(app: Flask, settings: Settings, model: Model | None = None, load: bool = True) -> ModelHost:
    """Attach settings, the model host (loading the model unless one is given) and the job service."""
    from routes.metrics import Metrics
    from routes.metrics import init_app as init_metrics
    from routes.tasks import describe_error, make_executor

    app.extensions["settings"] = settings
    if model is not None:
        host = ModelHost.with_model(model)
    else:
        host = ModelHost()
        if load:
            from llm.loader import load_model

            host.start(lambda: load_model(settings))
    app.extensions["model_host"] = host
    store = SqliteJobStore(settings.data_dir / "jobs.sqlite3")
    metrics = Metrics(store, host)
    init_metrics(app, metrics)
    service = JobService(
        store, make_executor(host, settings, metrics.observe_call), describe_error,
        can_run=lambda: host.state == "ready", on_end=metrics.observe_job,
        ttl_s=settings.job_ttl_hours * 3600, poll_s=0.5,
    )
    service.start()
    app.extensions["jobs"] = service
    return host


def get_settings() -> Settings:
    """The settings of the running app."""
    return current_app.extensions["settings"]


def get_model_host() -> ModelHost:
    """The model host of the running app."""
    return current_app.extensions["model_host"]


def get_jobs() -> JobService:
    """The job service of the running app."""
    return current_app.extensions["jobs"]


def begin_shutdown(app: Flask) -> None:
    """Stop taking work (SIGTERM): waiting requests answer with their job, the running call gets the grace."""
    app.extensions["jobs"].begin_shutdown(app.extensions["settings"].shutdown_grace_s)


def finish_shutdown(app: Flask) -> None:
    """Wait until the running job has finished its call or gone back in the queue."""
    app.extensions["jobs"].stop(app.extensions["settings"].shutdown_grace_s)
