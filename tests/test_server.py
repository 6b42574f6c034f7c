"""Real server processes on free loopback ports: python api.py, gunicorn, and call_api.py against them."""

import json
import signal
import socket
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.conftest import ROOT, SAMPLE_TEXT, ServerProcess, free_port, server_env

pytestmark = pytest.mark.model


def _client(*args, timeout=300):
    return subprocess.run(
        [sys.executable, "call_api.py", *args], cwd=ROOT, env=server_env(), capture_output=True, text=True,
        timeout=timeout,
    )


def test_summary_over_http(live_server):
    response = requests.post(
        live_server.url + "/generate-summary", json={"text": SAMPLE_TEXT, "length": "short"}, timeout=120
    )
    assert response.status_code == 200
    assert response.json()["summary"]
    assert response.headers["X-Request-ID"]


def test_concurrent_clients_are_all_answered(live_server):
    texts = [f"Tower {n} was lit in {1800 + n}. Its keeper was named Keeper{n}." for n in range(4)]

    def summarize(text):
        return requests.post(live_server.url + "/generate-summary", json={"text": text, "length": "short"},
                             timeout=180)

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(pool.map(summarize, texts))
    assert [response.status_code for response in responses] == [200] * 4


def test_call_api_with_no_arguments_summarizes_the_sample(live_server):
    result = _client("--url", live_server.url)
    assert result.returncode == 0, result.stderr
    assert "Summary:" in result.stdout and "Key points:" in result.stdout
    assert "1. " in result.stdout and "5. " in result.stdout


def test_call_api_summary_of_text_and_points_of_file(live_server, tmp_path):
    result = _client("summary", "--text", SAMPLE_TEXT, "--length", "short", "--url", live_server.url)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) >= 8

    notes = tmp_path / "notes.txt"
    notes.write_text(SAMPLE_TEXT, encoding="utf-8")
    result = _client("points", str(notes), "--count", "7", "--url", live_server.url)
    assert result.returncode == 0, result.stderr
    numbered = [line for line in result.stdout.splitlines() if line[:2].rstrip(".").isdigit()]
    assert len(numbered) == 7


def test_call_api_with_pdfs(live_server, tmp_path):
    from tests.pdfs import encrypt, text_pdf
    from tests.test_pdf_tools import PAGES

    locked = tmp_path / "locked.pdf"
    locked.write_bytes(encrypt(text_pdf(PAGES), "AES-128", "s3cret"))
    result = _client("points", str(locked), "--count", "2", "--pages", "2-3", "--password", "s3cret",
                     "--url", live_server.url)
    assert result.returncode == 0, result.stderr
    assert "(page" in result.stdout
    assert "2 page(s) read" in result.stderr
    result = _client("summary", str(locked), "--url", live_server.url)
    assert result.returncode == 1
    assert "422 pdf_password_required" in result.stderr
    scan = ROOT.parent / "shared" / "pdfs" / "trivial.pdf"  # blank: refused with or without OCR
    result = _client("summary", str(scan), "--url", live_server.url)
    assert result.returncode == 1
    assert "OCR" in result.stderr


def test_call_api_async_then_job(live_server):
    result = _client("summary", "--text", SAMPLE_TEXT, "--length", "short", "--async", "--url", live_server.url)
    assert result.returncode == 0, result.stderr
    job_id = result.stdout.split()[1]
    result = _client("job", job_id, "--url", live_server.url)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.split()) >= 8
    assert _client("job", "no-such-job", "--url", live_server.url).returncode == 1


