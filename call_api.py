"""Command-line client of the document service.

    python call_api.py                          summarize the sample PDF and list its key points
    python call_api.py summary --text "..."     summarize a text given on the command line
    python call_api.py summary report.pdf       summarize a PDF, .txt, .md, .html or .docx file (- reads stdin)
    python call_api.py points report.pdf --pages 1-5 --password x --count 7
    python call_api.py health
    python call_api.py summary report.pdf --async   start the work, print the job id, return at once
    python call_api.py job <id>                     show a job, waiting for it with a progress line
    python call_api.py add report.pdf --title "Q3"  store a document in the library (or add --text "...")
    python call_api.py docs --query harbour         list the stored documents (id, date, pages, title)
    python call_api.py ask report.pdf "question"    ask a file (stored first) or a document id; prints the quotes
    python call_api.py ask --collection NAME "question"
    python call_api.py summary --document <id>      summarize (or list the points of) a stored document

Long work shows a progress line (stage, chunk i of n, elapsed time); Ctrl-C offers to cancel the job.

Options: --url (default $API_URL or http://127.0.0.1:5000), --api-key (default $API_KEY), --json for the raw
answer, --timeout seconds.
Exit codes: 0 ok (also when the documents do not answer a question: the answer says so), 1 the service answered
an error, 2 the service could not be reached or bad usage.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, urlencode

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
    """The request fields for the text, or the file to upload (PDF, .txt, .md, .html or .docx: the service reads it)."""
    if args.text is not None:
        return {"text": args.text}, None
    if args.file == "-":
        return {"text": sys.stdin.read()}, None
    if args.file is None and args.command == "add":
        raise ClientError("give the file to store, or --text", 2)
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
    ]
    if "chunks" in answer:  # answers to questions have none
        parts.append(f"{answer['chunks']} chunk(s)")
    if "pages" in answer:
        parts.append(f"{answer['pages']} page(s) read")
    return "(" + ", ".join(parts) + ")"


def show_summary(answer: dict, printed: str = "") -> None:
    """Print a summary answer for people (its text unless it was printed as it came)."""
    if answer.get("summary", "") != printed:
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


def show_messages(answer: dict, printed: str = "") -> None:
    """Print the messages of a message answer for people, each with the points it leaves out (only that for the
    messages printed as they came)."""
    points = answer.get("points", [])
    for number, message in enumerate(answer.get("messages", []), start=1):
        missing = message.get("missing", [])
        covers = f"covers {len(message.get('covered', []))} of {len(points)} points"
        if missing:
            covers += "; leaves out: " + "; ".join(points[index] for index in missing)
        if f"Subject: {message['subject']}\n\n{message['body']}" in printed:
            print(f"--- Message {number} {covers}")
        else:
            print(f"--- Message {number} ({covers})\nSubject: {message['subject']}\n\n{message['body']}\n")
    _notes(answer)


def show_audio(answer: dict) -> None:
    """Print where an audio job's audio is, for people (fetch it with curl --output)."""
    print(f"{answer['duration_s']:.0f} s of {answer['format']} audio ({answer['bytes']:,} bytes, voice "
          f"{answer['voice']}): GET {answer['audio_url']}")
    for warning in answer.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)


def message(args: argparse.Namespace, common: dict) -> None:
    """The message command: messages written from the points given (or a stored document's key points)."""
    points = [point for point in (args.file, args.question, *args.more) if point is not None]
    if args.document is not None and points:
        raise ClientError("give the points or --document, not both", 2)
    if args.document is None and not points:
        raise ClientError('give the points: python call_api.py message "point one" "point two" [--to ...]', 2)
    body = {"points": points or None, "document_id": args.document, "sender": args.sender,
            "recipient": args.recipient, "purpose": args.purpose, "tone": args.tone, "n": args.n,
            "max_tokens": args.max_tokens, **common}
    _submit_and_emit(args, "/generate-message", {key: value for key, value in body.items() if value is not None},
                     None, show_messages)


def _date(moment: str) -> str:
    try:
        return datetime.fromisoformat(moment).astimezone().strftime("%Y-%m-%d %H:%M")
    except (TypeError, ValueError):
        return str(moment)


