"""Numbered migrations: each schema version is one plain SQL file, `migrations/<engine>/NNNN_<what>.sql`. Both
engines have the same versions (the same numbers and names), each written in its own SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_FILE_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True)
class Migration:
    """One schema version: its number, its name and the SQL that makes it."""

    version: int
    name: str
    sql: str


def load_migrations(folder: Path) -> list[Migration]:
    """The migrations in a folder, in order; their numbers must run 1, 2, 3... with no gap or repeat."""
    found = []
    for path in sorted(folder.glob("*.sql")):
        match = _FILE_NAME.match(path.name)
        if match is None:
            raise ValueError(f"migration file {path.name} is not named NNNN_name.sql")
        found.append(Migration(int(match.group(1)), match.group(2), path.read_text(encoding="utf-8")))
    numbers = [migration.version for migration in found]
    if numbers != list(range(1, len(found) + 1)):
        raise ValueError(f"migrations in {folder.name} must be numbered 1, 2, 3... without gaps; found {numbers}")
    return found


def too_new_message(found: int, known: int) -> str:
    """What a service says of a database made by a newer version of it."""
    return (f"the database has schema version {found}, but this version of the service knows only up to {known}: "
            "run the newer service, or restore a backup made for this one")
