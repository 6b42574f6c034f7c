"""Uploading files to the generate endpoints (fake model): PDFs, text files, every refusal, a fuzz test."""

import io
import json
import random
import re
import time

import pytest

from pdf_tools import ocr
from tests.conftest import ROOT
from tests.pdfs import encrypt, glyph_name_pdf, image_only_pdf, mixed_pdf, scanned_pdf, text_pdf
from tests.test_ocr import needs_ocr
from tests.test_pdf_tools import PAGES, shared

SAMPLE_PDF = (ROOT / "samples" / "lighthouses.pdf").read_bytes()


def _upload(client, path, data: bytes, name="doc.pdf", content_type="application/pdf", **fields):
    form = {key: str(value) for key, value in fields.items()}
    form["file"] = (io.BytesIO(data), name, content_type)
    return client.post(path, data=form, content_type="multipart/form-data")


def _error(response):
    body = response.get_json()
    assert body is not None, response.get_data(as_text=True)
    return response.status_code, body["error"]["code"], body["error"]["message"]


@pytest.fixture
def without_ocr(monkeypatch):
    """A server where no OCR engine is installed: scans are refused (OCR itself: test_a_scan_is_read_with_ocr)."""
    monkeypatch.setattr(ocr, "ocr_available", lambda: False)


def test_pdf_summary_reports_pages_and_warnings(client, without_ocr):
    response = _upload(client, "/generate-summary", mixed_pdf(), length="short")
    assert response.status_code == 200
    body = response.get_json()
    assert body["summary"]
    assert body["pages"] == 2
    assert body["warnings"] == [
        "Page 2 had no text (scanned images or blank) and was skipped; OCR them to include them"
    ]


def test_pdf_points_cite_their_pages(client, fake_model):
    fake_model.responses.append(
        "1. A bronze bell was cast for the chapel by Martin Keel in 1923.\n"
        "2. The lighthouse on the reef was automated in 1985."
    )
    response = _upload(client, "/generate-points", text_pdf(PAGES, header="Chronicle", footer=True), count=2)
    assert response.status_code == 200
    points = {point["text"]: point["pages"] for point in response.get_json()["points"]}
    assert points == {
        "A bronze bell was cast for the chapel by Martin Keel in 1923.": [2],
        "The lighthouse on the reef was automated in 1985.": [3],
    }


def test_sample_pdf_and_form_options(client):
    response = _upload(client, "/generate-points", SAMPLE_PDF, name="lighthouses.pdf", count="3", pages="2-3")
    assert response.status_code == 200
    body = response.get_json()
    assert body["pages"] == 2
    assert len(body["points"]) == 3
    assert all(set(point["pages"]) <= {2, 3} and point["pages"] for point in body["points"])


@pytest.mark.parametrize(("name", "content_type"), [("notes.txt", "text/plain"), ("notes.md", "text/markdown"),
                                                    ("notes.txt", "application/octet-stream")])
def test_text_files_are_read_as_text(client, name, content_type):
    text = "# Notes\n\nThe ferry to the island leaves at nine. It returns at five in the evening."
    response = _upload(client, "/generate-summary", text.encode("utf-8"), name=name, content_type=content_type)
    assert response.status_code == 200
    assert "pages" not in response.get_json()


def test_text_file_in_another_encoding(client):
    data = "Le phare de Brest fut électrifié en 1902. Les gardiens partirent en 1990.".encode("cp1252")
    assert _upload(client, "/generate-summary", data, name="phare.txt", content_type="text/plain").status_code == 200


def test_password_field_opens_an_encrypted_pdf(client):
    locked = encrypt(text_pdf(PAGES), "AES-256", "s3cret")
    assert _error(_upload(client, "/generate-summary", locked))[:2] == (422, "pdf_password_required")
    assert _error(_upload(client, "/generate-summary", locked, password="nope"))[:2] == (422, "pdf_password_incorrect")
    assert _upload(client, "/generate-summary", locked, password="s3cret").status_code == 200


