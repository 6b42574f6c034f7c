"""Every error the API answers, as JSON {"error": {"code", "message"}} with a fitting status."""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify
from werkzeug.exceptions import HTTPException

from llm.errors import CancelledError, InputTooLargeError, ModelNotReadyError, ModelUnavailableError
from pdf_tools import errors as pdf

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


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra):
    """The JSON error body every failure uses."""
    body = {"error": {"code": code, "message": message, **extra}}
    return jsonify(body), status, headers or {}


_DOMAIN_ERRORS: dict[type[Exception], tuple[int, str]] = {
    ModelNotReadyError: (503, "model_loading"),
    ModelUnavailableError: (503, "model_unavailable"),
    InputTooLargeError: (413, "payload_too_large"),
    CancelledError: (409, "cancelled"),
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
}
_RETRY_AFTER = {"model_loading": "5", "server_busy": "10", "queue_full": "30"}
_STATUS_BY_CODE = {code: status for status, code in _DOMAIN_ERRORS.values()} | {
    code: status for status, code in _HTTP_CODES.items()
} | {"internal_error": 500, "queue_full": 503}


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
            headers = {"Retry-After": _RETRY_AFTER[code]} if code in _RETRY_AFTER else {}
            return ApiError(status, code, message, headers)
    return None


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
            500, "internal_error", f"unexpected server error; quote request id {request_id}",
            request_id=request_id,
        )