def show_documents(listing: dict) -> None:
    """Print a page of the library for people: id first, so that it can be copied into ask or summary."""
    documents = listing.get("documents", [])
    for document in documents:
        print(f"{document['document_id']}  {_date(document.get('created_at'))}  {document.get('pages', 0):4} p.  "
              f"{document.get('title', '')}")
    if not documents:
        print("no documents" + (" match" if listing.get("query") else ""), file=sys.stderr)
    elif listing.get("next"):
        print(f"(more documents: raise --limit above {listing.get('limit')} to see them)", file=sys.stderr)


def show_document(document: dict) -> None:
    """Print a stored document for people: what storing it gave."""
    status = "Stored" if document.get("created", True) else "Already stored"
    ocr = document.get("ocr_pages") or []
    read_with_ocr = f", OCR on page(s) {', '.join(map(str, ocr))}" if ocr else ""
    print(f"{status}: {document['document_id']}  {document.get('title', '')}  "
          f"({document.get('pages', 0)} page(s){read_with_ocr})")
    for warning in document.get("warnings", []):
        print(f"warning: {warning}", file=sys.stderr)


def show_answer(answer: dict, titles: dict[str, str] | None = None, printed: str = "") -> None:
    """Print an answer for people (unless it was printed as it came), then its quotes (with their documents'
    titles when titles are given)."""
    if answer.get("answer", "") != printed:
        print(answer.get("answer", ""))
    if not answer.get("answered", True):
        print("Not answered from the documents.")
    citations = answer.get("citations", [])
    if citations:
        print()
    for citation in citations:
        document = f"{titles.get(citation['document_id'], citation['document_id'])}, " if titles else ""
        print(f"  {document}p. {citation['page']}  “{citation['quote']}”")
    _notes(answer)


def document_titles(args: argparse.Namespace, answer: dict) -> dict[str, str]:
    """The titles of the documents an answer quotes (the id where one cannot be had, e.g. deleted since)."""
    titles = {}
    for document_id in dict.fromkeys(citation["document_id"] for citation in answer.get("citations", [])):
        try:
            titles[document_id] = call(args.url, f"/documents/{quote(document_id)}", None, args.timeout)["title"]
        except (ClientError, KeyError):
            titles[document_id] = document_id
    return titles


def _emit(args: argparse.Namespace, answer: dict, show) -> None:
    if args.json:
        print(json.dumps(answer, indent=2, ensure_ascii=False))
    elif getattr(args, "printed", ""):  # the answer's text, printed as it came: show says the rest
        show(answer, printed=args.printed)
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
    """Wait for a job, showing its progress on a terminal, and on a terminal printing its text as it comes
    (args.printed keeps what was printed, so that it is not printed twice); returns the finished job."""
    started = time.monotonic()
    show = sys.stderr.isatty() and not args.json
    live = sys.stdout.isatty() and not args.json
    args.printed = ""
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
                        if event == "progress" and show and not args.printed:
                            print(_progress_line(data, started), end="", file=sys.stderr, flush=True)
                        elif event == "delta" and live and data.get("offset") == len(args.printed):
                            if show and not args.printed:
                                print("\r\033[K", end="", file=sys.stderr)  # the text takes the progress line's place
                            print(data["text"], end="", flush=True)
                            args.printed += data["text"]
                        elif event in ("result", "error") and "job_id" in data:
                            if args.printed:
                                print()
                            elif show:
                                print(file=sys.stderr)
                            return data
    except (requests.RequestException, ValueError):
        pass  # fall back to long-polling below
    while True:
        job = call(args.url, f"/jobs/{job_id}?wait=30", None, args.timeout)
        if job["status"] not in ("queued", "running"):
            return job


def job_result(job: dict) -> dict:
    """A finished job's result, or raise its error."""
    if job.get("status") == "succeeded":
        return job["result"]
    error = job.get("error") or {}
    raise ClientError(f"the job {job.get('status')}: {error.get('code', '')}: {error.get('message', '')}", 1)


def wait_for(args: argparse.Namespace, job_id: str) -> dict:
    """Follow a job to its end and return its result; Ctrl-C offers to cancel it."""
    try:
        finished = follow(args, job_id)
    except KeyboardInterrupt:
        print(file=sys.stderr)
        if sys.stdin.isatty() and input(f"Cancel job {job_id} on the server? [y/N] ").strip().lower() == "y":
            call(args.url, f"/jobs/{job_id}", None, args.timeout, method="DELETE")
            print("cancelled", file=sys.stderr)
        else:
            print(f"the job goes on; see it with: python call_api.py job {job_id}", file=sys.stderr)
        raise
    return job_result(finished)


