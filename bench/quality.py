"""Summary quality on long papers (ACLSum): the pipeline against today's map-and-merge, the naive cut-to-fit
baseline and the paper's opening.

    python3 manage.py install --bench
    .venv/bin/python bench/quality.py --split val --limit 20 --n-ctx 2048 --systems pipeline,hierarchical,naive,lead

Input: each paper's body text (abstract excluded); reference: its abstract. Systems, all with the same model,
prompt, clean-up and N_CTX:
  pipeline      the service's summarize() with SUMMARY_READ_TOKENS (--read-tokens) and SUMMARY_CANDIDATES
                (--candidates): one pass when the text fits, else extract (its most salient sentences), then write
  hierarchical  summarize() reading everything (SUMMARY_READ_TOKENS=0, one candidate): map and merge levels
  naive         what the original llama service did: cut the text to fit one context, summarize once
  lead          the paper's first 150 words (Lead-150, the classic extractive baseline; no model)
  points        5 key points (key_points()), joined, scored like a summary
Scores: ROUGE-1, ROUGE-2, ROUGE-Lsum (rouge-score, stemming on), share of degenerate outputs, seconds per paper,
context errors (any model call whose prompt plus output reserve exceeds N_CTX), fact precision before and after
the check, words and the share inside the README's range for the length, and the share of sentences that are
near-copies of one sentence of the paper. Design choices are made on --split train; val confirms; test is never
used.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import threading
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from llm import TaskRunner, blocks_from_text, key_points, prompts, summarize  # noqa: E402
from llm.budgets import BUDGETS  # noqa: E402
from llm.cleanup import clean_prose, split_sentences  # noqa: E402
from llm.errors import ContextOverflowError  # noqa: E402
from llm.facts import SourceIndex, fact_precision  # noqa: E402
from llm.model import Model  # noqa: E402
from llm.salience import Salience  # noqa: E402
from llm.summarize import SummaryPlan  # noqa: E402


def load_papers(split: str, limit: int | None) -> list[dict]:
    """Papers of an ACLSum split, in the split file's order: id, title, body text, abstract."""
    distribution = metadata.distribution("aclsum")
    dataset = Path(str(distribution.locate_file("aclsum/dataset")))
    papers = []
    for line in (dataset / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        entry = json.loads(line)
        parse = json.loads((dataset / "paper_jsons" / f"{entry['id']}.json").read_text(encoding="utf-8"))
        body = "\n\n".join(paragraph["text"] for paragraph in parse["pdf_parse"]["body_text"])
        abstract = " ".join(paragraph["text"] for paragraph in parse["pdf_parse"]["abstract"]) or parse["abstract"]
        papers.append({"id": entry["id"], "title": parse["title"], "body": body, "abstract": abstract,
                       "aspects": entry["summary"]})
        if limit and len(papers) >= limit:
            break
    return papers


class BudgetRecorder(Model):
    """Delegates to the real model and counts calls whose prompt plus output reserve exceed n_ctx."""

    def __init__(self, model: Model):
        self.inner = model
        self.info = model.info
        self.calls = 0
        self.overflows = 0
        self._lock = threading.Lock()  # calls made together count from several threads

    @property
    def parallel_calls(self):
        return self.inner.parallel_calls

    def count_tokens(self, text):
        return self.inner.count_tokens(text)

    def prompt_tokens(self, messages):
        return self.inner.prompt_tokens(messages)

    def generate(self, messages, params):
        overflow = self.inner.prompt_tokens(messages) + params.max_tokens > self.n_ctx
        with self._lock:
            self.calls += 1
            self.overflows += overflow
        return self.inner.generate(messages, params)


def naive(runner: TaskRunner, text: str, length: str) -> str:
    """Cut the text to what fits one prompt and summarize it once."""
    model = runner.model
    spec = prompts.LENGTHS[length]
    budget = model.n_ctx - model.prompt_tokens(prompts.summary("", spec)) - spec.max_tokens - runner.margin()
    head = model.split_tokens(text, budget)[0]
    return runner.prose(prompts.summary(head, spec), spec.max_tokens).text


def fact_figures(body: str, summary: str, checked) -> dict:
    """Facts (numbers, names, acronyms) of the output that the paper holds, before the fact check and after it,
    and what the check did (llm/facts.py)."""
    source = SourceIndex.of(body)
    held, total = fact_precision(summary, source)
    figures = {"facts": total, "facts_held": held}
    if checked is not None:
        held_before, total_before = fact_precision(checked.original, source)
        figures |= {"facts_before": total_before, "facts_held_before": held_before, "rewritten": checked.rewritten,
                    "dropped": checked.dropped, "summary_before_check": checked.original}
    return figures


LEAD_WORDS = 150
POINTS = 5  # key points asked of each paper by the "points" system


def length_figures(summary: str, body: str, length: str) -> dict:
    """The summary's words, whether they fall in the README's range for the length, and the share of its
    sentences that are near-copies of one sentence of the paper."""
    low, high = prompts.LENGTHS[length].words
    count = len(summary.split())
    return {"words": count, "in_range": low <= count <= high, "copied": Salience(body).copied_share(summary)}


def score(scorer, summary: str, reference: str) -> dict[str, float]:
    """ROUGE F-measures; Lsum splits both texts into sentences, one per line."""
    def lines(text: str) -> str:
        return "\n".join(split_sentences(text))

    result = scorer.score(lines(reference), lines(summary))
    return {name: result[name].fmeasure for name in ("rouge1", "rouge2", "rougeLsum") if name in result}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="val", choices=["train", "val"],
                        help="test is never used: designs are chosen on train and confirmed on val")
    parser.add_argument("--limit", type=int, default=20, help="first N papers of the split (0: all)")
    parser.add_argument("--skip", type=int, default=0, help="leave out the first N papers (for a later batch)")
    parser.add_argument("--n-ctx", default="2048", help="context size; a comma-separated list runs each in turn")
    parser.add_argument("--length", default="medium", choices=list(prompts.LENGTHS))
    parser.add_argument("--systems", default="pipeline,naive",
                        help="pipeline, hierarchical (the pipeline reading everything: map and merge, one "
                             "candidate), naive, lead (the first 150 words), points (5 key points, joined)")
    parser.add_argument("--read-tokens", type=int, default=BUDGETS.summary_read_tokens,
                        help="the pipeline's SUMMARY_READ_TOKENS")
    parser.add_argument("--candidates", type=int, default=BUDGETS.summary_candidates,
                        help="the pipeline's SUMMARY_CANDIDATES")
    parser.add_argument("--slots", type=int, default=0,
                        help="SLOTS of the model (0: the service's default; 1: one call at a time, as before)")
    parser.add_argument("--flash-attn", default="off", choices=["off", "on", "auto"],
                        help="FLASH_ATTN of the batching engine (SLOTS above 1)")
    parser.add_argument("--out", type=Path, help="write per-paper results as JSON here")
    parser.add_argument("--compare", type=Path,
                        help="an earlier --out file: say which summaries came out byte-identical to it")
    args = parser.parse_args()

    from rouge_score import rouge_scorer

    from llm.loader import load_model
    from settings import load_settings

    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    papers = load_papers(args.split, args.skip + args.limit if args.limit else None)[args.skip:]
    systems = args.systems.split(",")
    print(f"command: .venv/bin/python bench/quality.py {' '.join(sys.argv[1:])}")
    which = f"papers {args.skip + 1} to {args.skip + len(papers)}" if args.skip else f"first {len(papers)} papers"
    print(f"data: ACLSum {args.split}, {which} in the split file's order; reference: abstract")
    print(f"machine: {platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}")
    all_rows = {}
    for n_ctx in [int(value) for value in args.n_ctx.split(",")]:
        model = load_model(load_settings(n_ctx=n_ctx, slots=args.slots, flash_attn=args.flash_attn))
        plan = SummaryPlan(read_tokens=args.read_tokens, candidates=args.candidates)
        rows = run(model, papers, systems, args.length, scorer, plan)
        report(model, rows, args.length)
        if args.compare:
            compare(rows, args.compare, n_ctx)
        all_rows[str(n_ctx)] = rows
        model.close()
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(all_rows, indent=1), encoding="utf-8")


