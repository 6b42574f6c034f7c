"""What every task shares: its options and answer models, the work context it runs in, and its registry entry."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from jobs.service import Checkpoints
from llm import TaskRunner
from llm.budgets import BUDGETS
from settings import LimitedBySettings
from tasks.document import Document


class TaskOptions(LimitedBySettings):
    """Options every task takes; a task's own options model adds its fields."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    temperature: float = Field(
        BUDGETS.temperature, ge=0.0, le=2.0, allow_inf_nan=False,
        description="Sampling temperature; 0 is deterministic.",
    )


class Usage(BaseModel):
    """Tokens the model read and wrote for this answer, over all its calls."""

    model_config = ConfigDict(extra="forbid")

    prompt_tokens: int = Field(ge=0)
    completion_tokens: int = Field(ge=0)


class TaskResult(BaseModel):
    """What every answer carries besides its content."""

    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    model: str = Field(description="The model that answered.")
    usage: Usage
    elapsed_ms: int = Field(ge=0, description="Time the job's model work took.")
    chunks: int = Field(ge=1, description="Parts the text was split into to fit the context.")
    pages: int | None = Field(
        None, ge=1, exclude_if=lambda value: value is None,
        description="For a PDF: how many pages were used (absent for texts).",
    )
    warnings: list[str] = Field(
        description="What went less than perfectly: skipped pages, fewer points than asked, ..."
    )


@dataclass
class TaskWork:
    """What a running task is given: the runner for its model calls and its checkpoints."""

    runner: TaskRunner
    checkpoints: Checkpoints | None = None
    started: float = field(default_factory=time.monotonic)

    def common(self, document: Document, chunks: int, warnings: list[str]) -> dict[str, Any]:
        """The fields every answer has, as they stand now."""
        return {
            "model": self.runner.model.name,
            "usage": Usage(**self.runner.usage.as_dict()),
            "elapsed_ms": round((time.monotonic() - self.started) * 1000),
            "chunks": chunks,
            "pages": document.page_count,
            "warnings": document.warnings + warnings,
        }


@dataclass(frozen=True)
class Task:
    """One kind of job: its name, the options it takes, the answer it gives, and the function that does it."""

    name: str  # as jobs store it and GET /jobs shows it
    title: str  # names its request bodies: SummaryRequest, SummaryForm
    options: type[TaskOptions]
    result: type[TaskResult]
    run: Callable[[TaskWork, Document, Any], TaskResult]
    text_aliases: tuple[str, ...] = ()  # other names a request may give its text (older clients')
    example: dict[str, Any] = field(default_factory=dict)  # a request body for the API description
