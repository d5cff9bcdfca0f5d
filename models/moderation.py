"""Brand moderation rules, applied to a comment before the suggestion classifier.

Two parts:

* :func:`moderate` (stateless): ``text -> ModerationVerdict | None``. ``None`` means the text
  passes; a verdict carries a machine-readable :class:`ReasonCode` and a human message.
  Rules, in order: too long, empty, no letters, blocked word, too many links, promo spam,
  too short; all but the first read only the person's own words (an appended developer
  reply, quoted reply or signature is cut, and so is a site's notice before them such as
  "（该条评论已经被删除）": :func:`models.text.own_words`). It never raises: any unexpected
  error gives an ``UNPROCESSABLE`` verdict (fail closed).
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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType

from models.moderation_evidence import abuse_match, promo_evidence, words_beside_links
from models.moderation_text import clean_text, count_letters, count_links, count_words
from models.text import own_words

__all__ = [
    "ModerationPolicy",
    "ModerationVerdict",
    "RateLimitState",
    "ReasonCode",
    "check_author_rate",
    "check_author_rates",
    "count_letters",
    "count_links",
    "count_words",
    "moderate",
    "rate_limited_verdict",
]

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


DEFAULT_BLOCKED_WORDS: tuple[str, ...] = ("retard", "kys", "whore", "slut")
DEFAULT_PROFANITY_WORDS: tuple[str, ...] = (
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
)
DEFAULT_SELF_PROMO_PHRASES: tuple[str, ...] = (
    "follow me",
    "follow back",
    "check my profile",
    "check out my profile",
    "check out my channel",
    "visit my profile",
    "subscribe to my",
    "link in bio",
    "link in my bio",
    "free followers",
)
DEFAULT_PROMO_PHRASES: tuple[str, ...] = (
    "promo code",
    "discount code",
    "coupon code",
    "use my code",
    "use code",
    "referral code",
    "dm me",
    "click here",
    "click the link",
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
    "promo",
    "cheap",
    "preorder",
    "pre-order",
)


@dataclass(frozen=True)
class ModerationPolicy:
    """Moderation settings; every list is matched case-insensitively on word boundaries.

    Rules look only at the person's own words (:func:`models.text.own_words`: an appended
    developer reply, quoted reply or signature, or a site's notice before them, is not theirs).
    Word lists are also caught through leetspeak (``sh1t``), repeated letters (``fuuuck``),
    inner symbols (``f*ck``, ``f.u.c.k``), spaced letters (``f u c k``), accents and Cyrillic look-alikes.
    ``blocked_words``: any match removes the comment (slurs, incitement). ``profanity_words``:
    a match removes it only when it is all the comment says (at most ``abuse_max_other_words``
    other words, no link, no ask) or comes with an insult aimed at a person: a swear word in
    feedback or an ask stays. Promotion needs two points of evidence
    (:func:`models.moderation_evidence.promo_evidence`): ``promo_phrases``,
    ``self_promo_phrases`` (two points in the imperative, "Follow me ..."), a
    ``promo_terms_with_link`` term next to a link, a call to action, a handle, a referral code.
    ``max_links``: more links than this remove a comment only when it says at most
    ``link_dump_max_words`` words besides them. ``min_letters`` / ``min_words``: below either
    is too short (an ideograph counts as one word). ``max_chars``: longer texts are rejected,
    and rules never scan more than this many characters. ``max_posts_per_author`` within
    ``author_window_seconds`` (seconds) for :func:`check_author_rate`;
    ``max_tracked_authors`` bounds its memory.
    """

    blocked_words: tuple[str, ...] = DEFAULT_BLOCKED_WORDS
    profanity_words: tuple[str, ...] = DEFAULT_PROFANITY_WORDS
    abuse_max_other_words: int = 4
    promo_phrases: tuple[str, ...] = DEFAULT_PROMO_PHRASES
    self_promo_phrases: tuple[str, ...] = DEFAULT_SELF_PROMO_PHRASES
    promo_terms_with_link: tuple[str, ...] = DEFAULT_PROMO_TERMS_WITH_LINK
    max_links: int = 1
    link_dump_max_words: int = 3
    min_letters: int = 3
    min_words: int = 2
    max_chars: int = 20_000
    max_posts_per_author: int = 5
    author_window_seconds: float = 3600.0
    max_tracked_authors: int = 10_000


# --- stateless rules --------------------------------------------------------------------


def _verdict(code: ReasonCode, message: str, detail: str | None = None) -> ModerationVerdict:
    return ModerationVerdict(code=code, message=message, detail=detail)


def _content_verdict(clean: str, policy: ModerationPolicy) -> ModerationVerdict | None:
    """Abuse, a link dump, promotion: the rules that read what the comment says."""
    abuse = abuse_match(
        clean,
        blocked_words=policy.blocked_words,
        profanity_words=policy.profanity_words,
        max_other_words=policy.abuse_max_other_words,
    )
    if abuse is not None:
        return _verdict(ReasonCode.BLOCKED_WORD, "The comment contains a blocked word.", abuse)
    links = count_links(clean)
    if links > policy.max_links and words_beside_links(clean) <= policy.link_dump_max_words:
        return _verdict(
            ReasonCode.TOO_MANY_LINKS,
            f"The comment is {links} links and little else; at most {policy.max_links} allowed.",
            str(links),
        )
    promo = promo_evidence(
        clean,
        promo_phrases=policy.promo_phrases,
        self_promo_phrases=policy.self_promo_phrases,
        promo_terms_with_link=policy.promo_terms_with_link,
    )
    if promo.points >= 2:
        found = "; ".join(promo.found)
        return _verdict(ReasonCode.PROMO_SPAM, "The comment looks like promotion or spam.", found)
    return None


def _moderate(text: str, policy: ModerationPolicy) -> ModerationVerdict | None:
    if len(text) > policy.max_chars * 4 or len(clean_text(text, policy.max_chars + 1)) > policy.max_chars:
        return _verdict(ReasonCode.TOO_LONG, f"The comment is longer than {policy.max_chars} characters.")
    own = text[: policy.max_chars * 2]
    clean = clean_text(own_words(own), policy.max_chars)
    if not clean:
        return _verdict(ReasonCode.EMPTY, "The comment is empty.")
    letters = count_letters(clean)
    if letters == 0:
        return _verdict(ReasonCode.NO_LETTERS, "The comment has no words, only emoji, digits or symbols.")
    verdict = _content_verdict(clean, policy)
    if verdict is not None:
        return verdict
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
    new_state, (allowed,) = check_author_rates(state, [(author_key, created_at)], policy=policy)
    return new_state, allowed


def check_author_rates(
    state: RateLimitState,
    posts: Sequence[tuple[str, datetime | float | int]],
    *,
    policy: ModerationPolicy | None = None,
) -> tuple[RateLimitState, list[bool]]:
    """:func:`check_author_rate` for ``(author_key, created_at)`` posts in order, at one copy's cost.

    The same decisions as applying :func:`check_author_rate` to each post in turn, except that
    the ``max_tracked_authors`` bound is applied once, after the batch (so an author pushed out
    in the middle of a batch of many new authors is still remembered for the rest of it); the
    state's table of authors is copied once per call instead of once per post: a batch of
    comments costs the size of the table once, not once per comment.
    """
    active = policy if policy is not None else ModerationPolicy()
    authors = dict(state.authors)
    decisions = [_admit(authors, author_key, created_at, active) for author_key, created_at in posts]
    overflow = len(authors) - max(1, active.max_tracked_authors)
    if overflow > 0:
        for key in list(authors)[:overflow]:
            del authors[key]
    return RateLimitState(authors=MappingProxyType(authors)), decisions


def _admit(
    authors: dict[str, tuple[float, ...]],
    author_key: str,
    created_at: datetime | float | int,
    policy: ModerationPolicy,
) -> bool:
    """Decide one post against ``authors`` (least recently active first), recording it if allowed."""
    try:
        now = _seconds(created_at)
    except (TypeError, ValueError, OverflowError, OSError):
        logger.warning("rate limiter got an unusable timestamp %r", created_at)
        return True
    if math.isnan(now):
        return True
    if policy.max_posts_per_author <= 0:
        return False
    start = now - policy.author_window_seconds
    recent = tuple(t for t in authors.pop(author_key, ()) if start < t <= now)
    allowed = len(recent) < policy.max_posts_per_author
    authors[author_key] = tuple(sorted((*recent, now)))[-policy.max_posts_per_author :] if allowed else recent
    return allowed


def rate_limited_verdict(policy: ModerationPolicy | None = None) -> ModerationVerdict:
    """The verdict to attach to a comment refused by :func:`check_author_rate`."""
    active = policy if policy is not None else ModerationPolicy()
    return _verdict(
        ReasonCode.RATE_LIMITED,
        f"Too many comments from this author: at most {active.max_posts_per_author} "
        f"per {active.author_window_seconds:g} seconds.",
    )
