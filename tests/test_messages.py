"""Messages from key points with the fake model: coverage checked against the text, invented facts dropped, the
missing points asked for once more, distinct variants, the older client's body, stored documents, and bad input."""

from __future__ import annotations

import pytest

from llm.errors import InputTooLargeError
from llm.message import Letter, body_of, coverage, covers, prompt_fits, split_points, write_messages
from llm.runner import TaskRunner
from tests.conftest import job_events, post_json, streamed_text
from tests.fakes import FakeModel
from tests.test_library import PORT_AVEN, add_text

POINTS = ["We will have a system update on Friday.", "Please back up your work before then.",
          "The update takes about 2 hours."]
LETTER = Letter(tuple(POINTS), sender="IT support", recipient="all staff", tone="friendly")
FULL = ("We will have a system update on Friday. Please back up your work before then. "
        "The update takes about 2 hours.")


def write(model: FakeModel, count: int, letter: Letter = LETTER, temperature: float = 0.0):
    return write_messages(TaskRunner(model, temperature=temperature), letter, count=count, max_tokens=200)


def test_points_are_split_by_line_or_by_sentence():
    assert split_points("- one thing\n2. another thing\n\n") == ["one thing", "another thing"]
    # The older message writer's prompt: lower case after the full stop.
    assert split_points("we will have a system update on friday. please backup your work") == [
        "we will have a system update on friday.", "please backup your work"]


def test_a_point_is_covered_when_its_stemmed_words_are_in_the_message():
    assert covers("Remember: all work must be backed up before the updates.", "Please back up your work before then.")
    assert not covers("The update is on Friday.", "Please back up your work before then.")
    assert coverage("System updates happen on Friday; back up your work before then.", POINTS) == ([0, 1], [2])
    assert coverage("Updates happen on Friday.", POINTS) == ([], [0, 1, 2])  # 2 of 3 words: not enough


def test_what_a_model_writes_around_a_body_is_cut():
    raw = ("Subject: IT update [Date]\nDear [Name],\n\nWe will have a system update on Friday. Call [Phone].\n"
           "2. \"Please back up your work before then.\"\n\nBest regards,\n[Your Name]\nIT Support Team")
    assert body_of(raw) == "We will have a system update on Friday. Please back up your work before then."


def test_a_message_states_the_points_between_a_greeting_and_sign_off_made_from_the_fields():
    made = write(FakeModel([FULL]), 1)
    (variant,) = made.variants
    assert variant.body == f"Hi all staff,\n\n{FULL}\n\nThanks,\nIT support"
    assert variant.subject == "We will have a system update on Friday"
    assert (variant.covered, variant.missing) == ([0, 1, 2], [])
    assert made.warnings == []


def test_invented_facts_and_padding_are_dropped_and_missing_points_asked_once_more():
    model = FakeModel([
        "We will have a system update on Friday, 14 March. John Smith will lead it. Please back up your work before "
        "then. Our new cybersecurity standard makes businesses thrive.",
        "Sure! We will have the system update on Friday.",
        "The update takes about 2 hours to complete, which starts at 9 PM EST.",
    ])
    made = write(model, 1)
    body = made.variants[0].body
    assert "John Smith" not in body and "14 March" not in body and "cybersecurity" not in body
    assert "Please back up your work before then." in body
    assert "The update takes about 2 hours to complete." in body and "EST" not in body
    assert made.variants[0].missing == [] and made.dropped >= 2
    # Each point the first body left out is asked for on its own, cooler than the variant.
    asked = [call.messages[-1]["content"].split("\n\n")[0] for call in model.calls[1:]]
    assert asked == ["We will have a system update on Friday.", "The update takes about 2 hours."]
    assert model.calls[1].params.temperature == 0.0


def test_a_point_still_missing_after_its_second_call_is_reported():
    made = write(FakeModel(["We will have a system update on Friday.", "Nothing useful.", "Nothing at all."]), 1)
    assert made.variants[0].missing == [1, 2]
    assert any("leave out some of the points" in warning for warning in made.warnings)


def test_variants_are_distinct_even_when_the_model_repeats_itself():
    model = FakeModel(default=lambda messages: FULL)  # every call, every variant: the same text
    made = write(model, 3)
    assert len(made.variants) == 1  # the same text is never shown twice
    assert any("only 1 distinct" in warning for warning in made.warnings)
    # Each variant is asked from its own angle; a repeat is written once more (after the first drafts), warmer and
    # with another seed.
    prompts = [call.messages[-1]["content"] for call in model.calls]
    assert "Open with the reason for writing." in prompts[1]
    assert [call.params.temperature for call in model.calls] == pytest.approx([0.0, 0.0, 0.0, 0.7, 0.7])
    assert len({call.params.seed for call in model.calls}) == 5


