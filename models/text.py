"""Text normalization shared by dedupe, caching and moderation."""

from __future__ import annotations

import hashlib
import html
import re
import unicodedata
from collections.abc import Iterable

_WHITESPACE = re.compile(r"\s+")

EMAIL = r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
"""An e-mail address, matched from the first character of its run only (linear in the text); the
splitter never cuts one, a theme's title never shows one."""
WEB_SUFFIXES = r"com|org|net|io|co|app|ly|me|gl|gg|dev|ai|edu|gov"
"""The endings that make a bare word with dots a web address ("example.com/path") for the splitter
and the titles (moderation counts links with a list of its own, spam's endings among them)."""


_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_LINE_BREAK = re.compile(r"[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")
_SPACE_RUN = re.compile(r"[^\S\n]+")


def normalize_text(text: str) -> str:
    """Return ``text`` with its HTML character references read, in NFKC form, each run of
    whitespace folded to one line break when it holds one and to one space otherwise, trimmed.

    Keeps case, punctuation and line breaks: this is the form stored on events. A line break
    often ends a thought where social text has no full stop ("love it", a line break, "please
    add a widget"), and the unit splitter reads it so. Platforms and scrapers hand over text
    with HTML escapes ("don&#39;t", "Q&amp;A"); only well-formed references (ending in ``;``)
    are read, so "R&D" or "&copy" in a sentence stay as typed.
    """
    read = _ENTITY.sub(lambda found: html.unescape(found.group(0)), text) if "&" in text else text
    # each maximal run is read once (a pattern such as \s*<break>\s* would scan a long run of
    # spaces from each of its characters: quadratic in the run's length)
    folded = _WHITESPACE.sub(
        lambda run: "\n" if _LINE_BREAK.search(run.group(0)) else run.group(0),
        unicodedata.normalize("NFKC", read),
    )
    return _SPACE_RUN.sub(" ", folded).strip()


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
# Stored comments are normalized (whitespace folded to one space or one line break), and texts
# from elsewhere may be folded to one line, so every pattern below matches the raw text with its
# line breaks and the folded form on one line alike.

_SEPARATOR_CHARS = "-_=~*—–―─━"
_SEPARATOR_CHAR = f"[{_SEPARATOR_CHARS}]"  # "-" first: a hyphen, not a range
_SEPARATOR_RUN = rf"(?:{_SEPARATOR_CHAR}\s?){{3,}}+"
"""A separator line ("-----", "* * *"): read whole and never given back (possessive)."""
_RUN_START = rf"(?<!{_SEPARATOR_CHAR})(?<!{_SEPARATOR_CHAR}\s)"
"""A separator run is matched from its first character only: searched from each of its characters,
a run of a few thousand "*" took seconds (each start scanned the rest of the run)."""
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
SIGNATURE_LINES = 5
"""A signature under a separator line holds at most this many lines..."""
SIGNATURE_LINE_CHARS = 80
"""...of at most this many characters; longer text under a separator is the writer's own (a
review's translation under a dash, the review an edit sits on under a line of underscores)."""
_SAYS_SOMETHING = re.compile(
    r"[?!]\s*$|\bI\b|(?i:\b(?:please|pls|plz|i'm|i’m|you|your|u|we|our|us|me|my|can|could|would|should|will|"
    r"need|needs|want|wish|add|make|let|allow|bring|give|fix|remove|is|are|was|were|do|does|don't|don’t)\b)"
)


def signature_like(lines: Iterable[str]) -> bool:
    """Whether ``lines`` (under a separator line or a valediction) read as a signature: a name, a
    title, a company, a contact. A line that asks, addresses someone or says something ("add dark
    mode", "Offline maps please", "we build apps for hikers", a question or an exclamation) is the
    writer's own text, not a signature.
    """
    return not any(_SAYS_SOMETHING.search(line.strip()) for line in lines)


