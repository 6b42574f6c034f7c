"""A deployment on several machines, played on this one: real PostgreSQL, API node and worker processes (the
fake model at the llm/ boundary, with a fixed delay per generated token, so that cores are not the limit).

    .venv/bin/python bench/cluster.py [--phases map,queue,failover] [--workers 1,2,4] [--chunks 40]
                                      [--seconds-per-token 0.005] [--jobs 200] [--worker-timeout 30]

Phases:

1. map: one document of about CHUNKS parts, summarized by one API node and 1, 2 and 4 workers (SLOTS=1 each):
   the whole summary's time, and the ideal that the call graph allows. The ideal: the parts and each merge level
   are maps whose items the workers share; the final summary (and the checks around it) is serial. From the
   one-worker run, each stage's time is measured (the job's progress events); with W workers a map of n items
   ideally takes its one-worker time × ceil(n / W) / n (items of about equal size), the serial steps the same.
2. queue: jobs through the job service with a task that does nothing, on SQLite (one process, worker threads) and
   on PostgreSQL (procrastinate, a worker thread, NOTIFY): jobs/s for JOBS submitted at once, and the latency of
   one job alone (submit to seen finished), median of 50.
3. failover: a worker is killed (SIGKILL) mid-job; seconds until another worker runs the job again, at
   WORKER_TIMEOUT_S=WORKER_TIMEOUT (the default 30, and 10).

Writes bench/results/cluster-<phase>.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
RESULTS = ROOT / "bench" / "results"

from tests.conftest import ServerProcess, free_port, server_env  # noqa: E402 - the tests' own process helpers
from tests.postgres import PostgresServer  # noqa: E402

PARAGRAPH = ("Tower {n} on the northern reef was lit in {year}, and its keepers logged {ships} ships that winter. "
             "The lens of tower {n} came from a workshop in Paris and was cleaned every morning at dawn.")


def document(chunks: int) -> str:
    """A text that the fake model's 512-token context cuts into about `chunks` parts (measured: 8 paragraphs
    make one part)."""
    return "\n\n".join(PARAGRAPH.format(n=n, year=1800 + n, ships=10 + n) for n in range(chunks * 8))


class Deployment:
    """PostgreSQL, API nodes and workers, each a real process."""

    def __init__(self, postgres: PostgresServer, folder: Path, **settings: str):
        self.url = postgres.new_database()
        self.folder = folder
        self.settings = settings
        self.nodes: list[ServerProcess] = []

    def start(self, role: str, count: int = 1) -> list[ServerProcess]:
        started = []
        for _ in range(count):
            port = free_port()
            env = server_env(DATABASE_URL=self.url, ROLE=role, **self.settings)
            node = ServerProcess([sys.executable, "-m", "tests.fake_node", "--port", str(port)], port, env,
                                 self.folder / f"{role}-{port}.log")
            self.nodes.append(node)
            started.append(node)
        for node in started:
            node.wait_until_healthy(60)
        return started

    def stop(self) -> None:
        for node in self.nodes:
            node.stop()


def follow(node: ServerProcess, job_id: str) -> tuple[dict, list[tuple[float, str, int]]]:
    """The job once it ended, and when each stage began (seconds since following began) with its item count."""
    started, stages, last = time.monotonic(), [], None
    with requests.get(f"{node.url}/jobs/{job_id}/events", stream=True, timeout=3600) as response:
        name = None
        for line in response.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = json.loads(line.removeprefix("data: "))
                if name == "progress" and data.get("stage") != last:
                    last = data.get("stage")
                    stages.append((time.monotonic() - started, last, data.get("total") or 1))
                if name in ("result", "error"):
                    return data, [*stages, (time.monotonic() - started, "end", 0)]
    raise RuntimeError("the event stream ended without a result")


MAP_STAGES = ("summarizing parts", "merging level")  # stages whose items the workers share (llm/summarize.py)


def stage_times(stages: list[tuple[float, str, int]]) -> list[dict]:
    """Each stage: its name, its items (1 for a serial one) and how long it took."""
    return [{"stage": name, "items": total if name.startswith(MAP_STAGES) else 1,
             "seconds": round(stages[index + 1][0] - at, 3)} for index, (at, name, total) in enumerate(stages[:-1])]


def phase_map(postgres, folder, args) -> dict:
    text = document(args.chunks)
    runs = []
    for workers in args.workers:
        deployment = Deployment(postgres, folder, FAKE_SECONDS_PER_TOKEN=str(args.seconds_per_token),
                                FAKE_N_CTX="512", SUMMARY_READ_TOKENS="0", SLOTS="1")
        try:
            api, = deployment.start("api")
            deployment.start("worker", workers)
            submitted = time.monotonic()
            response = requests.post(f"{api.url}/generate-summary?async=true",
                                     json={"text": text, "length": "short"}, timeout=60)
            job, stages = follow(api, response.json()["job_id"])
            seconds = time.monotonic() - submitted
            assert job["status"] == "succeeded", job
            runs.append({"workers": workers, "seconds": round(seconds, 2), "chunks": job["result"]["chunks"],
                         "levels": job["result"]["levels"], "stages": stage_times(stages)})
            print(f"map: {workers} worker(s): {seconds:.2f} s, {job['result']['chunks']} parts, "
                  f"stages {runs[-1]['stages']}", flush=True)
        finally:
            deployment.stop()
    one = runs[0]
    assert one["workers"] == 1, "the first --workers must be 1: the ideal is derived from it"
    # The time before the first stage (the request, the queue) counts as serial too.
    before = one["seconds"] - sum(stage["seconds"] for stage in one["stages"])
    for run in runs:
        ideal = before + sum(stage["seconds"] * math.ceil(stage["items"] / run["workers"]) / stage["items"]
                             for stage in one["stages"])
        run["ideal_seconds"] = round(ideal, 2)
        run["share_of_ideal"] = round(ideal / run["seconds"], 3)
        run["speedup"] = round(one["seconds"] / run["seconds"], 2)
    return {"runs": runs}


def phase_queue(postgres, folder, args) -> dict:
    from jobs.broadcast import PostgresBroadcast
    from jobs.queue import TaskQueue, ensure_schema
    from jobs.service import JobService, NewJob
    from jobs.store import SqlJobStore
    from storage import open_database

    results = {}
    for engine in ("sqlite", "postgres"):
        url = postgres.new_database() if engine == "postgres" else None
        database = open_database(Path(tempfile.mkdtemp()), url)
        queue = broadcast = None
        if url:
            ensure_schema(url)
            queue, broadcast = TaskQueue(url, worker_timeout_s=30), PostgresBroadcast(database)
        service = JobService(SqlJobStore(database), lambda job, control: {}, lambda error, job: {"code": "x"},
                             ttl_s=3600, max_queue=100_000, poll_s=0.5, workers=4, queue=queue, broadcast=broadcast)
        service.start()
        counter = iter(range(10**9))

        def new_job(counter=counter) -> NewJob:
            return NewJob(task="summary", options={}, input=b"", request_key=f"k{next(counter)}")

        time.sleep(2)  # the worker is up
        latencies = []
        for _ in range(50):
            started = time.monotonic()
            job = service.submit(new_job())
            service.wait(job.id, 30)
            latencies.append(time.monotonic() - started)
        started = time.monotonic()
        jobs = [service.submit(new_job()) for _ in range(args.jobs)]
        submitted = time.monotonic() - started
        for job in jobs:
            assert service.wait(job.id, 300).status == "succeeded"
        seconds = time.monotonic() - started
        results[engine] = {"jobs": args.jobs, "seconds": round(seconds, 2), "jobs_per_s": round(args.jobs / seconds, 1),
                           "submit_per_s": round(args.jobs / submitted, 1),
                           "latency_p50_ms": round(statistics.median(latencies) * 1000, 1),
                           "latency_p95_ms": round(sorted(latencies)[int(len(latencies) * 0.95)] * 1000, 1)}
        print(f"queue: {engine}: {results[engine]}", flush=True)
        service.close()
    results["added_latency_ms"] = round(results["postgres"]["latency_p50_ms"] - results["sqlite"]["latency_p50_ms"],
                                        1)
    return results


def phase_failover(postgres, folder, args) -> dict:
    results = []
    for timeout in args.worker_timeout:
        deployment = Deployment(postgres, folder, FAKE_SECONDS_PER_TOKEN="0.02", FAKE_N_CTX="512",
                                SUMMARY_READ_TOKENS="0", SLOTS="1", WORKER_TIMEOUT_S=str(timeout))
        try:
            api, = deployment.start("api")
            workers = deployment.start("worker", 2)
            response = requests.post(f"{api.url}/generate-summary?async=true",
                                     json={"text": document(20), "length": "short"}, timeout=60)
            job_id = response.json()["job_id"]
            with psycopg.connect(deployment.url) as connection:
                def owner(job_id: str = job_id) -> str | None:
                    return connection.execute("SELECT owner FROM jobs WHERE id = %s", (job_id,)).fetchone()[0]

                while owner() is None:
                    time.sleep(0.05)
                first = owner()
                victim = next(node for node in workers if node.process.pid == int(first.split(":")[1]))
                time.sleep(1)
                victim.process.kill()
                killed = time.monotonic()
                while owner() in (first, None):
                    time.sleep(0.05)
                again = time.monotonic() - killed
            job = api.finished_job(job_id, timeout=600)
            assert job["status"] == "succeeded", job
            results.append({"worker_timeout_s": timeout, "seconds_until_running_again": round(again, 2)})
            print(f"failover: WORKER_TIMEOUT_S={timeout}: running again {again:.2f} s after the kill", flush=True)
        finally:
            deployment.stop()
    return {"runs": results}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phases", default="map,queue,failover")
    parser.add_argument("--workers", default="1,2,4", type=lambda text: [int(part) for part in text.split(",")])
    parser.add_argument("--chunks", type=int, default=40)
    parser.add_argument("--seconds-per-token", type=float, default=0.005)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--worker-timeout", default="30,10",
                        type=lambda text: [float(part) for part in text.split(",")])
    args = parser.parse_args()
    print("reproduce: .venv/bin/python bench/cluster.py " + " ".join(sys.argv[1:]), flush=True)
    RESULTS.mkdir(exist_ok=True)
    postgres = PostgresServer(free_port())
    postgres.start()
    folder = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    try:
        for phase in args.phases.split(","):
            found = {"map": phase_map, "queue": phase_queue, "failover": phase_failover}[phase](postgres, folder, args)
            found["machine"] = f"{platform.machine()}, {len(os.sched_getaffinity(0))} cores"
            found["command"] = "bench/cluster.py " + " ".join(sys.argv[1:])
            (RESULTS / f"cluster-{phase}.json").write_text(json.dumps(found, indent=2) + "\n")
    finally:
        postgres.remove()


if __name__ == "__main__":
    main()
