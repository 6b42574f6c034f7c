"""Moving a SQLite data/ folder into PostgreSQL (`manage.py move-to-postgres`): every job, result, document, page,
passage and collection arrives, searchable; a job that was waiting runs on the new store; a second move into the
same database is refused."""

from __future__ import annotations

import subprocess
import sys

from jobs.store import SqliteJobStore
from llm import blocks_from_text
from routes.resources import close_app
from tasks.document import Document
from tests.conftest import ROOT, SAMPLE_TEXT, post_json

HARBOUR = "The harbour of Saint-Malo shelters fishing boats. Its walls were built in 1720 by the town's masons."


def _everything(client) -> dict:
    """What a client can see of a library: documents, their pages, a search, collections, jobs with results."""
    documents = client.get("/documents?limit=100").get_json()["documents"]
    jobs = client.get("/jobs?limit=100").get_json()["jobs"]
    return {
        "documents": documents,
        "pages": {document["document_id"]: client.get(f"/documents/{document['document_id']}/pages/1").get_json()
                  for document in documents},
        "search": [document["document_id"] for document in client.get("/documents?q=harbour").get_json()["documents"]],
        "collections": client.get("/collections").get_json(),
        "jobs": {job["job_id"]: client.get(f"/jobs/{job['job_id']}").get_json() for job in jobs},
    }


def test_a_sqlite_data_folder_moves_whole_and_waiting_jobs_run_after(make_app, tmp_path, postgres_url):
    data_dir = tmp_path / "old-data"
    before_app = make_app(data_dir=data_dir)
    client = before_app.test_client()
    lighthouse = post_json(client, "/documents", {"text": SAMPLE_TEXT, "title": "Lighthouses"}).get_json()
    harbour = post_json(client, "/documents", {"text": HARBOUR, "title": "Harbour"}).get_json()
    assert client.put("/collections/coast", json={"document_ids": [harbour["document_id"]],
                                                 "instructions": "Answer briefly."}).status_code == 201
    summary = post_json(client, "/generate-summary", {"document_id": lighthouse["document_id"], "length": "short"})
    assert summary.status_code == 200
    before = _everything(client)
    close_app(before_app)
    # A job that was still waiting when the old service stopped, and one its worker was running.
    old_store = SqliteJobStore(data_dir / "jobs.sqlite3")
    document = Document(blocks_from_text(HARBOUR + " The port has two lighthouses.")).encode()
    running = old_store.create("summary", {"length": "short"}, document).id
    old_store.claim_next()
    waiting = old_store.create("points", {"count": 2}, document).id
    old_store.close()

    moved = subprocess.run([sys.executable, "-m", "storage.move", postgres_url, str(data_dir)], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert moved.returncode == 0, moved.stderr
    assert "2 documents" in moved.stdout and "1 collections" in moved.stdout

    after_app = make_app(database_url=postgres_url, data_dir=tmp_path / "unused")
    after = _everything(after_app.test_client())
    for name in ("documents", "pages", "search", "collections"):
        assert after[name] == before[name], name
    assert after["search"] == [harbour["document_id"]]
    for job_id, job in before["jobs"].items():
        assert after["jobs"][job_id] == job
    assert len(before["jobs"]) == 3  # two documents stored and one summary, each a job
    assert "2 waiting job(s) handed to the workers" in moved.stdout
    for job_id in (running, waiting):  # they run now, on the new store's worker
        done = after_app.test_client().get(f"/jobs/{job_id}?wait=20").get_json()
        assert done["status"] == "succeeded", done
    again = subprocess.run([sys.executable, "-m", "storage.move", postgres_url, str(data_dir)], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert again.returncode == 1
    assert again.stderr.strip() == ("error: the PostgreSQL database already holds jobs or documents: move into an "
                                    "empty one")
