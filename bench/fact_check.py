"""The fact checker measured against sentences labelled by hand: bench/data/fact_check_labelled.json (the set the
checker was designed on) and bench/data/fact_check_heldout.json (written afterwards, by someone who had not seen
the checker, and never used to change it).

    .venv/bin/python bench/fact_check.py

Positive class: an unsupported sentence (one that changes or invents a number, unit, year, name or acronym, or
gives a fact to the wrong subject). Precision: of the sentences the checker flags, the share that are unsupported;
recall: of the unsupported sentences, the share it flags. Per error kind, how many it catches. No model is used.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from llm.facts import SourceIndex  # noqa: E402

LABELLED = ROOT / "bench" / "data" / "fact_check_labelled.json"
HELD_OUT = ROOT / "bench" / "data" / "fact_check_heldout.json"


def evaluate(labelled: dict) -> dict:
    """Confusion counts, precision, recall and catches per error kind."""
    sources = {name: SourceIndex.of(text) for name, text in labelled["documents"].items()}
    counts = Counter()
    kinds: dict[str, Counter] = {}
    misses = []
    for row in labelled["sentences"]:
        _, unsupported = sources[row["document"]].unsupported(row["sentence"])
        flagged, wrong = bool(unsupported), not row["supported"]
        counts["tp" if flagged and wrong else "fp" if flagged else "fn" if wrong else "tn"] += 1
        kinds.setdefault(row["kind"], Counter())["flagged" if flagged else "passed"] += 1
        if flagged != wrong:
            misses.append({"sentence": row["sentence"], "kind": row["kind"], "labelled_supported": row["supported"],
                           "flagged": [fact.text for fact in unsupported]})
    return {
        "sentences": len(labelled["sentences"]), **counts,
        "precision": round(counts["tp"] / max(1, counts["tp"] + counts["fp"]), 3),
        "recall": round(counts["tp"] / max(1, counts["tp"] + counts["fn"]), 3),
        "by_kind": {kind: dict(found) for kind, found in sorted(kinds.items())},
        "mistakes": misses,
    }


def main() -> None:
    print("command: .venv/bin/python bench/fact_check.py")
    for path in (LABELLED, HELD_OUT):
        print(f"{path.name}:")
        print(json.dumps(evaluate(json.loads(path.read_text(encoding="utf-8"))), indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
