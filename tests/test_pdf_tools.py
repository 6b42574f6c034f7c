"""pdf_tools on PDFs made here and on real-world PDFs: clean text, refusals, limits."""

import io
from pathlib import Path

import pytest
from pypdf import PdfReader

from pdf_tools import Limits, read_pdf
from pdf_tools import errors as pdf
from pdf_tools.quality import is_garbled
from pdf_tools.ranges import describe_pages, parse_pages
from pdf_tools.textclean import clean_pages, normalize
from tests.conftest import ROOT
from tests.pdfs import ENCRYPTIONS, encrypt, glyph_name_pdf, hyphenated_pdf, image_only_pdf, mixed_pdf, text_pdf

SHARED = ROOT.parent / "shared" / "pdfs"
PAGES = [
    "The harbour of Port Aven was dredged in 1911 so that steamers could reach the quay.\n\n"
    "Fishing boats moved to the outer basin after the works.",
    "A bronze bell was cast for the chapel by Martin Keel in 1923.\n\nIt rings at noon every day.",
    "The lighthouse on the reef was automated in 1985 and its keepers moved to the town.",
]


def shared(name: str) -> bytes:
    return (SHARED / name).read_bytes()


def test_pages_with_running_header_and_footer_read_cleanly():
    document = read_pdf(text_pdf(PAGES, header="Port Aven Town Chronicle", footer=True))
    assert document.page_count == 3
    assert [page.number for page in document.pages] == [1, 2, 3]
    assert document.warnings == []
    for page, source in zip(document.pages, PAGES, strict=True):
        assert "Port Aven Town Chronicle" not in page.text
        assert "Page " not in page.text
        assert page.text.split("\n\n")[0] == source.split("\n\n")[0]
    assert document.pages[1].text == PAGES[1]


def test_line_break_hyphens_are_undone_and_wrapped_lines_joined():
    lines = ["The harbour was dredged to admit the large", "steamers in 1911, which changed the eco-",
             "nomy of the whole town.", "", "A new paragraph starts here."]
    text = read_pdf(hyphenated_pdf(lines)).pages[0].text
    assert text == (
        "The harbour was dredged to admit the large steamers in 1911, which changed the economy of the whole "
        "town.\n\nA new paragraph starts here."
    )


def test_normalize_handles_ligatures_controls_and_dot_leaders():
    assert normalize("ﬁnal\x07 ﬂow\u00ad") == "final flow"
    assert normalize("Chapter 1 . . . . . . . 6") == "Chapter 1 … 6"


def test_page_numbers_alone_are_removed():
    assert clean_pages(["Body text of page one.\n1", "Body text of page two.\n- 2 -"]) == [
        "Body text of page one.", "Body text of page two."
    ]


@pytest.mark.parametrize("algorithm", ENCRYPTIONS)
def test_each_encryption_algorithm(algorithm):
    locked = encrypt(text_pdf(PAGES), algorithm, "s3cret")
    with pytest.raises(pdf.PasswordRequiredError):
        read_pdf(locked)
    with pytest.raises(pdf.PasswordIncorrectError):
        read_pdf(locked, password="wrong")
    assert "Martin Keel" in read_pdf(locked, password="s3cret").pages[1].text


def test_encrypted_with_empty_user_password_opens_without_one():
    opened = read_pdf(encrypt(text_pdf(PAGES), "AES-256", "", owner_password="owner"))
    assert len(opened.pages) == 3


def test_scan_without_words_is_refused():
    with pytest.raises(pdf.NoTextError, match="OCR"):  # OCR, where installed, finds no words in a drawn frame
        read_pdf(image_only_pdf())


def test_pages_without_text_are_skipped_with_a_warning():
    document = read_pdf(mixed_pdf(), limits=Limits(ocr=False))  # with OCR: tests/test_ocr.py
    assert [page.number for page in document.pages] == [1, 3]
    assert document.skipped == {2: "no text layer"}
    assert document.warnings == [
        "Page 2 had no text (scanned images or blank) and was skipped; OCR them to include them"
    ]


