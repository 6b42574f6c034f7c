"""API keys: every endpoint but /health needs one when API_KEY is set; call_api.py sends it."""

import json
import subprocess
import sys

import pytest

from tests.conftest import ROOT, ServerProcess, free_port, server_env


@pytest.fixture
def locked_client(make_app):
    return make_app(api_key="k-one, k-two", owner_secret="test-secret").test_client()


def _summary(client, **headers):
    return client.post("/generate-summary", data=json.dumps({"text": "A tower guides ships."}),
                       content_type="application/json", headers=headers)


def test_health_needs_no_key(locked_client):
    assert locked_client.get("/health").status_code == 200


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"X-API-Key": "k-on"}, {"Authorization": "Basic k-one"}],
)
def test_missing_or_wrong_key_answers_401(locked_client, headers):
    response = _summary(locked_client, **headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert locked_client.get("/jobs", headers=headers).status_code == 401


@pytest.mark.parametrize("headers", [{"Authorization": "Bearer k-one"}, {"X-API-Key": "k-two"}])
def test_any_listed_key_works(locked_client, headers):
    assert _summary(locked_client, **headers).status_code == 200
    assert locked_client.get("/jobs", headers=headers).status_code == 200


def test_without_api_key_setting_everything_is_open(client):
    assert _summary(client).status_code == 200


@pytest.mark.model
def test_call_api_sends_the_key(tmp_path):
    port = free_port()
    server = ServerProcess([sys.executable, "api.py", "--port", str(port)], port,
                           server_env(API_KEY="s3cret-key", OWNER_SECRET="test-secret"), tmp_path / "server.log")
    try:
        server.wait_until_healthy()

        def client(*args, **env):
            return subprocess.run([sys.executable, "call_api.py", "summary", "--text", "A tower guides ships.",
                                   "--length", "short", "--url", server.url, *args], cwd=ROOT,
                                  env=server_env(**env), capture_output=True, text=True, timeout=120)

        refused = client()
        assert refused.returncode == 1 and "401 unauthorized" in refused.stderr
        assert client("--api-key", "s3cret-key").returncode == 0
        assert client(API_KEY="s3cret-key").returncode == 0
    finally:
        server.stop()
