"""The jobs resource: GET /jobs, GET /jobs/<id> (long-poll with ?wait=S), GET /jobs/<id>/events (Server-Sent
Events), DELETE /jobs/<id> (cancel)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from flask import Blueprint, Response, jsonify, request, url_for

from jobs.store import SUCCEEDED, Job
from routes.errors import ApiError, invalid_request
from routes.resources import get_jobs, get_settings

bp = Blueprint("jobs", __name__)
HEARTBEAT_S = 15.0


def _time(value: float | None) -> str | None:
    return datetime.fromtimestamp(value, UTC).isoformat() if value else None


def job_json(job: Job) -> dict:
    """A job as the API shows it (never its input)."""
    return job_json_outside_request(job, url_for("jobs.get_job", job_id=job.id))


def _job_or_404(job_id: str) -> Job:
    job = get_jobs().store.get(job_id)
    if job is None:
        raise ApiError(404, "not_found", f"no job {job_id[:64]!r}: it never existed or has expired")
    return job


def _expired(job_id: str) -> ApiError:
    """The 404 for a job that expired (was purged) while a request waited for it."""
    return ApiError(404, "not_found", f"no job {job_id[:64]!r}: it has expired")


def _number(name: str, default: float, low: float, high: float, whole: bool = False) -> float:
    raw = request.args.get(name)
    if raw is None:
        return default
    try:
        value = int(raw) if whole else float(raw)
    except ValueError:
        raise invalid_request(f"'{name}' must be a {'whole ' if whole else ''}number") from None
    if not low <= value <= high:
        raise invalid_request(f"'{name}' must be between {low:g} and {high:g}")
    return value


@bp.get("/jobs")
def list_jobs():
    """Recent jobs, newest first, paged with ?limit= and ?offset=."""
    limit = int(_number("limit", 20, 1, 200, whole=True))
    offset = int(_number("offset", 0, 0, 10**9, whole=True))
    jobs = get_jobs().store.list(limit=limit, offset=offset)
    body = {"jobs": [job_json(job) for job in jobs], "limit": limit, "offset": offset}
    if len(jobs) == limit:
        body["next"] = url_for("jobs.list_jobs", limit=limit, offset=offset + limit)
    return jsonify(body)


@bp.get("/jobs/<job_id>")
def get_job(job_id: str):
    """A job; ?wait=S answers as soon as the job ends, or after S seconds."""
    job = _job_or_404(job_id)
    wait = _number("wait", 0, 0, get_settings().max_wait_s)
    if wait:
        job = get_jobs().wait(job_id, wait)
        if job is None:  # purged while we waited
            raise _expired(job_id)
    return jsonify(job_json(job))


@bp.delete("/jobs/<job_id>")
def cancel_job(job_id: str):
    """Cancel: a queued job never runs; a running one stops at its next generated token."""
    _job_or_404(job_id)
    jobs = get_jobs()
    job = jobs.store.cancel(job_id)
    jobs.notify()
    if job is None:
        raise _expired(job_id)
    return jsonify(job_json(job))


@bp.get("/jobs/<job_id>/events")
def job_events(job_id: str):
    """Server-Sent Events: progress as it happens, then the result or the error, then the stream ends."""
    _job_or_404(job_id)
    jobs = get_jobs()
    first = job_json(jobs.store.get(job_id))
    status_url = first["status_url"]

    def stream():
        last_progress = None
        last_sent = time.monotonic()
        while True:
            job = jobs.store.get(job_id)
            if job is None:
                yield _event("error", {"code": "not_found", "message": "the job expired"})
                return
            body = job_json_outside_request(job, status_url)
            progress = (job.status, body["progress"])
            if progress != last_progress:
                yield _event("progress", {"status": job.status, **body["progress"]})
                last_progress = progress
                last_sent = time.monotonic()
            if job.finished:
                yield _event("result" if job.status == SUCCEEDED else "error", body)
                return
            if jobs.stopping:  # the server is going down: end the stream (EventSource clients reconnect)
                return
            if time.monotonic() - last_sent > HEARTBEAT_S:
                yield ": keep-alive\n\n"
                last_sent = time.monotonic()
            jobs.wait_for_change(1.0)

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return Response(stream(), mimetype="text/event-stream", headers=headers)


def job_json_outside_request(job: Job, status_url: str) -> dict:
    """A job as the API shows it, given its URL (a streaming generator has no request to build URLs from)."""
    body = {
        "job_id": job.id, "task": job.task, "status": job.status,
        "progress": {"stage": job.status, "done": 0, "total": 0, **job.progress},
        "created_at": _time(job.created_at), "started_at": _time(job.started_at),
        "finished_at": _time(job.finished_at), "status_url": status_url,
    }
    if job.status == SUCCEEDED:
        body["result"] = job.result
    elif job.error:
        body["error"] = {"code": job.error["code"], "message": job.error["message"]}
    return body


def _event(name: str, data: dict) -> str:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n"
