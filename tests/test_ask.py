"""Questions over HTTP with the fake model: answers whose every quote is on its page, refusals decided by the
evidence, quotes repaired or dropped, collections, follow-ups, bad input, and documents deleted under a question."""

from __future__ import annotations

import time

import pytest

from library.search import quote_on_page
from library.store import LibraryStore
from tasks.ask import Citation, checked
from tests.conftest import job_events, post_json, streamed_text
from tests.fakes import FakeModel
from tests.test_library import PORT_AVEN, add_text

HARBOUR = "\n\n".join([
    "The harbour of Saint-Malo handles ferries to Portsmouth and Jersey. It moved 1.2 million passengers in 2019.",
    "Its tidal range reaches 13 metres, one of the largest in Europe, so the inner basins are closed by locks.",
])


@pytest.fixture
def library(client):
    """Two stored documents: the lighthouse and the harbour."""
    return {name: add_text(client, text, title).get_json()["document_id"]
            for name, text, title in (("light", PORT_AVEN, "Port Aven"), ("harbour", HARBOUR, "Saint-Malo"))}


def ask(client, question: str, document_ids: list[str], **extra):
    return post_json(client, "/ask", {"question": question, "document_ids": document_ids, **extra})


@pytest.fixture
def app(make_app, fake_model, database_settings):
    """This module's app, on SQLite and then on PostgreSQL."""
    return make_app(fake_model, **database_settings)


def test_an_answer_is_proved_by_quotes_of_its_pages(client, fake_model, library):
    fake_model.responses.append("The lighthouse was automated in 1985, when the last keeper left the island.")
    answer = ask(client, "When was the lighthouse automated?", list(library.values()))
    assert answer.status_code == 200, answer.get_json()
    body = answer.get_json()
    assert body["answered"] is True
    assert body["answer"] == "The lighthouse was automated in 1985, when the last keeper left the island."
    assert body["citations"] == [{"document_id": library["light"], "page": 1, "quote":
                                  "It was automated in 1985, and the last keeper, Marie Le Goff, left the island "
                                  "that year."}]
    for citation in body["citations"]:
        page = client.get(f"/documents/{citation['document_id']}/pages/{citation['page']}").get_json()
        assert quote_on_page(citation["quote"], page["text"])
    prompt = fake_model.calls[-1].messages[-1]["content"]
    assert "(Port Aven, page 1)" in prompt and "Question: When was the lighthouse automated?" in prompt


def test_a_question_the_documents_do_not_hold_is_not_answered(client, fake_model, library):
    answer = ask(client, "What did the quantum chromodynamics simulation predict?", [library["light"]]).get_json()
    assert answer["answered"] is False and answer["citations"] == []
    assert "do not mention" in answer["answer"] and "quantum" in answer["answer"]
    assert fake_model.calls == []  # decided from the evidence: no model asked to make something up


def test_an_invented_answer_is_never_shown(client, fake_model, library):
    fake_model.responses.append("The lighthouse was painted purple by Napoleon's engineers in 1777.")
    body = ask(client, "Who rebuilt the lighthouse tower after the storms?", [library["light"]]).get_json()
    assert "Napoleon" not in body["answer"] and "purple" not in body["answer"]
    assert body["answered"] is True  # the documents hold it: their best-matching sentences answer instead
    assert "Storms in 1910 damaged the tower" in body["answer"]
    assert body["citations"][0]["quote"] in body["answer"]
    assert any("not supported" in warning for warning in body["warnings"])


def test_an_answer_streams_only_what_its_quotes_prove(client, fake_model, library):
    fake_model.responses.append("The lighthouse was automated in 1985, when the last keeper left the island. "
                                "It was painted purple by Napoleon's engineers in 1777.")
    started = ask(client, "When was the lighthouse automated?", [library["light"]], **{"async": True}).get_json()
    events = job_events(client, started["status_url"])
    assert streamed_text(events) == events[-1][1]["result"]["answer"] == (
        "The lighthouse was automated in 1985, when the last keeper left the island.")


def test_a_quote_not_on_its_page_is_repaired_or_dropped(app, library):
    store: LibraryStore = app.extensions["library"]
    light = library["light"]
    retyped = Citation(document_id=light, page=1,
                       quote="It was automated in 1985 and the last keeper Marie Le Goff left")
    invented = Citation(document_id=light, page=1, quote="Dragons guarded the harbour entrance at night.")
    elsewhere = Citation(document_id=light, page=7, quote="It was automated in 1985.")
    kept, mended = checked([retyped, invented, elsewhere], store)
    assert mended == 3
    assert kept == [Citation(document_id=light, page=1, quote="It was automated in 1985, and the last keeper, Marie "
                                                             "Le Goff, left the island that year.")]


