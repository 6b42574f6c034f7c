"""Messages written from key points (llm/message.py) on sets of points made from ACLSum `train` aspect summaries.

    python3 manage.py install --bench
    .venv/bin/python bench/messages.py --offset 0 --limit 20 --n 6

Each paper's three aspect summaries (challenge, approach, outcome) are split into sentences: its 3 to 6 points
(papers with more keep the first 6). The messages go from "Dana" to "the reading group", friendly, at the
service's defaults (temperature 0.7, 250 tokens). Figures, over all variants written:
  cover all     share of variants that state every point (coverage as the service judges it: stemmed content words)
  points        share of points covered
  invented      share of variants with a number, or a capitalized word that is not a sentence's first (nor "I"),
                that the points and fields do not have: an independent, cruder look than the fact check the service
                runs (--show prints each message with what this found)
  distinct      distinct variants per request (of n asked), and the mean word overlap (Jaccard) between two
                variants of one request
  s/request     seconds per request
Design was chosen on papers 20-39 of train (--offset 20); the figures in RESULTS.md are on papers 0-19.
"""

from __future__ import annotations

import argparse
import itertools
import platform
import re
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.quality import load_papers  # noqa: E402
from llm import TaskRunner  # noqa: E402
from llm.budgets import BUDGETS  # noqa: E402
from llm.cleanup import similarity, split_sentences  # noqa: E402
from llm.message import Letter, write_messages  # noqa: E402

SENDER, RECIPIENT = "Dana", "the reading group"
MAX_POINTS = 6


def point_sets(offset: int, limit: int) -> list[tuple[str, list[str]]]:
    """(paper id, 3 to 6 points) for the papers offset..offset+limit of train."""
    sets = []
    for paper in load_papers("train", offset + limit)[offset:]:
        points = [sentence for aspect in ("challenge", "approach", "outcome")
                  for sentence in split_sentences(paper["aspects"][aspect])][:MAX_POINTS]
        sets.append((paper["id"], points))
    return sets


def invented(body: str, letter: Letter) -> list[str]:
    """Numbers and mid-sentence capitalized words of a message that its input does not have."""
    given = " ".join([*letter.points, letter.sender, letter.recipient, letter.purpose])
    found = [number for number in re.findall(r"\d+(?:[.,]\d+)?", body) if number not in given]
    for paragraph in body.split("\n"):
        for sentence in split_sentences(paragraph):
            for word in re.findall(r"(?<=\s)[A-Z][\w'’-]*", sentence):
                if word not in given and re.sub(r"['’].*", "", word) != "I":  # "I", "I'm": not a name
                    found.append(word)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offset", type=int, default=0, help="first train paper")
    parser.add_argument("--limit", type=int, default=20, help="how many papers (sets of points)")
    parser.add_argument("--n", type=int, default=BUDGETS.message_variants, help="variants per request")
    parser.add_argument("--temperature", type=float, default=BUDGETS.message_temperature)
    parser.add_argument("--show", action="store_true", help="print every message")
    args = parser.parse_args()

    from llm.loader import load_model
    from settings import load_settings

    print(f"command: .venv/bin/python bench/messages.py {' '.join(sys.argv[1:])}")
    print(f"machine: {platform.machine()}, {__import__('os').cpu_count()} cores, Python {platform.python_version()}")
    model = load_model(load_settings(n_ctx=2048))
    variants = full = points_total = points_covered = with_invented = 0
    distinct, overlaps, seconds, warnings = [], [], [], 0
    for paper_id, points in point_sets(args.offset, args.limit):
        letter = Letter(tuple(points), sender=SENDER, recipient=RECIPIENT, tone="friendly")
        runner = TaskRunner(model, temperature=args.temperature)
        started = time.monotonic()
        made = write_messages(runner, letter, count=args.n, max_tokens=BUDGETS.message_tokens)
        seconds.append(time.monotonic() - started)
        distinct.append(len(made.variants))
        overlaps += [similarity(a.body, b.body) for a, b in itertools.combinations(made.variants, 2)]
        for variant in made.variants:
            variants += 1
            full += not variant.missing
            points_total += len(points)
            points_covered += len(variant.covered)
            extra = invented(variant.body, letter)
            with_invented += bool(extra)
            if args.show:
                print(f"--- {paper_id} covered {variant.covered} missing {variant.missing} invented {extra}\n"
                      f"{variant.body}\n")
        warnings += len(made.warnings)
        print(f"{paper_id}: {len(points)} points, {len(made.variants)} variants, "
              f"{sum(not v.missing for v in made.variants)} cover all, {seconds[-1]:.1f} s", flush=True)
    print(f"\nsets: {len(seconds)} (train papers {args.offset}-{args.offset + len(seconds) - 1}), n = {args.n}, "
          f"temperature {args.temperature}")
    print(f"variants cover every point: {full / variants:.1%} ({full} of {variants})")
    print(f"points covered: {points_covered / points_total:.1%}")
    print(f"variants with an invented number or name: {with_invented / variants:.1%} ({with_invented})")
    print(f"distinct variants per request: {statistics.mean(distinct):.2f} of {args.n}; "
          f"mean overlap between two variants: {statistics.mean(overlaps) if overlaps else 0:.2f}")
    print(f"seconds per request: {statistics.mean(seconds):.1f} (median {statistics.median(seconds):.1f})")


if __name__ == "__main__":
    main()