def run(model, papers, systems, length, scorer, plan: SummaryPlan) -> dict[str, list[dict]]:
    """Summarize every paper with every system; one row per paper and system."""
    rows: dict[str, list[dict]] = {system: [] for system in systems}
    for number, paper in enumerate(papers, start=1):
        for system in systems:
            recorder = BudgetRecorder(model)
            runner = TaskRunner(recorder, temperature=BUDGETS.temperature, seed=BUDGETS.seed)
            started = time.perf_counter()
            error = None
            try:
                checked = None
                if system in ("pipeline", "hierarchical"):
                    chosen = plan if system == "pipeline" else SummaryPlan(read_tokens=0, candidates=1)
                    result = summarize(runner, blocks_from_text(paper["body"]), length=length, plan=chosen)
                    summary, chunks, levels, checked = result.summary, result.chunks, result.levels, result.checked
                elif system == "points":
                    result = key_points(runner, blocks_from_text(paper["body"]), count=POINTS)
                    summary = "\n\n".join(point.text for point in result.points)
                    chunks, levels, checked = result.chunks, 1, result.checked
                elif system == "lead":
                    summary, chunks, levels = " ".join(paper["body"].split()[:LEAD_WORDS]), 0, 0
                else:
                    summary, chunks, levels = naive(runner, paper["body"], length), 1, 1
            except ContextOverflowError as overflow:
                summary, chunks, levels, error = "", 0, 0, str(overflow)
            seconds = time.perf_counter() - started
            degenerate = not summary.strip() or clean_prose(summary).degenerate
            row = {"id": paper["id"], "seconds": seconds, "chunks": chunks, "levels": levels,
                   "calls": recorder.calls, "context_errors": recorder.overflows + (1 if error else 0),
                   "degenerate": degenerate, "retries": runner.degenerate_retries,
                   "tokens": model.count_tokens(paper["body"]), "summary": summary,
                   **length_figures(summary, paper["body"], length),
                   **score(scorer, summary, paper["abstract"]), **fact_figures(paper["body"], summary, checked)}
            rows[system].append(row)
            print(f"[{number}/{len(papers)}] n_ctx {model.n_ctx} {system:8} {paper['id']:22} {row['tokens']:6} tok "
                  f"R1 {row['rouge1']:.3f} RLsum {row['rougeLsum']:.3f} {seconds:5.1f}s chunks {chunks} "
                  f"levels {levels}{' DEGENERATE' if degenerate else ''}", flush=True)
    return rows