_BOUNDARY = r"(?:^|(?<=\n)|(?<=[.!?…)\]]\s)|(?<=[.!?…)\]]))"
_AUTHORED_CUTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # a separator run, then a developer's or publisher's reply header
    ("reply", re.compile(rf"{_RUN_START}{_SEPARATOR_RUN}\s*{_REPLY_HEADER}", re.IGNORECASE)),
    # a reply header at a line or sentence start, followed by a colon or a line break
    ("reply", re.compile(rf"{_BOUNDARY}\s*{_REPLY_HEADER}\s*(?:[:：]|\n)", re.IGNORECASE)),
    # a reply header, then the opening words of a reply to the reviewer
    ("reply", re.compile(rf"{_REPLY_HEADER}[\s:：,.-]*{_REPLY_OPENER}", re.IGNORECASE)),
    # a separator run, then the opening words of a reply to the reviewer
    ("reply", re.compile(rf"{_RUN_START}{_SEPARATOR_RUN}\s*{_REPLY_OPENER}", re.IGNORECASE)),
    # an appended e-mail reply or forwarded message ("> " lines alone are not: people use ">" as bullets)
    ("quoted_reply", re.compile(r"-{2,}\s*(?:original|forwarded)\smessage\s*-{2,}", re.IGNORECASE)),
    ("quoted_reply", re.compile(r"(?:^|(?<=\s))On\s[^\n]{4,160}?\swrote:(?=\s|$)")),
    ("quoted_reply", re.compile(r"(?:^|\n)\s*From:\s[^\n]{1,200}\n\s*(?:Sent|Date):\s", re.IGNORECASE)),
    # a trailing signature block: "-- " line, "Sent from my ...", an agent's "^AB" initials
    (
        "signature",
        re.compile(
            rf"\n--[ \t]?\n(?P<signed>(?:[^\n]{{0,{SIGNATURE_LINE_CHARS}}}(?:\n|$))"
            rf"{{1,{SIGNATURE_LINES}}})\s*$"
        ),
    ),
    (
        "signature",
        re.compile(
            r"(?<!\S)(?:sent\sfrom\s(?:my\s)?\w[\w ]{0,30}|get\soutlook\sfor\s\w+"
            r"|sent\svia\s\w[\w ]{0,30})\s*$",
            re.IGNORECASE,
        ),
    ),
    ("signature", re.compile(r"(?<=\s)\^[A-Z]{1,3}\s*$")),
)
# cheap scans first: texts with none of these cannot be cut, and most texts have none
_SEPARATOR_HINT = re.compile(rf"{_SEPARATOR_CHAR}\s?{_SEPARATOR_CHAR}")
_CUT_HINTS = (
    "开发者",
    "開發",
    "デベロッパ",
    "개발자",
    "develop",
    "dev team",
    "publisher",
    "réponse",
    "antwort",
    "respuesta",
    "resposta",
    "risposta",
    "ответ",
    "wrote:",
    "message",
    "from:",
    "sent",
    "outlook",
    "^",
)


def _trailing_start(text: str, end: int) -> int:
    """Where the whitespace and separator lines (:data:`_SEPARATOR_RUN`: three or more separator
    characters, at most one whitespace between two) that end ``text[:end]`` begin; ``end`` when
    there are none. Read backwards once: a pattern that may cut a run of "-- " lines into runs in every
    way takes time exponential in its length.
    """
    at = end
    while True:
        start = at
        while start > 0 and text[start - 1].isspace():
            start -= 1
        run, count = start, 0
        while run > 0 and text[run - 1] in _SEPARATOR_CHARS:
            run, count = run - 1, count + 1
            if run > 1 and text[run - 1].isspace() and text[run - 2] in _SEPARATOR_CHARS:
                run -= 1
        if count < 3:
            return start
        at = run


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
    lowered = text.lower()
    if not any(hint in lowered for hint in _CUT_HINTS) and _SEPARATOR_HINT.search(text) is None:
        return end, None
    for name, pattern in _AUTHORED_CUTS:
        match = pattern.search(text, 0, end)
        if match is None or match.start() >= end:
            continue
        signed = match.groupdict().get("signed")
        if signed is not None and not signature_like(signed.splitlines()):
            continue  # "Love it.\n--\nplease add offline maps": the writer's own words under a "--"
        end, kind = match.start(), name
    if kind is None:
        return end, None
    return _trailing_start(text, end), kind


def authored_end(text: str) -> int:
    """End offset of the person's own words in ``text`` (see :func:`authored_cut`)."""
    return authored_cut(text)[0]


_LEADING_NOTICE = re.compile(
    r"\s*(?:[(\[（【〔]\s*(?:该条评论已经?被删除|該條評論已經?被刪除|该评论已被删除|該評論已被刪除"
    r"|评论已删除|評論已刪除)\s*[)\]）】〕]|\[(?:deleted|removed)\])\s*",
    re.IGNORECASE,
)


def authored_start(text: str) -> int:
    """Start offset of the person's own words in ``text``: after the notices a platform or a
    review site puts before them ("（该条评论已经被删除）", "this comment has been deleted", which
    opens a quarter of some app stores' reviews as scraped; Reddit's "[deleted]" and "[removed]").

    Such a notice says nothing the person wrote, and embedded with their words it moves them
    (MiniLM cosine 0.66-0.86 to the same words without it) and pulls unrelated comments
    together (0.36-0.45 from about 0.1). ``len(text)`` when nothing else is left.
    """
    start = 0
    while (match := _LEADING_NOTICE.match(text, start)) is not None and match.end() > start:
        start = match.end()
    return start


def authored_span(text: str) -> tuple[int, int]:
    """``(start, end)``: ``text[start:end]`` is the person's own words (:func:`authored_start`,
    :func:`authored_end`); ``start == end`` when there are none.
    """
    end = authored_end(text)
    return min(authored_start(text), end), end


def own_words(text: str) -> str:
    """The person's own words in ``text`` (:func:`authored_span`)."""
    start, end = authored_span(text)
    return text[start:end]
