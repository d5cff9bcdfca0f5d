"""Print what each label file of models/labels/ holds: comments by sample, label and kind, ask
spans, and the number of units (sentences, by a simple split on end punctuation and line
breaks; the project's own splitter may count differently).

    python benchmarks/label_stats.py [--data-dir ../shared/data]
"""

from __future__ import annotations

import argparse
import re
from collections import Counter
from pathlib import Path

from models.labelled import KINDS, LabelledComment, load_all_labelled

ROOT = Path(__file__).resolve().parents[1]
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def units(text: str) -> list[str]:
    """Sentences of ``text``: pieces between end punctuation followed by space, or line breaks,
    keeping those with at least one letter."""
    return [piece for piece in SENTENCE_END.split(text) if any(ch.isalpha() for ch in piece)]


def describe(name: str, comments: list[LabelledComment]) -> None:
    print(f"\n{name}: {len(comments)} comments")
    for sample in ("random", "enriched", "all"):
        rows = [c for c in comments if sample in ("all", c.sample)]
        if not rows:
            continue
        asks = [c for c in rows if c.is_ask]
        share = len(asks) / len(rows)
        spans = sum(len(c.asks) for c in rows)
        unit_count = sum(len(units(c.text)) for c in rows)
        print(
            f"  {sample:8s} comments {len(rows):5d}  asks {len(asks):4d} ({share:.1%})  "
            f"ask spans {spans:4d}  units {unit_count:5d}  splits {dict(Counter(c.split for c in rows))}"
        )
        kinds = Counter(c.kind for c in rows)
        print("           kinds " + ", ".join(f"{kind} {kinds[kind]}" for kind in sorted(KINDS) if kinds[kind]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    for name, comments in load_all_labelled(data_dir=args.data_dir).items():
        describe(name, comments)


if __name__ == "__main__":
    main()
