"""What a job does: summarize or list key points of its stored document, and build the answer body."""

from __future__ import annotations

import hashlib
import json
import logging
import time

from jobs.service import JobControl
from jobs.store import Job
from llm import TaskRunner, TextBlock, key_points, summarize
from llm.host import ModelHost
from llm.runner import CallObserver
from routes.errors import classify
from settings import Settings

log = logging.getLogger(__name__)


def encode_document(blocks: list[TextBlock], page_count: int | None, warnings: list[str]) -> bytes:
    """A document as a job stores it."""
    return json.dumps(
        {"blocks": [[block.text, block.page] for block in blocks], "pages": page_count, "warnings": warnings}
    ).encode("utf-8")


def request_key(task: str, model: str, options: dict, raw_input: bytes) -> str:
    """Identical requests (same input bytes, options and model) share this key, and so a finished result."""
    digest = hashlib.sha256()
    for part in (task, model, json.dumps(options, sort_keys=True)):
        digest.update(part.encode("utf-8") + b"\0")
    digest.update(raw_input)
    return digest.hexdigest()


def make_executor(host: ModelHost, settings: Settings, on_call: CallObserver | None = None):
    """The function the job worker calls for each job; on_call sees every model call (for metrics)."""

    def execute(job: Job, control: JobControl) -> dict:
        stored = json.loads(job.input or b"{}")
        blocks = [TextBlock(text, page) for text, page in stored.get("blocks", [])]
        options = job.options
        started = time.monotonic()
        runner = TaskRunner(
            host.get(), temperature=options.get("temperature", 0.0), seed=settings.seed,
            on_progress=control.progress, should_cancel=control.cancelled, should_stop=control.interrupted,
            on_call=on_call,
        )
        if job.task == "summary":
            result = summarize(runner, blocks, length=options.get("length", "medium"),
                               max_tokens=options.get("max_tokens"), checkpoints=control.checkpoints)
            fields = {"summary": result.summary, "chunks": result.chunks, "levels": result.levels,
                      "strategy": result.strategy}
        else:
            result = key_points(runner, blocks, count=options.get("count", 5), checkpoints=control.checkpoints)
            fields = {"points": [{"text": point.text, "pages": point.pages} for point in result.points],
                      "chunks": result.chunks}
        body = {**fields, "model": runner.model.name, "usage": runner.usage.as_dict(),
                "elapsed_ms": round((time.monotonic() - started) * 1000)}
        if stored.get("pages") is not None:
            body["pages"] = stored["pages"]
        body["warnings"] = stored.get("warnings", []) + result.warnings
        return body

    return execute


def describe_error(error: Exception, job: Job) -> dict:
    """The error a failed job reports: the client-facing form of known errors, a request id for bugs."""
    known = classify(error)
    if known is not None:
        return {"code": known.code, "message": known.message}
    request_id = job.options.get("request_id", job.id)
    log.error("job %s (request %s) failed unexpectedly", job.id, request_id, exc_info=error)
    return {"code": "internal_error", "message": f"unexpected server error; quote request id {request_id}",
            "request_id": request_id}
