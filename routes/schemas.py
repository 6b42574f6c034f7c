"""Every body and query the HTTP API takes or gives, as a typed model. The same models validate requests, build
the answers (routes/responses.py) and make /openapi.json (routes/openapi.py); error bodies are in routes/errors.py,
each task's answer in its own module (tasks/).

A request body is a task's options plus the text (or, in a multipart form, a file) and `async`: those models are
made here from the task registry, so a new task needs no body written for it.
"""

from __future__ import annotations

from typing import Any, Literal, Union

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

from jobs.store import STATUSES, Job
from llm.budgets import BUDGETS
from llm.model import ModelInfo
from llm.prompts import LENGTHS
from routes.errors import ErrorDetail, invalid_request
from settings import LimitedBySettings, Settings, at_most_setting
from speech import FORMATS
from tasks import GENERATE_TASKS, TASKS, Task, TaskOptions
from tasks.ask import AskOptions, Turn
from tasks.audio import AUDIO, AudioOptions
from tasks.base import Timestamp, moment
from tasks.chat import ChatMessage
from tasks.document import check_text
from tasks.ingest import MAX_TITLE_CHARS, DocumentInfo, DocumentOptions
from tasks.message import MESSAGE, TONES, MessageOptions

# The text's length limit is a setting whose breach answers 413 (routes/inputs.py checks it); the API description
# shows it as maxLength.
MAX_LENGTH_SETTING = "x-max-length-setting"
PDF_ONLY_FIELDS = ("pages", "password")  # form fields that say how to read an uploaded PDF


def _text_or_document(schema: dict[str, Any], aliases: tuple[str, ...]) -> None:
    """The text may come under an older client's name instead, or a stored document instead of a text: describe
    them, and require exactly one."""
    text = schema["properties"]["text"]
    schema["properties"]["text"] = _not_nullable(text)
    schema["properties"]["document_id"] = _not_nullable(schema["properties"]["document_id"])
    for alias in aliases:
        schema["properties"][alias] = {**schema["properties"]["text"], "deprecated": True,
                                       "description": "An older client's name for `text`; send one of the two."}
    schema.pop("required", None)
    schema["oneOf"] = [{"required": [name]} for name in ("text", *aliases, "document_id")]


def request_model(task: Task) -> type[TaskOptions]:
    """The JSON body of the task's endpoint: its options, the text, and `async`."""

    def schema_extra(schema: dict[str, Any]) -> None:
        schema["examples"] = [task.example]
        _text_or_document(schema, task.text_aliases)

    text_names = AliasChoices("text", *task.text_aliases) if task.text_aliases else None
    return create_model(
        f"{task.title}Request", __base__=task.options, __doc__=f"The body of a {task.name} request.",
        __cls_kwargs__={"json_schema_extra": schema_extra},
        text=(str | None, Field(None, validation_alias=text_names,
                                json_schema_extra={MAX_LENGTH_SETTING: "max_text_chars"},
                                description="The text to read; it must have words (longer than MAX_TEXT_CHARS: 413).")),
        document_id=(str | None, Field(None, min_length=1, max_length=64,
                                       description="A stored document to read instead of a text (POST /documents); "
                                                   "a result made once for it and these options is reused.")),
        run_async=(bool, Field(False, validation_alias="async",
                               description="Answer 202 with a job at once instead of waiting.")),
    )


def _not_nullable(field_schema: dict[str, Any]) -> dict[str, Any]:
    """A field's schema without its null alternative (and without a null default)."""
    options = field_schema.get("anyOf")
    if isinstance(options, list) and {"type": "null"} in options:
        rest = [option for option in options if option != {"type": "null"}]
        field_schema = {key: value for key, value in field_schema.items() if key != "anyOf"}
        field_schema = {**rest[0], **field_schema} if len(rest) == 1 else {**field_schema, "anyOf": rest}
    if field_schema.get("default", ...) is None:
        field_schema = {key: value for key, value in field_schema.items() if key != "default"}
    return field_schema


