"""Jobs through the API on the fake model: async start, long-poll, SSE, cancel, queue limit, sync timeout,
result cache, listing."""

import threading
import time

import pytest

from tests.conftest import SAMPLE_TEXT, job_events, long_text, streamed_text
from tests.conftest import post_json as _post
from tests.fakes import FakeModel, echo_response


class GatedModel(FakeModel):
    """A fake whose answers wait for a gate to open, to hold a job in the running state."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.gate = threading.Event()
        self.entered = threading.Event()

    def generate(self, messages, params):
        self.entered.set()
        assert self.gate.wait(20), "the gate never opened"
        return super().generate(messages, params)


@pytest.mark.parametrize("how", ["query", "json", "form"])
def test_async_start_then_long_poll_for_the_result(make_app, how):
    client = make_app(FakeModel()).test_client()
    if how == "query":
        started = _post(client, "/generate-summary?async=true", {"text": SAMPLE_TEXT})
    elif how == "json":
        started = _post(client, "/generate-summary", {"text": SAMPLE_TEXT, "async": True})
    else:
        started = client.post("/generate-summary", data={"text": SAMPLE_TEXT, "async": "true"},
                              content_type="multipart/form-data")
    assert started.status_code == 202
    body = started.get_json()
    assert body["status"] in ("queued", "running", "succeeded")
    assert started.headers["Location"] == body["status_url"] == f"/jobs/{body['job_id']}"
    job = client.get(f"/jobs/{body['job_id']}?wait=20").get_json()
    assert job["status"] == "succeeded"
    assert job["task"] == "summary"
    assert job["result"]["summary"] and job["result"]["strategy"] == "single"
    assert job["created_at"] and job["started_at"] and job["finished_at"]


def test_long_poll_returns_as_soon_as_the_job_ends(make_app):
    model = GatedModel()
    client = make_app(model).test_client()
    job_id = _post(client, "/generate-points?async=true", {"text": SAMPLE_TEXT, "count": 2}).get_json()["job_id"]
    threading.Timer(1.0, model.gate.set).start()
    started = time.monotonic()
    job = client.get(f"/jobs/{job_id}?wait=30").get_json()
    assert job["status"] == "succeeded"
    assert time.monotonic() - started < 10
    assert client.get(f"/jobs/{job_id}?wait=61").status_code == 400


def test_events_stream_progress_in_order_then_the_result(make_app):
    client = make_app(FakeModel(n_ctx=512), summary_read_tokens=0).test_client()  # map and merge: many stages
    job_id = _post(client, "/generate-summary?async=true", {"text": long_text()}).get_json()["job_id"]
    events = job_events(client, f"/jobs/{job_id}")
    names = [name for name, _ in events]
    assert names[-1] == "result" and set(names[:-1]) == {"progress", "delta"}
    assert events[-1][1]["result"]["strategy"] == "hierarchical"
    # The summary's sentences came as deltas, each once checked: together they are the summary.
    assert streamed_text(events) == events[-1][1]["result"]["summary"]
    stages = [data for name, data in events if name == "progress" and data.get("stage") == "summarizing parts"]
    assert [data["done"] for data in stages] == sorted(data["done"] for data in stages)


def test_cancel_a_queued_job_and_a_running_one(make_app):
    model = GatedModel(n_ctx=512)
    client = make_app(model, summary_read_tokens=0).test_client()  # map and merge: many calls to stop between
    running = _post(client, "/generate-summary?async=true", {"text": long_text()}).get_json()["job_id"]
    assert model.entered.wait(10)
    queued = _post(client, "/generate-points?async=true", {"text": SAMPLE_TEXT}).get_json()["job_id"]
    assert client.delete(f"/jobs/{queued}").get_json()["status"] == "cancelled"
    assert client.delete(f"/jobs/{running}").get_json()["status"] == "running"
    calls_before = len(model.calls)
    model.gate.set()
    job = client.get(f"/jobs/{running}?wait=20").get_json()
    assert job["status"] == "cancelled"
    assert job["error"]["code"] == "cancelled"
    assert len(model.calls) <= calls_before + 1  # it stopped at the next chunk boundary
    assert client.get(f"/jobs/{queued}").get_json()["status"] == "cancelled"


def test_queue_overflow_answers_503_with_retry_after(make_app):
    model = GatedModel()
    client = make_app(model, max_queue=1).test_client()
    _post(client, "/generate-summary?async=true", {"text": "First text to read."})
    assert model.entered.wait(10)
    assert _post(client, "/generate-summary?async=true", {"text": "Second text to read."}).status_code == 202
    full = _post(client, "/generate-summary?async=true", {"text": "Third text to read."})
    assert full.status_code == 503
    assert full.get_json()["error"]["code"] == "queue_full"
    assert int(full.headers["Retry-After"]) > 0
    model.gate.set()


def test_slow_synchronous_request_becomes_a_job_and_is_not_lost(make_app):
    model = GatedModel()
    client = make_app(model, sync_timeout_s=0.5).test_client()
    response = _post(client, "/generate-summary", {"text": SAMPLE_TEXT})
    assert response.status_code == 202
    model.gate.set()
    job = client.get(response.headers["Location"] + "?wait=20").get_json()
    assert job["status"] == "succeeded" and job["result"]["summary"]


def test_an_identical_request_joins_the_job_already_under_way(make_app):
    model = GatedModel()
    client = make_app(model).test_client()
    first = _post(client, "/generate-summary?async=true", {"text": SAMPLE_TEXT}).get_json()
    assert model.entered.wait(10)
    second = _post(client, "/generate-summary?async=true", {"text": SAMPLE_TEXT}).get_json()
    other = _post(client, "/generate-summary?async=true", {"text": SAMPLE_TEXT, "length": "short"}).get_json()
    assert second["job_id"] == first["job_id"] and other["job_id"] != first["job_id"]
    model.gate.set()
    job = client.get(f"/jobs/{first['job_id']}?wait=20").get_json()
    assert job["status"] == "succeeded"
    assert client.get(f"/jobs/{other['job_id']}?wait=20").get_json()["status"] == "succeeded"
    assert len(client.get("/jobs").get_json()["jobs"]) == 2


def test_identical_requests_reuse_the_finished_result(make_app):
    model = FakeModel()
    client = make_app(model).test_client()
    first = _post(client, "/generate-summary", {"text": SAMPLE_TEXT, "length": "short"})
    calls = len(model.calls)
    second = _post(client, "/generate-summary", {"text": SAMPLE_TEXT, "length": "short"})
    assert second.get_json() == first.get_json()
    assert len(model.calls) == calls
    _post(client, "/generate-summary", {"text": SAMPLE_TEXT, "length": "long"})
    assert len(model.calls) > calls  # other options: computed anew


def test_failed_job_reports_its_error(make_app):
    model = FakeModel([RuntimeError("boom")])
    client = make_app(model).test_client()
    job_id = _post(client, "/generate-summary?async=true", {"text": SAMPLE_TEXT},
                   headers={"X-Request-ID": "req-9"}).get_json()["job_id"]
    job = client.get(f"/jobs/{job_id}?wait=20").get_json()
    assert job["status"] == "failed"
    assert job["error"]["code"] == "internal_error" and "req-9" in job["error"]["message"]


def test_listing_is_newest_first_and_paged(make_app):
    client = make_app(FakeModel(default=echo_response)).test_client()
    ids = [_post(client, "/generate-summary?async=true", {"text": f"Text number {n} about towers."})
           .get_json()["job_id"] for n in range(3)]
    page = client.get("/jobs?limit=2").get_json()
    assert [job["job_id"] for job in page["jobs"]] == ids[::-1][:2]
    assert page["next"] == "/jobs?limit=2&offset=2"
    assert [job["job_id"] for job in client.get(page["next"]).get_json()["jobs"]] == [ids[0]]
    assert client.get("/jobs/unknown-id").status_code == 404
    assert client.get("/jobs?limit=0").status_code == 400
    assert client.get("/jobs?offset=0.5").get_json()["error"]["message"] == "'offset' must be a whole number"


def test_jobs_keep_their_times_with_the_utc_offset_and_their_request_id(make_app):
    app = make_app()
    client = app.test_client()
    job_id = _post(client, "/generate-summary?async=true", {"text": SAMPLE_TEXT},
                   headers={"X-Request-ID": "req-77"}).get_json()["job_id"]
    job = client.get(f"/jobs/{job_id}?wait=20").get_json()
    for moment in (job["created_at"], job["started_at"], job["finished_at"]):
        assert moment.endswith("+00:00"), moment
    assert app.extensions["jobs"].get(job_id).request_id == "req-77"


def test_a_result_stored_by_an_older_version_still_reads(make_app):
    """Before the no_answer rule, a text with no key point was stored as a success with no points."""
    app = make_app()
    store = app.extensions["jobs"].store
    app.extensions["jobs"].stop()  # the test plays the worker
    job = store.create("points", {"count": 3}, b"{}")
    store.claim_next()
    old_result = {"points": [], "chunks": 1, "model": "smollm2-135m-instruct", "elapsed_ms": 5, "warnings": [],
                  "usage": {"prompt_tokens": 10, "completion_tokens": 2}}
    assert store.succeed(job.id, old_result)
    client = app.test_client()
    assert client.get(f"/jobs/{job.id}").get_json()["result"] == old_result
    assert client.get("/jobs").status_code == 200
