"""POST /generate-summary and POST /generate-points: a task's request (JSON text or an uploaded file) becomes a job.

A synchronous request waits for its job up to SYNC_TIMEOUT_S and answers with the result; after that (or with
async=true) it answers 202 with the job, whose work goes on. What a job does is in tasks/.
"""

from __future__ import annotations

import logging

from flask import Blueprint, g, request

from routes.apispec import GENERATE, api
from routes.auth import current_library
from routes.inputs import read_request
from routes.resources import get_jobs, get_model_host, get_settings
from routes.schemas import FORMS, REQUESTS, AsyncQuery, task_options, validate
from routes.submission import answer_job, job_answers
from tasks import Task, new_job
from tasks.points import POINTS
from tasks.summary import SUMMARY

bp = Blueprint("generate", __name__)
log = logging.getLogger(__name__)


def submit(task: Task):
    """Queue the task for this request (or join an identical one), then wait for it or point at it."""
    settings = get_settings()
    query = validate(AsyncQuery, request.args.to_dict(), settings, strict=False, drop_empty=True)
    body, received = read_request(task)
    model = get_model_host().get()  # 503 while the model loads or when it failed to load
    job = get_jobs().submit(new_job(task, task_options(task, body), received, model.name, g.get("request_id"),
                                    library=current_library(), document_id=body.document_id))
    return answer_job(job, body.run_async or query.run_async)


def _task_answers(task: Task):
    return job_answers(400, 404, 409, 413, 415, 422, 500, 503, HTTP_200=(task.result, "The result."))


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
