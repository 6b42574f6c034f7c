"""Read pages that have no text layer with OCR: PDFium renders the page, Debian's Tesseract reads the image.

pytesseract runs the system's `tesseract` program rather than a copy bundled in a wheel (tesserocr's wheel ships
its own libtesseract): the engine gets Debian's security updates, and each page is read by a separate process
that a timeout kills, so a page that hangs or crashes the engine costs that page only.
"""

from __future__ import annotations

import functools
import logging
import math
import os
import subprocess
import time

import pypdfium2 as pdfium
import pytesseract

log = logging.getLogger(__name__)

LANGUAGE = "eng"
DPI = 300  # Tesseract's own advice for print; 200 DPI was barely faster here and lost small headings
# A page larger than a poster is rendered at a lower resolution instead of at gigapixels.
MAX_PIXELS = 25_000_000
# Automatic layout with orientation detection: upside-down and sideways scans are read too (about 0.5 s a page).
PAGE_SEGMENTATION = 1
NOT_INSTALLED = (
    "OCR is not installed on this server (install Debian's tesseract-ocr and tesseract-ocr-eng, "
    "or run python3 manage.py install)"
)
SWITCHED_OFF = "OCR is switched off on this server"


@functools.cache
def ocr_available() -> bool:
    """Whether the Tesseract engine (version 4 or newer, for its LSTM models) and its English data are installed."""
    try:
        return pytesseract.get_tesseract_version().major >= 4 and LANGUAGE in pytesseract.get_languages()
    except (pytesseract.TesseractNotFoundError, pytesseract.TesseractError, OSError, subprocess.SubprocessError,
            ValueError) as error:
        log.info("OCR is unavailable: %s", error)
        return False


class OcrFailed(Exception):
    """The page could not be rendered or read."""


class OcrTimeout(Exception):
    """Reading the page took longer than allowed."""


class PageReader:
    """Renders and reads pages of one document; used inside the document reader's child process."""

    def __init__(self, data: bytes, password: str | None) -> None:
        # OpenMP threads on a shared 2-core machine made each page five times slower (2.6 s -> 14.6 s measured),
        # and would compete with the model for cores: one thread per engine. This is the reader's own process.
        os.environ["OMP_THREAD_LIMIT"] = "1"
        self._data = data
        self._password = password
        self._document: pdfium.PdfDocument | None = None

    def _open(self) -> pdfium.PdfDocument:
        if self._document is None:
            try:
                self._document = pdfium.PdfDocument(self._data, password=self._password)
            except pdfium.PdfiumError as error:
                raise OcrFailed(f"PDFium cannot open the document: {error}") from None
        return self._document

    def read(self, number: int, timeout_s: float) -> str:
        """The raw text Tesseract finds on page `number` (1-based), within timeout_s seconds."""
        started = time.monotonic()
        try:
            page = self._open()[number - 1]
            width, height = page.get_size()
            scale = min(DPI / 72, math.sqrt(MAX_PIXELS / max(width * height, 1.0)))
            image = page.render(scale=scale, grayscale=True, may_draw_forms=False).to_pil()
        except (pdfium.PdfiumError, ValueError, IndexError) as error:
            raise OcrFailed(f"rendering failed: {error}") from None
        left = timeout_s - (time.monotonic() - started)
        if left <= 0:
            raise OcrTimeout
        config = f"--psm {PAGE_SEGMENTATION} --dpi {round(scale * 72)}"
        try:
            return pytesseract.image_to_string(image, lang=LANGUAGE, config=config, timeout=left)
        except RuntimeError as error:  # pytesseract kills the engine at the timeout and says so with a RuntimeError
            if "timeout" in str(error).lower():
                raise OcrTimeout from None
            raise OcrFailed(str(error)) from None
        except (pytesseract.TesseractError, OSError) as error:  # e.g. the engine hit the memory cap and died
            raise OcrFailed(str(error)) from None
