"""Text normalization shared by dedupe, caching and moderation."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_WHITESPACE = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """Return ``text`` in NFKC form with runs of whitespace folded to one space and trimmed.

    Keeps case and punctuation: this is the form stored on events.
    """
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def fold_text(text: str) -> str:
    """Return the comparison key of ``text``: normalized, case-folded, without punctuation.

    Two comments with the same fold are exact repeats (copy-paste, spam waves).
    """
    folded = normalize_text(text).casefold()
    kept = [ch if ch.isalnum() or ch.isspace() else " " for ch in folded]
    return _WHITESPACE.sub(" ", "".join(kept)).strip()


def text_hash(text: str) -> str:
    """Hex SHA-256 of :func:`fold_text` of ``text``: the key of exact-repeat caches."""
    return hashlib.sha256(fold_text(text).encode("utf-8")).hexdigest()
