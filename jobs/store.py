"""Durable job records: the queue interface and its embedded SQLite implementation (WAL mode)."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from jobs.errors import QueueFullError
from storage.sqlite import SqliteStore

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
FINISHED = (SUCCEEDED, FAILED, CANCELLED)
STATUSES = (QUEUED, RUNNING, *FINISHED)
# Results of these tasks made from a stored document are kept as long as the document, past JOB_TTL_HOURS.
KEPT_WITH_DOCUMENT = ("summary", "points")
FILE_CHUNK_BYTES = 1 << 20  # a job's file is stored this much at a time


@dataclass(frozen=True)
class StoredFile:
    """A job's file: its content type, its size, and its bytes, read a chunk at a time."""

    content_type: str
    size: int
    chunks: Iterator[bytes]


@dataclass
class Job:
    """One unit of work and everything known about it."""

    id: str
    task: str
    status: str
    options: dict[str, Any]
    created_at: float
    input: bytes | None = None
    input_kind: str = "text"
    filename: str | None = None
    request_key: str | None = None
    request_id: str | None = None  # the id of the request that made it, as the logs have it
    library: str = ""  # whose it is: only requests with the same library's key see it
    document_ids: tuple[str, ...] = ()  # the stored documents it reads (filled in for the worker that claims it)
    progress: dict[str, Any] = field(default_factory=dict)
    result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None
    started_at: float | None = None
    finished_at: float | None = None
    attempts: int = 0
    cancel_requested: bool = False
    shared: bool = False  # a second, identical request joined it: no single client owns it

    @property
    def finished(self) -> bool:
        """Whether the job has ended, one way or another."""
        return self.status in FINISHED


class JobStore(ABC):
    """What the service needs from a job queue; an embedded and (later) a distributed backend implement it."""

    @abstractmethod
    def create(self, task: str, options: dict, input: bytes, *, input_kind: str = "text",
               filename: str | None = None, request_key: str | None = None, request_id: str | None = None,
               max_queue: int | None = None, library: str = "", document_ids: tuple[str, ...] = ()) -> Job:
        """Queue a new job of a library, reading the stored documents named (their deletion ends it); raises
        QueueFullError when max_queue jobs are already waiting (None: no limit)."""

    @abstractmethod
    def attach(self, request_key: str) -> Job | None:
        """The queued or running job of an identical request, now marked shared; None if there is none."""

    @abstractmethod
    def claim_next(self) -> Job | None:
        """The oldest queued job, now marked running; None when nothing waits."""

    @abstractmethod
    def get(self, job_id: str) -> Job | None:
        """A job by id, without its input (claim_next hands that to the worker)."""

    @abstractmethod
    def list(self, limit: int, offset: int, library: str | None = None) -> list[Job]:
        """Recent jobs (of one library, or all), newest first, without their inputs."""

    @abstractmethod
    def set_progress(self, job_id: str, stage: str, done: int, total: int) -> None:
        """Record how far a running job has come."""

    @abstractmethod
    def succeed(self, job_id: str, result: dict) -> bool:
        """Store the result of a job this store claimed; False (nothing stored) if another worker has it now."""

    @abstractmethod
    def fail(self, job_id: str, error: dict, status: str = FAILED) -> bool:
        """Store the error (or mark cancelled) of a job this store claimed; False as for succeed."""

    @abstractmethod
    def cancel(self, job_id: str, error: dict, *, unless_shared: bool = False) -> Job | None:
        """Cancel: a queued job ends now with this error, a running one is asked to stop (checked between tokens
        and calls); unless_shared: leave a job that an identical request joined alone (in the same transaction)."""

    @abstractmethod
    def release(self, job_id: str) -> None:
        """Put a running job back at its place in the queue (shutdown); its checkpoints stay."""

    @abstractmethod
    def requeue_interrupted(self, cancelled_error: dict) -> int:
        """Put jobs whose worker is gone (a crash, a kill) back in the queue, or end them with cancelled_error if
        they were being cancelled; returns how many were requeued. Jobs that a live worker runs are left alone."""

    @abstractmethod
    def cached_result(self, request_key: str, max_age_s: float) -> Job | None:
        """The newest succeeded job for the same request, if not older than max_age_s."""

    @abstractmethod
    def queue_depth(self) -> int:
        """Jobs waiting to run."""

    @abstractmethod
    def count_by_status(self) -> dict[str, int]:
        """How many jobs the store holds in each status."""

    @abstractmethod
    def purge(self, max_age_s: float) -> int:
        """Delete finished jobs older than max_age_s, except results kept with their stored document; returns how
        many."""

    @abstractmethod
    def save_checkpoint(self, job_id: str, key: str, value: Any) -> None:
        """Keep intermediate work (e.g. a chunk summary) so a restarted job can resume."""

    @abstractmethod
    def load_checkpoints(self, job_id: str) -> dict[str, Any]:
        """All intermediate work saved for a job."""

    @abstractmethod
    def save_file(self, job_id: str, content_type: str, source: BinaryIO, size: int) -> None:
        """Keep a job's file (read from source, size bytes, a chunk at a time), replacing one it had."""

    @abstractmethod
    def load_file(self, job_id: str) -> StoredFile | None:
        """A job's file (read a chunk at a time as it is sent); None when it has none."""

    @abstractmethod
    def close(self) -> None:
        """Release the store's connections."""


