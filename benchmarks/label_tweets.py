"""Sample inbound tweets of the TWCS file for hand labelling and write the label file.

The label file holds no text (see docs/labelling.md). The labeller reads each tweet printed by
``show``, writes a decision line per tweet into a scratch file outside the project, and
``build`` turns the decisions into ``models/labels/twcs_asks.csv``, finding each ask's span
with ``str.find`` and checking it.

    python benchmarks/label_tweets.py show --sample random --start 0 --count 50
    python benchmarks/label_tweets.py build --decisions /tmp/labels/twcs.tsv

A decision line is ``row_key kind [ask text[ || ask text ...]]`` (split on white space): the kind is one of the
scheme's kinds (``ask``, ``bug``, ``support``, ...); an ``ask`` line gives the exact
substring of each ask, in the order they appear. Lines starting with ``#`` are comments.
"""

from __future__ import annotations

import argparse
import csv
import random
import re
import sys
from pathlib import Path

from models.labelled import (
    COLUMNS,
    KINDS,
    LABELS_DIR,
    TWCS_SOURCE,
    Span,
    check_spans,
    expected_split,
    format_spans,
    text_digest,
)

ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = ROOT.parent / "shared" / "data"
OUTPUT = LABELS_DIR / "twcs_asks.csv"
SEED = 20261130
RANDOM_SIZE = 450
ENRICHED_SIZE = 380
SECOND_TIER_SIZE = 450
ASK_SEPARATOR = " || "
# The enriched pre-filter: words that often come with a request for a product change. Rows
# matching it are more likely to hold an ask; it decides only which rows are read, never a label.
ASK_CUES = re.compile(
    r"\b(add|adding|option|feature|wish|should|would be (nice|great|good|cool)|bring (back|it back)"
    r"|please let|let us|let me|allow|support for|can you|could you|why can'?t"
    r"|why (is|isn'?t|don'?t|doesn'?t|won'?t)|need|want|hope|suggest|would love|i'?d love|make it"
    r"|please make|change|improve|instead|idea|ability to|able to|how about|plz|pls)\b",
    re.IGNORECASE,
)
# The second tier, drawn once the first tier's pool was used up with too few asks: broader words
# of wanting, changing and product parts, read over the inbound tweets not drawn before.
SECOND_TIER_CUES = re.compile(
    r"\b(why|would|could|wish|make|let|get rid|bring|anymore|no longer|only|please|pls|plz|when will"
    r"|any plans|should|instead|rather|prefer|hope|stop|start|offer|provide|more|less|fewer|cheaper"
    r"|expensive|price|fee|charge|policy|app|website|menu|option|setting|update|version)\b",
    re.IGNORECASE,
)


def inbound_tweets(data_dir: Path) -> dict[str, str]:
    """Every inbound tweet with text, by tweet id, in file order."""
    path = data_dir / TWCS_SOURCE
    if not path.is_file():
        sys.exit(f"{path} is missing: the tweets are read from the shared data folder")
    with path.open(newline="", encoding="utf-8") as handle:
        return {
            row["tweet_id"]: row["text"]
            for row in csv.DictReader(handle)
            if row["inbound"] == "True" and row["text"].strip()
        }


def draw_samples(tweets: dict[str, str]) -> dict[str, list[str]]:
    """The fixed samples, each in labelling order: ``random`` (uniform over inbound tweets) and
    ``enriched``: first uniform over the other inbound tweets that match :data:`ASK_CUES`, then
    uniform over the tweets still not drawn that match it or :data:`SECOND_TIER_CUES`."""
    keys = list(tweets)
    random_keys = random.Random(SEED).sample(keys, RANDOM_SIZE)
    taken = set(random_keys)
    pool = [key for key in keys if key not in taken and ASK_CUES.search(tweets[key])]
    enriched = random.Random(SEED + 1).sample(pool, min(ENRICHED_SIZE, len(pool)))
    taken.update(enriched)
    cues = (ASK_CUES, SECOND_TIER_CUES)
    second_pool = [key for key in keys if key not in taken and any(c.search(tweets[key]) for c in cues)]
    second = random.Random(SEED + 2).sample(second_pool, min(SECOND_TIER_SIZE, len(second_pool)))
    return {"random": random_keys, "enriched": enriched + second}


