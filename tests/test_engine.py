"""The batching engine's scheduling (llm/engine.py) on a scripted backend: fair shares, prompt slices, stop strings,
streaming, cancellation, prefix reuse and failures. The real llama.cpp backend is tested in test_integration.py."""

from __future__ import annotations

import threading
import time

import pytest

from llm.engine import Backend, BatchEngine, BatchEntry
from llm.errors import ContextOverflowError, ModelUnavailableError
from llm.model import GenerationParams

END = 0


class ScriptedBackend(Backend):
    """Tokens are characters; a sequence's answer is the text after the '>' of its prompt, then END. Records every
    decoded batch; an optional gate makes each step wait, so a test can line requests up."""

    def __init__(self, slots: int = 2, n_ctx: int = 256, prefill_slice: int = 4, max_batch: int = 64):
        self.slots, self.n_ctx, self.prefill_slice, self.max_batch = slots, n_ctx, prefill_slice, max_batch
        self.batches: list[list[BatchEntry]] = []
        self.forgotten: list[tuple[int, int]] = []
        self.copies: list[tuple[int, int, int]] = []
        self.fail_next = False
        self.step_delay = 0.0
        self._answers: dict[int, list[int]] = {}  # seq_id -> tokens still to give
        self._last: list[int] = []

    def decode(self, entries):
        if self.fail_next:
            self.fail_next = False
            raise ModelUnavailableError("decode failed")
        self.batches.append(entries)
        time.sleep(self.step_delay)
        self._last = [entry.seq_id for entry in entries if entry.logits]

    def new_sampler(self, params, seed):
        return {"params": params, "seed": seed}

    def free_sampler(self, sampler):
        sampler["freed"] = True

    def sample(self, sampler, batch_index):
        seq_id = self._last[batch_index]
        return self._answers[seq_id].pop(0) if self._answers[seq_id] else END

    def forget(self, seq_id, from_position):
        self.forgotten.append((seq_id, from_position))

    def copy(self, source_seq, target_seq, length):
        self.copies.append((source_seq, target_seq, length))

    def piece(self, token):
        return bytes([token])

    def is_end(self, token):
        return token == END

    def expect(self, seq_id: int, answer: str) -> None:
        self._answers[seq_id] = list(answer.encode())


def tokens(text: str) -> list[int]:
    return list(text.encode())


class ScriptedEngine(BatchEngine):
    """The engine, answering each prompt with its text after '>' (the backend is told when a slot takes it)."""

    admitted: list[str]

    def _start(self, slot, request):
        prompt = bytes(request.tokens).decode()
        self.__dict__.setdefault("admitted", []).append(prompt.split(">", 1)[0])
        self.backend.expect(slot.seq_id, prompt.split(">", 1)[1] if ">" in prompt else "")
        super()._start(slot, request)


@pytest.fixture
def backend():
    return ScriptedBackend()


@pytest.fixture
def engine(backend):
    engine = ScriptedEngine(backend)
    yield engine
    engine.close()


