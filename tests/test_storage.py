"""The data store's numbered migrations: old data/ folders keep working, versions apply once and in order, a
failed one changes nothing, a database from a newer service is refused."""

import json
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from storage.errors import SchemaTooNewError
from storage.schema import load_migrations
from storage.sqlite import SQLITE_MIGRATIONS, migrate, open_database, schema_version
from tests.conftest import ROOT, free_port, server_env

DATA = ROOT / "tests" / "data"
VERSIONS = len(load_migrations(SQLITE_MIGRATIONS))


def _dead_pid() -> int:
    ended = subprocess.Popen(["true"])
    ended.wait()
    return ended.pid


def _database_from_dump(dump: str, path: Path) -> Path:
    sql = (DATA / dump).read_text(encoding="utf-8")
    sql = sql.replace("{HOST}", socket.gethostname()).replace("{DEAD_PID}", str(_dead_pid()))
    with sqlite3.connect(path) as db:
        db.executescript(sql)
    db.close()
    return path


@pytest.mark.parametrize("dump", ["jobs-before-migrations.sql", "jobs-before-owners.sql"])
def test_a_data_folder_made_before_migrations_keeps_its_jobs(make_app, tmp_path, dump):
    path = _database_from_dump(dump, tmp_path / "jobs.sqlite3")
    with sqlite3.connect(path) as db:
        before = {status: job_id for job_id, status in db.execute("SELECT id, status FROM jobs")}
    db.close()
    assert set(before) == {"queued", "running", "succeeded", "failed", "cancelled"}

    client = make_app(data_dir=tmp_path).test_client()
    with sqlite3.connect(path) as db:
        assert schema_version(db) == VERSIONS
    db.close()
    assert len(client.get("/jobs?limit=10").get_json()["jobs"]) == 5
    # The request ids that jobs kept among their options moved to a column of their own (migration 2).
    with sqlite3.connect(path) as db:
        moved = db.execute("SELECT request_id, options FROM jobs WHERE id = ?", (before["succeeded"],)).fetchone()
    db.close()
    assert (moved[0], json.loads(moved[1])) == ("r1", {"length": "short", "temperature": 0.0})
    succeeded = client.get(f"/jobs/{before['succeeded']}").get_json()
    assert succeeded["result"]["summary"] == "A tower guides ships."
    assert succeeded["result"]["usage"] == {"prompt_tokens": 60, "completion_tokens": 7}
    assert client.get(f"/jobs/{before['failed']}").get_json()["error"]["code"] == "internal_error"
    assert client.get(f"/jobs/{before['cancelled']}").get_json()["error"]["code"] == "cancelled"
    # The queued job, and the one a dead worker was running, are done by this service from the documents they
    # stored then.
    for status in ("queued", "running"):
        done = client.get(f"/jobs/{before[status]}?wait=20").get_json()
        assert done["status"] == "succeeded", done
    points = client.get(f"/jobs/{before['queued']}").get_json()["result"]["points"]
    assert "Keepers lived in the tower." in points[0]["text"]


def test_a_new_database_gets_every_version_once(tmp_path):
    path = tmp_path / "new.sqlite3"
    db = open_database(path)
    assert schema_version(db) == VERSIONS
    db.close()
    again = sqlite3.connect(path, isolation_level=None)
    assert migrate(again) == []  # nothing left to apply
    assert again.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] == VERSIONS
    again.close()


def test_several_workers_opening_a_new_database_at_once_apply_each_version_once(tmp_path):
    path = tmp_path / "shared.sqlite3"
    errors, opened = [], []

    def open_it():
        try:
            opened.append(open_database(path))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    rows = opened[0].execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()
    assert [row[0] for row in rows] == list(range(1, VERSIONS + 1))
    for db in opened:
        db.close()


def _folder(tmp_path: Path, files: dict[str, str]) -> Path:
    folder = tmp_path / "migrations"
    folder.mkdir()
    for name, sql in files.items():
        (folder / name).write_text(sql)
    return folder


def test_a_migration_that_fails_changes_nothing(tmp_path):
    folder = _folder(tmp_path, {
        "0001_things.sql": "CREATE TABLE things (id INTEGER PRIMARY KEY);",
        "0002_broken.sql": "ALTER TABLE things ADD COLUMN name TEXT;\nINSERT INTO nowhere VALUES (1);",
    })
    db = sqlite3.connect(tmp_path / "db.sqlite3", isolation_level=None)
    with pytest.raises(sqlite3.OperationalError, match="nowhere"):
        migrate(db, load_migrations(folder))
    assert schema_version(db) == 1
    assert [row[1] for row in db.execute("PRAGMA table_info(things)")] == ["id"]  # the ALTER was rolled back
    db.close()


@pytest.mark.parametrize(("names", "problem"), [
    (["0001_a.sql", "0003_c.sql"], "without gaps"),
    (["0001_a.sql", "2_b.sql"], "NNNN_name.sql"),
])
def test_migration_files_must_be_numbered_in_order(tmp_path, names, problem):
    folder = _folder(tmp_path, dict.fromkeys(names, "SELECT 1;"))
    with pytest.raises(ValueError, match=problem):
        load_migrations(folder)


def test_a_database_from_a_newer_service_is_refused_with_one_line(make_app, tmp_path):
    db = open_database(tmp_path / "jobs.sqlite3")
    db.execute("INSERT INTO schema_migrations VALUES (?, 'from_the_future', 0)", (VERSIONS + 1,))
    db.close()
    with pytest.raises(SchemaTooNewError, match="newer"):
        make_app(data_dir=tmp_path)
    result = subprocess.run([sys.executable, "api.py", "--port", str(free_port())], cwd=ROOT, capture_output=True,
                            text=True, env={**server_env(), "DATA_DIR": str(tmp_path)}, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].startswith("error: the database has schema version")
