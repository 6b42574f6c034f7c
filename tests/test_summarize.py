"""Summaries on the fake model: one pass, extract then abstract, or hierarchical; always within the context,
never empty, never longer than the length asked for."""

import pytest

from llm import TaskRunner, blocks_from_text, prompts, summarize
from llm.budgets import BUDGETS
from llm.cleanup import split_sentences
from llm.errors import ModelUnavailableError
from llm.summarize import SummaryPlan
from tests.conftest import long_text
from tests.fakes import FakeModel

READ_ALL = SummaryPlan(read_tokens=0)  # map and merge levels for a text longer than the context
ONE = SummaryPlan(candidates=1)  # one summary written, so that each call can be counted and its answer queued


def test_short_text_is_summarized_in_one_pass():
    model = FakeModel(["The tower guides ships."])
    text = "A short text about a tower. It guides ships."
    result = summarize(TaskRunner(model), blocks_from_text(text), length="medium", plan=ONE)
    assert result.strategy == "single"
    assert (result.chunks, result.levels) == (1, 1)
    assert result.summary == "The tower guides ships."
    assert len(model.calls) == 1


@pytest.mark.parametrize("n_ctx", [256, 512, 1024])
def test_long_text_goes_hierarchical_and_every_call_fits(n_ctx):
    model = FakeModel(n_ctx=n_ctx)
    result = summarize(TaskRunner(model), blocks_from_text(long_text(120, sentences=3)), length="medium",
                       plan=READ_ALL)
    assert result.strategy == "hierarchical"
    assert result.chunks > 3
    assert result.levels >= 2
    assert result.summary
    for call in model.calls:
        assert call.prompt_tokens + call.params.max_tokens <= n_ctx


def test_on_a_model_with_slots_the_parts_are_summarized_together_with_the_same_result():
    text = long_text(80, sentences=3)
    one_at_a_time = summarize(TaskRunner(FakeModel(n_ctx=512)), blocks_from_text(text), length="medium",
                              plan=READ_ALL)
    slots = FakeModel(n_ctx=512, parallel=4, seconds_per_token=0.002)
    reports: list[tuple[str, int, int]] = []
    together = summarize(TaskRunner(slots, on_progress=lambda *report: reports.append(report)),
                         blocks_from_text(text), length="medium", plan=READ_ALL)
    assert slots.most_at_once == 4
    assert together.summary == one_at_a_time.summary and together.chunks == one_at_a_time.chunks > 4
    parts = [done for stage, done, total in reports if stage == "summarizing parts"]
    assert parts == sorted(parts) and parts[-1] == together.chunks  # each part counted once it was done


def test_map_step_sees_every_part_of_the_document():
    model = FakeModel(n_ctx=512)
    text = long_text(60, sentences=3)
    summarize(TaskRunner(model), blocks_from_text(text), length="medium", plan=READ_ALL)
    seen = " ".join(call.messages[-1]["content"] for call in model.calls)
    for i in range(60):
        assert f"Section {i} explains" in seen


def test_degenerate_output_is_retried_with_a_stronger_penalty():
    loop = "Ships ships ships ships ships ships ships."
    model = FakeModel([loop, "Lighthouses guide ships at night."])
    runner = TaskRunner(model)
    result = summarize(runner, blocks_from_text("Lighthouses guide ships at night."), length="medium", plan=ONE)
    assert result.summary == "Lighthouses guide ships at night."
    assert runner.degenerate_retries == 1
    assert model.calls[1].params.repeat_penalty > model.calls[0].params.repeat_penalty


def test_empty_output_never_gives_an_empty_summary():
    model = FakeModel(["<|im_end|>", "   "])
    result = summarize(TaskRunner(model), blocks_from_text("The keepers left in 1998. Lights are automatic now."),
                       length="medium", plan=ONE)
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
    summarize(runner, blocks_from_text(long_text(40, sentences=3)), length="medium", plan=READ_ALL)
    assert events[0][1] == 0 and events[-1][1] == events[-1][2]

    calls = []
    runner = TaskRunner(FakeModel(n_ctx=512), should_cancel=lambda: len(calls) > 0)
    runner.progress = lambda *event: calls.append(event)
    with pytest.raises(CancelledError):
        summarize(runner, blocks_from_text(long_text(40, sentences=3)), length="medium", plan=READ_ALL)


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
    result = summarize(TaskRunner(model), blocks_from_text(long_text(60, sentences=3)), length="medium",
                       plan=READ_ALL)
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
    result = summarize(TaskRunner(model), blocks_from_text(SHORT_TEXT), length=length, plan=ONE)
    (call,) = [call for call in model.calls if call.params.repeat_penalty == BUDGETS.repeat_penalty]
    bound = text_tokens // BUDGETS.summary_input_divisor
    assert call.params.max_tokens <= bound + BUDGETS.summary_tokens_per_sentence  # room to finish one sentence
    assert f"at most {bound // BUDGETS.summary_tokens_per_sentence} sentences" in call.messages[-1]["content"]
    assert model.count_tokens(result.summary) <= call.params.max_tokens < text_tokens
    assert result.summary.endswith(".")  # a cut-off last sentence is dropped


