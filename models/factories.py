"""Builds the core's objects from settings, for the worker and the CLI alike."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from contracts.settings import Settings
from models.closure import load_templates
from models.cpu_features import weights_for_this_cpu
from models.embedding import CachedEmbedder, MiniLMEmbedder
from models.explicit_asks import with_explicit_asks
from models.first_stage import FirstStage
from models.judge import FirstStageScorer, SuggestionJudge, SuggestionScorer
from models.moderation import ModerationPolicy
from models.onnx_embedding import OnnxEmbedder
from models.onnx_export import ExportManifest, default_export_dir, exported_manifest
from models.scoring import ScoringWeights
from models.suggestion_mlp import MLP_FORMAT, SuggestionMLP
from models.suggestions import MODEL_FILE, SuggestionClassifier

if TYPE_CHECKING:
    from models.closure import ClosureTemplates
    from models.embedding import Embedder
    from models.judge import SuggestionJudge
    from models.moderation import ModerationPolicy
    from models.scoring import ScoringWeights

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
# The production judge: the unit judge (every unit of a comment scored) behind its first stage.
DEFAULT_UNIT_JUDGE_DIR = ARTIFACTS_DIR / "unit_judge"
DEFAULT_UNIT_FIRST_STAGE_DIR = ARTIFACTS_DIR / "unit_first_stage"
# The whole-comment classifier and its first stage, kept as the baseline the reports print beside it.
DEFAULT_CLASSIFIER_DIR = ARTIFACTS_DIR / "suggestion_classifier"
DEFAULT_FIRST_STAGE_DIR = ARTIFACTS_DIR / "first_stage"


def moderation_policy(settings: Settings) -> ModerationPolicy:
    """The brand's moderation policy from settings (built-in lists where none are set)."""
    policy = ModerationPolicy(
        max_links=settings.moderation_max_links,
        min_letters=settings.moderation_min_letters,
        min_words=settings.moderation_min_words,
        max_chars=settings.max_text_chars,
        max_posts_per_author=settings.moderation_max_posts_per_author,
        author_window_seconds=settings.moderation_author_window_s,
    )
    if settings.moderation_blocked_words is not None:
        policy = replace(policy, blocked_words=tuple(settings.moderation_blocked_words))
    if settings.moderation_profanity_words is not None:
        policy = replace(policy, profanity_words=tuple(settings.moderation_profanity_words))
    if settings.moderation_promo_phrases is not None:
        policy = replace(policy, promo_phrases=tuple(settings.moderation_promo_phrases))
    if settings.moderation_self_promo_phrases is not None:
        policy = replace(policy, self_promo_phrases=tuple(settings.moderation_self_promo_phrases))
    return policy


def embedding_weights(settings: Settings) -> str:
    """The export's weights the settings ask for on this machine: ``embedding_weights``, "auto" read
    as int8 where the CPU has int8 dot products and fp32 elsewhere (:mod:`models.cpu_features`).
    """
    return weights_for_this_cpu(settings.embedding_weights)


def onnx_model_dir(settings: Settings) -> Path:
    """The ONNX export the worker and the CLI load: the configured folder, else the one in the cache."""
    return settings.embedding_onnx_dir or default_export_dir(settings.cache_dir, embedding_weights(settings))


def _manifest(settings: Settings, directory: Path) -> ExportManifest:
    """The verified export in ``directory``, written first if missing. A folder someone configured
    (``embedding_onnx_dir``) is used with whatever weights it holds; the cache's folders are named
    by their weights, so the one of ``embedding_weights`` is exported when it does not match.
    """
    chosen = settings.embedding_onnx_dir is not None
    return exported_manifest(directory, weights=embedding_weights(settings), any_weights=chosen)


def exported_model_dir(settings: Settings) -> Path:
    """:func:`onnx_model_dir` holding a verified export (exported first if needed: seconds, once)."""
    directory = onnx_model_dir(settings)
    _manifest(settings, directory)
    return directory


def base_embedder(
    settings: Settings, *, batch_size: int | None = None, batch_tokens: int | None = None
) -> Embedder:
    """The embedding model of ``settings.embedding_backend``, without a cache (loads it: seconds).

    ``batch_tokens`` (ONNX only) sizes each model run by padded word pieces instead of
    ``batch_size`` texts (see :class:`~models.onnx_embedding.OnnxEmbedder`).

    The ONNX backend exports the model into :func:`onnx_model_dir` first if no valid export is
    there yet (a few seconds, once, under a lock; no PyTorch). The ``torch`` backend needs the full
    package set and raises :class:`~models.embedding.TorchBackendMissingError` without it.
    """
    size = batch_size or settings.embedding_batch_size
    if settings.embedding_backend == "torch":
        return MiniLMEmbedder(batch_size=size)
    directory = onnx_model_dir(settings)
    manifest = _manifest(settings, directory)
    return OnnxEmbedder(
        directory,
        batch_size=size,
        batch_tokens=batch_tokens,
        threads=settings.embedding_threads or None,
        spinning=settings.embedding_thread_spinning,
        manifest=manifest,
    )


def embedder(
    settings: Settings, *, batch_size: int | None = None, batch_tokens: int | None = None
) -> Embedder:
    """The embedding model with its exact-repeat cache (loads the model: seconds)."""
    model = base_embedder(settings, batch_size=batch_size, batch_tokens=batch_tokens)
    if settings.embedding_cache_entries <= 0:
        return model
    return CachedEmbedder(model, max_entries=settings.embedding_cache_entries)


def first_stage(settings: Settings) -> FirstStage | None:
    """The trained first stage (``settings.first_stage_dir`` or the one shipped in front of the unit
    judge); None when turned off.
    """
    if not settings.first_stage:
        return None
    return FirstStage.load(settings.first_stage_dir or DEFAULT_UNIT_FIRST_STAGE_DIR)


def load_scorer(directory: Path | str) -> SuggestionClassifier | SuggestionMLP:
    """The trained classifier in ``directory``: an MLP head or a regression, by its format
    (no training code imported).
    """
    document = json.loads((Path(directory) / MODEL_FILE).read_text(encoding="utf-8"))
    if document.get("format") == MLP_FORMAT:
        return SuggestionMLP.load(directory)
    return SuggestionClassifier.load(directory)


def classifier(settings: Settings) -> SuggestionClassifier | SuggestionMLP:
    """The production classifier: ``settings.classifier_dir``, else the shipped unit judge."""
    return load_scorer(settings.classifier_dir or DEFAULT_UNIT_JUDGE_DIR)


def suggestion_judge(settings: Settings, *, with_embedder: Embedder | None = None) -> SuggestionJudge:
    """Moderation + the first stage + embeddings + the trained classifier on every unit of a
    comment, with the word rules the settings turn on: the production path.
    """
    scorer: SuggestionScorer = classifier(settings)
    front: FirstStageScorer | None = first_stage(settings)
    if settings.explicit_ask_rule:
        scorer, front = with_explicit_asks(scorer, front)
    return SuggestionJudge(
        embedder=with_embedder or embedder(settings),
        scorer=scorer,
        policy=moderation_policy(settings),
        first_stage=front,
        non_ask_rules=settings.non_ask_rules,
    )


def scoring_weights(settings: Settings) -> ScoringWeights:
    """The impact formula's weights: the defaults with the settings' overrides (checked)."""
    return ScoringWeights(**settings.score_weights)  # type: ignore[arg-type]


def closure_templates(settings: Settings) -> ClosureTemplates:
    """The brand's closure templates (validated at load: a bad file stops the worker at start)."""
    return load_templates(path=settings.closure_templates)
