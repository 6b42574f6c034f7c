"""A job survives its server being killed with SIGKILL mid-run: the restarted server runs it to the end; stored
documents survive with it."""

import sys
import time

import pytest
import requests

from llm import TaskRunner, blocks_from_text, summarize
from llm.summarize import SummaryPlan
from tests.conftest import SAMPLE_TEXT, ServerProcess, free_port, server_env
from tests.fakes import FakeModel

MAP_AND_MERGE = SummaryPlan(read_tokens=0, candidates=1)  # a long text's parts are what checkpoints save


def test_restarted_summary_resumes_from_saved_part_summaries():
    text = "\n\n".join(f"Part {i} says that tower {i} was lit in {1800 + i}." for i in range(80))
    saved: dict = {}

    class Saved:
        def get(self, key):
            return saved.get(key)

        def put(self, key, value):
            saved[key] = value

    first = FakeModel(n_ctx=512)
    summarize(TaskRunner(first), blocks_from_text(text), length="medium", checkpoints=Saved(), plan=MAP_AND_MERGE)
    second = FakeModel(n_ctx=512)
    result = summarize(TaskRunner(second), blocks_from_text(text), length="medium", checkpoints=Saved(),
                       plan=MAP_AND_MERGE)
    assert result.summary
    assert len(second.calls) == 1  # only the final summary: every part and merge came from the checkpoints
    assert len(first.calls) > 5


@pytest.mark.model
def test_job_and_library_survive_sigkill_and_restart(tmp_path):
    env = server_env(DATA_DIR=str(tmp_path / "data"), N_CTX="512", SUMMARY_READ_TOKENS="0")  # parts to resume
    port = free_port()
    server = ServerProcess([sys.executable, "api.py", "--port", str(port)], port, env, tmp_path / "first.log")
    text = "\n\n".join(SAMPLE_TEXT.replace("lighthouse", f"lighthouse {n}") for n in range(3))
    try:
        server.wait_until_healthy()
        stored = requests.post(f"{server.url}/documents", json={"text": SAMPLE_TEXT, "title": "Kept"}, timeout=60)
        assert stored.status_code == 201, stored.text
        document_id = stored.json()["document_id"]
        started = requests.post(f"{server.url}/generate-summary?async=true", json={"text": text, "length": "short"},
                                timeout=30)
        assert started.status_code == 202
        job_id = started.json()["job_id"]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            job = requests.get(f"{server.url}/jobs/{job_id}", timeout=10).json()
            # Killed between two parts, never near the end: the restarted server must still have work to resume.
            progress = job["progress"]
            if job["status"] == "running" and progress["stage"] == "summarizing parts" and 1 <= progress["done"] < (
                    progress["total"] - 1):
                break
            assert job["status"] in ("queued", "running"), job
            time.sleep(0.2)
        else:
            raise AssertionError("the job never got going")
        server.process.kill()
        server.process.wait(timeout=10)
    finally:
        server.stop()

    port = free_port()
    restarted = ServerProcess([sys.executable, "api.py", "--port", str(port)], port, env, tmp_path / "second.log")
    try:
        restarted.wait_until_healthy()
        job = restarted.finished_job(job_id)
        assert job["status"] == "succeeded", job
        assert job["result"]["summary"] and job["result"]["strategy"] == "hierarchical"
        assert "requeued 1 job" in restarted.log()
        page = requests.get(f"{restarted.url}/documents/{document_id}/pages/1", timeout=10).json()
        assert page["text"] == SAMPLE_TEXT.strip()
        found = requests.get(f"{restarted.url}/documents?q=kept", timeout=10).json()["documents"]
        assert [document["document_id"] for document in found] == [document_id]
    finally:
        restarted.stop()