def show(tweets: dict[str, str], keys: list[str]) -> None:
    for key in keys:
        print(f"{key}\t{tweets[key]!r}")


def read_decisions(path: Path) -> dict[str, tuple[str, list[str]]]:
    """Map each row key to its kind and ask substrings."""
    decisions: dict[str, tuple[str, list[str]]] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        key, kind, *rest = line.split(None, 2)
        asks = [part for part in (rest[0].split(ASK_SEPARATOR) if rest else []) if part]
        if kind not in KINDS or (kind == "ask") != bool(asks):
            sys.exit(f"{path}:{number}: kind {kind!r} with {len(asks)} ask texts")
        if key in decisions:
            sys.exit(f"{path}:{number}: row {key} decided twice")
        decisions[key] = (kind, asks)
    return decisions


def find_spans(text: str, asks: list[str], key: str) -> tuple[Span, ...]:
    """The span of each ask substring, searched in order after the previous one."""
    spans: list[Span] = []
    position = 0
    for ask in asks:
        start = text.find(ask, position)
        if start < 0:
            sys.exit(f"row {key}: ask {ask!r} is not in its text {text!r}")
        spans.append((start, start + len(ask)))
        position = start + len(ask)
    check_spans(tuple(spans), text)
    return tuple(spans)


def label_row(
    *, source: str, key: str, text: str, sample: str, kind: str, asks: list[str], name: str
) -> dict[str, str]:
    """One row of a label file for a decided comment (``name`` is how errors refer to it)."""
    return {
        "source": source,
        "row_key": key,
        "digest": text_digest(text),
        "split": expected_split(source, key),
        "sample": sample,
        "label": "ask" if kind == "ask" else "not_ask",
        "kind": kind,
        "asks": format_spans(find_spans(text, asks, name)),
    }


def write_label_file(rows: list[dict[str, str]], out: Path) -> None:
    """Write the rows with the scheme's columns to ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {out}")


def build(tweets: dict[str, str], decisions: dict[str, tuple[str, list[str]]], out: Path) -> None:
    samples = draw_samples(tweets)
    sample_of = {key: name for name, keys in samples.items() for key in keys}
    unknown = sorted(set(decisions) - set(sample_of))
    if unknown:
        sys.exit(f"decided rows outside the samples: {unknown[:10]}")
    rows = []
    for name, keys in samples.items():
        for key in (key for key in keys if key in decisions):
            kind, asks = decisions[key]
            rows.append(
                label_row(
                    source=TWCS_SOURCE, key=key, text=tweets[key], sample=name, kind=kind, asks=asks, name=key
                )
            )
    write_label_file(rows, out)


def command_parser(
    doc: str | None, *, data_dir: Path, out: Path, items: str
) -> tuple[argparse.ArgumentParser, argparse._SubParsersAction[argparse.ArgumentParser]]:
    """The labelling command line, ``show`` a sample's ``items`` and ``build`` the label file,
    with its sub-command set so a caller can add more."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=data_dir)
    commands = parser.add_subparsers(dest="command", required=True)
    show_parser = commands.add_parser("show", help=f"print {items} of a sample to label")
    show_parser.add_argument("--sample", choices=("random", "enriched"), required=True)
    show_parser.add_argument("--start", type=int, default=0)
    show_parser.add_argument("--count", type=int, default=50)
    build_parser = commands.add_parser("build", help="write the label file from a decisions file")
    build_parser.add_argument("--decisions", type=Path, required=True)
    build_parser.add_argument("--out", type=Path, default=out)
    return parser, commands


def main() -> None:
    parser, _ = command_parser(__doc__, data_dir=DATA_DIR, out=OUTPUT, items="tweets")
    args = parser.parse_args()
    tweets = inbound_tweets(args.data_dir)
    if args.command == "show":
        keys = draw_samples(tweets)[args.sample]
        show(tweets, keys[args.start : args.start + args.count])
        print(f"# pool sizes: { {name: len(keys) for name, keys in draw_samples(tweets).items()} }")
    else:
        build(tweets, read_decisions(args.decisions), args.out)


if __name__ == "__main__":
    main()
