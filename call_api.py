"""Command-line client of the document service.

    python call_api.py                          summarize the sample PDF and list its key points
    python call_api.py summary --text "..."     summarize a text given on the command line
    python call_api.py summary report.pdf       summarize a PDF, .txt or .md file (- reads text from stdin)
    python call_api.py points report.pdf --pages 1-5 --password x --count 7
    python call_api.py health
    python call_api.py summary report.pdf --async   start the work, print the job id, return at once
    python call_api.py job <id>                     show a job, waiting for it with a progress line

Long work shows a progress line (stage, chunk i of n, elapsed time); Ctrl-C offers to cancel the job.

Options: --url (default $API_URL or http://127.0.0.1:5000), --api-key (default $API_KEY), --json for the raw
answer, --timeout seconds.
Exit codes: 0 ok, 1 the service answered an error, 2 the service could not be reached or bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import time
from pathlib import Path

import requests

DEFAULT_URL = "http://127.0.0.1:5000"
SAMPLE = Path(__file__).resolve().parent / "samples" / "lighthouses.pdf"


class ClientError(Exception):
    """A failure to report in one line, with the exit code to use."""

    def __init__(self, message: str, exit_code: int):
        super().__init__(message)
        self.exit_code = exit_code


HEADERS: dict[str, str] = {}  # the API key, when there is one


def call(url: str, path: str, body: dict | None, timeout: float, upload: Path | None = None,
         method: str | None = None) -> dict:
    """POST JSON, or a form with a file, (or GET without either) and return the JSON answer, or raise ClientError."""
    try:
        if method is not None:
            response = requests.request(method, url.rstrip("/") + path, headers=HEADERS, timeout=timeout)
        elif upload is not None:
            fields = {key: str(value) for key, value in (body or {}).items() if value is not None}
            try:
                handle = upload.open("rb")
            except OSError as error:
                raise ClientError(f"cannot read {upload}: {error.strerror}", 2) from None
            with handle:
                response = requests.post(
                    url.rstrip("/") + path, data=fields, files={"file": (upload.name, handle)}, headers=HEADERS,
                    timeout=timeout,
                )
        elif body is None:
            response = requests.get(url.rstrip("/") + path, headers=HEADERS, timeout=timeout)
        else:
            response = requests.post(url.rstrip("/") + path, json=body, headers=HEADERS, timeout=timeout)
    except requests.ConnectionError:
        raise ClientError(
            f"cannot reach the service at {url}: is it running? (start it with: python3 manage.py serve)", 2
        ) from None
    except requests.Timeout:
        raise ClientError(f"the service at {url} did not answer within {timeout:.0f} s", 2) from None
    except requests.RequestException as error:
        raise ClientError(f"cannot call {url}: {type(error).__name__} (is the --url right?)", 2) from None
    try:
        answer = response.json()
    except ValueError:
        raise ClientError(f"the service answered HTTP {response.status_code} without JSON", 1) from None
    if not isinstance(answer, dict):
        raise ClientError(f"the service answered HTTP {response.status_code} with unexpected JSON", 1)
    if response.status_code >= 400 or "error" in answer:
        error = answer.get("error") if isinstance(answer.get("error"), dict) else {}
        code = error.get("code", f"http_{response.status_code}")
        raise ClientError(f"the service answered {response.status_code} {code}: {error.get('message', '')}", 1)
    return answer


def _read_input(args: argparse.Namespace) -> tuple[dict, Path | None]:
    """The request fields for the text, or the file to upload (PDF, .txt or .md: the service reads it)."""
    if args.text is not None:
        return {"text": args.text}, None
    if args.file == "-":
        return {"text": sys.stdin.read()}, None
    path = SAMPLE if args.file is None else Path(args.file)
    if not path.is_file():
        raise ClientError(f"cannot read {path}: no such file", 2)
    return {"pages": args.pages, "password": args.password}, path


def _footer(answer: dict) -> str:
    usage = answer.get("usage", {})
    parts = [
        f"model {answer.get('model')}",
        f"{answer.get('elapsed_ms', 0) / 1000:.1f} s",
        f"{usage.get('prompt_tokens', 0)} prompt + {usage.get('completion_tokens', 0)} output tokens",
        f"{answer.get('chunks', 1)} chunk(s)",
    ]
    if "pages" in answer:
        parts.append(f"{answer['pages']} page(s) read")
    return "(" + ", ".join(parts) + ")"


def show_summary(answer: dict) -> None:
    """Print a summary answer for people."""
    print(answer.get("summary", ""))
    _notes(answer)


def _notes(answer: dict) -> None:
    for warning in answer.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)
    print(_footer(answer), file=sys.stderr)


def show_points(answer: dict) -> None:
    """Print a key-points answer for people."""
    for number, point in enumerate(answer.get("points", []), start=1):
        pages = point.get("pages") or []
        cited = f" (page{'s' if len(pages) > 1 else ''} {', '.join(map(str, pages))})" if pages else ""
        print(f"{number}. {point['text']}{cited}")
    _notes(answer)


def _emit(args: argparse.Namespace, answer: dict, show) -> None:
    if args.json:
        print(json.dumps(answer, indent=2, ensure_ascii=False))
    else:
        show(answer)


def _progress_line(event: dict, started: float) -> str:
    stage = event.get("stage") or event.get("status", "")
    done, total = event.get("done", 0), event.get("total", 0)
    count = f" {done}/{total}" if total else ""
    bar = ""
    if total:
        filled = round(20 * done / total)
        bar = " [" + "#" * filled + "." * (20 - filled) + "]"
    return f"\r{stage}{count}{bar} {time.monotonic() - started:4.0f}s\033[K"


def follow(args: argparse.Namespace, job_id: str) -> dict:
    """Wait for a job, showing its progress on a terminal; returns the finished job."""
    started = time.monotonic()
    show = sys.stderr.isatty() and not args.json
    url = f"{args.url.rstrip('/')}/jobs/{job_id}/events"
    try:
        with requests.get(url, stream=True, headers=HEADERS, timeout=(10, 60)) as response:
            if response.status_code == 200:
                event = None
                for line in response.iter_lines(decode_unicode=True):
                    if line.startswith("event: "):
                        event = line[7:]
                    elif line.startswith("data: "):
                        data = json.loads(line[6:])
                        if event == "progress" and show:
                            print(_progress_line(data, started), end="", file=sys.stderr, flush=True)
                        elif event in ("result", "error") and "job_id" in data:
                            if show:
                                print(file=sys.stderr)
                            return data
    except (requests.RequestException, ValueError):
        pass  # fall back to long-polling below
    while True:
        job = call(args.url, f"/jobs/{job_id}?wait=30", None, args.timeout)
        if job["status"] not in ("queued", "running"):
            return job


def finish(args: argparse.Namespace, job: dict, show) -> None:
    """Print a finished job's result, or raise its error."""
    if job.get("status") == "succeeded":
        _emit(args, job["result"], show)
        return
    error = job.get("error") or {}
    raise ClientError(f"the job {job.get('status')}: {error.get('code', '')}: {error.get('message', '')}", 1)


