"""Gunicorn settings: gunicorn -c gunicorn.conf.py 'api:create_app()'.

One worker by default because each worker loads its own copy of the model and all model work in a process
is serialized anyway; threads only wait on I/O and on the model lock. HOST and PORT come from the service's
settings, so the same environment variables work for `python api.py` and for gunicorn.
"""

import os
import sys

from llm.errors import ModelUnavailableError
from llm.loader import preflight
from settings import SettingsError, load_settings

try:
    _settings = load_settings()
    # Downloads the model once here, in the master, instead of once per worker; loads nothing.
    preflight(_settings)
except (SettingsError, ModelUnavailableError) as error:  # stop with one line, before any worker starts
    sys.exit(f"error: {error}")

bind = os.environ.get("GUNICORN_BIND", f"{_settings.host}:{_settings.port}")
workers = int(os.environ.get("WEB_CONCURRENCY", "1"))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", "8"))
# The model must be loaded in the worker that serves it, never in the master before fork.
preload_app = False
# gthread workers send heartbeats from their main loop, so this bounds a hung worker, not a long summary.
timeout = 120
graceful_timeout = 60
keepalive = 5
accesslog = None  # the app logs one line per request itself
errorlog = "-"
loglevel = _settings.log_level
