"""The library's storage: documents, their pages and passages, the full-text index over them, and collections, in
the service's database (the jobs live in the same one: SQLite by default, PostgreSQL on several machines). Every read
and write names its library, so one key never reaches another's documents."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from library.errors import CollectionNotFoundError, DocumentNotFoundError
from library.fulltext import full_text_for
from library.paging import passages
from storage.database import Database, placeholders


@dataclass(frozen=True)
class StoredDocument:
    """A document as the library keeps it (without its pages)."""

    id: str
    library: str
    title: str
    kind: str  # pdf, text (sent in a body) or file (a text, Markdown, HTML or Word file)
    filename: str | None
    pages: int
    characters: int
    warnings: list[str]
    created_at: float
    ocr_pages: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class StoredPage:
    """One page's clean text, as read."""

    number: int
    text: str
    ocr: bool = False


@dataclass(frozen=True)
class Passage:
    """A few sentences of one page, as retrieval found them (score: BM25, higher is better)."""

    id: int
    document_id: str
    page: int
    text: str
    score: float = 0.0


@dataclass(frozen=True)
class Collection:
    """A named set of documents with the instructions added to every question about them."""

    name: str
    document_ids: list[str]
    instructions: str
    created_at: float
    updated_at: float


@dataclass(frozen=True)
class NewPage:
    """A page to store."""

    text: str
    ocr: bool = False


