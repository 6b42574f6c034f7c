"""Runs the model calls of one task: budget checks, usage, degeneration retries, progress and cancellation."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from llm.budgets import BUDGETS, margin
from llm.cleanup import CleanText, clean_prose
from llm.errors import CancelledError, ContextOverflowError
from llm.model import Completion, GenerationParams, Message, Model

ProgressCallback = Callable[[str, int, int], None]
CancelCheck = Callable[[], bool]
CallObserver = Callable[[Completion, float], None]


@dataclass
class Usage:
    """Tokens used across all model calls of a task."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0

    def as_dict(self) -> dict[str, int]:
        """The usage as the API reports it."""
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens}


class TaskRunner:
    """Calls the model for one task, keeping every call within the context window."""

    def __init__(
        self,
        model: Model,
        *,
        temperature: float = BUDGETS.temperature,
        seed: int = BUDGETS.seed,
        on_progress: ProgressCallback | None = None,
        should_cancel: CancelCheck | None = None,
        should_stop: CancelCheck | None = None,
        on_call: CallObserver | None = None,
    ):
        self.model = model
        self.temperature = temperature
        self.seed = seed
        self.usage = Usage()
        self.degenerate_retries = 0
        self._on_progress = on_progress
        self._should_cancel = should_cancel
        self._should_stop = should_stop or should_cancel
        self._on_call = on_call

    def margin(self) -> int:
        """Tokens kept free in every call, for the stop sequence and rounding."""
        return margin(self.model.n_ctx)

    def progress(self, stage: str, done: int, total: int) -> None:
        """Report progress to whoever asked for it."""
        if self._on_progress is not None:
            self._on_progress(stage, done, total)

    def check_cancelled(self) -> None:
        """Stop here if the caller cancelled the task."""
        if self._should_cancel is not None and self._should_cancel():
            raise CancelledError("the task was cancelled")

    def complete(self, messages: list[Message], max_tokens: int, repeat_penalty: float, *,
                 temperature: float | None = None, seed: int | None = None) -> Completion:
        """One model call; the prompt plus max_tokens must fit the context window. temperature and seed override
        the task's (for candidates sampled from the same prompt)."""
        self.check_cancelled()
        prompt_tokens = self.model.prompt_tokens(messages)
        if prompt_tokens + max_tokens > self.model.n_ctx:
            raise ContextOverflowError(
                f"internal budget error: {prompt_tokens} prompt + {max_tokens} output tokens > n_ctx {self.model.n_ctx}"
            )
        params = GenerationParams(
            max_tokens=max_tokens, temperature=self.temperature if temperature is None else temperature,
            repeat_penalty=repeat_penalty, seed=self.seed if seed is None else seed,
            should_stop=self._should_stop,
        )
        started = time.monotonic()
        completion = self.model.generate(messages, params)
        if self._on_call is not None:
            self._on_call(completion, time.monotonic() - started)
        self.usage.prompt_tokens += completion.prompt_tokens
        self.usage.completion_tokens += completion.completion_tokens
        self.usage.calls += 1
        if completion.finish_reason == "interrupted":  # cut short between tokens: not an answer
            raise CancelledError("the task was cancelled")
        return completion

    def prose(self, messages: list[Message], max_tokens: int, *, temperature: float | None = None,
              seed: int | None = None) -> CleanText:
        """A cleaned prose answer; a degenerate or empty one is retried once with a stronger repeat penalty."""
        sampling = {"temperature": temperature, "seed": seed}
        first = self.complete(messages, max_tokens, BUDGETS.repeat_penalty, **sampling)
        cleaned = clean_prose(first.text, truncated=first.finish_reason == "length")
        if cleaned.text and not cleaned.degenerate:
            return cleaned
        self.degenerate_retries += 1
        second = self.complete(messages, max_tokens, BUDGETS.retry_repeat_penalty, **sampling)
        retried = clean_prose(second.text, truncated=second.finish_reason == "length")
        if retried.text and (not retried.degenerate or not cleaned.text):
            return retried
        return cleaned
