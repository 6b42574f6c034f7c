"""What the stores need from a database, whichever engine holds it: transactions, reads, and the few phrases in
which the engines' SQL differs. The stores write their SQL once, with `?` placeholders, for both engines."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from typing import Any, ClassVar, Protocol, TypeVar

Outcome = TypeVar("Outcome")


class Cursor(Protocol):
    """What a statement gives back: its rows (read by column name or position) and how many rows it changed."""

    rowcount: int

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...


class Connection(Protocol):
    """One connection inside a transaction."""

    def execute(self, sql: str, parameters: Sequence[Any] = ()) -> Cursor: ...

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> Any: ...


class Database(ABC):
    """A migrated database that several stores (jobs, the library) share."""

    engine: ClassVar[str]  # "sqlite" or "postgres"
    # A column that grows with every insert, to order rows made in the same instant.
    insertion_order: ClassVar[str]

    @abstractmethod
    def transaction(self, callback: Callable[[Connection], Outcome]) -> Outcome:
        """callback(connection) in one write transaction (rolled back if it raises); returns what it returns."""

    @abstractmethod
    def read(self, sql: str, parameters: Sequence[Any] = ()) -> list[Any]:
        """The rows of one query."""

    def read_one(self, sql: str, parameters: Sequence[Any] = ()) -> Any:
        """The first row of one query, or None."""
        rows = self.read(sql, parameters)
        return rows[0] if rows else None

    def write(self, sql: str, parameters: Sequence[Any] = ()) -> int:
        """One statement in a transaction of its own; returns how many rows it changed."""
        return self.transaction(lambda connection: connection.execute(sql, parameters).rowcount)

    @abstractmethod
    def close(self) -> None:
        """Release the database's connections."""


def placeholders(values: Iterable) -> str:
    """`?, ?, ?`: one placeholder per value."""
    return ", ".join("?" for _ in values)
