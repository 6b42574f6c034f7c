"""Page ranges such as "1-3,7"."""

from __future__ import annotations

import re

from pdf_tools.errors import PageRangeError

_PART = re.compile(r"^\s*(\d{1,7})\s*(?:-\s*(\d{1,7})\s*)?$")


def parse_pages(spec: str | None, page_count: int) -> list[int]:
    """The 1-based page numbers a spec selects, in document order; all pages when spec is empty."""
    if spec is None or not spec.strip():
        return list(range(1, page_count + 1))
    selected: set[int] = set()
    for part in spec.split(","):
        match = _PART.match(part)
        if not match:
            raise PageRangeError(f"'pages' must look like 1-3,7 (got {spec[:40]!r})")
        first = int(match[1])
        last = int(match[2]) if match[2] else first
        if first < 1 or last < first:
            raise PageRangeError(f"the page range {part.strip()[:40]!r} is not valid")
        if last > page_count:
            plural = "s" if page_count != 1 else ""
            raise PageRangeError(f"the document has {page_count} page{plural}; {part.strip()[:40]!r} is outside it")
        selected.update(range(first, last + 1))
    return sorted(selected)


def describe_pages(pages: list[int]) -> str:
    """Page numbers as a short phrase: 'page 3' or 'pages 2, 5-7'."""
    runs: list[str] = []
    start = previous = None
    for page in sorted(pages):
        if previous is not None and page == previous + 1:
            previous = page
            continue
        if start is not None:
            runs.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = page
    if start is not None:
        runs.append(str(start) if start == previous else f"{start}-{previous}")
    return ("page " if len(pages) == 1 else "pages ") + ", ".join(runs)