# Every column but the input, which can be megabytes: only the worker that claims a job needs it, while
# waiting requests and event streams read their job every second.
_WITHOUT_INPUT = (
    "id, task, status, options, NULL AS input, input_kind, filename, request_key, request_id, progress, result,"
    " error, created_at, started_at, finished_at, attempts, cancel_requested, owner, shared, library"
)


class SqliteJobStore(SqliteStore, JobStore):
    """Jobs in one SQLite file (WAL mode), safe to share between the threads of a process."""

    def __init__(self, path: Path):
        super().__init__(path)
        # Who runs a claimed job: this host, this process, this store (a process may open the file again).
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def _owner_gone(self, owner: str | None) -> bool:
        """Whether the store that claimed a job can no longer be running it."""
        if owner is None:
            return True
        host, _, rest = owner.partition(":")
        pid_text, _, _token = rest.partition(":")
        if host != socket.gethostname() or not pid_text.isdigit():
            return False  # another machine's worker: it cannot be checked from here
        pid = int(pid_text)
        if pid == os.getpid():
            return owner != self.owner  # an earlier store of this process (its worker is gone)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    @staticmethod
    def _job(row: sqlite3.Row | None) -> Job | None:
        if row is None:
            return None
        return Job(
            id=row["id"], task=row["task"], status=row["status"], options=json.loads(row["options"]),
            created_at=row["created_at"], input=row["input"], input_kind=row["input_kind"],
            filename=row["filename"], request_key=row["request_key"], request_id=row["request_id"],
            progress=json.loads(row["progress"]),
            result=json.loads(row["result"]) if row["result"] else None,
            error=json.loads(row["error"]) if row["error"] else None,
            started_at=row["started_at"], finished_at=row["finished_at"], attempts=row["attempts"],
            cancel_requested=bool(row["cancel_requested"]), shared=bool(row["shared"]), library=row["library"],
        )

    def create(self, task, options, input, *, input_kind="text", filename=None, request_key=None, request_id=None,
               max_queue=None, library="", document_ids=()):
        job_id = uuid.uuid4().hex

        def insert(db):
            waiting = db.execute("SELECT COUNT(*) FROM jobs WHERE status = ?", (QUEUED,)).fetchone()[0]
            if max_queue is not None and waiting >= max_queue:
                raise QueueFullError(
                    f"the queue is full: {waiting} jobs are already waiting (MAX_QUEUE={max_queue}); try again later"
                )
            db.execute(
                "INSERT INTO jobs (id, task, status, options, input, input_kind, filename, request_key, request_id,"
                " created_at, library) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (job_id, task, QUEUED, json.dumps(options), input, input_kind, filename, request_key, request_id,
                 time.time(), library),
            )
            db.executemany("INSERT OR IGNORE INTO job_documents (job_id, document_id) VALUES (?, ?)",
                           [(job_id, document_id) for document_id in document_ids])
            return db.execute(f"SELECT {_WITHOUT_INPUT} FROM jobs WHERE id = ?", (job_id,)).fetchone()

        return self._job(self._transaction(insert))

    def attach(self, request_key):
        def attach(db):
            row = db.execute(
                "SELECT id FROM jobs WHERE request_key = ? AND status IN (?, ?) AND cancel_requested = 0"
                " ORDER BY created_at DESC LIMIT 1", (request_key, QUEUED, RUNNING),
            ).fetchone()
            if row is None:
                return None
            db.execute("UPDATE jobs SET shared = 1 WHERE id = ?", (row["id"],))
            return db.execute(f"SELECT {_WITHOUT_INPUT} FROM jobs WHERE id = ?", (row["id"],)).fetchone()

        return self._job(self._transaction(attach))

    def claim_next(self):
        def claim(db):
            row = db.execute(
                "SELECT id FROM jobs WHERE status = ? ORDER BY created_at, rowid LIMIT 1", (QUEUED,)
            ).fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE jobs SET status = ?, started_at = ?, attempts = attempts + 1, owner = ? WHERE id = ?",
                (RUNNING, time.time(), self.owner, row["id"]),
            )
            claimed = self._job(db.execute("SELECT * FROM jobs WHERE id = ?", (row["id"],)).fetchone())
            claimed.document_ids = tuple(found[0] for found in db.execute(
                "SELECT document_id FROM job_documents WHERE job_id = ?", (row["id"],)))
            return claimed

        return self._transaction(claim)

    def get(self, job_id):
        with self._lock:
            row = self._db.execute(f"SELECT {_WITHOUT_INPUT} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return self._job(row)

    def list(self, limit, offset, library=None):
        where = "" if library is None else "WHERE library = ?"
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_WITHOUT_INPUT} FROM jobs {where} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
                (*(() if library is None else (library,)), limit, offset),
            ).fetchall()
        return [self._job(row) for row in rows]

    def set_progress(self, job_id, stage, done, total):
        progress = json.dumps({"stage": stage, "done": done, "total": total})
        with self._lock:
            self._db.execute("UPDATE jobs SET progress = ? WHERE id = ?", (progress, job_id))

    def _finish(self, job_id: str, status: str, column: str, value: dict) -> bool:
        # column is "result" or "error", chosen by our own code, never by a request. Only the store that
        # claimed the job may end it: a job taken over after a restart is not overwritten.
        def finish(db):
            updated = db.execute(
                f"UPDATE jobs SET status = ?, {column} = ?, finished_at = ?, input = NULL"
                " WHERE id = ? AND status = ? AND owner = ?",
                (status, json.dumps(value), time.time(), job_id, RUNNING, self.owner),
            ).rowcount
            if updated:
                db.execute("DELETE FROM checkpoints WHERE job_id = ?", (job_id,))
            return bool(updated)

        return self._transaction(finish)

    def succeed(self, job_id, result):
        return self._finish(job_id, SUCCEEDED, "result", result)

    def fail(self, job_id, error, status=FAILED):
        return self._finish(job_id, status, "error", error)

    def cancel(self, job_id, error, *, unless_shared=False):
        def cancel(db):
            row = db.execute("SELECT status, shared FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None:
                return None
            left_alone = unless_shared and row["shared"]
            if row["status"] == QUEUED and not left_alone:
                db.execute(
                    "UPDATE jobs SET status = ?, error = ?, finished_at = ?, input = NULL WHERE id = ?",
                    (CANCELLED, json.dumps(error), time.time(), job_id),
                )
            elif row["status"] == RUNNING and not left_alone:
                db.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", (job_id,))
            return db.execute(f"SELECT {_WITHOUT_INPUT} FROM jobs WHERE id = ?", (job_id,)).fetchone()

        return self._job(self._transaction(cancel))

    def release(self, job_id):
        def release(db):
            db.execute(
                "UPDATE jobs SET status = ?, started_at = NULL, owner = NULL WHERE id = ? AND status = ? AND owner = ?",
                (QUEUED, job_id, RUNNING, self.owner),
            )

        self._transaction(release)

    def requeue_interrupted(self, cancelled_error):
        def requeue(db):
            orphans = [
                row for row in db.execute("SELECT id, owner, cancel_requested FROM jobs WHERE status = ?", (RUNNING,))
                if self._owner_gone(row["owner"])
            ]
            error = json.dumps(cancelled_error)
            for row in orphans:
                if row["cancel_requested"]:  # cancelled before its worker died: it stays cancelled
                    db.execute(
                        "UPDATE jobs SET status = ?, error = ?, finished_at = ?, input = NULL WHERE id = ?",
                        (CANCELLED, error, time.time(), row["id"]),
                    )
                    db.execute("DELETE FROM checkpoints WHERE job_id = ?", (row["id"],))
                else:
                    db.execute("UPDATE jobs SET status = ?, started_at = NULL, owner = NULL WHERE id = ?",
                               (QUEUED, row["id"]))
            return sum(1 for row in orphans if not row["cancel_requested"])

        return self._transaction(requeue)

    def cached_result(self, request_key, max_age_s):
        with self._lock:
            row = self._db.execute(
                f"SELECT {_WITHOUT_INPUT} FROM jobs WHERE request_key = ? AND status = ? AND finished_at >= ?"
                " ORDER BY finished_at DESC LIMIT 1",
                (request_key, SUCCEEDED, time.time() - max_age_s),
            ).fetchone()
        return self._job(row)

    def queue_depth(self):
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM jobs WHERE status = ?", (QUEUED,)).fetchone()[0]

    def count_by_status(self):
        with self._lock:
            rows = self._db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall()
        return dict.fromkeys(STATUSES, 0) | {row[0]: row[1] for row in rows}

    def purge(self, max_age_s):
        def purge(db):
            cutoff = time.time() - max_age_s
            placeholders = ", ".join("?" for _ in FINISHED)
            kept = ", ".join("?" for _ in KEPT_WITH_DOCUMENT)
            purged = db.execute(
                f"DELETE FROM jobs WHERE status IN ({placeholders}) AND finished_at < ?"
                f" AND NOT (status = ? AND task IN ({kept})"
                "  AND id IN (SELECT job_id FROM job_documents))",
                (*FINISHED, cutoff, SUCCEEDED, *KEPT_WITH_DOCUMENT),
            ).rowcount
            db.execute("DELETE FROM job_documents WHERE job_id NOT IN (SELECT id FROM jobs)")
            db.execute("DELETE FROM job_files WHERE job_id NOT IN (SELECT id FROM jobs)")
            return purged

        return self._transaction(purge)

    def save_checkpoint(self, job_id, key, value):
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO checkpoints (job_id, key, value) VALUES (?, ?, ?)",
                (job_id, key, json.dumps(value)),
            )

    def load_checkpoints(self, job_id):
        with self._lock:
            rows = self._db.execute("SELECT key, value FROM checkpoints WHERE job_id = ?", (job_id,)).fetchall()
        return {row["key"]: json.loads(row["value"]) for row in rows}

    def save_file(self, job_id, content_type, source, size):
        def save(db):
            # Room for the whole file, then its bytes a chunk at a time: never all of it in memory.
            row = db.execute("INSERT OR REPLACE INTO job_files (job_id, content_type, data) VALUES (?, ?, zeroblob(?))",
                             (job_id, content_type, size)).lastrowid
            with db.blobopen("job_files", "data", row) as blob:
                while chunk := source.read(FILE_CHUNK_BYTES):
                    blob.write(chunk)

        self._transaction(save)

    def load_file(self, job_id):
        with self._lock:
            row = self._db.execute("SELECT rowid, content_type, length(data) AS size FROM job_files WHERE job_id = ?",
                                   (job_id,)).fetchone()
        if row is None:
            return None

        def chunks(rowid: int = row["rowid"], size: int = row["size"]):
            for offset in range(0, size, FILE_CHUNK_BYTES):
                # The lock is held for one read, never while the chunk waits to be sent.
                with self._lock, self._db.blobopen("job_files", "data", rowid, readonly=True) as blob:
                    blob.seek(offset)
                    chunk = blob.read(FILE_CHUNK_BYTES)
                yield chunk

        return StoredFile(row["content_type"], row["size"], chunks())
