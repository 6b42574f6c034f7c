"""Which summary candidate to keep, and from which prompt: every candidate is kept, so that ways of choosing can
be compared offline against the abstract (the choice itself never sees the abstract).

    .venv/bin/python bench/candidates_experiment.py --split train --limit 16 --out bench/results/candidates-train.json

For each paper, the pipeline's input (its most salient sentences, SUMMARY_READ_TOKENS at N_CTX 2048) is
summarized at length `medium` by each prompt below, CANDIDATES times (the first at temperature 0, the others
sampled). Each candidate is cleaned as the service cleans it and cut to the word range; then each way of choosing
picks one per paper, and the mean ROUGE-Lsum of its picks is printed, with the best possible pick (oracle) and the
first candidate alone. Design choices are made on train; val confirms.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.quality import load_papers, score  # noqa: E402
from llm import TaskRunner, prompts  # noqa: E402
from llm.budgets import BUDGETS  # noqa: E402
from llm.cleanup import split_sentences  # noqa: E402
from llm.facts import SourceIndex, fact_precision  # noqa: E402
from llm.salience import Salience  # noqa: E402

CANDIDATES = 5
PROMPTS = {
    "summary": lambda text, spec: prompts.summary(text, spec),
    "own-words": lambda text, spec: prompts._messages(
        f"{text}\n\nThe sentences above are the key sentences of a longer document. Write a summary of the document "
        f"{spec.instruction}: say what it is about, how, and what it found, using its own words and terms."),
}


def candidates(model, paper: dict, read_tokens: int) -> dict[str, list[str]]:
    spec = prompts.LENGTHS["medium"]
    runner = TaskRunner(model)
    overhead = max(model.prompt_tokens(prompt("", spec)) for prompt in PROMPTS.values())
    budget = model.n_ctx - overhead - spec.max_tokens - runner.margin()
    extract = Salience(paper["body"]).extract(min(read_tokens, budget), model.count_tokens)
    made = {}
    for name, prompt in PROMPTS.items():
        messages = prompt(extract, spec)
        made[name] = [runner.prose(messages, spec.max_tokens, temperature=0.0 if number == 0 else
                                   BUDGETS.candidate_temperature, seed=BUDGETS.seed + number).text
                      for number in range(CANDIDATES)]
    return made


def _cut(text: str, most: int) -> str:
    kept: list[str] = []
    for sentence in split_sentences(" ".join(text.split())):
        if kept and len(" ".join([*kept, sentence]).split()) > most:
            break
        kept.append(sentence)
    return " ".join(kept)


def choosers(paper: dict):
    """Ways of choosing a candidate, each from the paper's body alone."""
    salience = Salience(paper["body"])
    source = SourceIndex.of(paper["body"])
    low = prompts.LENGTHS["medium"].words[0]
    pseudo = salience.extract(200, lambda sentence: len(sentence.split()))  # the 150-200 most salient words
    from rouge_score import rouge_scorer

    overlap = rouge_scorer.RougeScorer(["rouge1", "rouge2"], use_stemmer=True)

    def held(text):
        have, total = fact_precision(text, source)
        return (have + 1) / (total + 1)

    def usable(text):
        return bool(text) and salience.copied_share(text) <= BUDGETS.max_copied_share and low <= len(text.split())

    return {
        "first": lambda texts: texts[0],
        "coverage x facts (today)": lambda texts: max(texts, key=lambda t: (usable(t), salience.coverage(t) * held(t))),
        "rouge-2 with salient 200": lambda texts: max(texts, key=lambda t: (
            usable(t), overlap.score(pseudo, t)["rouge2"].fmeasure * held(t))),
        "rouge-1 with salient 200": lambda texts: max(texts, key=lambda t: (
            usable(t), overlap.score(pseudo, t)["rouge1"].fmeasure * held(t))),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="train", choices=["train", "val"], help="test is never used")
    parser.add_argument("--limit", type=int, default=16)
    parser.add_argument("--read-tokens", type=int, default=BUDGETS.summary_read_tokens)
    parser.add_argument("--out", type=Path, help="keep every candidate here (JSON)")
    parser.add_argument("--from", dest="saved", type=Path, help="score candidates kept by an earlier --out")
    args = parser.parse_args()
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeLsum"], use_stemmer=True)
    papers = load_papers(args.split, args.limit or None)
    print(f"command: .venv/bin/python bench/candidates_experiment.py {' '.join(sys.argv[1:])}")
    if args.saved:
        made = json.loads(args.saved.read_text(encoding="utf-8"))
    else:
        from llm.loader import load_model
        from settings import load_settings

        model = load_model(load_settings(n_ctx=2048))
        made = {}
        for number, paper in enumerate(papers, start=1):
            made[paper["id"]] = candidates(model, paper, args.read_tokens)
            print(f"[{number}/{len(papers)}] {paper['id']}", flush=True)
        model.close()
        if args.out:
            args.out.write_text(json.dumps(made, indent=1), encoding="utf-8")
    high = prompts.LENGTHS["medium"].words[1]
    for prompt in PROMPTS:
        print(f"prompt {prompt}:")
        picks: dict[str, list[float]] = {}
        for paper in papers:
            texts = [_cut(text, high) for text in made[paper["id"]][prompt]]
            scores = [score(scorer, text, paper["abstract"])["rougeLsum"] for text in texts]
            picks.setdefault("oracle (best of the candidates)", []).append(max(scores))
            for name, choose in choosers(paper).items():
                picks.setdefault(name, []).append(scores[texts.index(choose(texts))])
        for name, values in picks.items():
            print(f"  {name:34} ROUGE-Lsum {statistics.mean(values):.4f}")


if __name__ == "__main__":
    main()
