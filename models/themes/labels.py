"""Theme labels by class-based TF-IDF, titles from the members' words, and the most central
member as representative.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import CountVectorizer

from models.ask_context import product_words
from models.themes.records import Member, ThemeRecord
from models.themes.titles import FUNCTION_WORDS, TitleInput, clean_text, theme_titles

logger = logging.getLogger(__name__)

_KEYWORD_PATTERN = r"(?u)\b[^\W\d_]{2,}\b"
_NOT_KEYWORDS = sorted(
    FUNCTION_WORDS | {piece for word in FUNCTION_WORDS for piece in re.findall(_KEYWORD_PATTERN, word)}
)
"""Words never taken for keywords, with the pieces the keyword tokenizer cuts them into ("don")."""


def ctfidf_keywords(
    class_texts: Sequence[Sequence[str]], *, top_n: int, ignore: frozenset[str] = frozenset()
) -> list[list[str]]:
    """Top ``top_n`` keywords per class by c-TF-IDF (BERTopic's formula).

    ``class_texts[i]`` are the texts of class ``i``. The weight of term ``t`` in class ``c``
    is ``tf(t, c) / |c| * log(1 + A / f(t))`` where ``A`` is the average number of words per
    class and ``f(t)`` the frequency of ``t`` over all classes. English function words, the words
    every request is made of ("please", "pls", "add", "option", "feature", "idea", "awesome": the
    lead-ins titles never begin or end with, :data:`models.themes.titles.FUNCTION_WORDS`) and the
    lower-case words of ``ignore`` (the product's name) are dropped: keywords say what is asked
    for, not how.
    """
    docs = [" ".join(texts) for texts in class_texts]
    if not docs:
        return []
    try:
        vectorizer = CountVectorizer(stop_words=_NOT_KEYWORDS, token_pattern=_KEYWORD_PATTERN)
        counts = vectorizer.fit_transform(docs)
    except ValueError:  # only stop words / empty texts
        return [[] for _ in docs]
    terms = vectorizer.get_feature_names_out()
    tf = np.asarray(counts.todense(), dtype=np.float64)
    words_per_class = tf.sum(axis=1, keepdims=True)
    words_per_class[words_per_class == 0] = 1.0
    average = float(tf.sum()) / len(docs)
    term_freq = tf.sum(axis=0)
    idf = np.log(1.0 + average / np.maximum(term_freq, 1.0))
    weights = tf / words_per_class * idf
    weights[:, [i for i, term in enumerate(terms) if term in ignore]] = 0.0
    out: list[list[str]] = []
    for row in weights:
        order = np.argsort(-row, kind="stable")[:top_n]
        out.append([str(terms[i]) for i in order if row[i] > 0])
    return out


def representative(members: Sequence[Member], centroid: np.ndarray) -> Member | None:
    """The member whose vector has the highest cosine to ``centroid`` (``None`` if empty)."""
    if not members:
        return None
    sims = np.stack([m.vector for m in members]) @ centroid
    return members[int(np.argmax(sims))]


FALLBACK_TITLE_WORDS = 8


def _fallback_title(text: str) -> str:
    """A title for a theme too small for :func:`theme_titles` to pick one (an emerging theme of
    two or three asks): the first clause of its most central ask, at most
    :data:`FALLBACK_TITLE_WORDS` words, cleaned like every title (no handle, no URL).
    """
    clause = re.split(r"(?<=[.!?;:])\s", clean_text(text).strip(), maxsplit=1)[0].rstrip(".!?;:, ")
    words = clause.split()
    shown = " ".join(words[:FALLBACK_TITLE_WORDS])
    return shown + ("…" if len(words) > FALLBACK_TITLE_WORDS else "")


def relabel(themes: Sequence[ThemeRecord], *, top_n: int) -> list[str]:
    """Recompute label, keywords, title and representative of ``themes`` (keywords and titles
    are measured across them, from the asks' own words, never a reply appended to them, a
    handle, a URL, a hashtag or the product's own name; a title a person gave,
    :attr:`ThemeRecord.name`, is kept).

    Returns the ids whose label, title or representative changed.
    """
    named = product_words(themes[0].product) if themes else frozenset()
    # Words are read from every member a theme holds, the provisional ones too: a theme founded
    # by two asks that three more joined at a re-cluster is named from the five, not the two.
    own = [[clean_text(m.text) for m in t.members] for t in themes]  # no reply, handle, URL or hashtag
    keywords = ctfidf_keywords(own, top_n=top_n, ignore=named)
    inputs = [_title_input(t, texts) for t, texts in zip(themes, own, strict=True)]
    titles = theme_titles(inputs, ignore=named, cleaned=True)
    changed: list[str] = []
    for theme, words, picked in zip(themes, keywords, titles, strict=True):
        best = representative(theme.sample or theme.provisional, theme.centroid())
        label = " / ".join(words) if words else (best.text[:60] if best else "")
        rep_id = best.suggestion_id if best else theme.representative_id
        title = picked or theme.title or (_fallback_title(best.text) if best else "")
        if label != theme.label or rep_id != theme.representative_id or title != theme.title:
            changed.append(theme.theme_id)
        theme.label = label
        theme.keywords = words
        theme.title = title
        if best is not None:
            theme.representative_id = best.suggestion_id
            theme.representative_text = best.text
    logger.debug("relabelled %d themes, %d changed", len(themes), len(changed))
    return changed


def _title_input(theme: ThemeRecord, texts: list[str]) -> TitleInput:
    """``theme``'s members as titles read them: ``texts`` are their own words, in member order."""
    members = theme.members
    dim = len(theme.vector_sum)
    vectors = np.stack([m.vector for m in members]) if members else np.zeros((0, dim), np.float32)
    return TitleInput(texts=texts, vectors=vectors, centroid=theme.centroid())