def test_a_smaller_max_tokens_still_wins_over_the_bound_and_a_larger_one_does_not():
    model = FakeModel()
    summarize(TaskRunner(model), blocks_from_text(SHORT_TEXT), length="long", plan=ONE, max_tokens=40)
    summarize(TaskRunner(model), blocks_from_text(SHORT_TEXT), length="long", plan=ONE, max_tokens=2000)
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


def test_a_long_text_is_read_through_its_most_salient_sentences():
    """Extract, then abstract: one call, on the sentences that say most about the whole text, in its order."""
    filler = "\n\n".join(f"Page {i} lists office hours, parking rules and phone numbers." for i in range(80))
    subject = ("The lighthouse at Port Aven guides fishing boats past the reef. The lighthouse keeper lit the "
               "lighthouse lamp every night. Fishing boats from Port Aven trusted the lighthouse lamp.")
    text = f"{subject}\n\n{filler}\n\nThe lighthouse lamp of Port Aven still guides the fishing boats."
    model = FakeModel(n_ctx=512)
    result = summarize(TaskRunner(model), blocks_from_text(text), length="short",
                       plan=SummaryPlan(read_tokens=120, candidates=1))
    assert (result.strategy, result.chunks, result.levels) == ("extract", 1, 1)
    (call,) = model.calls
    read = call.messages[-1]["content"]
    assert call.prompt_tokens - model.prompt_tokens(prompts.summary("", prompts.LENGTHS["short"])) <= 120 + 4
    assert read.index("keeper lit") < read.index("still guides")  # the document's order
    assert read.count("office hours") < 3  # the filler is not what it reads
    assert result.summary.startswith("The lighthouse at Port Aven guides fishing boats past the reef.")


def test_a_text_within_the_read_budget_is_read_whole():
    model = FakeModel()
    text = long_text(6, sentences=3)
    result = summarize(TaskRunner(model), blocks_from_text(text), length="short",
                       plan=SummaryPlan(read_tokens=model.count_tokens(text)))
    assert result.strategy == "single"
    assert " ".join(text.split()) in " ".join(model.calls[0].messages[-1]["content"].split())


def test_of_several_candidates_the_one_that_states_only_the_documents_facts_is_kept():
    text = long_text(30, sentences=3) + "\n\nThe survey covered 412 villages in 14 regions."
    invented = "Section 1 explains topic 1 in 2019. The survey covered 980 villages in 31 regions."
    faithful = "Experts explain topic 1 in detail and why it matters. The survey covered 412 villages in 14 regions."
    model = FakeModel([invented, faithful, invented])
    runner = TaskRunner(model, seed=7)
    result = summarize(runner, blocks_from_text(text), length="short", plan=SummaryPlan(read_tokens=200, candidates=3))
    assert result.summary == faithful
    assert result.checked.counts() == {"facts": 4, "rewritten": 0, "dropped": 0}
    first, *others = model.calls
    assert (first.params.temperature, first.params.seed) == (BUDGETS.temperature, 7)
    assert {call.params.temperature for call in others} == {BUDGETS.candidate_temperature}
    assert [call.params.seed for call in others] == [8, 9]


def test_a_summary_longer_than_its_length_loses_its_last_sentences():
    sentences = [
        "The harbour walls were built of granite by the fishers of the old town.",
        "Ferries leave every morning for the island and return before the evening tide.",
        "A small museum keeps the lamps, logbooks and uniforms of former keepers.",
        "Storms in winter often close the coastal road for several days at a time.",
        "Local bakers sell a sweet bread that visitors carry home as a souvenir.",
        "The annual festival fills every inn, campsite and spare bedroom nearby.",
        "Birdwatchers count puffins, gannets and terns on the cliffs each spring.",
        "Schoolchildren learn knots, tides and signals from retired sailors.",
        "The chapel bell still rings whenever a boat is overdue after dark.",
        "Painters have come for the changing light since the railway arrived.",
        "Fishermen mend their nets on the quay while gulls wait for scraps.",
        "The lifeboat crew trains every Thursday whatever the weather brings.",
        "Old cottages along the lane have thick walls against the salt wind.",
        "A narrow footpath climbs from the beach to the ruined watchtower.",
    ]
    model = FakeModel(default=lambda messages: " ".join(sentences))
    text = long_text(40, sentences=3) + "\n\n" + " ".join(sentences)  # so that the fact check keeps every one
    result = summarize(TaskRunner(model), blocks_from_text(text), length="medium")
    high = prompts.LENGTHS["medium"].words[1]
    assert len(result.summary.split()) <= high
    assert result.summary == " ".join(sentences[:len(split_sentences(result.summary))])
    assert len(result.summary.split()) > high - 16  # only what was too long is left out
    asked_for_more = summarize(TaskRunner(model), blocks_from_text(text), length="medium", max_tokens=500)
    assert asked_for_more.summary == " ".join(sentences)  # a larger max_tokens is never cut to the usual range


