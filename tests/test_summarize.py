"""Summaries on the fake model: one pass or hierarchical, always within the context, never empty."""

import pytest

from llm import TaskRunner, blocks_from_text, prompts, summarize
from llm.budgets import BUDGETS
from llm.errors import ModelUnavailableError
from tests.conftest import long_text
from tests.fakes import FakeModel


def test_short_text_is_summarized_in_one_pass():
    model = FakeModel(["The tower guides ships."])
    text = "A short text about a tower. It guides ships."
    result = summarize(TaskRunner(model), blocks_from_text(text), length="medium")
    assert result.strategy == "single"
    assert (result.chunks, result.levels) == (1, 1)
    assert result.summary == "The tower guides ships."
    assert len(model.calls) == 1


@pytest.mark.parametrize("n_ctx", [256, 512, 1024])
def test_long_text_goes_hierarchical_and_every_call_fits(n_ctx):
    model = FakeModel(n_ctx=n_ctx)
    result = summarize(TaskRunner(model), blocks_from_text(long_text(120, sentences=3)), length="medium")
    assert result.strategy == "hierarchical"
    assert result.chunks > 3
    assert result.levels >= 2
    assert result.summary
    for call in model.calls:
        assert call.prompt_tokens + call.params.max_tokens <= n_ctx


def test_map_step_sees_every_part_of_the_document():
    model = FakeModel(n_ctx=512)
    text = long_text(60, sentences=3)
    summarize(TaskRunner(model), blocks_from_text(text), length="medium")
    seen = " ".join(call.messages[-1]["content"] for call in model.calls)
    for i in range(60):
        assert f"Section {i} explains" in seen


def test_degenerate_output_is_retried_with_a_stronger_penalty():
    loop = "Ships ships ships ships ships ships ships."
    model = FakeModel([loop, "Lighthouses guide ships at night."])
    runner = TaskRunner(model)
    result = summarize(runner, blocks_from_text("Lighthouses guide ships at night."), length="medium")
    assert result.summary == "Lighthouses guide ships at night."
    assert runner.degenerate_retries == 1
    assert model.calls[1].params.repeat_penalty > model.calls[0].params.repeat_penalty


def test_empty_output_never_gives_an_empty_summary():
    model = FakeModel(["<|im_end|>", "   "])
    result = summarize(TaskRunner(model), blocks_from_text("The keepers left in 1998. Lights are automatic now."),
                       length="medium")
    assert result.summary.startswith("The keepers left in 1998.")
    assert result.warnings


def test_requested_output_larger_than_context_allows_is_capped_with_a_warning():
    model = FakeModel(n_ctx=512)
    result = summarize(TaskRunner(model), blocks_from_text("A text. " * 300), length="medium", max_tokens=400)
    assert any("limited" in warning for warning in result.warnings)
    assert all(call.params.max_tokens <= 512 // 3 for call in model.calls)


def test_progress_is_reported_and_cancel_stops_work():
    from llm.errors import CancelledError

    events = []
    model = FakeModel(n_ctx=512)
    runner = TaskRunner(model, on_progress=lambda *event: events.append(event))
    summarize(runner, blocks_from_text(long_text(40, sentences=3)), length="medium")
    assert events[0][1] == 0 and events[-1][1] == events[-1][2]

    calls = []
    runner = TaskRunner(FakeModel(n_ctx=512), should_cancel=lambda: len(calls) > 0)
    runner.progress = lambda *event: calls.append(event)
    with pytest.raises(CancelledError):
        summarize(runner, blocks_from_text(long_text(40, sentences=3)), length="medium")


class _WideTemplateModel(FakeModel):
    """A fake whose chat template costs many tokens, like a big model's system preamble."""

    def __init__(self, overhead, **kwargs):
        super().__init__(**kwargs)
        self.overhead = overhead

    def prompt_tokens(self, messages):
        return super().prompt_tokens(messages) + self.overhead


@pytest.mark.parametrize(("n_ctx", "overhead"), [(256, 60), (320, 80), (512, 150), (384, 40)])
def test_tight_contexts_still_finish_within_the_context(n_ctx, overhead):
    model = _WideTemplateModel(overhead, n_ctx=n_ctx)
    result = summarize(TaskRunner(model), blocks_from_text(long_text(60, sentences=3)), length="medium")
    assert result.strategy == "hierarchical" and result.summary
    assert all(call.prompt_tokens + call.params.max_tokens <= n_ctx for call in model.calls)


@pytest.mark.parametrize(("n_ctx", "overhead"), [(256, 100), (512, 250)])
def test_contexts_too_small_for_the_prompts_are_refused_before_any_call(n_ctx, overhead):
    model = _WideTemplateModel(overhead, n_ctx=n_ctx)
    with pytest.raises(ModelUnavailableError, match="N_CTX"):
        summarize(TaskRunner(model), blocks_from_text(long_text(60, sentences=3)), length="medium")
    assert model.calls == []


# A text of about 170 words: a "medium" summary of a text like it once came out longer than the text itself.
SHORT_TEXT = " ".join(
    [f"The harbour of town {i} was built in 18{i}0 by the guild of fishers, who paid for its stone walls."
     for i in range(7)]
    + [f"Ferries left town {i} every morning for the island." for i in range(6)]
)


@pytest.mark.parametrize("length", ["short", "medium", "long"])
def test_a_summary_is_never_longer_than_about_a_third_of_its_text(length):
    model = FakeModel(default=lambda messages: " ".join(["The harbour was built by the guild of fishers."] * 40))
    text_tokens = model.count_tokens(SHORT_TEXT)
    result = summarize(TaskRunner(model), blocks_from_text(SHORT_TEXT), length=length)
    (call,) = [call for call in model.calls if call.params.repeat_penalty == BUDGETS.repeat_penalty]
    bound = text_tokens // BUDGETS.summary_input_divisor
    assert call.params.max_tokens <= bound + BUDGETS.summary_tokens_per_sentence  # room to finish one sentence
    assert f"at most {bound // BUDGETS.summary_tokens_per_sentence} sentences" in call.messages[-1]["content"]
    assert model.count_tokens(result.summary) <= call.params.max_tokens < text_tokens
    assert result.summary.endswith(".")  # a cut-off last sentence is dropped


def test_a_smaller_max_tokens_still_wins_over_the_bound_and_a_larger_one_does_not():
    model = FakeModel()
    summarize(TaskRunner(model), blocks_from_text(SHORT_TEXT), length="long", max_tokens=40)
    summarize(TaskRunner(model), blocks_from_text(SHORT_TEXT), length="long", max_tokens=2000)
    bounded = prompts.summary_length("long", model.count_tokens(SHORT_TEXT))
    assert [call.params.max_tokens for call in model.calls] == [40, bounded.max_tokens]


@pytest.mark.parametrize(("length", "shortest_unbounded"), [("short", 270), ("medium", 660), ("long", 1410)])
def test_long_texts_get_the_length_as_named(length, shortest_unbounded):
    assert prompts.summary_length(length, shortest_unbounded) == prompts.LENGTHS[length]
    assert prompts.summary_length(length, 100_000) == prompts.LENGTHS[length]
    shorter = prompts.summary_length(length, shortest_unbounded - 3)
    assert shorter.bounded and shorter.max_tokens == prompts.LENGTHS[length].max_tokens - 1
    assert prompts.short_text_tokens(prompts.LENGTHS[length]) == shortest_unbounded  # what the README table says


def test_a_one_sentence_text_gets_a_one_sentence_summary_no_longer_than_itself():
    spec = prompts.summary_length("medium", 20)
    assert spec.instruction == "in one sentence"
    assert spec.max_tokens == 20
