"""The OpenAI-compatible API (routes/chat.py), driven by the official openai client over real HTTP, on the fake
model; test_integration.py runs it on the bundled model."""

from __future__ import annotations

import json
import threading
import time

import openai
import pytest
import requests

from tests.fakes import FakeModel

ANSWER = "The lighthouse was built in 1850. It guided fishing boats past the reef."


@pytest.fixture
def chat_model():
    return FakeModel(default=lambda messages: ANSWER, seconds_per_token=0.002)


@pytest.fixture
def url(serve, chat_model):
    return serve(chat_model)


@pytest.fixture
def client(url):
    return openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=30)


def ask(client, **fields):
    return client.chat.completions.create(
        model="fake-model", messages=[{"role": "user", "content": "When was the lighthouse built?"}], **fields)


def test_models_lists_the_served_model(client):
    models = client.models.list()
    assert [model.id for model in models.data] == ["fake-model"]


def test_a_chat_completion_answers_in_openais_shape(client, chat_model):
    answer = ask(client, max_tokens=50, temperature=0)
    assert answer.choices[0].message.content == ANSWER
    assert answer.choices[0].message.role == "assistant"
    assert answer.choices[0].finish_reason == "stop"
    assert answer.object == "chat.completion"
    assert answer.model == "fake-model"
    assert answer.usage.completion_tokens > 0
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens
    sent = chat_model.calls[-1]
    assert sent.messages[-1] == {"role": "user", "content": "When was the lighthouse built?"}
    assert sent.params.max_tokens == 50
    assert sent.params.temperature == 0
    assert sent.params.seed == -1  # no seed sent: a random one per call, as OpenAI samples


