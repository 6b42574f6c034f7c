"""POST /generate-summary and POST /generate-points, for JSON text or an uploaded file.

Every request becomes a job. A synchronous request waits for its job up to SYNC_TIMEOUT_S and answers with the
result; after that (or with async=true) it answers 202 with the job, whose work goes on.
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, g, jsonify, request, url_for

from jobs.store import CANCELLED, SUCCEEDED, QueueFullError
from routes.connection import client_disconnected
from routes.errors import ApiError, error_response, invalid_request, retry_after, status_for
from routes.inputs import read_request
from routes.resources import get_jobs, get_model_host, get_settings
from routes.schemas import PointsRequest, SummaryRequest
from routes.tasks import encode_document, request_key

bp = Blueprint("generate", __name__)
log = logging.getLogger(__name__)
DISCONNECT_CHECK_S = 1.0


def job_reference(job):
    """The 202 answer that points at a job."""
    status_url = url_for("jobs.get_job", job_id=job.id)
    body = {"job_id": job.id, "status": job.status, "status_url": status_url}
    return jsonify(body), 202, {"Location": status_url}


def job_outcome(job):
    """The answer a synchronous request gets for a job that has ended."""
    if job.status == SUCCEEDED:
        return jsonify(job.result)
    error = dict(job.error or {"code": "internal_error", "message": "the job failed"})
    code = error.pop("code")
    message = error.pop("message")
    status = 409 if job.status == CANCELLED else status_for(code)
    return error_response(status, code, message, retry_after(code), **error)


def _wants_async(options) -> bool:
    flag = request.args.get("async", "").lower()
    if flag and flag not in ("true", "false", "1", "0", "yes", "no"):
        raise invalid_request("'async' must be true or false")
    return options.run_async or flag in ("true", "1", "yes")


def _submit(task: str, schema):
    options, document = read_request(schema)
    settings = get_settings()
    if task == "summary" and options.max_tokens is not None and options.max_tokens > settings.max_output_tokens:
        raise invalid_request(f"'max_tokens' must be at most {settings.max_output_tokens}")
    if task == "points" and options.count > settings.max_points:
        raise invalid_request(f"'count' must be at most {settings.max_points}")
    model = get_model_host().get()  # 503 while the model loads or when it failed to load
    job_options = options.model_dump(exclude={"text", "run_async"}, exclude_none=True)
    key = request_key(task, model.name, {**job_options, "pages": document.pages_asked}, document.raw)
    jobs = get_jobs()
    # A finished identical request answers at once; one still queued or running is joined, not repeated.
    job = jobs.store.cached_result(key, settings.job_ttl_hours * 3600) or jobs.store.attach(key)
    if job is None:
        try:
            job = jobs.store.create(
                task, {**job_options, "request_id": g.get("request_id")},
                encode_document(document.blocks, document.page_count, document.warnings),
                input_kind=document.kind, filename=document.filename, request_key=key, max_queue=settings.max_queue,
            )
        except QueueFullError as full:
            raise ApiError(503, "queue_full", f"the queue is full: {full}; try again later",
                           retry_after("queue_full")) from None
        jobs.notify()
    if _wants_async(options):
        return job_reference(job)
    finished = _wait_while_connected(job, settings.sync_timeout_s)
    if finished is None:  # purged under a very short JOB_TTL_HOURS: point at where it was
        return job_reference(job)
    return job_outcome(finished) if finished.finished else job_reference(finished)


def _wait_while_connected(job, timeout: float):
    """Wait for a synchronous request's job; if the client goes away first, cancel the job (nobody will read
    it: it was never handed out as a job, unless an identical request joined it) and answer 499 to nobody."""
    jobs = get_jobs()
    deadline = time.monotonic() + timeout
    while True:
        current = jobs.wait(job.id, min(DISCONNECT_CHECK_S, max(0.0, deadline - time.monotonic())))
        if current is None or current.finished or time.monotonic() >= deadline or jobs.stopping:
            return current
        if client_disconnected():
            if current.shared:  # another request waits for the same work
                log.info("client of job %s disconnected; the job goes on for the others who asked", job.id)
            else:
                jobs.store.cancel(job.id)
                jobs.notify()
                log.info("client of job %s disconnected: job cancelled", job.id)
            raise ApiError(499, "client_closed_request", "the client closed the connection")


@bp.post("/generate-summary")
def generate_summary():
    """Summarize a text or a document at the requested length."""
    return _submit("summary", SummaryRequest)


@bp.post("/generate-points")
def generate_points():
    """List the key points of a text or a document, each with the pages it came from."""
    return _submit("points", PointsRequest)
