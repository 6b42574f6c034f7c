"""SIGTERM: stop taking work, let the running call finish within SHUTDOWN_GRACE_S or cut it, put the job back in
the queue with its checkpoints, and answer waiting requests with their job."""

import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from jobs import service
from jobs.store import SqliteJobStore
from llm import blocks_from_text
from routes.resources import begin_shutdown, finish_shutdown
from tasks import Document
from tests.conftest import SAMPLE_TEXT, ServerProcess, free_port, long_text, server_env
from tests.fakes import FakeModel


def _start_slow_job(make_app, data_dir: Path, grace_s: float, seconds_per_token: float):
    model = FakeModel(n_ctx=512, seconds_per_token=seconds_per_token)
    app = make_app(model, data_dir=data_dir, shutdown_grace_s=grace_s, summary_read_tokens=0)  # parts to resume
    pool = ThreadPoolExecutor(1)
    answer = pool.submit(app.test_client().post, "/generate-summary", json={"text": long_text()})
    store = app.extensions["jobs"].store
    deadline = time.monotonic() + 10
    while not (model.calls and store.list(limit=1, offset=0) and store.list(limit=1, offset=0)[0].status == "running"):
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.02)
    return app, model, answer, store.list(limit=1, offset=0)[0].id


def test_without_grace_the_running_call_is_cut_and_the_job_goes_back_in_the_queue(make_app, tmp_path):
    app, model, answer, job_id = _start_slow_job(make_app, tmp_path, grace_s=0, seconds_per_token=0.2)  # a call: ~6 s
    started = time.monotonic()
    begin_shutdown(app)
    response = answer.result(timeout=10)
    assert response.status_code == 202  # the waiting client is told where its job is
    assert response.get_json()["job_id"] == job_id
    finish_shutdown(app)
    assert time.monotonic() - started < 3
    job = app.extensions["jobs"].store.get(job_id)
    assert job.status == "queued" and job.started_at is None
    assert len(model.calls) == 1


def test_with_grace_the_running_call_finishes_and_its_result_is_kept(make_app, tmp_path):
    app, model, answer, job_id = _start_slow_job(make_app, tmp_path, grace_s=30, seconds_per_token=0.02)
    begin_shutdown(app)
    assert answer.result(timeout=10).status_code == 202
    finish_shutdown(app)
    store = app.extensions["jobs"].store
    assert store.get(job_id).status == "queued"
    saved = store.load_checkpoints(job_id)
    assert len(saved) == len(model.calls) == 1  # the call under way at SIGTERM finished and was saved
    # The next start runs it to the end, from the saved part on.
    resumed_model = FakeModel(n_ctx=512)
    resumed = make_app(resumed_model, data_dir=tmp_path, summary_read_tokens=0)
    job = resumed.test_client().get(f"/jobs/{job_id}?wait=30").get_json()
    assert job["status"] == "succeeded" and job["result"]["summary"]
    uncut = FakeModel(n_ctx=512)
    make_app(uncut, data_dir=tmp_path / "fresh", summary_read_tokens=0).test_client().post(
        "/generate-summary", json={"text": long_text()})
    assert len(resumed_model.calls) == len(uncut.calls) - 1


def test_with_grace_every_call_under_way_in_every_running_job_finishes_and_is_kept(make_app, tmp_path):
    """Several jobs at once, each with several calls in the engine (parallel slots): the grace holds for each."""
    model = FakeModel(n_ctx=512, seconds_per_token=0.02, parallel=4)
    app = make_app(model, data_dir=tmp_path, shutdown_grace_s=30, summary_read_tokens=0)
    jobs = app.extensions["jobs"]
    client = app.test_client()
    ids = [client.post("/generate-summary?async=true", json={"text": long_text(paragraphs=30 + n)}).get_json()["job_id"]
           for n in range(2)]
    deadline = time.monotonic() + 10
    while sum(1 for job_id in ids if jobs.store.get(job_id).status == "running") < 2 or len(model.calls) < 3:
        assert time.monotonic() < deadline, "the two jobs never ran together"
        time.sleep(0.02)
    begin_shutdown(app)
    finish_shutdown(app)
    saved = sum(len(jobs.store.load_checkpoints(job_id)) for job_id in ids)
    assert [jobs.store.get(job_id).status for job_id in ids] == ["queued", "queued"]
    assert len(model.calls) >= 3 and saved == len(model.calls)  # no call under way at SIGTERM was lost


