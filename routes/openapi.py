"""GET /openapi.json: the OpenAPI 3 description of the API; GET /docs: Swagger UI for it, served offline.

The request bodies come from the pydantic models that validate them (routes/schemas.py), the error codes from
routes/errors.py and the limits from the running server's settings, so the description cannot drift from what
the code accepts; the paths and the answers' shapes are written out here. tests/test_openapi.py checks it
against the live app with schemathesis.
"""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, jsonify, request, send_from_directory, url_for
from markupsafe import escape
from pydantic import TypeAdapter
from swagger_ui_bundle import swagger_ui_path

from llm.model import ModelInfo
from routes import errors
from routes.resources import get_settings
from routes.schemas import PointsRequest, SummaryRequest
from settings import Settings

bp = Blueprint("openapi", __name__)

ROOT = Path(__file__).resolve().parent.parent
OPENAPI_VERSION = "3.0.3"  # the newest version the bundled Swagger UI (4.x) renders
# The only Swagger UI files the page needs: nothing else of the package is served.
DOCS_ASSETS = ("swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png", "favicon-16x16.png")
# Endpoints that are open even when API_KEY is set: they describe the API, they do not use it.
PUBLIC_ENDPOINTS = frozenset({"openapi.spec", "openapi.docs", "openapi.docs_asset"})
# The paths api.py's key check lets through (its `_register_api_keys`); every other operation may answer 401.
# tests/test_openapi.py checks both ways against a server with API_KEY set.
OPEN_PATHS = ("/health", "/openapi.json", "/docs", "/")
JOB_STATUSES = ["queued", "running", "succeeded", "failed", "cancelled"]

_REF = "#/components/schemas/{model}"


def _version() -> str:
    try:
        return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "0.0.0"


def to_openapi30(node: Any) -> Any:
    """A pydantic JSON Schema (draft 2020-12) in the OpenAPI 3.0 dialect: `nullable` instead of a null type,
    `enum` instead of `const`, one `example` instead of `examples`, and no generated titles."""
    if isinstance(node, list):
        return [to_openapi30(item) for item in node]
    if not isinstance(node, dict):
        return node
    result: dict[str, Any] = {}
    for key, value in node.items():
        if key == "title":
            continue
        if key == "properties":
            result[key] = {name: to_openapi30(sub) for name, sub in value.items()}
        elif key == "examples" and isinstance(value, list):
            if value:
                result["example"] = to_openapi30(value[0])
        elif key == "const":
            result["enum"] = [value]
        else:
            result[key] = to_openapi30(value)
    options = result.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options:
        rest = [option for option in options if option != {"type": "null"}]
        del result["anyOf"]
        result = {**rest[0], **result} if len(rest) == 1 else {**result, "anyOf": rest}
        result["nullable"] = True
    return result


def _model_schema(model, components: dict[str, Any]) -> dict[str, Any]:
    """A pydantic model's validation schema (by its aliases, as clients send it) in the OpenAPI 3.0 dialect."""
    schema = model.model_json_schema(by_alias=True, mode="validation", ref_template=_REF)
    for name, sub in schema.pop("$defs", {}).items():
        components[name] = to_openapi30(sub)
    return to_openapi30(schema)