def test_call_api_interrupted_leaves_the_job_running(live_server):
    import time

    text = "\n\n".join(SAMPLE_TEXT.replace("lighthouse", f"beacon {n}") for n in range(3)) + f" {time.time()}"
    client = subprocess.Popen(
        [sys.executable, "call_api.py", "summary", "--text", text, "--length", "long", "--url", live_server.url],
        cwd=ROOT, env=server_env(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(2.0)
    client.send_signal(signal.SIGINT)
    _, stderr = client.communicate(timeout=60)
    assert client.returncode == 130, stderr
    assert "python call_api.py job " in stderr
    job_id = stderr.split("python call_api.py job ")[1].split()[0]
    job = requests.get(f"{live_server.url}/jobs/{job_id}?wait=60", timeout=90).json()
    assert job["status"] in ("running", "succeeded"), job


def test_call_api_json_output(live_server):
    result = _client("points", "--text", SAMPLE_TEXT, "--count", "2", "--json", "--url", live_server.url)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["points"]) == 2


def test_call_api_reports_an_error_answer(live_server):
    result = _client("points", "--text", "Some text here.", "--count", "50", "--url", live_server.url)
    assert result.returncode == 1
    assert "400 invalid_request" in result.stderr
    assert "Traceback" not in result.stderr


def test_call_api_reports_a_server_that_is_down():
    result = _client("summary", "--text", "hello", "--url", f"http://127.0.0.1:{free_port()}")
    assert result.returncode == 2
    assert "cannot reach the service" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("url", ["127.0.0.1:5999", "http://127.0.0.1:notaport"])
def test_call_api_reports_a_bad_url(url):
    result = _client("summary", "--text", "hello", "--url", url)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_gunicorn_serves_the_app(tmp_path):
    port = free_port()
    server = ServerProcess(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "api:create_app()"],
        port, server_env(PORT=str(port)), tmp_path / "gunicorn.log",
    )
    try:
        health = server.wait_until_healthy()
        assert health["model"]["name"] == "smollm2-135m-instruct"
        response = requests.post(server.url + "/generate-points", json={"points": SAMPLE_TEXT, "count": 3},
                                 timeout=120)
        assert response.status_code == 200
        assert len(response.json()["points"]) == 3
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
    finally:
        server.stop()
    assert "Traceback" not in server.log()


def test_json_logs_one_object_per_request(tmp_path):
    port = free_port()
    server = ServerProcess([sys.executable, "api.py", "--port", str(port), "--log-format", "json"], port,
                           server_env(), tmp_path / "server.log")
    try:
        server.wait_until_healthy()
        requests.get(server.url + "/health", headers={"X-Request-ID": "trace-77"}, timeout=10)
        requests.get(server.url + "/nowhere", timeout=10)
    finally:
        server.stop()
    entries = [json.loads(line) for line in server.log().splitlines() if line.startswith("{")]
    traced = [entry for entry in entries if entry.get("request_id") == "trace-77"]
    assert traced and traced[0]["method"] == "GET" and traced[0]["path"] == "/health"
    assert traced[0]["status"] == 200 and isinstance(traced[0]["duration_ms"], int)
    assert any(entry.get("path") == "/nowhere" and entry["status"] == 404 for entry in entries)


def _open_event_stream(port: int, job_id: str) -> socket.socket:
    """A raw connection following a job's events; returns once the server has answered its headers."""
    connection = socket.create_connection(("127.0.0.1", port), timeout=30)
    connection.sendall(f"GET /jobs/{job_id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += connection.recv(4096)
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    return connection


def test_hundreds_of_event_streams_hold_no_thread(tmp_path):
    """On the production server (gunicorn's gevent worker), 300 clients follow a running job's events while
    /health stays fast and new requests are served; past MAX_WAITING a stream is refused with Retry-After."""
    port = free_port()
    server = ServerProcess(
        [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "api:create_app()"],
        port, server_env(PORT=str(port), MAX_WAITING="300"), tmp_path / "gunicorn.log",
    )
    streams: list[socket.socket] = []
    try:
        server.wait_until_healthy()
        job = requests.post(f"{server.url}/generate-summary?async=true", timeout=30,
                            json={"text": "\n\n".join([SAMPLE_TEXT] * 6), "length": "long"}).json()
        with ThreadPoolExecutor(32) as pool:
            streams = list(pool.map(lambda _: _open_event_stream(port, job["job_id"]), range(300)))
        assert requests.get(f"{server.url}/jobs/{job['job_id']}", timeout=10).json()["status"] == "running"
        seconds = []
        for _ in range(20):
            started = time.monotonic()
            assert requests.get(f"{server.url}/health", timeout=10).status_code == 200
            seconds.append(time.monotonic() - started)
        assert statistics.median(seconds) < 0.1, seconds
        assert requests.get(f"{server.url}/jobs?limit=5", timeout=10).status_code == 200  # new requests still served
        refused = requests.get(f"{server.url}/jobs/{job['job_id']}/events", timeout=10)
        assert refused.status_code == 503 and refused.headers["Retry-After"]
        assert refused.json()["error"]["code"] == "server_busy"
        requests.delete(f"{server.url}/jobs/{job['job_id']}", timeout=10)
        for stream in streams:  # every follower hears the end
            received = b""
            while b"event: error" not in received and b"event: result" not in received:
                chunk = stream.recv(65536)
                assert chunk, received[-300:]
                received += chunk
    finally:
        for stream in streams:
            stream.close()
        server.stop()
    assert "Traceback" not in server.log()
