"""Questions answered from stored documents (POST /ask), measured on ACLSum papers and the ReportLab guide.

    python3 manage.py install --bench
    .venv/bin/python bench/qa.py --split train --limit 20 --retrieval-only   # choose thresholds (no model)
    .venv/bin/python bench/qa.py --split val --limit 20 --out bench/results/qa-val.json
    .venv/bin/python bench/qa.py --guide-only                                   # retrieval time, indexing speed

Each paper's body is stored through the real API (a Flask test client of the real app, bundled model, N_CTX 2048),
paged by size like any text. Asked of it:
  answerable     "What problem does this paper address?", "How do they approach it?", "What are the results?",
                 each scored against the paper's reference for that aspect (challenge, approach, outcome) with
                 ROUGE-L (rouge-score, stemming on), and against a naive baseline on the same model: the paper's
                 opening cut to what fits the same context, plus the question, in the same answering prompt.
  specific       the same three questions made specific with the paper's own reference for each aspect: these are
                 answerable too, and keep the refusal rule honest (a rule that refuses every specific question would
                 pass the next test and fail real users).
  unanswerable   the same three questions made specific with the next paper's reference for each aspect (its
                 method or result named in the question): these must come back `answered: false`.
Citation validity: every quote is looked up on its page (GET /documents/<id>/pages/<n>), whitespace-normalized.
The guide: the ReportLab user guide (134 pages) from ../shared/pdfs, 30 questions made from its section headings;
retrieval time per question excludes the model (library.search.retrieve on the app's store).
Choose on `train`, report on `val`; `test` is never read.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.quality import load_papers  # noqa: E402
from library.search import quote_on_page, retrieve  # noqa: E402
from llm import TaskRunner, prompts  # noqa: E402
from llm.budgets import BUDGETS  # noqa: E402
from llm.cleanup import clean_prose  # noqa: E402

ASPECTS = {
    "challenge": "What problem does this paper address?",
    "approach": "How do they approach it?",
    "outcome": "What are the results?",
}
GUIDE = ROOT.parent / "shared" / "pdfs" / "reportlab-userguide.pdf"
N_CTX = 2048
GUIDE_QUESTIONS = 30


def specific(question: str, reference: str) -> str:
    """A question made specific with another paper's reference (its method or result named in it)."""
    return f"{question} In particular: {reference}"


def questions(paper: dict, other: dict):
    """(aspect, kind, question) of every question asked of a paper: answerable, specific, and unanswerable (made
    from the other paper's references)."""
    for aspect, question in ASPECTS.items():
        yield aspect, "answerable", question
        yield aspect, "specific", specific(question, paper["aspects"][aspect])
        yield aspect, "unanswerable", specific(question, other["aspects"][aspect])


DATABASE_URL: str | None = None  # --store postgres: a throwaway PostgreSQL's database (tests/postgres.py)


def make_app(model, data_dir: Path):
    from api import create_app
    from settings import load_settings

    settings = load_settings(data_dir=data_dir, n_ctx=N_CTX, sync_timeout_s=3600, max_queue=10_000,
                             max_text_chars=10_000_000, pdf_timeout_s=600, database_url=DATABASE_URL)
    return create_app({"SETTINGS": settings, "MODEL": model})


def store(client, text: str, title: str) -> dict:
    answer = client.post("/documents", json={"text": text, "title": title})
    assert answer.status_code in (200, 201), answer.get_json()
    return answer.get_json()


