"""How well the salient sentences alone say what a paper's abstract says (no model): the sentences
llm/salience.py chooses, cut to about 150 words, against the paper's first 150 words (Lead-150), by ROUGE-Lsum
against the abstract, for several position weights. This chose BUDGETS.salience_position_weight on train.

    .venv/bin/python bench/salience.py --split train --limit 0
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.quality import LEAD_WORDS, load_papers, score  # noqa: E402
from llm.salience import Salience  # noqa: E402

WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="train", choices=["train", "val"], help="test is never used")
    parser.add_argument("--limit", type=int, default=0, help="first N papers of the split (0: all)")
    args = parser.parse_args()
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeLsum"], use_stemmer=True)
    papers = load_papers(args.split, args.limit or None)
    print(f"command: .venv/bin/python bench/salience.py {' '.join(sys.argv[1:])}")
    print(f"data: ACLSum {args.split}, {len(papers)} papers; extracts of about {LEAD_WORDS} words "
          "(words counted as tokens)")

    def words(text: str) -> int:
        return len(text.split())

    lead = statistics.mean(score(scorer, " ".join(paper["body"].split()[:LEAD_WORDS]), paper["abstract"])[
        "rougeLsum"] for paper in papers)
    print(f"Lead-{LEAD_WORDS}: ROUGE-Lsum {lead:.4f}")
    for weight in WEIGHTS:
        mean = statistics.mean(score(scorer, Salience(paper["body"], weight).extract(LEAD_WORDS, words),
                                     paper["abstract"])["rougeLsum"] for paper in papers)
        print(f"salient sentences, position weight {weight}: ROUGE-Lsum {mean:.4f}")


if __name__ == "__main__":
    main()
