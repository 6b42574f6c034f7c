"""A document as a job keeps it: its text in blocks with their pages, and what reading it found."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from llm import TextBlock


@dataclass(frozen=True)
class Document:
    """The text a task works on, in blocks (one per page for PDFs), with the pages used and reading warnings."""

    blocks: list[TextBlock]
    page_count: int | None = None  # pages used, for PDFs
    warnings: list[str] = field(default_factory=list)

    def encode(self) -> bytes:
        """The document as a job stores it."""
        return json.dumps(
            {"blocks": [[block.text, block.page] for block in self.blocks], "pages": self.page_count,
             "warnings": self.warnings}
        ).encode("utf-8")

    @classmethod
    def decode(cls, data: bytes | None) -> Document:
        """A document a job stored."""
        stored = json.loads(data or b"{}")
        return cls([TextBlock(text, page) for text, page in stored.get("blocks", [])], stored.get("pages"),
                   list(stored.get("warnings", [])))


@dataclass(frozen=True)
class Received:
    """A document as a request brought it, with what identifies and describes the upload."""

    document: Document
    raw: bytes  # the bytes the user sent: with the task, model and options they identify the request
    kind: str = "text"  # text (in the body), file (a text file) or pdf
    filename: str | None = None
    pages_asked: str | None = None  # the page range asked of a PDF
