"""The llama.cpp model: the only module that imports llama_cpp."""

from __future__ import annotations

import ctypes
import logging
import threading
import time
from pathlib import Path
from typing import Any

import llama_cpp
import llama_cpp._internals
import llama_cpp.llama
from llama_cpp import _logger, llama_chat_format

from llm.budgets import BUDGETS
from llm.engine import Backend, BatchEngine
from llm.errors import ContextOverflowError, ModelUnavailableError
from llm.model import Completion, GenerationParams, Message, Model, ModelInfo
from llm.source import ModelSource

log = logging.getLogger(__name__)


class _OutputKept:
    """A stand-in for llama-cpp-python's suppress_stdout_stderr, which quiets a model load by pointing the whole
    process's stdout and stderr at /dev/null: every line another thread logged meanwhile (the server's own start-up
    lines) was lost. llama.cpp's own messages go through its log callback, which verbose=False already quiets."""

    def __init__(self, disable: bool = True):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *_exc):
        return False


llama_cpp._internals.suppress_stdout_stderr = _OutputKept
llama_cpp.llama.suppress_stdout_stderr = _OutputKept

# FLASH_ATTN: off is what llama-cpp-python's Llama object uses (and so SLOTS=1); auto is llama-server's default.
FLASH_ATTN_TYPES = {
    "off": llama_cpp.LLAMA_FLASH_ATTN_TYPE_DISABLED,
    "on": llama_cpp.LLAMA_FLASH_ATTN_TYPE_ENABLED,
    "auto": llama_cpp.LLAMA_FLASH_ATTN_TYPE_AUTO,
}
ROPE_SCALING_TYPES = {
    None: llama_cpp.LLAMA_ROPE_SCALING_TYPE_UNSPECIFIED,
    "none": llama_cpp.LLAMA_ROPE_SCALING_TYPE_NONE,
    "linear": llama_cpp.LLAMA_ROPE_SCALING_TYPE_LINEAR,
    "yarn": llama_cpp.LLAMA_ROPE_SCALING_TYPE_YARN,
}


