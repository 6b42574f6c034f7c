"""POST /generate-message: messages written from key points (or a stored document's), as a job. The message task
(tasks/message.py) does the work; this view translates the request, the older message writer's included."""

from __future__ import annotations

from flask import Blueprint, g, request

from llm.message import Letter, prompt_fits, split_points
from routes.apispec import GENERATE, api
from routes.auth import current_library
from routes.errors import invalid_request
from routes.inputs import json_body, one_of, stored_document
from routes.resources import get_jobs, get_model_host, get_settings
from routes.schemas import AsyncQuery, MessageRequest, validate
from routes.submission import answer_job, job_answers
from tasks import new_message_job
from tasks.message import MessageOptions, MessageResult

bp = Blueprint("messages", __name__)


def _points(body: MessageRequest) -> list[str]:
    """The points sent, as a list (one text is split into them)."""
    sent = body.points if body.points is not None else body.prompt
    points = split_points(sent) if isinstance(sent, str) else [point.strip() for point in sent]
    if not points or not all(points):
        raise invalid_request("'points' must have at least one point, and no point may be empty")
    return points


def _one_of(body: MessageRequest) -> None:
    one_of(body, ("points", "prompt", "document_id"),
           "send the key points ('points'), or a stored document's 'document_id', one of the two")
    for new, old in (("n", "n_gen"), ("max_tokens", "token_count")):
        if getattr(body, new) is not None and getattr(body, old) is not None:
            raise invalid_request(f"send '{new}' or the older '{old}', not both")


@bp.post("/generate-message")
@api.validate(query=AsyncQuery, json=MessageRequest,
              resp=job_answers(400, 404, 413, 415, 422, 500, 503, HTTP_200=(MessageResult, "The messages.")),
              tags=[GENERATE], operation_id="generateMessage")
def generate_message():
    """Write messages from key points

    `n` distinct email variants (subject and body) that state the key points, written from the sender to the
    recipient in the tone asked for; each says which points it covers (checked against its text) and which it
    misses. Names, dates and numbers in a message come from the points and fields (a stored document's, with a
    `document_id`): a sentence stating others is dropped. The older message writer's body (`prompt`,
    `token_count`, `temperature`, `n_gen`) works as it did. It runs as a job like every request (200 when done
    within SYNC_TIMEOUT_S, else 202).
    """
    settings = get_settings()
    query = validate(AsyncQuery, request.args.to_dict(), settings, strict=False, drop_empty=True)
    body = validate(MessageRequest, json_body(), settings, strict=True)
    _one_of(body)
    points = [] if body.document_id is not None else _points(body)
    fields = body.model_dump(include={"document_points", "sender", "recipient", "purpose", "tone", "temperature"})
    n = body.n if body.n is not None else body.n_gen
    max_tokens = body.max_tokens if body.max_tokens is not None else body.token_count
    options = validate(MessageOptions, {**fields, "points": points,
                                        **({"n": n} if n is not None else {}),
                                        **({"max_tokens": max_tokens} if max_tokens is not None else {})},
                       settings, strict=True)
    received = stored_document(body.document_id) if body.document_id is not None else None
    model = get_model_host().get()  # 503 while the model loads or when it failed to load
    if points:  # refused before it is queued when the points cannot fit the model's context
        prompt_fits(model, Letter(tuple(points), options.sender, options.recipient, options.purpose, options.tone),
                    options.max_tokens)
    job = get_jobs().submit(new_message_job(options, received, model.name, g.get("request_id"), current_library(),
                                            body.document_id))
    return answer_job(job, body.run_async or query.run_async)
