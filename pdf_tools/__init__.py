"""PDF to text: bytes in, pages of text out, no Flask inside."""

from __future__ import annotations

from dataclasses import dataclass

from pdf_tools import ocr
from pdf_tools.errors import EmptyFileError, NotAPdfError
from pdf_tools.extract import OCR_MISSING, OCR_OFF, OCR_ON, Document, PageText, read_document
from pdf_tools.ocr import ocr_available
from pdf_tools.sandbox import run_isolated

__all__ = ["Document", "Limits", "PageText", "is_pdf", "ocr_available", "read_pdf"]


@dataclass(frozen=True)
class Limits:
    """Bounds on the work one document may cost."""

    max_pages: int = 2000
    timeout_s: float = 120.0
    page_timeout_s: float = 15.0
    memory_mb: int = 2048
    ocr: bool = True  # read pages without a text layer with OCR, where it is installed (ocr_available())
    ocr_page_timeout_s: float = 30.0  # a page takes 1-3 s on 2 cores; a slower one is skipped


def is_pdf(data: bytes) -> bool:
    """Whether the bytes start like a PDF (readers accept the header within the first kilobyte)."""
    return b"%PDF-" in data[:1024]


def _has_pdf_objects(data: bytes) -> bool:
    return b"obj" in data or b"xref" in data


def read_pdf(data: bytes, *, password: str | None = None, pages: str | None = None,
             limits: Limits = Limits()) -> Document:
    """The usable pages of a PDF, read in an isolated child process within the limits."""
    if not data:
        raise EmptyFileError("the file is empty")
    if not is_pdf(data):
        raise NotAPdfError("this file is not a PDF")
    if not _has_pdf_objects(data):
        raise NotAPdfError("this file is not a PDF: it starts like one but holds no PDF content")
    # Checked here, once per server process (it is cached), rather than in every reader child.
    ocr_state = OCR_OFF if not limits.ocr else OCR_ON if ocr.ocr_available() else OCR_MISSING
    return run_isolated(
        read_document, data, password=password, pages=pages, max_pages=limits.max_pages,
        page_timeout_s=limits.page_timeout_s, ocr=ocr_state, ocr_page_timeout_s=limits.ocr_page_timeout_s,
        budget_s=limits.timeout_s, timeout_s=limits.timeout_s, memory_mb=limits.memory_mb,
    )
