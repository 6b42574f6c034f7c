"""GET /metrics in the Prometheus text format: requests, latency, tokens, generation speed, queue and model."""

from __future__ import annotations

import time

from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

from jobs.store import Job, JobStore
from llm.host import ModelHost
from llm.model import Completion
from routes.apispec import SERVICE, answers, api

bp = Blueprint("metrics", __name__)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_SPEED_BUCKETS = (1, 2, 5, 10, 20, 35, 50, 75, 100, 150, 250, 500, 1000)


class _StateCollector:
    """Gauges read at scrape time from the job store and the model host, so they are never stale."""

    def __init__(self, store: JobStore, host: ModelHost):
        self._store = store
        self._host = host
        self.waiting = lambda: 0  # requests waiting on jobs: the job service, once it exists, tells

    def collect(self):
        depth = self._store.queue_depth()
        yield GaugeMetricFamily("docservice_queue_depth", "Jobs waiting for the model.", value=depth)
        jobs = GaugeMetricFamily("docservice_jobs", "Jobs the store holds, by status.", labels=["status"])
        for status, count in sorted(self._store.count_by_status().items()):
            jobs.add_metric([status], count)
        yield jobs
        yield GaugeMetricFamily("docservice_model_ready", "1 once the model is loaded, else 0.",
                                value=1.0 if self._host.state == "ready" else 0.0)
        yield GaugeMetricFamily("docservice_waiting_requests", "Requests waiting on jobs now (synchronous requests, "
                                "long-polls, event streams; at most MAX_WAITING).", value=self.waiting())
        engine = getattr(self._host.get(), "engine", None) if self._host.state == "ready" else None
        if engine is not None:  # the batching engine (SLOTS above 1)
            yield GaugeMetricFamily("docservice_engine_running", "Model calls generating or reading their prompt "
                                    "now (at most SLOTS).", value=engine.running)
            yield GaugeMetricFamily("docservice_engine_waiting", "Model calls waiting for a free slot.",
                                    value=engine.waiting)
        if self._host.load_seconds is not None:
            yield GaugeMetricFamily("docservice_model_load_seconds", "How long loading the model took.",
                                    value=self._host.load_seconds)


class Metrics:
    """The service's metrics, in a registry of its own (so several apps in one process never collide)."""

    def __init__(self, store: JobStore, host: ModelHost):
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "docservice_http_requests", "HTTP requests answered, by endpoint, method and status.",
            ["endpoint", "method", "status"], registry=self.registry,
        )
        self.latency = Histogram(
            "docservice_http_request_duration_seconds", "Time to answer an HTTP request (to its first byte).",
            ["endpoint"], buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self.prompt_tokens = Counter("docservice_prompt_tokens", "Prompt tokens the model read.",
                                     registry=self.registry)
        self.completion_tokens = Counter("docservice_completion_tokens", "Tokens the model generated.",
                                         registry=self.registry)
        self.model_call_seconds = Histogram(
            "docservice_model_call_duration_seconds", "Time of one model call (prompt and generation).",
            buckets=_LATENCY_BUCKETS, registry=self.registry,
        )
        self.tokens_per_second = Histogram(
            "docservice_generation_tokens_per_second", "Generated tokens per second of one model call.",
            buckets=_SPEED_BUCKETS, registry=self.registry,
        )
        self.jobs_ended = Counter("docservice_jobs_ended", "Jobs that ended, by task and status.",
                                  ["task", "status"], registry=self.registry)
        self.queue_wait = Histogram("docservice_job_queue_wait_seconds", "Time a job waited before it ran.",
                                    buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.job_seconds = Histogram("docservice_job_duration_seconds", "Time a job ran, by task.", ["task"],
                                     buckets=_LATENCY_BUCKETS, registry=self.registry)
        self.state = _StateCollector(store, host)
        self.registry.register(self.state)

    def observe_call(self, completion: Completion, seconds: float) -> None:
        """Record one model call."""
        self.prompt_tokens.inc(completion.prompt_tokens)
        self.completion_tokens.inc(completion.completion_tokens)
        self.model_call_seconds.observe(seconds)
        # Generation speed: tokens after the first over the time they took (reading the prompt is not generating).
        # A model that cannot tell (the test fake) is measured over the whole call.
        if completion.generation_seconds and completion.completion_tokens > 1:
            self.tokens_per_second.observe((completion.completion_tokens - 1) / completion.generation_seconds)
        elif completion.generation_seconds is None and seconds > 0 and completion.completion_tokens:
            self.tokens_per_second.observe(completion.completion_tokens / seconds)

    def observe_job(self, job: Job) -> None:
        """Record a job that ended after running (a cancelled job that never ran is not counted here)."""
        self.jobs_ended.labels(job.task, job.status).inc()
        if job.started_at is not None and job.finished_at is not None:
            self.queue_wait.observe(max(0.0, job.started_at - job.created_at))
            self.job_seconds.labels(job.task).observe(max(0.0, job.finished_at - job.started_at))

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        """Record one answered HTTP request."""
        self.requests.labels(endpoint, method, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)


def init_app(app: Flask, metrics: Metrics) -> None:
    """Keep the metrics on the app and count every request it answers."""
    app.extensions["metrics"] = metrics

    @app.after_request
    def _count(response):
        # The route pattern, not the path: one series per endpoint however many job ids there are.
        endpoint = request.url_rule.rule if request.url_rule is not None else "unmatched"
        elapsed = time.monotonic() - g.get("started", time.monotonic())  # api.py starts every request's clock
        method = request.method if request.method in _METHODS else "other"  # a client must not mint series
        metrics.observe_request(endpoint, method, response.status_code, elapsed)
        return response


@bp.get("/metrics")
@api.validate(resp=answers(HTTP_200=(None, "Requests, latency, tokens, generation speed, queue and model gauges."),
                           media={200: "text/plain"}),
              tags=[SERVICE], operation_id="metrics")
def metrics_page():
    """Metrics in the Prometheus text format

    The counters and gauges of this process (with several gunicorn workers, of the one that answers).
    """
    registry = current_app.extensions["metrics"].registry
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
