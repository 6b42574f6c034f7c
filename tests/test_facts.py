"""The fact check: numbers (with what they count), names and acronyms looked up in the document; unsupported
sentences rewritten once or dropped; what the answers say about it."""

from __future__ import annotations

import json

import pytest

from bench.fact_check import HELD_OUT, LABELLED, evaluate
from llm import TaskRunner, TextBlock, blocks_from_text, key_points, summarize
from llm.facts import SourceIndex, check_text, facts_of
from tests.conftest import post_json
from tests.fakes import FakeModel

REPORT = ("Northwind Ltd employs 1,240 people. The trial enrolled 412 patients at 14 hospitals. Revenue grew 12% "
          "in 2023. The chapel was built in the 1870s by Thomas Haig. NER systems often use CRF models.")


@pytest.fixture(scope="module")
def source():
    return SourceIndex.of(REPORT)


@pytest.mark.parametrize(("sentence", "flagged"), [
    ("Northwind employs 1240 people.", []),  # thousands separators normalized
    ("Revenue grew 12 % in 2023.", []),  # "12 %" is "12%"
    ("It ran at 14 hospitals.", []),
    ("It was a 14-month trial.", ["14"]),  # the number keeps what it counts
    ("The chapel was built in the 1970s.", ["1970s"]),
    ("The chapel was built by Thomas Hague.", ["Thomas Hague"]),
    ("BERT systems use CRF models.", ["BERT"]),
    ("ner systems use crf models.", []),  # acronyms in any case
    ("Revenue grew 21% in 2023.", ["21%"]),
])
def test_facts_are_looked_up_in_the_document(source, sentence, flagged):
    _, unsupported = source.unsupported(sentence)
    assert [fact.text for fact in unsupported] == flagged


def test_what_a_sentence_holds():
    kinds = {(fact.kind, fact.key) for fact in facts_of("In 1998 Clara Osei founded Northwind, worth 5.50 % of AIM.")}
    assert kinds == {("number", "1998"), ("number", "5.5%"), ("name", "Clara Osei"), ("name", "Northwind"),
                     ("acronym", "AIM")}


def test_the_checker_against_the_hand_labelled_sentences():
    """At least 60 labelled sentences; the figures bench/RESULTS.md reports, as a floor."""
    labelled = json.loads(LABELLED.read_text(encoding="utf-8"))
    assert len(labelled["sentences"]) >= 60
    assert {row["kind"] for row in labelled["sentences"]} >= {"number", "unit", "year", "name", "acronym",
                                                              "wrong subject", "paraphrase"}
    measured = evaluate(labelled)
    assert measured["precision"] >= 0.85 and measured["recall"] >= 0.85, measured
    held_out = evaluate(json.loads(HELD_OUT.read_text(encoding="utf-8")))  # written after the checker
    assert held_out["precision"] >= 0.85 and held_out["recall"] >= 0.85, held_out


def test_a_wrong_number_is_copied_back_from_its_source_sentence(source):
    model = FakeModel()
    checked = check_text(TaskRunner(model), "Northwind employs 2,000 people. The chapel was built in the 1970s.",
                         source)
    assert checked.text == "Northwind employs 1,240 people. The chapel was built in the 1870s."
    assert (checked.rewritten, checked.dropped) == (2, 0) and model.calls == []  # no model needed


def test_an_unsupported_sentence_is_rewritten_once_by_the_model_then_dropped(source):
    model = FakeModel(["The chapel was built by Thomas Haig.", "It was led by Dr. Nobody in 1999."])
    checked = check_text(TaskRunner(model), "The chapel was built by Thomas Hague. It was a 14-month trial. NER works.",
                         source)
    assert checked.text == "The chapel was built by Thomas Haig. NER works."
    assert (checked.rewritten, checked.dropped) == (1, 1)
    assert checked.facts == 2  # Thomas Haig and NER: nothing of the dropped sentence counts
    rewrite_prompt = model.calls[0].messages[-1]["content"]
    assert "built in the 1870s by Thomas Haig" in rewrite_prompt and "Thomas Hague" in rewrite_prompt


@pytest.fixture
def client(make_app, fake_model):
    """One summary candidate, so that the queued answers are the ones checked."""
    return make_app(fake_model, summary_candidates=1).test_client()


