"""The embedded database: one SQLite file (WAL mode), the default, and the runner of its numbered migrations."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from pathlib import Path

from storage.database import Database
from storage.errors import SchemaTooNewError
from storage.schema import MIGRATIONS, Migration, load_migrations, too_new_message

log = logging.getLogger(__name__)
SQLITE_MIGRATIONS = MIGRATIONS / "sqlite"
LOCK_TIMEOUT_S = 30.0  # how long a connection waits for another one's write lock


def _statements(sql: str) -> list[str]:
    """The statements of a script, one by one (executescript would commit the open transaction)."""
    statements, buffer = [], ""
    for line in sql.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            statements.append(buffer.strip())
            buffer = ""
    if buffer.strip() and not all(line.strip().startswith("--") for line in buffer.strip().splitlines()):
        raise ValueError(f"unterminated SQL statement: {buffer.strip()[:60]!r}")
    return statements


def _columns(db: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in db.execute(f"PRAGMA table_info({table})")}


def _adopt_unversioned(db: sqlite3.Connection) -> None:
    """A database made before migrations were numbered holds the jobs table of its day: give it the columns that
    version 1 has and it lacks, so that version 1 finds what it expects."""
    columns = _columns(db, "jobs")
    if not columns:
        return
    if "owner" not in columns:  # jobs gained owners after their table was first made
        db.execute("ALTER TABLE jobs ADD COLUMN owner TEXT")
    if "shared" not in columns:
        db.execute("ALTER TABLE jobs ADD COLUMN shared INTEGER NOT NULL DEFAULT 0")


def migrate(db: sqlite3.Connection, migrations: list[Migration] | None = None) -> list[int]:
    """Apply, in order and each in its own transaction, the migrations the database has not had yet; returns the
    versions applied. Two processes opening the same file at once apply each version once."""
    migrations = load_migrations(SQLITE_MIGRATIONS) if migrations is None else migrations
    db.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations"
        " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at REAL NOT NULL)"
    )
    newest = schema_version(db)
    if newest > len(migrations):
        raise SchemaTooNewError(too_new_message(newest, len(migrations)))
    applied = []
    for migration in migrations:
        db.execute("BEGIN IMMEDIATE")  # holds the write lock: another process waits, then finds the version done
        try:
            done = db.execute("SELECT 1 FROM schema_migrations WHERE version = ?", (migration.version,)).fetchone()
            if not done:
                if migration.version == 1:
                    _adopt_unversioned(db)
                for statement in _statements(migration.sql):
                    db.execute(statement)
                db.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                           (migration.version, migration.name, time.time()))
                applied.append(migration.version)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    if applied:
        log.info("database schema brought to version %d (applied %s)", migrations[-1].version, applied)
    return applied


def _use_wal(db: sqlite3.Connection) -> None:
    """Switch to write-ahead logging. SQLite does not wait for a lock to switch the journal mode, so two processes
    opening a new file at once (two gunicorn workers) retry here instead of failing."""
    deadline = time.monotonic() + LOCK_TIMEOUT_S
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def open_database(path: Path) -> sqlite3.Connection:
    """The database at path (created if missing), in WAL mode, migrated to the newest schema; rows read by name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=LOCK_TIMEOUT_S)
    try:
        db.row_factory = sqlite3.Row
        _use_wal(db)
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("PRAGMA foreign_keys=ON")  # a deleted document takes its pages, passages and memberships along
        migrate(db)
    except BaseException:
        db.close()
        raise
    return db


def schema_version(db: sqlite3.Connection) -> int:
    """The newest schema version the database has had applied (0 for one made before migrations)."""
    try:
        return db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()[0] or 0
    except sqlite3.OperationalError:
        return 0


class SqliteDatabase(Database):
    """One SQLite connection shared by the threads of a process: every use holds the lock, every write is one
    transaction."""

    engine = "sqlite"
    insertion_order = "rowid"

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.RLock()
        self._db = open_database(path)  # migrated to the newest schema

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def transaction(self, callback):
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                outcome = callback(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return outcome

    def read(self, sql, parameters=()):
        with self._lock:
            return self._db.execute(sql, parameters).fetchall()
