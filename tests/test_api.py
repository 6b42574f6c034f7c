"""The HTTP API on the fake model: response shapes, every error code, request ids, health states."""

import pytest

from llm.errors import ModelUnavailableError
from tests.conftest import SAMPLE_TEXT
from tests.conftest import post_json as _post
from tests.fakes import FakeModel


def test_summary_response_shape(client):
    response = _post(client, "/generate-summary", {"text": SAMPLE_TEXT, "length": "short"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["summary"]
    assert body["model"] == "fake-model"
    assert set(body["usage"]) == {"prompt_tokens", "completion_tokens"}
    assert body["usage"]["prompt_tokens"] > 0
    assert isinstance(body["elapsed_ms"], int)
    assert (body["chunks"], body["strategy"]) == (1, "single")


def test_points_response_shape_and_original_field_name(client):
    response = _post(client, "/generate-points", {"points": SAMPLE_TEXT, "count": 3})
    assert response.status_code == 200
    body = response.get_json()
    assert len(body["points"]) == 3
    assert all(set(point) == {"text", "pages"} and point["pages"] == [] for point in body["points"])
    assert body["chunks"] == 1


@pytest.mark.parametrize(
    ("path", "body", "fragment"),
    [
        ("/generate-summary", {}, "'text' is required"),
        ("/generate-summary", {"text": "   "}, "must not be empty"),
        ("/generate-summary", {"text": 42}, "text"),
        ("/generate-summary", {"text": "x", "length": "huge"}, "length"),
        ("/generate-summary", {"text": "x", "max_tokens": 3}, "max_tokens"),
        ("/generate-summary", {"text": "x", "max_tokens": 999999}, "max_tokens"),
        ("/generate-summary", {"text": "x", "max_tokens": "100"}, "max_tokens"),
        ("/generate-summary", {"text": "x", "temperature": 2.5}, "temperature"),
        ("/generate-summary", {"text": "x", "lenght": "short"}, "unknown field 'lenght'"),
        ("/generate-summary", ["text"], "must be an object"),
        ("/generate-points", {"text": "x", "count": 0}, "count"),
        ("/generate-points", {"text": "x", "count": 21}, "count"),
        ("/generate-points", {"text": "x", "count": True}, "count"),
        ("/generate-points", {"text": "x", "points": "y"}, "not both"),
    ],
)
def test_invalid_requests_answer_400(client, path, body, fragment):
    response = _post(client, path, body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "invalid_request"
    assert fragment in error["message"]


def test_limits_on_count_and_max_tokens_are_settings(make_app):
    client = make_app(max_points=3, max_output_tokens=64).test_client()
    too_many = _post(client, "/generate-points", {"text": SAMPLE_TEXT, "count": 4}).get_json()["error"]
    assert too_many["message"] == "'count' must be at most 3"
    assert _post(client, "/generate-points", {"text": SAMPLE_TEXT, "count": 3}).status_code == 200
    too_long = _post(client, "/generate-summary", {"text": SAMPLE_TEXT, "max_tokens": 65}).get_json()["error"]
    assert too_long["message"] == "'max_tokens' must be at most 64"


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ('{"text": "abc \\ud800 def"}', "invalid Unicode"),
        ('{"text": "....  \\u200b"}', "no words"),
        ('{"text": "A tower.", "temperature": NaN}', "finite"),
        ("[" * 5000 + "]" * 5000, "JSON"),
    ],
)
def test_awkward_json_answers_400(client, raw, fragment):
    response = client.post("/generate-summary", data=raw, content_type="application/json")
    assert response.status_code == 400
    assert fragment in response.get_json()["error"]["message"]


def test_temperature_accepts_integers(client):
    assert _post(client, "/generate-summary", {"text": "A tower. It shines.", "temperature": 1}).status_code == 200


def test_bad_json_answers_400(client):
    response = client.post("/generate-summary", data="{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == {"code": "invalid_request", "message": "the body is not valid JSON"}


def test_not_json_answers_415(client):
    response = client.post("/generate-summary", data="text=hello", content_type="text/plain")
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "unsupported_media_type"


def test_unknown_path_answers_404_and_wrong_method_405(client):
    missing = client.get("/nowhere")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "not_found"
    wrong = client.get("/generate-summary")
    assert wrong.status_code == 405
    assert wrong.get_json()["error"]["code"] == "method_not_allowed"
    assert "POST" in wrong.headers["Allow"]


def test_too_long_text_answers_413(make_app):
    app = make_app(max_text_chars=1000)
    response = _post(app.test_client(), "/generate-summary", {"text": "word " * 300})
    assert response.status_code == 413
    error = response.get_json()["error"]
    assert error["code"] == "payload_too_large"
    assert "MAX_TEXT_CHARS" in error["message"]


def test_too_large_body_answers_413(make_app):
    app = make_app(max_upload_mb=0.01)
    response = _post(app.test_client(), "/generate-summary", {"text": "word " * 5000})
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_model_loading_answers_503_and_health_says_loading(make_app):
    client = make_app(without_model=True).test_client()
    health = client.get("/health")
    assert health.status_code == 503
    assert health.get_json() == {"status": "loading"}
    response = _post(client, "/generate-summary", {"text": "hello there"})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "model_loading"
    assert response.headers["Retry-After"]


def test_health_goes_from_loading_to_ok(make_app):
    import threading

    release = threading.Event()
    app = make_app(without_model=True)
    host = app.extensions["model_host"]
    loader = host.start(lambda: release.wait(10) and FakeModel())
    client = app.test_client()
    assert client.get("/health").status_code == 503
    release.set()
    loader.join(10)
    health = client.get("/health")
    assert health.status_code == 200
    body = health.get_json()
    assert body["status"] == "ok"
    assert set(body["model"]) == {
        "name", "path", "n_ctx", "n_gpu_layers", "rope_scaling_type", "rope_freq_base", "rope_freq_scale",
        "slots", "kv_cache_bytes"
    }


def test_failed_model_load_answers_503_with_the_reason(make_app):
    app = make_app(without_model=True)
    host = app.extensions["model_host"]

    def fail():
        raise ModelUnavailableError("download of x.gguf failed (HTTP 404)")

    host.start(fail).join(10)
    client = app.test_client()
    health = client.get("/health")
    assert health.status_code == 503
    assert health.get_json()["status"] == "failed"
    response = _post(client, "/generate-points", {"text": "hello there"})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "model_unavailable"
    assert "HTTP 404" in response.get_json()["error"]["message"]


def test_unexpected_failure_answers_500_with_request_id_and_no_internals(make_app, caplog):
    model = FakeModel([RuntimeError("secret /home/user/path exploded")])
    client = make_app(model).test_client()
    response = _post(client, "/generate-summary", {"text": "A short text."}, headers={"X-Request-ID": "abc-123"})
    assert response.status_code == 500
    body = response.get_json()
    assert body["error"]["code"] == "internal_error"
    assert body["error"]["request_id"] == "abc-123"
    assert "secret" not in response.get_data(as_text=True)
    assert "Traceback" not in response.get_data(as_text=True)
    assert "abc-123" in caplog.text and "exploded" in caplog.text


def test_request_id_is_echoed_or_made(client):
    assert client.get("/health", headers={"X-Request-ID": "req-42"}).headers["X-Request-ID"] == "req-42"
    made = client.get("/health", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert made != "bad id with spaces" and len(made) == 32


def test_a_text_that_yields_no_key_point_is_a_clear_422_not_an_empty_list(fake_model, client):
    fake_model.default = lambda messages: "Nothing."  # no point the text supports
    response = _post(client, "/generate-points", {"text": "Ships, boats, reefs, lights: a list of words", "count": 3})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "no_answer"
    assert "no key points" in error["message"]


def test_fewer_key_points_than_asked_are_answered_with_a_warning(client):
    response = _post(client, "/generate-points", {"text": "The tower stands on the reef. It guides ships.", "count": 5})
    assert response.status_code == 200
    body = response.get_json()
    assert 1 <= len(body["points"]) < 5
    assert any("asked for 5 key points" in warning for warning in body["warnings"])


def test_answers_end_with_a_newline_for_terminals(client):
    assert client.get("/health").get_data(as_text=True).endswith("}\n")
    assert _post(client, "/generate-summary", {}).get_data(as_text=True).endswith("}\n")


def test_an_error_the_table_does_not_list_for_its_status_still_answers_json(app):
    from routes.errors import error_response

    with app.test_request_context():
        response = error_response(409, "http_error", "a conflict Flask itself raised")
    assert response.status_code == 409
    assert response.get_json() == {"error": {"code": "http_error", "message": "a conflict Flask itself raised"}}
