"""What the service does with a document, one module per task (summary.py, points.py, ingest.py for storing a
document, ask.py for questions, message.py for messages,
audio.py for speech, chat.py for OpenAI-style chat completions), found by name here.

Adding a task means a module that defines its options, its answer and its run function as a `Task`, one line in
TASKS below, and one route that submits it (routes/generate.py for a task on a text or file).
"""

from __future__ import annotations

import json
import uuid

from jobs.service import NewJob, request_key
from tasks.ask import ASK, AskOptions
from tasks.audio import AUDIO
from tasks.base import Task, TaskOptions, TaskResult, TaskWork
from tasks.chat import CHAT, ChatMessage, ChatOptions, encode_messages
from tasks.document import Document, Received
from tasks.ingest import DOCUMENT, DocumentOptions, Upload
from tasks.message import MESSAGE, MessageOptions
from tasks.points import POINTS
from tasks.summary import SUMMARY

# Tasks on a text or a file, each with its generate endpoint (routes/generate.py).
GENERATE_TASKS: dict[str, Task] = {task.name: task for task in (SUMMARY, POINTS)}
TASKS: dict[str, Task] = {**GENERATE_TASKS, DOCUMENT.name: DOCUMENT, ASK.name: ASK, MESSAGE.name: MESSAGE,
                          AUDIO.name: AUDIO, CHAT.name: CHAT}

__all__ = ["GENERATE_TASKS", "TASKS", "Document", "Received", "Task", "TaskOptions", "TaskResult", "TaskWork",
           "new_chat_job", "new_document_job", "new_job", "new_message_job", "new_question_job"]


def new_job(task: Task, options: TaskOptions, received: Received, model_name: str, request_id: str | None, *,
            library: str = "", document_id: str | None = None) -> NewJob:
    """The job for a request: its options as stored, its document, and the key that identical requests (same
    library, task, model, options, page range and bytes sent, or stored document) share."""
    stored = options.model_dump(exclude_none=True)
    source = document_id.encode() if document_id else received.raw
    key = request_key(library, task.name, model_name,
                      json.dumps({**stored, "pages": received.pages_asked}, sort_keys=True), source)
    return NewJob(task=task.name, options=stored, input=received.document.encode(), request_key=key,
                  input_kind="document" if document_id else received.kind, filename=received.filename,
                  request_id=request_id, library=library, document_ids=(document_id,) if document_id else ())


def new_document_job(upload: Upload, options: DocumentOptions, request_id: str | None, library: str) -> NewJob:
    """The job that stores an upload in a library; an identical upload still being read joins it."""
    return NewJob(task=DOCUMENT.name, options=options.model_dump(exclude_none=True), input=upload.encode(),
                  request_key=upload.source_key(library), input_kind=upload.kind, filename=upload.filename,
                  request_id=request_id, library=library, reuse=False)


def new_question_job(options: AskOptions, model_name: str, request_id: str | None, library: str) -> NewJob:
    """The job that answers a question; identical questions of one library share it (and its result, until the
    documents change: deleting one deletes the results that read it)."""
    stored = options.model_dump(exclude_none=True)
    key = request_key(library, ASK.name, model_name, json.dumps(stored, sort_keys=True))
    return NewJob(task=ASK.name, options=stored, input=b"", request_key=key, input_kind="question",
                  request_id=request_id, library=library, document_ids=tuple(options.document_ids))


def new_message_job(options: MessageOptions, received: Received | None, model_name: str, request_id: str | None,
                    library: str, document_id: str | None = None) -> NewJob:
    """The job that writes messages, from the points sent or from a stored document's key points (the document
    is its input)."""
    stored = options.model_dump(exclude_none=True)
    key = request_key(library, MESSAGE.name, model_name, json.dumps(stored, sort_keys=True), document_id or "")
    return NewJob(task=MESSAGE.name, options=stored, input=received.document.encode() if received else b"",
                  request_key=key, input_kind="document" if document_id else "points", request_id=request_id,
                  library=library, document_ids=(document_id,) if document_id else ())


def new_chat_job(options: ChatOptions, messages: list[ChatMessage], model_name: str, request_id: str | None,
                 library: str) -> NewJob:
    """The job that answers a chat request. Each request is its own (as OpenAI's are): never joined with an identical
    one, and never answered from a cached result (a sampled answer differs each time)."""
    key = request_key(library, CHAT.name, model_name, uuid.uuid4().hex)
    return NewJob(task=CHAT.name, options=options.model_dump(exclude_none=True), input=encode_messages(messages),
                  request_key=key, input_kind="messages", request_id=request_id, library=library, reuse=False)
