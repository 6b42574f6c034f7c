"""The data store: one database for jobs and the library, whose schema grows by numbered migrations.

The embedded default is one SQLite file under DATA_DIR (storage/sqlite.py); DATABASE_URL names a PostgreSQL that
several machines share instead (storage/postgres.py). Each schema version is one plain SQL file per engine,
`migrations/<engine>/NNNN_<what>.sql` (storage/schema.py); a database records the versions it has had applied in its
`schema_migrations` table, so an old database is brought up to date when it is opened.
"""

from __future__ import annotations

from pathlib import Path

from storage.database import Database

SQLITE_FILE_NAME = "jobs.sqlite3"  # jobs and the library share one file (one backup)


def open_database(data_dir: Path, database_url: str | None = None, *, pool_size: int = 10) -> Database:
    """The service's database, migrated to the newest schema: PostgreSQL at database_url, or the SQLite file in
    data_dir."""
    if database_url:
        from storage.postgres import PostgresDatabase  # psycopg is loaded only where PostgreSQL is used

        return PostgresDatabase(database_url, pool_size=pool_size)
    from storage.sqlite import SqliteDatabase

    return SqliteDatabase(data_dir / SQLITE_FILE_NAME)