def form_model(task: Task, request: type[TaskOptions]) -> type[BaseModel]:
    """The multipart form of the task's endpoint: the same options as form fields, and a file (or a text)."""

    def schema_extra(schema: dict[str, Any]) -> None:
        for name, field_schema in schema["properties"].items():  # a form field is absent or a string, never null
            schema["properties"][name] = _not_nullable(field_schema)
        schema["properties"]["file"]["contentMediaType"] = "application/octet-stream"
        schema.pop("required", None)
        schema.pop("examples", None)
        # A file, or a text without the PDF-only fields (empty ones count as absent).
        schema["oneOf"] = [
            {"required": ["file"]},
            *({"required": [name], "not": {"anyOf": [
                {"required": [pdf_field], "properties": {pdf_field: {"minLength": 1}}} for pdf_field in PDF_ONLY_FIELDS
            ]}} for name in ("text", "document_id")),
        ]
        for alias in task.text_aliases:
            schema["properties"].pop(alias, None)

    return create_model(
        f"{task.title}Form", __base__=request, __doc__="The same options as the JSON body, as form fields, with a "
        "file (or a `text` field).", __cls_kwargs__={"json_schema_extra": schema_extra},
        text=(str | None, Field(None, json_schema_extra={MAX_LENGTH_SETTING: "max_text_chars"},
                                description="The text to read, instead of a file.")),
        file=(bytes | None, Field(None, description="A PDF, .txt or .md file, judged by its content: at most "
                                  "MAX_UPLOAD_MB and MAX_PAGES pages.")),
        pages=(str | None, Field(None, description="PDF only: the pages to read, e.g. `1-3,7`.",
                                 examples=["1-3,7"])),
        password=(str | None, Field(None, description="PDF only: the PDF's password.",
                                    json_schema_extra={"format": "password"})),
    )


REQUESTS: dict[str, type[TaskOptions]] = {name: request_model(task) for name, task in GENERATE_TASKS.items()}
FORMS: dict[str, type[BaseModel]] = {name: form_model(task, REQUESTS[name]) for name, task in GENERATE_TASKS.items()}


class _Query(LimitedBySettings):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class AsyncQuery(_Query):
    """Query parameters of the generate endpoints."""

    run_async: bool = Field(False, alias="async",
                            description="Answer 202 with the job at once (also `1`/`0`, `yes`/`no`).")


class JobListQuery(_Query):
    """Query parameters of GET /jobs."""

    limit: int = Field(20, ge=1, le=200, description="How many jobs to list.")
    offset: int = Field(0, ge=0, le=10**9, description="How many of the newest jobs to skip.")


class JobWaitQuery(_Query):
    """Query parameters of GET /jobs/<id>."""

    wait: float = Field(0, ge=0, allow_inf_nan=False, json_schema_extra=at_most_setting("max_wait_s"),
                        description="Long-poll: answer as soon as the job ends, or after this many seconds "
                                    "(at most MAX_WAIT_S).")


class Progress(BaseModel):
    """How far a job has come."""

    model_config = ConfigDict(extra="forbid")

    stage: str = Field(examples=["summarizing parts"])
    done: int = Field(ge=0)
    total: int = Field(ge=0)


class ProgressEvent(Progress):
    """A `progress` event of a job's event stream."""

    status: Literal[STATUSES]


