"""Many clients at once against a real gunicorn server: errors, latency, throughput, and the queue limit.

    .venv/bin/python bench/load.py [--clients 16] [--requests 25] [--mix-clients 8] [--mix-requests 4]
                                   [--overflow 40] [--max-queue 8] [--url http://host:port]

Without --url it starts `gunicorn -c gunicorn.conf.py 'api:create_app()'` itself on a free port with a fresh
DATA_DIR and the bundled model. Phases:

1. short: CLIENTS threads each send REQUESTS short synchronous requests (summaries and key points of distinct
   two-sentence texts, so no answer comes from the result cache); a 202 hand-over is followed to the end.
2. mix: MIX-CLIENTS threads send PDFs (the bundled sample, the shared real-world PDFs) and longer texts.
3. overflow: a second server with MAX_QUEUE=MAX-QUEUE gets OVERFLOW async requests at once; every answer must
   be 202 or 503 with Retry-After, and none may hang.
4. ttft (only when named in --phases): TTFT short summaries one after another, followed through their event
   streams: time to the first streamed words (the summary's first checked sentence) and to the result.
5. streams (only when named in --phases): STREAMS clients follow one long job's event stream on one gunicorn
   worker; /health's latency (p50, p95, max of 50 probes) and a new request's meanwhile.
6. engines (only when named in --phases): each of --engines (ours:SLOTS, llama-server:SLOTS, the latter from the
   bench-only xllamacpp wheel) serves CLIENTS clients on two workloads through /v1/chat/completions, streamed:
   short summaries of ~900-character texts (120 tokens out) and a one-line prompt (200 tokens out), temperature 0,
   the same repeat penalty. Requests/min, completion tokens/s, p50/p95 and time to first token.

    .venv/bin/python bench/load.py --phases engines --engines ours:1,ours:4,ours:8,llama-server:8

Latency is from sending a request to holding its final result. Writes bench/results/load-<phase>.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
SHARED_PDFS = ROOT.parent / "shared" / "pdfs"
REQUEST_TIMEOUT_S = 600


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """The production server command on a free port, with its own data folder."""

    def __init__(self, **settings: str):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PORT": str(self.port), "DATA_DIR": tempfile.mkdtemp(prefix="load-data-"), **settings}
        self.log = open(tempfile.mktemp(prefix="load-gunicorn-", suffix=".log"), "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "api:create_app()"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def wait_until_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except requests.ConnectionError:
                pass
            time.sleep(0.3)
        raise SystemExit(f"server not ready; see {self.log.name}")

    def worker_peak_rss_mb(self) -> float | None:
        """Peak resident memory of the worker process (model loaded), from /proc (Linux)."""
        try:
            children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
            status = Path(f"/proc/{children[0]}/status").read_text()
        except (OSError, IndexError):
            return None
        kilobytes = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:"))
        return round(kilobytes / 1024, 1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)
        self.log.close()


def _texts(count: int, seed: str) -> list[str]:
    return [
        f"The {seed} tower number {n} was lit in {1800 + n % 200}. Its keeper, K{n}, kept the lamp burning "
        f"through {n % 12 + 1} winter storms."
        for n in range(count)
    ]


def _finish(url: str, response: requests.Response) -> requests.Response:
    """A synchronous request that ran past SYNC_TIMEOUT_S answers 202: follow the job to its end."""
    while response.status_code == 202:
        location = response.headers["Location"]
        response = requests.get(f"{url}{location}?wait=60", timeout=REQUEST_TIMEOUT_S)
        job = response.json()
        if job["status"] in ("queued", "running"):
            response.status_code = 202
            response.headers["Location"] = location
        elif job["status"] != "succeeded":
            response.status_code = 500
    return response


def _timed(url: str, send) -> dict:
    started = time.monotonic()
    try:
        response = _finish(url, send())
        status = response.status_code
        error = None if status == 200 else response.text[:200]
    except requests.RequestException as failure:
        status, error = 0, f"{type(failure).__name__}: {failure}"
    return {"status": status, "seconds": time.monotonic() - started, "error": error}


def _short_request(url: str, text: str, number: int):
    if number % 2:
        return lambda: requests.post(f"{url}/generate-points", json={"text": text, "count": 2},
                                     timeout=REQUEST_TIMEOUT_S)
    return lambda: requests.post(f"{url}/generate-summary", json={"text": text, "length": "short"},
                                 timeout=REQUEST_TIMEOUT_S)


def _mix_requests(url: str, count: int) -> list:
    """PDF uploads and longer texts, round robin."""
    pdfs = [(ROOT / "samples" / "lighthouses.pdf", None)]
    shared = (("multipage.pdf", None), ("reportlab-userguide.pdf", "5-7"), ("reportlab-userguide.pdf", "40-41"))
    for name, pages in shared:
        if (SHARED_PDFS / name).exists():
            pdfs.append((SHARED_PDFS / name, pages))
    long_text = (ROOT / "samples" / "lighthouses.txt").read_text(encoding="utf-8")
    made = []
    for number in range(count):
        kind = number % (len(pdfs) + 1)
        if kind == len(pdfs):
            text = long_text.replace("lighthouse", f"lighthouse {number}")
            made.append(lambda text=text: requests.post(f"{url}/generate-summary",
                                                         json={"text": text, "length": "short"},
                                                         timeout=REQUEST_TIMEOUT_S))
            continue
        path, pages = pdfs[kind]
        endpoint = "/generate-points" if number % 2 else "/generate-summary"
        form = {"count": "3"} if number % 2 else {"length": "short"}
        form.update({"pages": pages} if pages else {})
        # Vary the request (temperature 0 vs a distinct seed-free option) so the cache does not answer it.
        form["temperature"] = f"{(number % 7) / 100:.2f}"
        made.append(lambda path=path, endpoint=endpoint, form=form: requests.post(
            f"{url}{endpoint}", data=form, files={"file": (path.name, path.read_bytes(), "application/pdf")},
            timeout=REQUEST_TIMEOUT_S))
    return made


def _model_seconds(url: str) -> float:
    """Sum of model call durations so far, from /metrics."""
    for line in requests.get(f"{url}/metrics", timeout=10).text.splitlines():
        if line.startswith("docservice_model_call_duration_seconds_sum"):
            return float(line.split()[-1])
    return 0.0


def _probe_health(url: str, done: threading.Event, seconds: list[float]) -> None:
    """GET /health once a second while the clients run: the service must stay responsive under load."""
    while not done.wait(1.0):
        started = time.monotonic()
        with contextlib.suppress(requests.RequestException):
            requests.get(f"{url}/health", timeout=30)
        seconds.append(time.monotonic() - started)


def _run_clients(url: str, clients: int, per_client: list[list]) -> dict:
    model_before = _model_seconds(url)
    started = time.monotonic()
    done, health_seconds = threading.Event(), []
    probe = threading.Thread(target=_probe_health, args=(url, done, health_seconds))
    probe.start()

    def client(sends):
        return [_timed(url, send) for send in sends]

    with ThreadPoolExecutor(clients) as pool:
        results = [result for batch in pool.map(client, per_client) for result in batch]
    wall = time.monotonic() - started
    done.set()
    probe.join()
    model_busy = _model_seconds(url) - model_before
    latencies = sorted(result["seconds"] for result in results)
    errors = [result for result in results if result["status"] != 200]
    return {
        "clients": clients, "requests": len(results), "errors": len(errors),
        "error_samples": [f"{e['status']} {e['error']}" for e in errors[:5]],
        "p50_s": round(statistics.median(latencies), 2),
        "p95_s": round(latencies[max(0, int(0.95 * len(latencies)) - 1)], 2),
        "max_s": round(latencies[-1], 2), "wall_s": round(wall, 1),
        "throughput_per_min": round(60 * len(results) / wall, 1),
        # One model, calls serialized: the model's busy time can never exceed the wall-clock time.
        "model_busy_s": round(model_busy, 1), "model_busy_share": round(model_busy / wall, 3),
        "health_probes": len(health_seconds), "health_max_s": round(max(health_seconds, default=0), 3),
    }


def short_phase(url: str, clients: int, requests_each: int) -> dict:
    texts = _texts(clients * requests_each, seed=f"short{time.time_ns()}")
    per_client = [
        [_short_request(url, texts[c * requests_each + n], c * requests_each + n) for n in range(requests_each)]
        for c in range(clients)
    ]
    return _run_clients(url, clients, per_client)


def mix_phase(url: str, clients: int, requests_each: int) -> dict:
    sends = _mix_requests(url, clients * requests_each)
    return _run_clients(url, clients, [sends[c::clients] for c in range(clients)])


def _first_words(url: str, text: str) -> dict:
    """One short summary followed through its event stream: seconds to its first streamed words and to its result."""
    started = time.monotonic()
    job = requests.post(f"{url}/generate-summary?async=true", json={"text": text, "length": "short"},
                        timeout=REQUEST_TIMEOUT_S).json()
    first = None
    with requests.get(f"{url}/jobs/{job['job_id']}/events", stream=True, timeout=REQUEST_TIMEOUT_S) as events:
        name = None
        for line in events.iter_lines(decode_unicode=True):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and name == "delta" and first is None:
                first = time.monotonic() - started
            elif line.startswith("data: ") and name in ("result", "error"):
                return {"ok": name == "result", "first_s": first, "seconds": time.monotonic() - started}
    return {"ok": False, "first_s": first, "seconds": time.monotonic() - started}


def ttft_phase(url: str, count: int) -> dict:
    """Short summaries one after another on an idle server: time to the first streamed words and to the result."""
    runs = [_first_words(url, text) for text in _texts(count, seed=f"ttft{time.time_ns()}")]
    firsts = sorted(run["first_s"] for run in runs if run["first_s"] is not None) or [0.0]
    totals = sorted(run["seconds"] for run in runs)
    return {"requests": count, "errors": sum(not run["ok"] for run in runs),
            "first_words_p50_s": round(statistics.median(firsts), 2), "first_words_max_s": round(firsts[-1], 2),
            "result_p50_s": round(statistics.median(totals), 2), "result_max_s": round(totals[-1], 2)}


def overflow_phase(count: int, max_queue: int) -> dict:
    server = Gunicorn(MAX_QUEUE=str(max_queue))
    try:
        server.wait_until_ready()
        texts = _texts(count, seed=f"overflow{time.time_ns()}")
        barrier = threading.Barrier(count)

        def send(text):
            barrier.wait()
            started = time.monotonic()
            response = requests.post(f"{server.url}/generate-summary?async=true", json={"text": text}, timeout=60)
            return response.status_code, response.headers.get("Retry-After"), time.monotonic() - started, (
                response.json().get("job_id"))

        with ThreadPoolExecutor(count) as pool:
            answers = list(pool.map(send, texts))
        statuses = [status for status, *_ in answers]
        for _, _, _, job_id in answers:  # the accepted ones need not run: cancel them
            if job_id:
                requests.delete(f"{server.url}/jobs/{job_id}", timeout=10)
        return {
            "max_queue": max_queue, "sent": count, "accepted_202": statuses.count(202),
            "refused_503": statuses.count(503), "other": len([s for s in statuses if s not in (202, 503)]),
            "refused_with_retry_after": sum(1 for status, retry, *_ in answers if status == 503 and retry),
            "slowest_answer_s": round(max(seconds for _, _, seconds, _ in answers), 2),
        }
    finally:
        server.stop()


LLAMA_SERVER_FLASH_ATTN = {"off": 0, "on": 1, "auto": -1}  # llama.cpp's enum llama_flash_attn_type


class LlamaServer:
    """llama.cpp's own server (the xllamacpp wheel embeds it, a bench-only dependency) in a process of its own, on the
    bundled GGUF: the engine ours is measured against."""

    def __init__(self, slots: int, n_ctx: int, threads: int, flash_attn: str = "auto"):
        sys.path.insert(0, str(ROOT))
        from llm.source import resolve
        from settings import load_settings

        model_path = resolve(load_settings()).path  # the bundled model, as the service finds it
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        code = (
            "import signal, xllamacpp as x\n"
            f"p = x.CommonParams(); p.model.path = {str(model_path)!r}; p.n_parallel = {slots}\n"
            f"p.n_ctx = {slots * n_ctx}; p.cpuparams.n_threads = {threads}; p.cpuparams_batch.n_threads = {threads}\n"
            f"p.flash_attn_type = {LLAMA_SERVER_FLASH_ATTN[flash_attn]}\n"
            f"p.port = {self.port}; server = x.Server(p); print(server.listening_address, flush=True); signal.pause()\n"
        )
        self.log = open(tempfile.mktemp(prefix="load-llama-server-", suffix=".log"), "wb")  # noqa: SIM115
        self.process = subprocess.Popen([sys.executable, "-c", code], stdout=self.log, stderr=subprocess.STDOUT)

    def wait_until_ready(self, timeout: float = 120) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(requests.ConnectionError):
                if requests.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            time.sleep(0.3)
        raise SystemExit(f"llama-server not ready; see {self.log.name}")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)
        self.log.close()


# The two workloads, the same prompts and caps for every engine: a short summary of a ~900-character text
# (120 tokens out), and generation-heavy requests (a one-line prompt, 200 tokens out).
WORKLOADS = {"summary": 120, "generate": 200}


def _chat_body(workload: str, number: int, model: str) -> dict:
    if workload == "summary":
        text = " ".join(_texts(6, seed=f"summary{number}-{time.time_ns()}"))[:900]
        prompt = f"Summarize this text in two sentences.\n\n{text}"
    else:
        prompt = f"Write a long story about lighthouse keeper number {number} and the storm of {1800 + number}."
    # Temperature 0 and the same repeat penalty on both servers (llama-server's default is none): the same work.
    return {"model": model, "messages": [{"role": "user", "content": prompt}], "max_tokens": WORKLOADS[workload],
            "temperature": 0, "repeat_penalty": 1.1, "stream": True, "stream_options": {"include_usage": True}}


def _streamed_chat(url: str, body: dict) -> dict:
    """One streamed chat completion: time to its first token, its whole time, its tokens."""
    started = time.monotonic()
    first = None
    tokens = 0
    try:
        with requests.post(f"{url}/v1/chat/completions", json=body, stream=True, timeout=REQUEST_TIMEOUT_S) as answer:
            if answer.status_code != 200:
                return {"status": answer.status_code, "error": answer.text[:200], "seconds": 0, "ttft": None}
            for line in answer.iter_lines():
                if not line.startswith(b"data: {"):
                    continue
                chunk = json.loads(line[6:])
                choices = chunk.get("choices") or []
                if first is None and choices and (choices[0].get("delta") or {}).get("content"):
                    first = time.monotonic() - started
                if chunk.get("usage"):
                    tokens = chunk["usage"]["completion_tokens"]
    except requests.RequestException as failure:
        return {"status": 0, "error": str(failure), "seconds": 0, "ttft": None}
    return {"status": 200, "error": None, "seconds": time.monotonic() - started, "ttft": first, "tokens": tokens}


def _chat_load(url: str, model: str, workload: str, clients: int, requests_each: int) -> dict:
    started = time.monotonic()

    def client(number: int) -> list[dict]:
        return [_streamed_chat(url, _chat_body(workload, number * requests_each + n, model))
                for n in range(requests_each)]

    with ThreadPoolExecutor(clients) as pool:
        results = [result for batch in pool.map(client, range(clients)) for result in batch]
    wall = time.monotonic() - started
    good = [result for result in results if result["status"] == 200]
    latencies = sorted(result["seconds"] for result in good) or [0.0]
    firsts = sorted(result["ttft"] for result in good if result["ttft"] is not None) or [0.0]
    return {
        "workload": workload, "clients": clients, "requests": len(results), "errors": len(results) - len(good),
        "error_samples": [result["error"] for result in results if result["status"] != 200][:3],
        "requests_per_min": round(60 * len(good) / wall, 1),
        "tokens_per_s": round(sum(result.get("tokens", 0) for result in good) / wall, 1),
        "p50_s": round(statistics.median(latencies), 2), "p95_s": round(latencies[int(0.95 * (len(latencies) - 1))], 2),
        "ttft_p50_s": round(statistics.median(firsts), 2), "wall_s": round(wall, 1),
    }


def engines_phase(engines: list[str], clients: int, requests_each: int, n_ctx: int, threads: int,
                  flash_attn: str, server_flash_attn: str) -> list[dict]:
    """Each engine (ours:SLOTS or llama-server:SLOTS) on both workloads through /v1/chat/completions, one after
    another on this machine."""
    results = []
    for engine in engines:
        kind, _, slots_text = engine.partition(":")
        slots = int(slots_text or 1)
        if kind == "ours":
            server = Gunicorn(SLOTS=str(slots), N_CTX=str(n_ctx), N_THREADS=str(threads), FLASH_ATTN=flash_attn)
        elif kind == "llama-server":
            server = LlamaServer(slots, n_ctx, threads, server_flash_attn)
        else:
            raise SystemExit(f"unknown engine {engine!r} (ours:N or llama-server:N)")
        try:
            server.wait_until_ready()
            model = "smollm2-135m-instruct"
            _chat_load(server.url, model, "generate", 2, 1)  # warm-up: first calls pay for page faults
            for workload in WORKLOADS:
                measured = _chat_load(server.url, model, workload, clients, requests_each)
                setting = ({"flash_attn": flash_attn} if kind == "ours" and slots > 1 else
                           {"flash_attn": server_flash_attn} if kind == "llama-server" else {})
                result = {"engine": kind, "slots": slots, **setting, **measured}
                print(json.dumps(result), flush=True)
                results.append(result)
        finally:
            server.stop()
    return results


def _open_event_stream(port: int, job_id: str) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port), timeout=60)
    connection.sendall(f"GET /jobs/{job_id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += connection.recv(4096)
    if not head.startswith(b"HTTP/1.1 200"):
        raise SystemExit(f"stream refused: {head[:200]!r}")
    return connection


def streams_phase(count: int) -> dict:
    """COUNT clients follow a long job's event stream on one worker (gunicorn's gevent worker, the default):
    /health and a new request's latency meanwhile."""
    server = Gunicorn(MAX_WAITING=str(count + 10))
    streams: list[socket.socket] = []
    try:
        server.wait_until_ready()
        text = (ROOT / "samples" / "lighthouses.txt").read_text(encoding="utf-8")
        job = requests.post(f"{server.url}/generate-summary?async=true", timeout=30,
                            json={"text": "\n\n".join([text] * 20), "length": "long"}).json()
        started = time.monotonic()
        with ThreadPoolExecutor(32) as pool:
            streams = list(pool.map(lambda _: _open_event_stream(server.port, job["job_id"]), range(count)))
        opened_s = time.monotonic() - started
        health = []
        for _ in range(50):
            began = time.monotonic()
            requests.get(f"{server.url}/health", timeout=30).raise_for_status()
            health.append(time.monotonic() - began)
            time.sleep(0.05)
        began = time.monotonic()
        requests.get(f"{server.url}/jobs?limit=5", timeout=30).raise_for_status()
        new_request_s = time.monotonic() - began
        status = requests.get(f"{server.url}/jobs/{job['job_id']}", timeout=30).json()["status"]
        requests.delete(f"{server.url}/jobs/{job['job_id']}", timeout=30)
        health.sort()
        return {"streams": count, "job_status_meanwhile": status, "open_all_s": round(opened_s, 2),
                "health_p50_ms": round(1000 * statistics.median(health), 1),
                "health_p95_ms": round(1000 * health[int(0.95 * (len(health) - 1))], 1),
                "health_max_ms": round(1000 * health[-1], 1), "new_request_ms": round(1000 * new_request_s, 1)}
    finally:
        for stream in streams:
            stream.close()
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=25, help="short requests per client")
    parser.add_argument("--mix-clients", type=int, default=8)
    parser.add_argument("--mix-requests", type=int, default=4, help="PDF/long requests per mix client")
    parser.add_argument("--overflow", type=int, default=40, help="async requests sent at once in phase 3")
    parser.add_argument("--max-queue", type=int, default=8, help="MAX_QUEUE of the phase-3 server")
    parser.add_argument("--phases", default="short,mix,overflow")
    parser.add_argument("--url", help="an already running server (phases short and mix only)")
    parser.add_argument("--slots", type=int, default=None, help="SLOTS of the server the short and mix phases start")
    parser.add_argument("--streams", type=int, default=1000, help="phase streams: event streams held open")
    parser.add_argument("--ttft", type=int, default=10, help="phase ttft: short summaries, one at a time")
    parser.add_argument("--engines", default="ours:1,ours:4,ours:8,llama-server:8",
                        help="phase engines: which servers, as ours:SLOTS or llama-server:SLOTS")
    parser.add_argument("--engine-requests", type=int, default=3, help="phase engines: requests per client")
    parser.add_argument("--n-ctx", type=int, default=2048, help="phase engines: context of each slot")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2, help="phase engines: CPU threads")
    parser.add_argument("--flash-attn", default="off", choices=["off", "on", "auto"],
                        help="phase engines: FLASH_ATTN of our servers with several slots")
    parser.add_argument("--server-flash-attn", default="auto", choices=list(LLAMA_SERVER_FLASH_ATTN),
                        help="phase engines: llama-server's flash attention (auto: its default)")
    args = parser.parse_args()
    phases = args.phases.split(",")
    command = "bench/load.py " + " ".join(sys.argv[1:])
    print(f"# {command}\n# {platform.platform()}, {os.cpu_count()} CPUs, python {platform.python_version()}",
          flush=True)

    RESULTS.mkdir(parents=True, exist_ok=True)
    server = None
    url = args.url
    if url is None and {"short", "mix", "ttft"} & set(phases):
        server = Gunicorn(**({"SLOTS": str(args.slots)} if args.slots else {}))
        server.wait_until_ready()
        url = server.url
    try:
        for phase in phases:
            if phase == "short":
                result = short_phase(url, args.clients, args.requests)
            elif phase == "mix":
                result = mix_phase(url, args.mix_clients, args.mix_requests)
            elif phase == "overflow":
                result = overflow_phase(args.overflow, args.max_queue)
            elif phase == "ttft":
                result = ttft_phase(url, args.ttft)
            elif phase == "streams":
                result = streams_phase(args.streams)
            elif phase == "engines":
                result = {"runs": engines_phase(args.engines.split(","), args.clients, args.engine_requests,
                                                args.n_ctx, args.threads, args.flash_attn,
                                                args.server_flash_attn)}
            else:
                raise SystemExit(f"unknown phase {phase!r}")
            result = {"phase": phase, "command": command, **result}
            if server is not None and phase in ("short", "mix", "ttft"):
                result["worker_peak_rss_mb"] = server.worker_peak_rss_mb()
                result["slots"] = requests.get(f"{url}/health", timeout=10).json()["model"]["slots"]
            print(json.dumps(result), flush=True)
            served = args.slots and phase in ("short", "mix", "ttft")  # a server with SLOTS named: its own file
            named = f"load-{phase}" + (f"-slots{args.slots}" if served else "")
            (RESULTS / f"{named}.json").write_text(json.dumps(result, indent=2) + "\n")
    finally:
        if server is not None:
            server.stop()


if __name__ == "__main__":
    main()
