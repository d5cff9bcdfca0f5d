"""Split a social comment into units (sentences and clauses) that can be judged one by one.

Social text rarely follows the rules a sentence splitter expects: no punctuation at all, line
breaks instead of full stops, emoji and runs of ``!!!`` as sentence ends, ``e.g.``, ``v2.1``,
URLs and ``:)`` that must not be cut, quoted replies, retweeted text and signatures that are not
the person's words. :func:`split_units` handles these with rules, keeping every unit's offsets
into the original text honest: ``unit.text == text[unit.start:unit.end]`` and that slice has no
whitespace at either edge.

Offsets count Python characters (code points), end exclusive. Only the first
:data:`MAX_SCAN_CHARS` characters are split and at most :data:`MAX_UNITS` units are returned:
a longer comment is an outlier whose tail cannot change its verdict enough to pay for judging it.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator
from dataclasses import dataclass

from models.text import (
    EMAIL,
    SIGNATURE_LINE_CHARS,
    SIGNATURE_LINES,
    WEB_SUFFIXES,
    authored_span,
    signature_like,
)

MAX_UNITS = 48
"""At most this many units per comment (the first ones, in order)."""

MAX_SCAN_CHARS = 20_000
"""Characters past this offset are not split into units."""

MIN_UNIT_WORDS = 2
"""A fragment with fewer words (``Thanks!``, ``Pls``, ``#fail``) joins a neighbour."""

RUN_ON_WORDS = 10
"""A sentence with at least this many words may be split at a clause connector..."""

MIN_CLAUSE_WORDS = 4
"""...when both sides have at least this many words."""


@dataclass(frozen=True, slots=True)
class Unit:
    """One sentence or clause of a comment: ``text == comment[start:end]`` (end exclusive)."""

    start: int
    end: int
    text: str


_WORD = re.compile(r"(?<![@#\w])[^\W_]+")  # words, not @mentions or #hashtags
_LETTER = re.compile(r"[^\W_]")
_LINE_QUOTED = re.compile(r"\s*>")
_QUOTE_HEADER = re.compile(r"\s*(?:on\s.{0,80}\swrote:|-{2,}\s*original message\s*-{2,})\s*$", re.I)
_SIGNATURE_MARK = re.compile(r"\s*sent from my\s", re.I)
_SIGNATURE_SEPARATOR = re.compile(r"\s*(?:--|\u2014|__+)\s*$")
_VALEDICTION = re.compile(
    r"\s*(?:best|kind|warm|many)?\s*(?:regards|cheers|thanks|thank you|sincerely|best)\s*,\s*$", re.I
)
_RETWEET = re.compile(r"(?:^|(?<=\s))(?:RT|QT)\s+@\w+|[\"\u201c]@\w+:")
_TRAILING_INITIALS = re.compile(r"\s\^[A-Za-z]{1,3}\s*$")

# Each pattern below reads a run of characters once: a URL ends before the punctuation that ends
# its sentence (a run of it followed by a space or the end); an e-mail address and a bare domain
# match from the first character of their run only. Patterns that may begin inside a run they
# then scan to its end ("[\w.+-]+@..." on "a-a-a-...") take time quadratic in the run's length.
_URL = r"(?:https?://|www\.)(?:[^\s.,!?;:)\]\"']|[.,!?;:)\]\"']++(?!\s|$))+"
_DOMAIN = rf"(?<![\w.-])[.-]*+\b[\w-]+(?:\.[\w-]+)*\.(?:{WEB_SUFFIXES})\b(?:/\S*)?"
_ABBREVIATION = (
    r"(?i:\b(?:e\.g|i\.e|a\.k\.a|vs|mr|mrs|ms|dr|jr|sr|st|approx|incl|esp|ca|cf|fig|a\.m|p\.m|u\.s|u\.k)\.)"
    r"|(?i:\b(?:no|nr|ver|v)\.(?=\s*\d))|(?i:\betc\.(?!\s+[A-Z]))"
)
_PROTECTED = re.compile(f"{_URL}|{EMAIL}|{_DOMAIN}|{_ABBREVIATION}")
_EMOTICON = re.compile(r"(?:(?<=\s)|^)(?:[:;=8][-~']?[)(\]\[DPpOo/\\|*3]+|<3+|\^_*\^|xD+)(?=\s|$|[.,!?])")
_EMOJI = "\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u200d"
_BOUNDARY = re.compile(
    r"(?P<line>[\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]+)"
    rf"|(?P<stop>[.!?\u2026\u203c\u2049]+[\"'\u201d)\]]*(?=\s|$|[{_EMOJI}])|[!?]{{2,}}|[{_EMOJI}]+"
    r"|(?<=[a-z]{2})\.(?=[A-Z][a-z]))"
)
_CONNECTOR = re.compile(r";|\b(?:and also|but also|also|but|plus|additionally|another thing)\b", re.I)
_ALSO_INSIDE = re.compile(
    r"\b(?:i|you|we|they|he|she|it|this|that|there|should|could|would|can|will|must|might|may|shall|do|does|did|"
    r"is|are|was|were|be|been|has|have|had|[a-z]+['\u2019](?:d|ll|s|re|ve|m))\W*$",
    re.I,
)
"""What "also" follows when it is an adverb inside a clause, not a connector between two ("I think
the app should also contain image search", "it also needs", "I'd also like")."""
_ALSO_LOOKBACK = 24
"""Characters before an "also" that :data:`_ALSO_INSIDE` reads: the word before it, never the whole
sentence (a run-on of thousands of "also" stays linear)."""
_LEADING = re.compile(r"(?:\s|[-*\u2022\u00b7>]|@\w+[:,]?)+")
LIST_NUMBER = re.compile(r"(?P<n>\d{1,2})(?P<mark>\.\)|[.)])[ \t]+(?=[^\W\d_])")
"""The number that opens an item of a numbered list, with the spaces after it: one or two digits,
``.``, ``)`` or ``.)``, a space and a letter ("1. ", "2) ", "3.) ")."""
_LIST_NUMBER_IN_TEXT = re.compile(r"(?:^|(?<=[\s:]))" + LIST_NUMBER.pattern, re.MULTILINE)
LINE_BULLETS = re.compile(r"[ \t\-*\u2022\u00b7>]*")
"""What may stand between a line's start and a list item: spaces and bullets."""


def split_units(text: str) -> list[Unit]:
    """The units of ``text`` in order: sentences, clauses of long run-ons, short bits merged.

    Quoted lines (``> ...``) that the person answers (their own words follow), an ``On ...
    wrote:`` header and what follows, retweeted text (``RT @name ...``), signatures (``--``,
    ``Sent from my ...``, ``Regards,`` and a name) are not the person's words and give no unit;
    ``>`` lines that end the comment are the person's own list, ``>`` a bullet. Leading @mentions
    and bullets are left out of a unit's span; hashtags and inner @mentions stay in it. Never raises.
    """
    units: list[Unit] = []
    for region_start, region_end in _own_regions(text):
        pieces: list[tuple[int, int]] = []
        for start, end in _sentences(text, region_start, region_end):
            pieces.extend(_clauses(text, start, end))
        trimmed = [piece for piece in (_trim(text, start, end) for start, end in pieces) if piece]
        for start, end in _merge_short(text, trimmed):
            units.append(Unit(start, end, text[start:end]))
            if len(units) >= MAX_UNITS:
                return units
    return units


def _lines(text: str) -> Iterator[tuple[int, str]]:
    """Each line of ``text`` with its offset (line breaks kept, as ``str.splitlines``)."""
    offset = 0
    for line in text.splitlines(keepends=True):
        yield offset, line
        offset += len(line)


def _own_regions(text: str) -> list[tuple[int, int]]:
    """Spans of the person's own words: runs of lines that are not an answered quote, retweeted or
    a signature.
    """
    begin, end = authored_span(text)
    limit = min(len(text), end, MAX_SCAN_CHARS)
    scanned = text[:limit]
    retweet = _RETWEET.search(scanned)
    if retweet is not None:
        limit = retweet.start()
    initials = _TRAILING_INITIALS.search(text, 0, limit)
    if initials is not None and initials.end() >= limit:
        limit = initials.start()
    regions: list[tuple[int, int]] = []
    lines = [
        (max(offset, begin), line[max(0, begin - offset) :])
        for offset, line in _lines(text[:limit])
        if offset + len(line) > begin
    ]
    # a quote is answered: ">" lines count as someone else's words when the writer's own words
    # follow them; the ">" lines that end a comment are the writer's list ("Would love\n>3D Touch
    # options\n>Bookmarks bar for iPad", a store review), their ">" read as a bullet
    answered = -1  # the last line of the writer's own before the end of their words
    words_before = False  # a signature closes the writer's words: "--\nplease add folders" has none
    for index, (_, line) in enumerate(lines):
        if (
            _QUOTE_HEADER.match(line)
            or _SIGNATURE_MARK.match(line)
            or (words_before and _is_signature_separator(lines, index))
            or _is_valediction(lines, index)
        ):
            lines = lines[:index]
            break
        words_before = words_before or _LETTER.search(line) is not None
        if line.strip() and not _LINE_QUOTED.match(line):
            answered = index
    for index, (offset, line) in enumerate(lines):
        quoted = _LINE_QUOTED.match(line) and index < answered
        if quoted or not line.strip() or _SIGNATURE_SEPARATOR.match(line):
            continue  # a separator line above the writer's own text separates, and says nothing
        if regions and regions[-1][1] == offset:
            regions[-1] = (regions[-1][0], offset + len(line))
        else:
            regions.append((offset, offset + len(line)))
    return regions


def _is_signature_separator(lines: list[tuple[int, str]], index: int) -> bool:
    """``--`` (or a dash or underscores) alone on a line, followed by a signature: at most
    :data:`models.text.SIGNATURE_LINES` lines of at most :data:`models.text.SIGNATURE_LINE_CHARS`
    characters, the size of the trailing signature :func:`models.text.authored_cut` cuts, that read
    as one (:func:`models.text.signature_like`: "Love it." above a dash line above "Add offline maps
    please" is all the writer's).
    """
    if not _SIGNATURE_SEPARATOR.match(lines[index][1]):
        return False
    count = 0
    for position in range(index + 1, len(lines)):  # stops at the sixth line: many separators stay linear
        line = lines[position][1].strip()
        if line:
            count += 1
            if count > SIGNATURE_LINES or len(line) > SIGNATURE_LINE_CHARS or not signature_like((line,)):
                return False
    return True


def _is_valediction(lines: list[tuple[int, str]], index: int) -> bool:
    """``Regards,`` (or ``Thanks,``...) followed only by one or two short lines that read as a
    signature (a name: :func:`models.text.signature_like`; "Thanks," above "add dark mode" is an ask).
    """
    if not _VALEDICTION.match(lines[index][1]):
        return False
    rest: list[str] = []
    for position in range(index + 1, len(lines)):  # stops at the third line: many valedictions stay linear
        line = lines[position][1]
        if line.strip():
            rest.append(line)
            if len(rest) > 2 or len(_WORD.findall(line)) > 4:
                return False
    return signature_like(rest)


def _masked(text: str) -> str:
    """``text`` with URLs, e-mails and abbreviations blanked (same length): no boundary inside them."""
    return _PROTECTED.sub(lambda m: "_" * len(m.group()), text)


def _list_numbers(masked: str) -> list[re.Match[str]]:
    """The numbers of a numbered list in ``masked``: ``1.`` or ``2)`` before an item, at a line's
    start (after spaces or a bullet) or, anywhere after a space or a colon, one of two consecutive
    numbers ("Wishes: 1. Dark mode 2. Offline maps"). A lone "5." after a word ends a sentence
    ("I gave it 5. Then it crashed").
    """
    found = list(_LIST_NUMBER_IN_TEXT.finditer(masked))
    numbers = {int(match.group("n")) for match in found}
    kept: list[re.Match[str]] = []
    line_start, scanned = 0, 0  # the last line break is looked for since the previous number only
    for match in found:
        newline = masked.rfind("\n", scanned, match.start())
        line_start, scanned = (newline + 1 if newline >= 0 else line_start), match.start()
        number = int(match.group("n"))
        if (
            LINE_BULLETS.fullmatch(masked, line_start, match.start())
            or number + 1 in numbers
            or number - 1 in numbers
        ):
            kept.append(match)
    return kept


def _sentences(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """Cut ``text[start:end]`` at line breaks, sentence ends, ``!!!``, emoji and emoticons; a
    numbered list's item is cut before its number, not after ("Wishes: 1. Dark mode 2. Offline
    maps" gives "Wishes:", "1. Dark mode", "2. Offline maps").
    """
    masked = _masked(text[start:end])
    cuts: list[tuple[int, int]] = [(m.end(), m.end()) for m in _EMOTICON.finditer(masked)]
    numbered = _list_numbers(masked)
    after_number = {match.end("mark") for match in numbered}
    cuts.extend((match.start(), match.start()) for match in numbered)
    for match in _BOUNDARY.finditer(masked):
        line = match.group("line") is not None
        if not line and match.end() in after_number:
            continue
        cuts.append((match.start() if line else match.end(), match.end()))
    cursor = 0
    for cut, resume in sorted(cuts):
        if cut > cursor:
            yield start + cursor, start + cut
        cursor = max(cursor, resume)
    if cursor < len(masked):
        yield start + cursor, end


def _word_count(text: str) -> int:
    return len(_WORD.findall(text))


def _clauses(text: str, start: int, end: int) -> Iterator[tuple[int, int]]:
    """A long run-on sentence cut at connectors (``; and also but also plus``) when both sides
    stand alone (:data:`MIN_CLAUSE_WORDS` words each); other sentences whole. "also" after a
    pronoun or an auxiliary is inside its clause (:data:`_ALSO_INSIDE`), no connector.
    """
    sentence = text[start:end]
    if _word_count(sentence) < RUN_ON_WORDS:
        yield start, end
        return
    cursor = 0
    masked = _masked(sentence)
    words = [found.start() for found in _WORD.finditer(sentence)]  # cuts fall between words

    def count(first: int, last: int) -> int:
        return bisect_left(words, last) - bisect_left(words, first)

    for match in _CONNECTOR.finditer(masked):
        if match.group().lower() == "also" and _ALSO_INSIDE.search(
            masked, max(0, match.start() - _ALSO_LOOKBACK), match.start()
        ):
            continue
        cut = match.end() if match.group() == ";" else match.start()
        if count(cursor, cut) >= MIN_CLAUSE_WORDS and count(cut, len(sentence)) >= MIN_CLAUSE_WORDS:
            yield start + cursor, start + cut
            cursor = cut
    yield start + cursor, end


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    """``[start, end)`` without edge whitespace, leading bullets and leading @mentions; None if empty."""
    leading = _LEADING.match(text, start, end)
    if leading is not None:
        start = leading.end()
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if end > start else None


def _merge_short(text: str, pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join each piece of fewer than :data:`MIN_UNIT_WORDS` words to the piece before it (or,
    for the first, after it); a region with no letter or digit at all (emoji, ``!!!``) gives no unit.
    """
    merged: list[tuple[int, int]] = []
    carry: int | None = None  # start of short pieces waiting for a following piece
    for start, end in pieces:
        short = _word_count(text[start:end]) < MIN_UNIT_WORDS
        if short and merged:
            merged[-1] = (merged[-1][0], end)
        elif short:
            carry = start if carry is None else carry
        else:
            merged.append((start if carry is None else carry, end))
            carry = None
    if carry is not None and pieces:
        last = (carry, pieces[-1][1])
        if _LETTER.search(text, last[0], last[1]):
            merged.append(last)
    return merged
