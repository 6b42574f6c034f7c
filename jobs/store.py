"""Durable job records: the queue interface, and its implementation in SQL that runs on either database (the
embedded SQLite file, or PostgreSQL for a deployment on several machines)."""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from jobs.errors import QueueFullError
from storage.database import Database, placeholders
from storage.sqlite import SqliteDatabase

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
FINISHED = (SUCCEEDED, FAILED, CANCELLED)
STATUSES = (QUEUED, RUNNING, *FINISHED)
# Results of these tasks made from a stored document are kept as long as the document, past JOB_TTL_HOURS.
KEPT_WITH_DOCUMENT = ("summary", "points")
FILE_CHUNK_BYTES = 1 << 20  # a job's file is stored this much at a time


# Hands a job to the task queue inside the transaction that queues it (connection, job id): both commit or neither.
Enqueue = Callable[[Any, str], None]


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
    owner: str | None = None  # the lease of the worker running it: only that worker's writes count

    @property
    def finished(self) -> bool:
        """Whether the job has ended, one way or another."""
        return self.status in FINISHED


class JobStore(ABC):
    """What the service needs from a job queue."""

    @abstractmethod
    def create(self, task: str, options: dict, input: bytes, *, input_kind: str = "text",
               filename: str | None = None, request_key: str | None = None, request_id: str | None = None,
               max_queue: int | None = None, library: str = "", document_ids: tuple[str, ...] = (),
               enqueue: Enqueue | None = None) -> Job:
        """Queue a new job of a library, reading the stored documents named (their deletion ends it), or join the
        identical request's job if one is queued or running (returned marked shared: one job per request key, even
        for two API nodes at the same instant); raises QueueFullError when max_queue jobs are already waiting
        (None: no limit)."""

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
    def claim(self, job_id: str, lease: str, cancelled_error: dict) -> Job | None:
        """Claim one job for the worker that the queue handed it to, under a new lease: a queued one, or a running
        one whose worker was presumed dead (the queue hands a job out again only then). None if it has ended (or is
        ended now with cancelled_error, having been cancelled before its worker died)."""

    @abstractmethod
    def set_progress(self, job_id: str, stage: str, done: int, total: int, lease: str | None = None) -> None:
        """Record how far a running job has come (not if another lease holds it now)."""

    @abstractmethod
    def succeed(self, job_id: str, result: dict, lease: str | None = None) -> bool:
        """Store the result of a job this store claimed (under this lease, when one was given); False (nothing
        stored) if another worker has it now."""

    @abstractmethod
    def fail(self, job_id: str, error: dict, status: str = FAILED, lease: str | None = None) -> bool:
        """Store the error (or mark cancelled) of a job this store claimed; False as for succeed."""

    @abstractmethod
    def cancel(self, job_id: str, error: dict, *, unless_shared: bool = False) -> Job | None:
        """Cancel: a queued job ends now with this error, a running one is asked to stop (checked between tokens
        and calls); unless_shared: leave a job that an identical request joined alone (in the same transaction)."""

    @abstractmethod
    def release(self, job_id: str, lease: str | None = None, enqueue: Enqueue | None = None) -> bool:
        """Put a running job back at its place in the queue (shutdown); its checkpoints stay. enqueue hands it to
        the task queue again, in the same transaction. False if another worker holds it now."""

    @abstractmethod
    def enqueue(self, job_id: str, enqueue: Enqueue) -> None:
        """Hand a queued job to the task queue again (one that a worker shutting down was handed)."""

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
    def load_checkpoint(self, job_id: str, key: str) -> Any:
        """One saved piece of a job's work, as the database has it now (None if not saved)."""

    @abstractmethod
    def claim_piece(self, job_id: str, key: str, owner: str, alive: Callable[[Any, str], bool]) -> bool:
        """Whether owner may make this piece of the job now: nobody claimed it, owner did, or the claimant is no
        longer alive (alive(connection, claimant) says) and the claim passes to owner."""

    @abstractmethod
    def peek(self, job_id: str) -> Job | None:
        """A job with its input and documents, without claiming it (a helper reads what the job reads)."""

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


# An identical request's job, while it is queued or running and not being cancelled: the unique index of migration 5.
_ACTIVE_REQUEST = f"request_key = ? AND status IN ('{QUEUED}', '{RUNNING}') AND cancel_requested = 0"
_ONE_ACTIVE_PER_REQUEST = f"(request_key) WHERE status IN ('{QUEUED}', '{RUNNING}') AND cancel_requested = 0"


