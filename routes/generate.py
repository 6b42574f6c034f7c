"""POST /generate-summary and POST /generate-points, for JSON text or an uploaded file."""

from __future__ import annotations

import time

from flask import Blueprint, jsonify

from llm import TaskRunner, key_points, summarize
from routes.errors import invalid_request
from routes.inputs import DocumentInput, read_request
from routes.resources import get_model_host, get_settings
from routes.schemas import PointsRequest, SummaryRequest

bp = Blueprint("generate", __name__)


def _runner(temperature: float) -> TaskRunner:
    return TaskRunner(get_model_host().get(), temperature=temperature, seed=get_settings().seed)


def _answer(runner: TaskRunner, document: DocumentInput, started: float, warnings: list[str], **fields):
    body = {
        **fields,
        "model": runner.model.name,
        "usage": runner.usage.as_dict(),
        "elapsed_ms": round((time.monotonic() - started) * 1000),
    }
    if document.page_count is not None:
        body["pages"] = document.page_count
    body["warnings"] = document.warnings + warnings
    return jsonify(body)


@bp.post("/generate-summary")
def generate_summary():
    """Summarize a text or a document at the requested length."""
    started = time.monotonic()
    options, document = read_request(SummaryRequest)
    limit = get_settings().max_output_tokens
    if options.max_tokens is not None and options.max_tokens > limit:
        raise invalid_request(f"'max_tokens' must be at most {limit}")
    runner = _runner(options.temperature)
    result = summarize(runner, document.blocks, length=options.length, max_tokens=options.max_tokens)
    return _answer(
        runner, document, started, result.warnings,
        summary=result.summary, chunks=result.chunks, levels=result.levels, strategy=result.strategy,
    )


@bp.post("/generate-points")
def generate_points():
    """List the key points of a text or a document, each with the pages it came from."""
    started = time.monotonic()
    options, document = read_request(PointsRequest)
    runner = _runner(options.temperature)
    result = key_points(runner, document.blocks, count=options.count)
    points = [{"text": point.text, "pages": point.pages} for point in result.points]
    return _answer(runner, document, started, result.warnings, points=points, chunks=result.chunks)
