"""Continuous batching: one thread runs several generations at once on one model context.

Each step decodes the next token of every running sequence plus a bounded slice of waiting prompts, so a long prompt
never stalls the others for more than a slice, and a finished sequence's slot takes the next request at once. The
scheduler here is plain Python; what touches llama.cpp is the Backend (llm/llama.py), which tests replace.

Fair shares: requests carry a group (the job they belong to). A free slot goes to the waiting request whose group
runs the fewest sequences, then whose group was served longest ago, then the oldest, so a 300-page document's forty
map calls never keep a short request waiting for more than one slot to come free.
"""

from __future__ import annotations

import codecs
import logging
import random
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from llm.errors import ContextOverflowError, ModelUnavailableError
from llm.model import Completion, GenerationParams

log = logging.getLogger(__name__)

WAIT_CHECK_S = 0.05  # how often a waiting caller asks its should_stop (the engine thread never calls it)
# A shorter shared start is read rather than copied: copying a slot's cache costs about as much as reading a few
# dozen tokens.
MIN_COPY_TOKENS = 64


@dataclass(frozen=True)
class BatchEntry:
    """Tokens of one sequence to decode in a step, from position start; logits wanted for the last one."""

    seq_id: int
    tokens: list[int]
    start: int
    logits: bool


class Backend(ABC):
    """What the engine needs of a model context holding `slots` sequences."""

    slots: int
    n_ctx: int  # the context of one sequence
    prefill_slice: int  # most prompt tokens read in a step while other sequences are generating
    max_batch: int  # most tokens in one step

    @abstractmethod
    def decode(self, entries: list[BatchEntry]) -> None:
        """Decode the entries in one batch; raises ModelUnavailableError if the context cannot take them."""

    @abstractmethod
    def new_sampler(self, params: GenerationParams, seed: int) -> Any:
        """A sampler with the params' decoding settings."""

    @abstractmethod
    def free_sampler(self, sampler: Any) -> None:
        """Release a sampler."""

    @abstractmethod
    def sample(self, sampler: Any, batch_index: int) -> int:
        """The next token from the logits of the batch's entry batch_index (counting entries that wanted logits,
        in order), accepted into the sampler's history."""

    @abstractmethod
    def forget(self, seq_id: int, from_position: int) -> None:
        """Drop a sequence's cached tokens from from_position on."""

    @abstractmethod
    def copy(self, source_seq: int, target_seq: int, length: int) -> None:
        """Make target_seq hold the first `length` cached tokens of source_seq (and nothing else)."""

    @abstractmethod
    def piece(self, token: int) -> bytes:
        """The bytes a generated token stands for."""

    @abstractmethod
    def is_end(self, token: int) -> bool:
        """Whether the token ends generation (end of turn or of text)."""

    def close(self) -> None:  # noqa: B027 - an optional hook
        """Free the context."""


@dataclass(eq=False)
class _Request:
    tokens: list[int]
    params: GenerationParams
    stop: list[str]
    group: str
    on_text: Callable[[str], None] | None
    submitted: float = field(default_factory=time.monotonic)
    # Bytes become text as they complete (a character may span tokens); broken bytes are dropped, as llama.cpp's
    # own detokenizer drops them.
    decoder: Any = field(default_factory=lambda: codecs.getincrementaldecoder("utf-8")(errors="ignore"))
    done: threading.Event = field(default_factory=threading.Event)
    cancel: bool = False  # set by the waiting caller; read by the engine between tokens
    text: str = ""
    streamed: int = 0  # characters of text already handed to on_text
    completion_tokens: int = 0
    finish_reason: Literal["stop", "length", "interrupted"] | None = None
    first_token_at: float | None = None
    finished_at: float | None = None
    error: Exception | None = None


@dataclass(eq=False)
class _Slot:
    seq_id: int
    cached: list[int] = field(default_factory=list)  # tokens whose keys and values the sequence holds
    request: _Request | None = None
    to_read: list[int] = field(default_factory=list)  # prompt tokens still to decode
    next_token: int | None = None  # sampled, not yet decoded
    sampler: Any = None


