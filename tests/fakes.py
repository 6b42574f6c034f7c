"""A queue-driven fake at the llm/ boundary: everything above the Model runs for real in unit tests."""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from llm.cleanup import split_sentences
from llm.errors import ContextOverflowError
from llm.model import Completion, GenerationParams, Message, Model, ModelInfo

_TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass
class Call:
    """One recorded generate() call."""

    messages: list[Message]
    params: GenerationParams
    prompt_tokens: int


def _document_part(messages: list[Message]) -> str:
    """The text before the instruction in the last user message (the prompts put the document first)."""
    return messages[-1]["content"].rsplit("\n\n", 1)[0]


def echo_response(messages: list[Message]) -> str:
    """A plausible answer made from the prompt's own text: first sentences, or a numbered list of them."""
    instruction = messages[-1]["content"].rsplit("\n\n", 1)[-1]
    sentences = split_sentences(" ".join(_document_part(messages).split()))
    wanted = re.search(r"List (?:the )?(\d+)", instruction)
    if wanted:
        return "\n".join(f"{i}. {s}" for i, s in enumerate(sentences[: int(wanted.group(1))], start=1))
    return " ".join(sentences[:2])


class FakeModel(Model):
    """Answers from a queue (strings, exceptions or callables), then with echo_response; records every call."""

    def __init__(self, responses=(), *, n_ctx: int = 2048, name: str = "fake-model",
                 default: Callable[[list[Message]], str] = echo_response, seconds_per_token: float = 0.0,
                 parallel: int = 1):
        self.info = ModelInfo(name=name, path="fake.gguf", n_ctx=n_ctx, n_gpu_layers=0, rope_scaling_type=None,
                              rope_freq_base=0.0, rope_freq_scale=0.0)
        self.responses = deque(responses)
        self.default = default
        self.calls: list[Call] = []
        self.seconds_per_token = seconds_per_token
        self.parallel = parallel
        self.most_at_once = 0  # the most calls that were under way together (runner.map on a model with slots)
        self._running = 0
        self._running_lock = threading.Lock()

    @property
    def parallel_calls(self) -> int:
        return self.parallel

    def count_tokens(self, text: str) -> int:
        return len(_TOKEN.findall(text))

    def prompt_tokens(self, messages: list[Message]) -> int:
        return sum(self.count_tokens(message["content"]) + 4 for message in messages) + 2

    def generate(self, messages: list[Message], params: GenerationParams) -> Completion:
        with self._running_lock:
            self._running += 1
            self.most_at_once = max(self.most_at_once, self._running)
        try:
            return self._generate(messages, params)
        finally:
            with self._running_lock:
                self._running -= 1

    def _generate(self, messages: list[Message], params: GenerationParams) -> Completion:
        prompt = self.prompt_tokens(messages)
        if prompt + params.max_tokens > self.n_ctx:
            raise ContextOverflowError(f"{prompt} + {params.max_tokens} > {self.n_ctx}")
        self.calls.append(Call(messages, params, prompt))
        response = self.responses.popleft() if self.responses else self.default
        if isinstance(response, Exception):
            raise response
        text = response(messages) if callable(response) else response
        for stop in params.stop:  # a stop string ends the answer, as llama.cpp ends it
            text = text.split(stop, 1)[0]
        tokens = _TOKEN.findall(text)
        finish = "stop"
        if len(tokens) > params.max_tokens:
            text = self.split_tokens(text, params.max_tokens)[0]
            finish = "length"
        for piece in re.findall(r"\s*\S+", text) if (self.seconds_per_token or params.on_text) else ():
            # generated "token by token", like llama.cpp: cancellable between tokens, streamed as they come
            if params.should_stop is not None and params.should_stop():
                return Completion("", prompt, 0, "interrupted")
            time.sleep(self.seconds_per_token)
            if params.on_text is not None:
                params.on_text(piece)
        return Completion(text, prompt, min(len(tokens), params.max_tokens), finish)