class SqlJobStore(JobStore):
    """Jobs in a database (SQLite or PostgreSQL), safe to share between the threads of a process and, on
    PostgreSQL, between processes on many machines."""

    def __init__(self, database: Database):
        self._db = database
        self.database = database
        # Who runs a claimed job: this host, this process, this store (a process may open the store again).
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def close(self) -> None:
        self._db.close()

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
    def _job(row) -> Job | None:
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
            owner=row["owner"],
        )

    def create(self, task, options, input, *, input_kind="text", filename=None, request_key=None, request_id=None,
               max_queue=None, library="", document_ids=(), enqueue=None):
        job_id = uuid.uuid4().hex

        def insert(db):
            waiting = db.execute("SELECT COUNT(*) FROM jobs WHERE status = ?", (QUEUED,)).fetchone()[0]
            if max_queue is not None and waiting >= max_queue:
                raise QueueFullError(
                    f"the queue is full: {waiting} jobs are already waiting (MAX_QUEUE={max_queue}); try again later"
                )
            inserted = db.execute(
                "INSERT INTO jobs (id, task, status, options, input, input_kind, filename, request_key, request_id,"
                " created_at, library) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                f" ON CONFLICT {_ONE_ACTIVE_PER_REQUEST} DO NOTHING",
                (job_id, task, QUEUED, json.dumps(options), input, input_kind, filename, request_key, request_id,
                 time.time(), library),
            ).rowcount
            if not inserted:  # an identical request's job came first: this request joins it
                return self._attach(db, request_key)
            db.executemany("INSERT INTO job_documents (job_id, document_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                           [(job_id, document_id) for document_id in document_ids])
            if enqueue is not None:
                enqueue(db, job_id)
            return db.execute(f"SELECT {_WITHOUT_INPUT} FROM jobs WHERE id = ?", (job_id,)).fetchone()

        return self._job(self._db.transaction(insert))

    @staticmethod
    def _attach(db, request_key):
        row = db.execute(f"SELECT id FROM jobs WHERE {_ACTIVE_REQUEST}", (request_key,)).fetchone()
        if row is None:
            return None
        db.execute("UPDATE jobs SET shared = 1 WHERE id = ?", (row["id"],))
        return db.execute(f"SELECT {_WITHOUT_INPUT} FROM jobs WHERE id = ?", (row["id"],)).fetchone()

    def attach(self, request_key):
        return self._job(self._db.transaction(lambda db: self._attach(db, request_key)))

    def claim_next(self):
        def claim(db):
            while True:  # another process may take the oldest between the look and the claim: then the next one
                row = db.execute(
                    f"SELECT id FROM jobs WHERE status = ? ORDER BY created_at, {self._db.insertion_order} LIMIT 1",
                    (QUEUED,),
                ).fetchone()
                if row is None:
                    return None
                job = self._claim(db, row["id"])
                if job is not None:
                    return job

        return self._db.transaction(claim)

    def _claim(self, db, job_id: str) -> Job | None:
        claimed = db.execute(
            "UPDATE jobs SET status = ?, started_at = ?, attempts = attempts + 1, owner = ?"
            " WHERE id = ? AND status = ?",
            (RUNNING, time.time(), self.owner, job_id, QUEUED),
        ).rowcount
        if not claimed:  # another worker took it first
            return None
        return self._claimed(db, job_id)

    def _claimed(self, db, job_id: str) -> Job:
        job = self._job(db.execute("SELECT * FROM jobs WHERE id = ?", (job_id,)).fetchone())
        job.document_ids = tuple(found[0] for found in db.execute(
            "SELECT document_id FROM job_documents WHERE job_id = ?", (job_id,)).fetchall())
        return job

    def claim(self, job_id, lease, cancelled_error):
        def claim(db):
            row = db.execute("SELECT status, cancel_requested FROM jobs WHERE id = ?", (job_id,)).fetchone()
            if row is None or row["status"] not in (QUEUED, RUNNING):
                return None
            if row["status"] == RUNNING and row["cancel_requested"]:  # its worker died while it was being cancelled
                self._end(db, job_id, CANCELLED, "error", cancelled_error)
                return None
            db.execute("UPDATE jobs SET status = ?, started_at = ?, attempts = attempts + 1, owner = ? WHERE id = ?",
                       (RUNNING, time.time(), lease, job_id))
            return self._claimed(db, job_id)

        return self._db.transaction(claim)

    def get(self, job_id):
        return self._job(self._db.read_one(f"SELECT {_WITHOUT_INPUT} FROM jobs WHERE id = ?", (job_id,)))

    def list(self, limit, offset, library=None):
        where = "" if library is None else "WHERE library = ?"
        rows = self._db.read(
            f"SELECT {_WITHOUT_INPUT} FROM jobs {where}"
            f" ORDER BY created_at DESC, {self._db.insertion_order} DESC LIMIT ? OFFSET ?",
            (*(() if library is None else (library,)), limit, offset),
        )
        return [self._job(row) for row in rows]

    def set_progress(self, job_id, stage, done, total, lease=None):
        progress = json.dumps({"stage": stage, "done": done, "total": total})
        self._db.write("UPDATE jobs SET progress = ? WHERE id = ? AND owner = ?",
                       (progress, job_id, lease or self.owner))

    @staticmethod
    def _end(db, job_id: str, status: str, column: str, value: dict, lease: str | None = None) -> bool:
        # column is "result" or "error", chosen by our own code, never by a request. With a lease, only the worker
        # holding it may end the job: one that was presumed dead and came back cannot overwrite the new attempt.
        updated = db.execute(
            f"UPDATE jobs SET status = ?, {column} = ?, finished_at = ?, input = NULL WHERE id = ? AND status = ?"
            + (" AND owner = ?" if lease is not None else ""),
            (status, json.dumps(value), time.time(), job_id, RUNNING, *((lease,) if lease is not None else ())),
        ).rowcount
        if updated:
            db.execute("DELETE FROM checkpoints WHERE job_id = ?", (job_id,))
            db.execute("DELETE FROM job_claims WHERE job_id = ?", (job_id,))
        return bool(updated)

    def _finish(self, job_id: str, status: str, column: str, value: dict, lease: str | None) -> bool:
        return self._db.transaction(lambda db: self._end(db, job_id, status, column, value, lease or self.owner))

    def succeed(self, job_id, result, lease=None):
        return self._finish(job_id, SUCCEEDED, "result", result, lease)

    def fail(self, job_id, error, status=FAILED, lease=None):
        return self._finish(job_id, status, "error", error, lease)

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

        return self._job(self._db.transaction(cancel))

    def release(self, job_id, lease=None, enqueue=None):
        def release(db):
            released = db.execute(
                "UPDATE jobs SET status = ?, started_at = NULL, owner = NULL WHERE id = ? AND status = ? AND owner = ?",
                (QUEUED, job_id, RUNNING, lease or self.owner),
            ).rowcount
            if released and enqueue is not None:
                enqueue(db, job_id)
            return bool(released)

        return self._db.transaction(release)

    def enqueue(self, job_id, enqueue):
        def hand_over(db):
            if db.execute("SELECT 1 FROM jobs WHERE id = ? AND status = ?", (job_id, QUEUED)).fetchone():
                enqueue(db, job_id)

        self._db.transaction(hand_over)

    def requeue_interrupted(self, cancelled_error):
        def requeue(db):
            orphans = [
                row for row in db.execute("SELECT id, owner, cancel_requested FROM jobs WHERE status = ?",
                                          (RUNNING,)).fetchall()
                if self._owner_gone(row["owner"])
            ]
            for row in orphans:
                if row["cancel_requested"]:  # cancelled before its worker died: it stays cancelled
                    self._end(db, row["id"], CANCELLED, "error", cancelled_error)
                else:
                    db.execute("UPDATE jobs SET status = ?, started_at = NULL, owner = NULL WHERE id = ?",
                               (QUEUED, row["id"]))
            return sum(1 for row in orphans if not row["cancel_requested"])

        return self._db.transaction(requeue)

    def cached_result(self, request_key, max_age_s):
        return self._job(self._db.read_one(
            f"SELECT {_WITHOUT_INPUT} FROM jobs WHERE request_key = ? AND status = ? AND finished_at >= ?"
            " ORDER BY finished_at DESC LIMIT 1",
            (request_key, SUCCEEDED, time.time() - max_age_s),
        ))

    def queue_depth(self):
        return self._db.read_one("SELECT COUNT(*) FROM jobs WHERE status = ?", (QUEUED,))[0]

    def count_by_status(self):
        rows = self._db.read("SELECT status, COUNT(*) FROM jobs GROUP BY status")
        return dict.fromkeys(STATUSES, 0) | {row[0]: row[1] for row in rows}

    def purge(self, max_age_s):
        def purge(db):
            cutoff = time.time() - max_age_s
            purged = db.execute(
                f"DELETE FROM jobs WHERE status IN ({placeholders(FINISHED)}) AND finished_at < ?"
                f" AND NOT (status = ? AND task IN ({placeholders(KEPT_WITH_DOCUMENT)})"
                "  AND id IN (SELECT job_id FROM job_documents))",
                (*FINISHED, cutoff, SUCCEEDED, *KEPT_WITH_DOCUMENT),
            ).rowcount
            db.execute("DELETE FROM job_documents WHERE job_id NOT IN (SELECT id FROM jobs)")
            db.execute("DELETE FROM job_claims WHERE job_id NOT IN (SELECT id FROM jobs)")
            return purged

        return self._db.transaction(purge)

    def save_checkpoint(self, job_id, key, value):
        self._db.write(
            "INSERT INTO checkpoints (job_id, key, value) VALUES (?, ?, ?)"
            " ON CONFLICT (job_id, key) DO UPDATE SET value = excluded.value",
            (job_id, key, json.dumps(value)),
        )

    def load_checkpoints(self, job_id):
        rows = self._db.read("SELECT key, value FROM checkpoints WHERE job_id = ?", (job_id,))
        return {row["key"]: json.loads(row["value"]) for row in rows}

    def load_checkpoint(self, job_id, key):
        row = self._db.read_one("SELECT value FROM checkpoints WHERE job_id = ? AND key = ?", (job_id, key))
        return json.loads(row[0]) if row is not None else None

    def claim_piece(self, job_id, key, owner, alive):
        def claim(db) -> bool:
            if db.execute("INSERT INTO job_claims (job_id, key, owner) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                          (job_id, key, owner)).rowcount:
                return True
            claimant = db.execute("SELECT owner FROM job_claims WHERE job_id = ? AND key = ?",
                                  (job_id, key)).fetchone()[0]
            if claimant == owner:
                return True
            if alive(db, claimant):
                return False
            return bool(db.execute("UPDATE job_claims SET owner = ? WHERE job_id = ? AND key = ? AND owner = ?",
                                   (owner, job_id, key, claimant)).rowcount)

        return self._db.transaction(claim)

    def peek(self, job_id):
        return self._db.transaction(lambda db: self._claimed(db, job_id)
                                    if db.execute("SELECT 1 FROM jobs WHERE id = ?", (job_id,)).fetchone() else None)

    def save_file(self, job_id, content_type, source, size):
        def save(db):
            # The bytes go in a chunk at a time: never all of the file in memory.
            db.execute("DELETE FROM job_file_chunks WHERE job_id = ?", (job_id,))
            db.execute("INSERT INTO job_files (job_id, content_type, size) VALUES (?, ?, ?)"
                       " ON CONFLICT (job_id) DO UPDATE SET content_type = excluded.content_type,"
                       " size = excluded.size", (job_id, content_type, size))
            number = 0
            while chunk := source.read(FILE_CHUNK_BYTES):
                db.execute("INSERT INTO job_file_chunks (job_id, number, data) VALUES (?, ?, ?)",
                           (job_id, number, chunk))
                number += 1

        self._db.transaction(save)

    def load_file(self, job_id):
        row = self._db.read_one("SELECT content_type, size FROM job_files WHERE job_id = ?", (job_id,))
        if row is None:
            return None
        numbers = [found[0] for found in self._db.read(
            "SELECT number FROM job_file_chunks WHERE job_id = ? ORDER BY number", (job_id,))]

        def chunks():
            for number in numbers:  # one chunk per read, never held while it waits to be sent
                found = self._db.read_one("SELECT data FROM job_file_chunks WHERE job_id = ? AND number = ?",
                                          (job_id, number))
                if found is not None:
                    yield bytes(found[0])

        return StoredFile(row["content_type"], row["size"], chunks())


class SqliteJobStore(SqlJobStore):
    """Jobs in one SQLite file (WAL mode), the embedded default."""

    def __init__(self, path: Path):
        super().__init__(SqliteDatabase(path))
