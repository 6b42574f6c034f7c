"""Salient sentences, chosen without the model: what a long text's summary is written from."""

from __future__ import annotations

from llm.salience import Salience
from tests.fakes import FakeModel

TEXT = "\n\n".join([
    "Port Aven is a fishing town whose lighthouse guides boats past the reef.",
    "Confidential draft, do not circulate without permission.",
    "The lighthouse was built in 1850 and its lamp guides fishing boats at night.",
    "Confidential draft, do not circulate without permission.",
    "Parking near the museum costs two euros an hour in the summer season.",
    "Confidential draft, do not circulate without permission.",
    "Fishing boats still rely on the lighthouse when fog hides the reef.",
    "Short line.",
])


def test_the_extract_holds_the_central_sentences_in_the_documents_order():
    model = FakeModel()
    salience = Salience(TEXT)
    extract = salience.extract(40, model.count_tokens)
    assert model.count_tokens(extract) <= 40
    assert extract.split("\n\n") == [
        "Port Aven is a fishing town whose lighthouse guides boats past the reef.",
        "The lighthouse was built in 1850 and its lamp guides fishing boats at night.",
        "Fishing boats still rely on the lighthouse when fog hides the reef.",
    ][:len(extract.split("\n\n"))]
    assert "Parking" not in extract


def test_boilerplate_headings_and_near_duplicates_are_never_chosen():
    salience = Salience(TEXT + "\n\nPort Aven is a fishing town whose lighthouse guides the boats past the reef.")
    chosen = salience.extract(10_000, FakeModel().count_tokens)
    assert "Confidential" not in chosen  # repeated on every page: central-looking, says nothing
    assert "Short line." not in chosen  # too short to be a sentence worth reading
    assert chosen.count("Port Aven is a fishing town") == 1


def test_coverage_and_copies_are_measured_against_the_document():
    salience = Salience(TEXT)
    on_topic = "The lighthouse of Port Aven guides fishing boats past the reef."
    off_topic = "Parking costs two euros an hour."
    assert salience.coverage(on_topic) > salience.coverage(off_topic) > 0
    assert salience.copied("The lighthouse was built in 1850 and its lamp guides fishing boats at night.")
    assert not salience.copied(on_topic)
    assert salience.copied_share(
        f"{on_topic} Fishing boats still rely on the lighthouse when fog hides the reef.") == 0.5