def _request_schemas(settings: Settings, components: dict[str, Any]) -> None:
    """The JSON and the form bodies of the generate endpoints, from the models that validate them."""
    summary = _model_schema(SummaryRequest, components)
    summary["properties"]["max_tokens"]["maximum"] = settings.max_output_tokens
    summary["properties"]["max_tokens"]["description"] += f" At most {settings.max_output_tokens} (MAX_OUTPUT_TOKENS)."
    points = _model_schema(PointsRequest, components)
    points["properties"]["count"]["maximum"] = settings.max_points
    for schema in (summary, points):
        text = schema["properties"]["text"]
        text["maxLength"] = settings.max_text_chars
        text["description"] += (
            f" It must have words; longer than {settings.max_text_chars:,} characters (MAX_TEXT_CHARS) is refused."
        )
    # `points` is the original client's name for `text`: one of the two, never both.
    points["properties"]["points"] = {**points["properties"]["text"], "deprecated": True,
                                      "description": "The original client's name for `text`; send one of the two."}
    if points.pop("required", None) != ["text"]:
        raise RuntimeError("PointsRequest changed: review its OpenAPI description")
    points["oneOf"] = [{"required": ["text"]}, {"required": ["points"]}]
    components["SummaryRequest"] = summary
    components["PointsRequest"] = points

    upload_mb = f"{settings.max_upload_mb:g}"
    file_fields = {
        "file": {
            "type": "string", "format": "binary",
            "description": f"A PDF, .txt or .md file (judged by its content), at most {upload_mb} MB (MAX_UPLOAD_MB)"
                           f" and {settings.max_pages:,} pages (MAX_PAGES).",
        },
        "pages": {"type": "string", "example": "1-3,7", "description": "PDF only: the pages to read, e.g. `1-3,7`."},
        "password": {"type": "string", "format": "password", "description": "PDF only: the PDF's password."},
    }
    for name, json_schema in (("SummaryForm", summary), ("PointsForm", points)):
        fields = {key: value for key, value in json_schema["properties"].items() if key != "points"}
        fields["text"] = {**fields["text"], "description": fields["text"]["description"] + " Instead of a file."}
        components[name] = {
            "type": "object",
            "description": "The same options as the JSON body, as form fields, with a file (or a `text` field).",
            "properties": {**file_fields, **fields},
            # A file, or a text without the PDF-only fields (empty ones count as absent).
            "oneOf": [
                {"required": ["file"]},
                {"required": ["text"], "not": {"anyOf": [
                    {"required": [name], "properties": {name: {"minLength": 1}}} for name in ("pages", "password")
                ]}},
            ],
        }


def _result_schemas(components: dict[str, Any]) -> None:
    usage = {
        "type": "object", "required": ["prompt_tokens", "completion_tokens"], "additionalProperties": False,
        "description": "Tokens the model read and wrote for this answer, over all its calls.",
        "properties": {"prompt_tokens": {"type": "integer", "minimum": 0},
                       "completion_tokens": {"type": "integer", "minimum": 0}},
    }
    common = {
        "model": {"type": "string", "description": "The model that answered."},
        "usage": {"$ref": _REF.format(model="Usage")},
        "elapsed_ms": {"type": "integer", "minimum": 0, "description": "Time the job's model work took."},
        "chunks": {"type": "integer", "minimum": 1, "description": "Parts the text was split into to fit the context."},
        "pages": {"type": "integer", "minimum": 1, "description": "For a PDF: how many pages were used."},
        "warnings": {"type": "array", "items": {"type": "string"},
                     "description": "What went less than perfectly: skipped pages, fewer points than asked, ..."},
    }
    components["Usage"] = usage
    components["SummaryResult"] = {
        "type": "object", "additionalProperties": False,
        "required": ["summary", "chunks", "levels", "strategy", "model", "usage", "elapsed_ms", "warnings"],
        "properties": {
            "summary": {"type": "string"},
            "levels": {"type": "integer", "minimum": 1,
                       "description": "Rounds of model calls, the final one included."},
            "strategy": {"type": "string", "enum": ["single", "hierarchical"],
                         "description": "`single`: the text fit one context; `hierarchical`: map, merge, write."},
            **common,
        },
    }
    components["Point"] = {
        "type": "object", "required": ["text", "pages"], "additionalProperties": False,
        "properties": {
            "text": {"type": "string"},
            "pages": {"type": "array", "items": {"type": "integer", "minimum": 1},
                      "description": "The pages whose text supports the point (empty for plain text)."},
        },
    }
    components["PointsResult"] = {
        "type": "object", "additionalProperties": False,
        "required": ["points", "chunks", "model", "usage", "elapsed_ms", "warnings"],
        "properties": {
            "points": {"type": "array", "items": {"$ref": _REF.format(model="Point")},
                       "description": "The key points, best first; `count` of them unless the text has fewer."},
            **common,
        },
    }


