"""POST /generate-summary and POST /generate-points: a task's request (JSON text or an uploaded file) becomes a job.

A synchronous request waits for its job up to SYNC_TIMEOUT_S and answers with the result; after that (or with
async=true) it answers 202 with the job, whose work goes on. What a job does is in tasks/.
"""

from __future__ import annotations

import logging
import time

from flask import Blueprint, g, request, url_for

from jobs.errors import JobNotFoundError
from jobs.store import CANCELLED, SUCCEEDED, Job
from routes.apispec import GENERATE, answers, api
from routes.connection import client_disconnected
from routes.errors import ApiError, stored_error_response
from routes.inputs import read_request
from routes.resources import get_jobs, get_model_host, get_settings
from routes.responses import json_response
from routes.schemas import FORMS, REQUESTS, AsyncQuery, JobReference, task_options, validate
from tasks import TASKS, Task, new_job
from tasks.points import POINTS
from tasks.summary import SUMMARY

bp = Blueprint("generate", __name__)
log = logging.getLogger(__name__)
DISCONNECT_CHECK_S = 1.0  # how often a waiting synchronous request looks whether its client is still there


def job_reference(job: Job):
    """The 202 answer that points at a job."""
    status_url = url_for("jobs.get_job", job_id=job.id)
    return json_response(JobReference(job_id=job.id, status=job.status, status_url=status_url), 202,
                         {"Location": status_url})


def job_outcome(job: Job):
    """The answer a synchronous request gets for a job that has ended."""
    if job.status == SUCCEEDED:
        return json_response(TASKS[job.task].result.model_validate(job.result))
    return stored_error_response(job.error, cancelled=job.status == CANCELLED)


def submit(task: Task):
    """Queue the task for this request (or join an identical one), then wait for it or point at it."""
    settings = get_settings()
    query = validate(AsyncQuery, request.args.to_dict(), settings, strict=False, drop_empty=True)
    body, received = read_request(task)
    model = get_model_host().get()  # 503 while the model loads or when it failed to load
    jobs = get_jobs()
    job = jobs.submit(new_job(task, task_options(task, body), received, model.name, g.get("request_id")))
    if body.run_async or query.run_async:
        return job_reference(job)
    try:
        finished = _wait_while_connected(job, settings.sync_timeout_s)
    except JobNotFoundError:  # purged under a very short JOB_TTL_HOURS: point at where it was
        return job_reference(job)
    return job_outcome(finished) if finished.finished else job_reference(finished)


def _wait_while_connected(job: Job, timeout: float) -> Job:
    """Wait for a synchronous request's job; if the client goes away first, its job is abandoned (cancelled
    unless an identical request joined it) and 499 is answered to nobody."""
    jobs = get_jobs()
    deadline = time.monotonic() + timeout
    while True:
        current = jobs.wait(job.id, min(DISCONNECT_CHECK_S, max(0.0, deadline - time.monotonic())))
        if current.finished or time.monotonic() >= deadline or jobs.stopping:
            return current
        if client_disconnected():
            if jobs.abandon(job.id):
                log.info("client of job %s disconnected: job cancelled", job.id)
            else:
                log.info("client of job %s disconnected; the job goes on for the others who asked", job.id)
            raise ApiError(499, "client_closed_request", "the client closed the connection")


# From a 202, the operations that follow the job it names.
_JOB_LINKS = {
    "GetJob": {"operationId": "getJob", "parameters": {"job_id": "$response.body#/job_id"},
               "description": "The job: its status, progress and, once it ends, its result or error."},
    "CancelJob": {"operationId": "cancelJob", "parameters": {"job_id": "$response.body#/job_id"}},
    "JobEvents": {"operationId": "jobEvents", "parameters": {"job_id": "$response.body#/job_id"}},
}


def _task_answers(task: Task):
    return answers(
        400, 409, 413, 415, 422, 500, 503, links={202: _JOB_LINKS},
        HTTP_200=(task.result, "The result."),
        HTTP_202=(JobReference, "The job, still queued or running (or already ended, when `async` was asked for): "
                                "follow its `status_url`."),
    )


@bp.post("/generate-summary")
@api.validate(query=AsyncQuery, json=REQUESTS["summary"], form=FORMS["summary"], resp=_task_answers(SUMMARY),
              tags=[GENERATE], operation_id="generateSummary")
def generate_summary():
    """Summarize a text or a document

    A summary at the requested length, of a text of any length: one that does not fit the model's context is
    summarized in parts, which are merged level by level. A summary is never longer than about a third of the
    text. Send JSON, or a multipart form with a `file`. The request runs as a job: a synchronous request answers
    200 with the result, or 202 with the job when it is still running after SYNC_TIMEOUT_S; with `async` it answers
    202 at once. Identical requests share one job and reuse a finished result. At most MAX_QUEUE jobs wait; past
    that the answer is 503 `queue_full`.
    """
    return submit(SUMMARY)


@bp.post("/generate-points")
@api.validate(query=AsyncQuery, json=REQUESTS["points"], form=FORMS["points"], resp=_task_answers(POINTS),
              tags=[GENERATE], operation_id="generatePoints")
def generate_points():
    """List the key points of a text or a document

    The `count` key points of a text of any length, each with the pages it came from. Send JSON, or a multipart
    form with a `file`. The request runs as a job: a synchronous request answers 200 with the result, or 202 with
    the job when it is still running after SYNC_TIMEOUT_S; with `async` it answers 202 at once. Identical requests
    share one job and reuse a finished result. At most MAX_QUEUE jobs wait; past that the answer is 503
    `queue_full`.
    """
    return submit(POINTS)
