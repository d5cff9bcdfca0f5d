"""Brand moderation rules, applied to a comment before the suggestion classifier.

Two parts:

* :func:`moderate` (stateless): ``text -> ModerationVerdict | None``. ``None`` means the text
  passes; a verdict carries a machine-readable :class:`ReasonCode` and a human message.
  Rules, in order: empty, too long, no letters, blocked word, too many links, promo spam,
  too short. It never raises: any unexpected error gives an ``UNPROCESSABLE`` verdict
  (fail closed).
* :func:`check_author_rate` (stateful but pure): ``(state, author_key, created_at) ->
  (new_state, allowed)`` with the clock passed in and memory bounded by
  ``max_tracked_authors * max_posts_per_author`` timestamps. The input state is never
  mutated.

"Letters" are Unicode letters of any script (``str.isalpha``): Cyrillic, Arabic, CJK and
so on count, emoji, digits and punctuation do not.
"""

from __future__ import annotations

import enum
import logging
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from types import MappingProxyType

from models.text import normalize_text

logger = logging.getLogger(__name__)


class ReasonCode(enum.StrEnum):
    """Why a comment was rejected; stable strings for storage and APIs."""

    EMPTY = "empty"
    TOO_LONG = "too_long"
    NO_LETTERS = "no_letters"
    BLOCKED_WORD = "blocked_word"
    TOO_MANY_LINKS = "too_many_links"
    PROMO_SPAM = "promo_spam"
    TOO_SHORT = "too_short"
    RATE_LIMITED = "rate_limited"
    UNPROCESSABLE = "unprocessable"


@dataclass(frozen=True)
class ModerationVerdict:
    """A rejection: ``code`` for machines, ``message`` for people, ``detail`` (e.g. the matched term)."""

    code: ReasonCode
    message: str
    detail: str | None = None


DEFAULT_BLOCKED_WORDS: tuple[str, ...] = (
    "fuck",
    "fucking",
    "fucker",
    "motherfucker",
    "shit",
    "bullshit",
    "cunt",
    "bitch",
    "asshole",
    "bastard",
    "dickhead",
    "wanker",
    "twat",
    "slut",
    "whore",
    "retard",
    "kys",
)
DEFAULT_PROMO_PHRASES: tuple[str, ...] = (
    "promo code",
    "discount code",
    "coupon code",
    "use my code",
    "use code",
    "referral code",
    "follow me",
    "follow back",
    "dm me",
    "check my profile",
    "check out my profile",
    "check out my channel",
    "visit my profile",
    "subscribe to my",
    "link in bio",
    "link in my bio",
    "click here",
    "click the link",
    "free followers",
    "make money",
    "earn money",
    "work from home",
    "whatsapp me",
    "telegram me",
)
DEFAULT_PROMO_TERMS_WITH_LINK: tuple[str, ...] = (
    "discount",
    "coupon",
    "offer",
    "deal",
    "free",
    "sale",
    "giveaway",
    "crypto",
    "bitcoin",
    "investment",
    "profit",
    "followers",
)


@dataclass(frozen=True)
class ModerationPolicy:
    """Moderation settings; every list is matched case-insensitively on word boundaries.

    ``blocked_words``: abuse/stop words, also caught through leetspeak (``sh1t``), repeated
    letters (``fuuuck``), inner symbols (``f*ck``, ``f.u.c.k``), spaced letters
    (``f u c k``), accents and Cyrillic look-alikes. ``max_links``: a comment with more
    URLs is rejected. ``promo_phrases``: any match rejects. ``promo_terms_with_link``: a
    match rejects only when the comment also has a link. ``min_letters`` / ``min_words``:
    below either is too short (an ideograph counts as one word). ``max_chars``: longer
    texts are rejected, and rules never scan more than this many characters.
    ``max_posts_per_author`` within ``author_window_seconds`` (seconds) for
    :func:`check_author_rate`; ``max_tracked_authors`` bounds its memory.
    """

    blocked_words: tuple[str, ...] = DEFAULT_BLOCKED_WORDS
    promo_phrases: tuple[str, ...] = DEFAULT_PROMO_PHRASES
    promo_terms_with_link: tuple[str, ...] = DEFAULT_PROMO_TERMS_WITH_LINK
    max_links: int = 1
    min_letters: int = 3
    min_words: int = 2
    max_chars: int = 20_000
    max_posts_per_author: int = 5
    author_window_seconds: float = 3600.0
    max_tracked_authors: int = 10_000


# --- text views -------------------------------------------------------------------------

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
_LEET_RUN = re.compile(r"(?<![^\W_])[0-9@$|€]+(?=[^\W\d_])|(?<=[^\W\d_])[0-9@$!|€]+(?=[^\W\d_])")
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


def _clean(text: str, limit: int) -> str:
    """NFKC, control and zero-width characters removed, whitespace folded, cut at ``limit``."""
    return normalize_text(_CONTROL.sub(" ", text[: limit * 2]))[:limit]


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _unconfuse(token: str) -> str:
    """Map Cyrillic look-alikes to Latin, only inside tokens that already mix in Latin letters."""
    mapped = token.translate(_CONFUSABLE)
    return mapped if _LATIN.search(token) and mapped != token else token


def _abuse_view(text: str) -> str:
    """The case-folded, de-obfuscated form the blocked-word rule is matched on."""
    folded = _strip_accents(text.casefold())
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
def _blocked_regex(words: tuple[str, ...]) -> re.Pattern[str] | None:
    patterns = [_word_pattern(w) for w in words if w.strip()]
    if not patterns:
        return None
    return re.compile(r"(?<![^\W\d_])(?:" + "|".join(patterns) + r")(?![^\W\d_])")