def test_the_first_drafts_are_written_together_on_a_model_with_slots():
    one_at_a_time = write(FakeModel(), 3)
    slots = FakeModel(parallel=3, seconds_per_token=0.01)
    made = write(slots, 3)
    assert slots.most_at_once == 3
    assert made == one_at_a_time  # the same messages, whatever the order the calls ended in


def test_points_that_cannot_fit_the_context_are_refused():
    with pytest.raises(InputTooLargeError, match="max_tokens"):
        prompt_fits(FakeModel(n_ctx=256), Letter(("word " * 200,)), 100)


def test_generate_message_answers_distinct_checked_variants(client, fake_model):
    fake_model.responses.extend([FULL, "Hello team. On Friday the system update happens, and it takes about 2 "
                                       "hours. Back up your work before then, please."])
    response = post_json(client, "/generate-message", {"points": POINTS, "sender": "IT support",
                                                       "recipient": "all staff", "n": 2})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert [message["covered"] for message in body["messages"]] == [[0, 1, 2], [0, 1, 2]]
    assert body["messages"][0]["body"] != body["messages"][1]["body"]
    assert body["points"] == POINTS and body["checked"]["facts"] >= 2 and body["model"] == "fake-model"


def test_the_older_message_writers_body_works_as_it_did(client, fake_model):
    response = post_json(client, "/generate-message", {
        "prompt": "we will have a system update on friday. please backup your work", "token_count": 120,
        "temperature": 0.7, "n_gen": 2})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["points"] == ["we will have a system update on friday.", "please backup your work"]
    assert 1 <= len(body["messages"]) <= 2
    assert fake_model.calls[0].params.max_tokens == 120 and fake_model.calls[0].params.temperature == 0.7


def test_a_stored_documents_key_points_become_the_messages_points(client, fake_model):
    document_id = add_text(client, PORT_AVEN, "Port Aven").get_json()["document_id"]
    response = post_json(client, "/generate-message", {"document_id": document_id, "document_points": 2, "n": 1})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert len(body["points"]) == 2 and all(point in " ".join(PORT_AVEN.split()) for point in body["points"])
    assert body["messages"][0]["covered"] == [0, 1]
    missing = post_json(client, "/generate-message", {"document_id": "nope", "n": 1})
    assert missing.status_code == 404


def test_a_message_job_reports_progress_per_variant(client):
    reference = post_json(client, "/generate-message?async=true", {"points": POINTS, "n": 2}).get_json()
    job = client.get(f"{reference['status_url']}?wait=30").get_json()
    assert job["status"] == "succeeded" and job["task"] == "message"
    assert job["progress"]["stage"] == "writing messages" and job["progress"]["done"] == 2
    # Each message streamed whole once it had passed its checks, numbered, with its subject.
    streamed = streamed_text(job_events(client, reference["status_url"]))
    for number, message in enumerate(job["result"]["messages"], start=1):
        assert f"Message {number}\nSubject: {message['subject']}\n\n{message['body']}" in streamed
    assert streamed.startswith("Message 1\n") and "Message 3" not in streamed


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"points": []}, 400, "at least one point"),
    ({"points": ["fine", "  "]}, 400, "no point may be empty"),
    ({"points": [f"point {i}" for i in range(13)]}, 400, "at most 12 items"),
    ({"points": POINTS, "n": 0}, 400, "'n' must be at least 1"),
    ({"points": POINTS, "n": 7}, 400, "'n' must be at most 6"),
    ({"points": POINTS, "n": 2, "n_gen": 2}, 400, "not both"),
    ({"points": POINTS, "tone": "angry"}, 400, "tone"),
    ({"points": POINTS, "document_id": "x"}, 400, "not both"),
    ({"sender": "me"}, 400, "one of the two"),
    ({"points": ["x" * 1001]}, 400, "1000"),
    ({"points": [" ".join(["word"] * 190)] * 11, "max_tokens": 200}, 413, "context"),
    ({"points": POINTS, "max_tokens": 5000}, 400, "at most 2048"),
])
def test_bad_message_requests_get_clear_errors(client, body, status, words):
    response = post_json(client, "/generate-message", body)
    assert response.status_code == status, response.get_json()
    assert words in response.get_json()["error"]["message"]


def test_a_message_request_must_be_json(client):
    response = client.post("/generate-message", data="points=a", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