class DeltaEvent(BaseModel):
    """A `delta` event of a job's event stream: the next piece of its answer as it is written. A chat answer comes
    token by token; a summary or an answer a sentence at a time, each once it has passed its checks; messages one
    whole message at a time ("Message 1\nSubject: ...\n\nbody"). The pieces, in order, are the answer's text (or
    for messages, every message); nothing streamed is taken back. A stream that begins while the job runs gets what
    was written so far as its first piece."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(description="The next piece of the answer.")
    offset: int = Field(ge=0, description="Characters of the answer before this piece.")


class JobReference(BaseModel):
    """A job a request became: follow its `status_url`."""

    model_config = ConfigDict(extra="forbid")

    job_id: str
    status: Literal[STATUSES]
    status_url: str = Field(description="Where the job is: GET it, or DELETE it to cancel.")


def _omitted_when_none(description: str) -> Any:
    return Field(None, exclude_if=lambda value: value is None, description=description)


class JobView(BaseModel):
    """A job: status, progress, and once it ends its result or error (never its input)."""

    model_config = ConfigDict(extra="forbid")

    job_id: str
    task: Literal[tuple(TASKS)]
    status: Literal[STATUSES]
    progress: Progress
    created_at: Timestamp
    started_at: Timestamp | None
    finished_at: Timestamp | None
    status_url: str
    result: Union[tuple(task.result for task in TASKS.values())] | None = _omitted_when_none(  # noqa: UP007
        "Once the job succeeded: the answer of its endpoint."
    )
    error: ErrorDetail | None = _omitted_when_none(
        "Once the job failed or was cancelled: why (the error a synchronous request gets)."
    )

    @classmethod
    def of(cls, job: Job, status_url: str) -> JobView:
        """A job as the API shows it."""
        result = None
        if job.result is not None:
            result = TASKS[job.task].result.model_validate(job.result)
        error = ErrorDetail.model_validate(job.error) if job.error else None
        return cls(
            job_id=job.id, task=job.task, status=job.status,
            progress=Progress(**{"stage": job.status, "done": 0, "total": 0, **job.progress}),
            created_at=moment(job.created_at), started_at=moment(job.started_at),
            finished_at=moment(job.finished_at),
            status_url=status_url, result=result, error=error,
        )


class JobList(BaseModel):
    """A page of jobs, newest first."""

    model_config = ConfigDict(extra="forbid")

    jobs: list[JobView]
    limit: int
    offset: int
    next: str | None = _omitted_when_none("The next page, present when this one is full.")


class Health(BaseModel):
    """The model is loaded."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["ok"]
    model: ModelInfo
    role: Literal["all", "api", "worker"] = Field("all", description="What this process does (ROLE).")
    workers: int | None = Field(None, description="On PostgreSQL: workers whose heartbeat is recent, serving the "
                                                  "deployment's model (0: jobs wait until one starts).")


class HealthError(BaseModel):
    """Why the model could not be loaded."""

    model_config = ConfigDict(extra="forbid")

    code: Literal["model_unavailable"]
    message: str


class HealthUnavailable(BaseModel):
    """The model is still loading, or failed to load."""

    model_config = ConfigDict(extra="forbid")

    status: Literal["loading", "failed"]
    error: HealthError | None = _omitted_when_none("When loading failed: why.")


def _range(model: type[BaseModel], name: str) -> tuple[Any, Any]:
    """The lower and upper bound a field of the model declares (None where it has none)."""
    low = high = None
    for field_name, model_field in model.model_fields.items():
        if name in (field_name, model_field.alias, model_field.validation_alias):
            for rule in model_field.metadata:
                low = getattr(rule, "ge", low)
                high = getattr(rule, "le", high)
    return low, high


def _describe(error: ValidationError, model: type[BaseModel]) -> str:
    """The first problem of a request, in plain words."""
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    kind = first["type"]
    if kind == "missing":
        return f"'{location}' is required"
    if kind == "extra_forbidden":
        return f"unknown field '{location}'"
    if kind == "finite_number":
        message = "must be a finite number"
    elif kind in ("int_parsing", "int_from_float"):
        message = "must be a whole number"
    elif kind == "float_parsing":
        message = "must be a number"
    elif kind == "bool_parsing":
        message = "must be true or false"
    elif kind in ("greater_than_equal", "less_than_equal"):
        low, high = _range(model, location)
        if low is not None and high is not None:
            message = f"must be between {low:g} and {high:g}"
        else:
            message = f"must be at least {low:g}" if low is not None else f"must be at most {high:g}"
    else:
        message = first["msg"]
        return f"'{location}': {message}" if location else message
    return f"'{location}' {message}"


def _field_with_nul(data: object, location: str = "") -> str | None:
    """The first field (dotted path) whose text holds a NUL character, or None."""
    if isinstance(data, str):
        return location or "body" if "\x00" in data else None
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        found = _field_with_nul(value, f"{location}.{key}" if location else str(key))
        if found is not None:
            return found
    return None


