"""Every error the API answers, as JSON {"error": {"code", "message"}} with a fitting status: the one table that
maps the errors raised inside (model, documents, jobs, tasks) to HTTP, and the models of the error bodies."""

from __future__ import annotations

import logging
from typing import Literal

from flask import Flask, g, has_request_context, request
from pydantic import BaseModel, ConfigDict, Field, create_model
from werkzeug.exceptions import HTTPException

from jobs.errors import (
    JobCancelledError,
    JobNotFinishedError,
    JobNotFoundError,
    QueueFullError,
    ResultNotReadyError,
    TooManyWaitingError,
)
from jobs.store import Job
from library.errors import CollectionNotFoundError, DocumentDeletedError, DocumentNotFoundError, EmptyCollectionError
from llm.errors import CancelledError, InputTooLargeError, ModelNotReadyError, ModelUnavailableError
from pdf_tools import errors as pdf
from routes.responses import json_response
from speech import NoSpeechError, SpeechError, UnknownVoiceError
from storage.errors import StorageUnavailableError
from tasks.errors import InputError, NoAnswerError, TextTooLongError, UnsupportedFileError

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "invalid_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
}
# Codes only the OpenAI-compatible endpoints answer with (routes/chat.py).
MODEL_NOT_FOUND = (404, "model_not_found")
CONTEXT_LENGTH_EXCEEDED = (400, "context_length_exceeded")

# The one table: each error raised inside, the status and code a client sees for it.
_DOMAIN_ERRORS: dict[type[Exception], tuple[int, str]] = {
    ModelNotReadyError: (503, "model_loading"),
    ModelUnavailableError: (503, "model_unavailable"),
    InputTooLargeError: (413, "payload_too_large"),
    CancelledError: (409, "cancelled"),
    JobCancelledError: (409, "cancelled"),
    JobNotFoundError: (404, "not_found"),
    QueueFullError: (503, "queue_full"),
    TooManyWaitingError: (503, "server_busy"),
    NoAnswerError: (422, "no_answer"),
    InputError: (400, "invalid_request"),
    UnsupportedFileError: (415, "unsupported_media_type"),
    TextTooLongError: (413, "payload_too_large"),
    pdf.NotAPdfError: (415, "unsupported_media_type"),
    pdf.EmptyFileError: (400, "invalid_request"),
    pdf.PageRangeError: (400, "invalid_request"),
    pdf.TooManyPagesError: (413, "payload_too_large"),
    pdf.PasswordRequiredError: (422, "pdf_password_required"),
    pdf.PasswordIncorrectError: (422, "pdf_password_incorrect"),
    pdf.NoTextError: (422, "pdf_no_text"),
    pdf.GarbledTextError: (422, "pdf_garbled_text"),
    pdf.UnreadableError: (422, "pdf_unreadable"),
    pdf.TooComplexError: (422, "pdf_too_complex"),
    pdf.ReaderBusyError: (503, "server_busy"),
    DocumentNotFoundError: (404, "not_found"),
    CollectionNotFoundError: (404, "not_found"),
    DocumentDeletedError: (409, "document_deleted"),
    EmptyCollectionError: (422, "empty_collection"),
    JobNotFinishedError: (409, "job_not_finished"),
    ResultNotReadyError: (503, "not_ready"),
    NoSpeechError: (422, "no_answer"),  # before SpeechError, its base: silence is about the text, not the server
    SpeechError: (503, "speech_unavailable"),
    UnknownVoiceError: (400, "invalid_request"),
    StorageUnavailableError: (503, "database_unavailable"),
}
_RETRY_AFTER = {"model_loading": "5", "server_busy": "10", "queue_full": "30", "not_ready": "30",
                "database_unavailable": "5"}
_STATUS_BY_CODE = {code: status for status, code in _DOMAIN_ERRORS.values()} | {
    code: status for status, code in _HTTP_CODES.items()
} | {"internal_error": 500} | {code: status for status, code in (MODEL_NOT_FOUND, CONTEXT_LENGTH_EXCEEDED)}