def test_truncated_file_is_unreadable():
    data = text_pdf(PAGES)
    with pytest.raises(pdf.UnreadableError):
        read_pdf(data[: len(data) // 2])


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", pdf.EmptyFileError),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, pdf.NotAPdfError),
        (b"Just some text that says it is a PDF.", pdf.NotAPdfError),
        (b"%PDF-1.7\nnothing else\n%%EOF", pdf.NotAPdfError),
    ],
)
def test_not_a_pdf(data, error):
    with pytest.raises(error):
        read_pdf(data)


@pytest.mark.parametrize("name", ["cardinal.pdf", "c03-29.pdf", "trivial.pdf"])
def test_real_scans_and_blank_pages_need_ocr(name):
    with pytest.raises(pdf.NoTextError, match="OCR is switched off"):
        read_pdf(shared(name), limits=Limits(ocr=False))


def test_real_scan_with_a_few_words_uses_the_page_that_has_them():
    document = read_pdf(shared("multipage.pdf"), limits=Limits(ocr=False))
    assert [page.number for page in document.pages] == [4]
    assert "Pages 1-3, 5-6" in document.warnings[0]


def test_real_ocr_layer_is_read():
    assert "Percentage" in read_pdf(shared("graph_ocred.pdf")).pages[0].text


def test_real_font_without_unicode_map_is_garbled():
    with pytest.raises(pdf.GarbledTextError):
        read_pdf(shared("truetype_font_nomapping.pdf"))


def test_type3_font_of_glyph_names_is_garbled():
    assert "/g" in PdfReader(io.BytesIO(glyph_name_pdf())).pages[0].extract_text()  # what a reader gets from it
    with pytest.raises(pdf.GarbledTextError):
        read_pdf(glyph_name_pdf())


def test_real_invalid_file_is_not_a_pdf():
    with pytest.raises(pdf.NotAPdfError):
        read_pdf(shared("invalid.pdf"))


def test_real_short_document_with_an_empty_page():
    document = read_pdf(shared("toc.pdf"))
    assert [page.number for page in document.pages] == [1]
    assert document.warnings


def test_real_long_manual_reads_every_page_without_running_headers():
    document = read_pdf(shared("reportlab-userguide.pdf"))
    assert document.page_count == 134
    assert len(document.pages) == 134
    assert document.warnings == []
    text = "\n".join(page.text for page in document.pages)
    assert "ReportLab" in text and "pdfgen" in text
    assert len(text) > 250_000
    first_lines = [page.text.split("\n")[0][:40] for page in document.pages]
    assert max(first_lines.count(line) for line in first_lines) < 20  # no header repeated on every page


def test_page_selection():
    document = read_pdf(text_pdf(PAGES), pages="1,3")
    assert [page.number for page in document.pages] == [1, 3]
    with pytest.raises(pdf.PageRangeError, match="3 pages"):
        read_pdf(text_pdf(PAGES), pages="2-5")


@pytest.mark.parametrize("spec", ["0", "3-1", "a-b", "1,,2", "-2"])
def test_malformed_page_ranges(spec):
    with pytest.raises(pdf.PageRangeError):
        parse_pages(spec, 10)


def test_page_range_parsing_and_description():
    assert parse_pages("1-3, 7,2", 10) == [1, 2, 3, 7]
    assert parse_pages(None, 3) == [1, 2, 3]
    assert describe_pages([1, 2, 3, 7, 9, 10]) == "pages 1-3, 7, 9-10"
    assert describe_pages([4]) == "page 4"


def test_too_many_pages():
    with pytest.raises(pdf.TooManyPagesError, match="MAX_PAGES"):
        read_pdf(text_pdf(PAGES), limits=Limits(max_pages=2))


def test_document_deadline_refuses_slow_work():
    with pytest.raises(pdf.TooComplexError, match="PDF_TIMEOUT_S"):
        read_pdf(shared("reportlab-userguide.pdf"), limits=Limits(timeout_s=0.05))


