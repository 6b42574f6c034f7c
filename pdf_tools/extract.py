"""Read the pages of a PDF with pypdf: decryption, page selection, per-page time limits, skipped-page reasons; pages
without a text layer are read with OCR (pdf_tools.ocr) when it is on."""

from __future__ import annotations

import io
import itertools
import logging
import signal
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from pypdf import PasswordType, PdfReader
from pypdf.errors import FileNotDecryptedError, PdfReadError, PyPdfError

from pdf_tools.errors import (
    GarbledTextError,
    NoTextError,
    PasswordIncorrectError,
    PasswordRequiredError,
    TooComplexError,
    TooManyPagesError,
    UnreadableError,
)
from pdf_tools.ocr import NOT_INSTALLED, SWITCHED_OFF, OcrFailed, OcrTimeout, PageReader
from pdf_tools.quality import is_garbled
from pdf_tools.ranges import describe_pages, parse_pages
from pdf_tools.textclean import clean_pages

# pypdf logs every recoverable oddity of a broken file; the outcome is reported to the user instead.
logging.getLogger("pypdf").setLevel(logging.ERROR)
log = logging.getLogger(__name__)

NO_TEXT = "no text layer"
GARBLED = "garbled text"
TOO_SLOW = "too slow to read"
BROKEN = "unreadable"
OCR_FOUND_NOTHING = "no text layer, and no text found by OCR"
OCR_TOO_SLOW = "too slow to read with OCR"
OCR_FAILED = "could not be read with OCR"
OCR_NO_TIME = "no text layer, and no time left for OCR"
# How OCR stands for one document: read pages with it, or say why not when a scan is refused.
OCR_ON, OCR_OFF, OCR_MISSING = "on", "off", "missing"
# OCR stops this long before the document's deadline, so the reader can still answer with the pages it has.
DEADLINE_MARGIN_S = 2.0


@dataclass
class PageText:
    """The cleaned text of one page (1-based number)."""

    number: int
    text: str
    ocr: bool = False  # read with OCR: the text may have recognition errors


@dataclass
class Document:
    """The usable pages of a document, and what was skipped and why."""

    pages: list[PageText]
    page_count: int
    skipped: dict[int, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class _PageTimeout(BaseException):
    """A BaseException, so that pypdf's own `except Exception` blocks cannot swallow it."""


@contextmanager
def _time_limit(seconds: float):
    """Raise _PageTimeout in this (main) thread after seconds; the extraction child is single-threaded."""
    def _expired(signum, frame):
        raise _PageTimeout

    previous = signal.signal(signal.SIGALRM, _expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _open(data: bytes, password: str | None) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, AssertionError, OSError, ZeroDivisionError, OverflowError) as error:
        log.debug("pdf open failed: %r", error)
        raise UnreadableError("the PDF is broken or truncated and cannot be read") from None
    if not reader.is_encrypted:
        return reader
    try:
        if reader.decrypt("") != PasswordType.NOT_DECRYPTED:
            return reader
        if not password:
            raise PasswordRequiredError("this PDF is protected by a password: send it in the 'password' field")
        if reader.decrypt(password) == PasswordType.NOT_DECRYPTED:
            raise PasswordIncorrectError("the password does not open this PDF")
    except (PdfReadError, PyPdfError, NotImplementedError, ValueError, KeyError, TypeError) as error:
        log.debug("pdf decryption failed: %r", error)
        raise UnreadableError("the PDF's encryption could not be read") from None
    return reader


def _page_count(reader: PdfReader, max_pages: int) -> int:
    try:
        count = len(reader.pages)
    except FileNotDecryptedError:
        raise PasswordRequiredError("this PDF is protected by a password: send it in the 'password' field") from None
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, AttributeError, IndexError,
            RecursionError, AssertionError, ZeroDivisionError, OverflowError) as error:
        log.debug("pdf page tree failed: %r", error)
        raise UnreadableError("the PDF's page tree cannot be read") from None
    if count == 0:
        raise UnreadableError("the PDF has no pages")
    if count > max_pages:
        raise TooManyPagesError(f"the PDF has {count:,} pages; the limit is {max_pages:,} (MAX_PAGES)")
    return count


