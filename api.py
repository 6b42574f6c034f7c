"""The document service: a Flask app that summarizes text and lists its key points with a local GGUF model.

Run it with `python api.py` (flags: `python api.py --help`) or `gunicorn -c gunicorn.conf.py 'api:create_app()'`.
"""

from __future__ import annotations

import json
import logging
import re
import signal
import sys
import time
import uuid
from typing import Any

from flask import Flask, g, request

from jobs.errors import DeploymentMismatchError
from llm.model import Model
from routes import (
    audio,
    auth,
    chat,
    documents,
    errors,
    generate,
    health,
    inputs,
    jobs,
    messages,
    metrics,
    openapi,
    questions,
    resources,
    web,
)
from settings import Settings, SettingsError, load_settings, settings_from_args
from storage.errors import StorageError

log = logging.getLogger("api")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, and the request fields when there are any."""

    FIELDS = ("request_id", "method", "path", "status", "duration_ms")

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **{name: getattr(record, name) for name in self.FIELDS if hasattr(record, name)},
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: str, log_format: str = "text") -> None:
    """One line per event on stderr, as text or JSON (LOG_FORMAT)."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=level.upper(), handlers=[handler])
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # we log every request ourselves
    for noisy in ("httpx", "httpx2", "httpcore"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the app. test_config may hold SETTINGS, MODEL (a loaded model) or LOAD_MODEL=False.
    resources.close_app(app) stops what it started."""
    test_config = dict(test_config or {})
    settings: Settings = test_config.pop("SETTINGS", None) or load_settings()
    model = test_config.pop("MODEL", None)
    load = test_config.pop("LOAD_MODEL", True)

    configure_logging(settings.log_level, settings.log_format)
    app = Flask(__name__)
    upload_bytes = int(settings.max_upload_mb * 1024 * 1024)
    # A long text sent as a form field is bounded by the same limit as a file.
    app.config.from_mapping(MAX_CONTENT_LENGTH=upload_bytes, MAX_FORM_MEMORY_SIZE=upload_bytes)
    app.json.sort_keys = False
    app.config.update(test_config)

    resources.init_app(app, settings, model=model, load=load)
    errors.register_error_handlers(app)
    inputs.init_app(app)
    app.register_blueprint(health.bp)
    if settings.role != "worker":  # a worker answers only /health and /metrics: the API nodes take requests
        for blueprint in (generate.bp, jobs.bp, documents.bp, questions.bp, messages.bp, audio.bp, chat.bp, web.bp):
            app.register_blueprint(blueprint)
    app.register_blueprint(metrics.bp)
    if settings.role != "worker":
        app.register_blueprint(openapi.bp)
    _register_request_ids(app)
    auth.init_app(app, settings)
    return app


def _register_request_ids(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        offered = request.headers.get("X-Request-ID", "")
        g.request_id = offered if _REQUEST_ID.match(offered) else uuid.uuid4().hex
        g.started = time.monotonic()

    @app.after_request
    def _finish(response):
        response.headers["X-Request-ID"] = g.get("request_id", "-")
        elapsed_ms = (time.monotonic() - g.get("started", time.monotonic())) * 1000
        fields = {"request_id": g.get("request_id", "-"), "method": request.method, "path": request.path,
                  "status": response.status_code, "duration_ms": round(elapsed_ms)}
        log.info("request_id=%s %s %s %s %.0fms", fields["request_id"], request.method, request.path,
                 response.status_code, elapsed_ms, extra=fields)
        return response


def main(argv: list[str] | None = None, model: Model | None = None) -> None:
    """Validate settings, make sure the model file is there (downloading it once), then serve (on model, when one
    is given: tests run server processes on a fake one)."""
    try:
        settings = settings_from_args(argv, description=__doc__.splitlines()[0])
    except SettingsError as error:
        sys.exit(f"error: {error}")
    configure_logging(settings.log_level, settings.log_format)
    from llm.errors import ModelUnavailableError
    from llm.loader import preflight

    try:
        # Fail fast on a bad model choice, chat format or download; the loader then finds the file in place.
        if model is None:
            preflight(settings)
    except ModelUnavailableError as error:
        sys.exit(f"error: {error}")
    try:
        app = create_app({"SETTINGS": settings, **({"MODEL": model} if model is not None else {})})
    except (StorageError, DeploymentMismatchError) as error:
        sys.exit(f"error: {error}")
    signal.signal(signal.SIGTERM, _stop_serving)
    log.info("serving on http://%s:%d as %s (model loading)", settings.host, settings.port, settings.role)
    try:
        app.run(host=settings.host, port=settings.port, threaded=True, use_reloader=False)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # a second SIGTERM must not cut the shutdown short
        log.info("shutting down: the running job may finish its model call for up to %g s",
                 settings.shutdown_grace_s)
        resources.begin_shutdown(app)
        resources.finish_shutdown(app)
        log.info("stopped")


def _stop_serving(_signum, _frame) -> None:
    # Leaves the development server's loop in the main thread; main() then shuts the job worker down.
    raise SystemExit(0)


if __name__ == "__main__":
    main()
