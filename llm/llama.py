"""The llama.cpp model: the only module that imports llama_cpp."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

import llama_cpp
from llama_cpp import llama_chat_format

from llm.budgets import BUDGETS
from llm.errors import ContextOverflowError, ModelUnavailableError
from llm.model import Completion, GenerationParams, Message, Model, ModelInfo
from llm.source import ModelSource

log = logging.getLogger(__name__)

ROPE_SCALING_TYPES = {
    None: llama_cpp.LLAMA_ROPE_SCALING_TYPE_UNSPECIFIED,
    "none": llama_cpp.LLAMA_ROPE_SCALING_TYPE_NONE,
    "linear": llama_cpp.LLAMA_ROPE_SCALING_TYPE_LINEAR,
    "yarn": llama_cpp.LLAMA_ROPE_SCALING_TYPE_YARN,
}


def trained_context(path: Path) -> int | None:
    """The context length the model was trained with, read from the GGUF metadata (vocabulary only)."""
    probe = llama_cpp.Llama(model_path=str(path), vocab_only=True, verbose=False)
    try:
        architecture = probe.metadata.get("general.architecture", "llama")
        value = probe.metadata.get(f"{architecture}.context_length")
        return int(value) if value else None
    finally:
        probe.close()


def check_chat_format(name: str) -> None:
    """Raise ModelUnavailableError unless name is a chat format that can be used."""
    _formatter_for(name)


def _formatter_for(name: str) -> Any:
    """The prompt formatter behind one of llama-cpp-python's named chat formats."""
    handlers = llama_chat_format.LlamaChatCompletionHandlerRegistry()._chat_handlers
    handler = handlers.get(name)
    if handler is None:
        known = ", ".join(sorted(handlers))
        raise ModelUnavailableError(f"unknown CHAT_FORMAT {name!r}; known formats: {known}")
    # Named formats wrap a formatter function in a handler closure; we need the formatter itself so that
    # the prompt can be counted exactly before it is sent.
    cells = dict(zip(handler.__code__.co_freevars, handler.__closure__ or (), strict=False))
    cell = cells.get("chat_formatter")
    if cell is None:
        raise ModelUnavailableError(f"CHAT_FORMAT {name!r} is not a plain prompt format and cannot be used")
    return cell.cell_contents


class LlamaCppModel(Model):
    """A GGUF model run by llama.cpp; every use of it is serialized behind one lock."""

    def __init__(self, source: ModelSource, settings: Any):
        n_ctx = settings.n_ctx or min(
            source.n_ctx_train or trained_context(source.path) or BUDGETS.fallback_n_ctx, BUDGETS.max_default_n_ctx
        )
        self._lock = threading.Lock()
        try:
            self._llama = llama_cpp.Llama(
                model_path=str(source.path),
                n_ctx=n_ctx,
                n_batch=min(settings.n_batch, n_ctx),
                n_gpu_layers=settings.n_gpu_layers,
                n_threads=settings.n_threads,
                rope_scaling_type=ROPE_SCALING_TYPES[settings.rope_scaling_type],
                rope_freq_base=settings.rope_freq_base,
                rope_freq_scale=settings.rope_freq_scale,
                seed=settings.seed if settings.seed >= 0 else llama_cpp.LLAMA_DEFAULT_SEED,
                verbose=False,
            )
        except ValueError as error:  # llama-cpp-python reports load failures as ValueError
            raise ModelUnavailableError(f"could not load {source.path.name}: {error}") from None
        self._formatter = self._make_formatter(settings.chat_format)
        self._add_bos = bool(self._llama._model.add_bos_token())
        self._bos = self._llama.token_bos()
        self.info = ModelInfo(
            name=source.name,
            path=str(source.path),
            n_ctx=self._llama.n_ctx(),
            n_gpu_layers=settings.n_gpu_layers,
            rope_scaling_type=settings.rope_scaling_type,
            rope_freq_base=settings.rope_freq_base,
            rope_freq_scale=settings.rope_freq_scale,
            extra={"gpu_offload": bool(llama_cpp.llama_supports_gpu_offload()), "chat_format": settings.chat_format},
        )

    def _make_formatter(self, chat_format: str | None) -> Any:
        if chat_format:
            return _formatter_for(chat_format)
        template = self._llama.metadata.get("tokenizer.chat_template")
        if not template:
            log.warning("the model has no chat template; falling back to the llama-2 format (set CHAT_FORMAT)")
            return _formatter_for("llama-2")
        model = self._llama._model
        eos, bos = self._llama.token_eos(), self._llama.token_bos()
        return llama_chat_format.Jinja2ChatFormatter(
            template=template,
            eos_token=model.token_get_text(eos) if eos != -1 else "",
            bos_token=model.token_get_text(bos) if bos != -1 else "",
            stop_token_ids=[eos],
        )

    def _tokenize(self, text: str, *, special: bool) -> list[int]:
        with self._lock:
            return self._llama.tokenize(text.encode("utf-8", "replace"), add_bos=False, special=special)

    def _prompt(self, messages: list[Message]) -> tuple[list[int], list[str]]:
        formatted = self._formatter(messages=messages)
        tokens = self._tokenize(formatted.prompt, special=True)
        if self._add_bos and not formatted.added_special and tokens[:1] != [self._bos]:
            tokens.insert(0, self._bos)
        stop = formatted.stop or []
        return tokens, [stop] if isinstance(stop, str) else list(stop)

    def count_tokens(self, text: str) -> int:
        return len(self._tokenize(text, special=False))

    def prompt_tokens(self, messages: list[Message]) -> int:
        return len(self._prompt(messages)[0])

    def generate(self, messages: list[Message], params: GenerationParams) -> Completion:
        tokens, stop = self._prompt(messages)
        if len(tokens) + params.max_tokens > self.n_ctx:
            raise ContextOverflowError(
                f"prompt of {len(tokens)} tokens plus {params.max_tokens} output tokens exceeds n_ctx={self.n_ctx}"
            )
        watch = _TokenWatch(params.should_stop)
        with self._lock:
            result = self._llama.create_completion(
                prompt=tokens,
                max_tokens=params.max_tokens,
                temperature=params.temperature,
                top_p=params.top_p,
                repeat_penalty=params.repeat_penalty,
                seed=params.seed if params.seed >= 0 else None,
                stop=stop,
                stopping_criteria=llama_cpp.StoppingCriteriaList([watch]),
            )
        finished = time.monotonic()
        choice = result["choices"][0]
        usage = result["usage"]
        return Completion(
            text=choice["text"],
            prompt_tokens=usage["prompt_tokens"],
            completion_tokens=usage["completion_tokens"],
            finish_reason="interrupted" if watch.fired else (
                "length" if choice["finish_reason"] == "length" else "stop"
            ),
            generation_seconds=None if watch.first_token_at is None else finished - watch.first_token_at,
        )

    def close(self) -> None:
        with self._lock:
            self._llama.close()


class _TokenWatch:
    """A llama.cpp stopping criterion, called after every generated token: notes when the first one came (for
    the generation speed) and asks should_stop; remembers whether it stopped the call."""

    def __init__(self, should_stop):
        self._should_stop = should_stop
        self.first_token_at: float | None = None
        self.fired = False

    def __call__(self, _tokens, _logits) -> bool:
        if self.first_token_at is None:
            self.first_token_at = time.monotonic()
        if self._should_stop is not None:
            self.fired = self.fired or bool(self._should_stop())
        return self.fired
