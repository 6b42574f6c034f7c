"""What every task shares: its options and answer models, the work context it runs in, and its registry entry."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, BinaryIO

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

from jobs.service import Checkpoints
from library.store import LibraryStore
from llm import TaskRunner
from llm.budgets import BUDGETS
from llm.summarize import SummaryPlan
from settings import LimitedBySettings
from speech import SpeechEngine
from tasks.document import Document, ReadingLimits


class TaskOptions(LimitedBySettings):
    """Options every task takes; a task's own options model adds its fields."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    temperature: float = Field(
        BUDGETS.temperature, ge=0.0, le=2.0, allow_inf_nan=False,
        description="Sampling temperature; 0 is deterministic.",
    )


# A moment as ISO 8601 with its offset (2026-11-27T01:02:03.456789+00:00), as the API has always written it.
Timestamp = Annotated[
    datetime,
    PlainSerializer(lambda moment: moment.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


def moment(seconds: float | None) -> datetime | None:
    """A Unix time as the API shows it (None stays None)."""
    return datetime.fromtimestamp(seconds, UTC) if seconds else None


class Usage(BaseModel):
    """Tokens the model read and wrote for this answer, over all its calls."""

    model_config = ConfigDict(extra="forbid")

    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)


class FactChecks(BaseModel):
    """What the fact check did (README: "No invented facts"): numbers, names and acronyms looked up in the
    document; sentences that stated one it does not have were rewritten once from their source, or dropped."""

    model_config = ConfigDict(extra="forbid")

    facts: int = Field(ge=0, description="Numbers, names and acronyms checked in the text shown.")
    rewritten: int = Field(ge=0, description="Sentences rewritten because a fact was not in the document.")
    dropped: int = Field(ge=0, description="Sentences dropped because their rewrite failed the check too.")


# Results stored before the check existed have none.
CheckedField = Field(None, exclude_if=lambda value: value is None, description="What the fact check did.")


class ModelAnswer(BaseModel):
    """What every answer of the model carries besides its content."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str = Field(description="The model that answered.")
    usage: Usage
    elapsed_ms: int = Field(ge=0, description="Time the job's model work took.")


# Every answer ends with its warnings (after the fields of its kind of answer), described once here.
Warnings = Annotated[list[str], Field(
    description="What went less than perfectly: skipped pages, fewer points than asked, ..."
)]


class TaskResult(ModelAnswer):
    """What every answer about a whole document carries besides its content."""

    chunks: int = Field(ge=1, description="Parts the text was split into to fit the context.")
    pages: int | None = Field(
        None, ge=1, exclude_if=lambda value: value is None,
        description="For a PDF: how many pages were used (absent for texts).",
    )
    warnings: Warnings


@dataclass
class TaskWork:
    """What a running task is given: the runner for its model calls (None for a task without them), its
    checkpoints, and the library its job belongs to."""

    runner: TaskRunner | None
    checkpoints: Checkpoints | None = None
    job_id: str = ""
    started: float = field(default_factory=time.monotonic)
    library: LibraryStore | None = None
    library_name: str = ""  # the job's library (routes/auth.py), which every library read and write names
    progress: Callable[[str, int, int], None] = lambda stage, done, total: None
    reading_limits: ReadingLimits | None = None  # for tasks that read an upload
    summary_plan: SummaryPlan = field(default_factory=SummaryPlan)  # how summaries are made (settings)
    speech: SpeechEngine = field(default_factory=SpeechEngine)  # the engine the audio task speaks with
    save_file: Callable[[str, BinaryIO, int], None] | None = None  # keeps the job's file (content type, bytes)
    stream: Callable[[str], None] = lambda piece: None  # hands the next piece of the answer to the job's followers

    def elapsed_ms(self) -> int:
        """Time since the task started."""
        return round((time.monotonic() - self.started) * 1000)

    def common(self, document: Document, chunks: int, warnings: list[str]) -> dict[str, Any]:
        """The fields every answer has, as they stand now."""
        return {
            "model": self.runner.model.name,
            "usage": Usage(**self.runner.usage.as_dict()),
            "elapsed_ms": self.elapsed_ms(),
            "chunks": chunks,
            "pages": document.page_count,
            "warnings": document.warnings + warnings,
        }


@dataclass(frozen=True)
class Task:
    """One kind of job: its name, the options it takes, the answer it gives, and the function that does it."""

    name: str  # as jobs store it and GET /jobs shows it
    title: str  # names its request bodies: SummaryRequest, SummaryForm
    options: type[BaseModel]
    result: type[BaseModel]
    run: Callable[[TaskWork, Any, Any], BaseModel]
    text_aliases: tuple[str, ...] = ()  # other names a request may give its text (older clients')
    example: dict[str, Any] = field(default_factory=dict)  # a request body for the API description
    read_input: Callable[[bytes | None], Any] = Document.decode  # the job's stored input, as run takes it
    uses_model: bool = True  # False: it runs without a model call (reading a document into the library)
