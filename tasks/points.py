"""The key points task: the most important points of a document, each citing the pages it came from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from llm import key_points
from settings import at_most_setting
from tasks.base import CheckedField, FactChecks, Task, TaskOptions, TaskResult, TaskWork
from tasks.document import Document
from tasks.errors import NoAnswerError


class PointsOptions(TaskOptions):
    """Options of a list of key points."""

    count: int = Field(5, ge=1, json_schema_extra=at_most_setting("max_points"),
                       description="How many key points to return (at most MAX_POINTS).")


class Point(BaseModel):
    """One key point and the pages it came from."""

    model_config = ConfigDict(extra="forbid")

    text: str
    pages: list[int] = Field(description="The pages whose text supports the point (empty for plain text).")


class PointsResult(TaskResult):
    """The key points of a document."""

    # Never empty now (a text with no key point is refused with no_answer); results stored by versions before that
    # may be, so the model does not insist.
    points: list[Point] = Field(
        description="The key points in the document's order; `count` of them unless the text has fewer."
    )
    checked: FactChecks | None = CheckedField


def run(work: TaskWork, document: Document, options: PointsOptions) -> PointsResult:
    """List the document's key points."""
    found = key_points(work.runner, document.blocks, count=options.count, checkpoints=work.checkpoints)
    if not found.points:
        raise NoAnswerError(
            "no key points could be found: the text has no complete sentences that state something to point to"
        )
    return PointsResult(points=[Point(text=point.text, pages=point.pages) for point in found.points],
                        checked=FactChecks(**found.checked.counts()),
                        **work.common(document, found.chunks, found.warnings))


POINTS = Task(
    name="points", title="Points", options=PointsOptions, result=PointsResult, run=run, text_aliases=("points",),
    example={"text": "The lighthouse at Port Aven was built in 1850 to guide fishing boats past the reef. It was "
                     "automated in 1985 and is now a museum. Its lens came from Paris.", "count": 2},
)
