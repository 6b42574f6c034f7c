"""PDF extraction speed (pages per second) and peak memory on the long real-world manual.

    .venv/bin/python bench/pdf_extraction.py [path/to.pdf] [--repeat 3]

Default input: ../shared/pdfs/reportlab-userguide.pdf (134 pages). Prints one line per measurement.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_PDF = ROOT.parent / "shared" / "pdfs" / "reportlab-userguide.pdf"


def _worker(path: Path) -> None:
    """Extract in this fresh process and report time and peak resident memory as JSON."""
    from pdf_tools.extract import read_document

    data = path.read_bytes()
    before_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    document = read_document(data)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    characters = sum(len(page.text) for page in document.pages)
    print(json.dumps({"pages": document.page_count, "used": len(document.pages), "seconds": seconds,
                      "baseline_mb": before_kb / 1024, "peak_mb": peak_kb / 1024, "characters": characters}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pdf", nargs="?", type=Path, default=DEFAULT_PDF)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.pdf)
        return

    runs = []
    for _ in range(args.repeat):
        output = subprocess.run([sys.executable, __file__, "--worker", str(args.pdf)], check=True,
                                capture_output=True, text=True).stdout
        runs.append(json.loads(output))
    seconds = statistics.median(run["seconds"] for run in runs)
    pages = runs[0]["pages"]

    from pdf_tools import read_pdf

    data = args.pdf.read_bytes()
    sandboxed = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        read_pdf(data)
        sandboxed.append(time.perf_counter() - started)

    print("command: .venv/bin/python bench/pdf_extraction.py " + " ".join(sys.argv[1:]))
    print(f"machine: {platform.processor() or platform.machine()}, {__import__('os').cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(f"input: {args.pdf.name}, {pages} pages, {runs[0]['characters']:,} characters of text kept "
          f"from {runs[0]['used']} pages")
    print(f"extraction (in-process, median of {args.repeat}): {seconds:.2f} s = {pages / seconds:.1f} pages/s")
    print(f"extraction (sandboxed child process, as the API runs it, median of {args.repeat}): "
          f"{statistics.median(sandboxed):.2f} s = {pages / statistics.median(sandboxed):.1f} pages/s")
    print(f"peak resident memory of the extracting process: {max(run['peak_mb'] for run in runs):.0f} MB "
          f"(of which {runs[0]['baseline_mb']:.0f} MB before reading: interpreter and libraries)")


if __name__ == "__main__":
    main()
