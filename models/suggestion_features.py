"""Feature blocks of the suggestion classifier (see :mod:`models.suggestions`).

Everything here is computed from the text and its one sentence embedding; no extra model
calls. Blocks, in column order:

* the embedding, times ``embedding_weight``;
* word 1-2-gram TF-IDF;
* one binary column per request-cue regex (searched in the whole text), times ``cue_weight``;
* when ``sentence_features``: sentence-level cue features (:data:`SENTENCE_FEATURES`), times
  ``cue_weight``. They are length-free: a short post with one request sentence and a long
  review whose request is one of many sentences score alike.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from models.embedding import FloatMatrix

# The cue list of artifact format 1; kept verbatim so old artifacts load and score unchanged.
LEGACY_CUES: tuple[str, ...] = (
    r"\b(please|pls|plz)\s+(add|make|include|allow|let|bring|give|put|consider|implement|create|enable|have)\b",
    r"\bwould\s+(be|b)\s+(so\s+|really\s+|very\s+)?(nice|great|good|awesome|cool|better|helpful|perfect|amazing|useful)\b",
    r"\bwish\b",
    r"\bhope\s+(you|they|u|the)\b",
    r"\bshould\s+(have|be\s+able|add|include|allow|let|make|be\s+an?)\b",
    r"\b(option|ability|able|possibility|way)\s+to\b",
    r"\badd(ed|ing)?\s+(a|an|the|more|some|option|support|ability|feature)\b",
    r"\b(need|needs|want|wants|wanted|like)\s+(a|an|more|to\s+add|to\s+be\s+able|the\s+option|an\s+option)\b",
    r"\b(could|can|would|will)\s+(you|u|they|devs?)\s+(please\s+)?(add|make|include|allow|put|bring|give|let)\b",
    r"\bwould\s+(love|like|prefer)\b",
    r"\bif\s+only\b",
    r"\b(feature\s+request|suggestion|suggest|request)\b",
    r"\b(missing|lacks|lacking|no\s+option|there\s+is\s+no|there's\s+no|doesn'?t\s+have|does\s+not\s+have)\b",
    r"\bmore\s+(options|features|levels|themes|settings|colors|songs|content|customization)\b",
    r"\bsupport\s+for\b",
    r"\b(next|future)\s+(update|version|release)\b",
    r"\bcould\s+(use|be\s+better|be\s+improved|do\s+with)\b",
    r"\bimprove(d|ment|ments)?\b",
    r"\bfix\b",
    r"\b(crash|crashes|crashing|bug|bugs|freez|error)\w*\b",
    r"\?",
)

# Generic request phrasing missing from the legacy list: a bare "please" (the object may come
# first: "dark mode please"), "feature idea", "any plans / any chance", "would pay for",
# "would be huge", "can we have", "let me/us/users", "when will ... get", and the commonest
# request markers of Spanish, German and French ("por favor", "bitte", "svp", "wäre toll"...).
EXTRA_CUES: tuple[str, ...] = (
    r"\b(please|pls|plz|plss+|pleas+e)\b",
    r"\bfeature\s+(idea|wish)\b|\bidea\s*:",
    r"\bany\s+(plans?|chance|news|eta)\b|\bon\s+the\s+roadmap\b",
    r"\bwould\s+pay\b|\bwould\s+(be|make\s+it)\s+(huge|a\s+game\s*changer|perfect|ideal)\b",
    r"\b(can|could)\s+(we|i)\s+(please\s+)?(have|get|add|choose|set|filter|turn|export)\b",
    r"\blet\s+(me|us|users|people)\b",
    r"\bwhen\s+(will|are|is|do|can)\s+(we|you|it|i)\b.*\b(get|getting|add|adding|have|coming)\b",
    r"\b(por\s+favor|porfa|ser[ií]a\s+(genial|bueno|bien|[uú]til)|estar[ií]a\s+(bien|genial)|me\s+encantar[ií]a)\b",
    r"\b(bitte|w[äa]re\s+(toll|super|klasse|mega|sch[öo]n|gut|praktisch|n[üu]tzlich|dringend))\b",
    r"\b(svp|s'il\s+vous\s+pla[iî]t|ce\s+serait\s+(top|bien|g[ée]nial|pratique)|il\s+faudrait)\b",
)

# Legacy cues that name problems rather than asks (fix, crash/bug words, a question mark).
BUG_CUES: frozenset[str] = frozenset(LEGACY_CUES[18:])

# A sentence that starts (after an optional "please") with an imperative change verb.
IMPERATIVE_START = re.compile(
    r"^\W*(?:(?:please|pls|plz)\s+)?(add|make|let|give|allow|include|bring|support|show|put|enable|"
    r"implement|create|integrate|cache|offer|provide|introduce)\b",
    re.IGNORECASE,
)
SENTENCE_SPLIT = re.compile(r"(?<=[.!?;])\s+|\n+")

SENTENCE_FEATURES: tuple[str, ...] = (
    "imperative_sentence",  # some sentence starts with an imperative change verb
    "cue_sentence_fraction",  # share of sentences carrying a request cue (bug cues excluded)
    "max_cues_in_sentence",  # most request cues in one sentence, capped at 3, divided by 3
)


def cue_patterns(*, drop_bug_cues: bool, extra_cues: bool) -> tuple[str, ...]:
    """The cue regex list for a configuration, in column order."""
    base = tuple(p for p in LEGACY_CUES if not (drop_bug_cues and p in BUG_CUES))
    return base + (EXTRA_CUES if extra_cues else ())


def split_sentences(text: str) -> list[str]:
    """Sentences of ``text`` (split after ``.!?;`` and at line breaks); never empty."""
    parts = [part.strip() for part in SENTENCE_SPLIT.split(text)]
    return [part for part in parts if part] or [text]


def sentence_cue_features(text: str, request_cues: Sequence[re.Pattern[str]]) -> list[float]:
    """The :data:`SENTENCE_FEATURES` of one text."""
    sentences = split_sentences(text)
    counts = [sum(1 for rx in request_cues if rx.search(sentence)) for sentence in sentences]
    imperative = any(IMPERATIVE_START.search(sentence) for sentence in sentences)
    return [
        1.0 if imperative else 0.0,
        sum(1 for count in counts if count) / len(sentences),
        min(max(counts), 3) / 3.0,
    ]


@dataclass(frozen=True)
class FeatureSettings:
    """The feature-shaping part of a training configuration."""

    embedding_weight: float
    cue_weight: float
    sentence_features: bool


def build_features(
    texts: Sequence[str],
    vectors: FloatMatrix,
    *,
    word: TfidfVectorizer | None,
    cues: Sequence[re.Pattern[str]],
    settings: FeatureSettings | Any,
) -> sparse.csr_matrix:
    """Concatenate the blocks listed in the module docstring column-wise; ``(n, n_features)``.
    ``word`` None leaves the word block out.

    ``settings`` is anything with ``embedding_weight``, ``cue_weight`` and ``sentence_features``
    attributes (a :class:`FeatureSettings` or a training configuration).
    """
    matrix = np.asarray(vectors, dtype=np.float64)
    if matrix.shape[0] != len(texts):
        raise ValueError(f"{len(texts)} texts but {matrix.shape[0]} vectors")
    text_list = list(texts)
    cue_matrix = np.array([[1.0 if rx.search(t) else 0.0 for rx in cues] for t in text_list]).reshape(
        len(text_list), len(cues)
    )
    blocks = [
        sparse.csr_matrix(matrix * settings.embedding_weight),
        *([] if word is None else [word.transform(text_list)]),
        sparse.csr_matrix(cue_matrix * settings.cue_weight),
    ]
    if settings.sentence_features:
        request_cues = [rx for rx in cues if rx.pattern not in BUG_CUES]
        rows = np.array([sentence_cue_features(t, request_cues) for t in text_list]).reshape(
            len(text_list), len(SENTENCE_FEATURES)
        )
        blocks.append(sparse.csr_matrix(rows * settings.cue_weight))
    return sparse.hstack(blocks, format="csr")


def feature_count(embedding_dim: int, vocabulary_size: int, cue_count: int, sentence_features: bool) -> int:
    """Number of design-matrix columns for these block sizes."""
    return embedding_dim + vocabulary_size + cue_count + (len(SENTENCE_FEATURES) if sentence_features else 0)
