"""Request bodies of the generate endpoints, validated with clear messages."""

from __future__ import annotations

from typing import Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from llm.cleanup import words
from routes.errors import invalid_request


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    temperature: float = Field(
        0.0, ge=0.0, le=2.0, allow_inf_nan=False, description="Sampling temperature; 0 is deterministic."
    )
    run_async: bool = Field(
        False, validation_alias="async", description="Answer 202 with a job at once instead of waiting."
    )


class SummaryRequest(_Request):
    """Body of POST /generate-summary."""

    text: str = Field(description="The text to summarize.")
    length: Literal["short", "medium", "long"] = Field("medium", description="How long the summary should be.")
    max_tokens: int | None = Field(None, ge=16, description="Cap on the summary's tokens (default: per length).")


class PointsRequest(_Request):
    """Body of POST /generate-points; `points` is accepted for `text` (the original client sends it)."""

    text: str = Field(validation_alias=AliasChoices("text", "points"), description="The text to read.")
    count: int = Field(5, ge=1, description="How many key points to return (at most MAX_POINTS, default 20).")


def _describe(error: ValidationError) -> str:
    first = error.errors()[0]
    location = ".".join(str(part) for part in first["loc"])
    kind = first["type"]
    if kind == "missing":
        return f"'{location}' is required"
    if kind == "extra_forbidden":
        return f"unknown field '{location}'"
    message = first["msg"]
    if kind == "finite_number":
        message = "must be a finite number"
    return f"'{location}': {message}" if location else message


def parse(schema: type[_Request], data: object, *, strict: bool, with_file: bool = False):
    """Validate a request body (strict types for JSON; form fields arrive as strings); with_file: no text."""
    if not isinstance(data, dict):
        raise invalid_request("the JSON body must be an object, e.g. {\"text\": \"...\"}")
    data = {key: value for key, value in data.items() if not (strict is False and value == "")}
    if schema is PointsRequest and "text" in data and "points" in data:
        raise invalid_request("send the text as 'text' or as 'points', not both")
    if with_file:
        data = {**data, "text": ""}
    try:
        request = schema.model_validate(data, strict=strict)
    except ValidationError as error:
        raise invalid_request(_describe(error)) from None
    if with_file:
        return request
    if not request.text.strip():
        raise invalid_request("'text' must not be empty")
    try:
        request.text.encode("utf-8")
    except UnicodeEncodeError:
        raise invalid_request("'text' contains invalid Unicode (unpaired surrogate characters)") from None
    if not words(request.text):
        raise invalid_request("'text' has no words to summarize")
    return request