def validate(model: type[BaseModel], data: object, settings: Settings, *, strict: bool,
             drop_empty: bool = False) -> Any:
    """A body or query validated by its model (strict types for JSON; forms and queries arrive as strings),
    checked against this server's limits; raises a 400 with the first problem in plain words. drop_empty: an
    empty form field counts as absent."""
    if not isinstance(data, dict):
        raise invalid_request("the JSON body must be an object, e.g. {\"text\": \"...\"}")
    holding_nul = _field_with_nul(data)
    if holding_nul is not None:  # never text (a text file with one is refused as binary), and no database stores it
        raise invalid_request(f"'{holding_nul}' holds a NUL character (\\u0000): send text without it")
    if drop_empty:
        data = {key: value for key, value in data.items() if value != ""}
    try:
        return model.model_validate(data, strict=strict, context={"settings": settings})
    except ValidationError as error:
        raise invalid_request(_describe(error, model)) from None


def parse_request(task: Task, data: object, settings: Settings):
    """A task's JSON request: its options and its text validated."""
    if isinstance(data, dict):
        names = [name for name in ("text", *task.text_aliases) if name in data]
        if len(names) > 1:
            raise invalid_request(f"send the text as {' or as '.join(repr(name) for name in names)}, not both")
    if isinstance(data, dict) and "document_id" in data and any(name in data for name in ("text", *task.text_aliases)):
        raise invalid_request("send either a text or a 'document_id', not both")
    request = validate(REQUESTS[task.name], data, settings, strict=True)
    if request.document_id is None:
        if request.text is None:
            raise invalid_request("'text' is required (or a stored document's 'document_id')")
        check_text(request.text)
    return request


def task_options(task: Task, request: TaskOptions) -> TaskOptions:
    """The task's options out of a request (without its text and `async`)."""
    return task.options.model_validate(request.model_dump(include=set(task.options.model_fields)))


# The document library

class DocumentListQuery(_Query):
    """Query parameters of GET /documents."""

    limit: int = Field(20, ge=1, le=200, description="How many documents to list.")
    offset: int = Field(0, ge=0, le=10**9, description="How many of the newest documents to skip.")
    q: str | None = Field(None, max_length=500, description="Only documents whose title or text has all these words "
                                                            "(full-text search, word stems match).")


class DocumentText(LimitedBySettings):
    """A text to store as a document (JSON); a file comes as a multipart form instead."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    text: str = Field(json_schema_extra={MAX_LENGTH_SETTING: "max_text_chars"},
                      description="The text; it is cut into pages of about 3,000 characters at paragraph ends.")
    title: str | None = DocumentOptions.model_fields["title"]
    run_async: bool = Field(False, validation_alias="async",
                            description="Answer 202 with the job at once instead of waiting for the reading.")


class DocumentForm(LimitedBySettings):
    """A file to store as a document, as a multipart form."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra={"required": ["file"]})

    file: bytes | None = Field(None, description="A PDF, .txt, .md, .html or .docx file, judged by its content: at "
                                                 "most MAX_UPLOAD_MB and MAX_PAGES pages.",
                               json_schema_extra={"contentMediaType": "application/octet-stream"})
    title: str | None = DocumentOptions.model_fields["title"]
    pages: str | None = Field(None, description="PDF only: the pages to keep, e.g. `1-3,7`.", examples=["1-3,7"])
    password: str | None = Field(None, description="PDF only: the PDF's password.",
                                 json_schema_extra={"format": "password"})
    run_async: bool = Field(False, validation_alias="async",
                            description="Answer 202 with the job at once instead of waiting for the reading.")


class DocumentList(BaseModel):
    """A page of documents, newest first."""

    model_config = ConfigDict(extra="forbid")

    documents: list[DocumentInfo]
    limit: int
    offset: int
    next: str | None = _omitted_when_none("The next page, present when this one is full.")


class MadeResult(BaseModel):
    """A summary or key points made for a document."""

    model_config = ConfigDict(extra="forbid")

    task: Literal[tuple(GENERATE_TASKS)]
    options: dict[str, Any] = Field(description="The options it was made with.")
    made_at: Timestamp
    result: Union[tuple(task.result for task in GENERATE_TASKS.values())]  # noqa: UP007


class DocumentDetail(DocumentInfo):
    """A stored document, and the summaries and key points already made for it (newest first)."""

    results: list[MadeResult]


class PageView(BaseModel):
    """One page of a stored document: its clean text, as answers quote it."""

    model_config = ConfigDict(extra="forbid")

    document_id: str
    page: int = Field(ge=1)
    pages: int = Field(ge=1, description="How many pages the document has.")
    ocr: bool = Field(description="Whether the page was read with OCR.")
    text: str


