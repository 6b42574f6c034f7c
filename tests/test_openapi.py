"""The OpenAPI description (/openapi.json) and Swagger UI (/docs): a valid document that covers every endpoint, a
docs page with no outside assets, and schemathesis finding the live app (on the fake model) true to it."""

from __future__ import annotations

import json
import re
import threading
import time
from html.parser import HTMLParser

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate as validate_openapi
from playwright.sync_api import expect
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from werkzeug.serving import make_server

from llm.errors import ModelUnavailableError
from routes.auth import SHARED_LIBRARY
from settings import load_settings
from tests.browser import artifact, chromium
from tests.fakes import FakeModel, echo_response

# Every answer is one the description allows: status, content type, headers and body.
CONFORMANCE = [
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
]
CHECKS = [not_a_server_error, *CONFORMANCE]
METHODS = {"get", "put", "post", "delete", "patch"}
# Served by the app but not API operations: static files (Flask's, the web page's, the Swagger UI's).
NOT_OPERATIONS = {"static", "web.static", "docs.asset"}
# What anyone may use without a key when API_KEY is set: the page, the health check and the documentation.
OPEN_PATHS = {"/", "/health", "/openapi.json", "/docs"}
FUZZ = settings(
    max_examples=80, derandomize=True, deadline=None, database=None, print_blob=False,
    suppress_health_check=list(HealthCheck),
)


# A short long-poll and sync wait so no generated request can hold the test up.
FUZZ_SETTINGS = {"max_wait_s": 0.5, "sync_timeout_s": 5}


@pytest.fixture
def fuzz_app(make_app):
    return make_app(**FUZZ_SETTINGS)


@pytest.fixture
def locked_app(make_app):
    return make_app(**FUZZ_SETTINGS, api_key="k-one,k-two", owner_secret="test-secret")


def _spec_path(rule: str) -> str:
    """A Flask rule as an OpenAPI path: /jobs/<job_id> -> /jobs/{job_id}."""
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule)


def _app_operations(app) -> set[tuple[str, str]]:
    return {
        (_spec_path(rule.rule), method.lower())
        for rule in app.url_map.iter_rules() if rule.endpoint not in NOT_OPERATIONS
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }


def _spec_operations(document: dict) -> set[tuple[str, str]]:
    return {(path, method) for path, item in document["paths"].items() for method in item if method in METHODS}


def test_document_is_valid_openapi_3_1(client):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    document = response.get_json()
    assert document["openapi"].startswith("3.1.")
    validate_openapi(document)  # raises on any violation of the OpenAPI 3.1 specification
    schemathesis.openapi.from_dict(document).validate()
    assert document["info"]["version"] == "0.1.0"  # pyproject.toml's
    assert document["servers"] == [{"url": "/", "description": "this server"}]


def test_every_endpoint_is_described_and_every_description_is_served(app):
    document = app.test_client().get("/openapi.json").get_json()
    assert _app_operations(app) == _spec_operations(document)
    assert len(_spec_operations(document)) >= 11