def test_streaming_delivers_the_answer_in_pieces_then_the_end(client):
    stream = ask(client, max_tokens=50, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    pieces = [chunk.choices[0].delta.content for chunk in chunks if chunk.choices and chunk.choices[0].delta.content]
    assert "".join(pieces) == ANSWER
    assert len(pieces) > 3  # token by token, not one block at the end
    assert chunks[0].choices[0].delta.role == "assistant"
    ends = [chunk.choices[0].finish_reason for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason]
    assert ends == ["stop"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    assert len({chunk.id for chunk in chunks}) == 1


def test_the_stream_comes_while_the_model_writes(url, chat_model):
    chat_model.seconds_per_token = 0.05  # 14 tokens: about 0.7 s
    started = time.monotonic()
    with requests.post(f"{url}/v1/chat/completions", stream=True, timeout=30, json={
        "model": "fake-model", "messages": [{"role": "user", "content": "Hi"}], "stream": True, "max_tokens": 50,
    }) as response:
        assert response.headers["Content-Type"].startswith("text/event-stream")
        arrivals = []
        for line in response.iter_lines():
            if line.startswith(b"data: {") and b'"content":"' in line and b'"content":""' not in line:
                arrivals.append(time.monotonic() - started)
            if line == b"data: [DONE]":
                break
    assert arrivals and arrivals[0] < arrivals[-1] - 0.3  # the first words came well before the last


def test_stop_strings_and_the_token_cap(client):
    assert ask(client, max_tokens=50, stop=["1850"]).choices[0].message.content == "The lighthouse was built in "
    capped = ask(client, max_tokens=3)
    assert capped.choices[0].finish_reason == "length"
    assert capped.usage.completion_tokens == 3


def test_options_reach_the_model(client, chat_model):
    ask(client, max_tokens=20, temperature=0.3, top_p=0.5, seed=7, frequency_penalty=0.5, presence_penalty=0.25,
        extra_body={"repeat_penalty": 1.2})
    params = chat_model.calls[-1].params
    assert (params.temperature, params.top_p, params.seed) == (0.3, 0.5, 7)
    assert (params.frequency_penalty, params.presence_penalty, params.repeat_penalty) == (0.5, 0.25, 1.2)


def test_text_parts_and_developer_messages_are_read(client, chat_model):
    client.chat.completions.create(model="fake-model", max_tokens=10, messages=[
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Hello "}, {"type": "text", "text": "there"}]},
    ])
    assert chat_model.calls[-1].messages == [{"role": "system", "content": "Be brief."},
                                             {"role": "user", "content": "Hello there"}]


def test_an_unknown_model_is_404_in_openais_shape(client):
    with pytest.raises(openai.NotFoundError) as raised:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    error = raised.value.body
    assert error["code"] == "model_not_found"
    assert error["type"] == "not_found_error"
    assert "fake-model" in error["message"]


def test_a_conversation_that_cannot_fit_is_refused_not_cut(client, chat_model):
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model="fake-model", max_tokens=100,
                                       messages=[{"role": "user", "content": "word " * 2000}])
    assert raised.value.body["code"] == "context_length_exceeded"
    assert "2048" in raised.value.body["message"]
    assert chat_model.calls == []


@pytest.mark.parametrize(("fields", "words"), [
    ({"n": 2}, "'n'"),
    ({"tools": [{"type": "function", "function": {"name": "f"}}]}, "'tools' is not supported"),
    ({"logprobs": True}, "'logprobs' is not supported"),
    ({"response_format": {"type": "json_object"}}, "response_format"),
    ({"temperature": 3}, "temperature"),
    ({"max_tokens": 0}, "max_tokens"),
    ({"max_tokens": 10**6}, "at most 2048"),
    ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
])
def test_what_is_not_done_is_refused_clearly(client, fields, words):
    with pytest.raises(openai.BadRequestError) as raised:
        ask(client, **fields)
    assert raised.value.body["type"] == "invalid_request_error"
    assert words in raised.value.body["message"]


def test_bad_bodies_get_openai_errors(url):
    for body in ("not json", json.dumps({"model": "fake-model"}), json.dumps({"model": "fake-model", "messages": []}),
                 json.dumps({"model": "fake-model", "messages": [{"role": "tool", "content": "x"}]})):
        response = requests.post(f"{url}/v1/chat/completions", data=body, timeout=10,
                                 headers={"Content-Type": "application/json"})
        assert response.status_code == 400, body
        error = response.json()["error"]
        assert set(error) == {"message", "type", "param", "code"}
        assert error["type"] == "invalid_request_error"


def test_the_api_key_is_required_and_read_from_the_bearer_header(serve, chat_model):
    url = serve(chat_model, api_key="alice:sekret")
    with pytest.raises(openai.AuthenticationError) as raised:
        openai.OpenAI(base_url=f"{url}/v1", api_key="wrong", max_retries=0).models.list()
    assert raised.value.body["code"] == "unauthorized"
    assert raised.value.body["type"] == "authentication_error"
    allowed = openai.OpenAI(base_url=f"{url}/v1", api_key="sekret", max_retries=0)
    assert ask(allowed, max_tokens=5).choices[0].message.content


def test_each_chat_request_is_its_own_job(client, chat_model):
    ask(client, max_tokens=10, temperature=0)
    ask(client, max_tokens=10, temperature=0)
    assert len(chat_model.calls) == 2  # never answered from a cached result


def test_many_streams_at_once_each_get_their_own_answer(serve):
    model = FakeModel(default=lambda messages: f"Answer to {messages[-1]['content']}.", seconds_per_token=0.001,
                      parallel=4)
    url = serve(model, slots=4)
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=30)
    answers: dict[int, str] = {}

    def one(number: int) -> None:
        stream = client.chat.completions.create(model="fake-model", stream=True, max_tokens=20,
                                                messages=[{"role": "user", "content": f"question {number}"}])
        answers[number] = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)

    threads = [threading.Thread(target=one, args=(number,)) for number in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert answers == {number: f"Answer to question {number}." for number in range(8)}


def test_the_jobs_event_stream_carries_the_answer_as_deltas(url, chat_model):
    chat_model.seconds_per_token = 0.05
    answer: list[str] = []
    body = {"model": "fake-model", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 50}
    asking = threading.Thread(
        target=lambda: answer.append(requests.post(f"{url}/v1/chat/completions", timeout=30, json=body).json()))
    asking.start()
    deadline = time.monotonic() + 10
    while not (jobs := requests.get(f"{url}/jobs", timeout=5).json()["jobs"]) and time.monotonic() < deadline:
        time.sleep(0.02)
    events: list[tuple[str, dict]] = []
    with requests.get(f"{url}/jobs/{jobs[0]['job_id']}/events", stream=True, timeout=30) as stream:
        name = None
        for line in stream.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))
    asking.join(30)
    deltas = [data for name, data in events if name == "delta"]
    assert len(deltas) > 1
    assert "".join(delta["text"] for delta in deltas) == ANSWER == answer[0]["choices"][0]["message"]["content"]
    assert [delta["offset"] for delta in deltas] == [len("".join(d["text"] for d in deltas[:i]))
                                                     for i in range(len(deltas))]
    assert events[-1][0] == "result"
