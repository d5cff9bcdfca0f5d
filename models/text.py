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


# --- the person's own words -----------------------------------------------------------------
#
# Stored comments are normalized (whitespace folded to one space), so every pattern below
# matches both the raw text with its line breaks and the folded form on one line.

_SEPARATOR_RUN = r"(?:[-_=~*—–―─━]\s?){3,}"
_REPLY_HEADER = (
    r"(?:开发者回复|開發者回覆|開發人員回覆|デベロッパの回答|개발자\s?답변"
    r"|(?:the\s)?developer(?:'s|’s)?\s(?:response|reply|answer)"
    r"|(?:response|reply|answer)\sfrom\s(?:the\s)?(?:developer|dev\steam|app\sdeveloper|publisher)"
    r"|réponse\sdu\sdéveloppeur|antwort\sdes\sentwicklers|respuesta\sdel\sdesarrollador"
    r"|resposta\sdo\sdesenvolvedor|risposta\sdello\ssviluppatore|ответ\sразработчика)"
)
_REPLY_OPENER = (
    r"(?:(?:hi|hello|hey|dear|greetings)\b[^.!?\n]{0,40}?[,!.]?\s*)?"
    r"(?:thanks?(?:\syou)?(?:\sso\smuch)?\sfor\s(?:your|the|taking|reaching|letting|sharing|using|bringing)"
    r"|we(?:'re|’re|\sare)\s(?:so\s|very\s|really\s)?sorry|we\sappreciate|sorry\s(?:to\shear|for\sthe))"
)
_BOUNDARY = r"(?:^|(?<=\n)|(?<=[.!?…)\]]\s)|(?<=[.!?…)\]]))"
_AUTHORED_CUTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # a separator run, then a developer's or publisher's reply header
    ("reply", re.compile(rf"\s*{_SEPARATOR_RUN}\s*{_REPLY_HEADER}", re.IGNORECASE)),
    # a reply header at a line or sentence start, followed by a colon or a line break
    ("reply", re.compile(rf"{_BOUNDARY}\s*{_REPLY_HEADER}\s*(?:[:：]|\n)", re.IGNORECASE)),
    # a reply header, then the opening words of a reply to the reviewer
    ("reply", re.compile(rf"\s*{_REPLY_HEADER}[\s:：,.-]*{_REPLY_OPENER}", re.IGNORECASE)),
    # a separator run, then the opening words of a reply to the reviewer
    ("reply", re.compile(rf"\s*{_SEPARATOR_RUN}\s*{_REPLY_OPENER}", re.IGNORECASE)),
    # an appended e-mail reply or forwarded message ("> " lines alone are not: people use ">" as bullets)
    ("quoted_reply", re.compile(r"\s*-{2,}\s*(?:original|forwarded)\smessage\s*-{2,}", re.IGNORECASE)),
    ("quoted_reply", re.compile(r"(?:^|(?<=\s))On\s[^\n]{4,160}?\swrote:(?=\s|$)")),
    ("quoted_reply", re.compile(r"(?:^|\n)\s*From:\s[^\n]{1,200}\n\s*(?:Sent|Date):\s", re.IGNORECASE)),
    # a trailing signature block: "-- " line, "Sent from my ...", an agent's "^AB" initials
    ("signature", re.compile(r"\n--[ \t]?\n(?:[^\n]{0,80}(?:\n|$)){1,5}\s*$")),
    (
        "signature",
        re.compile(
            r"\s*(?:sent\sfrom\s(?:my\s)?\w[\w ]{0,30}|get\soutlook\sfor\s\w+|sent\svia\s\w[\w ]{0,30})\s*$",
            re.IGNORECASE,
        ),
    ),
    ("signature", re.compile(r"\s+\^[A-Z]{1,3}\s*$")),
)
_TRAILING_SEPARATORS = re.compile(rf"(?:\s|{_SEPARATOR_RUN})+$")


def authored_cut(text: str) -> tuple[int, str | None]:
    """Where the person's own words in ``text`` end, and what follows them.

    Returns ``(end, kind)``: ``text[:end]`` is what the person wrote, ``kind`` is ``"reply"``
    (a developer's or brand's reply appended after a separator line or under a header such as
    "Developer Response" or "开发者回复"), ``"quoted_reply"`` (an appended e-mail reply, a
    forwarded message) or ``"signature"`` (a trailing
    signature block, "Sent from my phone", an agent's initials), or ``None`` when nothing is
    cut (``end == len(text)``). Works on raw text and on the whitespace-folded form alike;
    offsets index ``text`` itself, so spans within the prefix stay valid. The earliest cut
    wins; trailing whitespace and separator lines before it are dropped. A separator line
    followed by more of the person's own words (an "Update:" section) is not a cut.
    """
    end, kind = len(text), None
    for name, pattern in _AUTHORED_CUTS:
        match = pattern.search(text, 0, end)
        if match is not None and match.start() < end:
            end, kind = match.start(), name
    if kind is None:
        return end, None
    trailing = _TRAILING_SEPARATORS.search(text, 0, end)
    return (trailing.start() if trailing is not None else end), kind


def authored_end(text: str) -> int:
    """End offset of the person's own words in ``text`` (see :func:`authored_cut`)."""
    return authored_cut(text)[0]