def test_request_bodies_are_the_validation_models(client):
    """The JSON bodies are the pydantic models' own schemas, with the limits of this server's settings."""
    settings_ = load_settings()
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    summary, points = schemas["SummaryRequest"], schemas["PointsRequest"]
    assert set(summary["properties"]) == {"text", "document_id", "length", "max_tokens", "temperature", "async"}
    assert set(points["properties"]) == {"text", "document_id", "points", "count", "temperature", "async"}
    assert summary["additionalProperties"] is False and points["additionalProperties"] is False
    assert summary["oneOf"] == [{"required": ["text"]}, {"required": ["document_id"]}]
    assert points["oneOf"] == [{"required": ["text"]}, {"required": ["points"]}, {"required": ["document_id"]}]
    assert summary["properties"]["length"]["enum"] == ["short", "medium", "long"]
    assert summary["properties"]["max_tokens"]["anyOf"] == [
        {"type": "integer", "minimum": 16, "maximum": settings_.max_output_tokens}, {"type": "null"}
    ]
    assert points["properties"]["count"]["minimum"] == 1
    assert points["properties"]["count"]["maximum"] == settings_.max_points
    assert summary["properties"]["text"]["maxLength"] == settings_.max_text_chars
    assert points["properties"]["points"]["deprecated"] is True
    assert set(schemas["SummaryForm"]["properties"]) == {"file", "pages", "password"} | set(summary["properties"])
    assert schemas["SummaryForm"]["properties"]["max_tokens"]["type"] == "integer"  # a form field is never null
    assert "x-maximum-setting" not in json.dumps(schemas) and "x-max-length-setting" not in json.dumps(schemas)
    ask = schemas["AskRequest"]["properties"]
    assert ask["question"]["maxLength"] == settings_.max_question_chars  # a setting bounds a text's length
    assert ask["document_ids"]["anyOf"][0]["maxItems"] == settings_.max_ask_documents


