"""The judge report of ``youasked eval suggestions`` without ``--input``: every test split.

Scores today's classifier (whole comments, as shipped before per-unit judging) and the unit
judge (any unit an ask) on the splits of :mod:`models.judge_eval` plus the demo sample, on the
same vectors, and with ``asks`` the span overlap on every split with labelled ask spans.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from contracts.settings import get_settings
from models.datasets import LabelledTexts
from models.embedding import Embedder
from models.explicit_asks import with_explicit_asks
from models.factories import (
    DEFAULT_CLASSIFIER_DIR,
    DEFAULT_UNIT_FIRST_STAGE_DIR,
    DEFAULT_UNIT_JUDGE_DIR,
    base_embedder,
    load_scorer,
)
from models.first_stage import FirstStage
from models.judge import FirstStageScorer, SuggestionScorer
from models.judge_eval import Contender, EvalSplit, ask_overlap, evaluate, test_splits
from models.non_asks import NonAskGate
from models.suggestion_training import NpzCachedEmbedder
from models.suggestions import MODEL_FILE, SuggestionClassifier


def load_short_posts() -> LabelledTexts:
    """The demo sample's hand-written posts with their written-for category (suggestion = 1).

    App Store reviews are ``"<title>. <text>"``, as the Maalej loader does.
    """
    import random

    from youasked.demo import build_sample

    # the store ratings the sample was written with (drawn from its seed where a post fixes none)
    drawn = {
        (rec.spec.category, rec.spec.title, rec.spec.text): rec.rating
        for rec in build_sample.build_records(random.Random(build_sample.SEED))
    }
    ids: list[str] = []
    texts: list[str] = []
    labels: list[int] = []
    ratings: list[int | None] = []
    for index, spec in enumerate(build_sample.all_specs()):
        ids.append(f"{spec.category}:{index}")
        texts.append(f"{spec.title}. {spec.text}" if spec.title else spec.text)
        labels.append(1 if spec.category == "suggestion" else 0)
        ratings.append(drawn.get((spec.category, spec.title, spec.text)))
    return LabelledTexts(
        name="short-posts", ids=tuple(ids), texts=tuple(texts), labels=tuple(labels), ratings=tuple(ratings)
    )


def all_splits(data_dir: Path) -> list[EvalSplit]:
    """The test splits of :func:`models.judge_eval.test_splits` and the demo sample (``demo``)."""
    return [*test_splits(data_dir), EvalSplit.of(load_short_posts(), "demo")]


def cached_encoder(cache_dir: Path) -> Embedder:
    """The production encoder behind an on-disk cache keyed by the encoder's digest."""
    encoder = base_embedder(get_settings())
    manifest = getattr(encoder, "manifest", None)
    digest = manifest.onnx_sha256[:12] if manifest is not None else type(encoder).__name__
    return NpzCachedEmbedder(encoder, cache_dir / "embeddings" / f"judge_{digest}.npz")


def baseline_and_judge(judge_dir: Path | None = None) -> list[Contender]:
    """Today's classifier on whole comments and on units, then the unit judge on units (and behind
    its first stage when that artifact exists).
    """
    today = SuggestionClassifier.load(DEFAULT_CLASSIFIER_DIR)
    return [
        Contender("today (comment)", today, per_unit=False),
        Contender("today (units)", today),
        *saved_judge(
            "unit judge",
            judge_dir or DEFAULT_UNIT_JUDGE_DIR,
            first_stage_dir=None if judge_dir else DEFAULT_UNIT_FIRST_STAGE_DIR,
        ),
    ]


def saved_judge(name: str, judge_dir: Path, *, first_stage_dir: Path | None = None) -> list[Contender]:
    """The unit judge saved in ``judge_dir`` on units, and behind its first stage (``first_stage_dir``,
    else ``judge_dir / "first_stage"``) when that artifact exists; both as the worker runs them,
    behind the non-ask rules and with the explicit-ask rule (each off in the settings: without it).
    """
    settings = get_settings()
    stage_dir = first_stage_dir or judge_dir / "first_stage"
    judge: SuggestionScorer = load_scorer(judge_dir)
    stage: FirstStageScorer | None = None
    if (stage_dir / MODEL_FILE).is_file():
        stage = FirstStage.load(stage_dir)
    if settings.explicit_ask_rule:
        judge, stage = with_explicit_asks(judge, stage)
    rule = settings.non_ask_rules
    out = [Contender(name, judge, gate=NonAskGate() if rule else None)]
    if stage is not None:
        out.append(Contender(f"{name} + first stage", judge, gate=NonAskGate(stage) if rule else stage))
    return out


def judge_report(
    data_dir: Path, *, contenders: list[Contender], encoder: Embedder, asks: bool
) -> dict[str, Any]:
    """``{"comments": evaluate(...), "asks": {contender: {split: ask_overlap}}}`` (asks when asked)."""
    splits = all_splits(data_dir)
    report: dict[str, Any] = {"comments": evaluate(contenders, splits, vectors=encoder.embed)}
    if asks:
        report["asks"] = {
            c.name: {
                s.name: ask_overlap(s, c.model, vectors=encoder.embed, gate=c.gate)
                for s in splits
                if s.spans is not None
            }
            for c in contenders
            if c.per_unit
        }
    return report
