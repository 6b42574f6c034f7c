"""GET /openapi.json: the OpenAPI 3.1 description of the API; GET /docs: Swagger UI for it, served offline.

spectree makes the document from what each route declares (routes/apispec.py: its query, JSON and form models,
its answers) and from the views' docstrings; the models are the ones that validate requests and build answers.
What depends on the running server is added here: its limits (fields bounded by a setting name it in their
schema), whether it needs an API key, and its URL.
"""

from __future__ import annotations

import copy
import json
from importlib import metadata
from pathlib import Path
from typing import Any

from flask import Blueprint, abort, current_app, request, send_file, url_for
from markupsafe import escape

from routes.apispec import DOCS, answers, api
from routes.auth import is_public, public
from routes.errors import ERROR_MODELS, OPENAI_PREFIX
from routes.resources import get_settings
from routes.schemas import MAX_LENGTH_SETTING
from settings import MAXIMUM_SETTING, Settings

bp = Blueprint("docs", __name__)

METHODS = ("get", "put", "post", "delete", "patch")
# Swagger UI 5 (it renders OpenAPI 3.1 as pydantic writes it), from the offapi package, located without importing
# it (its import reads every bundled UI into memory). The only files the page needs; nothing else is served.
_SWAGGER_UI = metadata.distribution("offapi")
DOCS_ASSETS = {"swagger-ui-bundle.js": "offapi/swagger_bundle.js", "swagger-ui.css": "offapi/swagger_style.css"}
_REF = "#/components/schemas/{model}"


def _set_limits(node: Any, settings: Settings) -> None:
    """Give every field bounded by a setting that setting's value (on its numeric or string form)."""
    if isinstance(node, list):
        for item in node:
            _set_limits(item, settings)
        return
    if not isinstance(node, dict):
        return
    for marker, keyword in ((MAXIMUM_SETTING, "maximum"), (MAX_LENGTH_SETTING, "maxLength")):
        if marker in node:
            value = getattr(settings, node.pop(marker))
            targets = [option for option in node.get("anyOf", []) if option.get("type") != "null"] or [node]
            for target in targets:
                # A setting that bounds a text or a list bounds its length, not its value.
                bound = {"string": "maxLength", "array": "maxItems"}.get(target.get("type"), keyword)
                target[bound] = value
    for value in node.values():
        _set_limits(value, settings)


def _add_component(components: dict[str, Any], model) -> None:
    schema = model.model_json_schema(ref_template=_REF, mode="serialization")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema


def _set_security(document: dict[str, Any], keyed: bool) -> list[str]:
    """Open operations need no key; the others may answer 401. Returns the open paths."""
    endpoints = {
        (rule.rule, method.lower()): rule.endpoint
        for rule in current_app.url_map.iter_rules() for method in rule.methods or ()
    }
    unauthorized = answers(401)
    unauthorized.bind_model_adapter(api.model_adapter)
    answer_401 = unauthorized.generate_spec(api.naming_strategy)["401"]
    _add_component(document["components"]["schemas"], ERROR_MODELS[401])
    open_paths = []
    for path, item in document["paths"].items():
        rule = path.replace("{", "<").replace("}", ">")
        for method in METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            if is_public(endpoints.get((rule, method))):
                operation["security"] = []
                operation["description"] = (operation.get("description", "") + "\n\nNeeds no API key.").strip()
                open_paths.append(path)
            elif not path.startswith(OPENAI_PREFIX):  # the OpenAI-compatible routes declare their own 401 shape
                operation["responses"] = dict(sorted({**operation["responses"], "401": answer_401}.items()))
    # Either scheme will do; without API_KEY on the server, neither is needed (the empty requirement).
    document["security"] = [{"bearerAuth": []}, {"apiKeyHeader": []}] + ([] if keyed else [{}])
    return open_paths


def _describe(settings: Settings, open_paths: list[str]) -> str:
    keyed = settings.api_key is not None
    return (
        "Summaries and key points of texts and documents (PDF, .txt, .md), of any length, from a local GGUF model. "
        "Every answer is JSON unless said otherwise, errors are `{\"error\": {\"code\", \"message\"}}`, and every "
        "answer has an `X-Request-ID` header (yours, if you sent a valid one).\n\n"
        f"Limits of this server: uploads up to {settings.max_upload_mb:g} MB (MAX_UPLOAD_MB), texts up to "
        f"{settings.max_text_chars:,} characters (MAX_TEXT_CHARS), PDFs up to {settings.max_pages:,} pages "
        f"(MAX_PAGES), `max_tokens` up to {settings.max_output_tokens} (MAX_OUTPUT_TOKENS), `count` up to "
        f"{settings.max_points} (MAX_POINTS), {settings.max_queue} waiting jobs (MAX_QUEUE), synchronous answers "
        f"within {settings.sync_timeout_s:g} s (SYNC_TIMEOUT_S), long-polls up to {settings.max_wait_s:g} s "
        f"(MAX_WAIT_S), finished jobs kept {settings.job_ttl_hours:g} hours (JOB_TTL_HOURS).\n\n"
        + (f"This server needs an API key on every endpoint but {', '.join(open_paths)}: use **Authorize**."
           if keyed else "This server needs no API key (API_KEY is not set).")
    )


def build_document(settings: Settings) -> dict[str, Any]:
    """The OpenAPI document for this app with these settings (without `servers`, which depends on the request)."""
    document = copy.deepcopy(api.spec)
    _set_limits(document, settings)
    open_paths = _set_security(document, keyed=settings.api_key is not None)
    document["info"]["description"] = _describe(settings, open_paths)
    return document


def _document() -> dict[str, Any]:
    cached = current_app.extensions.get("openapi_document")
    if cached is None:
        cached = current_app.extensions["openapi_document"] = build_document(get_settings())
    return cached


@bp.get("/openapi.json")
@public  # it describes the API, it does not use it
@api.validate(resp=answers(HTTP_200=(None, "The OpenAPI document."), media={200: "application/json"}),
              tags=[DOCS], operation_id="openapiDocument")
def document():
    """This description of the API"""
    served = copy.copy(_document())
    served["servers"] = [{"url": request.script_root + "/", "description": "this server"}]
    return current_app.json.response(served)


_DOCS_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} – API</title>
  <link rel="stylesheet" href="{css}">
  <link rel="icon" type="image/svg+xml" href="{icon}">
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
@public
@api.validate(resp=answers(HTTP_200=(None, "The Swagger UI page; it needs no network beyond this server."),
                           media={200: "text/html"}),
              tags=[DOCS], operation_id="docs")
def page():
    """Interactive documentation (Swagger UI)"""
    def asset(name: str) -> str:
        return escape(url_for("docs.asset", filename=name))

    html = _DOCS_PAGE.format(
        title=escape(_document()["info"]["title"]), css=asset("swagger-ui.css"), js=asset("swagger-ui-bundle.js"),
        icon=escape(url_for("web.static", filename="icon.svg")), spec=_js_string(url_for("docs.document")),
    )
    return html, 200, {"Content-Type": "text/html; charset=utf-8"}


@bp.get("/docs/<path:filename>")
@public
def asset(filename: str):
    """The Swagger UI files the page loads."""
    if filename not in DOCS_ASSETS:
        abort(404)
    return send_file(Path(str(_SWAGGER_UI.locate_file(DOCS_ASSETS[filename]))), max_age=24 * 3600)
