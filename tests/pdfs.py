"""PDFs made inside the tests: text, running headers and footers, encryption, images only, broken files."""

from __future__ import annotations

import io

from fpdf import FPDF
from pypdf import PdfReader, PdfWriter

ENCRYPTIONS = ["RC4-40", "RC4-128", "AES-128", "AES-256-R5", "AES-256"]


def text_pdf(pages: list[str], *, header: str | None = None, footer: bool = False, font_size: int = 11) -> bytes:
    """A PDF with one page per text; optional running header and 'Page N of M' footer."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_font("Helvetica", size=font_size)
    for number, text in enumerate(pages, start=1):
        pdf.add_page()
        if header:
            pdf.set_xy(15, 10)
            pdf.cell(0, 6, header)
        pdf.set_xy(15, 25)
        for paragraph in text.split("\n\n"):
            pdf.multi_cell(175, 6, paragraph.strip())
            pdf.ln(4)
        if footer:
            pdf.set_xy(15, 280)
            pdf.cell(0, 6, f"Page {number} of {len(pages)}")
    return bytes(pdf.output())


def hyphenated_pdf(lines: list[str]) -> bytes:
    """One page whose lines are placed exactly as given (to test line-break hyphenation and wrapping)."""
    pdf = FPDF(format="A4")
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    for index, line in enumerate(lines):
        pdf.set_xy(15, 20 + index * 6)
        pdf.cell(0, 6, line)
    return bytes(pdf.output())


def encrypt(data: bytes, algorithm: str, user_password: str, owner_password: str | None = None) -> bytes:
    """The PDF encrypted with one of pypdf's algorithms."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password=user_password, owner_password=owner_password or user_password + "-owner",
                   algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def image_only_pdf(pages: int = 2) -> bytes:
    """A 'scan': pages holding only an image, no text layer."""
    from PIL import Image, ImageDraw

    pdf = FPDF(format="A4")
    for number in range(pages):
        image = Image.new("RGB", (400, 300), "white")
        ImageDraw.Draw(image).rectangle((40 + number * 10, 40, 360, 260), outline="black", width=5)
        pdf.add_page()
        pdf.image(image, x=20, y=20, w=170)
    return bytes(pdf.output())


def mixed_pdf() -> bytes:
    """Page 1 text, page 2 image only, page 3 text."""
    from PIL import Image

    pdf = FPDF(format="A4")
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    pdf.multi_cell(175, 6, "The first page says that the bridge over the Tamar was opened in 1859.")
    pdf.add_page()
    pdf.image(Image.new("RGB", (200, 200), "gray"), x=20, y=20, w=100)
    pdf.add_page()
    pdf.multi_cell(175, 6, "The third page says that the bridge was designed by Isambard Kingdom Brunel.")
    return bytes(pdf.output())