def test_new_work_is_queued_not_started_during_shutdown(make_app, tmp_path):
    app = make_app(FakeModel(), data_dir=tmp_path)
    begin_shutdown(app)
    response = app.test_client().post("/generate-summary", json={"text": SAMPLE_TEXT})
    assert response.status_code == 202
    time.sleep(1.0)
    assert app.extensions["jobs"].store.get(response.get_json()["job_id"]).status == "queued"


@pytest.mark.model
def test_gunicorn_sigterm_puts_the_job_back_and_the_next_start_finishes_it(tmp_path):
    data_dir = tmp_path / "data"
    env = server_env(DATA_DIR=str(data_dir), N_CTX="512", SHUTDOWN_GRACE_S="0", SUMMARY_READ_TOKENS="0")
    command = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "api:create_app()"]
    port = free_port()
    server = ServerProcess(command, port, {**env, "PORT": str(port)}, tmp_path / "first.log")
    text = "\n\n".join(SAMPLE_TEXT.replace("lighthouse", f"lighthouse {n}") for n in range(3))
    answers: list = []
    try:
        server.wait_until_healthy()
        waiting = threading.Thread(target=lambda: answers.append(requests.post(
            f"{server.url}/generate-summary", json={"text": text, "length": "short"}, timeout=120)))
        waiting.start()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            jobs = requests.get(f"{server.url}/jobs?limit=1", timeout=10).json()["jobs"]
            if jobs and jobs[0]["status"] == "running" and jobs[0]["progress"]["done"] >= 1:
                break
            time.sleep(0.2)
        else:
            raise AssertionError("the job never got going")
        job_id = jobs[0]["job_id"]
        stopped_at = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        waiting.join(timeout=30)
        assert answers and answers[0].status_code == 202, answers  # the client keeps a handle on its work
        assert answers[0].json()["job_id"] == job_id
        assert server.process.wait(timeout=30) == 0
        assert time.monotonic() - stopped_at < 20
    finally:
        server.stop()
    assert "Traceback" not in server.log()
    with sqlite3.connect(data_dir / "jobs.sqlite3") as db:
        status, saved = db.execute(
            "SELECT status, (SELECT COUNT(*) FROM checkpoints WHERE job_id = ?) FROM jobs WHERE id = ?",
            (job_id, job_id),
        ).fetchone()
    assert status == "queued" and saved >= 1

    port = free_port()
    restarted = ServerProcess(command, port, {**env, "PORT": str(port)}, tmp_path / "second.log")
    try:
        restarted.wait_until_healthy()
        job = restarted.finished_job(job_id)
        assert job["status"] == "succeeded", job
        assert job["result"]["strategy"] == "hierarchical"
    finally:
        restarted.stop()


def test_event_streams_end_when_shutdown_begins(make_app, tmp_path):
    app, _, answer, job_id = _start_slow_job(make_app, tmp_path, grace_s=0, seconds_per_token=0.2)
    stream = app.test_client().get(f"/jobs/{job_id}/events", buffered=False)
    threading.Timer(0.5, begin_shutdown, args=(app,)).start()
    started = time.monotonic()
    body = b"".join(stream.response).decode()
    assert time.monotonic() - started < 5
    assert "event: progress" in body and "event: result" not in body
    answer.result(timeout=10)
    finish_shutdown(app)


def test_a_live_worker_takes_back_the_job_of_a_worker_that_died(make_app, tmp_path, monkeypatch):
    monkeypatch.setattr(service, "RECOVERY_CHECK_S", 0.2)
    app = make_app(FakeModel(), data_dir=tmp_path)
    dead_worker = SqliteJobStore(tmp_path / "jobs.sqlite3")
    document = Document(blocks_from_text("A tower stands on the rock. Ships see its light.")).encode()
    job_id = dead_worker.create("summary", {"length": "short"}, document).id
    dead_worker.claim_next()
    ended = subprocess.Popen(["true"])
    ended.wait()
    dead_worker.owner = f"{socket.gethostname()}:{ended.pid}:gone"
    dead_worker._db.write("UPDATE jobs SET owner = ? WHERE id = ?", (dead_worker.owner, job_id))
    job = app.test_client().get(f"/jobs/{job_id}?wait=10").get_json()
    assert job["status"] == "succeeded" and job["result"]["summary"]
    dead_worker.close()