class DocumentPatch(LimitedBySettings):
    """What may change of a stored document."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=MAX_TITLE_CHARS,
                       description="The new title.")


class CollectionBody(LimitedBySettings):
    """A collection: its documents, and instructions added to every question about them."""

    model_config = ConfigDict(extra="forbid")

    document_ids: list[str] = Field(min_length=1, json_schema_extra=at_most_setting("max_ask_documents"),
                                    description="The documents (at most MAX_ASK_DOCUMENTS).")
    instructions: str = AskOptions.model_fields["instructions"]


class CollectionView(BaseModel):
    """A stored collection (a document deleted since has left it, so it may have none left)."""

    model_config = ConfigDict(extra="forbid")

    name: str
    document_ids: list[str]
    instructions: str
    created_at: Timestamp
    updated_at: Timestamp


class CollectionList(BaseModel):
    """The collections, by name."""

    model_config = ConfigDict(extra="forbid")

    collections: list[CollectionView]


COLLECTION_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"


class AskRequest(LimitedBySettings):
    """A question about stored documents: name them, or a collection."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra={
        "oneOf": [{"required": ["question", "document_ids"]}, {"required": ["question", "collection"]}],
    })

    question: str = AskOptions.model_fields["question"]
    document_ids: list[str] | None = Field(None, min_length=1, json_schema_extra=at_most_setting("max_ask_documents"),
                                           description="The documents to answer from (at most MAX_ASK_DOCUMENTS).")
    collection: str | None = Field(None, pattern=COLLECTION_NAME,
                                   description="A collection to answer from, with its instructions.")
    history: list[Turn] = AskOptions.model_fields["history"]
    temperature: float = AskOptions.model_fields["temperature"]
    run_async: bool = Field(False, validation_alias="async",
                            description="Answer 202 with a job at once instead of waiting.")


# Messages

def _message_field(name: str) -> Any:
    return MessageOptions.model_fields[name]


class MessageRequest(LimitedBySettings):
    """What to write a message from: key points, or a stored document's; the older message writer's body
    (`prompt`, `token_count`, `temperature`, `n_gen`) is accepted as it was."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra={
        "oneOf": [{"required": ["points"]}, {"required": ["document_id"]}, {"required": ["prompt"]}],
        "examples": [MESSAGE.example],
    })

    points: list[str] | str | None = Field(
        None, description="The key points every message must state: a list, or one text (one point per line, or "
                          "per sentence); at most MAX_MESSAGE_POINTS.")
    document_id: str | None = Field(None, min_length=1, max_length=64,
                                    description="A stored document whose key points the messages state instead.")
    document_points: int = _message_field("document_points")
    sender: str = _message_field("sender")
    recipient: str = _message_field("recipient")
    purpose: str = _message_field("purpose")
    tone: Literal[TONES] = _message_field("tone")
    n: int | None = Field(None, ge=1, json_schema_extra=at_most_setting("max_variants"),
                          description="How many distinct messages to write (default 6, at most MAX_VARIANTS).")
    temperature: float = _message_field("temperature")
    max_tokens: int | None = Field(None, ge=16, json_schema_extra=at_most_setting("max_output_tokens"),
                                   description="Cap on each message body's tokens (default 250).")
    prompt: str | None = Field(None, min_length=1, json_schema_extra={"deprecated": True},
                               description="The older client's points, as one text: the same as `points`.")
    token_count: int | None = Field(None, ge=16,
                                    json_schema_extra={**at_most_setting("max_output_tokens"), "deprecated": True},
                                    description="The older client's name for `max_tokens`.")
    n_gen: int | None = Field(None, ge=1, json_schema_extra={**at_most_setting("max_variants"), "deprecated": True},
                              description="The older client's name for `n`.")
    run_async: bool = Field(False, validation_alias="async",
                            description="Answer 202 with a job at once instead of waiting.")


# Audio

class AudioRequest(LimitedBySettings):
    """What to speak: a text (as given, or summarized first), a stored document (summarized), or a finished
    summary job's summary."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, json_schema_extra={
        "oneOf": [{"required": ["text"]}, {"required": ["document_id"]}, {"required": ["job_id"]}],
        "examples": [AUDIO.example],
    })

    text: str | None = Field(None, min_length=1, json_schema_extra={MAX_LENGTH_SETTING: "max_text_chars"},
                             description="The text: spoken as given (at most MAX_SPEECH_CHARS), or summarized "
                                         "first with `summarize`.")
    document_id: str | None = Field(None, min_length=1, max_length=64,
                                    description="A stored document: its summary is spoken.")
    job_id: str | None = Field(None, min_length=1, max_length=64, description="A finished summary job: its "
                                                                              "summary is spoken.")
    summarize: bool | None = Field(None, description="Summarize first (default: false for a text, true for a "
                                                     "document, and on /summaries/generate/audio).")
    length: Literal[tuple(LENGTHS)] = AudioOptions.model_fields["length"]
    voice: str | None = Field(None, min_length=1, max_length=100,
                              description="The voice (default: SPEECH_VOICE; GET /voices lists them).")
    format: Literal[tuple(FORMATS)] = AudioOptions.model_fields["format"]
    speed: float = AudioOptions.model_fields["speed"]
    temperature: float = AudioOptions.model_fields["temperature"]
    run_async: bool = Field(False, validation_alias="async",
                            description="Answer 202 with the job at once; its result links the audio.")