# What each status an operation may answer means (the API description shows these).
STATUS_DESCRIPTIONS = {
    400: "Invalid request: bad JSON, missing or empty text, wrong types, unknown fields, values out of range.",
    401: "API_KEY is set and the request has no valid key (`Authorization: Bearer <key>` or `X-API-Key`).",
    404: "No such job, document, page or collection: it never existed, has expired or was deleted (another API "
         "key's are not found either).",
    409: "A synchronous request whose job was cancelled (`cancelled`), or a document it reads was deleted while it "
         "waited or ran (`document_deleted`); or a job named is not finished, or ended without the result asked for "
         "(`job_not_finished`).",
    413: "The body is over MAX_UPLOAD_MB, the text over MAX_TEXT_CHARS, or the PDF over MAX_PAGES.",
    415: "The body is neither JSON nor a form, or the file is not a PDF, .txt or .md file (judged by its content).",
    422: "The document cannot be used: the PDF needs a password, the password is wrong, it has no text layer (a "
         "scan, and OCR is not installed), its text is garbled, it is broken, or reading it took too much time or "
         "memory; or the text gave no answer at all (`no_answer`: no key point, no summary, no message, no sound); "
         "or a collection has no documents left (`empty_collection`).",
    500: "A bug; the answer carries a `request_id` that the server log also has.",
    503: "The model is loading (`model_loading`) or failed to load (`model_unavailable`), the queue is full "
         "(`queue_full`), too many PDFs are being read at once (`server_busy`), the speech engine is missing "
         "(`speech_unavailable`), or audio asked for synchronously is still being made (`not_ready`: send the same "
         "request again); see Retry-After.",
}


class ErrorDetail(BaseModel):
    """What went wrong."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(description="What kind of error, for programs.")
    message: str = Field(description="What went wrong, in plain words.")
    request_id: str | None = Field(
        None, exclude_if=lambda value: value is None, description="With 500: the id the server log has."
    )


class ErrorBody(BaseModel):
    """Every error answer."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorDetail


class OpenAIErrorDetail(BaseModel):
    """What went wrong, as OpenAI's API says it (for /v1/, so that its clients read our errors)."""

    model_config = ConfigDict(extra="forbid")

    message: str = Field(description="What went wrong, in plain words.")
    type: str = Field(description="invalid_request_error, authentication_error, not_found_error or server_error.")
    param: str | None = Field(None, description="The request field at fault, when one is.")
    code: str = Field(description="What kind of error, for programs (this API's codes, and model_not_found, "
                                  "context_length_exceeded).")


class OpenAIErrorBody(BaseModel):
    """Every error answer under /v1/."""

    model_config = ConfigDict(extra="forbid")

    error: OpenAIErrorDetail


OPENAI_PREFIX = "/v1/"  # the OpenAI-compatible endpoints (routes/chat.py), whose errors take OpenAI's shape


def _openai_type(status: int) -> str:
    if status == 401:
        return "authentication_error"
    if status == 404:
        return "not_found_error"
    return "server_error" if status >= 500 else "invalid_request_error"


def _codes(status: int) -> tuple[str, ...]:
    """The error codes that go with a status."""
    return tuple(sorted(code for code, code_status in _STATUS_BY_CODE.items() if code_status == status))


def _error_model(status: int) -> type[ErrorBody]:
    """The error body of one status, its codes listed."""
    codes = _codes(status)
    detail = create_model(
        f"Error{status}Detail", __base__=ErrorDetail, __doc__=STATUS_DESCRIPTIONS[status],
        code=(Literal[codes], Field(description="What kind of error, for programs.")),
    )
    return create_model(f"Error{status}", __base__=ErrorBody, __doc__=STATUS_DESCRIPTIONS[status], error=(detail, ...))


