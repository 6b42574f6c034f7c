"""The OpenAI-compatible API: POST /v1/chat/completions (plain, and streamed as OpenAI's chunks) and GET /v1/models,
so existing clients and tools can use the service's model. A chat request is a job like every other (the same
queue, API keys and metrics); the chat task (tasks/chat.py) does the work. Errors take OpenAI's shape
(routes/errors.py)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

from flask import Blueprint, Response, g, stream_with_context

from jobs.errors import JobNotFoundError
from jobs.service import JobService
from jobs.store import SUCCEEDED, Job
from llm.budgets import margin
from llm.model import Model
from routes.apispec import OPENAI, answers, api
from routes.auth import current_library
from routes.connection import client_disconnected
from routes.errors import CONTEXT_LENGTH_EXCEEDED, MODEL_NOT_FOUND, ApiError, classify
from routes.inputs import json_body
from routes.resources import get_jobs, get_model_host, get_settings
from routes.responses import json_response
from routes.schemas import (
    ChatAnswerMessage,
    ChatChoice,
    ChatChunkChoice,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatDelta,
    ChatUsage,
    ModelCard,
    ModelCardList,
    validate,
)
from routes.submission import answer_job
from tasks import new_chat_job
from tasks.chat import ChatOptions, ChatResult

bp = Blueprint("chat", __name__)
CHAT_WAIT_S = 600.0  # a plain chat request waits this long for its answer (OpenAI's clients wait 600 s too)
STREAM_CHECK_S = 1.0  # a stream with nothing new looks again this often (whether its client is still there)


@bp.get("/v1/models")
@api.validate(resp=answers(401, 500, 503, openai=True, HTTP_200=(ModelCardList, "The served model.")), tags=[OPENAI],
              operation_id="listModels")
def list_models():
    """The served model (OpenAI's models list)

    One model: the one this server runs (what /health names).
    """
    model = get_model_host().get()
    try:
        created = int(Path(model.info.path).stat().st_mtime)
    except OSError:
        created = 0
    return json_response(ModelCardList(data=[ModelCard(id=model.name, created=created)]))


@bp.post("/v1/chat/completions")
@api.validate(json=ChatCompletionRequest,
              resp=answers(400, 401, 404, 409, 413, 500, 503, openai=True,
                           HTTP_200=(ChatCompletion, "The answer (with `stream`: an event stream of chunks)."),
                           media={200: ("application/json", "text/event-stream")}),
              tags=[OPENAI], operation_id="createChatCompletion")
def chat_completions():
    """Answer a conversation (OpenAI's chat completions)

    The model's answer to the messages, on the same engine, queue and API keys as every other request. With
    `stream: true` the answer comes as Server-Sent Events, one `chat.completion.chunk` per piece of text as the
    model writes it, then `data: [DONE]`. A conversation that does not fit the model's context is refused (400
    `context_length_exceeded`), never cut. Only `n: 1`, text content and no tools.
    """
    settings = get_settings()
    body = validate(ChatCompletionRequest, json_body(), settings, strict=False)
    model = get_model_host().get()  # 503 while the model loads or when it failed to load
    if body.model != model.name:
        raise ApiError(*MODEL_NOT_FOUND, f"the model {body.model[:200]!r} does not exist here; this server runs "
                                         f"{model.name!r} (GET /v1/models)")
    messages = [message.as_chat_message() for message in body.messages]
    max_tokens = _max_tokens(model, body, [message.model_dump() for message in messages], settings.max_output_tokens)
    options = validate(ChatOptions, {
        "max_tokens": max_tokens, "stop": body.stop_strings(),
        **body.model_dump(include={"temperature", "top_p", "seed", "frequency_penalty", "presence_penalty",
                                   "repeat_penalty"}, exclude_none=True),
    }, settings, strict=False)
    job = get_jobs().submit(new_chat_job(options, messages, model.name, g.get("request_id"), current_library()))
    created = int(time.time())
    if body.stream:
        get_jobs().make_room()
        include_usage = body.stream_options is not None and body.stream_options.include_usage
        stream = _stream(get_jobs(), job, model.name, created, include_usage)
        return Response(stream_with_context(stream), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
    return answer_job(job, False, lambda finished: json_response(_completion(finished, created)),
                      on_unfinished=_still_running, timeout=CHAT_WAIT_S)


def _max_tokens(model: Model, body: ChatCompletionRequest, messages, most: int) -> int:
    """The answer's token cap: as asked, or what the context leaves (at most MAX_OUTPUT_TOKENS); a conversation
    that cannot fit with it is refused, as OpenAI refuses it."""
    prompt = model.prompt_tokens(messages)
    room = model.n_ctx - prompt - margin(model.n_ctx)
    asked = body.max_tokens if body.max_tokens is not None else body.max_completion_tokens
    wanted = asked if asked is not None else min(most, room)
    if wanted < 1 or prompt + wanted + margin(model.n_ctx) > model.n_ctx:
        raise ApiError(*CONTEXT_LENGTH_EXCEEDED, (
            f"this model's maximum context length is {model.n_ctx} tokens; the messages take {prompt} tokens"
            + (f" and {asked} were asked for the answer" if asked is not None else ", leaving no room for an answer")
            + f" ({margin(model.n_ctx)} are kept free): shorten the messages or lower max_tokens"
        ))
    return wanted


def _still_running(job: Job) -> Response:
    raise ApiError(503, "not_ready", f"the answer was not ready within {CHAT_WAIT_S:.0f} s; try again later",
                   {"Retry-After": "30"})


def _usage(result: ChatResult) -> ChatUsage:
    return ChatUsage(prompt_tokens=result.usage.prompt_tokens, completion_tokens=result.usage.completion_tokens,
                     total_tokens=result.usage.prompt_tokens + result.usage.completion_tokens)


def _completion(job: Job, created: int) -> ChatCompletion:
    result = ChatResult.model_validate(job.result)
    return ChatCompletion(
        id=f"chatcmpl-{job.id}", created=created, model=result.model, usage=_usage(result),
        choices=[ChatChoice(message=ChatAnswerMessage(content=result.text), finish_reason=result.finish_reason)],
    )


def _event(data: ChatCompletionChunk | dict) -> str:
    payload = data.model_dump_json() if isinstance(data, ChatCompletionChunk) else json.dumps(data)
    return f"data: {payload}\n\n"


def _stream(jobs: JobService, job: Job, model_name: str, created: int, include_usage: bool) -> Iterator[str]:
    """The answer as OpenAI's chunks: the role, each piece of text as the model writes it, the end (and the usage
    when asked), then [DONE]. A failure mid-way is an error event in OpenAI's shape; a client that goes away
    abandons its job."""
    chunk_id = f"chatcmpl-{job.id}"

    def chunk(delta: ChatDelta, finish_reason=None) -> ChatCompletionChunk:
        return ChatCompletionChunk(id=chunk_id, created=created, model=model_name,
                                   choices=[ChatChunkChoice(delta=delta, finish_reason=finish_reason)])

    yield _event(chunk(ChatDelta(role="assistant", content="")))
    sent = 0
    finished = False
    try:
        with jobs.watching(job.id) as waiter:
            while True:
                text = jobs.streams.text(job.id)
                if len(text) > sent:  # while the answer grows, the store is not read at every token
                    if client_disconnected():
                        return  # the finally below abandons the job
                    yield _event(chunk(ChatDelta(content=text[sent:])))
                    sent = len(text)
                    waiter.wait(STREAM_CHECK_S)  # the next piece, or the end, wakes it
                    continue
                try:
                    current = jobs.get(job.id)
                except JobNotFoundError as gone:
                    yield _event(_error(gone))
                    break
                if current.finished:
                    if current.status != SUCCEEDED:
                        yield _event({"error": _stored_error(current)})
                        break
                    result = ChatResult.model_validate(current.result)
                    if len(result.text) > sent:  # what the stream had not carried yet
                        yield _event(chunk(ChatDelta(content=result.text[sent:])))
                    yield _event(chunk(ChatDelta(), result.finish_reason))
                    if include_usage:
                        last = chunk(ChatDelta(), None)
                        last.choices = []
                        last.usage = _usage(result)
                        yield _event(last)
                    break
                if client_disconnected():
                    return  # the finally below abandons the job
                waiter.wait(STREAM_CHECK_S)
        finished = True
        yield "data: [DONE]\n\n"
    finally:
        if not finished:  # the client went away (or the server is stopping): nobody will read the answer
            jobs.abandon(job.id)


def _error(error: Exception) -> dict:
    known = classify(error)
    code = known.code if known is not None else "internal_error"
    message = known.message if known is not None else "unexpected server error"
    return {"error": {"message": message, "type": "server_error", "param": None, "code": code}}


def _stored_error(job: Job) -> dict:
    error = job.error or {"code": "internal_error", "message": "the job failed"}
    return {"message": error["message"], "type": "server_error", "param": None, "code": error["code"]}