class VoiceList(BaseModel):
    """The voices this server speaks with."""

    model_config = ConfigDict(extra="forbid")

    voices: list[str] = Field(description="espeak-ng voice names, for `voice`.")
    default: str = Field(description="The voice used when a request names none (SPEECH_VOICE).")


# The OpenAI-compatible API (routes/chat.py)

class ChatContentPart(BaseModel):
    """A part of a message's content: only text parts are read."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["text"] = Field(description="Only text: this model reads no images or audio.")
    text: str


class ChatMessageIn(BaseModel):
    """A message as OpenAI's clients send it."""

    model_config = ConfigDict(extra="ignore")

    role: Literal["system", "developer", "user", "assistant"] = Field(
        description="developer is read as system; tool messages are not supported.")
    content: str | list[ChatContentPart] = Field(description="The text, or a list of text parts.")

    def as_chat_message(self) -> ChatMessage:
        """The message as the chat task keeps it."""
        text = self.content if isinstance(self.content, str) else "".join(part.text for part in self.content)
        return ChatMessage(role="system" if self.role == "developer" else self.role, content=text)


class StreamOptions(BaseModel):
    """Options of a streamed answer."""

    model_config = ConfigDict(extra="ignore")

    include_usage: bool = Field(False, description="Send a last chunk with the token usage.")


# Fields of OpenAI's API this server does not do: refused when a request sets them (a silent ignore would answer
# something else than was asked).
UNSUPPORTED_CHAT_FIELDS = ("tools", "tool_choice", "functions", "function_call", "logit_bias", "top_logprobs",
                           "audio", "modalities", "prediction", "web_search_options")