# The types a catalog model may be converted to at install (models/catalog.json, "convert_to").
CONVERSION_TYPES = {"Q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0}


def convert(source: Path, target: Path, type_name: str) -> None:
    """Write the weights at source as type_name at target: each tensor read back to floats, then quantized again
    (llama.cpp's llama_model_quantize). From Q4_1 to Q8_0 the summaries stayed within measurement noise and
    prompts read 1.4x as fast on 2 cores: this llama.cpp has a faster CPU path for Q8_0 (bench/RESULTS.md,
    "Faster weights")."""
    if type_name not in CONVERSION_TYPES:
        raise ModelUnavailableError(f"cannot convert to {type_name!r}; known types: {', '.join(CONVERSION_TYPES)}")
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = CONVERSION_TYPES[type_name]
    params.allow_requantize = True  # the source is already quantized
    _logger.set_verbose(False)  # llama.cpp reports every tensor through its log callback
    if llama_cpp.llama_model_quantize(str(source).encode(), str(target).encode(), ctypes.byref(params)) != 0:
        raise ModelUnavailableError(f"llama.cpp could not convert {source.name} to {type_name}")


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


def _context_size(source: ModelSource, settings: Any) -> int:
    """N_CTX, or the model's trained context capped at BUDGETS.max_default_n_ctx."""
    return settings.n_ctx or min(
        source.n_ctx_train or trained_context(source.path) or BUDGETS.fallback_n_ctx, BUDGETS.max_default_n_ctx
    )


class _LlamaChat(Model):
    """The chat prompt of a GGUF model: its template and tokenizer, read from the loaded weights' vocabulary."""

    _weights: Any  # llama-cpp-python's LlamaModel: the loaded weights and their vocabulary
    # Tokenizing reads only the vocabulary, so it never waits for a generation; one tokenization at a time.
    _tokenizer_lock: threading.Lock

    def _init_chat(self, source: ModelSource, settings: Any, n_ctx: int, slots: int, kv_cache_bytes: int) -> None:
        self._formatter = self._make_formatter(settings.chat_format)
        self._add_bos = bool(self._weights.add_bos_token())
        self._bos = self._weights.token_bos()
        self.info = ModelInfo(
            name=source.name,
            path=str(source.path),
            n_ctx=n_ctx,
            n_gpu_layers=settings.n_gpu_layers,
            rope_scaling_type=settings.rope_scaling_type,
            rope_freq_base=settings.rope_freq_base,
            rope_freq_scale=settings.rope_freq_scale,
            slots=slots,
            kv_cache_bytes=kv_cache_bytes,
            extra={"gpu_offload": bool(llama_cpp.llama_supports_gpu_offload()), "chat_format": settings.chat_format},
        )

    def _make_formatter(self, chat_format: str | None) -> Any:
        if chat_format:
            return _formatter_for(chat_format)
        template = self._weights.metadata().get("tokenizer.chat_template")
        if not template:
            log.warning("the model has no chat template; falling back to the llama-2 format (set CHAT_FORMAT)")
            return _formatter_for("llama-2")
        model = self._weights
        eos, bos = model.token_eos(), model.token_bos()
        return llama_chat_format.Jinja2ChatFormatter(
            template=template,
            eos_token=model.token_get_text(eos) if eos != -1 else "",
            bos_token=model.token_get_text(bos) if bos != -1 else "",
            stop_token_ids=[eos],
        )

    def _tokenize(self, text: str, *, special: bool) -> list[int]:
        with self._tokenizer_lock:
            return self._weights.tokenize(text.encode("utf-8", "replace"), add_bos=False, special=special)

    def _prompt(self, messages: list[Message]) -> tuple[list[int], list[str]]:
        formatted = self._formatter(messages=messages)
        tokens = self._tokenize(formatted.prompt, special=True)
        if self._add_bos and not formatted.added_special and tokens[:1] != [self._bos]:
            tokens.insert(0, self._bos)
        stop = formatted.stop or []
        return tokens, [stop] if isinstance(stop, str) else list(stop)

    def _check_fits(self, tokens: list[int], params: GenerationParams) -> None:
        if len(tokens) + params.max_tokens > self.n_ctx:
            raise ContextOverflowError(
                f"prompt of {len(tokens)} tokens plus {params.max_tokens} output tokens exceeds n_ctx={self.n_ctx}"
            )

    def count_tokens(self, text: str) -> int:
        return len(self._tokenize(text, special=False))

    def prompt_tokens(self, messages: list[Message]) -> int:
        return len(self._prompt(messages)[0])


class LlamaCppModel(_LlamaChat):
    """A GGUF model run by llama-cpp-python's Llama object, one call at a time behind one lock (SLOTS=1)."""

    def __init__(self, source: ModelSource, settings: Any):
        n_ctx = _context_size(source, settings)
        self._lock = threading.Lock()  # one generation at a time
        self._tokenizer_lock = threading.Lock()
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
        self._weights = self._llama._model
        self._init_chat(source, settings, self._llama.n_ctx(), 1,
                        _kv_cache_bytes(self._weights.model, self._llama.n_ctx()))

    def generate(self, messages: list[Message], params: GenerationParams) -> Completion:
        tokens, stop = self._prompt(messages)
        self._check_fits(tokens, params)
        stop = stop + list(params.stop)
        watch = _TokenWatch(params, self._llama, tokens, stop)
        arguments = dict(
            prompt=tokens,
            max_tokens=params.max_tokens,
            temperature=params.temperature,
            top_p=params.top_p,
            repeat_penalty=params.repeat_penalty,
            frequency_penalty=params.frequency_penalty,
            presence_penalty=params.presence_penalty,
            # -1: llama.cpp's default seed, which draws a random one for the call.
            seed=params.seed if params.seed >= 0 else llama_cpp.LLAMA_DEFAULT_SEED,
            stop=stop,
            stopping_criteria=llama_cpp.StoppingCriteriaList([watch]),
        )
        with self._lock:
            result = self._llama.create_completion(**arguments)
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


class LlamaVocabulary(_LlamaChat):
    """A GGUF model's tokenizer and chat template without its weights, for an API node (ROLE=api): prompts are
    counted, and refused when they cannot fit, before they are queued; the workers generate."""

    def __init__(self, source: ModelSource, settings: Any):
        n_ctx = _context_size(source, settings)
        self._tokenizer_lock = threading.Lock()
        self._vocabulary = llama_cpp.Llama(model_path=str(source.path), vocab_only=True, verbose=False)
        self._weights = self._vocabulary._model
        self._init_chat(source, settings, n_ctx, 1, 0)

    def generate(self, messages: list[Message], params: GenerationParams) -> Completion:
        raise ModelUnavailableError("this API node holds no model weights: its workers generate")

    def close(self) -> None:
        self._vocabulary.close()


def _kv_cache_bytes(model: Any, cells: int) -> int:
    """Memory of the keys and values of `cells` token positions (f16, llama.cpp's default type)."""
    layers = llama_cpp.llama_model_n_layer(model)
    heads = llama_cpp.llama_model_n_head(model)
    kv_heads = llama_cpp.llama_model_n_head_kv(model)
    width = llama_cpp.llama_model_n_embd(model) // max(heads, 1) * kv_heads
    return 2 * layers * cells * width * 2


def available_memory_bytes() -> int | None:
    """Memory the system can still give (MemAvailable), where /proc/meminfo says."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


class BatchedLlamaModel(_LlamaChat):
    """A GGUF model with SLOTS sequences in one llama.cpp context, run by the batching engine (llm/engine.py):
    several calls generate at once, each in its own sequence of N_CTX tokens."""

    def __init__(self, source: ModelSource, settings: Any):
        n_ctx = _context_size(source, settings)
        self._tokenizer_lock = threading.Lock()
        backend = _LlamaBatchBackend(source, settings, n_ctx)
        self._weights = backend.weights
        self._engine = BatchEngine(backend)
        self._init_chat(source, settings, n_ctx, backend.slots, backend.kv_cache_bytes)

    @property
    def parallel_calls(self) -> int:
        return self._engine.backend.slots

    @property
    def engine(self):
        """The batching engine (for metrics and tests)."""
        return self._engine

    def generate(self, messages: list[Message], params: GenerationParams) -> Completion:
        tokens, stop = self._prompt(messages)
        self._check_fits(tokens, params)
        return self._engine.generate(tokens, stop + list(params.stop), params)

    def close(self) -> None:
        self._engine.close()


class _LlamaBatchBackend(Backend):
    """One llama.cpp context with a sequence per slot: the engine's Backend (llm/engine.py)."""

    def __init__(self, source: ModelSource, settings: Any, n_ctx: int):
        from llama_cpp import _internals

        _logger.set_verbose(False)  # llama.cpp logs through llama-cpp-python's logger: quiet, as the Llama object
        self.n_ctx = n_ctx
        model_params = llama_cpp.llama_model_default_params()
        model_params.n_gpu_layers = 0x7FFFFFFF if settings.n_gpu_layers == -1 else settings.n_gpu_layers
        try:
            self.weights = _internals.LlamaModel(path_model=str(source.path), params=model_params, verbose=False)
        except ValueError as error:
            raise ModelUnavailableError(f"could not load {source.path.name}: {error}") from None
        try:
            self.slots = self._slots_that_fit(source, settings, n_ctx)
            self._context = self._make_context(settings, automatic=not settings.slots)
        except ModelUnavailableError:
            self.weights.close()
            raise
        self.max_batch = min(settings.n_batch, n_ctx * self.slots)
        self.prefill_slice = min(BUDGETS.engine_prefill_slice, self.max_batch)
        self.kv_cache_bytes = _kv_cache_bytes(self.weights.model, n_ctx * self.slots)
        self._ctx = self._context.ctx
        self._memory = llama_cpp.llama_get_memory(self._ctx)
        self._vocab = self.weights.vocab
        self._n_vocab = llama_cpp.llama_vocab_n_tokens(self._vocab)
        self._batch = llama_cpp.llama_batch_init(self.max_batch, 0, 1)
        self._logit_rows: list[int] = []
        self._piece = ctypes.create_string_buffer(256)

    def _slots_that_fit(self, source: ModelSource, settings: Any, n_ctx: int) -> int:
        """SLOTS, refused when its context cannot fit the free memory; when unset, BUDGETS.default_slots halved
        until the model and its context take at most BUDGETS.slots_memory_share of it. (A GPU's memory is
        llama.cpp's to check: the context is made, or not.)"""
        free = available_memory_bytes()
        on_cpu = settings.n_gpu_layers == 0 or not llama_cpp.llama_supports_gpu_offload()

        def needed(slots: int) -> int:
            return _kv_cache_bytes(self.weights.model, n_ctx * slots) + source.path.stat().st_size

        if settings.slots:
            if on_cpu and free is not None and needed(settings.slots) > free:
                raise ModelUnavailableError(
                    f"SLOTS={settings.slots} x N_CTX={n_ctx} needs {needed(settings.slots) / 2**30:.1f} GiB of memory "
                    f"with the model, but {free / 2**30:.1f} GiB are free: lower SLOTS or N_CTX"
                )
            return settings.slots
        slots = BUDGETS.default_slots
        while on_cpu and free is not None and slots > 1 and needed(slots) > free * BUDGETS.slots_memory_share:
            slots //= 2
        return slots

    def _make_context(self, settings: Any, automatic: bool):
        """The llama.cpp context of all slots; with an automatic SLOTS, fewer slots while it cannot be made."""
        from llama_cpp import _internals

        while True:
            context_params = llama_cpp.llama_context_default_params()
            context_params.n_ctx = self.n_ctx * self.slots
            context_params.n_seq_max = self.slots
            context_params.n_batch = context_params.n_ubatch = min(settings.n_batch, self.n_ctx * self.slots)
            context_params.n_threads = context_params.n_threads_batch = settings.n_threads
            # Each sequence attends over its own cells only (measured: a unified cache was 20% slower at 8 slots).
            context_params.kv_unified = False
            context_params.rope_scaling_type = ROPE_SCALING_TYPES[settings.rope_scaling_type]
            context_params.rope_freq_base = settings.rope_freq_base
            context_params.rope_freq_scale = settings.rope_freq_scale
            context_params.no_perf = True
            context_params.flash_attn_type = FLASH_ATTN_TYPES[settings.flash_attn]
            try:
                return _internals.LlamaContext(model=self.weights, params=context_params, verbose=False)
            except ValueError:
                if not automatic or self.slots == 1:
                    raise ModelUnavailableError(
                        f"llama.cpp could not make a context of SLOTS={self.slots} x N_CTX={self.n_ctx} tokens: "
                        "lower SLOTS or N_CTX"
                    ) from None
                self.slots //= 2

    def decode(self, entries) -> None:
        batch = self._batch
        n = 0
        self._logit_rows = []
        for entry in entries:
            for offset, token in enumerate(entry.tokens):
                batch.token[n] = token
                batch.pos[n] = entry.start + offset
                batch.n_seq_id[n] = 1
                batch.seq_id[n][0] = entry.seq_id
                batch.logits[n] = False
                n += 1
            if entry.logits:
                batch.logits[n - 1] = True
                self._logit_rows.append(n - 1)
        batch.n_tokens = n
        status = llama_cpp.llama_decode(self._ctx, batch)
        if status != 0:
            raise ModelUnavailableError(f"llama.cpp could not decode a batch of {n} tokens (status {status})")

    def new_sampler(self, params: GenerationParams, seed: int):
        # The chain llama-cpp-python's create_completion builds, so every engine samples alike.
        chain = llama_cpp.llama_sampler_chain_init(llama_cpp.llama_sampler_chain_default_params())
        add = llama_cpp.llama_sampler_chain_add
        add(chain, llama_cpp.llama_sampler_init_penalties(self._n_vocab, BUDGETS.repeat_last_n,
                                                          params.repeat_penalty, params.frequency_penalty,
                                                          params.presence_penalty))
        if params.temperature <= 0:
            add(chain, llama_cpp.llama_sampler_init_greedy())
        else:
            add(chain, llama_cpp.llama_sampler_init_top_k(BUDGETS.top_k))
            add(chain, llama_cpp.llama_sampler_init_typical(1.0, 1))
            add(chain, llama_cpp.llama_sampler_init_top_p(params.top_p, 1))
            add(chain, llama_cpp.llama_sampler_init_min_p(BUDGETS.min_p, 1))
            add(chain, llama_cpp.llama_sampler_init_temp(params.temperature))
            add(chain, llama_cpp.llama_sampler_init_dist(seed))
        return chain

    def free_sampler(self, sampler) -> None:
        llama_cpp.llama_sampler_free(sampler)

    def sample(self, sampler, batch_index: int) -> int:
        return llama_cpp.llama_sampler_sample(sampler, self._ctx, self._logit_rows[batch_index])

    def forget(self, seq_id: int, from_position: int) -> None:
        llama_cpp.llama_memory_seq_rm(self._memory, seq_id, from_position, -1)

    def copy(self, source_seq: int, target_seq: int, length: int) -> None:
        # Across sequences of their own (kv_unified off), llama.cpp copies the whole source; the rest is dropped.
        llama_cpp.llama_memory_seq_rm(self._memory, target_seq, 0, -1)
        llama_cpp.llama_memory_seq_cp(self._memory, source_seq, target_seq, -1, -1)  # only whole ones across streams
        llama_cpp.llama_memory_seq_rm(self._memory, target_seq, length, -1)

    def piece(self, token: int) -> bytes:
        size = llama_cpp.llama_token_to_piece(self._vocab, token, self._piece, len(self._piece), 0, False)
        return self._piece.raw[:max(size, 0)]

    def is_end(self, token: int) -> bool:
        return bool(llama_cpp.llama_vocab_is_eog(self._vocab, token))

    def close(self) -> None:
        if self._batch is not None:
            llama_cpp.llama_batch_free(self._batch)
            self._batch = None
        self._context.close()
        self.weights.close()


class _TokenWatch:
    """A llama.cpp stopping criterion, called after every generated token: notes when the first one came (for
    the generation speed), hands the new text to on_text, and asks should_stop; remembers whether it stopped the
    call."""

    def __init__(self, params: GenerationParams, llama: llama_cpp.Llama | None = None, prompt: list[int] = (),
                 stop: list[str] = ()):
        self._should_stop = params.should_stop
        self._on_text = params.on_text
        self._llama = llama
        self._prompt = list(prompt)
        # What could be the start of a stop string is held back: streamed text is text that stays.
        self._hold = max((len(text) - 1 for text in stop), default=0)
        self._sent = 0
        self.first_token_at: float | None = None
        self.fired = False

    def __call__(self, tokens, _logits) -> bool:
        if self.first_token_at is None:
            self.first_token_at = time.monotonic()
        if self._on_text is not None:
            self._stream(tokens)
        if self._should_stop is not None:
            self.fired = self.fired or bool(self._should_stop())
        return self.fired

    def _stream(self, tokens) -> None:
        # Decoded as create_completion decodes its answer (after the prompt), so the pieces add up to its text.
        generated = list(tokens[len(self._prompt):])
        if generated and self._llama.token_eos() == generated[-1]:
            generated.pop()
        text = self._llama.detokenize(generated, prev_tokens=self._prompt).decode("utf-8", errors="ignore")
        ready = len(text) - self._hold
        if ready > self._sent:
            self._on_text(text[self._sent:ready])
            self._sent = ready