def submit(args: argparse.Namespace, path: str, body: dict, upload: Path | None = None, *,
           run_async: bool | None = None) -> dict | None:
    """Start the work as a job and return its result, following the job (always async, so that long work shows
    progress); with --async (or run_async) print the job and return None instead."""
    answer = call(args.url, path + "?async=true", body, args.timeout, upload)
    if "job_id" not in answer:  # no job needed: the library already had this document
        return answer
    if args.run_async if run_async is None else run_async:
        if args.json:
            print(json.dumps(answer, indent=2))
        else:
            print(f"job {answer['job_id']} {answer['status']}: python call_api.py job {answer['job_id']}")
        return None
    return wait_for(args, answer["job_id"])


def _submit_and_emit(args: argparse.Namespace, path: str, body: dict, upload: Path | None, show) -> None:
    answer = submit(args, path, body, upload)
    if answer is not None:
        _emit(args, answer, show)


def list_documents(args: argparse.Namespace) -> None:
    """The docs command: a page of the library, newest first."""
    query = {key: value for key, value in (("limit", args.limit), ("q", args.query)) if value is not None}
    listing = call(args.url, "/documents" + (f"?{urlencode(query)}" if query else ""), None, args.timeout)
    _emit(args, listing, lambda answer: show_documents({**answer, "query": args.query}))


def store(args: argparse.Namespace, *, run_async: bool | None = None) -> dict | None:
    """Store the file (or --text) of the command line; returns the document (None with --async)."""
    source, upload = _read_input(args)
    if upload is None and (args.pages or args.password):
        raise ClientError("--pages and --password apply only to a PDF file", 2)
    body = {key: value for key, value in {**source, "title": args.title}.items() if value is not None}
    return submit(args, "/documents", body, upload, run_async=run_async)


def _asked_documents(args: argparse.Namespace) -> dict:
    """Whom ask asks: the collection, the document id, or the file (stored first, then asked by its id)."""
    if args.collection is not None:
        return {"collection": args.collection}
    if Path(args.file).is_file() or args.file == "-":
        document = store(args, run_async=False)  # the question needs its id, so storing never stays async
        status = "stored" if document.get("created", True) else "already stored"
        print(f"{args.file}: {status} as {document['document_id']}", file=sys.stderr)
        return {"document_ids": [document["document_id"]]}
    if "/" in args.file or Path(args.file).suffix:  # document ids have neither: this was meant as a file
        raise ClientError(f"cannot read {args.file}: no such file", 2)
    return {"document_ids": [args.file]}


def ask(args: argparse.Namespace, common: dict) -> None:
    """The ask command: a question to a file, a stored document or a collection, answered with quotes."""
    if args.collection is not None and args.question is None:  # ask --collection NAME "question": one positional
        args.file, args.question = None, args.file
    if args.collection is not None and args.file is not None:
        raise ClientError("give a file or document id, or --collection, not both", 2)
    if args.question is None or (args.file is None and args.collection is None):
        raise ClientError('give a file or document id and the question: python call_api.py ask FILE_OR_ID "..."', 2)
    if args.text is not None:
        raise ClientError("ask takes a file or a document id; store a text first with: call_api.py add --text", 2)
    body = {"question": args.question, **_asked_documents(args), **common}
    answer = submit(args, "/ask", body)
    if answer is not None:
        # A collection may hold several documents: name each quote's document.
        titles = document_titles(args, answer) if args.collection is not None and not args.json else None
        _emit(args, answer, functools.partial(show_answer, titles=titles))


