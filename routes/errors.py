"""Every error the API answers, as JSON {"error": {"code", "message"}} with a fitting status."""

from __future__ import annotations

import logging

from flask import Flask, g, jsonify
from werkzeug.exceptions import HTTPException

from llm.errors import CancelledError, InputTooLargeError, LLMError, ModelNotReadyError, ModelUnavailableError
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


def _from_domain(error: LLMError) -> ApiError:
    if isinstance(error, ModelNotReadyError):
        return ApiError(503, "model_loading", str(error), {"Retry-After": "5"})
    if isinstance(error, ModelUnavailableError):
        return ApiError(503, "model_unavailable", f"the model is not available: {error}")
    if isinstance(error, InputTooLargeError):
        return ApiError(413, "payload_too_large", str(error))
    if isinstance(error, CancelledError):
        return ApiError(409, "cancelled", str(error))
    raise error


_DOCUMENT_ERRORS: dict[type[pdf.DocumentError], tuple[int, str]] = {
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


def register_error_handlers(app: Flask) -> None:
    """Map HTTP errors, API errors, model errors and anything unexpected to JSON answers."""

    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return error_response(error.status, error.code, error.message, error.headers)

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

    @app.errorhandler(LLMError)
    def _llm_error(error: LLMError):
        try:
            api_error = _from_domain(error)
        except LLMError:
            return _internal_error(error)
        return _api_error(api_error)

    @app.errorhandler(pdf.DocumentError)
    def _document_error(error: pdf.DocumentError):
        status, code = _DOCUMENT_ERRORS.get(type(error), (422, "pdf_unreadable"))
        headers = {"Retry-After": "10"} if status == 503 else None
        return error_response(status, code, str(error), headers)

    @app.errorhandler(Exception)
    def _internal_error(error: Exception):
        request_id = g.get("request_id", "-")
        log.exception("unexpected error (request %s)", request_id, exc_info=error)
        return error_response(
            500, "internal_error", f"unexpected server error; quote request id {request_id}",
            request_id=request_id,
        )
