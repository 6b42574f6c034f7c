"""The job store, on SQLite and on PostgreSQL alike: FIFO claims, queue limit, cancel in both states, restart,
cache, purge, checkpoints, one job per identical request."""

import io
import os
import socket
import subprocess
import threading
import time

import pytest

from jobs.store import (
    CANCELLED,
    FILE_CHUNK_BYTES,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    QueueFullError,
    SqliteJobStore,
    SqlJobStore,
)

# What the service stores for a cancelled job (the API's error table makes it); the store keeps what it is given.
CANCELLED_ERROR = {"code": "cancelled", "message": "the job was cancelled"}


@pytest.fixture
def store(database):
    return SqlJobStore(database)  # the database fixture closes it


def test_jobs_run_first_in_first_out(store):
    first = store.create("summary", {"length": "short"}, b"one")
    second = store.create("points", {"count": 3}, b"two")
    assert store.queue_depth() == 2
    claimed = store.claim_next()
    assert (claimed.id, claimed.status, claimed.input, claimed.attempts) == (first.id, RUNNING, b"one", 1)
    assert store.claim_next().id == second.id
    assert store.claim_next() is None


def test_queue_limit(store):
    for _ in range(3):
        store.create("summary", {}, b"x", max_queue=3)
    with pytest.raises(QueueFullError, match="MAX_QUEUE=3"):
        store.create("summary", {}, b"x", max_queue=3)


def test_result_drops_the_input_and_is_cached(store):
    job = store.create("summary", {}, b"text", request_key="k1")
    store.claim_next()
    store.set_progress(job.id, "summarizing parts", 2, 5)
    assert store.get(job.id).progress == {"stage": "summarizing parts", "done": 2, "total": 5}
    store.succeed(job.id, {"summary": "Short."})
    done = store.get(job.id)
    assert (done.status, done.result, done.input) == (SUCCEEDED, {"summary": "Short."}, None)
    # And the input is really gone from the database, not only left out of reads.
    assert store._db.read_one("SELECT input FROM jobs WHERE id = ?", (job.id,))[0] is None
    assert store.cached_result("k1", max_age_s=60).id == job.id
    assert store.cached_result("k2", max_age_s=60) is None


def test_cancel_queued_and_running(store):
    queued = store.create("summary", {}, b"a")
    running = store.create("summary", {}, b"b")
    store.claim_next()  # takes `queued`, which is now running
    assert store.cancel(queued.id, CANCELLED_ERROR).cancel_requested
    assert store.get(queued.id).status == RUNNING
    assert store.cancel(running.id, CANCELLED_ERROR).status == CANCELLED
    assert store.get(running.id).error == CANCELLED_ERROR
    assert store.claim_next() is None
    assert store.cancel("nope", CANCELLED_ERROR) is None


