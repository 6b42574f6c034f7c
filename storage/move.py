"""Move an existing SQLite `data/` into PostgreSQL: `python3 manage.py move-to-postgres URL [DATA_DIR]`.

Every job (with its checkpoints and file), document (with its pages and passages; PostgreSQL indexes their words
itself) and collection is copied in one transaction, so the move happens whole or not at all; jobs that were
waiting or running are handed to the task queue, to run on the deployment's workers. Stop the service that used
the SQLite file first. The PostgreSQL database must hold no jobs and no documents yet.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

from storage import SQLITE_FILE_NAME, open_database
from storage.database import placeholders
from storage.errors import StorageError

# In the order their references need: a document before its pages, a job before its checkpoints.
TABLES = ("jobs", "checkpoints", "job_documents", "job_files", "job_file_chunks", "documents", "document_pages",
          "passages", "collections", "collection_documents")
# Columns PostgreSQL makes itself: the insertion order (SQLite's rowid) and the passages' indexed words.
GENERATED = {"seq", "words"}
QUEUED, RUNNING = "queued", "running"


@dataclass(frozen=True)
class Moved:
    """How many rows of each table were moved, and how many jobs were handed to the task queue."""

    rows: dict[str, int]
    queued_jobs: int


def move(data_dir: Path, database_url: str) -> Moved:
    """Copy the SQLite database in data_dir into the PostgreSQL at database_url (raises StorageError when there is
    nothing to move or the target is not empty)."""
    from jobs.queue import TaskQueue, ensure_schema

    source_path = data_dir / SQLITE_FILE_NAME
    if not source_path.is_file():
        raise StorageError(f"no SQLite database to move: {source_path} does not exist")
    source = open_database(data_dir)  # brought to the newest schema first, so both sides have the same columns
    target = open_database(data_dir, database_url)
    ensure_schema(database_url)
    queue = TaskQueue(database_url, worker_timeout_s=30)
    try:
        def copy(db) -> Moved:
            if db.execute("SELECT (SELECT COUNT(*) FROM jobs) + (SELECT COUNT(*) FROM documents)").fetchone()[0]:
                raise StorageError("the PostgreSQL database already holds jobs or documents: move into an empty one")
            counts = {}
            for table in TABLES:
                rows = source.read(f"SELECT * FROM {table} ORDER BY rowid")
                columns = [name for name in (rows[0].keys() if rows else []) if name not in GENERATED]
                overriding = " OVERRIDING SYSTEM VALUE" if table == "passages" else ""  # keep the passages' ids
                db.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}){overriding} VALUES ({placeholders(columns)})",
                    [[row[name] for name in columns] for row in rows],
                )
                counts[table] = len(rows)
            db.execute("SELECT setval(pg_get_serial_sequence('passages', 'id'), COALESCE(MAX(id), 0) + 1, false)"
                       " FROM passages")
            # The process that ran them is stopped: they wait again, for the deployment's workers.
            db.execute("UPDATE jobs SET status = ?, owner = NULL, started_at = NULL WHERE status = ?",
                       (QUEUED, RUNNING))
            waiting = [row[0] for row in db.execute("SELECT id FROM jobs WHERE status = ? ORDER BY seq",
                                                    (QUEUED,)).fetchall()]
            for job_id in waiting:
                queue.enqueue(db, job_id)
            return Moved(counts, len(waiting))

        return target.transaction(copy)
    finally:
        source.close()
        target.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database_url", help="postgresql://user:password@host:5432/name")
    parser.add_argument("data_dir", nargs="?", default="data", type=Path, help="the SQLite data folder (data)")
    args = parser.parse_args(argv)
    try:
        moved = move(args.data_dir, args.database_url)
    except StorageError as error:
        sys.exit(f"error: {error}")
    rows = ", ".join(f"{count} {table}" for table, count in moved.rows.items())
    print(f"moved {rows}; {moved.queued_jobs} waiting job(s) handed to the workers")  # noqa: T201


if __name__ == "__main__":
    main()
