"""A document as a task reads it: from a text or an uploaded file (PDF, .txt, .md, .html, .docx), into blocks with
their pages, and as a job keeps it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import PurePath

from llm import TextBlock, blocks_from_text
from llm.cleanup import words
from pdf_tools import Limits, is_pdf, read_pdf
from tasks.errors import InputError, TextTooLongError, UnsupportedFileError
from tasks.formats import DOCX_SUFFIX, HTML_SUFFIXES, docx_text, html_text, looks_like_docx, looks_like_html

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}


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
class ReadingLimits:
    """The bounds on reading a document: the PDF limits and MAX_TEXT_CHARS (Settings.reading_limits())."""

    pdf: Limits
    max_chars: int


@dataclass(frozen=True)
class Received:
    """A document as a request brought it, with what identifies and describes the upload."""

    document: Document
    raw: bytes  # the bytes the user sent: with the task, model and options they identify the request
    kind: str = "text"  # text (in the body), file (a text, Markdown, HTML or Word file) or pdf
    filename: str | None = None
    pages_asked: str | None = None  # the page range asked of a PDF
    title: str | None = None  # the title the file gives itself (HTML <title>, a Word document's title)
    ocr_pages: tuple[int, ...] = ()  # pages of a PDF read with OCR


def check_text(text: str) -> str:
    """The text of a request, if it is one a task can read (it has words, and no broken Unicode)."""
    if not text.strip():
        raise InputError("'text' must not be empty")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError("'text' contains invalid Unicode (unpaired surrogate characters)") from None
    if not words(text):
        raise InputError("'text' has no words to summarize")
    return text


def _check_length(text: str, max_chars: int) -> None:
    if len(text) > max_chars:
        raise TextTooLongError(
            f"the text has {len(text):,} characters; the limit is {max_chars:,} (MAX_TEXT_CHARS)"
        )


def from_text(text: str, max_chars: int) -> Received:
    """A text sent in the request."""
    _check_length(text, max_chars)
    return Received(Document(blocks_from_text(text)), raw=text.encode("utf-8"))


def _decode_text_file(data: bytes, name: str) -> str:
    for bom, encoding in ((b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"), (b"\xef\xbb\xbf", "utf-8-sig")):
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise UnsupportedFileError(f"{name} is not readable {encoding} text") from None
    if b"\x00" in data:
        raise UnsupportedFileError(f"{name} is not a text file (it contains binary data)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise UnsupportedFileError(f"{name} is not readable text in any known encoding")
    return str(best)


def from_file(data: bytes, name: str, content_type: str, *, pages: str | None, password: str | None,
              limits: Limits, max_chars: int) -> Received:
    """An uploaded file: a PDF read page by page (within the limits), or a text file read as text."""
    if not data:
        raise InputError(f"the file {name} is empty")
    suffix = PurePath(name).suffix.lower()
    # A text file that merely mentions "%PDF-" is still text: for text names, only a real header counts.
    if is_pdf(data) and (suffix not in TEXT_SUFFIXES or data.lstrip()[:5] == b"%PDF-"):
        pdf = read_pdf(data, password=password, pages=pages, limits=limits)
        _check_length("".join(page.text for page in pdf.pages), max_chars)
        blocks = [TextBlock(page.text, page.number) for page in pdf.pages]
        ocr_pages = tuple(page.number for page in pdf.pages if getattr(page, "ocr", False))
        return Received(Document(blocks, len(pdf.pages), list(pdf.warnings)), data, "pdf", name, pages,
                        ocr_pages=ocr_pages)
    title = None
    if suffix == DOCX_SUFFIX or looks_like_docx(data):
        text, title = docx_text(data, name) if looks_like_docx(data) else _not_docx(name)
    elif suffix in HTML_SUFFIXES or content_type in ("text/html", "application/xhtml+xml") or (
            suffix not in TEXT_SUFFIXES and looks_like_html(data)):
        text, title = html_text(_decode_text_file(data, name))
    elif suffix in TEXT_SUFFIXES or (content_type.startswith("text/") and suffix not in (".pdf",)):
        text = _decode_text_file(data, name)
    elif suffix == ".pdf" or content_type == "application/pdf":
        raise UnsupportedFileError(f"{name} is not a PDF, whatever its name says: its content is not PDF data")
    else:
        raise UnsupportedFileError(f"{name}: only PDF, .txt, .md, .html and .docx files are accepted")
    if pages or password:
        raise InputError("'pages' and 'password' apply only to PDF files")
    if not text.strip():
        raise InputError(f"the file {name} has no text")
    _check_length(text, max_chars)
    return Received(Document(blocks_from_text(text)), raw=data, kind="file", filename=name, title=title)


def _not_docx(name: str):
    raise UnsupportedFileError(f"{name} is not a Word (.docx) document, whatever its name says")