def test_restart_requeues_interrupted_jobs_with_their_checkpoints(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    store = SqliteJobStore(path)
    job = store.create("summary", {}, b"long text")
    store.claim_next()
    store.save_checkpoint(job.id, "chunk-0", "First part summary.")
    store.close()  # as if the process died here

    reopened = SqliteJobStore(path)
    assert reopened.requeue_interrupted(CANCELLED_ERROR) == 1
    again = reopened.claim_next()
    assert (again.id, again.attempts, again.input) == (job.id, 2, b"long text")
    assert reopened.load_checkpoints(job.id) == {"chunk-0": "First part summary."}
    reopened.succeed(job.id, {"summary": "Done."})
    assert reopened.load_checkpoints(job.id) == {}
    reopened.close()


def test_list_newest_first_and_purge(store):
    ids = [store.create("summary", {}, b"x").id for _ in range(5)]
    assert [job.id for job in store.list(limit=2, offset=0)] == ids[::-1][:2]
    assert [job.id for job in store.list(limit=2, offset=2)] == ids[::-1][2:4]
    store.claim_next()
    store.succeed(ids[0], {})
    time.sleep(0.05)
    assert store.purge(max_age_s=0.01) == 1
    assert store.get(ids[0]) is None
    assert store.get(ids[1]).status == QUEUED


def test_concurrent_claims_never_hand_out_a_job_twice(store):
    for _ in range(40):
        store.create("summary", {}, b"x")
    claimed: list[str] = []

    def worker():
        while (job := store.claim_next()) is not None:
            claimed.append(job.id)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(claimed) == 40 == len(set(claimed))


def test_a_job_another_live_process_runs_is_left_alone_and_a_dead_ones_is_taken_back(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    store = SqliteJobStore(path)
    live = store.create("summary", {}, b"one")
    dead = store.create("summary", {}, b"two")
    store.claim_next(), store.claim_next()
    store._db.write("UPDATE jobs SET owner = ? WHERE id = ?", (f"{socket.gethostname()}:1:parent", live.id))
    store._db.write("UPDATE jobs SET owner = ? WHERE id = ?", (f"{socket.gethostname()}:{_dead_pid()}:x", dead.id))
    assert SqliteJobStore(path).requeue_interrupted(CANCELLED_ERROR) == 1  # pid 1 is alive: a reload's old worker, say
    assert store.get(live.id).status == "running" and store.get(dead.id).status == "queued"


def test_only_the_claiming_store_finishes_or_releases_a_job(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    first = SqliteJobStore(path)
    job = first.create("summary", {}, b"text")
    first.claim_next()
    second = SqliteJobStore(path)  # e.g. the worker that started after the first one was thought dead
    assert second.requeue_interrupted(CANCELLED_ERROR) == 1
    second.claim_next()
    first.release(job.id)
    assert first.succeed(job.id, {"summary": "late"}) is False
    assert second.get(job.id).status == "running"
    assert second.succeed(job.id, {"summary": "mine"}) is True
    assert second.get(job.id).result == {"summary": "mine"}


def test_a_cancel_asked_before_a_crash_is_kept(tmp_path):
    path = tmp_path / "jobs.sqlite3"
    store = SqliteJobStore(path)
    job = store.create("summary", {}, b"text")
    store.claim_next()
    store.cancel(job.id, CANCELLED_ERROR)  # asked to stop; the process dies before it notices
    store.close()
    reopened = SqliteJobStore(path)
    assert reopened.requeue_interrupted(CANCELLED_ERROR) == 0
    assert (reopened.get(job.id).status, reopened.get(job.id).error) == ("cancelled", CANCELLED_ERROR)


def _dead_pid() -> int:
    """The pid of a process that has ended."""
    process = subprocess.Popen(["true"])
    process.wait()
    return process.pid


def test_a_cancel_for_a_client_that_left_spares_a_job_another_request_joined(store):
    alone = store.create("summary", {}, b"a", request_key="k-alone")
    joined = store.create("summary", {}, b"b", request_key="k-joined")
    assert store.attach("k-joined").id == joined.id
    assert store.cancel(alone.id, CANCELLED_ERROR, unless_shared=True).status == CANCELLED
    spared = store.cancel(joined.id, CANCELLED_ERROR, unless_shared=True)
    assert (spared.status, spared.shared) == (QUEUED, True)


def test_identical_requests_at_the_same_instant_make_one_job(store):
    made: list = []

    def submit():
        made.append(store.create("summary", {}, b"same", request_key="k-same"))

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({job.id for job in made}) == 1
    assert store.get(made[0].id).shared
    assert store.queue_depth() == 1
    # Once it is being cancelled, an identical request makes a new job instead of joining one that will not answer.
    store.claim_next()
    store.cancel(made[0].id, CANCELLED_ERROR)
    assert store.create("summary", {}, b"same", request_key="k-same").id != made[0].id


def test_a_jobs_file_is_kept_and_read_back_a_chunk_at_a_time_and_purged_with_it(store):
    job = store.create("audio", {}, b"")
    data = os.urandom(2 * FILE_CHUNK_BYTES + 12345)
    store.save_file(job.id, "audio/wav", io.BytesIO(data), len(data))
    stored = store.load_file(job.id)
    assert (stored.content_type, stored.size) == ("audio/wav", len(data))
    chunks = list(stored.chunks)
    assert [len(chunk) for chunk in chunks] == [FILE_CHUNK_BYTES, FILE_CHUNK_BYTES, 12345]
    assert b"".join(chunks) == data
    assert store.load_file("no-such-job") is None
    store.claim_next()
    store.succeed(job.id, {})
    time.sleep(0.05)
    assert store.purge(max_age_s=0.01) == 1
    assert store.load_file(job.id) is None
