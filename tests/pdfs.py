"""PDFs made inside the tests: text, running headers and footers, encryption, images only, scans of words, broken
files."""

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


def scanned_pdf(pages: list[str], *, text_layer: tuple[int, ...] = ()) -> bytes:
    """A scan of words: each text drawn into a page-sized image, with no text layer; the pages numbered (from 1) in
    text_layer are set as real text instead."""
    import textwrap

    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=32)  # a scalable font ships with Pillow: no system font needed
    pdf = FPDF(format="A4")
    pdf.set_font("Helvetica", size=11)
    for number, text in enumerate(pages, start=1):
        pdf.add_page()
        if number in text_layer:
            pdf.multi_cell(175, 6, text)
            continue
        image = Image.new("L", (1240, 1754), "white")  # A4 at 150 DPI, as a desk scanner saves it
        ImageDraw.Draw(image).multiline_text((120, 150), textwrap.fill(text, 55), fill="black", font=font, spacing=14)
        pdf.image(image, x=0, y=0, w=210, h=297)
    return bytes(pdf.output())


def glyph_name_pdf(pages: int = 2, seed: int = 1) -> bytes:
    """Pages set in a Type 3 font with no map to Unicode: a reader gets only glyph names (/g437/g258/...), as
    from some PDFs made by old print drivers."""
    import random

    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        FloatObject,
        NameObject,
        NumberObject,
    )

    rng = random.Random(seed)
    glyphs = [f"g{number}" for number in rng.sample(range(3, 600), 60)]
    writer = PdfWriter()
    for _ in range(pages):
        page = writer.add_blank_page(612, 792)
        procedures = DictionaryObject()
        for name in glyphs:
            drawing = DecodedStreamObject()
            drawing.set_data(b"500 0 0 0 400 600 d1 0 0 400 600 re f")
            procedures[NameObject("/" + name)] = writer._add_object(drawing)
        font = DictionaryObject({
            NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type3"),
            NameObject("/FontBBox"): ArrayObject([NumberObject(0)] * 4),
            NameObject("/FontMatrix"): ArrayObject([FloatObject(0.001), NumberObject(0), NumberObject(0),
                                                    FloatObject(0.001), NumberObject(0), NumberObject(0)]),
            NameObject("/CharProcs"): procedures,
            NameObject("/Encoding"): DictionaryObject({
                NameObject("/Type"): NameObject("/Encoding"),
                NameObject("/Differences"): ArrayObject([NumberObject(1)] + [NameObject("/" + g) for g in glyphs]),
            }),
            NameObject("/FirstChar"): NumberObject(1), NameObject("/LastChar"): NumberObject(len(glyphs)),
            NameObject("/Widths"): ArrayObject([NumberObject(500)] * len(glyphs)),
        })
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/T1"): writer._add_object(font)})}
        )
        lines = []
        for row in range(30):
            codes = bytes(rng.randrange(1, len(glyphs) + 1) for _ in range(60))
            escaped = codes.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
            lines.append(b"BT /T1 10 Tf 40 %d Td (" % (750 - row * 20) + escaped + b") Tj ET")
        content = DecodedStreamObject()
        content.set_data(b"\n".join(lines))
        page[NameObject("/Contents")] = writer._add_object(content)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()
