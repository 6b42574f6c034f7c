"""How a request that became a job is answered: a synchronous request waits for its job up to SYNC_TIMEOUT_S and
answers with the result (or the job's error); after that, or with `async`, it answers 202 with the job, whose work
goes on. A client that hangs up while waiting abandons its job (cancelled unless an identical request joined it)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from flask import Response, url_for

from jobs.errors import JobNotFoundError, TooManyWaitingError
from jobs.store import CANCELLED, SUCCEEDED, Job
from routes.apispec import answers
from routes.connection import client_disconnected
from routes.errors import ApiError, stored_error_response
from routes.resources import get_jobs, get_settings
from routes.responses import json_response
from routes.schemas import JobReference
from tasks import TASKS

log = logging.getLogger(__name__)
DISCONNECT_CHECK_S = 1.0  # how often a waiting synchronous request looks whether its client is still there

# From a 202, the operations that follow the job it names.
JOB_LINKS = {
    "GetJob": {"operationId": "getJob", "parameters": {"job_id": "$response.body#/job_id"},
               "description": "The job: its status, progress and, once it ends, its result or error."},
    "CancelJob": {"operationId": "cancelJob", "parameters": {"job_id": "$response.body#/job_id"}},
    "JobEvents": {"operationId": "jobEvents", "parameters": {"job_id": "$response.body#/job_id"}},
}
ACCEPTED = (JobReference, "The job, still queued or running (or already ended, when `async` was asked for): follow "
                          "its `status_url`.")


def job_answers(*errors: int, **statuses):
    """What an endpoint that submits a job may answer: its own statuses, 202 with the job, and these errors."""
    return answers(*errors, links={202: JOB_LINKS}, HTTP_202=ACCEPTED, **statuses)


def job_reference(job: Job) -> Response:
    """The 202 answer that points at a job."""
    status_url = url_for("jobs.get_job", job_id=job.id)
    return json_response(JobReference(job_id=job.id, status=job.status, status_url=status_url), 202,
                         {"Location": status_url})


def _result(job: Job) -> Response:
    return json_response(TASKS[job.task].result.model_validate(job.result))


def answer_job(job: Job, run_async: bool, on_success: Callable[[Job], Response] = _result, *,
               on_unfinished: Callable[[Job], Response] = job_reference, abandon: bool = True,
               timeout: float | None = None) -> Response:
    """Point at the job (async), or wait for it and answer its outcome (on_success makes the answer of a result;
    on_unfinished, the answer while it still runs after timeout, SYNC_TIMEOUT_S unless given). abandon: a client
    that hangs up while waiting abandons its job; without it, the job goes on for a later request to collect."""
    if run_async:
        return job_reference(job)
    try:
        get_jobs().make_room()
    except TooManyWaitingError:  # the job goes on: point at it instead of waiting
        return on_unfinished(job)
    try:
        finished = _wait_while_connected(job, get_settings().sync_timeout_s if timeout is None else timeout,
                                         abandon)
    except JobNotFoundError:  # purged under a very short JOB_TTL_HOURS: point at where it was
        return job_reference(job)
    if not finished.finished:
        return on_unfinished(finished)
    if finished.status == SUCCEEDED:
        return on_success(finished)
    return stored_error_response(finished.error, cancelled=finished.status == CANCELLED)


def _wait_while_connected(job: Job, timeout: float, abandon: bool = True) -> Job:
    """Wait for a synchronous request's job; if the client goes away first, its job is abandoned (cancelled
    unless an identical request joined it; left running without abandon) and 499 is answered to nobody."""
    jobs = get_jobs()
    deadline = time.monotonic() + timeout
    while True:
        current = jobs.wait(job.id, min(DISCONNECT_CHECK_S, max(0.0, deadline - time.monotonic())))
        if current.finished or time.monotonic() >= deadline or jobs.stopping:
            return current
        if client_disconnected():
            if not abandon:
                log.info("client of job %s disconnected; the job goes on", job.id)
            elif jobs.abandon(job.id):
                log.info("client of job %s disconnected: job cancelled", job.id)
            else:
                log.info("client of job %s disconnected; the job goes on for the others who asked", job.id)
            raise ApiError(499, "client_closed_request", "the client closed the connection")
