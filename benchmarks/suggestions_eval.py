"""Suggestion classifier: the three generalization checks in one table.

1. **CLAP holdout over several split salts**: for each salt, train on the CLAP + Maalej training
   splits (80% of each file, :func:`models.datasets.split_train_holdout` with that salt), score
   the CLAP holdout; mean ± sd over salts.
2. **Maalej holdout**: the same models, scored on the Maalej holdout (mean ± sd).
3. **Short social posts**: the hand-written demo posts of ``youasked/demo/build_sample.py``
   (category ``suggestion`` = positive; bugs, praise, questions, complaints, spam, abuse and
   very short posts = negative), scored by every model (mean ± sd), with the classifier alone and
   with moderation in front. These posts are *only* evaluated, never trained or tuned on.

The first salt is the project's default split (the one the committed artifact is trained on).
``--artifact DIR`` also scores a saved artifact on the default-split holdouts and the short posts.

Usage (from the project root)::

    nice -n 10 .venv/bin/python benchmarks/suggestions_eval.py
    nice -n 10 .venv/bin/python benchmarks/suggestions_eval.py --artifact models/artifacts/suggestion_classifier
    nice -n 10 .venv/bin/python benchmarks/suggestions_eval.py --set c=1.0 --set sentence_cues=false

Embeddings are computed once per file (one pass in file order, as in training) and cached in
``.cache/embeddings/suggestions_minilm.npz``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from models.datasets import SPLIT_SALT, LabelledTexts, concat, load_clap, load_maalej, split_train_holdout
from models.embedding import Embedder
from models.moderation import ModerationPolicy
from models.suggestion_training import NpzCachedEmbedder, source_groups, train_suggestion_classifier
from models.suggestions import (
    SuggestionClassifier,
    TrainingConfig,
    decisions_and_reasons,
    evaluate_binary,
    judge_texts,
)
from youasked.judge_report import load_short_posts

CACHE = ROOT / ".cache" / "embeddings" / "suggestions_minilm.npz"
SALTS = (SPLIT_SALT, "eval-salt-1", "eval-salt-2", "eval-salt-3", "eval-salt-4")


def _score(
    model: SuggestionClassifier, data: LabelledTexts, embedder: Embedder, policy: ModerationPolicy | None
) -> dict[str, Any]:
    judgements = judge_texts(data.texts, classifier=model, embedder=embedder, policy=policy)
    decisions, _ = decisions_and_reasons(judgements)
    return evaluate_binary(decisions, [bool(label) for label in data.labels])


def _mean_sd(values: Sequence[float]) -> str:
    array = np.asarray(values, dtype=np.float64)
    return f"{array.mean():.3f} ± {array.std(ddof=1) if len(array) > 1 else 0.0:.3f}"


def _parse_value(raw: str, current: Any) -> Any:
    if isinstance(current, bool):
        return raw.casefold() in {"1", "true", "yes"}
    if isinstance(current, int):
        return int(raw)
    if isinstance(current, float):
        return float(raw)
    return raw


def config_from(overrides: Sequence[str]) -> TrainingConfig:
    """``TrainingConfig()`` with ``key=value`` overrides (values parsed by the field's default type)."""
    config = TrainingConfig()
    changes: dict[str, Any] = {}
    for item in overrides:
        key, _, raw = item.partition("=")
        changes[key] = _parse_value(raw, getattr(config, key))
    return dataclasses.replace(config, **changes)


def run(
    data_dir: Path, config: TrainingConfig, salts: Sequence[str], artifact: Path | None
) -> dict[str, Any]:
    from models.embedding import MiniLMEmbedder
    from youasked.progress import counting_bar

    embedder = NpzCachedEmbedder(MiniLMEmbedder(), CACHE)
    full = {"clap": load_clap(data_dir), "maalej": load_maalej(data_dir)}
    posts = load_short_posts()
    parts = (*full.values(), posts)
    with counting_bar("embedding the files", total=len(parts), unit="files") as advance:
        for data in parts:  # one pass per file, in file order
            embedder.embed(list(data.texts))
            advance()
    rows: dict[str, dict[str, list[float]]] = {}
    thresholds: list[float] = []

    def record(name: str, result: dict[str, Any]) -> None:
        slot = rows.setdefault(name, {"precision": [], "recall": [], "f1": []})
        for key in slot:
            slot[key].append(float(result[key]))

    per_salt = config.folds + 1 + 4  # folds, final fit, four scores
    with counting_bar(
        f"training and scoring over {len(salts)} salts", total=len(salts) * per_salt, unit="steps"
    ) as advance:
        for salt in salts:
            splits = {name: split_train_holdout(data, salt=salt) for name, data in full.items()}
            train = concat([splits["clap"][0], splits["maalej"][0]], name="clap-train+maalej-train")
            model = train_suggestion_classifier(
                train.texts,
                train.labels,
                embedder.embed(list(train.texts)),
                seed=0,
                config=config,
                groups=source_groups(train),
                on_step=advance,
            )
            thresholds.append(model.threshold)
            record("CLAP holdout", _score(model, splits["clap"][1], embedder, None))
            advance()
            record("Maalej holdout", _score(model, splits["maalej"][1], embedder, None))
            advance()
            record("short social posts", _score(model, posts, embedder, None))
            advance()
            record("short social posts + moderation", _score(model, posts, embedder, ModerationPolicy()))
            advance()
            logging.info("salt %s: %s", salt, {k: v["f1"][-1] for k, v in rows.items()})
    report: dict[str, Any] = {
        "config": dataclasses.asdict(config),
        "salts": list(salts),
        "thresholds": thresholds,
        "short_posts": {"n": len(posts), "positives": posts.positives},
        "table": {
            name: {key: _mean_sd(values) for key, values in slot.items()} | {"f1_per_salt": slot["f1"]}
            for name, slot in rows.items()
        },
    }
    if artifact is not None:
        model = SuggestionClassifier.load(artifact)
        splits = {name: split_train_holdout(data) for name, data in full.items()}
        report["artifact"] = {
            "version": model.version,
            "threshold": model.threshold,
            "CLAP holdout": _score(model, splits["clap"][1], embedder, None),
            "Maalej holdout": _score(model, splits["maalej"][1], embedder, None),
            "short social posts": _score(model, posts, embedder, None),
            "short social posts + moderation": _score(model, posts, embedder, ModerationPolicy()),
        }
    return report


def print_table(report: dict[str, Any]) -> None:
    print(
        f"{'check':34} {'precision':>15} {'recall':>15} {'F1':>15}   (mean ± sd over {len(report['salts'])} salts)"
    )
    for name, cell in report["table"].items():
        print(f"{name:34} {cell['precision']:>15} {cell['recall']:>15} {cell['f1']:>15}")
    if "artifact" in report:
        art = report["artifact"]
        print(f"\nartifact {art['version']} (threshold {art['threshold']:.2f}), default split:")
        for name, cell in art.items():
            if isinstance(cell, dict):
                print(f"{name:34} {cell['precision']:>15.3f} {cell['recall']:>15.3f} {cell['f1']:>15.3f}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--salts", type=int, default=len(SALTS), help="how many of the split salts to use")
    parser.add_argument("--set", action="append", default=[], help="TrainingConfig override key=value")
    parser.add_argument("--artifact", type=Path, default=None, help="also score this saved artifact")
    parser.add_argument("--json", type=Path, default=None, help="write the full report here")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
    for name in ("models.suggestions", "models.suggestion_training", "models.datasets"):
        logging.getLogger(name).setLevel(logging.WARNING)
    report = run(args.data, config_from(args.set), SALTS[: args.salts], args.artifact)
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print_table(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
