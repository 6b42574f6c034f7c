"""The real bundled model through the HTTP API: summaries, points, messages, long text at a small context,
determinism, the OpenAI-compatible API, and the batching engine with several slots."""

import io
import re
import threading

import openai
import pytest
import requests
import soundfile

from llm.budgets import BUDGETS
from llm.cleanup import split_sentences, words
from llm.model import Model
from llm.points import grounding
from settings import load_settings
from tests.conftest import SAMPLE_TEXT
from tests.conftest import post_json as _post

pytestmark = pytest.mark.model
TEMPLATE_MARKS = ("<|im_start|>", "<|im_end|>", "<|", "</s>")


def test_summary_of_real_text(real_client):
    response = _post(real_client, "/generate-summary", {"text": SAMPLE_TEXT, "length": "short"})
    assert response.status_code == 200
    body = response.get_json()
    summary = body["summary"]
    assert len(words(summary)) >= 8
    assert not any(mark in summary for mark in TEMPLATE_MARKS)
    sentences = [" ".join(words(s)) for s in split_sentences(summary)]
    assert len(sentences) == len(set(sentences))
    assert grounding(summary, SAMPLE_TEXT) >= 0.5
    assert body["model"] == "smollm2-135m-instruct"
    assert 0 < body["usage"]["completion_tokens"] <= 120 * BUDGETS.summary_candidates  # each candidate's cap
    assert (body["strategy"], body["chunks"]) == ("single", 1)


def test_same_request_same_summary_at_temperature_zero(real_client):
    body = {"text": SAMPLE_TEXT, "length": "short", "temperature": 0}
    first = _post(real_client, "/generate-summary", body).get_json()["summary"]
    second = _post(real_client, "/generate-summary", body).get_json()["summary"]
    assert first == second


def test_points_of_real_text(real_client):
    response = _post(real_client, "/generate-points", {"text": SAMPLE_TEXT, "count": 5})
    assert response.status_code == 200
    points = [point["text"] for point in response.get_json()["points"]]
    assert len(points) == 5
    assert len({" ".join(words(point)) for point in points}) == 5
    for point in points:
        assert len(words(point)) >= 3
        assert not any(mark in point for mark in TEMPLATE_MARKS)
        assert grounding(point, SAMPLE_TEXT) >= 0.5


def test_points_accepts_the_original_clients_field(real_client):
    response = _post(real_client, "/generate-points", {"points": SAMPLE_TEXT, "count": 3})
    assert response.status_code == 200
    assert len(response.get_json()["points"]) == 3


def test_messages_from_points_state_them_and_invent_no_number(real_client):
    points = ["The office move is on 12 June.", "Pack your desk into the blue crates.",
              "Movers arrive at 8 in the morning."]
    response = _post(real_client, "/generate-message", {"points": points, "sender": "Facilities",
                                                        "recipient": "everyone", "n": 3, "temperature": 0})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    bodies = [message["body"] for message in body["messages"]]
    assert 1 <= len(bodies) == len(set(bodies)) <= 3
    for message in body["messages"]:
        assert message["body"].startswith("Hi everyone,") and message["body"].endswith("Thanks,\nFacilities")
        assert sorted(message["covered"] + message["missing"]) == [0, 1, 2]
        numbers = set(re.findall(r"\d+", message["body"]))
        assert numbers <= {"12", "8"}, message["body"]  # no date, time or count the points do not have
        assert not any(mark in message["body"] for mark in (*TEMPLATE_MARKS, "[", "Subject:"))
    assert any(message["covered"] for message in body["messages"])


def test_a_summary_is_spoken_as_audio_that_decodes(real_client):
    response = _post(real_client, "/generate-audio", {"text": SAMPLE_TEXT, "summarize": True, "length": "short",
                                                      "format": "ogg"})
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "audio/ogg"
    with soundfile.SoundFile(io.BytesIO(response.data)) as audio:
        samples = audio.read(dtype="float32")
        seconds = len(samples) / audio.samplerate
    assert seconds > 3 and abs(samples).max() > 0.05  # speech, not silence
    assert float(response.headers["X-Audio-Duration"]) == pytest.approx(seconds, abs=0.2)


