"""How long the checks around a summary take on the 134-page ReportLab guide: indexing its text for the fact
check, checking a summary, choosing its salient sentences (what the writer reads) and scoring a candidate. No
model is used.

    .venv/bin/python bench/fact_check_speed.py
"""

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from llm.facts import SourceIndex, fact_precision  # noqa: E402
from llm.salience import Salience  # noqa: E402
from pdf_tools import Limits, read_pdf  # noqa: E402

GUIDE = ROOT.parent / "shared" / "pdfs" / "reportlab-userguide.pdf"
SUMMARY = (
    "ReportLab is a library for creating PDF documents from Python. The PLATYPUS layer builds pages from flowables "
    "such as paragraphs and tables. Version 3.0 added support for Python 3. The canvas draws at 72 points per inch."
)


def main() -> None:
    print("command: .venv/bin/python bench/fact_check_speed.py")
    pdf = read_pdf(GUIDE.read_bytes(), limits=Limits(timeout_s=600))
    text = "\n\n".join(page.text for page in pdf.pages)
    started = time.perf_counter()
    source = SourceIndex.of(text)
    indexed = time.perf_counter() - started
    started = time.perf_counter()
    held, total = fact_precision(SUMMARY, source)
    checked = time.perf_counter() - started
    print(f"{len(pdf.pages)} pages, {len(text):,} characters: indexing {indexed:.2f} s, checking a 4-sentence "
          f"summary {checked * 1000:.1f} ms ({held} of {total} facts held)")
    started = time.perf_counter()
    salience = Salience(text)
    extract = salience.extract(2048, lambda sentence: len(sentence.split()) * 4 // 3)  # about 4 tokens per 3 words
    chosen = time.perf_counter() - started
    started = time.perf_counter()
    coverage, copied = salience.coverage(SUMMARY), salience.copied_share(SUMMARY)
    scored = time.perf_counter() - started
    print(f"salient sentences: {len(salience.sentences):,} sentences scored and about 2,048 tokens of them chosen "
          f"({len(extract.split()):,} words) in {chosen:.2f} s; scoring a candidate summary {scored * 1000:.1f} ms "
          f"(coverage {coverage:.2f}, copied {copied:.0%})")


if __name__ == "__main__":
    main()
