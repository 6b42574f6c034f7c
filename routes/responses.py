"""Answers built from the typed models of their bodies: the model is the one description of the JSON."""

from __future__ import annotations

from flask import Response, current_app
from pydantic import BaseModel


def json_response(body: BaseModel, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """The model as a JSON answer (fields the model leaves out when empty are left out)."""
    # A final newline, as Flask's own JSON answers have: curl users get their prompt on a line of its own.
    response = current_app.response_class(body.model_dump_json() + "\n", status=status, mimetype="application/json")
    response.headers.update(headers or {})
    return response
