"""A deployment on several machines, played on one: a real PostgreSQL, two API nodes and two workers, each a real
server process (api.py's own main on the fake model, tests/fake_node.py). What one process does, the others see;
what a killed or frozen worker was doing, another finishes; nothing is done twice or lost."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime

import psycopg
import pytest
import requests

from tests.conftest import ROOT, SAMPLE_TEXT, ServerProcess, free_port, long_text, server_env, streamed_text

# Slow enough to act while a job runs; parts small enough that a long text has many (each one a checkpoint).
NODE_SETTINGS = {"FAKE_SECONDS_PER_TOKEN": "0.02", "FAKE_N_CTX": "512", "SUMMARY_READ_TOKENS": "0",
                 "WORKER_TIMEOUT_S": "3", "SHUTDOWN_GRACE_S": "1"}
LONG = long_text(paragraphs=60)


class Cluster:
    """The processes of one deployment, started and stopped by the tests."""

    def __init__(self, database_url: str, folder):
        self.database_url = database_url
        self.folder = folder
        self.nodes: list[ServerProcess] = []

    def start(self, role: str) -> ServerProcess:
        port = free_port()
        env = server_env(DATABASE_URL=self.database_url, ROLE=role, **NODE_SETTINGS)
        node = ServerProcess([sys.executable, "-m", "tests.fake_node", "--port", str(port)], port, env,
                             self.folder / f"{role}-{port}.log")
        node.role = role
        self.nodes.append(node)
        node.wait_until_healthy(60)
        return node

    def alive(self, role: str) -> list[ServerProcess]:
        return [node for node in self.nodes if node.role == role and node.process.poll() is None]

    def ensure(self, apis: int = 2, workers: int = 2) -> tuple[list[ServerProcess], list[ServerProcess]]:
        """At least this many live API nodes and workers (a test before may have killed some)."""
        for role, wanted in (("api", apis), ("worker", workers)):
            while len(self.alive(role)) < wanted:
                self.start(role)
        return self.alive("api"), self.alive("worker")

    def row(self, job_id: str) -> dict:
        """A job's row as the database has it (who holds it, how many attempts)."""
        with psycopg.connect(self.database_url) as connection:
            found = connection.execute("SELECT status, owner, attempts FROM jobs WHERE id = %s", (job_id,)).fetchone()
            checkpoints = connection.execute("SELECT COUNT(*) FROM checkpoints WHERE job_id = %s",
                                             (job_id,)).fetchone()[0]
        return {"status": found[0], "owner": found[1], "attempts": found[2], "checkpoints": checkpoints}

    def worker_running(self, job_id: str, *, checkpoints: int = 1, timeout: float = 60) -> ServerProcess:
        """The worker process running the job, once it has saved some checkpoints."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            row = self.row(job_id)
            if row["status"] == "running" and row["checkpoints"] >= checkpoints:
                pid = int(row["owner"].split(":")[1])
                return next(node for node in self.nodes if node.process.pid == pid)
            time.sleep(0.1)
        raise AssertionError(f"job {job_id} never ran: {self.row(job_id)}")

    def stop_all(self) -> None:
        for node in self.nodes:
            if node.process.poll() is None:
                os.kill(node.process.pid, signal.SIGCONT)
            node.stop()


@pytest.fixture(scope="module")
def cluster(postgres_server, tmp_path_factory):
    made = Cluster(postgres_server.new_database(), tmp_path_factory.mktemp("cluster"))
    yield made
    made.stop_all()


def submit(node: ServerProcess, text: str = LONG, **fields) -> str:
    response = requests.post(f"{node.url}/generate-summary?async=true", json={"text": text, "length": "short",
                                                                               **fields}, timeout=30)
    assert response.status_code == 202, response.text
    return response.json()["job_id"]


def test_a_job_sent_to_one_api_node_runs_on_a_worker_and_is_seen_from_the_other(cluster):
    (first, second), workers = cluster.ensure()
    health = requests.get(f"{first.url}/health", timeout=10).json()
    assert (health["role"], health["workers"]) == ("api", 2)
    job_id = submit(first, text="A tower stands on the rock. Ships see its light at night.")
    job = second.finished_job(job_id, timeout=60)
    assert job["status"] == "succeeded" and job["result"]["summary"]
    assert int(cluster.row(job_id)["owner"].split(":")[1]) in {worker.process.pid for worker in workers}


def test_the_parts_of_one_long_document_are_made_by_every_free_worker(cluster):
    (first, _), workers = cluster.ensure()
    job_id = submit(first, text=LONG + "\n\nA document whose parts two workers share.")
    job = first.finished_job(job_id, timeout=120)
    assert job["status"] == "succeeded" and job["result"]["chunks"] >= 4
    owner_pid = int(cluster.row(job_id)["owner"].split(":")[1])
    helper = next(worker for worker in workers if worker.process.pid != owner_pid)
    made = re.search(rf"made (\d+) piece\(s\) of job {job_id}", helper.log())
    assert made and int(made[1]) >= 1, helper.log()[-2000:]
    assert cluster.row(job_id)["attempts"] == 1  # helped, not handed over


def test_a_worker_with_another_model_refuses_to_start_with_one_line(cluster):
    cluster.ensure()
    env = server_env(DATABASE_URL=cluster.database_url, ROLE="worker", FAKE_MODEL_NAME="another-model",
                     **NODE_SETTINGS)
    refused = subprocess.run([sys.executable, "-m", "tests.fake_node", "--port", str(free_port())], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines()[-1].startswith("error: this process serves model 'another-model', "
                                                              "but the deployment's live workers serve 'fake-model'")


def test_a_worker_killed_mid_job_leaves_it_to_another_that_resumes_it(cluster):
    (first, second), _ = cluster.ensure()
    job_id = submit(first)
    victim = cluster.worker_running(job_id, checkpoints=2)
    saved = cluster.row(job_id)["checkpoints"]
    victim.process.kill()  # SIGKILL: no goodbye, its heartbeat just stops
    job = second.finished_job(job_id, timeout=120)
    assert job["status"] == "succeeded" and job["result"]["summary"]
    row = cluster.row(job_id)
    assert row["attempts"] == 2 and saved >= 2  # one result, from the second attempt, which had parts to resume
    assert int(row["owner"].split(":")[1]) != victim.process.pid


def test_a_worker_stopped_with_sigterm_hands_its_job_back_at_once(cluster):
    (first, _), _ = cluster.ensure()
    job_id = submit(first, text=LONG + "\n\nA job whose worker is stopped politely.")
    stopping = cluster.worker_running(job_id)
    first_lease = cluster.row(job_id)["owner"]
    stopping.process.terminate()
    assert stopping.process.wait(timeout=30) == 0
    stopped_at = time.monotonic()
    # Handed back as it stopped, not WORKER_TIMEOUT_S (3 s) later, when a dead worker's job is taken over.
    while cluster.row(job_id)["owner"] in (first_lease, None) and time.monotonic() - stopped_at < 20:
        time.sleep(0.1)
    taken_after = time.monotonic() - stopped_at
    assert cluster.row(job_id)["owner"] not in (first_lease, None)
    assert taken_after < 1.5
    job = first.finished_job(job_id, timeout=120)
    assert job["status"] == "succeeded" and cluster.row(job_id)["attempts"] == 2
    assert "put back in the queue by shutdown" in stopping.log()


def test_a_frozen_worker_that_comes_back_cannot_overwrite_the_new_attempt(cluster):
    (first, _), _ = cluster.ensure()
    job_id = submit(first, text=LONG + "\n\nOne more paragraph, so that this is a new job.")
    frozen = cluster.worker_running(job_id)
    first_lease = cluster.row(job_id)["owner"]
    os.kill(frozen.process.pid, signal.SIGSTOP)  # past WORKER_TIMEOUT_S: presumed dead
    try:
        deadline = time.monotonic() + 60
        while cluster.row(job_id)["owner"] in (first_lease, None) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert cluster.row(job_id)["owner"] not in (first_lease, None), "nobody took the job over"
    finally:
        os.kill(frozen.process.pid, signal.SIGCONT)
    job = first.finished_job(job_id, timeout=120)
    assert job["status"] == "succeeded"
    row = cluster.row(job_id)
    assert row["attempts"] == 2 and row["owner"] != first_lease
    deadline = time.monotonic() + 20  # the thawed worker notices (its next look at the job) and gives up
    while "taken over by another worker" not in frozen.log() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "taken over by another worker" in frozen.log()


def test_cancel_on_one_api_node_stops_a_job_running_under_another(cluster):
    (first, second), _ = cluster.ensure()
    job_id = submit(first, text=LONG + "\n\nA paragraph of its own, for a job of its own.")
    cluster.worker_running(job_id)
    cancelled_at = time.monotonic()
    assert requests.delete(f"{second.url}/jobs/{job_id}", timeout=10).status_code == 200
    job = first.finished_job(job_id, timeout=30)
    assert job["status"] == "cancelled" and job["error"]["code"] == "cancelled"
    assert time.monotonic() - cancelled_at < 10


def test_identical_requests_on_two_api_nodes_join_one_job(cluster):
    (first, second), _ = cluster.ensure()
    text = LONG + "\n\nThe same request, sent to both nodes at once."
    ids: list[str] = []
    threads = [threading.Thread(target=lambda node=node: ids.append(submit(node, text=text)))
               for node in (first, second) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(ids) == 6 and len(set(ids)) == 1
    requests.delete(f"{first.url}/jobs/{ids[0]}", timeout=10)


def _events(node: ServerProcess, job_id: str, stop_after: str | None = None) -> list[tuple[str, dict]]:
    events = []
    with requests.get(f"{node.url}/jobs/{job_id}/events", stream=True, timeout=120) as response:
        name = None
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((name, json.loads(line.removeprefix("data: "))))
                if name == stop_after:
                    return events
    return events


def test_a_client_whose_api_node_dies_follows_the_job_through_the_other(cluster):
    (first, second), _ = cluster.ensure()
    job_id = submit(first, text=LONG + "\n\nFollowed by a client whose node dies.")
    before = _events(first, job_id, stop_after="progress")
    assert before and before[0][0] == "progress"
    first.process.kill()
    after = _events(second, job_id)
    assert after[0][0] == "progress"  # the current state first
    assert after[-1][0] == "result" and after[-1][1]["result"]["summary"]
    # The summary streamed from the worker through the other node's LISTEN, a sentence at a time, whole.
    assert streamed_text(after) == after[-1][1]["result"]["summary"]


def test_while_postgresql_restarts_requests_get_503_and_no_job_is_lost(cluster, postgres_server):
    (first, second), _ = cluster.ensure()
    job_id = submit(first, text=LONG + "\n\nA job that outlives its database's restart.")
    cluster.worker_running(job_id)
    postgres_server.kill()
    try:
        deadline = time.monotonic() + 30
        while True:
            response = requests.get(f"{second.url}/jobs/{job_id}", timeout=30)
            if response.status_code == 503 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert response.status_code == 503, response.text
        assert response.json()["error"]["code"] == "database_unavailable"
        assert response.headers["Retry-After"]
    finally:
        postgres_server.start()
    job = first.finished_job(job_id, timeout=180)
    assert job["status"] == "succeeded" and job["result"]["summary"]
    assert cluster.row(job_id)["attempts"] >= 2  # handed out again after its worker lost the database
    again = submit(second, text="A tower stands on the rock. Ships see its light, after the restart too.")
    assert first.finished_job(again, timeout=60)["status"] == "succeeded"


def test_a_big_documents_helpers_never_keep_a_short_request_waiting(cluster):
    (first, _), _ = cluster.ensure()
    big = submit(first, text="\n\n".join([LONG] * 10) + "\n\nA big document that every worker helps with.")
    cluster.worker_running(big, checkpoints=1)
    time.sleep(1)  # the other worker is helping by now
    short = submit(first, text="A tower stands on the rock. Ships see its light at night, a short request.")
    done = first.finished_job(short, timeout=60)
    assert done["status"] == "succeeded"
    # It waited at most for the helper's piece at hand (a few model calls), not for the big document's parts to run
    # out: the big one is still at its parts when the short one has finished.
    waited = (datetime.fromisoformat(done["started_at"]) - datetime.fromisoformat(done["created_at"])).total_seconds()
    assert waited < 5.0, waited
    big_job = requests.get(f"{first.url}/jobs/{big}", timeout=10).json()
    assert big_job["status"] == "running" and big_job["progress"]["stage"] == "summarizing parts", big_job
    assert first.finished_job(big, timeout=180)["status"] == "succeeded"


@pytest.mark.model
def test_an_api_node_and_a_worker_on_the_bundled_model(postgres_server, tmp_path):
    """The real model: the API node holds only its vocabulary (and still refuses a prompt that cannot fit before
    anything is queued); the worker answers."""
    url = postgres_server.new_database()
    nodes = []
    try:
        for role in ("api", "worker"):
            port = free_port()
            node = ServerProcess([sys.executable, "api.py", "--port", str(port)], port,
                                 server_env(DATABASE_URL=url, ROLE=role, N_CTX="2048"), tmp_path / f"{role}.log")
            nodes.append(node)
        api, worker = nodes
        health = api.wait_until_healthy(120)
        assert health["role"] == "api" and health["model"]["name"] == "smollm2-135m-instruct"
        assert health["model"]["kv_cache_bytes"] == 0  # no context: only the vocabulary was loaded
        assert worker.wait_until_healthy(120)["model"]["kv_cache_bytes"] > 0
        too_long = requests.post(f"{api.url}/v1/chat/completions", timeout=30, json={
            "model": "smollm2-135m-instruct", "messages": [{"role": "user", "content": "lighthouse " * 3000}]})
        assert too_long.status_code == 400 and too_long.json()["error"]["code"] == "context_length_exceeded"
        assert requests.get(f"{api.url}/jobs", timeout=10).json()["jobs"] == []  # refused before it was queued
        summary = requests.post(f"{api.url}/generate-summary", json={"text": SAMPLE_TEXT, "length": "short"},
                                timeout=120)
        assert summary.status_code == 200, summary.text
        assert summary.json()["summary"] and summary.json()["model"] == "smollm2-135m-instruct"
        assert "Deferred 1 job" in api.log() and "Starting job docservice.run_job" in worker.log()
    finally:
        for node in nodes:
            node.stop()