def _job_schemas(components: dict[str, Any]) -> None:
    status = {"type": "string", "enum": JOB_STATUSES}
    components["JobReference"] = {
        "type": "object", "required": ["job_id", "status", "status_url"], "additionalProperties": False,
        "properties": {
            "job_id": {"type": "string"},
            "status": status,
            "status_url": {"type": "string", "description": "Where the job is: GET it, or DELETE it to cancel."},
        },
    }
    components["JobError"] = {
        "type": "object", "required": ["code", "message"], "additionalProperties": False,
        "properties": {"code": {"type": "string", "enum": sorted(set(errors._STATUS_BY_CODE))},
                       "message": {"type": "string"}},
    }
    timestamp = {"type": "string", "format": "date-time"}
    components["Job"] = {
        "type": "object", "additionalProperties": False,
        "required": ["job_id", "task", "status", "progress", "created_at", "started_at", "finished_at", "status_url"],
        "properties": {
            "job_id": {"type": "string"},
            "task": {"type": "string", "enum": ["summary", "points"]},
            "status": status,
            "progress": {
                "type": "object", "required": ["stage", "done", "total"], "additionalProperties": False,
                "properties": {
                    "stage": {"type": "string", "example": "summarizing parts"},
                    "done": {"type": "integer", "minimum": 0},
                    "total": {"type": "integer", "minimum": 0},
                },
            },
            "created_at": timestamp,
            "started_at": {**timestamp, "nullable": True},
            "finished_at": {**timestamp, "nullable": True},
            "status_url": {"type": "string"},
            "result": {"description": "Once the job succeeded: the answer of its endpoint.",
                       "oneOf": [{"$ref": _REF.format(model="SummaryResult")},
                                 {"$ref": _REF.format(model="PointsResult")}]},
            "error": {"$ref": _REF.format(model="JobError")},
        },
    }
    components["JobList"] = {
        "type": "object", "required": ["jobs", "limit", "offset"], "additionalProperties": False,
        "properties": {
            "jobs": {"type": "array", "items": {"$ref": _REF.format(model="Job")}, "description": "Newest first."},
            "limit": {"type": "integer"},
            "offset": {"type": "integer"},
            "next": {"type": "string", "description": "The next page, present when this one is full."},
        },
    }


def _health_schemas(components: dict[str, Any]) -> None:
    model_info = to_openapi30(TypeAdapter(ModelInfo).json_schema())
    model_info["properties"].pop("extra")
    model_info["additionalProperties"] = False
    components["ModelInfo"] = model_info
    components["Health"] = {
        "type": "object", "required": ["status", "model"], "additionalProperties": False,
        "properties": {"status": {"type": "string", "enum": ["ok"]}, "model": {"$ref": _REF.format(model="ModelInfo")}},
    }
    components["HealthUnavailable"] = {
        "type": "object", "required": ["status"], "additionalProperties": False,
        "properties": {
            "status": {"type": "string", "enum": ["loading", "failed"]},
            "error": {
                "type": "object", "required": ["code", "message"], "additionalProperties": False,
                "properties": {"code": {"type": "string", "enum": ["model_unavailable"]},
                               "message": {"type": "string"}},
            },
        },
    }


# Every error status an operation may answer, what it means, and whether Retry-After may come with it.
_ERRORS = {
    400: "Invalid request: bad JSON, missing or empty text, wrong types, unknown fields, values out of range.",
    401: "API_KEY is set and the request has no valid key (`Authorization: Bearer <key>` or `X-API-Key`).",
    404: "No such job: it never existed or has expired.",
    409: "A synchronous request whose job was cancelled.",
    413: "The body is over MAX_UPLOAD_MB, the text over MAX_TEXT_CHARS, or the PDF over MAX_PAGES.",
    415: "The body is neither JSON nor a form, or the file is not a PDF, .txt or .md file (judged by its content).",
    422: "The PDF cannot be used: it needs a password, the password is wrong, it has no text layer (a scan), its "
         "text is garbled, it is broken, or reading it took too much time or memory.",
    500: "A bug; the answer carries a `request_id` that the server log also has.",
    503: "The model is loading (`model_loading`) or failed to load (`model_unavailable`), the queue is full "
         "(`queue_full`), or too many PDFs are being read at once (`server_busy`); see Retry-After.",
}


def _error_components(components: dict[str, Any], responses: dict[str, Any]) -> None:
    for status, description in _ERRORS.items():
        codes = sorted(code for code, code_status in errors._STATUS_BY_CODE.items() if code_status == status)
        name = f"Error{status}"
        components[name] = {
            "type": "object", "required": ["error"], "additionalProperties": False,
            "properties": {"error": {
                "type": "object", "required": ["code", "message"], "additionalProperties": False,
                "properties": {
                    "code": {"type": "string", "enum": codes},
                    "message": {"type": "string", "description": "What went wrong, in plain words."},
                    "request_id": {"type": "string", "description": "With 500: the id the server log has."},
                },
            }},
        }
        headers = {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}}
        if status == 503:
            headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
        if status == 401:
            headers["WWW-Authenticate"] = {"required": True, "schema": {"type": "string", "enum": ["Bearer"]}}
        responses[name] = {
            "description": description,
            "headers": headers,
            "content": {"application/json": {"schema": {"$ref": _REF.format(model=name)}}},
        }


