"""Gunicorn settings: gunicorn -c gunicorn.conf.py 'api:create_app()'.

One worker by default because each worker loads its own copy of the model, whose engine runs SLOTS calls at once;
requests only wait on I/O and on jobs. HOST and PORT come from the service's
settings, so the same environment variables work for `python api.py` and for gunicorn.
"""

import os
import signal
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
# With GUNICORN_WORKER_CLASS=gthread: threads per worker (then at most GUNICORN_THREADS - 8 requests may wait on
# jobs, so 8 threads stay free for /health and new requests).
threads = int(os.environ.get("GUNICORN_THREADS", "32"))
# By default requests are greenlets on gevent's event loop: a request waiting on a job (a synchronous answer, a
# long-poll, an event stream) holds no thread, so thousands may wait while /health and new requests are answered.
# The model and the job workers stay in native threads (a llama.cpp call would stall every greenlet).
if os.environ.get("GUNICORN_WORKER_CLASS", "gevent") == "gthread":
    worker_class = "gthread"
    os.environ.setdefault("MAX_WAITING", str(max(1, threads - 8)))
else:
    from gunicorn.workers.ggevent import GeventWorker

    class NativeThreadsGeventWorker(GeventWorker):
        """gunicorn's gevent worker with threads left native: sockets, select and time are gevent's, so waiting
        requests are cheap greenlets; threading is the operating system's, so the model runs beside the loop."""

        def patch(self):
            from gevent import monkey, socket

            # Only the network is the loop's. The job workers' threads use queues, subprocesses (espeak-ng), child
            # processes' exits, select and sleep as native code: gevent's versions would wait on a loop in a thread
            # that runs none.
            monkey.patch_all(thread=False, queue=False, subprocess=False, os=False, select=False, time=False,
                             signal=False)
            self.sockets = [socket.socket(s.FAMILY, socket.SOCK_STREAM, fileno=s.sock.detach()) for s in self.sockets]

    worker_class = NativeThreadsGeventWorker
    # Room for MAX_WAITING waiting requests and, beyond them, for /health and new requests.
    worker_connections = _settings.max_waiting + 256
# The model must be loaded in the worker that serves it, never in the master before fork.
preload_app = False
# gthread workers send heartbeats from their main loop, so this bounds a hung worker, not a long summary.
timeout = 120
# Room for the running model call's SHUTDOWN_GRACE_S, for a prompt llama.cpp is still reading (only generation
# can be cut short) and for in-flight requests to answer.
graceful_timeout = int(_settings.shutdown_grace_s) + 60
keepalive = 5
accesslog = None  # the app logs one line per request itself
errorlog = "-"
loglevel = _settings.log_level


def post_worker_init(worker):
    """On SIGTERM, stop the job worker at once (waiting requests answer 202 with their job), then let gunicorn
    stop the worker as usual. Every open connection is a file descriptor: allow as many as the system lets."""
    import resource

    from routes.resources import begin_shutdown

    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))

    gunicorn_handler = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum, frame):
        try:
            begin_shutdown(worker.wsgi)
        finally:
            gunicorn_handler(signum, frame)

    signal.signal(signal.SIGTERM, on_sigterm)
    signal.siginterrupt(signal.SIGTERM, False)  # as gunicorn set it: system calls resume after the handler


def worker_exit(server, worker):
    """Before the worker process ends: the running job finishes its call or goes back in the queue."""
    from routes.resources import begin_shutdown, finish_shutdown

    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions"):  # None when the app failed to load
        begin_shutdown(app)
        finish_shutdown(app)
