"""The one spectree instance the routes declare their query, bodies and answers with; spectree builds the OpenAPI
3.1 document from those pydantic models and the views' docstrings (routes/openapi.py serves it).

spectree here only documents. Requests are parsed by our own code (routes/inputs.py, routes/schemas.validate:
strict JSON types, form fields coerced, 413 and 415 kept apart, messages in plain words) and answers are built
from the same models (routes/responses.py), so the wrapper it puts around a view calls the view and nothing
else: no second validation, and a streamed answer (the event stream) stays streamed.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel
from spectree import Response, SecurityScheme, SecuritySchemeData, SpecTree, Tag
from spectree.plugins.flask_plugin import FlaskPlugin

from routes.errors import ERROR_MODELS, STATUS_DESCRIPTIONS, OpenAIErrorBody

ROOT = Path(__file__).resolve().parent.parent


def _version() -> str:
    try:
        return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "0.0.0"


class _DocumentingFlaskPlugin(FlaskPlugin):
    """spectree's Flask plugin, minus the run-time part: the view is called as it is."""

    def validate(self, func, query, json, form, headers, cookies, resp, before, after, validation_error_status,
                 skip_validation, force_resp_serialize, *args, **kwargs):
        return func(*args, **kwargs)


api = SpecTree(
    "flask",
    backend=_DocumentingFlaskPlugin,
    mode="strict",  # only routes declared with api.validate are operations (not static files)
    annotations=False,
    title="Local LLM document service",
    version=_version(),
    license={"name": "MIT", "identifier": "MIT"},
    naming_strategy=lambda model: model.__name__,  # component names as the models are named
    nested_naming_strategy=lambda _parent, child: child,
    validation_error_status=400,
    validation_error_model=ERROR_MODELS[400],
    security_schemes=[
        SecurityScheme(name="bearerAuth", data=SecuritySchemeData(
            type="http", scheme="bearer", description="`Authorization: Bearer <key>`, a key from API_KEY.")),
        SecurityScheme(name="apiKeyHeader", data=SecuritySchemeData(
            type="apiKey", field_in="header", name="X-API-Key", description="`X-API-Key: <key>`, a key from API_KEY.")),
    ],
)


# Headers the answers carry, described once: every answer has X-Request-ID, and some statuses say more.
_HEADER = {
    "X-Request-ID": {"required": True, "schema": {"type": "string"},
                     "description": "The request's id, as the server log has it (yours, if you sent a valid one)."},
    "Location": {"required": True, "schema": {"type": "string"},
                 "description": "The job's URL (202), or the new resource's (201)."},
    "Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"},
                    "description": "Seconds to wait before trying again."},
    "WWW-Authenticate": {"required": True, "schema": {"type": "string", "enum": ["Bearer"]},
                         "description": "The key scheme this server wants."},
}
_HEADERS_BY_STATUS = {201: ("Location",), 202: ("Location",), 401: ("WWW-Authenticate",), 503: ("Retry-After",)}


class Answers(Response):
    """A route's answers: spectree's responses, plus what it cannot say itself: bodies that are not JSON, the
    headers each status carries, and links from an answer to the operations that follow it."""

    def __init__(self, *args, media: dict[int, str | tuple[str, ...]] | None = None,
                 links: dict[int, dict] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.media = media or {}
        self.links = links or {}

    def add_model(self, code, model, replace=True, description=None):
        # spectree adds a validation-error answer to every route (replace=False); each route declares its own.
        if replace:
            super().add_model(code, model, replace, description)

    def generate_spec(self, naming_strategy=None):
        responses = super().generate_spec(naming_strategy) if naming_strategy else super().generate_spec()
        for code, response in responses.items():
            status = int(code)
            if status in self.media:  # a body with no model (text, audio, JSON of its own), or one of several kinds
                types = self.media[status]
                modelled = response.get("content", {})  # a model's JSON keeps its schema
                response["content"] = {
                    media_type: modelled.get(media_type) or {
                        "schema": {"type": "object"} if media_type == "application/json" else
                        {"type": "string"} if media_type.startswith("text/") else
                        {"type": "string", "format": "binary"}}
                    for media_type in ((types,) if isinstance(types, str) else types)
                }
            response["headers"] = {name: _HEADER[name]
                                   for name in ("X-Request-ID", *_HEADERS_BY_STATUS.get(status, ()))}
            if status in self.links:
                response["links"] = self.links[status]
        return responses


# The groups the operations are listed in.
GENERATE = Tag(name="generate", description="Summaries, key points, messages and audio")
JOBS = Tag(name="jobs", description="Every request runs as a job: follow, list and cancel them")
LIBRARY = Tag(name="library", description="Stored documents, questions answered from them, and collections")
SERVICE = Tag(name="service", description="Health, metrics and the web page")
DOCS = Tag(name="docs", description="This documentation")
OPENAI = Tag(name="openai", description="OpenAI-compatible chat completions and models, for existing clients")


def answers(*errors: int, media: dict[int, str | tuple[str, ...]] | None = None, links: dict[int, dict] | None = None,
            openai: bool = False, **successes: type[BaseModel] | tuple[type[BaseModel] | None, str] | None) -> Answers:
    """A route's answers: its successful ones by status (HTTP_200=Model, or (Model, "what it means"); None where the
    body is not JSON, whose media type `media` gives), and the error statuses it may give, each with its model
    (OpenAI's error shape for openai routes)."""
    return Answers(
        media=media, links=links, **successes,
        **{f"HTTP_{status}": (OpenAIErrorBody if openai else ERROR_MODELS[status], STATUS_DESCRIPTIONS[status])
           for status in errors},
    )
