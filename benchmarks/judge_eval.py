"""Score candidate suggestion judges at comment level on every test split, side by side.

Usage (from the project root)::

    nice -n 10 .venv/bin/python benchmarks/judge_eval.py [--json out.json]

Candidates: today's shipped classifier on whole comments (the baseline) and on units, and every
artifact directory passed with ``--artifact NAME=DIR`` (judged per unit). Splits and the mean
F1 are those of :mod:`models.judge_eval`, plus ``demo`` (the demo sample, never trained on).
Embeddings come from the production encoder and are cached in
``.cache/embeddings/judge_<encoder digest>.npz`` (keyed by the folded-text hash).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.suggestions_eval import load_short_posts
from models.embedding import Embedder
from models.judge_eval import Contender, EvalSplit, evaluate, format_table, test_splits
from models.suggestion_training import NpzCachedEmbedder
from models.suggestions import SuggestionClassifier

DEFAULT_ARTIFACT = ROOT / "models" / "artifacts" / "suggestion_classifier"


def cached_encoder() -> Embedder:
    """The production encoder behind an on-disk cache keyed by the encoder's digest."""
    from contracts.settings import get_settings
    from models.factories import base_embedder

    encoder = base_embedder(get_settings())
    manifest = getattr(encoder, "manifest", None)
    digest = manifest.onnx_sha256[:12] if manifest is not None else type(encoder).__name__
    return NpzCachedEmbedder(encoder, ROOT / ".cache" / "embeddings" / f"judge_{digest}.npz")


def all_splits(data_dir: Path) -> list[EvalSplit]:
    """The test splits of :func:`models.judge_eval.test_splits` and the demo sample."""
    return [*test_splits(data_dir), EvalSplit.of(load_short_posts(), "demo")]


def contenders(artifacts: Sequence[str]) -> list[Contender]:
    """Today's classifier on comments and on units, then each ``NAME=DIR`` artifact on units."""
    today = SuggestionClassifier.load(DEFAULT_ARTIFACT)
    out = [Contender("today (comment)", today, per_unit=False), Contender("today (units)", today)]
    for item in artifacts:
        name, _, directory = item.partition("=")
        out.append(Contender(name, load_candidate(Path(directory))))
    return out


def load_candidate(directory: Path) -> SuggestionClassifier:
    """A saved unit judge artifact."""
    return SuggestionClassifier.load(directory)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--artifact", action="append", default=[], help="NAME=DIR of a unit judge")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s", stream=sys.stderr)
    encoder = cached_encoder()
    report = evaluate(contenders(args.artifact), all_splits(args.data), vectors=encoder.embed)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(format_table(report))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