def submit(args: argparse.Namespace, path: str, body: dict, upload: Path | None, show) -> None:
    """Start the work as a job; with --async print its id, else follow it to the end (Ctrl-C offers to cancel)."""
    job = call(args.url, path + "?async=true", body, args.timeout, upload)
    if args.run_async:
        if args.json:
            print(json.dumps(job, indent=2))
        else:
            print(f"job {job['job_id']} {job['status']}: python call_api.py job {job['job_id']}")
        return
    try:
        finished = follow(args, job["job_id"])
    except KeyboardInterrupt:
        print(file=sys.stderr)
        if sys.stdin.isatty() and input(f"Cancel job {job['job_id']} on the server? [y/N] ").strip().lower() == "y":
            call(args.url, f"/jobs/{job['job_id']}", None, args.timeout, method="DELETE")
            print("cancelled", file=sys.stderr)
        else:
            print(f"the job goes on; see it with: python call_api.py job {job['job_id']}", file=sys.stderr)
        raise
    finish(args, finished, show)


def run(args: argparse.Namespace) -> None:
    """Carry out one command."""
    common = {"temperature": args.temperature} if args.temperature is not None else {}
    if args.command == "health":
        _emit(args, call(args.url, "/health", None, args.timeout), lambda a: print(json.dumps(a, indent=2)))
        return
    if args.command == "job":
        if not args.file:
            raise ClientError("give the job id: python call_api.py job <id>", 2)
        job = call(args.url, f"/jobs/{args.file}", None, args.timeout)
        if job["status"] in ("queued", "running"):
            job = follow(args, args.file)
        finish(args, job, show_points if job.get("task") == "points" else show_summary)
        return
    source, upload = _read_input(args)
    if upload is None and (args.pages or args.password):
        raise ClientError("--pages and --password apply only to a PDF file", 2)
    source = {key: value for key, value in source.items() if value is not None}
    if args.command in ("summary", "both"):
        body = {**source, "length": args.length, "max_tokens": args.max_tokens, **common}
        body = {key: value for key, value in body.items() if value is not None}
        if args.command == "both":
            print("Summary:\n", file=sys.stderr if args.json else sys.stdout)
        submit(args, "/generate-summary", body, upload, show_summary)
    if args.command in ("points", "both"):
        if args.command == "both":
            print("\nKey points:\n", file=sys.stderr if args.json else sys.stdout)
        body = {**source, "count": args.count, **common}
        submit(args, "/generate-points", body, upload, show_points)


def build_parser() -> argparse.ArgumentParser:
    """The command line: a command, an input, and options."""
    parser = argparse.ArgumentParser(
        description="Summarize documents and list their key points with the local document service.",
        epilog="With no command: summarize the sample PDF and list its key points.",
    )
    parser.add_argument("command", nargs="?", default="both", choices=["summary", "points", "both", "health", "job"])
    parser.add_argument("file", nargs="?",
                        help="a PDF, text or Markdown file (- reads text from standard input); for job: the job id")
    parser.add_argument("--text", help="the text itself, instead of a file")
    parser.add_argument("--url", default=os.environ.get("API_URL", DEFAULT_URL), help="the service's address")
    parser.add_argument("--length", default="medium", choices=["short", "medium", "long"], help="summary length")
    parser.add_argument("--max-tokens", type=int, help="cap on the summary's tokens")
    parser.add_argument("--count", type=int, default=5, help="how many key points (1 to 20)")
    parser.add_argument("--pages", help="pages of the PDF to read, e.g. 1-3,7")
    parser.add_argument("--password", help="the PDF's password")
    parser.add_argument("--temperature", type=float, help="sampling temperature, 0 to 2 (default 0)")
    parser.add_argument("--json", action="store_true", help="print the service's JSON answer as it is")
    parser.add_argument("--async", dest="run_async", action="store_true",
                        help="start the work as a job, print its id and return")
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for an answer")
    parser.add_argument("--api-key", default=os.environ.get("API_KEY"), help="the server's API key (default: $API_KEY)")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the client; returns the exit code."""
    # Ctrl-C must reach us even when started from a shell that ignores SIGINT for background commands.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    args = build_parser().parse_args(argv)
    if args.api_key:
        HEADERS["Authorization"] = f"Bearer {args.api_key}"
    if args.text is not None and args.file is not None:
        print("error: give a file or --text, not both", file=sys.stderr)
        return 2
    try:
        run(args)
    except ClientError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