def test_limits_follow_the_settings(make_app):
    app = make_app(max_output_tokens=512, max_points=7, max_wait_s=7, max_upload_mb=3)
    document = app.test_client().get("/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    assert schemas["SummaryRequest"]["properties"]["max_tokens"]["anyOf"][0]["maximum"] == 512
    assert schemas["PointsRequest"]["properties"]["count"]["maximum"] == 7
    assert schemas["PointsForm"]["properties"]["count"]["maximum"] == 7
    assert "uploads up to 3 MB" in document["info"]["description"]
    (wait,) = [parameter for parameter in document["paths"]["/jobs/{job_id}"]["get"]["parameters"]
               if parameter["in"] == "query"]
    assert wait["name"] == "wait" and wait["schema"]["maximum"] == 7


class _Assets(HTMLParser):
    def __init__(self):
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.urls += [value for name, value in attrs if name in ("src", "href") and value]


def test_docs_page_loads_only_local_assets(client):
    response = client.get("/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert not re.search(r"(https?:)?//", html), "the docs page must not load anything from another host"
    parser = _Assets()
    parser.feed(html)
    assert sorted(parser.urls) == sorted(["/docs/swagger-ui.css", "/docs/swagger-ui-bundle.js", "/assets/icon.svg"])
    assert 'url: "/openapi.json"' in html
    expected = {".css": "text/css", ".js": "text/javascript", ".svg": "image/svg+xml"}
    for url in parser.urls:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert asset.mimetype == expected[url[url.rindex("."):]], url
        assert len(asset.data) > 100, url
    bundle = client.get("/docs/swagger-ui-bundle.js").data
    assert b"SwaggerUIBundle" in bundle
    assert b'"5.33.1"' in bundle, "Swagger UI 5, which renders OpenAPI 3.1"


@pytest.mark.parametrize("name", ["index.html", "swagger_bundle.js", "redoc.js", "../openapi.py", "nothing.js"])
def test_docs_serve_nothing_else(client, name):
    response = client.get(f"/docs/{name}")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


# Every operation but the event stream, which lasts as long as its job (it has its own test below).
FUZZED = ["webPage", "health", "generateSummary", "generatePoints", "listJobs", "getJob", "cancelJob", "metrics",
          "openapiDocument", "docs", "addDocument", "listDocuments", "getDocument", "getDocumentPage",
          "renameDocument", "deleteDocument", "ask", "putCollection", "listCollections", "getCollection",
          "deleteCollection", "generateMessage", "generateAudio", "generateSummaryAudio", "getJobAudio", "voices",
          "listModels", "createChatCompletion"]


def _examples(operation, document: dict) -> list:
    """A case for each example body the description's request schemas give (real texts: they reach the model and
    answer 200)."""
    cases = []
    for media_type, media in operation.definition.raw.get("requestBody", {}).get("content", {}).items():
        schema = media["schema"]
        if "$ref" in schema:
            schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        cases += [operation.Case(body=example, media_type=media_type) for example in schema.get("examples", [])]
    return cases


def _fuzz(operation, checks=CHECKS, fuzz_settings=FUZZ) -> None:
    """Valid requests and, where the operation takes a body or query parameters, invalid ones."""
    raw = operation.definition.raw
    modes = [GenerationMode.POSITIVE]
    if "requestBody" in raw or any(parameter.get("in") == "query" for parameter in raw.get("parameters", [])):
        modes.append(GenerationMode.NEGATIVE)

    @fuzz_settings
    @given(case=st.one_of([operation.as_strategy(mode) for mode in modes]))
    def fuzz(case):
        case.call_and_validate(checks=checks)

    fuzz()


@pytest.mark.parametrize("operation_id", FUZZED)
def test_live_app_matches_its_description(fuzz_app, operation_id):
    """Schemathesis on the live app's own /openapi.json: valid and invalid requests (bodies, JSON and forms, query
    and path parameters) never get a 5xx, and every answer's status, content type, headers and body are ones the
    description allows."""
    loaded = schemathesis.openapi.from_wsgi("/openapi.json", fuzz_app)
    described = {loaded.get_operation_id(result.ok()) for result in loaded.get_all_operations()}
    assert described - set(FUZZED) == {"jobEvents"}
    operation = loaded.find_operation_by_id(operation_id)
    examples = _examples(operation, fuzz_app.test_client().get("/openapi.json").get_json())
    assert examples or operation_id not in ("generateSummary", "generatePoints", "generateMessage", "generateAudio")
    for case in examples:
        assert case.call_and_validate(checks=CHECKS).status_code == 200
    _fuzz(operation)


def _failing_load():
    raise ModelUnavailableError("the model file is missing")


@pytest.mark.parametrize("state", ["loading", "failed"])
def test_answers_without_a_model_match_the_description(make_app, state):
    """While the model loads, or after it failed to: 503s with their documented shapes (and Retry-After)."""
    app = make_app(without_model=True, **FUZZ_SETTINGS)
    if state == "failed":
        app.extensions["model_host"].start(_failing_load).join(5)
    assert app.test_client().get("/health").get_json()["status"] == state
    loaded = schemathesis.openapi.from_wsgi("/openapi.json", app)
    document = app.test_client().get("/openapi.json").get_json()
    for operation_id in ("health", "generateSummary", "generatePoints"):
        operation = loaded.find_operation_by_id(operation_id)
        for case in _examples(operation, document):
            response = case.call_and_validate(checks=CONFORMANCE)
            assert response.status_code == 503
            assert response.json()["error"]["code"] == ("model_loading" if state == "loading" else "model_unavailable")
        _fuzz(operation, checks=CONFORMANCE, fuzz_settings=settings(FUZZ, max_examples=10))


def _start_empty(app) -> None:
    """Wait for the app's jobs to end, then remove every job, document and collection: each scenario of a stateful
    run starts from an empty service, or a replayed scenario would meet other answers than the first time (an
    identical request finding the first run's job), which Hypothesis rightly calls flaky."""
    store = app.extensions["jobs"].store
    deadline = time.monotonic() + 10
    while (counts := store.count_by_status())["queued"] + counts["running"] and time.monotonic() < deadline:
        time.sleep(0.02)
    library = app.extensions["library"]
    while documents := library.list(SHARED_LIBRARY, limit=100, offset=0):
        for document in documents:
            library.delete(SHARED_LIBRARY, document.id)
    for collection in library.collections(SHARED_LIBRARY):
        library.delete_collection(SHARED_LIBRARY, collection.name)
    store.purge(max_age_s=-60)  # every finished job, however new


def test_job_workflows_match_the_description(fuzz_app):
    """Stateful: follow the links from a 202 job reference to GET and DELETE the real job, checking each answer."""
    loaded = schemathesis.openapi.from_wsgi("/openapi.json", fuzz_app).exclude(operation_id="jobEvents")

    followed: list[str] = []  # the job links a workflow followed

    class Workflow(loaded.as_state_machine()):
        def setup(self):
            _start_empty(fuzz_app)

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS)
            if case.path == "/jobs/{job_id}" and response.status_code == 200:
                followed.append(case.path_parameters["job_id"])

    Workflow.run(settings=settings(FUZZ, max_examples=50, stateful_step_count=6))
    assert followed, "the workflows never reached a job"


def test_every_job_state_matches_the_description(make_app):
    """A failed job (and its 500), a running one, a queued one cancelled, a full queue's 503: as described."""
    started, release = threading.Event(), threading.Event()

    def blocking(messages):
        started.set()
        release.wait(10)
        return echo_response(messages)

    model = FakeModel([RuntimeError("a bug")], default=blocking)
    app = make_app(model, **{**FUZZ_SETTINGS, "max_queue": 1, "max_wait_s": 10})
    client = app.test_client()
    loaded = schemathesis.openapi.from_wsgi("/openapi.json", app)

    def check(operation_id, response, **case):
        loaded.find_operation_by_id(operation_id).Case(**case).validate_response(response, checks=CONFORMANCE)
        return response.get_json()

    def post(path, text, **query):
        body = {"text": text}
        answer = client.post(path, json=body, query_string=query)
        operation_id = {"/generate-summary": "generateSummary", "/generate-points": "generatePoints"}[path]
        return check(operation_id, answer, body=body, media_type="application/json", query=query or None)

    try:
        failed = post("/generate-summary", "A tower stood on the reef. It guided ships.")
        assert failed["error"]["code"] == "internal_error" and failed["error"]["request_id"]
        listed = check("listJobs", client.get("/jobs"))
        assert [job["status"] for job in listed["jobs"]] == ["failed"]
        assert listed["jobs"][0]["error"]["code"] == "internal_error"

        running = post("/generate-points", "The lamp burned oil. Later it used electricity.", **{"async": "true"})
        assert started.wait(5)
        queued = post("/generate-summary", "Keepers lived in the tower. They kept logs.", **{"async": "true"})
        assert queued["status"] == "queued"
        full = client.post("/generate-summary", json={"text": "One more job."})
        assert full.status_code == 503 and full.headers["Retry-After"]
        check("generateSummary", full, body={"text": "One more job."}, media_type="application/json")

        def job(operation_id, method, reference, **query):
            answer = client.open(reference["status_url"], method=method, query_string=query)
            return check(operation_id, answer, path_parameters={"job_id": reference["job_id"]}, query=query or None)

        assert job("getJob", "GET", running)["status"] == "running"
        cancelled = job("cancelJob", "DELETE", queued)
        assert cancelled["status"] == "cancelled" and cancelled["error"]["code"] == "cancelled"
        assert job("cancelJob", "DELETE", running)["status"] == "running"  # it stops at its next token
        release.set()
        assert job("getJob", "GET", running, wait="10")["status"] in ("succeeded", "cancelled")
        assert len(check("listJobs", client.get("/jobs", query_string={"limit": 2}))["jobs"]) == 2
    finally:
        release.set()  # never leave the worker blocked


def test_swagger_ui_works_offline_and_authorize_sends_the_key(make_app):
    """In Chromium: the page shows every operation, asks nothing of another host, and once Authorize has the key,
    "Try it out" gets 200 where it got 401 before."""
    app = make_app(**FUZZ_SETTINGS, api_key="ui-key", owner_secret="test-secret")
    operations = len(_spec_operations(app.test_client().get("/openapi.json").get_json()))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}"
    requested, problems = [], []
    try:
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1200, "height": 1000})
            page.set_default_timeout(15_000)
            page.on("request", lambda request: requested.append(request.url))
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(url + "/docs")
            page.wait_for_selector(".opblock")
            assert page.locator(".opblock").count() == operations
            jobs = page.locator("#operations-jobs-listJobs")
            jobs.locator(".opblock-summary").click()
            jobs.locator("button.try-out__btn").click()
            jobs.locator("button.execute").click()
            status = jobs.locator(".live-responses-table tbody .response-col_status")
            expect(status).to_have_text("401")
            page.locator("button.authorize").first.click()
            scheme = page.locator(".auth-container").filter(has_text="apiKeyHeader")
            scheme.locator("input").fill("ui-key")
            scheme.locator("button.authorize").click()
            page.locator(".modal-ux button.btn-done").first.click()
            jobs.locator("button.execute").click()
            expect(status).to_have_text("200")
            page.screenshot(path=artifact("openapi-docs.png"))
    finally:
        server.shutdown()
        server.server_close()
    assert problems == []
    assert f"{url}/openapi.json" in requested
    assert all(address.startswith(url + "/") for address in requested), requested


