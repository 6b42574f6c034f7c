"""The document task: read an upload (or a text) once, with the same extraction, limits and refusals as every other
task, and keep it in the library with its pages and passages. It calls no model."""

from __future__ import annotations

import json
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from jobs.service import request_key
from library.paging import paginate
from library.store import NewPage, StoredDocument
from settings import LimitedBySettings
from tasks.base import Task, TaskWork, Timestamp, moment
from tasks.document import ReadingLimits, Received, check_text, from_file, from_text
from tasks.errors import InputError

MAX_TITLE_CHARS = 300
TITLE_FROM_TEXT_CHARS = 80  # a text sent without a title is named by its first words, up to this long

class DocumentOptions(LimitedBySettings):
    """Options of storing a document."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(None, min_length=1, max_length=MAX_TITLE_CHARS,
                              description="The document's title (default: the file's own title or name, or the "
                                          "text's first words).")


class DocumentInfo(BaseModel):
    """A stored document."""

    model_config = ConfigDict(extra="forbid")

    document_id: str
    title: str
    pages: int = Field(ge=1, description="Its pages: a PDF's own, or pages of about 3,000 characters of a text.")
    characters: int = Field(ge=0)
    created_at: Timestamp
    kind: str = Field(description="`pdf`, `text` (sent as JSON) or `file` (a text, Markdown, HTML or Word file).")
    filename: str | None = None
    ocr_pages: list[int] = Field(description="Pages read with OCR (their text may have recognition errors).")
    warnings: list[str] = Field(description="What went less than perfectly while reading it.")

    @classmethod
    def of(cls, document: StoredDocument) -> DocumentInfo:
        """A stored document as the API shows it."""
        return cls(document_id=document.id, title=document.title, pages=document.pages,
                   characters=document.characters, created_at=moment(document.created_at), kind=document.kind,
                   filename=document.filename, ocr_pages=document.ocr_pages, warnings=document.warnings)


class StoredResult(DocumentInfo):
    """What storing a document gave: the document, and whether the library already had it."""

    created: bool = Field(description="False: the same bytes (and pages) were stored before; this is that document.")


@dataclass(frozen=True)
class Upload:
    """What a request brought, kept in the job until it has been read: the bytes and how to read them."""

    data: bytes
    kind: str  # "file" or "text"
    filename: str | None = None
    content_type: str = ""
    pages: str | None = None
    password: str | None = None

    def encode(self) -> bytes:
        """The upload as the job stores it: a JSON header line, then the bytes as sent."""
        header = {"kind": self.kind, "filename": self.filename, "content_type": self.content_type,
                  "pages": self.pages, "password": self.password}
        return json.dumps(header).encode("utf-8") + b"\n" + self.data

    @classmethod
    def decode(cls, stored: bytes | None) -> Upload:
        """An upload a job stored."""
        header, _, data = (stored or b"{}\n").partition(b"\n")
        return cls(data=data, **json.loads(header))

    def source_key(self, library: str) -> str:
        """What identifies this upload in its library: the same bytes with the same pages are the same document."""
        return request_key("document", library, self.kind, self.pages or "", self.data)


def read_upload(upload: Upload, limits: ReadingLimits) -> Received:
    """Read an upload as every task reads documents: same extraction, limits and refusals."""
    if upload.kind == "text":
        return from_text(check_text(upload.data.decode("utf-8")), limits.max_chars)
    return from_file(upload.data, upload.filename or "upload", upload.content_type, pages=upload.pages,
                     password=upload.password, limits=limits.pdf, max_chars=limits.max_chars)


def _pages(received: Received) -> list[NewPage]:
    """A PDF's pages as read; a text cut into pages of about 3,000 characters."""
    if received.kind == "pdf":
        ocr = set(received.ocr_pages)
        return [NewPage(block.text, block.page in ocr) for block in received.document.blocks]
    text = "\n\n".join(block.text for block in received.document.blocks)
    return [NewPage(page) for page in paginate(text)]


def _title(options: DocumentOptions, received: Received, pages: list[NewPage]) -> str:
    if options.title:
        return options.title.strip()
    if received.title:
        return received.title[:MAX_TITLE_CHARS]
    if received.filename:
        return received.filename[:MAX_TITLE_CHARS]
    first = " ".join(pages[0].text.split()) if pages else ""
    if len(first) <= TITLE_FROM_TEXT_CHARS:
        return first or "Untitled"
    return first[:TITLE_FROM_TEXT_CHARS].rsplit(" ", 1)[0] + "…"


def run(work: TaskWork, upload: Upload, options: DocumentOptions) -> StoredResult:
    """Read the upload and store it in the job's library (or find the same upload stored before)."""
    work.progress("reading", 0, 1)
    received = read_upload(upload, work.reading_limits)
    pages = _pages(received)
    if not pages:
        raise InputError("the document has no text to store")
    work.progress("indexing", 0, 1)
    document, created = work.library.add(
        work.library_name, title=_title(options, received, pages), source_key=upload.source_key(work.library_name),
        kind=received.kind, filename=received.filename, pages=pages, warnings=list(received.document.warnings),
    )
    work.progress("indexing", 1, 1)
    return StoredResult(**DocumentInfo.of(document).model_dump(), created=created)


DOCUMENT = Task(name="document", title="Document", options=DocumentOptions, result=StoredResult, run=run,
                read_input=Upload.decode, uses_model=False)