class RecordingModel(Model):
    """Delegates to the real model and records each call's prompt and output sizes."""

    def __init__(self, model: Model):
        self.inner = model
        self.info = model.info
        self.calls: list[tuple[int, int, int]] = []

    def count_tokens(self, text):
        return self.inner.count_tokens(text)

    def prompt_tokens(self, messages):
        return self.inner.prompt_tokens(messages)

    def generate(self, messages, params):
        completion = self.inner.generate(messages, params)
        self.calls.append((completion.prompt_tokens, params.max_tokens, completion.completion_tokens))
        return completion


@pytest.fixture(scope="module")
def small_context_model():
    from llm.loader import load_model

    model = load_model(load_settings(n_ctx=512))
    yield model
    model.close()


def test_text_longer_than_the_context_is_summarized_hierarchically(make_app, small_context_model):
    recorder = RecordingModel(small_context_model)
    client = make_app(recorder, n_ctx=512, summary_read_tokens=0).test_client()
    text = f"{SAMPLE_TEXT}\n\n{SAMPLE_TEXT}"
    assert small_context_model.count_tokens(text) > 512
    response = _post(client, "/generate-summary", {"text": text, "length": "short"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["strategy"] == "hierarchical"
    assert body["chunks"] >= 2 and body["levels"] >= 2
    assert body["summary"]
    assert recorder.calls
    for prompt_tokens, max_tokens, completion_tokens in recorder.calls:
        assert prompt_tokens + max_tokens <= 512
        assert completion_tokens <= max_tokens


def test_text_longer_than_the_context_is_read_through_its_salient_sentences(make_app, small_context_model):
    """The default: one call on the most salient sentences, which fit the context, with the fact check after."""
    recorder = RecordingModel(small_context_model)
    client = make_app(recorder, n_ctx=512).test_client()
    text = f"{SAMPLE_TEXT}\n\n{SAMPLE_TEXT}"
    response = _post(client, "/generate-summary", {"text": text, "length": "short"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["strategy"], body["chunks"], body["levels"]) == ("extract", 1, 1)
    assert body["summary"] and set(body["checked"]) == {"facts", "rewritten", "dropped"}
    model_calls = len(recorder.calls) - body["checked"]["rewritten"] - body["checked"]["dropped"]
    assert model_calls <= BUDGETS.summary_candidates + 1  # the candidates (+1 retry), then any rewrites
    for prompt_tokens, max_tokens, completion_tokens in recorder.calls:
        assert prompt_tokens + max_tokens <= 512
        assert completion_tokens <= max_tokens


def test_points_of_text_longer_than_the_context(make_app, small_context_model):
    recorder = RecordingModel(small_context_model)
    client = make_app(recorder, n_ctx=512).test_client()
    response = _post(client, "/generate-points", {"text": SAMPLE_TEXT, "count": 4})
    assert response.status_code == 200
    body = response.get_json()
    assert body["chunks"] >= 2
    assert len(body["points"]) == 4
    assert all(prompt + reserve <= 512 for prompt, reserve, _ in recorder.calls)


def test_health_reports_the_loaded_model(real_client):
    response = real_client.get("/health")
    assert response.status_code == 200
    model = response.get_json()["model"]
    assert model["name"] == "smollm2-135m-instruct"
    assert model["n_ctx"] == 8192
    assert model["path"].endswith("SmolLM2-135M-Instruct.Q4_1-as-Q8_0.gguf")  # the shipped file, converted once
    assert model["n_gpu_layers"] == -1


CITED_FACTS = {
    1: ("The harbour of Port Aven was dredged in 1911 so that steamers could reach the quay.", "dredged"),
    2: ("A bronze bell for the chapel was cast by Martin Keel in 1923.", "bell"),
    3: ("The lighthouse on the reef was automated in 1985 and its keepers moved to the town.", "automated"),
}


def test_points_from_a_pdf_cite_the_pages_that_say_them(real_client):
    import io

    from tests.pdfs import text_pdf

    filler = {
        1: "Fishing boats moved to the outer basin after the works were finished.",
        2: "The chapel stands on the hill above the old market square.",
        3: "Visitors can climb the tower on summer afternoons.",
    }
    pages = [f"{CITED_FACTS[n][0]} {filler[n]}" for n in (1, 2, 3)]
    data = text_pdf(pages, header="Port Aven Chronicle", footer=True)
    response = real_client.post(
        "/generate-points", data={"file": (io.BytesIO(data), "chronicle.pdf"), "count": "3"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    body = response.get_json()
    assert body["pages"] == 3
    checked = 0
    for point in body["points"]:
        pages_named = [n for n, (_, keyword) in CITED_FACTS.items() if keyword in point["text"].lower()]
        if len(pages_named) == 1:
            assert pages_named[0] in point["pages"], point
            checked += 1
    assert checked >= 2, body["points"]


def test_long_pdf_at_a_small_context_goes_several_levels_and_every_call_fits(make_app, small_context_model):
    import io

    from tests.test_pdf_tools import shared

    recorder = RecordingModel(small_context_model)
    client = make_app(recorder, n_ctx=512, summary_read_tokens=0).test_client()
    response = client.post(
        "/generate-summary",
        data={"file": (io.BytesIO(shared("reportlab-userguide.pdf")), "guide.pdf"), "pages": "6-8",
              "length": "short"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["strategy"] == "hierarchical"
    assert body["chunks"] >= 6 and body["levels"] >= 3
    assert body["summary"].strip()
    assert len(recorder.calls) >= body["chunks"] + 2
    assert all(prompt + reserve <= 512 for prompt, reserve, _ in recorder.calls)


def test_points_of_a_long_pdf_cite_pages_that_say_them(make_app, real_model):
    import io

    from pdf_tools import read_pdf
    from tests.test_pdf_tools import shared

    data = shared("reportlab-userguide.pdf")
    client = make_app(real_model).test_client()
    response = client.post(
        "/generate-points", data={"file": (io.BytesIO(data), "guide.pdf"), "pages": "11-14", "count": "5"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    points = response.get_json()["points"]
    assert len(points) == 5
    page_text = {page.number: page.text for page in read_pdf(data, pages="11-14").pages}
    for point in points:
        assert point["pages"] and set(point["pages"]) <= set(page_text)
        cited = " ".join(page_text[number] for number in point["pages"])
        assert grounding(point["text"], cited) >= 0.5, point


def test_chat_completions_on_the_bundled_model(serve, real_model):
    client = openai.OpenAI(base_url=f"{serve(real_model)}/v1", api_key="unused", max_retries=0, timeout=120)
    question = [{"role": "user", "content": "Name one colour of the sky."}]
    plain = client.chat.completions.create(model=real_model.name, messages=question, max_tokens=24, temperature=0)
    text = plain.choices[0].message.content
    assert text.strip()
    assert not any(mark in text for mark in TEMPLATE_MARKS)
    assert 0 < plain.usage.completion_tokens <= 24
    stream = client.chat.completions.create(model=real_model.name, messages=question, max_tokens=24, temperature=0,
                                            stream=True)
    pieces = [chunk.choices[0].delta.content for chunk in stream if chunk.choices and chunk.choices[0].delta.content]
    assert len(pieces) > 1
    assert "".join(pieces) == text  # the same decoding, token by token


@pytest.fixture(scope="module")
def batched_model():
    from llm.loader import load_model

    model = load_model(load_settings(n_ctx=1024, slots=3))
    yield model
    model.close()


def test_several_slots_answer_requests_at_once(make_app, serve, batched_model):
    url = serve(batched_model, slots=3)
    health = requests.get(f"{url}/health", timeout=10).json()["model"]
    assert (health["slots"], health["n_ctx"]) == (3, 1024)
    assert health["kv_cache_bytes"] > 0
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=300)
    answers: dict[str, str] = {}

    def chat(topic: str) -> None:
        answer = client.chat.completions.create(
            model=batched_model.name, max_tokens=40, temperature=0,
            messages=[{"role": "user", "content": f"Write two sentences about {topic}."}])
        answers[topic] = answer.choices[0].message.content

    def summary() -> None:
        response = requests.post(f"{url}/generate-summary", json={"text": SAMPLE_TEXT, "length": "short"}, timeout=300)
        answers["summary"] = response.json()["summary"] if response.status_code == 200 else response.text

    threads = [threading.Thread(target=chat, args=(topic,)) for topic in ("boats", "bread", "snow")]
    threads.append(threading.Thread(target=summary))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(300)
    assert set(answers) == {"boats", "bread", "snow", "summary"}
    for text in answers.values():
        assert text.strip()
        assert not any(mark in text for mark in TEMPLATE_MARKS)
    assert any(word in answers["summary"].lower() for word in ("lighthouse", "port aven", "reef", "lens"))
    assert batched_model.engine.most_running >= 2  # their calls shared decoding steps
