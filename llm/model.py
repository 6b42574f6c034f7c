"""The model boundary: what the rest of the service needs from a language model."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, TypedDict

from pydantic import BaseModel, ConfigDict, Field

from llm.budgets import BUDGETS


class Message(TypedDict):
    """One chat message."""

    role: Literal["system", "user", "assistant"]
    content: str


@dataclass(frozen=True)
class GenerationParams:
    """Decoding settings for one call."""

    max_tokens: int
    temperature: float = BUDGETS.temperature
    repeat_penalty: float = BUDGETS.repeat_penalty
    top_p: float = BUDGETS.top_p
    seed: int = BUDGETS.seed
    frequency_penalty: float = 0.0
    presence_penalty: float = 0.0
    stop: tuple[str, ...] = ()  # strings that end the answer (besides the chat template's own), never part of it
    # Asked between generated tokens; True ends the call early (a cancelled job stops mid-answer).
    should_stop: Callable[[], bool] | None = field(default=None, compare=False)
    # Called with each new piece of the answer as it is generated (text that stays: a stop string is never sent).
    on_text: Callable[[str], None] | None = field(default=None, compare=False)
    # Whose call it is (a job): an engine with several slots shares them fairly between groups.
    group: str = field(default="", compare=False)


@dataclass(frozen=True)
class Completion:
    """What one model call produced."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: Literal["stop", "length", "interrupted"]
    # Seconds from the first generated token to the last (prompt reading excluded), when the model knows.
    generation_seconds: float | None = None


class ModelInfo(BaseModel):
    """What /health reports about the loaded model."""

    model_config = ConfigDict(frozen=True, extra="forbid", protected_namespaces=())

    name: str = Field(description="The name the model is served under.")
    path: str = Field(description="The model file on the server.")
    n_ctx: int = Field(ge=1, description="The context window in tokens: prompt plus output fit in it.")
    n_gpu_layers: int = Field(description="Layers offloaded to the GPU (-1: all, when the build has a GPU).")
    rope_scaling_type: str | None = Field(description="RoPE scaling (null: what the model file says).")
    rope_freq_base: float = Field(description="RoPE base frequency (0: the model's own).")
    rope_freq_scale: float = Field(description="RoPE frequency scale (0: the model's own).")
    slots: int = Field(1, ge=1, description="Calls the model generates at once (SLOTS), each with n_ctx tokens.")
    kv_cache_bytes: int | None = Field(
        None, ge=0, description="Memory the context of all slots takes (SLOTS x N_CTX tokens of keys and values).")
    # Implementation details for the server log and tests; never part of an answer.
    extra: dict = Field(default_factory=dict, exclude=True)


class Model(ABC):
    """A chat model with a tokenizer and a fixed context window; implementations must be safe to share."""

    info: ModelInfo

    @property
    def name(self) -> str:
        """The name the model is served under."""
        return self.info.name

    @property
    def n_ctx(self) -> int:
        """The context window in tokens: prompt plus output must fit in it."""
        return self.info.n_ctx

    @property
    def parallel_calls(self) -> int:
        """Calls that run at once when made together (the engine's slots); 1 for a model that runs one at a time."""
        return 1

    @abstractmethod
    def count_tokens(self, text: str) -> int:
        """Tokens in a piece of plain text, with the model's own tokenizer."""

    @abstractmethod
    def prompt_tokens(self, messages: list[Message]) -> int:
        """Tokens of the full chat prompt these messages make, template included."""

    @abstractmethod
    def generate(self, messages: list[Message], params: GenerationParams) -> Completion:
        """Answer the messages; raises ContextOverflowError if prompt plus max_tokens exceed n_ctx."""

    def split_tokens(self, text: str, max_tokens: int) -> tuple[str, str]:
        """Split text into a head of at most max_tokens tokens and the rest, preferring a space to cut at."""
        # Search only a window a little longer than the head can be, so long unpunctuated text stays linear.
        window = max(64, max_tokens * 8)
        while window < len(text) and self.count_tokens(text[:window]) <= max_tokens:
            window *= 2
        if window >= len(text) and self.count_tokens(text) <= max_tokens:
            return text, ""
        low, high = 0, min(window, len(text))
        while low < high:  # the longest prefix that fits
            middle = (low + high + 1) // 2
            if self.count_tokens(text[:middle]) <= max_tokens:
                low = middle
            else:
                high = middle - 1
        cut = max(low, 1)
        space = text.rfind(" ", 0, cut)
        if space > cut // 2:
            cut = space
        return text[:cut], text[cut:]

    def close(self) -> None:  # noqa: B027 - an optional hook; most fakes hold nothing
        """Free the model's resources."""