def run(args: argparse.Namespace) -> None:
    """Carry out one command."""
    common = {"temperature": args.temperature} if args.temperature is not None else {}
    if args.command == "health":
        _emit(args, call(args.url, "/health", None, args.timeout), lambda a: print(json.dumps(a, indent=2)))
        return
    # Positionals a command does not read would be dropped without a word (e.g. a question after docs).
    if args.command == "message":
        message(args, common)
        return
    positionals = {"docs": 0, "health": 0, "ask": 2}.get(args.command, 1)
    unread = [value for value in [args.file, args.question, *args.more][positionals:] if value is not None]
    if unread:
        raise ClientError(f"unexpected argument {unread[0]!r} after {args.command}", 2)
    if args.collection is not None and args.command != "ask":
        raise ClientError("--collection applies only to ask", 2)
    if args.document is not None and args.command not in ("summary", "points", "both"):
        raise ClientError("--document applies only to summary, points and message (ask takes the id itself)", 2)
    if args.command == "job":
        if not args.file:
            raise ClientError("give the job id: python call_api.py job <id>", 2)
        job = call(args.url, f"/jobs/{args.file}", None, args.timeout)
        if job["status"] in ("queued", "running"):
            job = follow(args, args.file)
        result = job_result(job)
        if job.get("task") == "ask":
            several = len({citation["document_id"] for citation in result.get("citations", [])}) > 1
            titles = document_titles(args, result) if several and not args.json else None
            _emit(args, result, functools.partial(show_answer, titles=titles))
        else:
            shows = {"points": show_points, "document": show_document, "message": show_messages,
                     "audio": show_audio}
            _emit(args, result, shows.get(job.get("task"), show_summary))
        return
    if args.command == "docs":
        list_documents(args)
        return
    if args.command == "add":
        document = store(args)
        if document is not None:
            _emit(args, document, show_document)
        return
    if args.command == "ask":
        ask(args, common)
        return
    if args.document is not None:
        if args.file is not None or args.text is not None:
            raise ClientError("give a file, --text or --document, one of the three", 2)
        if args.pages or args.password:
            raise ClientError("--pages and --password apply only to a PDF file", 2)
        source, upload = {"document_id": args.document}, None
    else:
        source, upload = _read_input(args)
        if upload is None and (args.pages or args.password):
            raise ClientError("--pages and --password apply only to a PDF file", 2)
    source = {key: value for key, value in source.items() if value is not None}
    if args.command in ("summary", "both"):
        body = {**source, "length": args.length, "max_tokens": args.max_tokens, **common}
        body = {key: value for key, value in body.items() if value is not None}
        if args.command == "both":
            print("Summary:\n", file=sys.stderr if args.json else sys.stdout)
        _submit_and_emit(args, "/generate-summary", body, upload, show_summary)
    if args.command in ("points", "both"):
        if args.command == "both":
            print("\nKey points:\n", file=sys.stderr if args.json else sys.stdout)
        body = {**source, "count": args.count, **common}
        _submit_and_emit(args, "/generate-points", body, upload, show_points)


def build_parser() -> argparse.ArgumentParser:
    """The command line: a command, an input, and options."""
    parser = argparse.ArgumentParser(
        description="Summarize documents, list their key points, keep them in a library and ask them questions "
                    "with the local document service.",
        epilog="With no command: summarize the sample PDF and list its key points.",
    )
    parser.add_argument("command", nargs="?", default="both",
                        choices=["summary", "points", "both", "health", "job", "docs", "add", "ask", "message"])
    parser.add_argument("file", nargs="?",
                        help="a PDF, text, Markdown, HTML or Word (.docx) file (- reads text from standard input); "
                             "for ask: such a file (stored first) or a document id; for job: the job id")
    parser.add_argument("question", nargs="?", help="for ask: the question")
    parser.add_argument("more", nargs="*", help="for message: the key points, each one argument")
    parser.add_argument("--text", help="the text itself, instead of a file")
    parser.add_argument("--title", help="for add: the document's title (default: the service takes one from it)")
    parser.add_argument("--document", metavar="ID",
                        help="for summary, points and message: a stored document, by id")
    parser.add_argument("--to", dest="recipient", help="for message: who it is to")
    parser.add_argument("--from", dest="sender", help="for message: who it is from")
    parser.add_argument("--purpose", help="for message: what it is about (its subject)")
    parser.add_argument("--tone", choices=["formal", "friendly", "brief"], help="for message: how it reads")
    parser.add_argument("--n", type=int, help="for message: how many messages to write (default 6)")
    parser.add_argument("--collection", metavar="NAME", help="for ask: ask this collection's documents")
    parser.add_argument("--query", metavar="WORDS", help="for docs: only documents with all these words")
    parser.add_argument("--limit", type=int, help="for docs: how many documents to list (the service's default: 20)")
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
    args = build_parser().parse_intermixed_args(argv)  # options may come between the command, file and question
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
