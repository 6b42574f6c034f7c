"""Full-text search, the one place where the two databases differ in kind: SQLite's FTS5 (BM25, Porter stems) and
PostgreSQL's tsvector with a GIN index (ts_rank, English Snowball stems). Each builds the same three queries from
plain words, so retrieval (library/search.py) never writes an engine's query syntax."""

from __future__ import annotations

from abc import ABC, abstractmethod

from storage.database import placeholders

Query = tuple[str, tuple]  # SQL with `?` placeholders, and its parameters


class FullText(ABC):
    """The queries of one engine's text search."""

    @abstractmethod
    def ranked_passages(self, document_ids: list[str], terms: list[str], limit: int) -> Query:
        """Passages (id, document_id, page, text, score: higher is better) of these documents holding any of the
        terms, best first."""

    @abstractmethod
    def passages_holding(self, document_ids: list[str], term: str) -> Query:
        """How many passages of these documents hold the term."""

    @abstractmethod
    def documents_holding(self, library: str, words: list[str], order: str, limit: int, offset: int) -> Query:
        """The library's documents whose title or text holds every word, newest first."""


def _phrase(term: str) -> str:
    """A term as an FTS5 string (quoted, so no word is read as an operator)."""
    return '"' + term.replace('"', '""') + '"'


class Fts5(FullText):
    """SQLite: the FTS5 tables passages_index and titles_index (migration 3)."""

    def ranked_passages(self, document_ids, terms, limit):
        # CROSS JOIN keeps the index match as the outer loop: the other order evaluates the match once per passage.
        return (
            "SELECT passages.id, passages.document_id, passages.page, passages.text,"
            " -bm25(passages_index) AS score FROM passages_index CROSS JOIN passages"
            " ON passages.id = passages_index.rowid"
            f" WHERE passages_index MATCH ? AND passages.document_id IN ({placeholders(document_ids)})"
            " ORDER BY score DESC LIMIT ?",
            (" OR ".join(_phrase(term) for term in terms), *document_ids, limit),
        )

    def passages_holding(self, document_ids, term):
        return (
            "SELECT COUNT(*) FROM passages_index CROSS JOIN passages ON passages.id = passages_index.rowid"
            f" WHERE passages_index MATCH ? AND passages.document_id IN ({placeholders(document_ids)})",
            (_phrase(term), *document_ids),
        )

    def documents_holding(self, library, words, order, limit, offset):
        every_word = " ".join(_phrase(word) for word in words)
        return (
            "SELECT * FROM documents WHERE library = ? AND ("
            " rowid IN (SELECT rowid FROM titles_index WHERE titles_index MATCH ?)"
            " OR id IN (SELECT passages.document_id FROM passages_index CROSS JOIN passages"
            "           ON passages.id = passages_index.rowid WHERE passages_index MATCH ?))"
            f" ORDER BY {order} LIMIT ? OFFSET ?",
            (library, every_word, every_word, limit, offset),
        )


class PostgresText(FullText):
    """PostgreSQL: the passages' `words` tsvector and the index on the titles' (migration 3). A term becomes
    plainto_tsquery (never an operator); `||` joins terms with OR."""

    def ranked_passages(self, document_ids, terms, limit):
        any_term = " || ".join("plainto_tsquery('english', ?)" for _ in terms)
        return (
            "SELECT id, document_id, page, text, ts_rank(words, query) AS score"
            f" FROM passages, (SELECT {any_term} AS query) AS asked"
            f" WHERE words @@ query AND document_id IN ({placeholders(document_ids)})"
            " ORDER BY score DESC, id LIMIT ?",
            (*terms, *document_ids, limit),
        )

    def passages_holding(self, document_ids, term):
        return (
            "SELECT COUNT(*) FROM passages WHERE words @@ plainto_tsquery('english', ?)"
            f" AND document_id IN ({placeholders(document_ids)})",
            (term, *document_ids),
        )

    def documents_holding(self, library, words, order, limit, offset):
        every_word = " ".join(words)
        return (
            "SELECT * FROM documents WHERE library = ? AND ("
            " to_tsvector('english', title) @@ plainto_tsquery('english', ?)"
            " OR id IN (SELECT document_id FROM passages WHERE words @@ plainto_tsquery('english', ?)))"
            f" ORDER BY {order} LIMIT ? OFFSET ?",
            (library, every_word, every_word, limit, offset),
        )


def full_text_for(engine: str) -> FullText:
    """The text search of a database engine ("sqlite" or "postgres")."""
    return PostgresText() if engine == "postgres" else Fts5()