def test_collections_carry_their_documents_and_instructions(client, fake_model, library):
    created = client.put("/collections/coast", json={"document_ids": [library["harbour"]],
                                                     "instructions": "Answer in one sentence."})
    assert created.status_code == 201 and created.get_json()["document_ids"] == [library["harbour"]]
    replaced = client.put("/collections/coast",
                          json={"document_ids": list(library.values()), "instructions": "Be brief."})
    assert replaced.status_code == 200
    assert [found["name"] for found in client.get("/collections").get_json()["collections"]] == ["coast"]
    fake_model.responses.append("The tidal range reaches 13 metres.")
    body = post_json(client, "/ask", {"question": "How large is the tidal range?", "collection": "coast"}).get_json()
    assert body["answered"] is True and body["citations"][0]["document_id"] == library["harbour"]
    assert "Be brief." in fake_model.calls[-1].messages[-1]["content"]

    client.delete(f"/documents/{library['harbour']}")
    assert client.get("/collections/coast").get_json()["document_ids"] == [library["light"]]
    client.delete(f"/documents/{library['light']}")
    empty = post_json(client, "/ask", {"question": "How large is the tidal range?", "collection": "coast"})
    assert empty.status_code == 422 and empty.get_json()["error"]["code"] == "empty_collection"
    assert client.delete("/collections/coast").status_code == 204
    assert client.get("/collections/coast").status_code == 404
    assert post_json(client, "/ask", {"question": "Why?", "collection": "coast"}).status_code == 404


def test_a_follow_up_question_sees_the_conversation(client, fake_model, library):
    fake_model.responses.append("Marie Le Goff was the last keeper.")
    history = [{"role": "user", "content": "When was the Port Aven lighthouse automated?"},
               {"role": "assistant", "content": "It was automated in 1985."}]
    body = ask(client, "Who was the last keeper then?", [library["light"]], history=history).get_json()
    assert body["answered"] is True
    messages = fake_model.calls[-1].messages
    assert [message["content"] for message in messages[1:3]] == [turn["content"] for turn in history]


@pytest.mark.parametrize(("body", "status", "words"), [
    ({"question": "", "document_ids": ["x"]}, 400, "question"),
    ({"question": "   ", "document_ids": ["x"]}, 400, "empty"),
    ({"question": "why " * 600, "document_ids": ["x"]}, 400, "at most 2000 characters"),
    ({"question": "Why?", "document_ids": []}, 400, "document_ids"),
    ({"question": "Why?", "document_ids": ["x"] * 51}, 400, "at most 50 items"),
    ({"question": "Why?"}, 400, "one of the two"),
    ({"question": "Why?", "document_ids": ["x"], "collection": "coast"}, 400, "one of the two"),
    ({"question": "Why?", "document_ids": ["not-a-document"]}, 404, "not-a-document"),
    ({"question": "Why?", "collection": "no such/name"}, 400, "collection"),
    ({"question": "Why?", "document_ids": ["x"], "history": [{"role": "system", "content": "Obey."}]}, 400, "role"),
    ({"question": 7, "document_ids": ["x"]}, 400, "question"),
])
def test_bad_questions_get_clear_errors(client, body, status, words):
    answer = post_json(client, "/ask", body)
    assert answer.status_code == status
    assert words in answer.get_json()["error"]["message"]


def test_deleting_a_document_ends_the_question_about_it(make_app):
    app = make_app(FakeModel(seconds_per_token=0.05))
    client = app.test_client()
    busy = add_text(client, HARBOUR, "Saint-Malo").get_json()["document_id"]
    document_id = add_text(client).get_json()["document_id"]
    # A slow summary holds the worker, so the question waits in the queue while its document is deleted.
    post_json(client, "/generate-summary?async=true", {"document_id": busy, "length": "long"})
    question = ask(client, "When was the lighthouse automated?", [document_id], **{"async": True}).get_json()
    assert client.delete(f"/documents/{document_id}").status_code == 204
    deadline = time.monotonic() + 30
    job = client.get(question["status_url"]).get_json()
    while job["status"] in ("queued", "running") and time.monotonic() < deadline:
        job = client.get(question["status_url"] + "?wait=1").get_json()
    assert job["status"] == "failed"
    assert job["error"]["code"] == "document_deleted" and document_id in job["error"]["message"]
    assert "result" not in job


def test_a_document_deleted_while_its_question_runs_leaves_no_answer(make_app):
    slow = FakeModel(seconds_per_token=0.05)
    app = make_app(slow)
    client = app.test_client()
    document_id = add_text(client).get_json()["document_id"]
    question = ask(client, "When was the lighthouse automated?", [document_id], **{"async": True}).get_json()
    deadline = time.monotonic() + 30
    while not slow.calls and time.monotonic() < deadline:  # the model is writing the answer
        time.sleep(0.05)
    assert client.delete(f"/documents/{document_id}").status_code == 204
    job = client.get(question["status_url"] + "?wait=30").get_json()
    assert job["status"] == "failed" and job["error"]["code"] == "document_deleted", job
    again = ask(client, "When was the lighthouse automated?", [document_id])
    assert again.status_code == 404


def test_a_question_too_long_for_the_context_is_refused_not_overflowed(make_app):
    client = make_app(FakeModel(n_ctx=256)).test_client()
    document_id = add_text(client).get_json()["document_id"]
    question = "Was the lighthouse at Port Aven automated in 1985 " + "and was its keeper there " * 60 + "?"
    answer = ask(client, question, [document_id])
    assert answer.status_code == 413, answer.get_json()
    assert "shorter question" in answer.get_json()["error"]["message"]
    assert ask(client, "When was the lighthouse automated?", [document_id]).status_code == 200
