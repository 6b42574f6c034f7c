"""The jobs resource: GET /jobs, GET /jobs/<id> (long-poll with ?wait=S), GET /jobs/<id>/events (Server-Sent
Events), DELETE /jobs/<id> (cancel). The job service does the work; these views translate."""

from __future__ import annotations

from flask import Blueprint, Response, request, url_for
from pydantic import BaseModel

from jobs.errors import JobNotFoundError
from jobs.store import SUCCEEDED
from routes.apispec import JOBS, answers, api
from routes.auth import current_library
from routes.errors import ErrorDetail, classify
from routes.resources import get_jobs, get_settings
from routes.responses import json_response
from routes.schemas import DeltaEvent, JobList, JobListQuery, JobView, JobWaitQuery, ProgressEvent, validate

bp = Blueprint("jobs", __name__)
HEARTBEAT_S = 15.0  # an idle event stream gets a comment line this often, so proxies keep it open
JOB_ID = {"job_id": "The `job_id` a generate request answered with."}


def job_view(job) -> JobView:
    """A job as the API shows it."""
    return JobView.of(job, url_for("jobs.get_job", job_id=job.id))


@bp.get("/jobs")
@api.validate(query=JobListQuery, resp=answers(400, 500, HTTP_200=(JobList, "A page of jobs, with a `next` link "
                                                                           "when it is full.")),
              tags=[JOBS], operation_id="listJobs")
def list_jobs():
    """Recent jobs, newest first

    Finished jobs are kept for JOB_TTL_HOURS.
    """
    query = validate(JobListQuery, request.args.to_dict(), get_settings(), strict=False)
    jobs = get_jobs().list(limit=query.limit, offset=query.offset, library=current_library())
    full = len(jobs) == query.limit
    return json_response(JobList(
        jobs=[job_view(job) for job in jobs], limit=query.limit, offset=query.offset,
        next=url_for("jobs.list_jobs", limit=query.limit, offset=query.offset + query.limit) if full else None,
    ))


@bp.get("/jobs/<job_id>")
@api.validate(query=JobWaitQuery, resp=answers(400, 404, 500, HTTP_200=(JobView, "The job.")),
              tags=[JOBS], operation_id="getJob", path_parameter_descriptions=JOB_ID)
def get_job(job_id: str):
    """A job: status, progress, result or error"""
    jobs = get_jobs()
    job = jobs.get(job_id, current_library())
    query = validate(JobWaitQuery, request.args.to_dict(), get_settings(), strict=False)
    if query.wait:
        jobs.make_room()
        job = jobs.wait(job_id, query.wait)
    return json_response(job_view(job))


@bp.delete("/jobs/<job_id>")
@api.validate(resp=answers(404, 500, HTTP_200=(JobView, "The job, after the cancel request.")),
              tags=[JOBS], operation_id="cancelJob", path_parameter_descriptions=JOB_ID)
def cancel_job(job_id: str):
    """Cancel a job

    A queued job never runs; a running one stops at its next generated token; an ended one stays as it is. The job
    stays listed, with status `cancelled` once it stops.
    """
    return json_response(job_view(get_jobs().cancel(job_id, current_library())))


@bp.get("/jobs/<job_id>/events")
@api.validate(resp=answers(404, 500, HTTP_200=(None, "The event stream."), media={200: "text/event-stream"}),
              tags=[JOBS],
              operation_id="jobEvents", path_parameter_descriptions=JOB_ID)
def job_events(job_id: str):
    """Follow a job as Server-Sent Events

    `progress` events (`{"status", "stage", "done", "total"}`) as the job goes, `delta` events (`{"text", "offset"}`)
    with the next piece of its answer as it is written (chat answers token by token; summaries, answers and
    messages a sentence or a message at a time, each once it has passed its checks), then one `result` (the
    job, with its result) or `error` event (the job, with its error), then the stream ends. A comment line keeps
    an idle connection alive.
    """
    jobs = get_jobs()
    jobs.make_room()  # 503 with Retry-After past MAX_WAITING
    # A stream has no request to build URLs in: build it now.
    status_url = url_for("jobs.get_job", job_id=jobs.get(job_id, current_library()).id)

    def stream():
        sent = 0  # characters of the answer's text already sent as deltas
        last_progress = None
        try:
            for job in jobs.follow(job_id, HEARTBEAT_S):
                if job is None:
                    yield ": keep-alive\n\n"
                    continue
                view = JobView.of(job, status_url)
                progress = ProgressEvent(status=job.status, **view.progress.model_dump())
                if progress != last_progress:
                    yield _event("progress", progress)
                    last_progress = progress
                text = jobs.streams.text(job.id)
                if len(text) > sent:
                    yield _event("delta", DeltaEvent(text=text[sent:], offset=sent))
                    sent = len(text)
                if job.finished:
                    yield _event("result" if job.status == SUCCEEDED else "error", view)
        except JobNotFoundError as gone:
            yield _event("error", ErrorDetail(code=classify(gone).code, message="the job expired"))
        # The stream also ends when the server shuts down (EventSource clients reconnect).

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(stream(), mimetype="text/event-stream", headers=headers)


def _event(name: str, data: BaseModel) -> str:
    return f"event: {name}\ndata: {data.model_dump_json()}\n\n"
