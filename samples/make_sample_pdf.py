"""Make samples/lighthouses.pdf from samples/lighthouses.txt: three pages, a running header and page numbers.

    .venv/bin/python samples/make_sample_pdf.py
"""

from pathlib import Path

from fpdf import FPDF

HERE = Path(__file__).resolve().parent


def main() -> None:
    """Write the sample PDF (two paragraphs a page)."""
    title, *paragraphs = [p.strip() for p in (HERE / "lighthouses.txt").read_text().split("\n\n") if p.strip()]
    pages = [paragraphs[i : i + 2] for i in range(0, len(paragraphs), 2)]
    pdf = FPDF(format="A4")
    pdf.set_title(title)
    pdf.set_creation_date(__import__("datetime").datetime(2026, 1, 1, tzinfo=__import__("datetime").UTC))
    pdf.set_auto_page_break(False)
    for number, page in enumerate(pages, start=1):
        pdf.add_page()
        pdf.set_font("Helvetica", size=9)
        pdf.set_xy(20, 10)
        pdf.cell(0, 6, "Lighthouses: a short history")
        pdf.set_xy(20, 25)
        if number == 1:
            pdf.set_font("Helvetica", style="B", size=16)
            pdf.multi_cell(170, 9, title)
            pdf.ln(4)
        pdf.set_font("Helvetica", size=12)
        for paragraph in page:
            pdf.multi_cell(170, 7, paragraph)
            pdf.ln(5)
        pdf.set_font("Helvetica", size=9)
        pdf.set_xy(20, 282)
        pdf.cell(0, 6, f"Page {number} of {len(pages)}")
    pdf.output(str(HERE / "lighthouses.pdf"))


if __name__ == "__main__":
    main()
