"""PostgreSQL, the store of a deployment on several machines (DATABASE_URL=postgresql://...): a pool of psycopg 3
connections, the stores' SQL with its `?` placeholders made psycopg's, and the runner of the numbered migrations
(the same versions as SQLite's, in PostgreSQL's SQL)."""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
import psycopg_pool

from storage.database import Database
from storage.errors import SchemaTooNewError, StorageUnavailableError
from storage.schema import MIGRATIONS, Migration, load_migrations, too_new_message

log = logging.getLogger(__name__)
POSTGRES_MIGRATIONS = MIGRATIONS / "postgres"
# Any constant of our own: the advisory lock under which one process at a time applies migrations.
MIGRATION_LOCK = 0x646F6373  # "docs"
CONNECT_TIMEOUT_S = 5  # a database that does not answer in this time is unavailable (a 503), not a hang


class Row(tuple):
    """A row read by column name or by position, as SQLite's rows are."""

    __slots__ = ()
    _names: dict[str, int]

    def __getitem__(self, key):
        if isinstance(key, str):
            return super().__getitem__(self._names[key])
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        return list(self._names)


@functools.lru_cache(maxsize=256)
def _row_type(names: tuple[str, ...]) -> type[Row]:
    """One Row class per shape of result (the stores run a few dozen different queries)."""
    return type("Row", (Row,), {"__slots__": (), "_names": {name: index for index, name in enumerate(names)}})


def _row_factory(cursor: psycopg.Cursor):
    return _row_type(tuple(column.name for column in cursor.description or ()))


def _sql(statement: str) -> str:
    """A statement written with `?` placeholders (as SQLite takes them) in psycopg's `%s` style."""
    return statement.replace("%", "%%").replace("?", "%s")


class _Connection:
    """A psycopg connection that takes the stores' SQL."""

    def __init__(self, connection: psycopg.Connection):
        self._connection = connection
        self.raw = connection  # for a library that runs its own SQL in the same transaction (the task queue)

    def execute(self, sql: str, parameters: Sequence[Any] = ()):
        return self._connection.execute(_sql(sql), tuple(parameters))

    def executemany(self, sql: str, rows):
        rows = [tuple(row) for row in rows]
        if rows:
            with self._connection.cursor() as cursor:
                cursor.executemany(_sql(sql), rows)


@contextmanager
def _reachable():
    """Turn a lost or refused connection into StorageUnavailableError (a 503 that says to retry); the details,
    which may name hosts, go to the log only."""
    try:
        yield
    except (psycopg.OperationalError, psycopg_pool.PoolTimeout) as error:
        log.warning("database unavailable: %s", str(error).strip().splitlines()[0] if str(error).strip() else error)
        raise StorageUnavailableError("the database cannot be reached now; try again shortly") from error


class PostgresDatabase(Database):
    """A pool of connections to one PostgreSQL database, migrated to the newest schema when opened."""

    engine = "postgres"
    insertion_order = "seq"

    def __init__(self, url: str, *, pool_size: int = 10, migrate_schema: bool = True):
        self.url = url
        self._pool = psycopg_pool.ConnectionPool(
            url, min_size=1, max_size=max(2, pool_size), open=False, timeout=CONNECT_TIMEOUT_S,
            kwargs={"autocommit": True, "row_factory": _row_factory, "connect_timeout": CONNECT_TIMEOUT_S},
            # A connection broken by a database restart is found and replaced before it is handed out.
            check=psycopg_pool.ConnectionPool.check_connection, name="docservice",
        )
        with _reachable():
            self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_S * 2)
        if migrate_schema:
            try:
                self.migrate()
            except BaseException:
                self._pool.close()
                raise

    def migrate(self, migrations: list[Migration] | None = None) -> list[int]:
        """Apply, each in its own transaction, the migrations the database has not had yet (one process at a time:
        the others wait on an advisory lock, then find the versions done); returns the versions applied."""
        migrations = load_migrations(POSTGRES_MIGRATIONS) if migrations is None else migrations
        applied = []
        with _reachable(), self._pool.connection() as connection:
            for migration in migrations:
                with connection.transaction():
                    connection.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
                    connection.execute(
                        "CREATE TABLE IF NOT EXISTS schema_migrations"
                        " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DOUBLE PRECISION NOT NULL)"
                    )
                    newest = connection.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0]
                    if newest > len(migrations):
                        raise SchemaTooNewError(too_new_message(newest, len(migrations)))
                    if newest >= migration.version:
                        continue
                    connection.execute(migration.sql)
                    connection.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (%s, %s, %s)",
                                        (migration.version, migration.name, time.time()))
                    applied.append(migration.version)
        if applied:
            log.info("database schema brought to version %d (applied %s)", migrations[-1].version, applied)
        return applied

    def schema_version(self) -> int:
        """The newest schema version the database has had applied."""
        return self.read_one("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")[0]

    def transaction(self, callback):
        with _reachable(), self._pool.connection() as connection, connection.transaction():
            return callback(_Connection(connection))

    def read(self, sql, parameters=()):
        with _reachable(), self._pool.connection() as connection:
            return connection.execute(_sql(sql), tuple(parameters)).fetchall()

    def notify(self, channel: str, payload: str) -> None:
        """Send a notification to every connection that listens on the channel (delivered when it commits: now)."""
        self.read("SELECT pg_notify(?, ?)", (channel, payload))

    def listen(self, channel: str, on_message: Callable[[str], None], on_gap: Callable[[], None]) -> Listener:
        """Call on_message(payload) for each notification on the channel, from a thread with a connection of its
        own; after a connection was lost and made again, on_gap() (what was sent meanwhile is gone: re-read)."""
        return Listener(self.url, channel, on_message, on_gap)

    def close(self) -> None:
        self._pool.close()


class Listener:
    """A thread that LISTENs on one channel, reconnecting after the database goes away."""

    RETRY_S = 1.0

    def __init__(self, url: str, channel: str, on_message: Callable[[str], None], on_gap: Callable[[], None]):
        self._url, self._channel = url, channel
        self._on_message, self._on_gap = on_message, on_gap
        self._stop = threading.Event()
        self.listening = threading.Event()  # set while a connection listens
        self._thread = threading.Thread(target=self._run, name=f"listen-{channel}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S) as connection:
                    connection.execute(f'LISTEN "{self._channel}"')
                    self.listening.set()
                    self._on_gap()
                    while not self._stop.is_set():
                        for notification in connection.notifies(timeout=1.0):
                            self._on_message(notification.payload)
            except psycopg.Error as error:
                self.listening.clear()
                log.warning("listening for job changes stopped (%s); reconnecting", type(error).__name__)
                self._stop.wait(self.RETRY_S)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
