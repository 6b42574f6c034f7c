"""Turn a request (JSON, or a multipart form with a file) into a task's validated request and its document; the
document itself is read by tasks/document.py."""

from __future__ import annotations

from pathlib import PurePath

from flask import Flask, request

from jobs.signals import in_native_thread
from llm import TextBlock
from routes.auth import current_library
from routes.errors import ApiError, invalid_request
from routes.resources import get_library, get_settings
from routes.schemas import FORMS, PDF_ONLY_FIELDS, parse_request, validate
from tasks import Received, Task, TaskOptions
from tasks.document import Document, check_text, from_file, from_text
from tasks.errors import UnsupportedFileError


def init_app(app: Flask) -> None:
    """Answer a URL holding a NUL character (%00) before any route reads it (PostgreSQL cannot even compare with
    one; bodies are checked by routes/schemas.validate): no id or name holds one, so such a path is not found, and
    such a query is refused."""

    @app.before_request
    def _refuse_nul_in_url() -> None:
        if "\x00" in request.path:
            raise ApiError(404, "not_found", "nothing is at this URL: no id or name holds a NUL character (%00)")
        if b"%00" in request.query_string or b"\x00" in request.query_string:
            raise invalid_request("the query holds a NUL character (%00)")


def stored_document(document_id: str) -> Received:
    """A document of this request's library, as tasks read documents (one block per stored page)."""
    library = get_library()
    document = library.get(current_library(), document_id)
    pages = library.pages(current_library(), document_id)
    blocks = [TextBlock(page.text, page.number) for page in pages]
    return Received(Document(blocks, document.pages, list(document.warnings)), raw=b"", kind="document",
                    filename=document.filename, title=document.title)


def _read_form(task: Task):
    """A multipart form: the same options as form fields, and a file, a text or a stored document."""
    settings = get_settings()
    form = request.form.to_dict()
    upload = request.files.get("file")
    sources = [name for name in ("text", *task.text_aliases, "document_id") if form.get(name)]
    if upload is None:
        if request.files:
            raise invalid_request("send the document in a form field named 'file'")
        if not sources:
            raise invalid_request("a form needs a 'file' field (a PDF, .txt, .md, .html or .docx file), a 'text' "
                                  "field or a 'document_id'")
    if len(sources) + (upload is not None) > 1:
        raise invalid_request("send one of a file, a text or a 'document_id', not several")
    fields = validate(FORMS[task.name], form, settings, strict=False, drop_empty=True)
    if upload is None:
        given = [name for name in PDF_ONLY_FIELDS if getattr(fields, name)]
        if given:
            raise invalid_request(f"'{given[0]}' applies only to an uploaded PDF file")
        if fields.document_id is not None:
            return fields, stored_document(fields.document_id)
        if fields.text is None:
            raise invalid_request("'text' is required")
        return fields, from_text(check_text(fields.text), settings.max_text_chars)
    document = in_native_thread(
        from_file, upload.read(), upload_name(upload), upload.mimetype or "",
        pages=fields.pages, password=fields.password, limits=settings.pdf_limits(), max_chars=settings.max_text_chars,
    )
    return fields, document


def upload_name(upload) -> str:
    """An uploaded file's name as stored and shown: its last part, without control characters."""
    name = "".join(char for char in PurePath(upload.filename or "").name if char.isprintable())
    return name or "upload"


def one_of(body: object, names: tuple[str, ...], missing: str) -> str:
    """The one of these fields the request sent; a 400 saying `missing` when it sent none, naming them when
    several."""
    given = [name for name in names if getattr(body, name) is not None]
    if not given:
        raise invalid_request(missing)
    if len(given) > 1:
        raise invalid_request(f"send one of {' or '.join(repr(name) for name in given)}, not both")
    return given[0]


def json_body() -> object:
    """The request's JSON body (validated by its model afterwards); 415 when it is not JSON, 400 when unreadable."""
    if not request.is_json:
        raise UnsupportedFileError("send JSON with 'Content-Type: application/json' "
                                   f"(got {request.mimetype or 'no content type'})")
    try:
        body = request.get_json(silent=True)
    except RecursionError:
        raise invalid_request("the JSON body is nested too deeply") from None
    if body is None:
        raise invalid_request("the body is not valid JSON")
    return body


def read_request(task: Task) -> tuple[TaskOptions, Received]:
    """The validated request (options, `async`) and the document of a JSON or multipart request for a task."""
    if request.mimetype == "multipart/form-data":
        return _read_form(task)
    if not request.is_json:
        raise UnsupportedFileError(
            "send JSON with 'Content-Type: application/json', or a multipart form with a 'file' field "
            f"(got {request.mimetype or 'no content type'})"
        )
    body = json_body()
    if isinstance(body, dict):
        for name in PDF_ONLY_FIELDS:
            if name in body:
                raise invalid_request(f"'{name}' applies only to an uploaded PDF file (a multipart form)")
    settings = get_settings()
    options = parse_request(task, body, settings)
    if options.document_id is not None:
        return options, stored_document(options.document_id)
    return options, from_text(options.text, settings.max_text_chars)
