"""What the abuse, promotion and link rules weigh before a comment is removed.

A swear word, a link or a phrase such as "work from home" is common in ordinary feedback, so
none of them removes a comment alone (measured on real comments: ``youasked eval moderation``).
Each function here takes the cleaned text (:func:`models.moderation_text.clean_text`) and plain
lists, and returns what it found, so the rules stay pure and testable:

* :func:`abuse_match`: a profanity is abuse when it is all the comment says (few other words,
  no link, no ask) or it comes with an insult aimed at a person ("you idiots");
* :func:`promo_evidence`: promotion needs two pieces of evidence (a promo phrase, a promo term
  next to a link, a call to action opening a sentence or pointing at a link, a social handle,
  an urgency phrase, a money claim such as "earn $500"); a
  self-promotion phrase in the imperative ("Follow me ...") or a referral code ("use code
  AB12CD") counts twice;
* :func:`words_beside_links`: how much a comment says besides its links (a link dump says
  next to nothing).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from models.moderation_text import abuse_view, blocked_regex, count_links, phrase_regex, strip_accents

_URL_OR_MENTION = re.compile(
    r"(?:https?://|www\.)\S+|(?<![@\w.])(?:[a-z0-9-]{1,63}\.)+[a-z]{2,6}\b(?:/\S*)?|@[\w.]+",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_](?:[^\W_]|['’-][^\W\d_])*")
_ASK_CUE = re.compile(
    r"\b(?:please|pls|plz|add|want|wish|need|should|could|would|bring|allow|let|option|feature|make|give|hope)\b"
)
_INSULT = (
    r"(?:idiots?|morons?|imbeciles?|clowns?|losers?|scum(?:bags?)?|assholes?|bitch(?:es)?|bastards?"
    r"|cunts?|twats?|wankers?|dickheads?)"
)
_DIRECTED_INSULT = re.compile(
    rf"\b(?:you|u|ya|y'?all|you\s+(?:guys|lot|people|all))(?:\s+(?:are|r)|'re|’re)?"
    rf"(?:\s+(?:a|an|such|so|bunch|of|complete|total|fucking|stupid|bloody|greedy|useless)){{0,4}}\s+{_INSULT}\b"
    r"|\bkill\s+yourself\b|\bgo\s+die\b"
)
# a sentence opens at the start, after sentence punctuation, or after an emoji or symbol
_SENTENCE_START = r"(?:^|(?<=[.!?…,;:\n])|(?<=[^\w\s,'’\"@#&$%()-]))\s*(?:(?:go|and|pls|please|plz|now)\s+)?"
_CALL_TO_ACTION = re.compile(
    _SENTENCE_START
    + r"(?:come\s+(?:and\s+)?)?(?:"
    r"(?:get|grab|claim|win)\s+(?:a|an|your|the|this|it|free|up\s+to|now|\d)"
    r"|(?:join|subscribe|follow|visit)\s+(?:us|our|me|my|now|today|the|at)"
    r"|(?:shop|buy)\s+(?:now|our|the|at|today|online|cheap)"
    r"|save\s+(?:big|up\s+to|now|on|\d|\$)"
    r"|(?:sign\s+up|register)\s+(?:now|today|at|for\s+free|here)"
    r"|re-?tweet|rt\s+to"
    r"|(?:get|grab|claim|join|visit|shop|buy|subscribe|follow|download|sign\s+up|register)\s+(?:(?:at|on|here|now)\s+)?"
    r"(?=(?:https?://|www\.|(?:[a-z0-9-]+\.)+(?:com|net|org|io|co|ly|me|gg|xyz|biz|shop|store|site|online|link|app)\b)))\b"
)
_MONEY_CLAIM = re.compile(r"\b(?:earn|make|made|making|earning)\s+(?:up\s+to\s+)?[$€£]\s?\d")
_HANDLE = re.compile(
    r"\b(?:insta(?:gram)?|ig|snap(?:chat)?|tik\s?tok|twitch|telegram|whatsapp|kik)\s*(?:is|:|-|@)\s*@?[\w.]{3,}"
)
_REFERRAL_CODE = re.compile(
    r"\b(?:use|enter|apply)\s+(?:my\s+)?(?:promo\s+|referral\s+|invite\s+|discount\s+|coupon\s+)?code\s*:?\s*"
    r"(?=[a-z0-9]*\d)(?=[a-z0-9]*[a-z])[a-z0-9]{4,}\b"
)
DEFAULT_URGENCY_PHRASES: tuple[str, ...] = (
    "limited time",
    "act now",
    "hurry",
    "don't miss",
    "dont miss",
    "today only",
    "while stocks last",
    "ends soon",
    "order now",
    "shop now",
    "buy now",
    "sign up now",
    "join now",
)


def _content_words(text: str) -> list[str]:
    """Words of ``text`` outside links and @mentions (a #hashtag's word counts)."""
    return _WORD.findall(_URL_OR_MENTION.sub(" ", text))


def words_beside_links(clean: str) -> int:
    """How many words ``clean`` has outside its links and @mentions."""
    return len(_content_words(clean))


def abuse_match(
    clean: str, *, blocked_words: tuple[str, ...], profanity_words: tuple[str, ...], max_other_words: int
) -> str | None:
    """The abusive term that should remove ``clean``, or None.

    A ``blocked_words`` term removes the comment wherever it stands. A ``profanity_words`` term
    removes it only when the comment also aims an insult at a person, or when it is all the
    comment says: at most ``max_other_words`` other words, no link, no words of an ask.
    """
    view = abuse_view(clean)
    either = blocked_regex(blocked_words + profanity_words)
    if either is None or either.search(view) is None:  # one scan for the common case
        return None
    hard = blocked_regex(blocked_words)
    match = hard.search(view) if hard is not None else None
    if match is not None:
        return match.group(0)
    soft = blocked_regex(profanity_words)
    match = soft.search(view) if soft is not None else None
    if soft is None or match is None:
        return None
    directed = _DIRECTED_INSULT.search(view)
    if directed is not None:
        return directed.group(0)
    others = _WORD.findall(soft.sub(" ", abuse_view(_URL_OR_MENTION.sub(" ", clean))))
    if len(others) <= max_other_words and count_links(clean) == 0 and not _ASK_CUE.search(" ".join(others)):
        return match.group(0)
    return None


@dataclass(frozen=True, slots=True)
class PromoEvidence:
    """What in a comment looks like promotion: ``points`` (2 or more removes it) and the matches.

    Past 2 points the count may stop short: it decides, it does not grade.
    """

    points: int
    found: tuple[str, ...]


@lru_cache(maxsize=32)
def _imperative_regex(phrases: tuple[str, ...]) -> re.Pattern[str] | None:
    inner = phrase_regex(phrases)
    return None if inner is None else re.compile(_SENTENCE_START + r"(?:" + inner.pattern + r")")


def _first_apart(
    pattern: re.Pattern[str] | None, text: str, taken: list[tuple[int, int]]
) -> re.Match[str] | None:
    """The first match of ``pattern`` in ``text`` that overlaps none of the ``taken`` spans."""
    if pattern is None:
        return None
    for match in pattern.finditer(text):
        if not any(start < match.end() and match.start() < end for start, end in taken):
            return match
    return None


def promo_evidence(
    clean: str,
    *,
    promo_phrases: tuple[str, ...],
    self_promo_phrases: tuple[str, ...],
    promo_terms_with_link: tuple[str, ...],
    urgency_phrases: tuple[str, ...] = DEFAULT_URGENCY_PHRASES,
) -> PromoEvidence:
    """Weigh the promotion evidence in ``clean`` (see the module docstring).

    The call to action, the slowest test, is made only when another piece was found: alone it
    is one point, never enough.
    """
    folded = strip_accents(clean.casefold())
    found: list[str] = []
    spans: list[tuple[int, int]] = []
    code = _REFERRAL_CODE.search(folded) if "code" in folded else None
    if code is not None:
        found.append(code.group(0))
    points = 2 * len(found)
    any_phrase = phrase_regex(self_promo_phrases + promo_phrases + urgency_phrases)
    phrase_lists = (self_promo_phrases, promo_phrases, urgency_phrases)
    for phrases in phrase_lists if any_phrase is not None and any_phrase.search(folded) else ():
        match = _first_apart(phrase_regex(phrases), folded, spans)
        if match is not None:
            points, found = points + 1, [*found, match.group(0).strip()]
            spans.append(match.span())
            imperative = _imperative_regex(phrases) if phrases is self_promo_phrases else None
            points += imperative is not None and imperative.search(folded) is not None
    terms = phrase_regex(promo_terms_with_link)
    term = terms.search(folded) if terms is not None and count_links(clean) > 0 else None
    if term is not None:
        points, found = points + 1, [*found, f"{term.group(0)} + link"]
    for pattern in (_MONEY_CLAIM, _HANDLE):
        if pattern is _MONEY_CLAIM and not any(sign in folded for sign in "$€£"):
            continue
        match = pattern.search(folded)
        if match is not None:
            points, found = points + 1, [*found, match.group(0)]
    action = _first_apart(_CALL_TO_ACTION, folded, spans) if points == 1 else None
    if action is not None:
        points, found = points + 1, [*found, action.group(0).strip()]
    return PromoEvidence(points, tuple(found))