def test_event_stream_matches_its_description(fuzz_app):
    client = fuzz_app.test_client()
    document = client.get("/openapi.json").get_json()
    described = document["paths"]["/jobs/{job_id}/events"]["get"]["responses"]["200"]["content"]
    job = client.post("/generate-summary?async=true", json={"text": "A lighthouse guides ships. It stands tall."})
    response = client.get(job.get_json()["status_url"] + "/events")
    assert response.status_code == 200
    assert list(described) == [response.mimetype]
    assert "event: result" in response.get_data(as_text=True)


def test_security_schemes_are_declared_and_true(locked_app):
    """With API_KEY set: both schemes declared, the documentation and /health open, everything else 401."""
    client = locked_app.test_client()
    response = client.get("/openapi.json")  # no key: describing the API needs none
    assert response.status_code == 200
    document = response.get_json()
    assert document["components"]["securitySchemes"] == {
        "bearerAuth": {"type": "http", "scheme": "bearer",
                       "description": "`Authorization: Bearer <key>`, a key from API_KEY."},
        "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-API-Key",
                         "description": "`X-API-Key: <key>`, a key from API_KEY."},
    }
    assert document["security"] == [{"bearerAuth": []}, {"apiKeyHeader": []}]
    assert client.get("/docs").status_code == 200
    assert client.get("/docs/swagger-ui-bundle.js").status_code == 200

    loaded = schemathesis.openapi.from_dict(document)
    loaded.app = locked_app
    open_paths = set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method not in METHODS:
                continue
            concrete = path.replace("{job_id}", "0" * 32)
            kwargs = {"json": {"text": "A tower."}} if method == "post" else {}
            answer = client.open(concrete, method=method.upper(), **kwargs)
            if operation.get("security") == []:
                open_paths.add(path)
                assert answer.status_code != 401, (method, path)
            else:
                assert answer.status_code == 401, (method, path)
                assert "401" in operation["responses"], (method, path)
                case_kwargs = {"path_parameters": {"job_id": "0" * 32}} if "{job_id}" in path else {}
                if method == "post":
                    case_kwargs.update(body={"text": "A tower."}, media_type="application/json")
                case = loaded[path][method.upper()].Case(**case_kwargs)
                case.validate_response(answer, checks=CHECKS)
                # ...and the key makes it through
                keyed = client.open(concrete, method=method.upper(), headers={"X-API-Key": "k-two"}, **kwargs)
                assert keyed.status_code != 401, (method, path)
    assert open_paths == OPEN_PATHS
    assert "needs an API key on every endpoint but" in document["info"]["description"]
    assert all(path in document["info"]["description"] for path in OPEN_PATHS)


def test_without_api_key_the_description_makes_the_key_optional(client):
    document = client.get("/openapi.json").get_json()
    assert {} in document["security"]
    assert "needs no API key" in document["info"]["description"]