def _response(description: str, media_type: str | None = None, schema: dict | None = None, **extra) -> dict:
    response: dict[str, Any] = {"description": description,
                                "headers": {"X-Request-ID": {"$ref": "#/components/headers/X-Request-ID"}}}
    if media_type:
        response["content"] = {media_type: {"schema": schema or {"type": "string"}}}
    for key, value in extra.items():
        if key == "headers":
            response["headers"].update(value)
        else:
            response[key] = value
    return response


def _json(description: str, model: str, **extra) -> dict:
    return _response(description, "application/json", {"$ref": _REF.format(model=model)}, **extra)


def _errors(*statuses: int) -> dict[str, Any]:
    return {str(status): {"$ref": f"#/components/responses/Error{status}"} for status in statuses}


_JOB_LINKS = {
    "GetJob": {"operationId": "getJob", "parameters": {"job_id": "$response.body#/job_id"},
               "description": "The job: its status, progress and, once it ends, its result or error."},
    "CancelJob": {"operationId": "cancelJob", "parameters": {"job_id": "$response.body#/job_id"}},
    "JobEvents": {"operationId": "jobEvents", "parameters": {"job_id": "$response.body#/job_id"}},
}


def _generate_operation(task: str, settings: Settings) -> dict[str, Any]:
    summary = task == "summary"
    name = "Summary" if summary else "Points"
    example_text = (
        "The lighthouse at Port Aven was built in 1850 to guide fishing boats past the reef. It was automated in "
        "1985 and is now a museum. Its lens came from Paris."
    )
    example = {"text": example_text, "length": "short"} if summary else {"text": example_text, "count": 2}
    return {
        "operationId": "generateSummary" if summary else "generatePoints",
        "tags": ["generate"],
        "summary": "Summarize a text or a document" if summary else "List the key points of a text or a document",
        "description": (
            ("A summary at the requested length, of a text of any length: one that does not fit the model's "
             "context is summarized in parts, which are merged level by level. " if summary else
             "The `count` key points of a text of any length, each with the pages it came from. ")
            + "Send JSON, or a multipart form with a `file`. The request runs as a job: a synchronous request "
            "answers 200 with the result, or 202 with the job when it is still running after "
            f"{settings.sync_timeout_s:g} s (SYNC_TIMEOUT_S); with `async` it answers 202 at once. Identical requests "
            "reuse a finished result. "
            f"At most {settings.max_queue} jobs wait (MAX_QUEUE); past that the answer is 503 `queue_full`."
        ),
        "parameters": [{
            "name": "async", "in": "query", "required": False, "schema": {"type": "boolean", "default": False},
            "description": "Answer 202 with the job at once (also `1`/`0`, `yes`/`no`).",
        }],
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": _REF.format(model=f"{name}Request")}, "example": example},
                "multipart/form-data": {
                    "schema": {"$ref": _REF.format(model=f"{name}Form")},
                    "encoding": {"file": {"contentType": "application/pdf, text/plain, text/markdown"}},
                },
            },
        },
        "responses": {
            "200": _json("The result.", f"{name}Result"),
            "202": _json(
                "The job, still queued or running (or already ended, when `async` was asked for): follow its "
                "`status_url`.", "JobReference",
                headers={"Location": {"$ref": "#/components/headers/Location"}}, links=_JOB_LINKS,
            ),
            **_errors(400, 409, 413, 415, 422, 500, 503),
        },
    }


