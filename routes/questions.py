"""POST /ask (a question answered from stored documents, as a job) and the collections resource: PUT, GET and
DELETE /collections/<name>, GET /collections. The ask task (tasks/ask.py) and the library do the work; these views
translate."""

from __future__ import annotations

import re

from flask import Blueprint, Response, g, request

from routes.apispec import LIBRARY, answers, api
from routes.auth import current_library
from routes.errors import invalid_request
from routes.inputs import json_body
from routes.resources import get_jobs, get_library, get_model_host, get_settings
from routes.responses import json_response
from routes.schemas import (
    COLLECTION_NAME,
    AskRequest,
    AsyncQuery,
    CollectionBody,
    CollectionList,
    CollectionView,
    validate,
)
from routes.submission import answer_job, job_answers
from tasks import new_question_job
from tasks.ask import AskOptions, AskResult, asked_documents
from tasks.base import moment

bp = Blueprint("questions", __name__)
NAME = {"name": "The collection's name: letters, digits, `.`, `_`, `-` (up to 64)."}


@bp.post("/ask")
@api.validate(query=AsyncQuery, json=AskRequest,
              resp=job_answers(400, 404, 409, 413, 415, 422, 500, 503,
                               HTTP_200=(AskResult, "The answer and its quotes.")),
              tags=[LIBRARY], operation_id="ask")
def ask():
    """Ask stored documents a question

    The answer comes with quotes (`citations`), each a verbatim span of the page it names, checked by the server.
    When the documents do not hold an answer, `answered` is false and the answer says so. Name the documents, or a
    collection (whose instructions are added to the question); `history` holds the conversation so far, for
    follow-up questions. It runs as a job like every request (200 when done within SYNC_TIMEOUT_S, else 202).
    """
    settings = get_settings()
    query = validate(AsyncQuery, request.args.to_dict(), settings, strict=False, drop_empty=True)
    body = validate(AskRequest, json_body(), settings, strict=True)
    if not body.question.strip():
        raise invalid_request("'question' must not be empty")
    if (body.document_ids is None) == (body.collection is None):
        raise invalid_request("name the documents ('document_ids') or a 'collection', one of the two")
    document_ids, instructions = asked_documents(get_library(), current_library(), body.document_ids,
                                                body.collection)
    options = validate(AskOptions, {"question": body.question, "document_ids": document_ids,
                                    "history": [turn.model_dump() for turn in body.history],
                                    "instructions": instructions, "temperature": body.temperature},
                       settings, strict=True)
    model = get_model_host().get()  # 503 while the model loads or when it failed to load
    job = get_jobs().submit(new_question_job(options, model.name, g.get("request_id"), current_library()))
    return answer_job(job, body.run_async or query.run_async)


def _view(collection) -> CollectionView:
    return CollectionView(name=collection.name, document_ids=collection.document_ids,
                          instructions=collection.instructions, created_at=moment(collection.created_at),
                          updated_at=moment(collection.updated_at))


def _checked_name(name: str) -> str:
    if not re.fullmatch(COLLECTION_NAME, name):
        raise invalid_request("a collection's name is letters, digits, '.', '_' or '-' (up to 64), starting with a "
                              "letter or digit")
    return name


@bp.put("/collections/<name>")
@api.validate(json=CollectionBody, resp=answers(400, 404, 415, 500, HTTP_200=(CollectionView, "Replaced."),
                                                HTTP_201=(CollectionView, "Created.")),
              tags=[LIBRARY], operation_id="putCollection", path_parameter_descriptions=NAME)
def put_collection(name: str):
    """Create or replace a collection

    A named set of your documents with standing `instructions` added to every question asked of it (POST /ask with
    `"collection"`). A document deleted later leaves the collection.
    """
    body = validate(CollectionBody, json_body(), get_settings(), strict=True)
    collection, created = get_library().put_collection(current_library(), _checked_name(name), body.document_ids,
                                                       body.instructions)
    return json_response(_view(collection), 201 if created else 200)


@bp.get("/collections")
@api.validate(resp=answers(500, HTTP_200=(CollectionList, "Your collections, by name.")), tags=[LIBRARY],
              operation_id="listCollections")
def list_collections():
    """The collections of your library"""
    return json_response(CollectionList(collections=[_view(found) for found in
                                                     get_library().collections(current_library())]))


@bp.get("/collections/<name>")
@api.validate(resp=answers(404, 500, HTTP_200=(CollectionView, "The collection.")), tags=[LIBRARY],
              operation_id="getCollection", path_parameter_descriptions=NAME)
def get_collection(name: str):
    """A collection"""
    return json_response(_view(get_library().collection(current_library(), name)))


@bp.delete("/collections/<name>")
@api.validate(resp=answers(404, 500, HTTP_204=(None, "Deleted.")), tags=[LIBRARY], operation_id="deleteCollection",
              path_parameter_descriptions=NAME)
def delete_collection(name: str):
    """Delete a collection (its documents stay)"""
    get_library().delete_collection(current_library(), name)
    return Response(status=204)
