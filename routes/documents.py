"""The documents resource: POST /documents (store a file or a text; reading it runs as a job), GET /documents (list,
search), GET/PATCH/DELETE /documents/<id>, GET /documents/<id>/pages/<n>. The library (library/) and the document
task (tasks/ingest.py) do the work; these views translate."""

from __future__ import annotations

from flask import Blueprint, Response, g, request, url_for

from library.search import search_words
from routes.apispec import LIBRARY, answers, api
from routes.auth import current_library
from routes.errors import invalid_request
from routes.inputs import upload_name
from routes.resources import get_jobs, get_library, get_settings
from routes.responses import json_response
from routes.schemas import (
    AsyncQuery,
    DocumentDetail,
    DocumentForm,
    DocumentList,
    DocumentListQuery,
    DocumentPatch,
    DocumentText,
    MadeResult,
    PageView,
    validate,
)
from routes.submission import answer_job, job_answers
from tasks import GENERATE_TASKS, new_document_job
from tasks.base import moment
from tasks.document import check_text, from_text
from tasks.errors import InputError, UnsupportedFileError
from tasks.ingest import DocumentInfo, DocumentOptions, StoredResult, Upload

bp = Blueprint("documents", __name__)
DOCUMENT_ID = {"document_id": "The `document_id` POST /documents answered with."}


def _stored(document: StoredResult | DocumentInfo, created: bool) -> Response:
    """201 with the new document's Location, or 200 with the document the library already had."""
    location = url_for("documents.get_document", document_id=document.document_id)
    info = StoredResult(**{**document.model_dump(), "created": created})
    return json_response(info, 201 if created else 200, {"Location": location})


def _read_upload() -> tuple[Upload, DocumentOptions, bool]:
    """The upload of this request (a JSON text or a multipart file), its options and whether it is async."""
    settings = get_settings()
    if request.mimetype == "multipart/form-data":
        upload = request.files.get("file")
        if upload is None:
            raise invalid_request("send the document in a form field named 'file' (a PDF, .txt, .md, .html or .docx "
                                  "file), or JSON {\"text\": ...}")
        form = validate(DocumentForm, request.form.to_dict(), settings, strict=False, drop_empty=True)
        data = upload.read()
        if not data:
            raise InputError(f"the file {upload_name(upload)} is empty")
        return (Upload(data, "file", upload_name(upload), upload.mimetype or "", form.pages,
                       form.password), DocumentOptions(title=form.title), form.run_async)
    if not request.is_json:
        raise UnsupportedFileError("send JSON {\"text\": ...} with 'Content-Type: application/json', or a multipart "
                                   f"form with a 'file' field (got {request.mimetype or 'no content type'})")
    body = validate(DocumentText, request.get_json(silent=True), settings, strict=True)
    from_text(check_text(body.text), settings.max_text_chars)  # refused now (400, 413), not after queueing
    return Upload(body.text.encode("utf-8"), "text"), DocumentOptions(title=body.title), body.run_async


@bp.post("/documents")
@api.validate(query=AsyncQuery, json=DocumentText, form=DocumentForm,
              resp=job_answers(400, 409, 413, 415, 422, 500, 503,
                               HTTP_201=(StoredResult, "The document, stored."),
                               HTTP_200=(StoredResult, "The library already had this upload: that document.")),
              tags=[LIBRARY], operation_id="addDocument")
def add_document():
    """Store a document

    A PDF, text, Markdown, HTML or Word file (multipart `file`, with `pages` and `password` for PDFs), or JSON
    `{"text", "title"}`. It is read once, with the same extraction, limits and refusals as the generate endpoints
    (a PDF without a text layer is read with OCR where the server has it); files without pages are cut into pages
    of about 3,000 characters. Reading and indexing run as a job: 201 when done within SYNC_TIMEOUT_S, else 202
    with the job. The same bytes (and `pages`) again answer 200 with the document already stored.
    """
    query = validate(AsyncQuery, request.args.to_dict(), get_settings(), strict=False, drop_empty=True)
    upload, options, run_async = _read_upload()
    existing = get_library().find(current_library(), upload.source_key(current_library()))
    if existing is not None:
        return _stored(DocumentInfo.of(existing), created=False)
    job = get_jobs().submit(new_document_job(upload, options, g.get("request_id"), current_library()))

    def stored(finished) -> Response:
        result = StoredResult.model_validate(finished.result)
        return _stored(result, created=result.created)

    return answer_job(job, run_async or query.run_async, on_success=stored)