ERROR_MODELS: dict[int, type[ErrorBody]] = {status: _error_model(status) for status in STATUS_DESCRIPTIONS}


class ApiError(Exception):
    """An error the client should see: status, machine-readable code and a plain-words message."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def invalid_request(message: str) -> ApiError:
    """A 400 for input the API cannot accept."""
    return ApiError(400, "invalid_request", message)


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None,
                   request_id: str | None = None):
    """The JSON error answer every failure uses, built by its status's error model (the general one for a status
    or code the table does not list, such as 499 or an HTTP error raised by Flask itself)."""
    if has_request_context() and request.path.startswith(OPENAI_PREFIX):
        body = OpenAIErrorBody(error={"message": message, "type": _openai_type(status), "code": code})
        return json_response(body, status, headers)
    model = ERROR_MODELS[status] if status in ERROR_MODELS and code in _codes(status) else ErrorBody
    body = model(error={"code": code, "message": message, "request_id": request_id})
    return json_response(body, status, headers)


def classify(error: Exception) -> ApiError | None:
    """The client-facing form of a known error; None for an unexpected one (a bug)."""
    if isinstance(error, ApiError):
        return error
    for kind in type(error).__mro__:
        if kind in _DOMAIN_ERRORS:
            status, code = _DOMAIN_ERRORS[kind]
            message = str(error)
            if code == "model_unavailable":
                message = f"the model is not available: {message}"
            return ApiError(status, code, message, retry_after(code))
    return None


def describe_job_error(error: Exception, job: Job | None) -> dict:
    """The error a job ends with, as it is stored: the client-facing form of known errors, a request id for
    bugs (logged with their traceback)."""
    known = classify(error)
    if known is not None:
        return ErrorDetail(code=known.code, message=known.message).model_dump()
    request_id = (job.request_id or job.id) if job is not None else "-"
    log.error("job %s (request %s) failed unexpectedly", getattr(job, "id", "-"), request_id, exc_info=error)
    return ErrorDetail(code="internal_error", message=f"unexpected server error; quote request id {request_id}",
                       request_id=request_id).model_dump()


def stored_error_response(error: dict | None, cancelled: bool = False):
    """The answer for a job that ended with this stored error."""
    error = dict(error or {"code": "internal_error", "message": "the job failed"})
    code = error["code"]
    status = 409 if cancelled else status_for(code)
    return error_response(status, code, error["message"], retry_after(code), error.get("request_id"))


def status_for(code: str) -> int:
    """The HTTP status that goes with an error code (for errors stored with a job)."""
    return _STATUS_BY_CODE.get(code, 500)


def retry_after(code: str) -> dict[str, str]:
    """A Retry-After header for errors that pass with time."""
    return {"Retry-After": _RETRY_AFTER[code]} if code in _RETRY_AFTER else {}


def register_error_handlers(app: Flask) -> None:
    """Map HTTP errors, API errors, model and document errors, and anything unexpected to JSON answers."""

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        code = _HTTP_CODES.get(status, "http_error")
        message = {
            404: "no such endpoint; see the README for the API",
            405: f"method not allowed here; allowed: {', '.join(getattr(error, 'valid_methods', None) or [])}",
            413: "the request body or a form field is larger than this server accepts (MAX_UPLOAD_MB)",
        }.get(status, error.description or "request error")
        headers = {"Allow": ", ".join(error.valid_methods)} if getattr(error, "valid_methods", None) else {}
        return error_response(status, code, message, headers)

    @app.errorhandler(Exception)
    def _any_error(error: Exception):
        known = classify(error)
        if known is not None:
            return error_response(known.status, known.code, known.message, known.headers)
        request_id = g.get("request_id", "-")
        log.exception("unexpected error (request %s)", request_id, exc_info=error)
        return error_response(
            500, "internal_error", f"unexpected server error; quote request id {request_id}", request_id=request_id
        )