class ChatCompletionRequest(LimitedBySettings):
    """POST /v1/chat/completions, as OpenAI's API defines it (fields it does not do are refused)."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    model: str = Field(min_length=1, max_length=500, description="The served model's name (GET /v1/models).")
    messages: list[ChatMessageIn] = Field(min_length=1, max_length=1000)
    max_tokens: int | None = Field(None, ge=1, json_schema_extra=at_most_setting("max_output_tokens"),
                                   description="Most tokens of the answer (default: what the context leaves, at "
                                               "most MAX_OUTPUT_TOKENS).")
    max_completion_tokens: int | None = Field(None, ge=1, json_schema_extra=at_most_setting("max_output_tokens"),
                                              description="The newer name of max_tokens.")
    temperature: float | None = Field(None, ge=0.0, le=2.0, allow_inf_nan=False,
                                      description=f"Default {BUDGETS.chat_temperature}.")
    top_p: float | None = Field(None, gt=0.0, le=1.0, allow_inf_nan=False)
    n: int = Field(1, ge=1, le=1, description="Only 1: send several requests for several answers.")
    stream: bool = Field(False, description="Answer with Server-Sent Events, a chunk per piece of text.")
    stream_options: StreamOptions | None = None
    stop: str | list[str] | None = Field(None, description="Up to 4 strings that end the answer.")
    seed: int | None = Field(None, ge=0, le=2**31 - 1)
    frequency_penalty: float | None = Field(None, ge=-2.0, le=2.0, allow_inf_nan=False)
    presence_penalty: float | None = Field(None, ge=-2.0, le=2.0, allow_inf_nan=False)
    repeat_penalty: float | None = Field(None, ge=0.0, le=2.0, allow_inf_nan=False,
                                         description=f"llama.cpp's repeat penalty (default "
                                                     f"{BUDGETS.repeat_penalty}: small models loop without one).")
    logprobs: bool | None = Field(None, description="Only false: log probabilities are not returned.")
    response_format: dict[str, Any] | None = Field(None, description="Only {\"type\": \"text\"}.")
    tools: list[Any] | None = Field(None, description="Not supported.")
    tool_choice: Any = Field(None, description="Not supported.")
    functions: list[Any] | None = Field(None, description="Not supported.")
    function_call: Any = Field(None, description="Not supported.")
    logit_bias: dict[str, Any] | None = Field(None, description="Not supported.")
    top_logprobs: int | None = Field(None, description="Not supported.")
    audio: Any = Field(None, description="Not supported.")
    modalities: list[str] | None = Field(None, description="Only [\"text\"].")
    prediction: Any = Field(None, description="Not supported.")
    web_search_options: Any = Field(None, description="Not supported.")

    @model_validator(mode="after")
    def _only_what_is_served(self):
        for name in UNSUPPORTED_CHAT_FIELDS:
            value = getattr(self, name)
            if value not in (None, [], {}) and not (name == "modalities" and value == ["text"]):
                raise PydanticCustomError("unsupported", "'{field}' is not supported by this server",
                                          {"field": name})
        if self.logprobs:
            raise PydanticCustomError("unsupported", "'logprobs' is not supported by this server")
        if self.response_format is not None and self.response_format.get("type") != "text":
            raise PydanticCustomError("unsupported", "only 'response_format' {\"type\": \"text\"} is supported")
        if self.max_tokens is not None and self.max_completion_tokens is not None:
            raise PydanticCustomError("both", "send 'max_tokens' or 'max_completion_tokens', not both")
        return self

    def stop_strings(self) -> list[str]:
        """The stop strings, as a list."""
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)


class ChatAnswerMessage(BaseModel):
    """The model's message."""

    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    """The one answer."""

    index: int = 0
    message: ChatAnswerMessage
    finish_reason: Literal["stop", "length"]
    logprobs: None = None


class ChatUsage(BaseModel):
    """Tokens read and written."""

    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)
    total_tokens: int = Field(ge=0)


class ChatCompletion(BaseModel):
    """The answer of POST /v1/chat/completions, in OpenAI's shape."""

    model_config = ConfigDict(protected_namespaces=())

    id: str = Field(description="chatcmpl- and the job's id.")
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(description="Unix time the request was received.")
    model: str
    choices: list[ChatChoice]
    usage: ChatUsage
    system_fingerprint: str | None = None


class ChatDelta(BaseModel):
    """A piece of the answer."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["assistant"] | None = Field(None, exclude_if=lambda value: value is None)
    content: str | None = Field(None, exclude_if=lambda value: value is None)


class ChatChunkChoice(BaseModel):
    """The answer's next piece, or its end."""

    index: int = 0
    delta: ChatDelta
    finish_reason: Literal["stop", "length"] | None = None
    logprobs: None = None


class ChatCompletionChunk(BaseModel):
    """One event of a streamed answer (`data: {...}`), in OpenAI's shape; the stream ends with `data: [DONE]`."""

    model_config = ConfigDict(protected_namespaces=())

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChatChunkChoice]
    usage: ChatUsage | None = Field(None, exclude_if=lambda value: value is None)
    system_fingerprint: str | None = None


class ModelCard(BaseModel):
    """A served model, as OpenAI's API lists it."""

    id: str
    object: Literal["model"] = "model"
    created: int = Field(description="Unix time the model file was last changed.")
    owned_by: str = "local"


class ModelCardList(BaseModel):
    """GET /v1/models."""

    object: Literal["list"] = "list"
    data: list[ModelCard]
