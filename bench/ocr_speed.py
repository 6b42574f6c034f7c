"""OCR speed (pages per second) on the real scanned PDFs, read as the API reads them (sandboxed child process).

    .venv/bin/python bench/ocr_speed.py [path/to.pdf ...] [--repeat 3]

Default input: the scans in ../shared/pdfs/ (their README says which have no text layer): cardinal.pdf (4 pages,
two of them upside down), c03-29.pdf (1 book page) and multipage.pdf (6 pages, 5 without a text layer). Needs
Tesseract with English data (python3 manage.py install).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "pdfs"
DEFAULT_PDFS = [SHARED / "cardinal.pdf", SHARED / "c03-29.pdf", SHARED / "multipage.pdf"]


def _tesseract_version() -> str:
    printed = subprocess.run(["tesseract", "--version"], capture_output=True, text=True).stdout
    return printed.splitlines()[0] if printed else "unknown"


def main() -> None:
    from pdf_tools import read_pdf
    from pdf_tools.ocr import DPI, ocr_available

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdfs", nargs="*", type=Path, default=DEFAULT_PDFS)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not ocr_available():
        sys.exit("OCR is not installed: python3 manage.py install installs tesseract-ocr and tesseract-ocr-eng")

    print("command: .venv/bin/python bench/ocr_speed.py " + " ".join(sys.argv[1:]))
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, {_tesseract_version()}, {DPI} DPI, one engine thread")
    total_pages = 0
    total_seconds = 0.0
    for path in args.pdfs:
        data = path.read_bytes()
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            document = read_pdf(data)
            times.append(time.perf_counter() - started)
        seconds = statistics.median(times)
        pages = sum(page.ocr for page in document.pages)
        skipped = len(document.skipped)
        total_pages += pages
        total_seconds += seconds
        print(f"{path.name}: {pages} of {document.page_count} pages read with OCR ({skipped} skipped) in "
              f"{seconds:.2f} s (median of {args.repeat}) = {pages / seconds:.2f} pages/s")
    print(f"all: {total_pages} OCR pages in {total_seconds:.2f} s = {total_pages / total_seconds:.2f} pages/s "
          "(whole reads: opening, text layer, rendering, OCR, clean-up)")


if __name__ == "__main__":
    main()