def _paths(settings: Settings) -> dict[str, Any]:
    job_id = {"name": "job_id", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1},
              "description": "The `job_id` a generate request answered with."}
    html_page = {"200": _response("An HTML page.", "text/html")}
    return {
        "/": {"get": {
            "operationId": "webPage", "tags": ["service"],
            "summary": "The web page: upload a document, read the answer",
            "responses": html_page,
        }},
        "/health": {"get": {
            "operationId": "health", "tags": ["service"], "summary": "Whether the model is loaded, and which one",
            "responses": {
                "200": _json("The model is loaded.", "Health"),
                "503": _json("The model is still loading (with Retry-After) or failed to load.", "HealthUnavailable",
                             headers={"Retry-After": {"$ref": "#/components/headers/Retry-After"}}),
            },
        }},
        "/generate-summary": {"post": _generate_operation("summary", settings)},
        "/generate-points": {"post": _generate_operation("points", settings)},
        "/jobs": {"get": {
            "operationId": "listJobs", "tags": ["jobs"], "summary": "Recent jobs, newest first",
            "description": f"Finished jobs are kept for {settings.job_ttl_hours:g} hours (JOB_TTL_HOURS).",
            "parameters": [
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 200,
                                                             "default": 20}},
                {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0, "maximum": 10**9,
                                                              "default": 0}},
            ],
            "responses": {"200": _json("A page of jobs, with a `next` link when it is full.", "JobList"),
                          **_errors(400, 500)},
        }},
        "/jobs/{job_id}": {
            "parameters": [job_id],
            "get": {
                "operationId": "getJob", "tags": ["jobs"], "summary": "A job: status, progress, result or error",
                "parameters": [{
                    "name": "wait", "in": "query",
                    "schema": {"type": "number", "minimum": 0, "maximum": settings.max_wait_s, "default": 0},
                    "description": "Long-poll: answer as soon as the job ends, or after this many seconds "
                                   f"(at most {settings.max_wait_s:g}, MAX_WAIT_S).",
                }],
                "responses": {"200": _json("The job.", "Job"), **_errors(400, 404, 500)},
            },
            "delete": {
                "operationId": "cancelJob", "tags": ["jobs"], "summary": "Cancel a job",
                "description": "A queued job never runs; a running one stops at its next chunk boundary; an ended "
                               "one stays as it is. The job stays listed, with status `cancelled` once it stops.",
                "responses": {"200": _json("The job, after the cancel request.", "Job"), **_errors(404, 500)},
            },
        },
        "/jobs/{job_id}/events": {
            "parameters": [job_id],
            "get": {
                "operationId": "jobEvents", "tags": ["jobs"], "summary": "Follow a job as Server-Sent Events",
                "description": (
                    "`progress` events (`{\"status\", \"stage\", \"done\", \"total\"}`) as the job goes, then one "
                    "`result` (the job, with its result) or `error` event (the job, with its error), then the stream "
                    "ends. A comment line keeps an idle connection alive."
                ),
                "responses": {
                    "200": _response("The event stream.", "text/event-stream"),
                    **_errors(404, 500),
                },
            },
        },
        "/metrics": {"get": {
            "operationId": "metrics", "tags": ["service"], "summary": "Metrics in the Prometheus text format",
            "responses": {"200": _response("Requests, latency, tokens, generation speed, queue and model gauges.",
                                           "text/plain")},
        }},
        "/openapi.json": {"get": {
            "operationId": "openapiDocument", "tags": ["docs"], "summary": "This description of the API",
            "responses": {"200": _response("The OpenAPI document.", "application/json", {"type": "object"})},
        }},
        "/docs": {"get": {
            "operationId": "docs", "tags": ["docs"], "summary": "Interactive documentation (Swagger UI)",
            "responses": {"200": _response("The Swagger UI page; it needs no network beyond this server.",
                                           "text/html")},
        }},
    }