def test_page_deadline_skips_slow_pages():
    with pytest.raises(pdf.TooComplexError):
        read_pdf(shared("reportlab-userguide.pdf"), pages="10-12", limits=Limits(page_timeout_s=0.000001))


def test_memory_cap_refuses_a_decompression_bomb():
    bomb = _flate_bomb(megabytes=400)
    with pytest.raises((pdf.TooComplexError, pdf.UnreadableError, pdf.NoTextError)):
        read_pdf(bomb, limits=Limits(memory_mb=300, timeout_s=60))


def _flate_bomb(megabytes: int) -> bytes:
    """A one-page PDF whose content stream inflates to megabytes of text operators."""
    import zlib

    operators = b"BT /F1 12 Tf 72 712 Td (aaaa) Tj ET\n" * (megabytes * 1024 * 1024 // 36)
    stream = zlib.compress(operators, 9)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.mark.parametrize(
    "text",
    [
        "The harbour was dredged in 1911 so that steamers could reach the quay.",
        "Der Hafen wurde 1911 ausgebaggert, damit Dampfer den Kai erreichen konnten.",
        "Гавань была углублена в 1911 году, чтобы пароходы могли подойти к причалу.",
        "港口于1911年疏浚，以便轮船能够到达码头。",
        "Revenue 2024 12,400 13,100 +5.6% Costs 8,200 8,900 +8.5%",
        "1 Introduction . . . . . . . . . . . 4\n2 Methods . . . . . . . . . . . 9",
        "The data are at https://example.org/v1/set2/part3 and in /srv/data2/run3/out4 on the cluster.",
    ],
)
def test_real_language_is_not_garbled(text):
    assert not is_garbled(text)


@pytest.mark.parametrize(
    "text",
    [
        "(cid:71)(cid:72)(cid:3)(cid:79)(cid:68)(cid:3)(cid:86)",
        '"7+%- #$&*!',
        "\ue000\ue001\ue002\ue003 \ue004\ue005",
        "Ã©tÃ© Ã  la plage â€™ Ã¨re",
        "xqzt bcdfg hjklm npqrs tvwxz",
        "/g437/g258/g3/g349/g381/g400 /g17/g3/g90/g286/g258",
    ],
)
def test_garbage_is_garbled(text):
    assert is_garbled(text)


def test_shared_folder_is_present():
    assert Path(SHARED / "README.md").is_file()


def test_super_and_subscripts_keep_their_meaning():
    assert normalize("10⁶ cells per m² of H₂O") == "10^6 cells per m^2 of H_2O"


def test_soft_hyphen_at_a_line_end_joins_the_word_and_joiners_stay():
    assert clean_pages(["The exam\u00ad\nple shows it."]) == ["The example shows it."]
    assert "\u200c" in normalize("می\u200cخواهم")


def test_numbers_and_repeated_lines_of_short_documents_stay():
    assert clean_pages(["Revenue grew.\n2024"]) == ["Revenue grew. 2024"]
    two = clean_pages(["Question 1\nWhat is a lens?", "Question 2\nWhat is a lamp?"])
    assert two[0].startswith("Question 1") and two[1].startswith("Question 2")


@pytest.mark.parametrize(
    "text",
    [
        "The roots of the equation are x = (−b ± √(b² − 4ac))/2a for real coefficients a, b and c.",
        'int main(void) { printf("hello"); return 0; }',
        "– 3 –",
    ],
)
def test_formulas_code_and_tiny_pages_are_not_garbled(text):
    assert not is_garbled(text)


def test_busy_readers_give_a_clear_error(monkeypatch):
    import threading

    from pdf_tools import sandbox

    full = threading.BoundedSemaphore(1)
    full.acquire()
    monkeypatch.setattr(sandbox, "_readers", full)
    with pytest.raises(pdf.ReaderBusyError):
        read_pdf(text_pdf(PAGES), limits=Limits(timeout_s=0.2))
