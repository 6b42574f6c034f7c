"""Turn a request (JSON, or a multipart form with a file) into a task's validated request and its document."""

from __future__ import annotations

from pathlib import PurePath

from flask import request

from llm import TextBlock, blocks_from_text
from pdf_tools import is_pdf, read_pdf
from routes.errors import ApiError, invalid_request
from routes.resources import get_settings
from routes.schemas import PDF_ONLY_FIELDS, parse_request
from tasks import Document, Received, Task

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text"}


def _unsupported(message: str) -> ApiError:
    return ApiError(415, "unsupported_media_type", message)


def _check_length(text: str) -> None:
    limit = get_settings().max_text_chars
    if len(text) > limit:
        raise ApiError(
            413, "payload_too_large", f"the text has {len(text):,} characters; the limit is {limit:,} (MAX_TEXT_CHARS)"
        )


def _decode_text_file(data: bytes, name: str) -> str:
    for bom, encoding in ((b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"), (b"\xef\xbb\xbf", "utf-8-sig")):
        if data.startswith(bom):
            try:
                return data.decode(encoding)
            except UnicodeDecodeError:
                raise _unsupported(f"{name} is not readable {encoding} text") from None
    if b"\x00" in data:
        raise _unsupported(f"{name} is not a text file (it contains binary data)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    if best is None:
        raise _unsupported(f"{name} is not readable text in any known encoding")
    return str(best)


def _text_received(text: str) -> Received:
    return Received(Document(blocks_from_text(text)), raw=text.encode("utf-8"))


def _read_file(data: bytes, name: str, content_type: str, form: dict[str, str]) -> Received:
    password = form.pop("password", None) or None
    pages = form.pop("pages", None) or None
    if not data:
        raise invalid_request(f"the file {name} is empty")
    suffix = PurePath(name).suffix.lower()
    # A text file that merely mentions "%PDF-" is still text: for text names, only a real header counts.
    if is_pdf(data) and (suffix not in TEXT_SUFFIXES or data.lstrip()[:5] == b"%PDF-"):
        document = read_pdf(data, password=password, pages=pages, limits=get_settings().pdf_limits())
        _check_length("".join(page.text for page in document.pages))
        blocks = [TextBlock(page.text, page.number) for page in document.pages]
        return Received(Document(blocks, len(document.pages), list(document.warnings)), data, "pdf", name, pages)
    if suffix in TEXT_SUFFIXES or (content_type.startswith("text/") and suffix not in (".pdf",)):
        if pages or password:
            raise invalid_request("'pages' and 'password' apply only to PDF files")
        text = _decode_text_file(data, name)
        if not text.strip():
            raise invalid_request(f"the file {name} has no text")
        _check_length(text)
        return Received(Document(blocks_from_text(text)), raw=data, kind="file", filename=name)
    if suffix == ".pdf" or content_type == "application/pdf":
        raise _unsupported(f"{name} is not a PDF, whatever its name says: its content is not PDF data")
    raise _unsupported(f"{name}: only PDF, .txt and .md files are accepted")


def read_request(task: Task):
    """The validated request (options, `async`) and the document of a JSON or multipart request for a task."""
    settings = get_settings()
    if request.mimetype == "multipart/form-data":
        form = {key: value for key, value in request.form.items()}
        upload = request.files.get("file")
        if upload is None:
            if any(name in request.files for name in request.files):
                raise invalid_request("send the document in a form field named 'file'")
            if "text" not in form:
                raise invalid_request("a form needs a 'file' field (a PDF, .txt or .md file) or a 'text' field")
            document = None
        else:
            if any(name in form for name in ("text", *task.text_aliases)):
                raise invalid_request("send either a file or a text, not both")
            name = PurePath(upload.filename or "upload").name
            document = _read_file(upload.read(), name, upload.mimetype or "", form)
        unknown = [name for name in PDF_ONLY_FIELDS if form.get(name)]  # empty fields count as absent
        if unknown:
            raise invalid_request(f"'{unknown[0]}' applies only to an uploaded PDF file")
        options = parse_request(task, form, settings, strict=False, with_file=document is not None)
        if document is None:
            _check_length(options.text)
            document = _text_received(options.text)
        return options, document
    if not request.is_json:
        raise _unsupported(
            "send JSON with 'Content-Type: application/json', or a multipart form with a 'file' field "
            f"(got {request.mimetype or 'no content type'})"
        )
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise invalid_request("the JSON body is nested too deeply") from None
    if body is None:
        raise invalid_request("the body is not valid JSON")
    if isinstance(body, dict):
        for name in PDF_ONLY_FIELDS:
            if name in body:
                raise invalid_request(f"'{name}' applies only to an uploaded PDF file (a multipart form)")
    options = parse_request(task, body, settings, strict=True)
    _check_length(options.text)
    return options, _text_received(options.text)