def _text_with_paragraph_gaps(page) -> str:
    """The page's text with a blank line wherever the vertical gap between lines says a paragraph ends."""
    lines: list[list] = [["", None, 0.0]]  # text, baseline y, font size

    def visit(text, cm, tm, font_dict, font_size):
        for index, piece in enumerate(text.split("\n")):
            if index:
                lines.append(["", None, 0.0])
            line = lines[-1]
            if piece.strip() and line[1] is None:
                line[1] = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
                line[2] = abs(font_size * (tm[3] * cm[3] or 1.0))
            line[0] += piece

    page.extract_text(visitor_text=visit)
    placed = [(y, size) for _, y, size in lines if y is not None]
    gaps = sorted(a[0] - b[0] for a, b in itertools.pairwise(placed) if a[0] - b[0] > 0)
    sizes = sorted(size for _, size in placed if size > 0)
    if not gaps or not sizes:
        return "\n".join(text for text, _, _ in lines)
    font = sizes[len(sizes) // 2]
    base = max(min(gaps[len(gaps) // 4], 1.6 * font), 0.8 * font)  # overprinted or tiny gaps do not set the scale
    out: list[str] = []
    previous_y = None
    for text, y, _ in lines:
        if y is not None and previous_y is not None and (previous_y - y > 1.3 * base or y - previous_y > font):
            out.append("")  # a wide gap, or a jump up to a new column
        out.append(text)
        if y is not None:
            previous_y = y
    return "\n".join(out)


def _raw_text(reader: PdfReader, number: int, page_timeout_s: float) -> tuple[str | None, str | None]:
    """The page's raw text, or None and the reason it could not be had."""
    try:
        with _time_limit(page_timeout_s):
            return _text_with_paragraph_gaps(reader.pages[number - 1]), None
    except _PageTimeout:
        return None, TOO_SLOW
    except MemoryError:
        raise
    except Exception:  # noqa: BLE001 - any failure inside one page only costs that page
        return None, BROKEN


def read_document(
    data: bytes,
    *,
    password: str | None = None,
    pages: str | None = None,
    max_pages: int = 2000,
    page_timeout_s: float = 15.0,
    ocr: str = OCR_OFF,
    ocr_page_timeout_s: float = 30.0,
    budget_s: float | None = None,
) -> Document:
    """The usable, cleaned pages of a PDF; raises a DocumentError when none can be used. Pages without a text layer
    are read with OCR when `ocr` is OCR_ON, until budget_s (the document's whole time) is nearly spent."""
    deadline = None if budget_s is None else time.monotonic() + budget_s - min(DEADLINE_MARGIN_S, budget_s / 10)
    reader = _open(data, password)
    count = _page_count(reader, max_pages)
    selected = parse_pages(pages, count)
    skipped: dict[int, str] = {}
    raw_texts: dict[int, str] = {}
    for number in selected:
        raw, problem = _raw_text(reader, number, page_timeout_s)
        if problem is None and not raw.strip():
            problem = NO_TEXT
        elif problem is None and is_garbled(raw):
            problem = GARBLED
        if problem:
            skipped[number] = problem
        else:
            raw_texts[number] = raw
    ocr_numbers = set()
    if ocr == OCR_ON:
        ocr_numbers = _read_with_ocr(data, password, skipped, raw_texts, ocr_page_timeout_s, deadline)
    kept_numbers = sorted(raw_texts)
    page_texts = []
    # Text-layer and OCR pages are cleaned together, in page order: running headers need the neighbours.
    for number, text in zip(kept_numbers, clean_pages([raw_texts[n] for n in kept_numbers]), strict=True):
        if text.strip():
            page_texts.append(PageText(number, text, ocr=number in ocr_numbers))
        else:  # only a page number or a running header was there
            skipped[number] = OCR_FOUND_NOTHING if number in ocr_numbers else NO_TEXT
    if not page_texts:
        _refuse(skipped, ocr)
    read_by_ocr = [page.number for page in page_texts if page.ocr]
    return Document(page_texts, count, dict(sorted(skipped.items())), _warnings(skipped, read_by_ocr))


def _read_with_ocr(data: bytes, password: str | None, skipped: dict[int, str], raw_texts: dict[int, str],
                   page_timeout_s: float, deadline: float | None) -> set[int]:
    """OCR each page skipped for having no text layer, one at a time; moves what it reads from skipped to
    raw_texts and returns those page numbers."""
    candidates = sorted(number for number, why in skipped.items() if why == NO_TEXT)
    if not candidates:
        return set()
    pages = PageReader(data, password)
    read: set[int] = set()
    for number in candidates:
        left = page_timeout_s if deadline is None else min(page_timeout_s, deadline - time.monotonic())
        if left <= 0:
            skipped[number] = OCR_NO_TIME
            continue
        try:
            raw = pages.read(number, left)
        except OcrTimeout:
            # The page's own limit, or the document's: say which, since only the latter cuts the rest short too.
            out_of_time = deadline is not None and deadline - time.monotonic() <= 0
            skipped[number] = OCR_NO_TIME if out_of_time else OCR_TOO_SLOW
            continue
        except OcrFailed as error:
            log.debug("OCR of page %d failed: %s", number, error)
            skipped[number] = OCR_FAILED
            continue
        if not raw.strip() or is_garbled(raw):  # a blank page, or a picture read as letter soup
            skipped[number] = OCR_FOUND_NOTHING
            continue
        del skipped[number]
        raw_texts[number] = raw
        read.add(number)
    return read


def _refuse(skipped: dict[int, str], ocr: str) -> None:
    reasons = set(skipped.values())
    if GARBLED in reasons:
        raise GarbledTextError(
            "the text of this PDF extracts as garbage (its fonts have no Unicode map); "
            "it needs OCR to be read"
        )
    if reasons <= {NO_TEXT, OCR_FOUND_NOTHING}:
        if ocr == OCR_ON:
            raise NoTextError("this PDF has no text layer, and OCR found no text on its pages "
                              "(blank, or only pictures)")
        why_not = SWITCHED_OFF if ocr == OCR_OFF else NOT_INSTALLED
        raise NoTextError(f"this PDF is a scan: it has no text layer, and {why_not}")
    if reasons & {TOO_SLOW, OCR_TOO_SLOW, OCR_NO_TIME}:
        raise TooComplexError("this PDF's pages take too long to read")
    raise UnreadableError("no page of this PDF could be read")


def _warnings(skipped: dict[int, str], read_by_ocr: list[int]) -> list[str]:
    messages = {
        NO_TEXT: "{pages} had no text (scanned images or blank) and {were} skipped; OCR them to include them",
        OCR_FOUND_NOTHING: "{pages} had no text layer and OCR found no text on {them} (blank, or only pictures); "
                           "{they} {were} skipped",
        GARBLED: "{pages} had garbled text (fonts without a Unicode map) and {were} skipped",
        TOO_SLOW: "{pages} took too long to read and {were} skipped",
        OCR_TOO_SLOW: "{pages} had no text layer and took too long to read with OCR; {they} {were} skipped",
        OCR_NO_TIME: "{pages} had no text layer and {were} skipped: OCR ran out of the time allowed for one PDF "
                     "(PDF_TIMEOUT_S)",
        OCR_FAILED: "{pages} had no text layer and could not be read with OCR; {they} {were} skipped",
        BROKEN: "{pages} could not be read and {were} skipped",
    }
    warnings = []
    if read_by_ocr:
        one = len(read_by_ocr) == 1
        warnings.append(f"{describe_pages(read_by_ocr).capitalize()} {'was' if one else 'were'} read with OCR "
                        f"(no text layer); {'its' if one else 'their'} text may contain recognition errors")
    for reason, template in messages.items():
        numbers = [number for number, why in skipped.items() if why == reason]
        if numbers:
            one = len(numbers) == 1
            warnings.append(template.format(pages=describe_pages(numbers).capitalize(), were="was" if one else "were",
                                            them="it" if one else "them", they="it" if one else "they"))
    return warnings