@lru_cache(maxsize=32)
def _phrase_regex(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
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


# --- stateless rules --------------------------------------------------------------------


def _verdict(code: ReasonCode, message: str, detail: str | None = None) -> ModerationVerdict:
    return ModerationVerdict(code=code, message=message, detail=detail)


def _moderate(text: str, policy: ModerationPolicy) -> ModerationVerdict | None:
    if len(text) > policy.max_chars * 4 or len(_clean(text, policy.max_chars + 1)) > policy.max_chars:
        return _verdict(ReasonCode.TOO_LONG, f"The comment is longer than {policy.max_chars} characters.")
    clean = _clean(text, policy.max_chars)
    if not clean:
        return _verdict(ReasonCode.EMPTY, "The comment is empty.")
    letters = count_letters(clean)
    if letters == 0:
        return _verdict(ReasonCode.NO_LETTERS, "The comment has no words, only emoji, digits or symbols.")
    blocked = _blocked_regex(policy.blocked_words)
    if blocked is not None:
        match = blocked.search(_abuse_view(clean))
        if match is not None:
            return _verdict(ReasonCode.BLOCKED_WORD, "The comment contains a blocked word.", match.group(0))
    links = count_links(clean)
    if links > policy.max_links:
        return _verdict(
            ReasonCode.TOO_MANY_LINKS,
            f"The comment has {links} links; at most {policy.max_links} allowed.",
            str(links),
        )
    folded = _strip_accents(clean.casefold())
    promo = _phrase_regex(policy.promo_phrases)
    match = promo.search(folded) if promo is not None else None
    if match is None and links > 0:
        with_link = _phrase_regex(policy.promo_terms_with_link)
        match = with_link.search(folded) if with_link is not None else None
    if match is not None:
        return _verdict(ReasonCode.PROMO_SPAM, "The comment looks like promotion or spam.", match.group(0))
    words = count_words(clean)
    if letters < policy.min_letters or words < policy.min_words:
        return _verdict(
            ReasonCode.TOO_SHORT,
            f"The comment is too short (needs {policy.min_words} words and {policy.min_letters} letters).",
            f"{words} words, {letters} letters",
        )
    return None


def moderate(text: str, policy: ModerationPolicy | None = None) -> ModerationVerdict | None:
    """Apply the stateless rules of ``policy`` (defaults when ``None``) to ``text``.

    Returns ``None`` when the comment passes, else the first failing rule's verdict.
    Never raises: a non-string or an internal error gives ``UNPROCESSABLE``.
    """
    active = policy if policy is not None else ModerationPolicy()
    try:
        if not isinstance(text, str):
            return _verdict(ReasonCode.UNPROCESSABLE, "The comment is not text.")
        return _moderate(text, active)
    except Exception:  # moderation must never take the pipeline down
        logger.exception("moderation failed; rejecting the comment")
        return _verdict(ReasonCode.UNPROCESSABLE, "The comment could not be checked.")


# --- per-author rate limit ----------------------------------------------------------------


@dataclass(frozen=True)
class RateLimitState:
    """Recent accepted post times (epoch seconds, ascending) per author, least recently active first.

    Immutable: :func:`check_author_rate` returns a new state.
    """

    authors: Mapping[str, tuple[float, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def __len__(self) -> int:
        return len(self.authors)


def _seconds(created_at: datetime | float | int) -> float:
    if isinstance(created_at, datetime):
        return created_at.timestamp()
    return float(created_at)


def check_author_rate(
    state: RateLimitState,
    author_key: str,
    created_at: datetime | float | int,
    *,
    policy: ModerationPolicy | None = None,
) -> tuple[RateLimitState, bool]:
    """Decide whether ``author_key`` may post at ``created_at`` (datetime, or epoch seconds).

    Allowed when the author has fewer than ``max_posts_per_author`` accepted posts in the
    half-open window ``(created_at - author_window_seconds, created_at]``. Only allowed posts
    are recorded. At most ``max_posts_per_author`` times are kept per author and at most
    ``max_tracked_authors`` authors (the least recently active are forgotten). Returns
    ``(new_state, allowed)``; ``state`` is not modified. Never raises: a bad timestamp is
    allowed through and not recorded.
    """
    active = policy if policy is not None else ModerationPolicy()
    try:
        now = _seconds(created_at)
    except (TypeError, ValueError, OverflowError, OSError):
        logger.warning("rate limiter got an unusable timestamp %r", created_at)
        return state, True
    if math.isnan(now):
        return state, True
    if active.max_posts_per_author <= 0:
        return state, False
    start = now - active.author_window_seconds
    recent = tuple(t for t in state.authors.get(author_key, ()) if start < t <= now)
    allowed = len(recent) < active.max_posts_per_author
    kept = tuple(sorted((*recent, now)))[-active.max_posts_per_author :] if allowed else recent
    authors = {key: times for key, times in state.authors.items() if key != author_key}
    authors[author_key] = kept
    overflow = len(authors) - max(1, active.max_tracked_authors)
    if overflow > 0:
        for key in list(authors)[:overflow]:
            del authors[key]
    return RateLimitState(authors=MappingProxyType(authors)), allowed


def rate_limited_verdict(policy: ModerationPolicy | None = None) -> ModerationVerdict:
    """The verdict to attach to a comment refused by :func:`check_author_rate`."""
    active = policy if policy is not None else ModerationPolicy()
    return _verdict(
        ReasonCode.RATE_LIMITED,
        f"Too many comments from this author: at most {active.max_posts_per_author} "
        f"per {active.author_window_seconds:g} seconds.",
    )
