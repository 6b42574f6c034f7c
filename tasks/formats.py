"""Text out of HTML and Word files, read with well-kept libraries: BeautifulSoup (with Python's own html.parser, so
no extra parser is needed) and python-docx. Paragraph ends are kept as blank lines, which paging and chunking use."""

from __future__ import annotations

import io
import re
import zipfile

from tasks.errors import UnsupportedFileError

HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
DOCX_SUFFIX = ".docx"
# Elements whose text is not part of what a reader reads.
_HIDDEN = ("script", "style", "noscript", "template", "head", "svg", "iframe", "object")
_BLOCKS = ("p", "div", "section", "article", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "pre",
           "br", "dd", "dt", "figcaption", "caption", "table", "ul", "ol", "header", "footer", "main", "aside")


def looks_like_html(data: bytes) -> bool:
    """Whether the start of a file is HTML markup."""
    head = data[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<body" in head


def looks_like_docx(data: bytes) -> bool:
    """Whether a file is a Word document (a ZIP holding word/document.xml)."""
    if not data.startswith(b"PK"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False


def html_text(markup: str) -> tuple[str, str | None]:
    """The readable text of an HTML page (paragraphs as blank-line separated blocks), and its title if it has
    one."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    for hidden in soup.find_all(_HIDDEN):
        hidden.decompose()
    for block in soup.find_all(_BLOCKS):
        block.insert_before("\n\n")
        block.insert_after("\n\n")
    text = soup.get_text()
    paragraphs = [" ".join(part.split()) for part in re.split(r"\n\s*\n", text)]
    return "\n\n".join(part for part in paragraphs if part), title or None


def docx_text(data: bytes, name: str) -> tuple[str, str | None]:
    """The text of a Word document (its paragraphs, then its tables' cells), and its title property."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile) as error:
        raise UnsupportedFileError(f"{name} is not a readable Word (.docx) document") from error
    paragraphs = [paragraph.text.strip() for paragraph in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            cells = list(dict.fromkeys(cell.text.strip() for cell in row.cells if cell.text.strip()))
            paragraphs.append(" | ".join(cells))
    title = (document.core_properties.title or "").strip() or None
    return "\n\n".join(paragraph for paragraph in paragraphs if paragraph), title
