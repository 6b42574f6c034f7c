"""GET /metrics: Prometheus text with requests, latency, tokens, generation speed, queue, jobs and the model."""

import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import SAMPLE_TEXT
from tests.fakes import FakeModel


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    """Every sample as {(name, sorted labels): value}."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _scrape(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain")
    return _samples(response.get_data(as_text=True))


def test_requests_are_counted_by_route_pattern_method_and_status(client):
    client.get("/health")
    client.get("/jobs/unknown-1")
    client.get("/jobs/unknown-2")
    client.get("/no/such/page")
    samples = _scrape(client)

    def requests_total(endpoint, status):
        labels = (("endpoint", endpoint), ("method", "GET"), ("status", status))
        return samples["docservice_http_requests_total", labels]

    assert requests_total("/health", "200") == 1
    assert requests_total("/jobs/<job_id>", "404") == 2
    assert requests_total("unmatched", "404") == 1
    assert samples["docservice_http_request_duration_seconds_count", (("endpoint", "/jobs/<job_id>"),)] == 2


def test_odd_methods_share_one_series(client):
    for method in ("FOOBAR", "BREW", "PROPFIND"):
        client.open("/jobs", method=method)
    series = [dict(labels) for name, labels in _scrape(client) if name == "docservice_http_requests_total"]
    assert series == [{"endpoint": "unmatched", "method": "other", "status": "405"}]


def test_tokens_and_generation_speed_match_the_answers(client, fake_model):
    first = client.post("/generate-summary", json={"text": SAMPLE_TEXT, "length": "short"}).get_json()
    second = client.post("/generate-points", json={"text": SAMPLE_TEXT, "count": 3}).get_json()
    samples = _scrape(client)
    answers = (first["usage"], second["usage"])
    assert samples["docservice_prompt_tokens_total", ()] == sum(usage["prompt_tokens"] for usage in answers)
    assert samples["docservice_completion_tokens_total", ()] == sum(usage["completion_tokens"] for usage in answers)
    assert samples["docservice_model_call_duration_seconds_count", ()] == len(fake_model.calls)
    assert samples["docservice_generation_tokens_per_second_count", ()] == len(fake_model.calls)


def test_queue_jobs_and_model_gauges(client):
    client.post("/generate-summary", json={"text": SAMPLE_TEXT})
    client.delete("/jobs/none")
    # The worker counts an ended job just after storing its end, and a waiting request may answer in between (a
    # streamed sentence can wake it first): wait for the count, briefly.
    deadline = time.monotonic() + 5
    while ("docservice_jobs_ended_total", (("status", "succeeded"), ("task", "summary"))) not in (
            samples := _scrape(client)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert samples["docservice_queue_depth", ()] == 0
    assert samples["docservice_jobs", (("status", "succeeded"),)] == 1
    assert samples["docservice_jobs", (("status", "queued"),)] == 0
    assert samples["docservice_model_ready", ()] == 1
    assert samples["docservice_jobs_ended_total", (("status", "succeeded"), ("task", "summary"))] == 1
    assert samples["docservice_job_queue_wait_seconds_count", ()] == 1
    assert samples["docservice_job_duration_seconds_count", (("task", "summary"),)] == 1


def test_model_load_time_is_the_time_loading_took(make_app):
    app = make_app(without_model=True)
    client = app.test_client()
    assert _scrape(client)["docservice_model_ready", ()] == 0
    assert ("docservice_model_load_seconds", ()) not in _scrape(client)  # not loaded yet: no time to report

    def slow_load():
        time.sleep(0.3)
        return FakeModel()

    app.extensions["model_host"].start(slow_load).join(10)
    samples = _scrape(client)
    assert samples["docservice_model_ready", ()] == 1
    assert 0.3 <= samples["docservice_model_load_seconds", ()] < 5


def test_queued_jobs_show_in_the_queue_depth(make_app):
    app = make_app(FakeModel())
    client = app.test_client()
    app.extensions["jobs"].stop()  # nothing runs, so what is sent stays queued
    for n in range(3):
        assert client.post("/generate-summary?async=true", json={"text": f"Tower {n} stands."}).status_code == 202
    samples = _scrape(client)
    assert samples["docservice_queue_depth", ()] == 3
    assert samples["docservice_jobs", (("status", "queued"),)] == 3


def test_metrics_need_the_api_key_when_one_is_set(make_app):
    client = make_app(FakeModel(), api_key="secret", owner_secret="test-secret").test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer secret"}).status_code == 200


@pytest.mark.model
def test_real_server_reports_load_time_and_generation_speed(live_server):
    response = requests.post(live_server.url + "/generate-summary", json={"text": SAMPLE_TEXT, "length": "short"},
                             timeout=120)
    assert response.status_code == 200
    samples = _samples(requests.get(live_server.url + "/metrics", timeout=10).text)
    assert samples["docservice_model_load_seconds", ()] > 0
    assert samples["docservice_completion_tokens_total", ()] >= response.json()["usage"]["completion_tokens"]
    calls = samples["docservice_generation_tokens_per_second_count", ()]
    speed = samples["docservice_generation_tokens_per_second_sum", ()] / calls
    assert 1 < speed < 10_000  # real tokens per second of the bundled model on this machine


def test_waiting_requests_are_counted_while_they_wait(make_app):
    import threading
    app = make_app(FakeModel(seconds_per_token=0.05))
    client = app.test_client()
    job_id = client.post("/generate-summary?async=true", json={"text": SAMPLE_TEXT}).get_json()["job_id"]
    waiting = threading.Thread(target=lambda: app.test_client().get(f"/jobs/{job_id}?wait=10"))
    waiting.start()
    deadline = time.monotonic() + 5
    while _scrape(client)["docservice_waiting_requests", ()] < 1 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _scrape(client)["docservice_waiting_requests", ()] == 1
    waiting.join(15)
    assert _scrape(client)["docservice_waiting_requests", ()] == 0
