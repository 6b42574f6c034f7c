"""The chat task: one answer of the model to a conversation, as OpenAI's chat completions give it (routes/chat.py
serves it under /v1). The model's text is returned as it came (no clean-up), and streamed token by token."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from llm.budgets import BUDGETS
from llm.model import Message
from tasks.base import ModelAnswer, Task, TaskOptions, TaskWork

MAX_STOP_STRINGS = 4  # as OpenAI's API allows
MAX_STOP_CHARS = 200


class ChatMessage(BaseModel):
    """One message of the conversation."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["system", "user", "assistant"]
    content: str


class ChatOptions(TaskOptions):
    """How to answer, as the job keeps it (the messages are its input)."""

    max_tokens: int = Field(ge=1, description="Most tokens of the answer.")
    temperature: float = Field(BUDGETS.chat_temperature, ge=0.0, le=2.0, allow_inf_nan=False)
    top_p: float = Field(BUDGETS.top_p, gt=0.0, le=1.0, allow_inf_nan=False)
    seed: int | None = Field(None, ge=0, le=2**31 - 1)
    stop: list[Annotated[str, Field(min_length=1, max_length=MAX_STOP_CHARS)]] = Field(
        default_factory=list, max_length=MAX_STOP_STRINGS)
    frequency_penalty: float = Field(0.0, ge=-2.0, le=2.0, allow_inf_nan=False)
    presence_penalty: float = Field(0.0, ge=-2.0, le=2.0, allow_inf_nan=False)
    repeat_penalty: float = Field(BUDGETS.repeat_penalty, ge=0.0, le=2.0, allow_inf_nan=False)


class ChatResult(ModelAnswer):
    """The model's answer."""

    text: str
    finish_reason: Literal["stop", "length"]


def encode_messages(messages: list[ChatMessage]) -> bytes:
    """The conversation as a job stores it."""
    return json.dumps([message.model_dump() for message in messages]).encode("utf-8")


def decode_messages(stored: bytes | None) -> list[Message]:
    """The stored conversation, as the model takes it."""
    return json.loads((stored or b"[]").decode("utf-8"))


def run(work: TaskWork, messages: list[Message], options: ChatOptions) -> ChatResult:
    """Answer the conversation, handing each piece of the answer to the job's followers as it is generated."""
    runner = work.runner
    work.progress("answering", 0, 1)
    completion = runner.complete(
        messages, options.max_tokens, options.repeat_penalty, temperature=options.temperature,
        # Without a seed, a sampled answer differs each time, as OpenAI's does (-1: a random seed per call).
        seed=options.seed if options.seed is not None else -1, top_p=options.top_p,
        stop=tuple(options.stop), frequency_penalty=options.frequency_penalty,
        presence_penalty=options.presence_penalty, on_text=work.stream,
    )
    work.progress("answering", 1, 1)
    return ChatResult(
        text=completion.text, finish_reason="length" if completion.finish_reason == "length" else "stop",
        model=runner.model.name, usage={"prompt_tokens": completion.prompt_tokens,
                                        "completion_tokens": completion.completion_tokens},
        elapsed_ms=work.elapsed_ms(),
    )


CHAT = Task(
    name="chat", title="Chat", options=ChatOptions, result=ChatResult, run=run, read_input=decode_messages,
    example={"messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 16},
)