def test_merges_list_their_inputs_facts_and_invented_ones_never_reach_them():
    text = "\n\n".join(f"Site {i} employs {100 + i} people. Section {i} explains topic {i} in detail."
                       for i in range(60))

    def part(messages):
        if "one part of a longer document" in messages[-1]["content"]:
            return "Site 7 employs 555 people. " + ". ".join(messages[-1]["content"].split(". ")[:4]) + "."
        return "The sites employ many people."

    model = FakeModel(n_ctx=512, default=part)
    summarize(TaskRunner(model), blocks_from_text(text), length="medium", plan=READ_ALL)
    merges = [call.messages[-1]["content"] for call in model.calls
              if "consecutive parts" in call.messages[-1]["content"]]
    assert merges and all("Keep these facts exactly as written: " in merge for merge in merges)
    assert any("people" in merge.split("Keep these facts")[1] for merge in merges)
    assert not any("555" in call.messages[-1]["content"] for call in model.calls[1:])


@pytest.mark.parametrize("text", [
    "\n".join(" | ".join(str(row * column) for column in range(1, 9)) for row in range(1, 400)),  # a table only
    " ".join(f"word{n} and more words" for n in range(3000)),  # one endless line without a full stop
])
def test_a_text_with_no_sentence_to_choose_is_read_from_its_opening(text):
    model = FakeModel(n_ctx=1024)
    result = summarize(TaskRunner(model), blocks_from_text(text), length="short")
    assert result.strategy == "extract" and result.summary
    (call, *_) = model.calls
    assert call.messages[-1]["content"].startswith(" ".join(text.split()[:20]).split(" |")[0])


def test_a_sentence_the_fact_check_drops_is_replaced_by_a_true_one_from_another_candidate():
    text = long_text(30, sentences=3) + "\n\nThe survey covered 412 villages in 14 regions."
    best = "Experts explain topic 1 in detail and why it matters. The survey covered 980 villages."
    other = "The survey covered 412 villages in 14 regions. Section 1 explains topic 1 in detail."  # copies: last
    model = FakeModel([best, other, other, "The survey covered 990 villages."])  # the rewrite fails too
    result = summarize(TaskRunner(model), blocks_from_text(text), length="short",
                       plan=SummaryPlan(read_tokens=200, candidates=3))
    assert result.summary == ("Experts explain topic 1 in detail and why it matters. "
                              "The survey covered 412 villages in 14 regions.")
    assert (result.checked.dropped, result.checked.facts) == (1, 4)  # 1 and Experts, then 412 and 14


def test_the_summary_streams_a_sentence_at_a_time_and_only_sentences_that_stay():
    text = long_text(30, sentences=3) + "\n\nThe survey covered 412 villages in 14 regions."
    written = ("Experts explain topic 1 in detail and why it matters. The survey covered 980 villages.\n\n"
               "Each topic builds on the one before it.")
    other = "The survey covered 412 villages in 14 regions. Section 1 explains topic 1 in detail."
    model = FakeModel([written, other, "The survey covered 990 villages."])  # the rewrite fails: dropped
    pieces: list[str] = []
    result = summarize(TaskRunner(model), blocks_from_text(text), length="medium",
                       plan=SummaryPlan(read_tokens=200, candidates=2), stream=pieces.append)
    assert pieces == ["Experts explain topic 1 in detail and why it matters.",
                      "\n\nEach topic builds on the one before it.",
                      " The survey covered 412 villages in 14 regions."]  # a true sentence of the other candidate
    assert "".join(pieces) == result.summary


def test_a_summary_that_falls_back_to_the_texts_opening_streams_that_opening():
    text = "The lighthouse at Port Aven was built in 1850. It was automated in 1985."
    pieces: list[str] = []
    result = summarize(TaskRunner(FakeModel(["It opened in Lyon.", "It opened in Lyon."])), blocks_from_text(text),
                       length="short", plan=ONE, stream=pieces.append)
    assert "".join(pieces) == result.summary and "Lyon" not in result.summary and result.summary