def baseline(model, body: str, question: str) -> str:
    """The paper's opening cut to one context, plus the question, in the answering prompt."""
    runner = TaskRunner(model, temperature=BUDGETS.temperature, seed=BUDGETS.seed)
    max_tokens = min(BUDGETS.answer_max_tokens, model.n_ctx // BUDGETS.answer_ctx_divisor)
    room = model.n_ctx - runner.margin() - max_tokens - model.prompt_tokens(prompts.question([""], question, [], ""))
    opening = model.split_tokens(body, room)[0]
    return clean_prose(runner.complete(prompts.question([opening], question, [], ""), max_tokens,
                                       BUDGETS.repeat_penalty).text).text


def citations_valid(client, answer: dict) -> tuple[int, int]:
    """(valid, total) quotes of an answer, each looked up on its page."""
    valid = 0
    for citation in answer["citations"]:
        page = client.get(f"/documents/{citation['document_id']}/pages/{citation['page']}").get_json()
        valid += quote_on_page(citation["quote"], page["text"])
    return valid, len(answer["citations"])


def coverage_only(app, document_id: str, question: str) -> float:
    store_ = app.extensions["library"]
    return retrieve(store_, [document_id], question, "", BUDGETS.ask_passages).coverage


def run_papers(args, model) -> dict:
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    papers = load_papers(args.split, args.limit or None)
    rows = []
    with tempfile.TemporaryDirectory() as data_dir:
        app = make_app(model, Path(data_dir))
        client = app.test_client()
        ids = [store(client, paper["body"], paper["title"])["document_id"] for paper in papers]
        for number, (paper, document_id) in enumerate(zip(papers, ids, strict=True)):
            other = papers[(number + 1) % len(papers)]
            for aspect, kind, asked in questions(paper, other):
                row = {"paper": paper["id"], "aspect": aspect, "kind": kind, "question": asked,
                       "coverage": round(coverage_only(app, document_id, asked), 3)}
                if not args.retrieval_only:
                    started = time.perf_counter()
                    answer = client.post("/ask", json={"question": asked, "document_ids": [document_id]})
                    body = answer.get_json()
                    assert answer.status_code == 200, body
                    valid, total = citations_valid(client, body)
                    row |= {"answered": body["answered"], "answer": body["answer"], "citations": total,
                            "valid_citations": valid, "seconds": round(time.perf_counter() - started, 2)}
                    if kind == "answerable":
                        reference = paper["aspects"][aspect]
                        naive = baseline(model, paper["body"], asked)  # the generic question itself
                        row |= {"rougeL": scorer.score(reference, body["answer"])["rougeL"].fmeasure,
                                "baseline": naive,
                                "baseline_rougeL": scorer.score(reference, naive)["rougeL"].fmeasure}
                rows.append(row)
                print(json.dumps({key: row[key] for key in row if key not in ("answer", "baseline", "question")}),
                      flush=True)
        from routes.resources import close_app

        close_app(app)
    return {"rows": rows, "summary": summarize(rows, args.retrieval_only)}


def summarize(rows: list[dict], retrieval_only: bool) -> dict:
    answerable = [row for row in rows if row["kind"] == "answerable"]
    specific_rows = [row for row in rows if row["kind"] == "specific"]
    unanswerable = [row for row in rows if row["kind"] == "unanswerable"]
    summary = {}
    # What each threshold on the evidence would give (how MIN_QUESTION_COVERAGE was chosen, on train).
    for threshold in (0.4, 0.5, 0.6, 0.7, 0.8, 0.9):
        summary[f"coverage>={threshold}"] = {
            "answerable_kept": round(sum(row["coverage"] >= threshold for row in answerable) / len(answerable), 3),
            "specific_kept": round(sum(row["coverage"] >= threshold for row in specific_rows) / len(specific_rows), 3),
            "unanswerable_refused": round(sum(row["coverage"] < threshold for row in unanswerable)
                                          / len(unanswerable), 3),
        }
    if retrieval_only:
        return summary
    total = sum(row["citations"] for row in rows)
    summary |= {
        "answered_rate": round(sum(row["answered"] for row in answerable) / len(answerable), 3),
        "answered_rate_specific": round(sum(row["answered"] for row in specific_rows) / len(specific_rows), 3),
        "refusal_rate": round(sum(not row["answered"] for row in unanswerable) / len(unanswerable), 3),
        "citation_validity": round(sum(row["valid_citations"] for row in rows) / total, 4) if total else None,
        "citations": total,
        "rougeL_ask": round(statistics.mean(row["rougeL"] for row in answerable), 4),
        "rougeL_baseline": round(statistics.mean(row["baseline_rougeL"] for row in answerable), 4),
        "p50_seconds_per_question": round(statistics.median(row["seconds"] for row in rows), 2),
    }
    for aspect in ASPECTS:
        of_aspect = [row for row in answerable if row["aspect"] == aspect]
        summary[f"rougeL_{aspect}"] = {"ask": round(statistics.mean(row["rougeL"] for row in of_aspect), 4),
                                       "baseline": round(statistics.mean(row["baseline_rougeL"] for row in of_aspect),
                                                         4)}
    return summary


def guide_headings(text_pages: list[str]) -> list[str]:
    """Section headings of the guide ("2.3 Fonts and encodings"), as they stand on its pages, in order."""
    headings = []
    for page in text_pages:
        for line in page.splitlines():
            match = re.match(r"^\s*(\d+\.\d+)\s+([A-Z][A-Za-z ,'()-]{6,60})\s*$", line)
            if match and match.group(2) not in headings:
                headings.append(match.group(2).strip())
    return headings


def run_guide(model) -> dict:
    from settings import load_settings
    from tasks.document import from_file

    data = GUIDE.read_bytes()
    with tempfile.TemporaryDirectory() as data_dir:
        app = make_app(model, Path(data_dir))
        client = app.test_client()
        started = time.perf_counter()
        stored = client.post("/documents", data={"file": (__import__("io").BytesIO(data), GUIDE.name)},
                             content_type="multipart/form-data").get_json()
        stored_s = time.perf_counter() - started
        started = time.perf_counter()
        received = from_file(data, GUIDE.name, "application/pdf", pages=None, password=None,
                             limits=load_settings(pdf_timeout_s=600).pdf_limits(), max_chars=10_000_000)
        reading_s = time.perf_counter() - started
        headings = guide_headings([block.text for block in received.document.blocks])
        step = max(1, len(headings) // GUIDE_QUESTIONS)
        questions = [f"What does the guide say about {heading.lower()}?" for heading in headings[::step]]
        questions = questions[:GUIDE_QUESTIONS]
        library = app.extensions["library"]
        timings = []
        for question in questions:
            started = time.perf_counter()
            found = retrieve(library, [stored["document_id"]], question, "", BUDGETS.ask_passages)
            timings.append((time.perf_counter() - started) * 1000)
            assert found.passages
        from routes.resources import close_app

        close_app(app)
    timings.sort()
    return {
        "pages": stored["pages"], "questions": len(questions), "example_questions": questions[:3],
        "store_seconds": round(stored_s, 2), "reading_seconds": round(reading_s, 2),
        "pages_per_second_stored": round(stored["pages"] / stored_s, 1),
        "pages_per_second_indexing_only": round(stored["pages"] / max(1e-9, stored_s - reading_s), 1),
        "retrieval_ms_p50": round(statistics.median(timings), 2),
        "retrieval_ms_p95": round(timings[max(0, round(0.95 * len(timings)) - 1)], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="val", choices=["train", "val"], help="never test")
    parser.add_argument("--limit", type=int, default=20, help="first N papers of the split (0: all)")
    parser.add_argument("--retrieval-only", action="store_true", help="coverage of the questions only, no model")
    parser.add_argument("--guide-only", action="store_true", help="only the ReportLab guide's timings")
    parser.add_argument("--out", type=Path, help="write the rows and the summary as JSON here")
    parser.add_argument("--store", default="sqlite", choices=["sqlite", "postgres"],
                        help="where the library lives: SQLite's FTS5, or PostgreSQL's full-text search (a throwaway "
                             "server this run starts)")
    args = parser.parse_args()
    global DATABASE_URL
    if args.store == "postgres":
        from tests.conftest import free_port
        from tests.postgres import PostgresServer

        postgres = PostgresServer(free_port())
        postgres.start()
        DATABASE_URL = postgres.new_database()

    from llm.loader import load_model
    from settings import load_settings

    print(f"command: .venv/bin/python bench/qa.py {' '.join(sys.argv[1:])}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    model = load_model(load_settings(n_ctx=N_CTX))
    results = {}
    if not args.guide_only:
        results["papers"] = run_papers(args, model)
        print(json.dumps(results["papers"]["summary"], indent=1))
    if not args.retrieval_only:
        results["guide"] = run_guide(model)
        print(json.dumps(results["guide"], indent=1))
    model.close()
    if args.store == "postgres":
        postgres.remove()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
