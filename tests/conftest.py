"""Shared fixtures and helpers: isolated settings, apps that clean up after themselves, a fake model for unit tests,
one real model per test session, real server processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests

from api import create_app
from llm.model import Model
from routes.resources import close_app
from settings import Settings, load_settings
from tests.fakes import FakeModel

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_TEXT = (ROOT / "samples" / "lighthouses.txt").read_text(encoding="utf-8")
_SETTING_NAMES = [name.upper() for name in Settings.model_fields] + ["HF_ENDPOINT"]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch, tmp_path):
    """No setting leaks in from the developer's shell; downloads go to a temp folder."""
    for name in _SETTING_NAMES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("MODELS_DIR", str(tmp_path / "models"))
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of this test session (started when a test first needs it), removed at its end."""
    from tests.postgres import PostgresServer

    server = PostgresServer(free_port())
    server.start()
    yield server
    server.remove()


@pytest.fixture
def postgres_url(postgres_server):
    """A new, empty PostgreSQL database of the session's server: its URL."""
    return postgres_server.new_database()


@pytest.fixture(params=["sqlite", "postgres"])
def database_settings(request) -> dict:
    """The settings that put an app's jobs and library on each engine in turn: the SQLite file, then PostgreSQL.
    A test module runs its tests on both by overriding `app` with it."""
    return {"database_url": request.getfixturevalue("postgres_url")} if request.param == "postgres" else {}


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path):
    """A migrated database of each engine in turn: the embedded SQLite file, and PostgreSQL; closed at the end."""
    from storage import open_database

    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    opened = open_database(tmp_path / "data", url)
    yield opened
    opened.close()


@pytest.fixture
def fake_model():
    """A fake model answering with text taken from its prompt."""
    return FakeModel()


@pytest.fixture
def make_app():
    """Makes apps: make_app(model, **settings) on that model (a new FakeModel if none), make_app(without_model=True)
    with none loaded. Each app's job worker is stopped and its store closed when the test ends."""
    made = []

    def make(model: Model | None = None, *, without_model: bool = False, **settings):
        config = {"SETTINGS": load_settings(**settings), "TESTING": True}
        if without_model:
            config["LOAD_MODEL"] = False
        else:
            config["MODEL"] = model if model is not None else FakeModel()
        app = create_app(config)
        made.append(app)
        return app

    yield make
    for app in made:
        close_app(app)


@pytest.fixture
def app(make_app, fake_model):
    """The app on the fake model."""
    return make_app(fake_model)


@pytest.fixture
def client(app):
    """A test client of the app on the fake model."""
    return app.test_client()


def post_json(client, path: str, body, **kwargs):
    """POST a JSON body (any value, serialized as given) with a test client."""
    return client.post(path, data=json.dumps(body), content_type="application/json", **kwargs)


def job_events(client, status_url: str) -> list[tuple[str, dict]]:
    """A job's event stream read to its end with a test client: (event name, data) in order."""
    response = client.get(f"{status_url}/events")
    assert response.mimetype == "text/event-stream"
    events = []
    for block in response.get_data(as_text=True).strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        if lines:
            events.append((lines["event"], json.loads(lines["data"])))
    return events


def streamed_text(events: list[tuple[str, dict]]) -> str:
    """The text a job streamed (its `delta` events, joined), after checking that each came at its offset."""
    text = ""
    for name, data in events:
        if name == "delta":
            assert data["offset"] == len(text)
            text += data["text"]
    return text


def long_text(paragraphs: int = 40, *, sentences: int = 2) -> str:
    """A text of numbered paragraphs about distinct topics, long enough to need several chunks."""
    parts = ["Section {i} explains topic {i} in detail.", "Topic {i} matters for reason {i}.",
             "Experts studied topic {i} for many years."]
    return "\n\n".join(" ".join(part.format(i=i) for part in parts[:sentences]) for i in range(paragraphs))


@pytest.fixture(scope="session")
def real_model():
    """The bundled model, loaded once for the whole session (default context)."""
    from llm.loader import load_model

    model = load_model(load_settings(n_threads=os.cpu_count() or 2))
    yield model
    model.close()


@pytest.fixture
def real_client(make_app, real_model):
    """A test client of the app on the real bundled model."""
    return make_app(real_model).test_client()


@pytest.fixture
def serve(make_app, fake_model):
    """serve(model=None, **settings): the URL of an app (on the fake model unless one is given; closed by make_app
    at the end), served over real HTTP from a thread."""
    from werkzeug.serving import make_server

    servers = []

    def start(model: Model | None = None, **settings) -> str:
        server = make_server("127.0.0.1", 0, make_app(model or fake_model, **settings), threaded=True)
        # A short poll interval: shutdown() waits for one poll, and every test here stops its own server.
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    """A free TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_health(url: str, timeout: float, alive=lambda: True) -> dict | None:
    """Poll a server's /health until it answers 200 (its body), or None once timeout passes or alive() says no."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive():
        try:
            response = requests.get(url + "/health", timeout=2)
            if response.status_code == 200:
                return response.json()
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    return None


class ServerProcess:
    """A real server process on a free loopback port, stopped at the end."""

    def __init__(self, command: list[str], port: int, env: dict[str, str], log_path: Path):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")  # noqa: SIM115 - kept open for the process's life
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_until_healthy(self, timeout: float = 60) -> dict:
        """Poll /health until it answers 200; return its body."""
        body = wait_for_health(self.url, timeout, alive=lambda: self.process.poll() is None)
        if body is None:
            state = "exited early" if self.process.poll() is not None else f"not healthy in {timeout}s"
            raise AssertionError(f"server {state}:\n{self.log()}")
        return body

    def finished_job(self, job_id: str, timeout: float = 240) -> dict:
        """Long-poll a job until it has ended; return it."""
        deadline = time.monotonic() + timeout
        while True:
            job = requests.get(f"{self.url}/jobs/{job_id}?wait=60", timeout=90).json()
            if job["status"] not in ("queued", "running") or time.monotonic() > deadline:
                return job

    def log(self) -> str:
        """What the server printed so far."""
        if not self._log.closed:
            self._log.flush()
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL)."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


def server_env(**extra: str) -> dict[str, str]:
    """The environment for a server subprocess: this one, minus settings, with a fresh DATA_DIR, plus extra."""
    import tempfile

    env = {key: value for key, value in os.environ.items() if key not in _SETTING_NAMES}
    env["DATA_DIR"] = tempfile.mkdtemp(prefix="llm-doc-data-")
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    """`python api.py` on a free port with the bundled model, shared by a test module."""
    port = free_port()
    log_path = tmp_path_factory.mktemp("server") / "server.log"
    server = ServerProcess([sys.executable, "api.py", "--port", str(port)], port, server_env(), log_path)
    try:
        server.wait_until_healthy()
        yield server
    finally:
        server.stop()
