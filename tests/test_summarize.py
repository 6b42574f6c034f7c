"""Summaries on the fake model: one pass or hierarchical, always within the context, never empty."""

import pytest

from llm import TaskRunner, blocks_from_text, summarize
from tests.fakes import FakeModel


def _long_text(paragraphs: int) -> str:
    return "\n\n".join(
        f"Section {i} explains topic {i} in detail. Topic {i} matters because of reason {i}. "
        f"Experts studied topic {i} for many years." for i in range(paragraphs)
    )


def test_short_text_is_summarized_in_one_pass():
    model = FakeModel(["The tower guides ships."])
    result = summarize(TaskRunner(model), blocks_from_text("A short text about a tower. It guides ships."))
    assert result.strategy == "single"
    assert (result.chunks, result.levels) == (1, 1)
    assert result.summary == "The tower guides ships."
    assert len(model.calls) == 1


@pytest.mark.parametrize("n_ctx", [256, 512, 1024])
def test_long_text_goes_hierarchical_and_every_call_fits(n_ctx):
    model = FakeModel(n_ctx=n_ctx)
    result = summarize(TaskRunner(model), blocks_from_text(_long_text(120)), length="medium")
    assert result.strategy == "hierarchical"
    assert result.chunks > 3
    assert result.levels >= 2
    assert result.summary
    for call in model.calls:
        assert call.prompt_tokens + call.params.max_tokens <= n_ctx


def test_map_step_sees_every_part_of_the_document():
    model = FakeModel(n_ctx=512)
    text = _long_text(60)
    summarize(TaskRunner(model), blocks_from_text(text))
    seen = " ".join(call.messages[-1]["content"] for call in model.calls)
    for i in range(60):
        assert f"Section {i} explains" in seen


def test_degenerate_output_is_retried_with_a_stronger_penalty():
    loop = "Ships ships ships ships ships ships ships."
    model = FakeModel([loop, "Lighthouses guide ships at night."])
    runner = TaskRunner(model)
    result = summarize(runner, blocks_from_text("Lighthouses guide ships at night."))
    assert result.summary == "Lighthouses guide ships at night."
    assert runner.degenerate_retries == 1
    assert model.calls[1].params.repeat_penalty > model.calls[0].params.repeat_penalty


def test_empty_output_never_gives_an_empty_summary():
    model = FakeModel(["<|im_end|>", "   "])
    result = summarize(TaskRunner(model), blocks_from_text("The keepers left in 1998. Lights are automatic now."))
    assert result.summary.startswith("The keepers left in 1998.")
    assert result.warnings


def test_requested_output_larger_than_context_allows_is_capped_with_a_warning():
    model = FakeModel(n_ctx=512)
    result = summarize(TaskRunner(model), blocks_from_text("A text. " * 20), max_tokens=400)
    assert any("limited" in warning for warning in result.warnings)
    assert all(call.params.max_tokens <= 512 // 3 for call in model.calls)


def test_progress_is_reported_and_cancel_stops_work():
    from llm.errors import CancelledError

    events = []
    model = FakeModel(n_ctx=512)
    runner = TaskRunner(model, on_progress=lambda *event: events.append(event))
    summarize(runner, blocks_from_text(_long_text(40)))
    assert events[0][1] == 0 and events[-1][1] == events[-1][2]

    calls = []
    runner = TaskRunner(FakeModel(n_ctx=512), should_cancel=lambda: len(calls) > 0)
    runner.progress = lambda *event: calls.append(event)
    with pytest.raises(CancelledError):
        summarize(runner, blocks_from_text(_long_text(40)))


class _WideTemplateModel(FakeModel):
    """A fake whose chat template costs many tokens, like a big model's system preamble."""

    def __init__(self, overhead, **kwargs):
        super().__init__(**kwargs)
        self.overhead = overhead

    def prompt_tokens(self, messages):
        return super().prompt_tokens(messages) + self.overhead


@pytest.mark.parametrize(("n_ctx", "overhead"), [(256, 60), (320, 80), (512, 150), (384, 40)])
def test_tight_contexts_finish_or_refuse_but_never_hang(n_ctx, overhead):
    from llm.errors import ModelUnavailableError

    model = _WideTemplateModel(overhead, n_ctx=n_ctx)
    try:
        result = summarize(TaskRunner(model), blocks_from_text(_long_text(60)))
    except ModelUnavailableError as error:
        assert "N_CTX" in str(error)
    else:
        assert result.summary
        assert all(call.prompt_tokens + call.params.max_tokens <= n_ctx for call in model.calls)
