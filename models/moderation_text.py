"""Text views the moderation rules match on: cleaned, de-obfuscated, and counted.

Pure helpers shared by :mod:`models.moderation`; "letters" are Unicode letters of any script.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from models.text import normalize_text

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
_LEET = str.maketrans(
    {
        "0": "o",
        "1": "i",
        "3": "e",
        "4": "a",
        "5": "s",
        "7": "t",
        "8": "b",
        "@": "a",
        "$": "s",
        "!": "i",
        "|": "l",
        "€": "e",
    }
)
_LEET_RUN = re.compile(r"(?<![^\W_])(?<![@$|€])[0-9@$|€]++(?=[^\W\d_])|(?<=[^\W\d_])[0-9@$!|€]++(?=[^\W\d_])")
"""Runs of digits and symbols inside or before a word ("sh1t", "@ss"), each run matched from its
first character only: a long run is read once, not from each of its characters."""
_CONFUSABLE = str.maketrans(
    {
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "у": "y",
        "х": "x",
        "і": "i",
        "к": "k",
        "т": "t",
        "ѕ": "s",
        "ԁ": "d",
    }
)
_LATIN = re.compile(r"[a-z]")
_TOKEN = re.compile(r"\S+")
_SPACED_LETTERS = re.compile(r"(?<!\w)(?:[^\W\d_][ .\-_*]){2,}[^\W\d_](?!\w)")
_URL = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|(?<![@\w.])(?:[a-z0-9-]{1,63}\.)+(?:com|net|org|io|co|ly|me|gg|info|biz|xyz|ru|app|link|shop|store|site|online|top|tk)\b(?:/\S*)?",
    re.IGNORECASE,
)
_SPACELESS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f\uf900-\ufaff]")


def clean_text(text: str, limit: int) -> str:
    """NFKC, control and zero-width characters removed, whitespace folded, cut at ``limit``."""
    return normalize_text(_CONTROL.sub(" ", text[: limit * 2]))[:limit]


def strip_accents(text: str) -> str:
    """``text`` without combining accents (NFKD, marks dropped)."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _unconfuse(token: str) -> str:
    """Map Cyrillic look-alikes to Latin, only inside tokens that already mix in Latin letters."""
    mapped = token.translate(_CONFUSABLE)
    return mapped if _LATIN.search(token) and mapped != token else token


def abuse_view(text: str) -> str:
    """The case-folded, de-obfuscated form the blocked-word rule is matched on."""
    folded = strip_accents(text.casefold())
    folded = " ".join(_unconfuse(tok) for tok in _TOKEN.findall(folded))
    folded = _LEET_RUN.sub(lambda m: m.group(0).translate(_LEET), folded)
    return _SPACED_LETTERS.sub(lambda m: re.sub(r"[ .\-_*]", "", m.group(0)), folded)


def _word_pattern(word: str) -> str:
    """Regex for one blocked word: letters may repeat, be split by up to 2 symbols, vowels starred."""
    parts: list[str] = []
    for ch in word.casefold():
        piece = f"{re.escape(ch)}+"
        if ch in "aeiou":
            piece = f"(?:{piece}|[*#])"
        parts.append(piece)
    return r"[.\-_*~'`]{0,2}".join(parts)


@lru_cache(maxsize=32)
def blocked_regex(words: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex for ``words`` on the abuse view (obfuscations allowed), or None for no words."""
    patterns = [_word_pattern(w) for w in words if w.strip()]
    if not patterns:
        return None
    return re.compile(r"(?<![^\W\d_])(?:" + "|".join(patterns) + r")(?![^\W\d_])")


@lru_cache(maxsize=32)
def phrase_regex(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    """One regex for ``phrases`` (case-folded, any run of spaces between words), or None for none."""
    cleaned = [re.escape(p.casefold().strip()).replace(r"\ ", r"\s+") for p in phrases if p.strip()]
    if not cleaned:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(cleaned) + r")(?!\w)")


def count_letters(text: str) -> int:
    """Number of Unicode letters (any script) in ``text``."""
    return sum(1 for ch in text if ch.isalpha())


def count_words(text: str) -> int:
    """Whitespace tokens containing a letter; in CJK/Thai/Hangul runs each such character counts as a word."""
    total = 0
    for token in _TOKEN.findall(text):
        if any(ch.isalpha() for ch in token):
            total += max(1, len(_SPACELESS.findall(token)))
    return total


def count_links(text: str) -> int:
    """Number of URL-like spans (``http(s)://``, ``www.``, bare ``name.tld/...``) in ``text``."""
    return len(_URL.findall(text))