@bp.get("/documents")
@api.validate(query=DocumentListQuery, resp=answers(400, 500, HTTP_200=(DocumentList, "A page of documents, with a "
                                                                                     "`next` link when it is full.")),
              tags=[LIBRARY], operation_id="listDocuments")
def list_documents():
    """The documents of your library, newest first"""
    query = validate(DocumentListQuery, request.args.to_dict(), get_settings(), strict=False, drop_empty=True)
    search = None
    if query.q is not None:
        search = search_words(query.q)
        if not search:
            raise invalid_request("'q' has no words to search for")
    documents = get_library().list(current_library(), query.limit, query.offset, search)
    full = len(documents) == query.limit
    following = dict(limit=query.limit, offset=query.offset + query.limit, **({"q": query.q} if query.q else {}))
    return json_response(DocumentList(
        documents=[DocumentInfo.of(document) for document in documents], limit=query.limit, offset=query.offset,
        next=url_for("documents.list_documents", **following) if full else None,
    ))


@bp.get("/documents/<document_id>")
@api.validate(resp=answers(404, 500, HTTP_200=(DocumentDetail, "The document and the results made for it.")),
              tags=[LIBRARY], operation_id="getDocument", path_parameter_descriptions=DOCUMENT_ID)
def get_document(document_id: str):
    """A stored document, with its summaries and key points"""
    library = get_library()
    document = library.get(current_library(), document_id)
    made = [MadeResult(task=task, options=options, made_at=moment(finished_at),
                       result=GENERATE_TASKS[task].result.model_validate(result))
            for task, options, result, finished_at in library.results(current_library(), document_id, GENERATE_TASKS)]
    return json_response(DocumentDetail(**DocumentInfo.of(document).model_dump(), results=made))


@bp.get("/documents/<document_id>/pages/<int(signed=True):number>")
@api.validate(resp=answers(404, 500, HTTP_200=(PageView, "The page's text.")),
              tags=[LIBRARY], operation_id="getDocumentPage",
              path_parameter_descriptions={**DOCUMENT_ID, "number": "The page number, from 1."})
def get_page(document_id: str, number: int):
    """One page of a stored document: its clean text"""
    library = get_library()
    document = library.get(current_library(), document_id)
    page = library.page(current_library(), document_id, number)
    return json_response(PageView(document_id=document_id, page=page.number, pages=document.pages, ocr=page.ocr,
                                  text=page.text))


@bp.patch("/documents/<document_id>")
@api.validate(json=DocumentPatch, resp=answers(400, 404, 415, 500, HTTP_200=(DocumentInfo, "The document.")),
              tags=[LIBRARY], operation_id="renameDocument", path_parameter_descriptions=DOCUMENT_ID)
def rename_document(document_id: str):
    """Give a document a new title"""
    if not request.is_json:
        raise UnsupportedFileError("send JSON {\"title\": ...} with 'Content-Type: application/json'")
    body = validate(DocumentPatch, request.get_json(silent=True), get_settings(), strict=True)
    return json_response(DocumentInfo.of(get_library().rename(current_library(), document_id, body.title.strip())))


@bp.delete("/documents/<document_id>")
@api.validate(resp=answers(404, 500, HTTP_204=(None, "Deleted.")), tags=[LIBRARY], operation_id="deleteDocument",
              path_parameter_descriptions=DOCUMENT_ID)
def delete_document(document_id: str):
    """Delete a document

    Its pages, passages, index entries and every result made from it go with it; it leaves the collections that
    named it. A question or summary still waiting or running for it ends with 409 `document_deleted`.
    """
    get_library().delete(current_library(), document_id)
    return Response(status=204)
