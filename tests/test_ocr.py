"""OCR of pages without a text layer (pdf_tools.ocr): scans made here and real ones, marks and warnings, limits,
and the refusal that says how to enable OCR where it is off or missing."""

import subprocess
import time
from pathlib import Path

import pytest

from pdf_tools import Limits, ocr, read_pdf
from pdf_tools import errors as pdf
from pdf_tools.extract import OCR_ON, read_document
from pdf_tools.sandbox import run_isolated
from tests.pdfs import image_only_pdf, mixed_pdf, scanned_pdf
from tests.test_pdf_tools import PAGES, shared

needs_ocr = pytest.mark.skipif(not ocr.ocr_available(), reason="Tesseract with its English data is not installed "
                               "(python3 manage.py install installs it)")
HARBOUR = PAGES[0].replace("\n\n", " ")
BELL = PAGES[1].replace("\n\n", " ")


def _words(text: str) -> set[str]:
    return {word.strip(".,;:").lower() for word in text.split()}


@needs_ocr
def test_a_scan_is_read_with_ocr_and_marked():
    document = read_pdf(scanned_pdf([HARBOUR, BELL]))
    assert [(page.number, page.ocr) for page in document.pages] == [(1, True), (2, True)]
    assert {"harbour", "dredged", "steamers", "quay"} <= _words(document.pages[0].text)
    assert {"bronze", "bell", "martin", "keel", "1923"} <= _words(document.pages[1].text)
    assert document.warnings == [
        "Pages 1-2 were read with OCR (no text layer); their text may contain recognition errors"
    ]
    assert document.skipped == {}


@needs_ocr
def test_only_the_page_without_a_text_layer_is_read_with_ocr():
    document = read_pdf(scanned_pdf([HARBOUR, BELL], text_layer=(1,)))
    assert [(page.number, page.ocr) for page in document.pages] == [(1, False), (2, True)]
    assert document.pages[0].text == HARBOUR  # the text layer, exactly
    assert {"bronze", "chapel", "noon"} <= _words(document.pages[1].text)
    assert document.warnings == ["Page 2 was read with OCR (no text layer); its text may contain recognition errors"]


@needs_ocr
def test_pictures_and_blank_pages_without_words_are_still_skipped_or_refused():
    document = read_pdf(mixed_pdf())
    assert [page.number for page in document.pages] == [1, 3]
    assert document.warnings == [
        "Page 2 had no text layer and OCR found no text on it (blank, or only pictures); it was skipped"
    ]
    for data in (image_only_pdf(), shared("trivial.pdf")):
        with pytest.raises(pdf.NoTextError, match="OCR found no text"):
            read_pdf(data)


@needs_ocr
def test_real_scans_are_read_upside_down_ones_too():
    page = read_pdf(shared("c03-29.pdf")).pages[0]
    assert page.ocr
    assert {"miss", "watson", "morning"} <= _words(page.text)
    upside_down = read_pdf(shared("cardinal.pdf"), pages="3").pages[0]  # orientation detection turns it
    assert "linnsequencer" in _words(upside_down.text)


def test_with_ocr_switched_off_a_scan_is_refused_saying_so():
    with pytest.raises(pdf.NoTextError) as refused:
        read_pdf(scanned_pdf([HARBOUR]), limits=Limits(ocr=False))
    assert str(refused.value) == "this PDF is a scan: it has no text layer, and OCR is switched off on this server"


def test_without_an_ocr_engine_a_scan_is_refused_saying_how_to_install_one(monkeypatch):
    monkeypatch.setattr(ocr, "ocr_available", lambda: False)
    with pytest.raises(pdf.NoTextError) as refused:
        read_pdf(scanned_pdf([HARBOUR]))
    message = str(refused.value)
    assert message.startswith("this PDF is a scan: it has no text layer, and OCR is not installed on this server")
    assert "tesseract-ocr and tesseract-ocr-eng" in message and "python3 manage.py install" in message
    assert "/" not in message  # no paths of this server


def test_ocr_available_says_no_when_the_engine_is_missing(monkeypatch):
    def missing():
        raise ocr.pytesseract.TesseractNotFoundError()

    monkeypatch.setattr(ocr.pytesseract, "get_tesseract_version", missing)
    ocr.ocr_available.cache_clear()
    try:
        assert ocr.ocr_available() is False
    finally:
        ocr.ocr_available.cache_clear()


@needs_ocr
def test_a_page_slower_than_the_ocr_page_limit_is_skipped():
    document = read_pdf(scanned_pdf([HARBOUR, BELL], text_layer=(1,)), limits=Limits(ocr_page_timeout_s=0.01))
    assert [page.number for page in document.pages] == [1]
    assert document.warnings == ["Page 2 had no text layer and took too long to read with OCR; it was skipped"]
    with pytest.raises(pdf.TooComplexError):
        read_pdf(scanned_pdf([BELL]), limits=Limits(ocr_page_timeout_s=0.01))


def test_ocr_stops_when_the_document_time_is_spent():
    document = read_document(scanned_pdf([HARBOUR, BELL, BELL], text_layer=(1,)), ocr=OCR_ON, budget_s=0)
    assert [page.number for page in document.pages] == [1]
    assert document.warnings == [
        "Pages 2-3 had no text layer and were skipped: OCR ran out of the time allowed for one PDF (PDF_TIMEOUT_S)"
    ]


def _start_a_program_then_hang(pid_file: str) -> None:
    """A reader that starts a program, as it starts the OCR engine, and is still waiting at its deadline."""
    program = subprocess.Popen(["sleep", "60"])
    Path(pid_file).write_text(str(program.pid))
    time.sleep(60)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie has stopped; only its parent's reaping is left


def test_a_reader_killed_at_its_deadline_takes_the_programs_it_started_with_it(tmp_path):
    pid_file = tmp_path / "pid"
    with pytest.raises(pdf.TooComplexError):
        run_isolated(_start_a_program_then_hang, str(pid_file), timeout_s=2, memory_mb=512)
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _running(pid)
