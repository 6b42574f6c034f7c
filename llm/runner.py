"""Runs the model calls of one task: budget checks, usage, degeneration retries, progress and cancellation."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import TypeVar

from llm.budgets import BUDGETS, margin
from llm.checkpoints import HelpOver, MadeElsewhere, making_claimed_value
from llm.cleanup import CleanText, clean_prose
from llm.errors import CancelledError, ContextOverflowError
from llm.model import Completion, GenerationParams, Message, Model

ProgressCallback = Callable[[str, int, int], None]
CancelCheck = Callable[[], bool]
CallObserver = Callable[[Completion, float], None]
Item = TypeVar("Item")
Result = TypeVar("Result")


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
        group: str = "",
        helper: bool = False,
        on_shared_map: Callable[[int], None] | None = None,
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
        self.group = group  # whose calls these are: the engine shares its slots fairly between groups
        # A helper runs another worker's job only to make the pieces it can claim: any other call ends its help.
        self.helper = helper
        self._on_shared_map = on_shared_map  # a map of shared pieces begins: other workers may come and help
        self._count_lock = threading.Lock()  # usage is added up from calls made together

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
                 temperature: float | None = None, seed: int | None = None, **decoding) -> Completion:
        """One model call; the prompt plus max_tokens must fit the context window. temperature and seed override
        the task's (for candidates sampled from the same prompt); decoding may set GenerationParams' other fields
        (top_p, stop, on_text, ...)."""
        self.check_cancelled()
        if self.helper and not making_claimed_value():
            raise HelpOver("what is left of this job is its own worker's to do")
        prompt_tokens = self.model.prompt_tokens(messages)
        if prompt_tokens + max_tokens > self.model.n_ctx:
            raise ContextOverflowError(
                f"internal budget error: {prompt_tokens} prompt + {max_tokens} output tokens > n_ctx {self.model.n_ctx}"
            )
        params = GenerationParams(
            max_tokens=max_tokens, temperature=self.temperature if temperature is None else temperature,
            repeat_penalty=repeat_penalty, seed=self.seed if seed is None else seed,
            should_stop=self._should_stop, group=self.group, **decoding,
        )
        started = time.monotonic()
        completion = self.model.generate(messages, params)
        if self._on_call is not None:
            self._on_call(completion, time.monotonic() - started)
        with self._count_lock:
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
        with self._count_lock:
            self.degenerate_retries += 1
        second = self.complete(messages, max_tokens, BUDGETS.retry_repeat_penalty, **sampling)
        retried = clean_prose(second.text, truncated=second.finish_reason == "length")
        if retried.text and (not retried.degenerate or not cleaned.text):
            return retried
        return cleaned

    def map(self, work: Callable[[Item], Result], items: Sequence[Item], stage: str | None = None, *,
            shared: bool = False) -> list[Result]:
        """work(item) for every item, as many at once as the model runs calls together (its slots), the results in
        the items' order; with a stage, progress counts the items done. The first failure (a cancel) stops the
        rest from starting and is raised once the running ones have ended. shared: each item's work is a
        checkpointed piece that other workers may make too (a deployment on several machines): they are asked to
        help, an item another worker makes is waited for once the rest are done."""
        total = len(items)
        if stage is not None:
            self.progress(stage, 0, total)
        if shared and total > 1 and self._on_shared_map is not None and not self.helper:
            self._on_shared_map(total)
        done = 0

        def counted(item: Item) -> tuple[Result | None, MadeElsewhere | None]:
            nonlocal done
            try:
                result = work(item)
            except MadeElsewhere as elsewhere:
                return None, elsewhere
            if stage is not None:
                with self._count_lock:
                    done += 1
                    finished = done
                self.progress(stage, finished, total)
            return result, None

        width = min(self.model.parallel_calls, total)
        if width <= 1:
            outcomes = [counted(item) for item in items]
        else:
            with ThreadPoolExecutor(max_workers=width, thread_name_prefix="model-call") as pool:
                futures = [pool.submit(counted, item) for item in items]
                finished, _ = wait(futures, return_when=FIRST_EXCEPTION)
                failed = next((future for future in finished if future.exception() is not None), None)
                if failed is not None:
                    for future in futures:
                        future.cancel()
                    raise failed.exception()
            outcomes = [future.result() for future in futures]
        results = []
        for item, (result, elsewhere) in zip(items, outcomes, strict=True):
            if elsewhere is not None:  # made by another worker: here once it is saved (or ours after all)
                made = elsewhere.wait()
                result = made if made is not None else counted(item)[0]
                if made is not None and stage is not None:
                    done += 1
                    self.progress(stage, done, total)
            results.append(result)
        return results