class LibraryStore:
    """Documents and collections in a database, safe to share between the threads (and, on PostgreSQL, the
    processes) that use it."""

    def __init__(self, database: Database):
        self._db = database
        self._full_text = full_text_for(database.engine)
        self._newest_first = f"created_at DESC, {database.insertion_order} DESC"

    def close(self) -> None:
        """Close the database."""
        self._db.close()

    def _read(self, sql: str, parameters: tuple = ()) -> list:
        return self._db.read(sql, parameters)

    def _transaction(self, callback):
        return self._db.transaction(callback)

    @staticmethod
    def _document(row, ocr_pages: list[int] | None = None) -> StoredDocument:
        return StoredDocument(
            id=row["id"], library=row["library"], title=row["title"], kind=row["kind"], filename=row["filename"],
            pages=row["pages"], characters=row["characters"], warnings=json.loads(row["warnings"]),
            created_at=row["created_at"], ocr_pages=ocr_pages or [],
        )

    # Documents

    def find(self, library: str, source_key: str) -> StoredDocument | None:
        """The library's document made from the same bytes and page range, if there is one."""
        rows = self._read("SELECT * FROM documents WHERE library = ? AND source_key = ?", (library, source_key))
        return self._document(rows[0]) if rows else None

    def add(self, library: str, *, title: str, source_key: str, kind: str, filename: str | None,
            pages: list[NewPage], warnings: list[str]) -> tuple[StoredDocument, bool]:
        """Store a document with its pages and their passages (indexed in the same transaction); returns it and
        whether it is new (False: the library already had the same upload, which is returned instead)."""
        document_id = uuid.uuid4().hex

        def insert(db):
            existing = db.execute("SELECT id FROM documents WHERE library = ? AND source_key = ?",
                                  (library, source_key)).fetchone()
            if existing is not None:
                return existing["id"], False
            db.execute(
                "INSERT INTO documents (id, library, title, source_key, kind, filename, pages, characters, warnings,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (document_id, library, title, source_key, kind, filename, len(pages),
                 sum(len(page.text) for page in pages), json.dumps(warnings), time.time()),
            )
            db.executemany(
                "INSERT INTO document_pages (document_id, number, text, ocr) VALUES (?, ?, ?, ?)",
                [(document_id, number, page.text, int(page.ocr)) for number, page in enumerate(pages, start=1)],
            )
            db.executemany(
                "INSERT INTO passages (document_id, page, position, text) VALUES (?, ?, ?, ?)",
                [(document_id, number, position, text)
                 for number, page in enumerate(pages, start=1)
                 for position, text in enumerate(passages(page.text))],
            )
            return document_id, True

        stored_id, created = self._transaction(insert)
        return self.get(library, stored_id), created

    def get(self, library: str, document_id: str) -> StoredDocument:
        """A document of the library; raises DocumentNotFoundError."""
        rows = self._read("SELECT * FROM documents WHERE library = ? AND id = ?", (library, document_id))
        if not rows:
            raise DocumentNotFoundError(f"no document {document_id[:64]!r}: it never existed or was deleted")
        ocr = [row[0] for row in self._read(
            "SELECT number FROM document_pages WHERE document_id = ? AND ocr = 1 ORDER BY number", (document_id,)
        )]
        return self._document(rows[0], ocr)

    def require(self, library: str, document_ids: Iterable[str]) -> None:
        """Raise DocumentNotFoundError naming the first of these documents the library does not have."""
        wanted = list(dict.fromkeys(document_ids))
        found = {row[0] for row in self._read(
            f"SELECT id FROM documents WHERE library = ? AND id IN ({placeholders(wanted)})", (library, *wanted)
        )}
        for document_id in wanted:
            if document_id not in found:
                raise DocumentNotFoundError(f"no document {document_id[:64]!r}: it never existed or was deleted")

    def list(self, library: str, limit: int, offset: int, words: list[str] | None = None) -> list[StoredDocument]:
        """The library's documents, newest first; with words, only those whose title or text holds every one."""
        if not words:
            rows = self._read(
                f"SELECT * FROM documents WHERE library = ? ORDER BY {self._newest_first} LIMIT ? OFFSET ?",
                (library, limit, offset),
            )
        else:
            rows = self._read(*self._full_text.documents_holding(library, words, self._newest_first, limit, offset))
        return [self._document(row) for row in rows]

    def page(self, library: str, document_id: str, number: int) -> StoredPage:
        """One page of a document; raises DocumentNotFoundError for the document or the page."""
        document = self.get(library, document_id)
        rows = []
        if 1 <= number <= document.pages:  # any other number is no page (and may not even fit SQLite's integers)
            rows = self._read("SELECT number, text, ocr FROM document_pages WHERE document_id = ? AND number = ?",
                              (document_id, number))
        if not rows:
            raise DocumentNotFoundError(
                f"document {document_id[:64]!r} has no page {number}: its pages are 1 to {document.pages}"
            )
        return StoredPage(rows[0]["number"], rows[0]["text"], bool(rows[0]["ocr"]))

    def pages(self, library: str, document_id: str) -> list[StoredPage]:
        """Every page of a document, in order; raises DocumentNotFoundError."""
        self.get(library, document_id)
        return [StoredPage(row["number"], row["text"], bool(row["ocr"])) for row in self._read(
            "SELECT number, text, ocr FROM document_pages WHERE document_id = ? ORDER BY number", (document_id,)
        )]

    def page_texts(self, document_pages: Iterable[tuple[str, int]]) -> dict[tuple[str, int], str]:
        """The stored text of these (document, page) pairs (the ones that still exist)."""
        texts = {}
        for document_id, number in set(document_pages):
            rows = self._read("SELECT text FROM document_pages WHERE document_id = ? AND number = ?",
                              (document_id, number))
            if rows:
                texts[(document_id, number)] = rows[0][0]
        return texts

    def rename(self, library: str, document_id: str, title: str) -> StoredDocument:
        """Give a document a new title; raises DocumentNotFoundError."""
        def rename(db):
            return db.execute("UPDATE documents SET title = ? WHERE library = ? AND id = ?",
                              (title, library, document_id)).rowcount

        if not self._transaction(rename):
            raise DocumentNotFoundError(f"no document {document_id[:64]!r}: it never existed or was deleted")
        return self.get(library, document_id)

    def delete(self, library: str, document_id: str) -> None:
        """Delete a document with its pages, passages, index entries, collection memberships, and every finished
        job that read it (its results); raises DocumentNotFoundError. A job still waiting or running for it ends
        with DocumentDeletedError when it looks (tasks/executor.py)."""
        def delete(db):
            if not db.execute("DELETE FROM documents WHERE library = ? AND id = ?", (library, document_id)).rowcount:
                return False
            db.execute(
                "DELETE FROM jobs WHERE status IN ('succeeded', 'failed', 'cancelled')"
                " AND id IN (SELECT job_id FROM job_documents WHERE document_id = ?)", (document_id,),
            )
            db.execute("DELETE FROM job_documents WHERE document_id = ?"
                       " AND job_id NOT IN (SELECT id FROM jobs)", (document_id,))
            return True

        if not self._transaction(delete):
            raise DocumentNotFoundError(f"no document {document_id[:64]!r}: it never existed or was deleted")

    def results(self, library: str, document_id: str, tasks: Iterable[str]) -> list[tuple[str, dict, dict, float]]:
        """The finished results of these tasks made from one document: (task, options, result, finished_at),
        newest first."""
        wanted = list(tasks)
        rows = self._read(
            "SELECT task, options, result, finished_at FROM jobs"
            f" WHERE library = ? AND status = 'succeeded' AND task IN ({placeholders(wanted)})"
            " AND id IN (SELECT job_id FROM job_documents WHERE document_id = ?) ORDER BY finished_at DESC",
            (library, *wanted, document_id),
        )
        return [(row["task"], json.loads(row["options"]), json.loads(row["result"]), row["finished_at"])
                for row in rows]

    # Retrieval

    def search(self, document_ids: list[str], terms: list[str], limit: int) -> list[Passage]:
        """The passages of these documents that best match any of the terms, best first."""
        rows = self._read(*self._full_text.ranked_passages(document_ids, terms, limit))
        return [Passage(row["id"], row["document_id"], row["page"], row["text"], row["score"]) for row in rows]

    def passage_counts(self, document_ids: list[str], terms: list[str]) -> tuple[int, list[int]]:
        """How many passages these documents have, and how many of them hold each term (for term weights)."""
        total = self._read(f"SELECT COUNT(*) FROM passages WHERE document_id IN ({placeholders(document_ids)})",
                           tuple(document_ids))[0][0]
        counts = [self._read(*self._full_text.passages_holding(document_ids, term))[0][0] for term in terms]
        return total, counts

    def opening(self, document_id: str, limit: int) -> list[Passage]:
        """A document's first passages, in reading order."""
        rows = self._read("SELECT id, document_id, page, text FROM passages WHERE document_id = ?"
                          " ORDER BY page, position LIMIT ?", (document_id, limit))
        return [Passage(row["id"], row["document_id"], row["page"], row["text"]) for row in rows]

    # Collections

    def put_collection(self, library: str, name: str, document_ids: list[str], instructions: str) -> tuple[
            Collection, bool]:
        """Create or replace a collection; raises DocumentNotFoundError for a document the library lacks. Returns
        the collection and whether it is new."""
        self.require(library, document_ids)
        now = time.time()

        def put(db):
            created = db.execute("SELECT 1 FROM collections WHERE library = ? AND name = ?",
                                 (library, name)).fetchone() is None
            db.execute(
                "INSERT INTO collections (library, name, instructions, created_at, updated_at) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (library, name) DO UPDATE SET instructions = excluded.instructions,"
                " updated_at = excluded.updated_at", (library, name, instructions, now, now),
            )
            db.execute("DELETE FROM collection_documents WHERE library = ? AND name = ?", (library, name))
            db.executemany(
                "INSERT INTO collection_documents (library, name, document_id, position) VALUES (?, ?, ?, ?)",
                [(library, name, document_id, position)
                 for position, document_id in enumerate(dict.fromkeys(document_ids))],
            )
            return created

        created = self._transaction(put)
        return self.collection(library, name), created

    def collection(self, library: str, name: str) -> Collection:
        """A collection of the library; raises CollectionNotFoundError."""
        rows = self._read("SELECT * FROM collections WHERE library = ? AND name = ?", (library, name))
        if not rows:
            raise CollectionNotFoundError(f"no collection {name[:64]!r}")
        members = [row[0] for row in self._read(
            "SELECT document_id FROM collection_documents WHERE library = ? AND name = ? ORDER BY position",
            (library, name),
        )]
        row = rows[0]
        return Collection(row["name"], members, row["instructions"], row["created_at"], row["updated_at"])

    def collections(self, library: str) -> list[Collection]:
        """The library's collections, by name."""
        names = [row[0] for row in self._read("SELECT name FROM collections WHERE library = ? ORDER BY name",
                                              (library,))]
        return [self.collection(library, name) for name in names]

    def delete_collection(self, library: str, name: str) -> None:
        """Delete a collection (not its documents); raises CollectionNotFoundError."""
        def delete(db):
            return db.execute("DELETE FROM collections WHERE library = ? AND name = ?", (library, name)).rowcount

        if not self._transaction(delete):
            raise CollectionNotFoundError(f"no collection {name[:64]!r}")