def run_all(engine, calls):
    """Run (prompt, stop, params) calls from threads at once; their completions in order."""
    results: list = [None] * len(calls)

    def call(index, prompt, stop, params):
        try:
            results[index] = engine.generate(tokens(prompt), stop, params)
        except Exception as error:  # noqa: BLE001 - handed back to the test
            results[index] = error

    threads = [threading.Thread(target=call, args=(index, *arguments)) for index, arguments in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    return results


def test_a_call_gets_its_answer_and_counts(engine):
    done = engine.generate(tokens("q>Hello there."), [], GenerationParams(max_tokens=50))
    assert done.text == "Hello there."
    assert done.finish_reason == "stop"
    assert (done.prompt_tokens, done.completion_tokens) == (len("q>Hello there."), len("Hello there."))


def test_many_calls_at_once_each_get_their_own_answer(engine, backend):
    calls = [(f"q{number}>answer {number}", [], GenerationParams(max_tokens=50)) for number in range(7)]
    results = run_all(engine, calls)
    assert [result.text for result in results] == [f"answer {number}" for number in range(7)]
    # Two slots: some steps decoded tokens of both sequences at once.
    assert any(len({entry.seq_id for entry in batch}) == 2 for batch in backend.batches)


def test_token_cap_ends_with_length(engine):
    done = engine.generate(tokens("q>a long answer"), [], GenerationParams(max_tokens=4))
    assert (done.text, done.finish_reason, done.completion_tokens) == ("a lo", "length", 4)


def test_stop_string_is_cut_and_never_streamed(engine):
    streamed: list[str] = []
    done = engine.generate(tokens("q>first part<|end|>never"), ["<|end|>"],
                           GenerationParams(max_tokens=50, on_text=streamed.append))
    assert done.text == "first part"
    assert done.finish_reason == "stop"
    assert "".join(streamed) == "first part"  # streamed text is text that stays


def test_streamed_pieces_add_up_to_the_answer(engine):
    streamed: list[str] = []
    done = engine.generate(tokens("q>one two three"), [], GenerationParams(max_tokens=50, on_text=streamed.append))
    assert "".join(streamed) == done.text == "one two three"
    assert len(streamed) > 1  # it came as it was made, not at the end


def test_context_overflow_is_refused_before_queueing(engine, backend):
    with pytest.raises(ContextOverflowError):
        engine.generate(tokens("x" * 200), [], GenerationParams(max_tokens=100))
    assert backend.batches == []


def test_a_long_prompt_is_read_in_slices_while_another_generates(backend):
    backend.step_delay = 0.01
    engine = ScriptedEngine(backend)
    try:
        results = run_all(engine, [
            ("q>" + "g" * 30, [], GenerationParams(max_tokens=40)),
            ("p" * 40 + ">done", [], GenerationParams(max_tokens=10)),
        ])
    finally:
        engine.close()
    assert [result.text for result in results] == ["g" * 30, "done"]
    for batch in backend.batches:
        generating = [entry for entry in batch if len(entry.tokens) == 1 and entry.logits]
        reading = sum(len(entry.tokens) for entry in batch if entry not in generating)
        if generating:
            assert reading <= backend.prefill_slice


def test_fair_shares_a_short_request_is_not_stuck_behind_a_big_job(backend):
    backend.slots = 1
    backend.step_delay = 0.005
    engine = ScriptedEngine(backend)
    try:
        threads = [threading.Thread(target=engine.generate,
                                    args=(tokens(f"big{number}>xxxxx"), [], GenerationParams(max_tokens=10,
                                                                                              group="big")))
                   for number in range(6)]
        for thread in threads:
            thread.start()
        _wait_for(lambda: engine.running == 1 and engine.waiting == 5)
        short = engine.generate(tokens("short>y"), [], GenerationParams(max_tokens=5, group="short"))
        for thread in threads:
            thread.join(10)
    finally:
        engine.close()
    assert short.text == "y"
    # The big job's first call was running when the short one came: the short one takes the next free slot,
    # ahead of the big job's five waiting calls.
    assert engine.admitted.index("short") == 1
    assert len(engine.admitted) == 7


def _wait_for(condition, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.001)


def test_cancel_stops_a_running_sequence_and_frees_its_slot(engine, backend):
    backend.step_delay = 0.01  # 100 tokens would take 1 s
    stop = threading.Event()
    timer = threading.Timer(0.2, stop.set)
    timer.start()
    results = run_all(engine, [("q>" + "z" * 100, [], GenerationParams(max_tokens=120, should_stop=stop.is_set)),
                               ("r>quick", [], GenerationParams(max_tokens=10))])
    assert results[1].text == "quick"
    assert results[0].finish_reason == "interrupted"
    assert 0 < results[0].completion_tokens < 60
    assert engine.running == 0
    assert engine.generate(tokens("q>next"), [], GenerationParams(max_tokens=10)).text == "next"


def test_a_cancelled_waiting_request_never_starts(backend):
    backend.slots = 1
    backend.step_delay = 0.01
    engine = ScriptedEngine(backend)
    try:
        stop = threading.Event()
        stop.set()
        results = run_all(engine, [("q>" + "a" * 20, [], GenerationParams(max_tokens=30)),
                                   ("w>never", [], GenerationParams(max_tokens=10, should_stop=stop.is_set))])
    finally:
        engine.close()
    assert results[0].text == "a" * 20
    assert results[1].finish_reason == "interrupted"
    assert results[1].completion_tokens == 0


def test_a_prompt_that_starts_like_the_last_one_reads_only_the_rest(engine, backend):
    engine.generate(tokens("shared system prompt|one>a"), [], GenerationParams(max_tokens=5))
    engine.generate(tokens("shared system prompt|two>b"), [], GenerationParams(max_tokens=5))
    assert engine.reused_tokens >= len("shared system prompt|")
    # The slot kept its cached start and dropped only what followed it.
    assert (0, len("shared system prompt|")) in backend.forgotten


def test_a_failed_step_fails_its_requests_and_the_engine_goes_on(engine, backend):
    backend.fail_next = True
    with pytest.raises(ModelUnavailableError):
        engine.generate(tokens("q>lost"), [], GenerationParams(max_tokens=10))
    assert engine.generate(tokens("q>fine"), [], GenerationParams(max_tokens=10)).text == "fine"


def test_close_fails_waiting_requests_instead_of_hanging(backend):
    backend.slots = 1
    backend.step_delay = 0.02
    engine = ScriptedEngine(backend)
    results: list = []
    threads = [threading.Thread(target=lambda p=prompt: results.append(_outcome(engine, p)))
               for prompt in ("a>" + "x" * 50, "b>y", "c>z")]
    for thread in threads:
        thread.start()
    time.sleep(0.1)
    engine.close()
    for thread in threads:
        thread.join(5)
    assert len(results) == 3
    assert any(isinstance(result, ModelUnavailableError) for result in results)
    with pytest.raises(ModelUnavailableError):
        engine.generate(tokens("d>w"), [], GenerationParams(max_tokens=5))


def _outcome(engine, prompt):
    try:
        return engine.generate(tokens(prompt), [], GenerationParams(max_tokens=60))
    except ModelUnavailableError as error:
        return error


def test_a_prompt_another_slot_holds_is_copied_not_read_again(backend):
    backend.step_delay = 0.01
    engine = ScriptedEngine(backend)
    shared = "s" * 100
    try:
        first = threading.Thread(target=engine.generate,
                                 args=(tokens(shared + ">" + "a" * 30), [], GenerationParams(max_tokens=40)))
        first.start()
        _wait_for(lambda: engine.running == 1 and not engine._slots[0].to_read)  # its prompt is read
        second = engine.generate(tokens(shared + ">b"), [], GenerationParams(max_tokens=5))
        first.join(10)
    finally:
        engine.close()
    assert second.text == "b"
    assert backend.copies == [(0, 1, len(shared) + 1)]  # the shared start, ">" included
    decoded_for_second = sum(len(entry.tokens) for batch in backend.batches for entry in batch if entry.seq_id == 1)
    assert decoded_for_second < 10  # what follows the shared start and its answer, not the 100 shared tokens
