"""The message task: several distinct email variants written from key points (given, or a stored document's), each
saying which points it covers (llm/message.py says how that is checked)."""

from __future__ import annotations

import itertools
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from llm import key_points
from llm.budgets import BUDGETS
from llm.message import TONES, Letter, Variant, write_messages
from llm.streamed import StreamedText
from settings import at_most_setting
from tasks.base import CheckedField, FactChecks, ModelAnswer, Task, TaskOptions, TaskWork, Usage, Warnings
from tasks.document import Document
from tasks.errors import NoAnswerError

MAX_POINT_CHARS = 1000  # one point is a sentence or two, not a document (send a document_id for that)
MAX_FIELD_CHARS = 200  # a sender, a recipient
MAX_PURPOSE_CHARS = 500


class MessageOptions(TaskOptions):
    """A message as its job keeps it: the points (empty when they come from the job's stored document) and how to
    write it."""

    points: list[Annotated[str, Field(min_length=1, max_length=MAX_POINT_CHARS)]] = Field(
        default_factory=list, json_schema_extra=at_most_setting("max_message_points"),
                              description="The key points every message must state (at most MAX_MESSAGE_POINTS).")
    document_points: int = Field(5, ge=1, json_schema_extra=at_most_setting("max_points"),
                                 description="With a `document_id`: how many of its key points to write about.")
    sender: str = Field("", max_length=MAX_FIELD_CHARS, description="Who the message is from (its sign-off).")
    recipient: str = Field("", max_length=MAX_FIELD_CHARS, description="Who it is to (its greeting).")
    purpose: str = Field("", max_length=MAX_PURPOSE_CHARS, description="What it is about (its subject line).")
    tone: Literal[TONES] = Field("friendly", description="How it reads: formal, friendly or brief.")
    n: int = Field(BUDGETS.message_variants, ge=1, json_schema_extra=at_most_setting("max_variants"),
                   description="How many distinct messages to write (at most MAX_VARIANTS).")
    temperature: float = Field(BUDGETS.message_temperature, ge=0.0, le=2.0, allow_inf_nan=False,
                               description="Sampling temperature; variants differ also at 0.")
    max_tokens: int = Field(BUDGETS.message_tokens, ge=16, json_schema_extra=at_most_setting("max_output_tokens"),
                            description="Cap on each message body's tokens (at most MAX_OUTPUT_TOKENS).")


class MessageView(BaseModel):
    """One message and the points it states, as checked against its text."""

    model_config = ConfigDict(extra="forbid")

    subject: str
    body: str = Field(min_length=1, description="Greeting, body and sign-off.")
    covered: list[int] = Field(description="Indices (from 0) of the points the message states.")
    missing: list[int] = Field(description="Indices of the points it leaves out.")


class MessageResult(ModelAnswer):
    """Messages written from key points."""

    messages: list[MessageView] = Field(min_length=1, description="Distinct variants, `n` unless fewer could be "
                                                                  "written (a warning says so).")
    points: list[str] = Field(description="The points the messages were written from (a document's key points "
                                          "when a `document_id` was sent).")
    checked: FactChecks | None = CheckedField
    warnings: Warnings


def run(work: TaskWork, document: Document | None, options: MessageOptions) -> MessageResult:
    """Write the messages, first finding the document's key points when the job has a document."""
    points = list(options.points)
    source = ""
    warnings: list[str] = []
    if document is not None:
        found = key_points(work.runner, document.blocks, count=options.document_points,
                           checkpoints=work.checkpoints)
        points = [point.text for point in found.points]
        source = "\n\n".join(block.text for block in document.blocks)
        warnings += found.warnings
        if not points:
            raise NoAnswerError("no message could be written: the document has no key points to write about")
    letter = Letter(tuple(points), sender=options.sender, recipient=options.recipient, purpose=options.purpose,
                    tone=options.tone, source=source)
    shown = StreamedText(work.stream)  # each message as a whole once it has passed its checks
    numbers = itertools.count(1)

    def show(variant: Variant) -> None:
        shown.add_paragraph(f"Message {next(numbers)}\nSubject: {variant.subject}\n\n{variant.body}")

    made = write_messages(work.runner, letter, count=options.n, max_tokens=options.max_tokens,
                          on_written=show)
    if not made.variants:
        raise NoAnswerError("no message could be written: every sentence the model wrote stated names, numbers or "
                            "acronyms the points do not have")
    return MessageResult(
        messages=[MessageView(subject=variant.subject, body=variant.body, covered=variant.covered,
                              missing=variant.missing) for variant in made.variants],
        points=points, checked=FactChecks(facts=made.facts, rewritten=made.rewritten, dropped=made.dropped),
        model=work.runner.model.name, usage=Usage(**work.runner.usage.as_dict()), elapsed_ms=work.elapsed_ms(),
        warnings=warnings + made.warnings,
    )


MESSAGE = Task(
    name="message", title="Message", options=MessageOptions, result=MessageResult, run=run,
    read_input=lambda stored: Document.decode(stored) if stored else None,
    example={"points": ["We will have a system update on Friday.", "Please back up your work before then."],
             "sender": "IT support", "recipient": "all staff", "tone": "friendly", "n": 3},
)