def _common_prefix(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class BatchEngine:
    """Runs requests on a Backend from one thread; generate() may be called from many threads at once."""

    def __init__(self, backend: Backend):
        self.backend = backend
        self._slots = [_Slot(seq_id) for seq_id in range(backend.slots)]
        self._waiting: list[_Request] = []
        self._wake = threading.Condition()
        self._closed = False
        self._served: dict[str, int] = {}  # group -> when it was last given a slot (in admissions)
        self._admissions = 0
        self.steps = 0
        self.reused_tokens = 0  # prompt tokens found already cached in a slot, not read again
        self.most_running = 0  # the most sequences that ever ran in one step
        self.copied_tokens = 0  # prompt tokens copied from another slot's cache instead of read
        self._thread = threading.Thread(target=self._run, name="batch-engine", daemon=True)
        self._thread.start()

    # What callers use

    def generate(self, tokens: list[int], stop: list[str], params: GenerationParams) -> Completion:
        """Generate from prompt tokens; blocks the calling thread (only) until the answer is complete."""
        if len(tokens) + params.max_tokens > self.backend.n_ctx:
            raise ContextOverflowError(
                f"prompt of {len(tokens)} tokens plus {params.max_tokens} output tokens exceeds "
                f"n_ctx={self.backend.n_ctx}"
            )
        request = _Request(list(tokens), params, [s for s in stop if s], params.group, params.on_text)
        with self._wake:
            if self._closed:
                raise ModelUnavailableError("the model was closed")
            self._waiting.append(request)
            self._wake.notify()
        while not request.done.wait(WAIT_CHECK_S):
            if params.should_stop is not None and not request.cancel and params.should_stop():
                request.cancel = True
                with self._wake:
                    self._wake.notify()
        if request.error is not None:
            raise request.error
        assert request.finish_reason is not None
        generation_seconds = None
        if request.first_token_at is not None and request.finished_at is not None:
            generation_seconds = request.finished_at - request.first_token_at
        return Completion(
            text=request.text, prompt_tokens=len(request.tokens), completion_tokens=request.completion_tokens,
            finish_reason=request.finish_reason, generation_seconds=generation_seconds,
        )

    @property
    def running(self) -> int:
        """Sequences generating or reading their prompt now."""
        return sum(slot.request is not None for slot in self._slots)

    @property
    def waiting(self) -> int:
        """Requests waiting for a free slot."""
        return len(self._waiting)

    def close(self) -> None:
        """Stop the engine: unfinished requests fail; then free the backend."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join()
        self.backend.close()

    # The engine thread

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._closed and not self._waiting and self.running == 0:
                    self._wake.wait()
                if self._closed:
                    break
                self._admit()
            try:
                self._step()
            except Exception as error:
                log.exception("a batch step failed")
                for slot in self._slots:
                    if slot.request is not None:
                        self._end(slot, None, error=error if isinstance(error, ModelUnavailableError) else
                                  ModelUnavailableError("the model failed while generating; see the server log"))
                        slot.cached = []
                        self.backend.forget(slot.seq_id, 0)
        closed = ModelUnavailableError("the model was closed")
        for slot in self._slots:
            if slot.request is not None:
                self._end(slot, None, error=closed)
        for request in self._waiting:
            request.error = closed
            request.done.set()
        self._waiting.clear()

    def _admit(self) -> None:
        """Give free slots to waiting requests, fairly across groups (called holding the lock)."""
        for request in [r for r in self._waiting if r.cancel]:
            self._waiting.remove(request)
            request.finish_reason = "interrupted"
            request.done.set()
        present = {r.group for r in self._waiting} | {s.request.group for s in self._slots if s.request is not None}
        self._served = {group: order for group, order in self._served.items() if group in present}
        free = [slot for slot in self._slots if slot.request is None]
        while free and self._waiting:
            running: dict[str, int] = {}
            for slot in self._slots:
                if slot.request is not None:
                    running[slot.request.group] = running.get(slot.request.group, 0) + 1
            # Fewest running first, then the group served longest ago (a new one first), then the oldest request.
            request = min(self._waiting, key=lambda r: (running.get(r.group, 0), self._served.get(r.group, -1),
                                                        r.submitted))
            self._waiting.remove(request)
            self._admissions += 1
            self._served[request.group] = self._admissions
            # The free slot that already holds the longest start of this prompt (a shared system prompt, a
            # retry of the same call) reads only the rest.
            slot = max(free, key=lambda s: _common_prefix(s.cached, request.tokens))
            free.remove(slot)
            self._start(slot, request)

    def _copy_shared_start(self, slot: _Slot, request: _Request) -> int:
        """When another slot holds a longer start of the prompt than this one (candidates of one prompt, calls with
        one system prompt), copy it over instead of reading it again; the tokens this slot now holds."""
        own = _common_prefix(slot.cached, request.tokens)
        best, length = None, own
        for other in self._slots:
            if other is slot:
                continue
            shared = _common_prefix(other.cached, request.tokens)
            if shared > length:
                best, length = other, shared
        length = min(length, len(request.tokens) - 1)
        if best is None or length - own < MIN_COPY_TOKENS:
            return own
        self.backend.copy(best.seq_id, slot.seq_id, length)
        slot.cached = request.tokens[:length]
        self.copied_tokens += length
        return length

    def _start(self, slot: _Slot, request: _Request) -> None:
        # At least the last prompt token is read again: its logits give the first generated token.
        keep = min(self._copy_shared_start(slot, request), len(request.tokens) - 1)
        self.backend.forget(slot.seq_id, keep)
        self.reused_tokens += keep
        slot.cached = request.tokens[:keep]
        slot.to_read = request.tokens[keep:]
        slot.request = request
        slot.next_token = None
        seed = request.params.seed if request.params.seed >= 0 else random.randrange(2**31)
        slot.sampler = self.backend.new_sampler(request.params, seed)

    def _step(self) -> None:
        entries: list[BatchEntry] = []
        wants_logits: list[_Slot] = []
        for slot in self._slots:
            request = slot.request
            if request is None or slot.next_token is None:
                continue
            if request.cancel:
                self._end(slot, "interrupted")
                continue
            entries.append(BatchEntry(slot.seq_id, [slot.next_token], len(slot.cached), True))
            slot.cached.append(slot.next_token)
            wants_logits.append(slot)
        # Prompts are read in slices while others generate, whole batches when nobody does.
        room = self.backend.prefill_slice if entries else self.backend.max_batch
        room = min(room, self.backend.max_batch - len(entries))
        reading = sorted((s for s in self._slots if s.request is not None and s.to_read),
                         key=lambda s: s.request.submitted)
        for slot in reading:
            if room <= 0:
                break
            if slot.request.cancel:
                self._end(slot, "interrupted")
                continue
            part = slot.to_read[:room]
            finishes = len(part) == len(slot.to_read)
            entries.append(BatchEntry(slot.seq_id, part, len(slot.cached), finishes))
            slot.cached.extend(part)
            slot.to_read = slot.to_read[len(part):]
            room -= len(part)
            if finishes:
                wants_logits.append(slot)
        if not entries:
            return
        self.backend.decode(entries)
        self.steps += 1
        self.most_running = max(self.most_running, len({entry.seq_id for entry in entries}))
        for index, slot in enumerate(wants_logits):
            self._take(slot, self.backend.sample(slot.sampler, index))

    def _take(self, slot: _Slot, token: int) -> None:
        request = slot.request
        assert request is not None
        now = time.monotonic()
        if request.first_token_at is None:
            request.first_token_at = now
        if self.backend.is_end(token):
            self._end(slot, "stop")
            return
        request.completion_tokens += 1
        added = request.decoder.decode(self.backend.piece(token))
        text = request.text + added
        for stop in request.stop:
            # Only where the new text could complete it: the whole answer is never searched again.
            at = text.find(stop, max(0, len(request.text) - len(stop) + 1))
            if at >= 0:
                request.text = text[:at]
                self._end(slot, "stop")
                return
        request.text = text
        if request.completion_tokens >= request.params.max_tokens:
            self._end(slot, "length")
            return
        if request.cancel:
            self._end(slot, "interrupted")
            return
        slot.next_token = token
        self._stream(request, final=False)

    def _stream(self, request: _Request, final: bool) -> None:
        if request.on_text is None:
            return
        # Hold back what could be the start of a stop string, so streamed text is text that stays.
        hold = 0 if final else max((len(stop) - 1 for stop in request.stop), default=0)
        upto = max(request.streamed, len(request.text) - hold)
        if upto > request.streamed:
            piece = request.text[request.streamed:upto]
            request.streamed = upto
            try:
                request.on_text(piece)
            except Exception:
                log.exception("a text listener failed")

    def _end(self, slot: _Slot, reason: str | None, error: Exception | None = None) -> None:
        request = slot.request
        assert request is not None
        request.finish_reason = reason  # type: ignore[assignment]
        request.error = error
        request.finished_at = time.monotonic()
        if error is None and reason != "interrupted":
            self._stream(request, final=True)
        if slot.to_read:  # ended before its prompt was read: what is cached is only the part read
            slot.to_read = []
        slot.next_token = None
        if slot.sampler is not None:
            self.backend.free_sampler(slot.sampler)
            slot.sampler = None
        slot.request = None
        request.done.set()

