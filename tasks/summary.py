"""The summary task: a summary of a document at the length asked for."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from llm import summarize
from llm.prompts import LENGTHS
from settings import at_most_setting
from tasks.base import CheckedField, FactChecks, Task, TaskOptions, TaskResult, TaskWork
from tasks.document import Document
from tasks.errors import NoAnswerError


class SummaryOptions(TaskOptions):
    """Options of a summary."""

    length: Literal[tuple(LENGTHS)] = Field(
        "medium", description="How long the summary should be; never more than about a third of the text."
    )
    max_tokens: int | None = Field(
        None, ge=16, json_schema_extra=at_most_setting("max_output_tokens"),
        description="Cap on the summary's tokens (default: per length); at most MAX_OUTPUT_TOKENS.",
    )


class SummaryResult(TaskResult):
    """A summary and how it was made."""

    summary: str = Field(description="Never empty (a text with nothing to summarize is refused with no_answer).")
    levels: int = Field(ge=1, description="Rounds of model calls, the final one included.")
    strategy: Literal["single", "extract", "hierarchical"] = Field(
        description="`single`: the text was read whole; `extract`: through its most salient sentences "
                    "(SUMMARY_READ_TOKENS); `hierarchical`: map, merge, write (SUMMARY_READ_TOKENS=0)."
    )
    checked: FactChecks | None = CheckedField


def run(work: TaskWork, document: Document, options: SummaryOptions) -> SummaryResult:
    """Summarize the document."""
    made = summarize(work.runner, document.blocks, length=options.length, max_tokens=options.max_tokens,
                     checkpoints=work.checkpoints, plan=work.summary_plan, stream=work.stream)
    if not made.summary.strip():
        if made.checked is not None and made.checked.dropped:
            raise NoAnswerError("no summary could be written: every sentence the model wrote stated numbers, names "
                                "or acronyms the document does not have, even when rewritten")
        raise NoAnswerError("no summary could be written: the text has no sentences to summarize")
    return SummaryResult(summary=made.summary, levels=made.levels, strategy=made.strategy,
                         checked=FactChecks(**made.checked.counts()),
                         **work.common(document, made.chunks, made.warnings))


SUMMARY = Task(
    name="summary", title="Summary", options=SummaryOptions, result=SummaryResult, run=run,
    example={"text": "The lighthouse at Port Aven was built in 1850 to guide fishing boats past the reef. It was "
                     "automated in 1985 and is now a museum. Its lens came from Paris.", "length": "short"},
)
