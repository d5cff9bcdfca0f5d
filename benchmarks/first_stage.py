"""The first stage on every shared evaluation file: what it saves and what it costs.

For each file, the production path (moderation, then the classifier) is run twice with the same
vectors: without the first stage and with it. Printed per file: precision / recall / F1 of both,
the share of comments the first stage passes on (of those moderation lets through) and the share
of all comments the embedding model still embeds, and the recall lost (without - with; the bar
is 0.01 on every file).

Usage (from the project root)::

    nice -n 10 .venv/bin/python benchmarks/first_stage.py
    nice -n 10 .venv/bin/python benchmarks/first_stage.py --train --keep 0.995 --c 1.0   # a fresh one

``--train`` trains a first stage in memory on the training splits (the committed one is not
touched) to compare settings; the evaluation files never set anything. Embeddings are computed
once per whole file (one pass in file order, ONNX Runtime) and cached in
``.cache/embeddings/suggestions_onnx.npz``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from contracts.settings import Settings
from models.datasets import LabelledTexts, load_clap, load_labelled_csv, load_maalej, split_train_holdout
from models.embedding import Embedder
from models.factories import DEFAULT_CLASSIFIER_DIR, DEFAULT_FIRST_STAGE_DIR, base_embedder
from models.first_stage import FirstStage, FirstStageConfig
from models.first_stage_training import train_first_stage_from_shared_data
from models.moderation import ModerationPolicy
from models.suggestion_training import NpzCachedEmbedder
from models.suggestions import SuggestionClassifier, decisions_and_reasons, evaluate_binary, judge_texts

CACHE = ROOT / ".cache" / "embeddings" / "suggestions_onnx.npz"
TIZARD = Path("suggestions") / "tizard_forum_sentences.csv"


def evaluation_sets(data_dir: Path) -> list[LabelledTexts]:
    """Every shared evaluation file, as ``youasked eval suggestions`` reads it, and the two holdouts."""
    clap, maalej = load_clap(data_dir), load_maalej(data_dir)
    tizard = load_labelled_csv(
        data_dir / TIZARD, "text", "label_norm", "feature request", id_col="id", name="tizard"
    )
    return [
        clap,
        split_train_holdout(clap)[1],
        maalej,
        split_train_holdout(maalej)[1],
        tizard,
    ]


def compare(
    data: LabelledTexts,
    *,
    classifier: SuggestionClassifier,
    first_stage: FirstStage,
    embedder: Embedder,
    policy: ModerationPolicy,
) -> dict[str, Any]:
    """Figures of one set without and with ``first_stage`` (same vectors for both runs)."""
    gold = [bool(label) for label in data.labels]
    without, reasons_without = decisions_and_reasons(
        judge_texts(data.texts, classifier=classifier, embedder=embedder, policy=policy)
    )
    with_first, reasons = decisions_and_reasons(
        judge_texts(data.texts, classifier=classifier, embedder=embedder, policy=policy, first_stage=first_stage)
    )
    moderated = sum(reasons_without.values())
    rejected = reasons.get("first_stage", 0)
    reached = len(data) - moderated
    before, after = evaluate_binary(without, gold), evaluate_binary(with_first, gold)
    lost = sum(1 for a, b, g in zip(without, with_first, gold, strict=True) if a and not b and g)
    return {
        "set": f"{data.name} ({len(data)})",
        "positives": before["positives"],
        "without": {k: before[k] for k in ("precision", "recall", "f1")},
        "with": {k: after[k] for k in ("precision", "recall", "f1")},
        "first_stage_pass_rate": round((reached - rejected) / reached, 4) if reached else 0.0,
        "embedded_share": round((reached - rejected) / len(data), 4),
        "embedded_share_without": round(reached / len(data), 4),
        "positives_lost": lost,
        "recall_loss": round(before["recall"] - after["recall"], 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--train", action="store_true", help="train a first stage in memory instead")
    parser.add_argument("--keep", type=float, default=FirstStageConfig().keep_target)
    parser.add_argument("--c", type=float, default=FirstStageConfig().c)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    embedder = NpzCachedEmbedder(base_embedder(Settings()), CACHE)
    classifier = SuggestionClassifier.load(DEFAULT_CLASSIFIER_DIR)
    if args.train:
        with tempfile.TemporaryDirectory() as out:
            config = FirstStageConfig(keep_target=args.keep, c=args.c)
            train_first_stage_from_shared_data(args.data, Path(out), embedder, classifier, config=config)
            first_stage = FirstStage.load(out)
    else:
        first_stage = FirstStage.load(DEFAULT_FIRST_STAGE_DIR)
    header = {
        "classifier": classifier.version,
        "first_stage": first_stage.version,
        "threshold": round(first_stage.threshold, 4),
        "cross_validation": first_stage.metrics.get("cross_validation"),
    }
    print(json.dumps(header))
    print(
        "| set | positives | without P / R / F1 | with P / R / F1 | passed on | embedded (without) | recall loss |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    worst = 0.0
    for data in evaluation_sets(args.data):
        row = compare(
            data, classifier=classifier, first_stage=first_stage, embedder=embedder, policy=ModerationPolicy()
        )
        worst = max(worst, row["recall_loss"])
        a, b = row["without"], row["with"]
        print(
            f"| {row['set']} | {row['positives']} | {a['precision']:.3f} / {a['recall']:.3f} / {a['f1']:.3f} "
            f"| {b['precision']:.3f} / {b['recall']:.3f} / {b['f1']:.3f} | {row['first_stage_pass_rate']:.1%} "
            f"| {row['embedded_share']:.1%} ({row['embedded_share_without']:.1%}) "
            f"| {row['recall_loss']:.4f} ({row['positives_lost']} lost) |",
            flush=True,
        )
    print(f"worst recall loss: {worst:.4f} ({'within' if worst <= 0.01 else 'OVER'} the 0.01 bar)")


if __name__ == "__main__":
    main()