def test_summaries_and_points_say_what_was_checked(client, fake_model):
    fake_model.responses.append("The lighthouse was built in 1850. It was automated in 1958 by Pierre Roux.")
    fake_model.responses.append("It was automated in 1958.")  # the rewrite fails the check again: dropped
    body = post_json(client, "/generate-summary", {
        "text": "The lighthouse at Port Aven was built in 1850. It was automated in 1985 and is now a museum.",
        "length": "short"}).get_json()
    assert body["summary"] == "The lighthouse was built in 1850."
    assert body["checked"] == {"facts": 1, "rewritten": 0, "dropped": 1}
    assert any("fact check" in warning for warning in body["warnings"])
    points = post_json(client, "/generate-points", {"text": REPORT, "count": 2}).get_json()
    assert points["checked"]["facts"] >= 2 and points["checked"]["dropped"] == 0


def test_a_summary_with_nothing_true_left_shows_the_texts_own_opening(client, fake_model):
    fake_model.responses.extend(["It opened in Lyon.", "It opened in Lyon."])
    text = "The lighthouse at Port Aven was built in 1850. It was automated in 1985."
    body = post_json(client, "/generate-summary", {"text": text, "length": "short"}).get_json()
    assert "Lyon" not in body["summary"] and body["summary"] in text
    assert body["checked"]["dropped"] == 1
    assert any("opening sentences of the text are shown instead" in warning for warning in body["warnings"])


def test_a_key_point_copied_from_the_document_is_shown_as_written():
    blocks = [TextBlock("A bronze bell was cast for the chapel by Martin Keel in 1923.", 4)]
    result = key_points(TaskRunner(FakeModel(["1. Martin Keel cast a bronze bell for the chapel in 1923."])), blocks,
                        count=1)
    assert [(point.text, point.pages) for point in result.points] == [
        ("A bronze bell was cast for the chapel by Martin Keel in 1923.", [4])]


def test_a_text_of_numbers_only_never_fails(fake_model):
    table = "\n".join(" ".join(str(row * column) for column in range(1, 12)) for row in range(1, 40))
    made = summarize(TaskRunner(FakeModel()), blocks_from_text(table), length="short")
    assert made.checked is not None and made.checked.dropped == 0


@pytest.mark.parametrize(("sentence", "flagged"), [
    ("The Leeds site employs 610 people.", ["610"]),  # Bristol's count given to Leeds
    ("The Leeds site employs 240 people.", []),
    ("The Bristol plant employs 610 staff.", ["610"]),  # "staff" is not the word the document counts in
    ("Migraine days fell by 5.1 days with placebo.", ["5.1"]),  # the two arms of the result swapped
    ("Migraine days fell by 2.3 days with placebo and by 5.1 days with veratinib.", []),
    ("Side effects made 8% of the veratinib group stop treatment.", []),
    ("An Estonian model reaches 87.4 LAS.", ["87.4"]),  # a result moved to the other model
    ("The parser reaches a LAS of 87.4 on the test set.", []),
])
def test_a_count_keeps_its_subject(sentence, flagged):
    source = SourceIndex.of(
        "The Leeds site employs 240 people, while the Bristol plant employs 610. Monthly migraine days fell by 5.1 "
        "days with veratinib and by 2.3 days with placebo. Side effects led 8% of the veratinib group to stop "
        "treatment, against 3% on placebo. Our parser reaches a labelled attachment score (LAS) of 87.4 on the "
        "test set. We also release a model for Estonian, which reaches 83.9 LAS."
    )
    assert [fact.text for fact in source.unsupported(sentence)[1]] == flagged


def test_a_count_written_with_a_thousands_separator_is_never_a_year():
    source = SourceIndex.of("Dunmore station handles 4,200 passengers a day, while Kelby station handles 1,900.")
    assert [fact.text for fact in source.unsupported("Kelby station handles 4,200 passengers a day.")[1]] == ["4,200"]
    assert source.unsupported("Kelby station handles 1,900.")[1] == []
    assert [fact.any_of for fact in facts_of("In 1900 it had 1,900 staff.")] == [True, False]
