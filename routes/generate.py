"""POST /generate-summary and POST /generate-points."""

from __future__ import annotations

import time

from flask import Blueprint, jsonify, request

from llm import TaskRunner, blocks_from_text, key_points, summarize
from routes.errors import ApiError, invalid_request
from routes.resources import get_model_host, get_settings
from routes.schemas import PointsRequest, SummaryRequest, parse

bp = Blueprint("generate", __name__)


def _json_body() -> object:
    if not request.is_json:
        raise ApiError(
            415, "unsupported_media_type",
            f"send JSON with 'Content-Type: application/json' (got {request.mimetype or 'no content type'})",
        )
    body = request.get_json(silent=True)
    if body is None:
        raise invalid_request("the body is not valid JSON")
    return body


def _check_text(text: str) -> None:
    limit = get_settings().max_text_chars
    if len(text) > limit:
        raise ApiError(
            413, "payload_too_large", f"the text has {len(text):,} characters; the limit is {limit:,} (MAX_TEXT_CHARS)"
        )


def _runner(temperature: float) -> TaskRunner:
    return TaskRunner(get_model_host().get(), temperature=temperature, seed=get_settings().seed)


@bp.post("/generate-summary")
def generate_summary():
    """Summarize a text at the requested length."""
    body = parse(SummaryRequest, _json_body(), strict=True)
    _check_text(body.text)
    settings = get_settings()
    if body.max_tokens is not None and body.max_tokens > settings.max_output_tokens:
        raise invalid_request(f"'max_tokens' must be at most {settings.max_output_tokens}")
    started = time.monotonic()
    runner = _runner(body.temperature)
    result = summarize(runner, blocks_from_text(body.text), length=body.length, max_tokens=body.max_tokens)
    return jsonify(
        summary=result.summary,
        model=runner.model.name,
        usage=runner.usage.as_dict(),
        elapsed_ms=round((time.monotonic() - started) * 1000),
        chunks=result.chunks,
        levels=result.levels,
        strategy=result.strategy,
        warnings=result.warnings,
    )


@bp.post("/generate-points")
def generate_points():
    """List the key points of a text."""
    body = parse(PointsRequest, _json_body(), strict=True)
    _check_text(body.text)
    started = time.monotonic()
    runner = _runner(body.temperature)
    result = key_points(runner, blocks_from_text(body.text), count=body.count)
    return jsonify(
        points=[{"text": point.text, "pages": point.pages} for point in result.points],
        model=runner.model.name,
        usage=runner.usage.as_dict(),
        elapsed_ms=round((time.monotonic() - started) * 1000),
        chunks=result.chunks,
        warnings=result.warnings,
    )