def report(model, rows: dict[str, list[dict]], length: str) -> None:
    """Print the summary table for one context size."""
    print()
    print(f"model: {model.name}, N_CTX {model.n_ctx}, SLOTS {model.info.slots}, length {length}, "
          f"temperature {BUDGETS.temperature:g}, seed {BUDGETS.seed}")
    print("| system | ROUGE-1 | ROUGE-2 | ROUGE-Lsum | degenerate | context errors | s/paper | model calls/paper "
          "| words | in range | copied sentences |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for system, results in rows.items():
        def mean(key, results=results):
            return statistics.mean(row[key] for row in results)

        degenerate = sum(row["degenerate"] for row in results)
        errors = sum(row["context_errors"] for row in results)
        print(f"| {system} | {mean('rouge1'):.4f} | {mean('rouge2'):.4f} | {mean('rougeLsum'):.4f} | "
              f"{degenerate}/{len(results)} | {errors} | {mean('seconds'):.1f} | {mean('calls'):.1f} | "
              f"{mean('words'):.0f} | {mean('in_range'):.0%} | {mean('copied'):.0%} |")
    for system, results in rows.items():
        held, total = sum(row["facts_held"] for row in results), sum(row["facts"] for row in results)
        line = f"{system}: fact precision {held}/{total} = {held / max(1, total):.3f}"
        if all("facts_before" in row for row in results):
            before = sum(row["facts_held_before"] for row in results), sum(row["facts_before"] for row in results)
            line += (f" (before the check {before[0]}/{before[1]} = {before[0] / max(1, before[1]):.3f}); per summary "
                     f"rewritten {statistics.mean(row['rewritten'] for row in results):.2f}, dropped "
                     f"{statistics.mean(row['dropped'] for row in results):.2f}")
        print(line)
    for baseline in ("naive", "lead", "hierarchical"):
        if "pipeline" in rows and baseline in rows:
            ours, theirs = rows["pipeline"], rows[baseline]
            gain = statistics.mean(r["rougeLsum"] for r in ours) / statistics.mean(r["rougeLsum"] for r in theirs) - 1
            wins = sum(a["rougeLsum"] > b["rougeLsum"] for a, b in zip(ours, theirs, strict=True))
            print(f"ROUGE-Lsum of the pipeline relative to {baseline}: {gain:+.1%}, above it on {wins} of "
                  f"{len(ours)} papers")
    print()


def compare(rows: dict[str, list[dict]], earlier_path: Path, n_ctx: int) -> None:
    """Print how many summaries are byte-identical to an earlier run's (same papers, same system)."""
    earlier = json.loads(earlier_path.read_text(encoding="utf-8"))
    earlier = earlier.get(str(n_ctx), earlier)  # files of several context sizes are keyed by N_CTX
    for system, results in rows.items():
        before = {row["id"]: row["summary"] for row in earlier.get(system, [])}
        shared = [row for row in results if row["id"] in before]
        different = [row["id"] for row in shared if row["summary"] != before[row["id"]]]
        print(f"{system}: {len(shared) - len(different)} of {len(shared)} summaries byte-identical to "
              f"{earlier_path.name}" + (f"; different: {', '.join(different)}" if different else ""))


if __name__ == "__main__":
    main()