@pytest.mark.parametrize(
    ("data", "name", "content_type", "status", "code"),
    [
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "photo.pdf", "application/pdf", 415, "unsupported_media_type"),
        (b"PK\x03\x04 zip data", "archive.zip", "application/zip", 415, "unsupported_media_type"),
        (b"binary\x00data", "notes.txt", "text/plain", 415, "unsupported_media_type"),
        (b"", "empty.pdf", "application/pdf", 400, "invalid_request"),
        (None, "scan.pdf", "application/pdf", 422, "pdf_no_text"),
    ],
)
def test_refusals(client, data, name, content_type, status, code):
    data = image_only_pdf() if data is None else data
    assert _error(_upload(client, "/generate-summary", data, name=name, content_type=content_type))[:2] == (
        status, code
    )


@pytest.mark.parametrize(
    ("file", "status", "code", "words"),
    [
        ("cardinal.pdf", 422, "pdf_no_text", "OCR"),
        ("c03-29.pdf", 422, "pdf_no_text", "OCR"),
        ("truetype_font_nomapping.pdf", 422, "pdf_garbled_text", "garbage"),
        ("invalid.pdf", 415, "unsupported_media_type", "not"),
        ("trivial.pdf", 422, "pdf_no_text", "no text layer"),
    ],
)
def test_real_world_refusals(client, without_ocr, file, status, code, words):
    got_status, got_code, message = _error(_upload(client, "/generate-points", shared(file), name=file))
    assert (got_status, got_code) == (status, code)
    assert words in message


def test_real_world_documents_that_read(client, without_ocr):
    body = _upload(client, "/generate-points", shared("multipage.pdf"), count=2).get_json()
    assert body["pages"] == 1
    assert "OCR" in body["warnings"][0]
    body = _upload(client, "/generate-summary", shared("reportlab-userguide.pdf"), pages="6-8").get_json()
    assert body["pages"] == 3


@needs_ocr
def test_a_scan_is_read_with_ocr(client):
    body = _upload(client, "/generate-summary", scanned_pdf([PAGES[1]]), length="short").get_json()
    assert body["pages"] == 1
    assert body["warnings"] == [
        "Page 1 was read with OCR (no text layer); its text may contain recognition errors"
    ]


@pytest.mark.parametrize("path", ["/generate-points", "/generate-summary"])
def test_a_pdf_whose_text_is_only_glyph_names_is_refused_not_answered_empty(client, path):
    status, code, message = _error(_upload(client, path, glyph_name_pdf()))
    assert (status, code) == (422, "pdf_garbled_text")
    assert "garbage" in message or "garbled" in message


