"""A synchronous client that hangs up stops costing model time; cancellation reaches into a running call.

These run a real HTTP server so that a real socket closes: werkzeug in a thread on the fake model, and
gunicorn with the bundled model.
"""

import json
import socket
import sys
import threading
import time

import pytest
import requests
from werkzeug.serving import make_server

from tests.conftest import SAMPLE_TEXT, ServerProcess, free_port, long_text, server_env
from tests.fakes import FakeModel

LONG_JOB = 0  # SUMMARY_READ_TOKENS: a long text is read whole, part by part, so its job runs long enough to leave


@pytest.fixture
def serve(make_app):
    """Serve an app (closed by make_app at the end) from a real werkzeug server in a thread."""
    servers = []

    def start(model, **settings):
        app = make_app(model, **settings)
        server = make_server("127.0.0.1", 0, app, threaded=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}", app

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def _send_and_keep_open(url: str, path: str, body: dict) -> socket.socket:
    """A raw HTTP request whose connection stays open until the test closes it."""
    host, port = url.removeprefix("http://").split(":")
    payload = json.dumps(body).encode()
    sock = socket.create_connection((host, int(port)))
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload
    )
    return sock


def _newest_job(url: str) -> dict:
    jobs = requests.get(f"{url}/jobs?limit=1", timeout=10).json()["jobs"]
    return jobs[0] if jobs else {}


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout}s")


def _hang_up_while_running(url: str, sock: socket.socket) -> dict:
    """Close the client's connection once its job runs; the job, once the server has cancelled it."""
    job = _wait_for(lambda: _newest_job(url).get("status") == "running" and _newest_job(url), 10, "job running")
    sock.close()
    return _wait_for(
        lambda: (current := requests.get(f"{url}/jobs/{job['job_id']}", timeout=10).json())["status"] == "cancelled"
        and current, 5, "job cancelled after the client hung up",
    )


def test_a_synchronous_client_that_hangs_up_cancels_its_job(serve):
    model = FakeModel(n_ctx=512, seconds_per_token=0.03)
    url, _ = serve(model, summary_read_tokens=LONG_JOB)
    sock = _send_and_keep_open(url, "/generate-summary", {"text": long_text()})
    cancelled = _hang_up_while_running(url, sock)
    assert cancelled["error"]["code"] == "cancelled"
    calls = len(model.calls)
    time.sleep(1.0)
    assert len(model.calls) == calls  # no more model time spent on it


def test_a_chat_client_that_hangs_up_mid_stream_cancels_its_job(serve):
    model = FakeModel(default=lambda messages: " ".join(["word"] * 100), seconds_per_token=0.05)  # 5 s
    url, _ = serve(model)
    sock = _send_and_keep_open(url, "/v1/chat/completions", {
        "model": "fake-model", "messages": [{"role": "user", "content": "Hi"}], "stream": True})
    assert sock.recv(4096).startswith(b"HTTP/1.1 200")  # the stream has begun
    cancelled = _hang_up_while_running(url, sock)
    assert cancelled["error"]["code"] == "cancelled"


def test_a_job_another_request_joined_goes_on_when_the_first_client_hangs_up(serve):
    model = FakeModel(n_ctx=512, seconds_per_token=0.03)
    url, _ = serve(model, summary_read_tokens=LONG_JOB)
    body = {"text": long_text()}
    sock = _send_and_keep_open(url, "/generate-summary", body)
    job = _wait_for(lambda: _newest_job(url).get("status") == "running" and _newest_job(url), 10, "job running")
    joined = requests.post(f"{url}/generate-summary?async=true", json=body, timeout=10).json()
    assert joined["job_id"] == job["job_id"]
    sock.close()
    time.sleep(1.5)  # past the server's next check of the connection
    assert requests.get(f"{url}/jobs/{job['job_id']}", timeout=10).json()["status"] == "running"
    finished = requests.get(f"{url}/jobs/{job['job_id']}?wait=30", timeout=40).json()
    assert finished["status"] == "succeeded"


def test_a_request_that_became_a_job_keeps_running_after_its_client_leaves(serve):
    model = FakeModel(n_ctx=512, seconds_per_token=0.02)
    url, _ = serve(model, sync_timeout_s=0.5, summary_read_tokens=LONG_JOB)
    response = requests.post(f"{url}/generate-summary", json={"text": long_text(40)}, timeout=30)
    assert response.status_code == 202  # handed over as a job: the client now owns it by its id
    job = requests.get(response.headers["Location"].join([url, "?wait=30"]), timeout=40).json()
    assert job["status"] == "succeeded"


def test_cancelling_stops_a_running_call_between_tokens(serve):
    model = FakeModel([" ".join(["word"] * 300)], seconds_per_token=0.05)  # one call would take 15 s
    url, _ = serve(model)
    job_id = requests.post(f"{url}/generate-summary?async=true", json={"text": "A tower stands on a rock."},
                           timeout=10).json()["job_id"]
    _wait_for(lambda: model.calls, 5, "the model call started")
    started = time.monotonic()
    requests.delete(f"{url}/jobs/{job_id}", timeout=10)
    job = requests.get(f"{url}/jobs/{job_id}?wait=10", timeout=20).json()
    assert job["status"] == "cancelled"
    assert time.monotonic() - started < 3


@pytest.mark.model
def test_gunicorn_cancels_the_job_of_a_client_that_hangs_up(tmp_path):
    port = free_port()
    server = ServerProcess(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "api:create_app()"],
        port, server_env(PORT=str(port), N_CTX="512"), tmp_path / "gunicorn.log",
    )
    text = "\n\n".join(SAMPLE_TEXT.replace("lighthouse", f"lighthouse {n}") for n in range(3))
    try:
        server.wait_until_healthy()
        sock = _send_and_keep_open(server.url, "/generate-summary", {"text": text, "length": "short"})
        job = _wait_for(lambda: _newest_job(server.url).get("status") == "running" and _newest_job(server.url),
                        60, "job running")
        sock.close()
        cancelled = _wait_for(
            lambda: (now := requests.get(f"{server.url}/jobs/{job['job_id']}", timeout=10).json())["status"]
            == "cancelled" and now, 10, "job cancelled after the client hung up",
        )
        assert cancelled["error"]["code"] == "cancelled"
        assert "client of job" in server.log() and "disconnected: job cancelled" in server.log()
    finally:
        server.stop()