def build_document(settings: Settings) -> dict[str, Any]:
    """The OpenAPI document for a server with these settings (without `servers`, which depends on the request)."""
    schemas: dict[str, Any] = {}
    responses: dict[str, Any] = {}
    _request_schemas(settings, schemas)
    _result_schemas(schemas)
    _job_schemas(schemas)
    _health_schemas(schemas)
    _error_components(schemas, responses)
    keyed = settings.api_key is not None
    paths = _paths(settings)
    for path, item in paths.items():
        for operation in (value for key, value in item.items() if key != "parameters"):
            if path in OPEN_PATHS:
                operation["security"] = []
                operation["description"] = (operation.get("description", "") + " Needs no API key.").strip()
            else:
                operation["responses"] = dict(sorted({**operation["responses"], **_errors(401)}.items()))
    open_paths = ", ".join(OPEN_PATHS)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Local LLM document service",
            "version": _version(),
            "description": (
                "Summaries and key points of texts and documents (PDF, .txt, .md), of any length, from a local "
                "GGUF model. Every answer is JSON unless said otherwise, errors are `{\"error\": {\"code\", "
                "\"message\"}}`, and every answer has an `X-Request-ID` header (yours, if you sent a valid one).\n\n"
                f"Limits of this server: uploads up to {settings.max_upload_mb:g} MB (MAX_UPLOAD_MB), texts up to "
                f"{settings.max_text_chars:,} characters (MAX_TEXT_CHARS), PDFs up to {settings.max_pages:,} pages "
                f"(MAX_PAGES), `max_tokens` up to {settings.max_output_tokens} (MAX_OUTPUT_TOKENS), `count` up to "
                f"{settings.max_points} (MAX_POINTS), {settings.max_queue} waiting jobs (MAX_QUEUE).\n\n"
                + (f"This server needs an API key on every endpoint but {open_paths}: use **Authorize**." if keyed else
                   "This server needs no API key (API_KEY is not set).")
            ),
        },
        "tags": [
            {"name": "generate", "description": "Summaries and key points"},
            {"name": "jobs", "description": "Every request runs as a job: follow, list and cancel them"},
            {"name": "service", "description": "Health, metrics and the web page"},
            {"name": "docs", "description": "This documentation"},
        ],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "responses": responses,
            "headers": {
                "X-Request-ID": {"required": True, "schema": {"type": "string"},
                                 "description": "The request's id, as the server log has it."},
                "Retry-After": {"schema": {"type": "string", "pattern": "^[0-9]+$"},
                                "description": "Seconds to wait before trying again."},
                "Location": {"required": True, "schema": {"type": "string"}, "description": "The job's URL."},
            },
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer",
                               "description": "`Authorization: Bearer <key>`, a key from API_KEY."},
                "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                                 "description": "`X-API-Key: <key>`, a key from API_KEY."},
            },
        },
        # Either scheme will do; without API_KEY on the server, neither is needed (the empty requirement).
        "security": [{"bearerAuth": []}, {"apiKeyHeader": []}] + ([] if keyed else [{}]),
    }


def _document() -> dict[str, Any]:
    cached = current_app.extensions.get("openapi_document")
    if cached is None:
        cached = current_app.extensions["openapi_document"] = build_document(get_settings())
    return cached


@bp.get("/openapi.json")
def spec():
    """The OpenAPI document, with this server's URL."""
    document = copy.copy(_document())
    document["servers"] = [{"url": request.script_root + "/", "description": "this server"}]
    return jsonify(document)


_DOCS_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>{title} – API</title>
  <link rel="stylesheet" href="{css}">
  <link rel="icon" type="image/png" href="{icon32}" sizes="32x32">
  <link rel="icon" type="image/png" href="{icon16}" sizes="16x16">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="{js}"></script>
  <script>
    window.ui = SwaggerUIBundle({{
      url: {spec},
      dom_id: "#swagger-ui",
      deepLinking: true,
      persistAuthorization: true,
      validatorUrl: null,
      presets: [SwaggerUIBundle.presets.apis],
      layout: "BaseLayout"
    }});
  </script>
</body>
</html>
"""


def _js_string(value: str) -> str:
    """A string literal for a script inside HTML."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@bp.get("/docs")
def docs():
    """Swagger UI for /openapi.json, with every file served from here (no CDN)."""
    def asset(name: str) -> str:
        return escape(url_for("openapi.docs_asset", filename=name))

    page = _DOCS_PAGE.format(
        title=escape(_document()["info"]["title"]), css=asset("swagger-ui.css"), js=asset("swagger-ui-bundle.js"),
        icon32=asset("favicon-32x32.png"), icon16=asset("favicon-16x16.png"), spec=_js_string(url_for("openapi.spec")),
    )
    return page, 200, {"Content-Type": "text/html; charset=utf-8"}


@bp.get("/docs/<path:filename>")
def docs_asset(filename: str):
    """The Swagger UI files the page loads, from the swagger-ui-bundle package."""
    if filename not in DOCS_ASSETS:
        abort(404)
    return send_from_directory(str(swagger_ui_path), filename, max_age=24 * 3600)