def test_truncated_pdf_is_unreadable(client):
    data = text_pdf(PAGES)
    assert _error(_upload(client, "/generate-summary", data[: len(data) // 2]))[:2] == (422, "pdf_unreadable")


def test_page_range_errors(client):
    assert _error(_upload(client, "/generate-summary", text_pdf(PAGES), pages="2-9"))[:2] == (400, "invalid_request")
    assert _error(_upload(client, "/generate-summary", text_pdf(PAGES), pages="two"))[:2] == (400, "invalid_request")


def test_limits_give_413(make_app, fake_model):
    small = make_app(fake_model, max_upload_mb=0.001).test_client()
    assert _error(_upload(small, "/generate-summary", text_pdf(PAGES)))[:2] == (413, "payload_too_large")
    few = make_app(fake_model, max_pages=2).test_client()
    status, code, message = _error(_upload(few, "/generate-summary", text_pdf(PAGES)))
    assert (status, code) == (413, "payload_too_large")
    assert "MAX_PAGES" in message


@pytest.mark.parametrize(
    ("form", "fragment"),
    [
        ({"count": "many"}, "count"),
        ({"count": "0"}, "count"),
        ({"length": "epic"}, "length"),
        ({"bogus": "1"}, "unknown field"),
    ],
)
def test_bad_form_fields(client, form, fragment):
    status, code, message = _error(_upload(client, "/generate-points", SAMPLE_PDF, **form))
    assert (status, code) == (400, "invalid_request")
    assert fragment in message


def test_form_without_a_file_or_with_text(client):
    response = client.post("/generate-summary", data={"nothing": "here"}, content_type="multipart/form-data")
    assert _error(response)[:2] == (400, "invalid_request")
    response = client.post("/generate-summary", data={"text": "A short text about a tower."},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    # An HTML form sends its empty fields too: an empty page range or password is no range or password.
    response = client.post("/generate-summary", data={"text": "A tower stands.", "pages": "", "password": ""},
                           content_type="multipart/form-data")
    assert response.status_code == 200
    response = client.post("/generate-summary", data={"text": "A tower stands.", "pages": "1"},
                           content_type="multipart/form-data")
    assert _error(response)[1:] == ("invalid_request", "'pages' applies only to an uploaded PDF file")


def test_pdf_only_fields_rejected_for_json(client):
    response = client.post("/generate-summary", data=json.dumps({"text": "A tower.", "pages": "1"}),
                           content_type="application/json")
    assert _error(response)[:2] == (400, "invalid_request")


# --- fuzz -------------------------------------------------------------------------------------------------

def _mutations(seed: int, count: int):
    """Mutated versions of valid PDFs: truncation, flipped bytes, no xref, duplicated objects, huge numbers."""
    rng = random.Random(seed)
    bases = [text_pdf(PAGES, header="Chronicle", footer=True), SAMPLE_PDF, encrypt(text_pdf(PAGES[:1]), "AES-128", ""),
             mixed_pdf()]
    numbers = re.compile(rb"\d+")
    objects = re.compile(rb"\d+ 0 obj.*?endobj", re.DOTALL)
    for index in range(count):
        data = bytearray(rng.choice(bases))
        kind = index % 6
        if kind == 0:
            data = data[: rng.randrange(10, len(data))]
        elif kind == 1:
            for _ in range(rng.randint(1, 30)):
                data[rng.randrange(len(data))] = rng.randrange(256)
        elif kind == 2:
            start = data.rfind(b"xref")
            data = data[:start] + data[data.rfind(b"startxref"):] if start > 0 else data[:-20]
        elif kind == 3:
            found = list(objects.finditer(data))
            chunk = rng.choice(found).group(0)
            position = rng.choice(found).start()
            data = data[:position] + chunk + b"\n" + chunk + b"\n" + data[position:]
        elif kind == 4:
            match = rng.choice(list(numbers.finditer(data)))
            huge = rng.choice([b"99999999999999999999", b"-1", b"2147483648", b"1e308"])
            data = data[:match.start()] + huge + data[match.end():]
        else:
            position = rng.randrange(len(data))
            data = data[:position] + bytes(rng.randrange(256) for _ in range(rng.randint(1, 200))) + data[position:]
        yield kind, bytes(data)


def test_fuzzed_pdfs_never_crash_or_hang(make_app, fake_model):
    client = make_app(fake_model, pdf_timeout_s=20, pdf_page_timeout_s=5).test_client()
    statuses: dict[int, int] = {}
    for number, (kind, data) in enumerate(_mutations(seed=2026, count=300)):
        started = time.monotonic()
        if number % 3 == 2:  # stored in the library: read the same way, then paged and indexed
            response = _upload(client, "/documents", data)
            if response.status_code == 201:
                response.status_code = 200
        else:
            response = _upload(client, "/generate-points", data, count=2)
        elapsed = time.monotonic() - started
        assert response.status_code == 200 or 400 <= response.status_code < 500, (kind, response.get_data())
        if response.status_code != 200:
            assert response.get_json()["error"]["code"]
        assert elapsed < 30, (kind, elapsed)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    assert statuses.get(200, 0) > 20  # many mutations still read: the test exercised real extraction
    assert sum(count for status, count in statuses.items() if status != 200) > 20


def test_text_file_that_mentions_a_pdf_header_is_text(client):
    data = b"# Notes on PDF\n\nA PDF file starts with %PDF-1.7 and holds objects. The ferry leaves at nine."
    response = _upload(client, "/generate-summary", data, name="notes.md", content_type="text/markdown")
    assert response.status_code == 200


def test_utf16_text_file(client):
    data = "The ferry to the island leaves at nine. It returns at five.".encode("utf-16")
    response = _upload(client, "/generate-summary", data, name="ferry.txt", content_type="text/plain")
    assert response.status_code == 200


def test_busy_readers_answer_503(make_app, monkeypatch):
    import threading

    from pdf_tools import sandbox

    every_slot_taken = threading.BoundedSemaphore(1)
    every_slot_taken.acquire()
    monkeypatch.setattr(sandbox, "_readers", every_slot_taken)
    client = make_app(pdf_timeout_s=0.2).test_client()  # waits that long for a free reader
    started = time.monotonic()
    response = _upload(client, "/generate-summary", text_pdf(PAGES))
    assert 0.2 <= time.monotonic() - started < 5
    assert _error(response)[:2] == (503, "server_busy")
    assert response.headers["Retry-After"]
